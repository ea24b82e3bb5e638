/*
 * config/config.c — the configuration's shared core: strict scalar parsing (the one parser for
 * file values, flag values and schema defaults), defaults, diagnostics, and queries.
 *
 * The rest is split by job: config/load.c walks YAML into the struct, config/rules.c
 * checks cross-key rules and merges tiers, config/print.c writes YAML, the README table
 * and reload diffs. All of them are driven by config_schema[] (config/schema.c).
 *
 * Types are strict: an integer is a plain scalar of digits (`"8"` quoted is a string and
 * an error), a boolean is `true` or `false`, a number never NaN or infinite. Container id
 * lists accept strings and integers alike (the reference shipped `["101"]`) and keep them
 * as sorted, unique vmids. Messages are "LOCATION: error: KEY=VALUE RULE", LOCATION being
 * file:line:column, the flag name, or "default"; secret values are shown as ***.
 */
#include "config/config.h"
#include "config/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics ----------------------------------------------------------------------- */

void cfg_diag_vadd(struct config_diag *d, int sev, const char *loc, const char *fmt, va_list ap)
{
	if (sev == CFG_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= CFG_DIAG_MAX)
		return;
	char *t = d->msg[d->n].text;
	int n = snprintf(t, CFG_DIAG_LEN, "%s: %s: ", loc, sev == CFG_DIAG_ERROR ? "error" : "warning");
	if (n < 0 || n >= CFG_DIAG_LEN)
		n = 0;
	vsnprintf(t + n, CFG_DIAG_LEN - (size_t)n, fmt, ap);
	d->msg[d->n].severity = sev;
	d->n++;
}

void cfg_diag_add(struct config_diag *d, int sev, const char *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cfg_diag_vadd(d, sev, loc, fmt, ap);
	va_end(ap);
}

void config_diag_print(const struct config_diag *d, FILE *to)
{
	for (int i = 0; i < d->n; i++)
		fprintf(to, "%s\n", d->msg[i].text);
	int total = d->errors + d->warnings;
	if (total > d->n)
		fprintf(to, "(%d more messages not shown)\n", total - d->n);
}

void config_diag_clear(struct config_diag *d)
{
	memset(d, 0, sizeof(*d));
}

const char *config_diag_find(const struct config_diag *d, const char *needle)
{
	for (int i = 0; i < d->n; i++)
		if (strstr(d->msg[i].text, needle))
			return d->msg[i].text;
	return NULL;
}

/* "file:line:col", "--flag" or "default" for a mark */
void cfg_mark_text(const struct lxcscale_config *c, const struct cfg_mark *m, const char *flag,
                      char *buf, size_t len)
{
	if (m->source == CFG_SRC_FILE && m->file < c->meta.n_files)
		snprintf(buf, len, "%s:%" PRIu32 ":%" PRIu32, c->meta.files[m->file], m->line, m->column);
	else if (m->source == CFG_SRC_FLAG)
		snprintf(buf, len, "%s", flag && *flag ? flag : "command line");
	else
		snprintf(buf, len, "default");
}

/* A value as shown in a message: printable, bounded, *** for secrets. */
void cfg_shown_value(const struct cfg_key *k, const char *text, size_t len, bool quoted,
                        char *out, size_t outlen)
{
	if (k && (k->flags & CFG_F_SECRET)) {
		snprintf(out, outlen, "***");
		return;
	}
	size_t o = 0;
	if (quoted && o + 1 < outlen)
		out[o++] = '"';
	for (size_t i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (i >= 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (quoted && o + 1 < outlen)
		out[o++] = '"';
	out[o] = '\0';
}

/* ---- the schema's fields ---------------------------------------------------------------- */

void *cfg_field(struct lxcscale_config *c, const struct cfg_key *k)
{
	return (char *)c + k->offset;
}

const void *cfg_cfield(const struct lxcscale_config *c, const struct cfg_key *k)
{
	return (const char *)c + k->offset;
}

/* the same field inside a struct cfg_scaling (tier-able keys live in c->scaling) */
size_t cfg_scaling_offset(const struct cfg_key *k)
{
	return k->offset - offsetof(struct lxcscale_config, scaling);
}

const char *config_log_level_name(int level)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" };
	return level >= 0 && level <= CFG_LOG_CRITICAL ? names[level] : "INFO";
}

/* i-th choice of "a|b|c" into buf; false past the end */
bool cfg_choice_at(const char *choices, int i, char *buf, size_t len)
{
	const char *p = choices;
	for (int n = 0; n < i; n++) {
		p = strchr(p, '|');
		if (!p)
			return false;
		p++;
	}
	size_t l = strcspn(p, "|");
	if (l >= len)
		l = len - 1;
	memcpy(buf, p, l);
	buf[l] = '\0';
	return true;
}

void cfg_choices_text(const char *choices, char *buf, size_t len)
{
	size_t o = 0;
	char one[64];
	for (int i = 0; cfg_choice_at(choices, i, one, sizeof(one)); i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", one);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

void cfg_number_text(double v, char *buf, size_t len)
{
	/* integers as integers; otherwise the shortest text that reads back as the same double */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void range_text(const struct cfg_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];
	cfg_number_text(k->min, lo, sizeof(lo));
	cfg_number_text(k->max, hi, sizeof(hi));
	snprintf(buf, len, "%s..%s", lo, hi);
}

/* ---- strict scalar parsing ------------------------------------------------------------- */

bool cfg_looks_null(const char *t, size_t len, bool quoted)
{
	if (quoted)
		return false;
	return len == 0 || (len == 1 && t[0] == '~') || (len == 4 && (!memcmp(t, "null", 4) ||
	       !memcmp(t, "Null", 4) || !memcmp(t, "NULL", 4)));
}

bool cfg_has_control(const char *t, size_t len)
{
	const unsigned char *u = (const unsigned char *)t;
	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return true;
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			return true; /* C1 */
		if (u[i] == 0xe2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
			return true; /* U+2028, U+2029 */
	}
	return false;
}

static bool parse_int_text(const char *t, size_t len, long long *out)
{
	char buf[32];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, t, len);
	buf[len] = '\0';
	size_t i = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
	if (!buf[i])
		return false;
	for (size_t j = i; buf[j]; j++)
		if (!isdigit((unsigned char)buf[j]))
			return false;
	errno = 0;
	long long v = strtoll(buf, NULL, 10);
	if (errno)
		return false;
	*out = v;
	return true;
}

static bool parse_double_text(const char *t, size_t len, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, t, len);
	buf[len] = '\0';
	/* decimal only: no hex floats, no inf/nan spellings */
	for (size_t j = 0; buf[j]; j++)
		if (!isdigit((unsigned char)buf[j]) && !strchr("+-.eE", buf[j]))
			return false;
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (errno || *end || end == buf || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/*
 * Parse one scalar for key k. On failure writes the rule broken into why
 * ("must be an integer", "is out of range 1..1024") and returns -1.
 */
int cfg_parse_scalar(const struct cfg_key *k, const char *t, size_t len, bool quoted,
                        union cfg_value *v, char *why, size_t whylen)
{
	memset(v, 0, sizeof(*v));
	switch (k->type) {
	case CFG_BOOL:
		if (!quoted && len == 4 && !memcmp(t, "true", 4))
			v->b = true;
		else if (!quoted && len == 5 && !memcmp(t, "false", 5))
			v->b = false;
		else {
			snprintf(why, whylen, "must be true or false");
			return -1;
		}
		return 0;
	case CFG_INT: {
		long long n;
		if (quoted || !parse_int_text(t, len, &n)) {
			snprintf(why, whylen, "must be an integer%s", quoted ? ", not a quoted string" : "");
			return -1;
		}
		if ((k->flags & CFG_F_GT0) && n <= 0) {
			snprintf(why, whylen, "must be greater than 0");
			return -1;
		}
		if (n < (long long)k->min || n > (long long)k->max) {
			char r[80];
			range_text(k, r, sizeof(r));
			snprintf(why, whylen, "is out of range %s", r);
			return -1;
		}
		v->i = (int)n;
		return 0;
	}
	case CFG_DOUBLE: {
		double n;
		if (quoted || !parse_double_text(t, len, &n)) {
			snprintf(why, whylen, "must be a number%s", quoted ? ", not a quoted string" : "");
			return -1;
		}
		if ((k->flags & CFG_F_GT0) && n <= 0) {
			snprintf(why, whylen, "must be greater than 0");
			return -1;
		}
		if (n < k->min || n > k->max) {
			char r[80];
			range_text(k, r, sizeof(r));
			snprintf(why, whylen, "is out of range %s", r);
			return -1;
		}
		v->d = n;
		return 0;
	}
	case CFG_ENUM: {
		char one[64], all[128];
		for (int i = 0; cfg_choice_at(k->choices, i, one, sizeof(one)); i++) {
			if (strlen(one) != len)
				continue;
			if ((k->flags & CFG_F_ICASE) ? !strncasecmp(one, t, len) : !memcmp(one, t, len)) {
				v->i = i;
				return 0;
			}
		}
		cfg_choices_text(k->choices, all, sizeof(all));
		snprintf(why, whylen, "must be one of %s", all);
		return -1;
	}
	case CFG_STRING:
		if (cfg_looks_null(t, len, quoted))
			len = 0;
		if (len >= CFG_STR_MAX) {
			snprintf(why, whylen, "is longer than %d bytes", CFG_STR_MAX - 1);
			return -1;
		}
		if (cfg_has_control(t, len)) {
			snprintf(why, whylen, "contains a control character");
			return -1;
		}
		memcpy(v->s, t, len);
		v->s[len] = '\0';
		if ((k->flags & CFG_F_REQUIRED) && len == 0) {
			snprintf(why, whylen, "must not be empty");
			return -1;
		}
		if ((k->flags & CFG_F_PATH) && len && v->s[0] != '/') {
			snprintf(why, whylen, "must be an absolute path");
			return -1;
		}
		if ((k->flags & CFG_F_URL) && len && strncmp(v->s, "http://", 7) && strncmp(v->s, "https://", 8)) {
			snprintf(why, whylen, "must start with http:// or https://");
			return -1;
		}
		if (k->flags & CFG_F_REGEX) {
			regex_t re;
			int rc = regcomp(&re, v->s, REG_EXTENDED | REG_NOSUB);
			if (rc != 0) {
				char err[128];
				regerror(rc, &re, err, sizeof(err));
				snprintf(why, whylen, "is not a valid regular expression: %s", err);
				return -1;
			}
			regfree(&re);
		}
		return 0;
	default:
		snprintf(why, whylen, "cannot be set from a scalar");
		return -1;
	}
}

void cfg_store_scalar(void *dst, const struct cfg_key *k, const union cfg_value *v)
{
	switch (k->type) {
	case CFG_BOOL: *(bool *)dst = v->b; break;
	case CFG_INT:
	case CFG_ENUM: *(int *)dst = v->i; break;
	case CFG_DOUBLE: *(double *)dst = v->d; break;
	case CFG_STRING: snprintf((char *)dst, CFG_STR_MAX, "%s", v->s); break;
	default: break;
	}
}

/* A container id written as 101 or "101". */
int cfg_parse_vmid(const char *t, size_t len, uint32_t *out)
{
	long long n;
	if (!parse_int_text(t, len, &n) || t[0] == '-' || t[0] == '+' || n < CFG_VMID_MIN || n > CFG_VMID_LIMIT)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int vmid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void cfg_vmlist_normalise(struct cfg_vmlist *l)
{
	qsort(l->v, (size_t)l->n, sizeof(l->v[0]), vmid_cmp);
	int o = 0;
	for (int i = 0; i < l->n; i++)
		if (o == 0 || l->v[o - 1] != l->v[i])
			l->v[o++] = l->v[i];
	l->n = o;
}

bool cfg_vmlist_has(const struct cfg_vmlist *l, uint32_t vmid)
{
	return bsearch(&vmid, l->v, (size_t)l->n, sizeof(l->v[0]), vmid_cmp) != NULL;
}

/* ---- defaults --------------------------------------------------------------------------- */

void config_defaults(struct lxcscale_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (k->type == CFG_IGNORED || k->alias || !k->def || k->type > CFG_ENUM)
			continue;
		union cfg_value v;
		char why[160];
		if (cfg_parse_scalar(k, k->def, strlen(k->def), false, &v, why, sizeof(why)) == 0)
			cfg_store_scalar(cfg_field(c, k), k, &v);
		/* a default that does not parse is caught by test_config's defaults test */
	}
}

struct lxcscale_config *config_new(void)
{
	struct lxcscale_config *c = malloc(sizeof(*c));
	if (c)
		config_defaults(c);
	return c;
}

void config_free(struct lxcscale_config *c)
{
	free(c);
}

const char *cfg_type_name(const struct cfg_key *k)
{
	switch (k->type) {
	case CFG_BOOL: return "boolean";
	case CFG_INT: return "integer";
	case CFG_DOUBLE: return "number";
	case CFG_STRING: return "string";
	case CFG_ENUM: return "choice";
	case CFG_STRLIST: return "list of strings";
	case CFG_VMLIST: return "list of container ids";
	case CFG_TIERS: return "map of tiers";
	default: return "ignored";
	}
}

const char *cfg_leaf(const char *dotted)
{
	const char *p = strrchr(dotted, '.');
	return p ? p + 1 : dotted;
}

/* ---- queries ----------------------------------------------------------------------------- */

const struct cfg_scaling *config_scaling_for(const struct lxcscale_config *c, uint32_t vmid)
{
	for (int i = 0; i < c->n_tiers; i++)
		if (cfg_vmlist_has(&c->tiers[i].containers, vmid))
			return &c->tiers[i].scaling;
	return &c->scaling;
}

int config_tier_of(const struct lxcscale_config *c, uint32_t vmid)
{
	for (int i = 0; i < c->n_tiers; i++)
		if (cfg_vmlist_has(&c->tiers[i].containers, vmid))
			return i;
	return -1;
}

bool config_ignored(const struct lxcscale_config *c, uint32_t vmid)
{
	return cfg_vmlist_has(&c->ignore_lxc, vmid);
}

bool config_is_live(const struct lxcscale_config *c)
{
	if (!c->scaling.dry_run)
		return true;
	for (int i = 0; i < c->n_tiers; i++)
		if (!c->tiers[i].scaling.dry_run && (c->tiers[i].containers.n > 0 || c->tags.tier_prefix[0]))
			return true;
	return false;
}

/* ---- whose file, and what becomes of a key in it ------------------------------------------- */

enum cfg_file_kind config_file_kind(const char *path)
{
	static const struct { const char *stem; enum cfg_file_kind kind; } names[] = {
		{ "lxc_autoscale_ml", CFG_FILE_REF_ML },
		{ "lxc_autoscale_api", CFG_FILE_REF_API },
		{ "lxc_monitor", CFG_FILE_REF_MONITOR },
	};
	if (!path)
		return CFG_FILE_OWN;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t l = strlen(names[i].stem);
		if (!strncmp(base, names[i].stem, l) && (base[l] == '.' || base[l] == '_' || base[l] == '-'))
			return names[i].kind;
	}
	return CFG_FILE_OWN;
}

const char *config_file_kind_name(enum cfg_file_kind kind)
{
	switch (kind) {
	case CFG_FILE_REF_ML: return "the reference's lxc_autoscale_ml.yaml";
	case CFG_FILE_REF_API: return "the reference's lxc_autoscale_api.yaml";
	case CFG_FILE_REF_MONITOR: return "the reference's lxc_monitor.yaml";
	default: return "lxcscale's";
	}
}

/* `tmpl` with each "{}" replaced by `value`, into buf (cut to fit) */
static void fill_in(const char *tmpl, const char *value, char *buf, size_t len)
{
	size_t o = 0, vl = strlen(value);
	for (const char *p = tmpl; *p && o + 1 < len; p++) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = vl < len - 1 - o ? vl : len - 1 - o;
			memcpy(buf + o, value, n);
			o += n;
			p++;
			continue;
		}
		buf[o++] = *p;
	}
	buf[o] = '\0';
}

void config_ref_effect(const struct cfg_key *k, const char *value, char *buf, size_t len)
{
	char shown[96];
	if (value)
		cfg_shown_value(NULL, value, strlen(value), false, shown, sizeof(shown));
	else
		snprintf(shown, sizeof(shown), "its value");
	fill_in(k->ref_effect ? k->ref_effect : k->desc, shown, buf, len);
}

enum cfg_use config_key_use(const struct cfg_key *k, enum cfg_file_kind kind, const char *value, char *why,
                            size_t len)
{
	if (len)
		why[0] = '\0';
	if ((k->flags & CFG_F_MON_OWN) && kind == CFG_FILE_REF_MONITOR) {
		snprintf(why, len, "in lxc_monitor.yaml it is the reference monitor's own setting, not lxcscaled's "
		         "(lxcscaled's is %s in lxcscale.yaml)", k->alias ? k->alias : k->key);
		return CFG_USE_MONITOR_OWN;
	}
	if (k->type == CFG_IGNORED && !k->alias) {
		snprintf(why, len, "%s", k->desc);
		return CFG_USE_UNUSED;
	}
	if (!(k->flags & CFG_F_LEGACY) || kind == CFG_FILE_OWN)
		return CFG_USE_YES;

	/* a legacy key in a reference file: what it would do in lxcscale, and where to set it */
	char shown[96], effect[400];
	if (value)
		cfg_shown_value(NULL, value, strlen(value), false, shown, sizeof(shown));
	config_ref_effect(k, value, effect, sizeof(effect));
	const char *same = "", *bad = "";
	char badtext[320] = "";
	if (value && k->type <= CFG_ENUM) {
		union cfg_value v, d;
		char why1[160], why2[160];
		if (cfg_parse_scalar(k, value, strlen(value), false, &v, why1, sizeof(why1)) != 0) {
			snprintf(badtext, sizeof(badtext), " (in lxcscale.yaml %.60s=%.40s would be refused: it %.100s)",
			         k->key, shown, why1);
			bad = badtext;
		} else if (cfg_parse_scalar(k, k->def, strlen(k->def), false, &d, why2, sizeof(why2)) == 0 &&
		           ((k->type == CFG_BOOL && v.b == d.b) || (k->type == CFG_DOUBLE && v.d == d.d) ||
		            ((k->type == CFG_INT || k->type == CFG_ENUM) && v.i == d.i))) {
			same = "; that is lxcscale's default, so ignoring it changes nothing";
		}
	}
	snprintf(why, len, "in lxcscale it would %s; to use it, set %s in lxcscale.yaml%s%s", effect, k->key, bad,
	         same);
	return CFG_USE_REF_IGNORES;
}

/*
 * config.c — load, validate and print lxcscale's configuration, driven by config_schema[].
 *
 * The YAML file is parsed with libyaml into a document (so every node has its line and
 * column), then walked: a mapping key is joined to its parents into a dotted name and
 * looked up in the schema. A known key is parsed strictly by its type into a scratch value
 * and copied into the struct only when it is valid, so a bad value never half-writes the
 * config. Sections are mappings whose name prefixes some key; anything else is an unknown
 * key, reported with the closest schema key ("did you mean").
 *
 * Types are strict: an integer is a plain scalar of digits (`"8"` quoted is a string and
 * an error), a boolean is `true` or `false`, a number never NaN or infinite. Container id
 * lists accept strings and integers alike (the reference shipped `["101"]`) and keep them
 * as sorted, unique vmids.
 *
 * Messages are "LOCATION: error: KEY=VALUE RULE", LOCATION being file:line:column, the
 * flag name, or "default". Secret values are shown as ***.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_FILE_MAX (1u << 20) /* a config file larger than 1 MiB is refused */

/* ---- diagnostics ----------------------------------------------------------------------- */

static void diag_vadd(struct config_diag *d, int sev, const char *loc, const char *fmt, va_list ap)
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

__attribute__((format(printf, 4, 5)))
static void diag_add(struct config_diag *d, int sev, const char *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, sev, loc, fmt, ap);
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
static void mark_text(const struct lxcscale_config *c, const struct cfg_mark *m, const char *flag,
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
static void shown_value(const struct cfg_key *k, const char *text, size_t len, bool quoted,
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

static void *field_of(struct lxcscale_config *c, const struct cfg_key *k)
{
	return (char *)c + k->offset;
}

static const void *cfield_of(const struct lxcscale_config *c, const struct cfg_key *k)
{
	return (const char *)c + k->offset;
}

/* the same field inside a struct cfg_scaling (tier-able keys live in c->scaling) */
static size_t scaling_offset(const struct cfg_key *k)
{
	return k->offset - offsetof(struct lxcscale_config, scaling);
}

const char *config_log_level_name(int level)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" };
	return level >= 0 && level <= CFG_LOG_CRITICAL ? names[level] : "INFO";
}

/* i-th choice of "a|b|c" into buf; false past the end */
static bool choice_at(const char *choices, int i, char *buf, size_t len)
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

static void choices_text(const char *choices, char *buf, size_t len)
{
	size_t o = 0;
	char one[64];
	for (int i = 0; choice_at(choices, i, one, sizeof(one)); i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", one);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

static void number_text(double v, char *buf, size_t len)
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
	number_text(k->min, lo, sizeof(lo));
	number_text(k->max, hi, sizeof(hi));
	snprintf(buf, len, "%s..%s", lo, hi);
}

/* ---- strict scalar parsing ------------------------------------------------------------- */

union cfg_value {
	bool b;
	int i;
	double d;
	char s[CFG_STR_MAX];
};

static bool looks_null(const char *t, size_t len, bool quoted)
{
	if (quoted)
		return false;
	return len == 0 || (len == 1 && t[0] == '~') || (len == 4 && (!memcmp(t, "null", 4) ||
	       !memcmp(t, "Null", 4) || !memcmp(t, "NULL", 4)));
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
static int parse_scalar(const struct cfg_key *k, const char *t, size_t len, bool quoted,
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
		for (int i = 0; choice_at(k->choices, i, one, sizeof(one)); i++) {
			if (strlen(one) != len)
				continue;
			if ((k->flags & CFG_F_ICASE) ? !strncasecmp(one, t, len) : !memcmp(one, t, len)) {
				v->i = i;
				return 0;
			}
		}
		choices_text(k->choices, all, sizeof(all));
		snprintf(why, whylen, "must be one of %s", all);
		return -1;
	}
	case CFG_STRING:
		if (looks_null(t, len, quoted))
			len = 0;
		if (len >= CFG_STR_MAX) {
			snprintf(why, whylen, "is longer than %d bytes", CFG_STR_MAX - 1);
			return -1;
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
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

static void store_scalar(void *dst, const struct cfg_key *k, const union cfg_value *v)
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
static int parse_vmid(const char *t, size_t len, uint32_t *out)
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

static void vmlist_normalise(struct cfg_vmlist *l)
{
	qsort(l->v, (size_t)l->n, sizeof(l->v[0]), vmid_cmp);
	int o = 0;
	for (int i = 0; i < l->n; i++)
		if (o == 0 || l->v[o - 1] != l->v[i])
			l->v[o++] = l->v[i];
	l->n = o;
}

static bool vmlist_has(const struct cfg_vmlist *l, uint32_t vmid)
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
		if (parse_scalar(k, k->def, strlen(k->def), false, &v, why, sizeof(why)) == 0)
			store_scalar(field_of(c, k), k, &v);
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

/* ---- did you mean ---------------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 127 || lb > 127)
		return (size_t)-1;
	size_t row[128];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *leaf(const char *dotted)
{
	const char *p = strrchr(dotted, '.');
	return p ? p + 1 : dotted;
}

/* The schema key closest to `path` (full name, or same leaf in another section). */
static const char *suggest(const char *path)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strlen(path) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < config_schema_len; i++) {
		const char *key = config_schema[i].key;
		size_t d = edit_distance(path, key);
		if (d < best_d) {
			best_d = d;
			best = key;
		}
	}
	if (best && best_d <= limit)
		return best;
	/* the right name in the wrong section: "max_cpu_cores" at the top level */
	const char *found = NULL;
	for (size_t i = 0; i < config_schema_len; i++)
		if (strcmp(leaf(config_schema[i].key), leaf(path)) == 0) {
			if (found)
				return NULL; /* ambiguous */
			found = config_schema[i].key;
		}
	return found;
}

/* ---- the YAML walk ---------------------------------------------------------------------- */

struct loader {
	struct lxcscale_config *c;
	struct config_diag *d;
	yaml_document_t *doc;
	int file; /* index in meta.files */
};

static struct cfg_mark node_mark(const struct loader *L, const yaml_node_t *n)
{
	struct cfg_mark m = { .source = CFG_SRC_FILE, .file = (uint8_t)L->file,
	                      .line = (uint32_t)n->start_mark.line + 1,
	                      .column = (uint32_t)n->start_mark.column + 1 };
	return m;
}

__attribute__((format(printf, 4, 5)))
static void node_diag(struct loader *L, int sev, const yaml_node_t *n, const char *fmt, ...)
{
	char loc[CFG_STR_MAX + 32];
	struct cfg_mark m = node_mark(L, n);
	mark_text(L->c, &m, NULL, loc, sizeof(loc));
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(L->d, sev, loc, fmt, ap);
	va_end(ap);
}

static const char *node_kind(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

static bool node_quoted(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static bool is_null_node(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       looks_null((const char *)n->data.scalar.value, n->data.scalar.length, node_quoted(n));
}

static const char *type_name(const struct cfg_key *k)
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

/* Parse a scalar node into dst (a field of key k); name is the dotted name for messages. */
static int load_scalar(struct loader *L, const struct cfg_key *k, const char *name, yaml_node_t *n,
                       void *dst)
{
	if (n->type != YAML_SCALAR_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s must be a %s, not %s", name, type_name(k), node_kind(n));
		return -1;
	}
	const char *t = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	bool quoted = node_quoted(n);
	if (k->type != CFG_STRING && looks_null(t, len, quoted)) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s has no value (a %s is needed)", name, type_name(k));
		return -1;
	}
	union cfg_value v;
	char why[200], shown[96];
	if (memchr(t, '\0', len)) {
		shown_value(k, t, strlen(t), quoted, shown, sizeof(shown));
		node_diag(L, CFG_DIAG_ERROR, n, "%s=%s contains a NUL byte", name, shown);
		return -1;
	}
	if (parse_scalar(k, t, len, quoted, &v, why, sizeof(why)) != 0) {
		shown_value(k, t, len, quoted, shown, sizeof(shown));
		node_diag(L, CFG_DIAG_ERROR, n, "%s=%s %s", name, shown, why);
		return -1;
	}
	store_scalar(dst, k, &v);
	return 0;
}

static int load_vmlist(struct loader *L, const char *name, yaml_node_t *n, struct cfg_vmlist *out)
{
	struct cfg_vmlist tmp = { 0 };
	if (is_null_node(n)) {
		*out = tmp;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s must be a list of container ids, not %s", name, node_kind(n));
		return -1;
	}
	int rc = 0, idx = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, idx++) {
		yaml_node_t *e = yaml_document_get_node(L->doc, *it);
		if (!e)
			continue;
		uint32_t vmid;
		if (e->type != YAML_SCALAR_NODE) {
			node_diag(L, CFG_DIAG_ERROR, e, "%s[%d] must be a container id, not %s", name, idx, node_kind(e));
			rc = -1;
			continue;
		}
		const char *t = (const char *)e->data.scalar.value;
		size_t len = e->data.scalar.length;
		if (parse_vmid(t, len, &vmid) != 0) {
			char shown[96];
			shown_value(NULL, t, len, node_quoted(e), shown, sizeof(shown));
			node_diag(L, CFG_DIAG_ERROR, e, "%s[%d]=%s is not a container id (%u..%u)", name, idx, shown,
			          CFG_VMID_MIN, CFG_VMID_LIMIT);
			rc = -1;
			continue;
		}
		if (tmp.n >= CFG_VMID_MAX) {
			node_diag(L, CFG_DIAG_ERROR, e, "%s has more than %d entries", name, CFG_VMID_MAX);
			return -1;
		}
		tmp.v[tmp.n++] = vmid;
	}
	if (rc == 0) {
		vmlist_normalise(&tmp);
		*out = tmp;
	}
	return rc;
}

static int load_strlist(struct loader *L, const struct cfg_key *k, yaml_node_t *n, struct cfg_strlist *out)
{
	static struct cfg_strlist tmp; /* large; the loader is not reentrant across threads anyway */
	memset(&tmp, 0, sizeof(tmp));
	bool secret = k->flags & CFG_F_SECRET;
	if (is_null_node(n)) {
		*out = tmp;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s must be a list of strings, not %s", k->key, node_kind(n));
		return -1;
	}
	int rc = 0, idx = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, idx++) {
		yaml_node_t *e = yaml_document_get_node(L->doc, *it);
		if (!e)
			continue;
		if (e->type != YAML_SCALAR_NODE) {
			node_diag(L, CFG_DIAG_ERROR, e, "%s[%d] must be a string, not %s", k->key, idx, node_kind(e));
			rc = -1;
			continue;
		}
		const char *t = (const char *)e->data.scalar.value;
		size_t len = e->data.scalar.length;
		const char *bad = NULL;
		if (len == 0)
			bad = "is empty";
		else if (len >= CFG_LIST_STR_MAX)
			bad = "is too long";
		for (size_t i = 0; !bad && i < len; i++)
			if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
				bad = "contains a control character";
		if (bad) {
			char shown[96];
			shown_value(k, t, len, node_quoted(e), shown, sizeof(shown));
			node_diag(L, CFG_DIAG_ERROR, e, "%s[%d]=%s %s", k->key, idx, shown, bad);
			rc = -1;
			continue;
		}
		if (tmp.n >= CFG_LIST_MAX) {
			node_diag(L, CFG_DIAG_ERROR, e, "%s has more than %d entries", k->key, CFG_LIST_MAX);
			return -1;
		}
		memcpy(tmp.v[tmp.n], t, len);
		tmp.v[tmp.n][len] = '\0';
		tmp.n++;
	}
	(void)secret;
	if (rc == 0)
		*out = tmp;
	return rc;
}

/* Does any schema key live under `section.`? */
static bool is_section(const char *path)
{
	size_t l = strlen(path);
	for (size_t i = 0; i < config_schema_len; i++) {
		const char *k = config_schema[i].key;
		if (strncmp(k, path, l) == 0 && k[l] == '.')
			return true;
	}
	return false;
}

static const struct cfg_key *ignored_prefix(const char *path)
{
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (!(k->flags & CFG_F_PREFIX))
			continue;
		size_t l = strlen(k->key);
		if (strncmp(path, k->key, l) == 0 && (path[l] == '\0' || path[l] == '.'))
			return k;
	}
	return NULL;
}

static void walk_mapping(struct loader *L, yaml_node_t *map, const char *prefix);

static struct cfg_tier *tier_get(struct loader *L, const char *name, yaml_node_t *at)
{
	struct lxcscale_config *c = L->c;
	for (int i = 0; i < c->n_tiers; i++)
		if (strcmp(c->tiers[i].name, name) == 0)
			return &c->tiers[i];
	if (c->n_tiers >= CFG_TIERS_MAX) {
		node_diag(L, CFG_DIAG_ERROR, at, "tiers: more than %d tiers", CFG_TIERS_MAX);
		return NULL;
	}
	struct cfg_tier *t = &c->tiers[c->n_tiers++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->where = node_mark(L, at);
	return t;
}

static bool tier_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= CFG_TIER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static void load_tier(struct loader *L, const char *name, yaml_node_t *name_node, yaml_node_t *n)
{
	char path[CFG_TIER_NAME_MAX + 128];
	if (n->type != YAML_MAPPING_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "tiers.%s must be a mapping, not %s", name, node_kind(n));
		return;
	}
	struct cfg_tier *t = tier_get(L, name, name_node);
	if (!t)
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			node_diag(L, CFG_DIAG_ERROR, kn, "tiers.%s: keys must be scalars", name);
			continue;
		}
		const char *key = (const char *)kn->data.scalar.value;
		snprintf(path, sizeof(path), "tiers.%s.%s", name, key);
		if (strcmp(key, "containers") == 0) {
			if (load_vmlist(L, path, vn, &t->containers) == 0)
				t->containers_mark = node_mark(L, vn);
			continue;
		}
		char skey[160];
		snprintf(skey, sizeof(skey), "scaling.%s", key);
		const struct cfg_key *k = config_key(skey);
		int bit = config_tier_key(k);
		if (bit < 0) {
			/* nearest tier-able key, by its leaf name */
			const char *best = NULL;
			size_t best_d = 3;
			if (strcmp(key, "lxc_containers") == 0)
				best = "containers";
			for (size_t i = 0; !best && i < config_schema_len; i++) {
				if (!(config_schema[i].flags & CFG_F_TIER))
					continue;
				size_t d = edit_distance(key, leaf(config_schema[i].key));
				if (d < best_d) {
					best_d = d;
					best = leaf(config_schema[i].key);
				}
			}
			if (k)
				node_diag(L, CFG_DIAG_ERROR, kn, "%s: scaling.%s is host-wide and cannot be set per tier",
				          path, key);
			else if (best)
				node_diag(L, CFG_DIAG_ERROR, kn, "unknown key '%s'; did you mean '%s'?", path, best);
			else
				node_diag(L, CFG_DIAG_ERROR, kn, "unknown key '%s'", path);
			continue;
		}
		void *dst = (char *)&t->overrides + scaling_offset(k);
		if (load_scalar(L, k, path, vn, dst) == 0) {
			t->set_mask |= 1ull << bit;
			t->mark[bit] = node_mark(L, vn);
		}
	}
}

static void load_tiers(struct loader *L, yaml_node_t *n)
{
	if (is_null_node(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "tiers must be a mapping of tier names, not %s", node_kind(n));
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE ||
		    !tier_name_ok((const char *)kn->data.scalar.value, kn->data.scalar.length)) {
			node_diag(L, CFG_DIAG_ERROR, kn, "tier names are 1..%d letters, digits, '_' or '-'",
			          CFG_TIER_NAME_MAX - 1);
			continue;
		}
		load_tier(L, (const char *)kn->data.scalar.value, kn, vn);
	}
}

static void load_key(struct loader *L, const struct cfg_key *k, const char *path, yaml_node_t *kn,
                     yaml_node_t *vn)
{
	struct lxcscale_config *c = L->c;
	if (k->alias) {
		const struct cfg_key *target = config_key(k->alias);
		int ti = config_key_index(target);
		struct cfg_mark *tm = &c->meta.mark[ti];
		if (tm->source != CFG_SRC_DEFAULT && !tm->via_alias) {
			char where[CFG_STR_MAX + 32];
			mark_text(c, tm, c->meta.flag[ti], where, sizeof(where));
			node_diag(L, CFG_DIAG_WARNING, kn, "%s is ignored: %s is set at %s", path, target->key, where);
			return;
		}
		if (load_scalar(L, target, path, vn, field_of(c, target)) == 0) {
			*tm = node_mark(L, vn);
			tm->via_alias = 1;
		}
		return;
	}
	int idx = config_key_index(k);
	int rc;
	switch (k->type) {
	case CFG_IGNORED:
		node_diag(L, CFG_DIAG_WARNING, kn, "%s is not used by lxcscale and is ignored: %s", path, k->desc);
		return;
	case CFG_TIERS:
		load_tiers(L, vn);
		return;
	case CFG_VMLIST:
		rc = load_vmlist(L, path, vn, field_of(c, k));
		break;
	case CFG_STRLIST:
		rc = load_strlist(L, k, vn, field_of(c, k));
		break;
	default:
		rc = load_scalar(L, k, path, vn, field_of(c, k));
		break;
	}
	if (rc == 0) {
		c->meta.mark[idx] = node_mark(L, vn);
		c->meta.flag[idx][0] = '\0';
	}
}

static void walk_mapping(struct loader *L, yaml_node_t *map, const char *prefix)
{
	char path[256];
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			node_diag(L, CFG_DIAG_ERROR, kn, "%s%skeys must be scalars", prefix ? prefix : "",
			          prefix ? ": " : "");
			continue;
		}
		const char *key = (const char *)kn->data.scalar.value;
		/* duplicates: YAML forbids them but libyaml keeps both; the last would silently win */
		bool dup = false;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p && !dup; q++) {
			yaml_node_t *qk = yaml_document_get_node(L->doc, q->key);
			dup = qk && qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, key);
		}
		if (prefix)
			snprintf(path, sizeof(path), "%s.%s", prefix, key);
		else
			snprintf(path, sizeof(path), "%s", key);
		if (dup) {
			node_diag(L, CFG_DIAG_ERROR, kn, "%s is given twice", path);
			continue;
		}
		const struct cfg_key *k = config_key(path);
		if (k) {
			load_key(L, k, path, kn, vn);
			continue;
		}
		const struct cfg_key *ign = ignored_prefix(path);
		if (is_section(path) || (ign && vn->type == YAML_MAPPING_NODE)) {
			if (is_null_node(vn))
				continue; /* an empty section */
			if (vn->type != YAML_MAPPING_NODE) {
				node_diag(L, CFG_DIAG_ERROR, vn, "%s must be a mapping (a section), not %s", path,
				          node_kind(vn));
				continue;
			}
			walk_mapping(L, vn, path);
			continue;
		}
		if (ign) {
			node_diag(L, CFG_DIAG_WARNING, kn, "%s is not used by lxcscale and is ignored: %s", path,
			          ign->desc);
			continue;
		}
		const char *hint = suggest(path);
		if (hint)
			node_diag(L, CFG_DIAG_ERROR, kn, "unknown key '%s'; did you mean '%s'?", path, hint);
		else
			node_diag(L, CFG_DIAG_ERROR, kn, "unknown key '%s'", path);
	}
}

int config_load_string(struct lxcscale_config *c, const char *name, const char *yaml, size_t len,
                       struct config_diag *d)
{
	int errors_before = d->errors;
	if (c->meta.n_files >= CFG_FILES_MAX) {
		diag_add(d, CFG_DIAG_ERROR, name, "too many configuration files (at most %d)", CFG_FILES_MAX);
		return -1;
	}
	int file = c->meta.n_files++;
	snprintf(c->meta.files[file], CFG_STR_MAX, "%s", name);

	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		diag_add(d, CFG_DIAG_ERROR, name, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		char loc[CFG_STR_MAX + 32];
		snprintf(loc, sizeof(loc), "%s:%zu:%zu", name, parser.problem_mark.line + 1,
		         parser.problem_mark.column + 1);
		diag_add(d, CFG_DIAG_ERROR, loc, "invalid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	struct loader L = { .c = c, .d = d, .doc = &doc, .file = file };
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && !is_null_node(root)) {
		if (root->type != YAML_MAPPING_NODE)
			node_diag(&L, CFG_DIAG_ERROR, root, "the configuration must be a mapping of keys, not %s",
			          node_kind(root));
		else
			walk_mapping(&L, root, NULL);
	}
	/* a second document ("---") would be silently ignored: refuse it */
	yaml_document_t extra;
	if (yaml_parser_load(&parser, &extra)) {
		yaml_node_t *r2 = yaml_document_get_root_node(&extra);
		if (r2)
			node_diag(&L, CFG_DIAG_ERROR, r2, "only one YAML document is allowed");
		yaml_document_delete(&extra);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return d->errors > errors_before ? -1 : 0;
}

int config_load_file(struct lxcscale_config *c, const char *path, struct config_diag *d)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		diag_add(d, CFG_DIAG_ERROR, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		diag_add(d, CFG_DIAG_ERROR, path, "out of memory");
		return -1;
	}
	size_t n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		diag_add(d, CFG_DIAG_ERROR, path, "cannot read");
		return -1;
	}
	if (n > CONFIG_FILE_MAX) {
		free(buf);
		diag_add(d, CFG_DIAG_ERROR, path, "larger than %u bytes", CONFIG_FILE_MAX);
		return -1;
	}
	int rc = config_load_string(c, path, buf, n, d);
	free(buf);
	return rc;
}

int config_set(struct lxcscale_config *c, const char *dotted, const char *value, const char *flag,
               struct config_diag *d)
{
	const struct cfg_key *k = config_key(dotted);
	const char *loc = flag && *flag ? flag : "command line";
	if (!k || k->type > CFG_ENUM || k->alias) {
		diag_add(d, CFG_DIAG_ERROR, loc, "%s cannot be set from the command line", dotted);
		return -1;
	}
	union cfg_value v;
	char why[200], shown[96];
	size_t len = strlen(value);
	if (parse_scalar(k, value, len, false, &v, why, sizeof(why)) != 0) {
		shown_value(k, value, len, false, shown, sizeof(shown));
		diag_add(d, CFG_DIAG_ERROR, loc, "%s=%s %s", dotted, shown, why);
		return -1;
	}
	store_scalar(field_of(c, k), k, &v);
	int idx = config_key_index(k);
	c->meta.mark[idx] = (struct cfg_mark){ .source = CFG_SRC_FLAG };
	snprintf(c->meta.flag[idx], sizeof(c->meta.flag[idx]), "%s", loc);
	return 0;
}

/* ---- cross-key rules -------------------------------------------------------------------- */

struct rule_ctx {
	const struct lxcscale_config *c;
	struct config_diag *d;
	const struct cfg_tier *tier; /* NULL: the global scaling section */
};

/* dotted name and location of a scaling key as the rule's reader should see it */
static void scaling_name(const struct rule_ctx *r, const char *skey, char *name, size_t nlen, char *loc,
                         size_t llen)
{
	const struct cfg_key *k = config_key(skey);
	int bit = config_tier_key(k);
	if (r->tier && bit >= 0 && (r->tier->set_mask & (1ull << bit))) {
		snprintf(name, nlen, "tiers.%s.%s", r->tier->name, leaf(skey));
		mark_text(r->c, &r->tier->mark[bit], NULL, loc, llen);
		return;
	}
	int idx = config_key_index(k);
	snprintf(name, nlen, "%s", skey);
	if (r->tier && r->c->meta.mark[idx].source == CFG_SRC_DEFAULT)
		mark_text(r->c, &r->tier->where, NULL, loc, llen);
	else
		mark_text(r->c, &r->c->meta.mark[idx], r->c->meta.flag[idx], loc, llen);
}

static double scaling_value(const struct cfg_scaling *s, const char *skey)
{
	const struct cfg_key *k = config_key(skey);
	const char *p = (const char *)s + scaling_offset(k);
	if (k->type == CFG_DOUBLE)
		return *(const double *)p;
	return *(const int *)p;
}

/* `a` must be <= b (or < b when strict); message names both with their values. */
static void rule_order(const struct rule_ctx *r, const struct cfg_scaling *s, const char *a, const char *b,
                       bool strict)
{
	double va = scaling_value(s, a), vb = scaling_value(s, b);
	if (strict ? va < vb : va <= vb)
		return;
	char na[160], nb[160], la[CFG_STR_MAX + 32], lb[CFG_STR_MAX + 32], ta[32], tb[32];
	scaling_name(r, a, na, sizeof(na), la, sizeof(la));
	scaling_name(r, b, nb, sizeof(nb), lb, sizeof(lb));
	number_text(va, ta, sizeof(ta));
	number_text(vb, tb, sizeof(tb));
	/* report where the reader wrote something: the first key unless it is a default */
	const char *loc = strcmp(la, "default") ? la : lb;
	diag_add(r->d, CFG_DIAG_ERROR, loc, "%s=%s is %s %s=%s", na, ta, strict ? "not less than" : "greater than",
	         nb, tb);
}

static void check_scaling(const struct rule_ctx *r, const struct cfg_scaling *s)
{
	rule_order(r, s, "scaling.min_cpu_cores", "scaling.max_cpu_cores", false);
	rule_order(r, s, "scaling.min_ram_mb", "scaling.max_ram_mb", false);
	rule_order(r, s, "scaling.cpu_scale_down_threshold", "scaling.cpu_scale_up_threshold", true);
	rule_order(r, s, "scaling.ram_scale_down_threshold", "scaling.ram_scale_up_threshold", true);
	rule_order(r, s, "scaling.ram_chunk_size", "scaling.ram_upper_limit", false);
	rule_order(r, s, "scaling.ram_chunk_size", "scaling.ram_scale_step_mb", false);
	rule_order(r, s, "scaling.ram_scale_step_mb", "scaling.ram_upper_limit", false);
}

static void key_loc(const struct lxcscale_config *c, const char *key, char *loc, size_t len)
{
	int idx = config_key_index(config_key(key));
	mark_text(c, &c->meta.mark[idx], c->meta.flag[idx], loc, len);
}

static bool is_loopback(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
	       !strncmp(host, "127.", 4);
}

int config_finalize(struct lxcscale_config *c, struct config_diag *d)
{
	char loc[CFG_STR_MAX + 32], loc2[CFG_STR_MAX + 32];
	struct rule_ctx r = { .c = c, .d = d };

	check_scaling(&r, &c->scaling);

	/* tiers: global values, then the tier's own */
	for (int t = 0; t < c->n_tiers; t++) {
		struct cfg_tier *tier = &c->tiers[t];
		tier->scaling = c->scaling;
		for (size_t i = 0; i < config_schema_len; i++) {
			const struct cfg_key *k = &config_schema[i];
			int bit = config_tier_key(k);
			if (bit < 0 || !(tier->set_mask & (1ull << bit)))
				continue;
			size_t off = scaling_offset(k);
			memcpy((char *)&tier->scaling + off, (const char *)&tier->overrides + off, k->size);
		}
		r.tier = tier;
		check_scaling(&r, &tier->scaling);
		mark_text(c, &tier->where, NULL, loc, sizeof(loc));
		if (tier->containers.n == 0)
			diag_add(d, CFG_DIAG_WARNING, loc, "tiers.%s has no containers and applies to nothing", tier->name);
		for (int u = 0; u < t; u++)
			for (int i = 0; i < tier->containers.n; i++)
				if (vmlist_has(&c->tiers[u].containers, tier->containers.v[i])) {
					mark_text(c, &tier->containers_mark, NULL, loc2, sizeof(loc2));
					diag_add(d, CFG_DIAG_ERROR, loc2, "container %" PRIu32 " is in tiers.%s and tiers.%s",
					         tier->containers.v[i], c->tiers[u].name, tier->name);
				}
	}
	r.tier = NULL;

	if (c->host.total_cores > 0 && c->host.reserve_cpu_cores >= c->host.total_cores) {
		key_loc(c, "scaling.reserve_cpu_cores", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "scaling.reserve_cpu_cores=%d is not less than scaling.total_cores=%d",
		         c->host.reserve_cpu_cores, c->host.total_cores);
	}
	if (c->host.total_ram_mb > 0 && c->host.reserve_memory_mb >= c->host.total_ram_mb) {
		key_loc(c, "scaling.reserve_memory_mb", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "scaling.reserve_memory_mb=%d is not less than scaling.total_ram_mb=%d",
		         c->host.reserve_memory_mb, c->host.total_ram_mb);
	}
	if (c->psi.cpu_stall_ms > c->psi.window_ms) {
		key_loc(c, "psi.cpu_stall_ms", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "psi.cpu_stall_ms=%d is greater than psi.window_ms=%d",
		         c->psi.cpu_stall_ms, c->psi.window_ms);
	}
	if (c->psi.memory_stall_ms > c->psi.window_ms) {
		key_loc(c, "psi.memory_stall_ms", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "psi.memory_stall_ms=%d is greater than psi.window_ms=%d",
		         c->psi.memory_stall_ms, c->psi.window_ms);
	}
	if (c->circuit_breaker.enabled && c->circuit_breaker.timeout_seconds <= c->interval_seconds) {
		key_loc(c, "circuit_breaker.timeout_seconds", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_WARNING, loc,
		         "circuit_breaker.timeout_seconds=%d is not greater than interval_seconds=%d: "
		         "an open breaker never outlasts a cycle",
		         c->circuit_breaker.timeout_seconds, c->interval_seconds);
	}
	if (c->authentication.enabled && c->authentication.api_keys.n == 0) {
		key_loc(c, "authentication.enabled", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "authentication.enabled=true but authentication.api_keys is empty");
	}
	for (int i = 0; i < c->authentication.api_keys.n; i++)
		if (strlen(c->authentication.api_keys.v[i]) < 16) {
			key_loc(c, "authentication.api_keys", loc, sizeof(loc));
			diag_add(d, CFG_DIAG_WARNING, loc, "authentication.api_keys[%d] is shorter than 16 characters", i);
		}
	if (c->api.enabled && !c->authentication.enabled && !is_loopback(c->server.host)) {
		key_loc(c, "server.host", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_WARNING, loc,
		         "server.host=%s accepts connections from the network while authentication.enabled=false: "
		         "anyone who reaches port %d can resize containers",
		         c->server.host, c->server.port);
	}
	if (!c->api.tls_cert[0] != !c->api.tls_key[0]) {
		const char *set = c->api.tls_cert[0] ? "api.tls_cert" : "api.tls_key";
		const char *unset = c->api.tls_cert[0] ? "api.tls_key" : "api.tls_cert";
		key_loc(c, set, loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "%s is set but %s is empty", set, unset);
	}
	if (c->persist.backend == CFG_PERSIST_API) {
		static const char *const need[] = { "proxmox_api.url", "proxmox_api.token_id", "proxmox_api.token_secret" };
		const char *val[] = { c->proxmox_api.url, c->proxmox_api.token_id, c->proxmox_api.token_secret };
		for (int i = 0; i < 3; i++)
			if (!val[i][0]) {
				key_loc(c, "persist.backend", loc, sizeof(loc));
				diag_add(d, CFG_DIAG_ERROR, loc, "persist.backend=api but %s is empty", need[i]);
			}
	}
	if (!c->proxmox_api.verify_tls) {
		key_loc(c, "proxmox_api.verify_tls", loc, sizeof(loc));
		if (c->persist.backend == CFG_PERSIST_API)
			diag_add(d, CFG_DIAG_WARNING, loc,
			         "proxmox_api.verify_tls=false: the API token is sent to whoever answers");
	}
	if (c->notifications.gotify_url[0] && !c->notifications.gotify_token[0]) {
		key_loc(c, "notifications.gotify_url", loc, sizeof(loc));
		diag_add(d, CFG_DIAG_ERROR, loc, "notifications.gotify_url is set but notifications.gotify_token is empty");
	}
	return d->errors ? -1 : 0;
}

/* ---- queries ----------------------------------------------------------------------------- */

const struct cfg_scaling *config_scaling_for(const struct lxcscale_config *c, uint32_t vmid)
{
	for (int i = 0; i < c->n_tiers; i++)
		if (vmlist_has(&c->tiers[i].containers, vmid))
			return &c->tiers[i].scaling;
	return &c->scaling;
}

bool config_ignored(const struct lxcscale_config *c, uint32_t vmid)
{
	return vmlist_has(&c->ignore_lxc, vmid);
}

/* ---- output ----------------------------------------------------------------------------- */

static void yaml_quote(const char *s, char *out, size_t len)
{
	size_t o = 0;
	if (len < 3) {
		if (len)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (; *s && o + 6 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}

static int format_field(const struct cfg_key *k, const void *p, char *buf, size_t len, unsigned flags)
{
	bool hide = (k->flags & CFG_F_SECRET) && !(flags & CONFIG_PRINT_SECRETS);
	size_t o = 0;
	switch (k->type) {
	case CFG_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
		return 0;
	case CFG_INT:
		snprintf(buf, len, "%d", *(const int *)p);
		return 0;
	case CFG_DOUBLE:
		number_text(*(const double *)p, buf, len);
		return 0;
	case CFG_ENUM:
		if (!choice_at(k->choices, *(const int *)p, buf, len))
			snprintf(buf, len, "?");
		return 0;
	case CFG_STRING:
		if (hide && ((const char *)p)[0])
			snprintf(buf, len, "\"***\"");
		else
			yaml_quote((const char *)p, buf, len);
		return 0;
	case CFG_VMLIST: {
		const struct cfg_vmlist *l = p;
		o += (size_t)snprintf(buf, len, "[");
		for (int i = 0; i < l->n && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%" PRIu32, i ? ", " : "", l->v[i]);
		if (o < len)
			snprintf(buf + o, len - o, "]");
		return o < len ? 0 : -1;
	}
	case CFG_STRLIST: {
		const struct cfg_strlist *l = p;
		o += (size_t)snprintf(buf, len, "[");
		for (int i = 0; i < l->n && o < len; i++) {
			char q[CFG_LIST_STR_MAX * 4 + 3];
			if (hide)
				snprintf(q, sizeof(q), "\"***\"");
			else
				yaml_quote(l->v[i], q, sizeof(q));
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", q);
		}
		if (o < len)
			snprintf(buf + o, len - o, "]");
		return o < len ? 0 : -1;
	}
	default:
		buf[0] = '\0';
		return -1;
	}
}

int config_format_value(const struct lxcscale_config *c, const struct cfg_key *k, char *buf, size_t len,
                        unsigned flags)
{
	if (k->type == CFG_IGNORED || k->type == CFG_TIERS || k->alias) {
		if (len)
			buf[0] = '\0';
		return -1;
	}
	return format_field(k, cfield_of(c, k), buf, len, flags);
}

static bool printable(const struct cfg_key *k)
{
	return k->type != CFG_IGNORED && k->type != CFG_TIERS && !k->alias;
}

static void print_tiers(const struct lxcscale_config *c, FILE *to, unsigned flags)
{
	if (c->n_tiers == 0) {
		fprintf(to, "tiers: {}\n");
		return;
	}
	fprintf(to, "tiers:\n");
	char buf[CFG_VMID_MAX * 12 + 8];
	for (int t = 0; t < c->n_tiers; t++) {
		const struct cfg_tier *tier = &c->tiers[t];
		fprintf(to, "  %s:\n", tier->name);
		format_field(config_key("ignore_lxc"), &tier->containers, buf, sizeof(buf), flags);
		fprintf(to, "    containers: %s\n", buf);
		for (size_t i = 0; i < config_schema_len; i++) {
			const struct cfg_key *k = &config_schema[i];
			int bit = config_tier_key(k);
			if (bit < 0 || !(tier->set_mask & (1ull << bit)))
				continue;
			format_field(k, (const char *)&tier->overrides + scaling_offset(k), buf, sizeof(buf), flags);
			fprintf(to, "    %s: %s\n", leaf(k->key), buf);
		}
	}
}

static void allowed_text(const struct cfg_key *k, char *allowed, size_t len);

static void print_comment(const struct cfg_key *k, const char *indent, FILE *to, unsigned flags)
{
	if (!(flags & CONFIG_PRINT_COMMENTS))
		return;
	char allowed[256];
	allowed_text(k, allowed, sizeof(allowed));
	fprintf(to, "%s# %s%s%s%s%s\n", indent, k->desc, allowed[0] ? " (" : "", allowed, allowed[0] ? ")" : "",
	        (k->flags & CFG_F_TIER) ? "; per tier" : "");
}

void config_print(const struct lxcscale_config *c, FILE *to, unsigned flags)
{
	static char buf[CFG_LIST_MAX * (CFG_LIST_STR_MAX * 4 + 4) + CFG_VMID_MAX * 12 + 64];
	char sections[64][64];
	int nsec = 0;

	if (flags & CONFIG_PRINT_COMMENTS)
		fprintf(to, "# lxcscale configuration: every key with its default value.\n"
		            "# Generated by `lxcscaled --print-config-template` from the schema in user/config_schema.c.\n"
		            "# The reference system's lxc_autoscale_ml.yaml and lxc_autoscale_api.yaml keys are accepted too\n"
		            "# (see the README's key table); keys lxcscale has no use for are reported once and ignored.\n\n");
	else
		fprintf(to, "# lxcscale effective configuration (lxcscaled --print-config)\n");
	for (int f = 0; f < c->meta.n_files; f++)
		fprintf(to, "# loaded from %s\n", c->meta.files[f]);
	/* top-level keys first, then each section in order of first appearance */
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		const char *dot = strchr(k->key, '.');
		if (!dot) {
			if (k->type == CFG_TIERS)
				continue;
			if (!printable(k))
				continue;
			print_comment(k, "", to, flags);
			config_format_value(c, k, buf, sizeof(buf), flags);
			fprintf(to, "%s: %s\n", k->key, buf);
			continue;
		}
		size_t l = (size_t)(dot - k->key);
		bool seen = false;
		for (int s = 0; s < nsec && !seen; s++)
			seen = strlen(sections[s]) == l && !strncmp(sections[s], k->key, l);
		if (!seen && nsec < 64 && l < sizeof(sections[0])) {
			memcpy(sections[nsec], k->key, l);
			sections[nsec][l] = '\0';
			nsec++;
		}
	}
	for (int s = 0; s < nsec; s++) {
		size_t l = strlen(sections[s]);
		bool header = false;
		for (size_t i = 0; i < config_schema_len; i++) {
			const struct cfg_key *k = &config_schema[i];
			if (!printable(k) || strncmp(k->key, sections[s], l) || k->key[l] != '.')
				continue;
			if (!header) {
				fprintf(to, "%s%s:\n", (flags & CONFIG_PRINT_COMMENTS) ? "\n" : "", sections[s]);
				header = true;
			}
			print_comment(k, "  ", to, flags);
			config_format_value(c, k, buf, sizeof(buf), flags);
			fprintf(to, "  %s: %s\n", k->key + l + 1, buf);
		}
	}
	if (flags & CONFIG_PRINT_COMMENTS)
		fprintf(to, "\n# per-container overrides of the keys marked \"per tier\" in scaling:\n"
		            "# tiers:\n#   web:\n#     containers: [101, 102]\n#     max_cpu_cores: 8\n"
		            "#     cpu_scale_up_threshold: 60\n");
	print_tiers(c, to, flags);
}

/* "1..1024", "pct, api", "absolute path or empty", ... */
static void allowed_text(const struct cfg_key *k, char *allowed, size_t len)
{
	allowed[0] = '\0';
	switch (k->type) {
	case CFG_STRING:
		if ((k->flags & CFG_F_PATH) && (k->flags & CFG_F_REQUIRED))
			snprintf(allowed, len, "absolute path");
		else if (k->flags & CFG_F_PATH)
			snprintf(allowed, len, "absolute path or empty");
		else if (k->flags & CFG_F_URL)
			snprintf(allowed, len, "http(s) URL or empty");
		else if (k->flags & CFG_F_REGEX)
			snprintf(allowed, len, "POSIX extended regex");
		else if (k->flags & CFG_F_REQUIRED)
			snprintf(allowed, len, "not empty");
		break;
	case CFG_VMLIST:
		snprintf(allowed, len, "%u..%u", CFG_VMID_MIN, CFG_VMID_LIMIT);
		break;
	case CFG_INT:
	case CFG_DOUBLE: {
		char lo[32], hi[32];
		number_text(k->min, lo, sizeof(lo));
		number_text(k->max, hi, sizeof(hi));
		if (k->flags & CFG_F_GT0)
			snprintf(allowed, len, "> %s .. %s", lo, hi);
		else
			snprintf(allowed, len, "%s..%s", lo, hi);
		break;
	}
	case CFG_BOOL:
		snprintf(allowed, len, "true, false");
		break;
	case CFG_ENUM:
		choices_text(k->choices, allowed, len);
		break;
	default:
		break;
	}
}

static void md_escape(const char *s, FILE *to)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", to);
		else
			fputc(*s, to);
	}
}

static void def_text(const struct cfg_key *k, char *def, size_t len)
{
	def[0] = '\0';
	if (k->type == CFG_IGNORED)
		return;
	if (k->type == CFG_STRLIST || k->type == CFG_VMLIST)
		snprintf(def, len, "[]");
	else if (k->type == CFG_TIERS)
		snprintf(def, len, "{}");
	else if (k->type == CFG_STRING && (k->flags & CFG_F_SECRET) && k->def[0])
		snprintf(def, len, "(secret)");
	else
		snprintf(def, len, "%s", k->def);
}

void config_print_table(FILE *to)
{
	fprintf(to, "| key | type | default | allowed | description |\n");
	fprintf(to, "|---|---|---|---|---|\n");
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		char def[CFG_STR_MAX + 8], allowed[256];
		const char *type = k->type == CFG_IGNORED ? (k->alias ? "alias" : "ignored") : type_name(k);
		def_text(k, def, sizeof(def));
		allowed_text(k, allowed, sizeof(allowed));
		fprintf(to, "| `%s%s` | %s | ", k->key, (k->flags & CFG_F_PREFIX) ? ".*" : "", type);
		if (def[0]) {
			fputc('`', to);
			md_escape(def, to);
			fputc('`', to);
		}
		fputs(" | ", to);
		md_escape(allowed, to);
		fputs(" | ", to);
		if (k->flags & CFG_F_REF_ML)
			fputs(k->flags & CFG_F_LEGACY ? "*reference legacy key, honoured.* " : "*reference key.* ", to);
		else if (k->flags & CFG_F_REF_API)
			fputs("*reference API key.* ", to);
		if (k->type == CFG_IGNORED && !k->alias)
			fputs("Accepted with one warning, not used: ", to);
		if (k->flags & CFG_F_TIER)
			fputs("Per tier. ", to);
		if (k->flags & CFG_F_SECRET)
			fputs("Secret: never printed or logged. ", to);
		md_escape(k->desc, to);
		fputs(" |\n", to);
	}
}

int config_diff(const struct lxcscale_config *a, const struct lxcscale_config *b, config_diff_fn fn, void *arg)
{
	static char va[CFG_LIST_MAX * (CFG_LIST_STR_MAX * 4 + 4) + CFG_VMID_MAX * 12 + 64];
	static char vb[sizeof(va)];
	int n = 0;
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (!printable(k))
			continue;
		if (!memcmp(cfield_of(a, k), cfield_of(b, k), k->size))
			continue;
		/* strings and lists compare only their used part */
		config_format_value(a, k, va, sizeof(va), CONFIG_PRINT_SECRETS);
		config_format_value(b, k, vb, sizeof(vb), CONFIG_PRINT_SECRETS);
		if (!strcmp(va, vb))
			continue;
		config_format_value(a, k, va, sizeof(va), 0);
		config_format_value(b, k, vb, sizeof(vb), 0);
		n++;
		if (fn)
			fn(k->key, va, vb, arg);
	}
	bool tiers_differ = a->n_tiers != b->n_tiers;
	for (int t = 0; !tiers_differ && t < a->n_tiers; t++)
		tiers_differ = strcmp(a->tiers[t].name, b->tiers[t].name) ||
		               memcmp(&a->tiers[t].containers, &b->tiers[t].containers, sizeof(a->tiers[t].containers)) ||
		               memcmp(&a->tiers[t].scaling, &b->tiers[t].scaling, sizeof(a->tiers[t].scaling));
	if (tiers_differ) {
		n++;
		if (fn)
			fn("tiers", "(previous tiers)", "(new tiers)", arg);
	}
	return n;
}

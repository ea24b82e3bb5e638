/*
 * config/print.c — the configuration written out: effective YAML (--print-config, which
 * config/load.c reads back unchanged), the commented template (conf/lxcscale.yaml), the
 * markdown key table (README) and the per-key diff logged on reload. Secrets print as ***
 * (logs, diffs) unless CONFIG_PRINT_SECRETS, which --print-config uses so its output loads
 * back as it is; CONFIG_PRINT_OMIT_SECRETS leaves secret keys out instead (a comment line:
 * never a placeholder that would load back as the key).
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
		cfg_number_text(*(const double *)p, buf, len);
		return 0;
	case CFG_ENUM:
		if (!cfg_choice_at(k->choices, *(const int *)p, buf, len))
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
	return format_field(k, cfg_cfield(c, k), buf, len, flags);
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
			format_field(k, (const char *)&tier->overrides + cfg_scaling_offset(k), buf, sizeof(buf), flags);
			fprintf(to, "    %s: %s\n", cfg_leaf(k->key), buf);
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

static void print_key(const struct lxcscale_config *c, const struct cfg_key *k, const char *indent,
		      const char *name, char *buf, FILE *to, unsigned flags)
{
	if ((k->flags & CFG_F_SECRET) && (flags & CONFIG_PRINT_OMIT_SECRETS)) {
		fprintf(to, "%s# %s: left out (a secret; --print-config without --omit-secrets prints it)\n",
			indent, name);
		return;
	}
	config_format_value(c, k, buf, CFG_VALUE_TEXT_MAX, flags);
	fprintf(to, "%s%s: %s\n", indent, name, buf);
}

/* note text as comment lines at indent */
static void print_note(const char *note, const char *indent, FILE *to)
{
	while (note && *note) {
		const char *nl = strchr(note, '\n');
		int n = nl ? (int)(nl - note) : (int)strlen(note);
		fprintf(to, "%s# %.*s\n", indent, n, note);
		note = nl ? nl + 1 : NULL;
	}
}

void config_print(const struct lxcscale_config *c, FILE *to, unsigned flags)
{
	config_print_noted(c, to, flags, NULL, NULL);
}

void config_print_noted(const struct lxcscale_config *c, FILE *to, unsigned flags, config_note_fn note, void *arg)
{
	char *buf = malloc(CFG_VALUE_TEXT_MAX);
	char sections[64][64];
	int nsec = 0;
	if (!buf)
		return;

	if (flags & CONFIG_PRINT_NO_HEADER)
		; /* the caller's own header */
	else if (flags & CONFIG_PRINT_COMMENTS)
		fprintf(to, "# lxcscale configuration: every key with its default value.\n"
		            "# Generated by `lxcscaled --print-config-template` from the schema in user/config_schema.c.\n"
		            "# The reference system's lxc_autoscale_ml.yaml, lxc_autoscale_api.yaml and lxc_monitor.yaml keys\n"
		            "# are accepted too (see the README's key table); keys lxcscale has no use for are reported once\n"
		            "# and ignored. The legacy keys below (total_cores, ...) work here; in the reference's own files\n"
		            "# they are ignored, as the reference ignores them.\n\n");
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
			if (note)
				print_note(note(k, arg), "", to);
			print_key(c, k, "", k->key, buf, to, flags);
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
			if (note)
				print_note(note(k, arg), "  ", to);
			print_key(c, k, "  ", k->key + l + 1, buf, to, flags);
		}
	}
	if (flags & CONFIG_PRINT_COMMENTS)
		fprintf(to, "\n# per-container overrides of the keys marked \"per tier\" in scaling:\n"
		            "# tiers:\n#   web:\n#     containers: [101, 102]\n#     max_cpu_cores: 8\n"
		            "#     cpu_scale_up_threshold: 60\n");
	print_tiers(c, to, flags);
	free(buf);
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
		cfg_number_text(k->min, lo, sizeof(lo));
		cfg_number_text(k->max, hi, sizeof(hi));
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
		cfg_choices_text(k->choices, allowed, len);
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

/* Where a key comes from, for the table and the manual page: NULL for lxcscale's own keys. */
static const char *key_origin(const struct cfg_key *k)
{
	if (k->flags & CFG_F_REF_ML)
		return k->flags & CFG_F_LEGACY ? "reference legacy key: honoured in lxcscale's file, ignored with a "
		                                 "warning in the reference's (which ignores it too)"
		                               : "reference key";
	if (k->flags & CFG_F_REF_API)
		return "reference API key";
	if (k->flags & CFG_F_REF_MON)
		return "reference monitor key";
	return NULL;
}

/* The sentences that go before every description in the table and the manual page. */
static void key_notes(const struct cfg_key *k, FILE *to)
{
	if (k->type == CFG_IGNORED && !k->alias)
		fputs("Accepted with one warning, not used: ", to);
	if (k->flags & CFG_F_TIER)
		fputs("Per tier. ", to);
	if (k->flags & CFG_F_SECRET)
		fputs("Secret: never printed or logged. ", to);
}

void config_print_table(FILE *to)
{
	fprintf(to, "| key | type | default | allowed | description |\n");
	fprintf(to, "|---|---|---|---|---|\n");
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		char def[CFG_STR_MAX + 8], allowed[256];
		const char *type = k->type == CFG_IGNORED ? (k->alias ? "alias" : "ignored") : cfg_type_name(k);
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
		const char *origin = key_origin(k);
		if (origin)
			fprintf(to, "*%s.* ", origin);
		key_notes(k, to);
		/* sentences in the table: capitalise the description */
		fputc(toupper((unsigned char)k->desc[0]), to);
		md_escape(k->desc + 1, to);
		fputs(" |\n", to);
	}
}

int config_diff(const struct lxcscale_config *a, const struct lxcscale_config *b, config_diff_fn fn, void *arg)
{
	char *va = malloc(CFG_VALUE_TEXT_MAX), *vb = malloc(CFG_VALUE_TEXT_MAX);
	if (!va || !vb) {
		free(va);
		free(vb);
		return -1;
	}
	int n = 0;
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (!printable(k))
			continue;
		if (!memcmp(cfg_cfield(a, k), cfg_cfield(b, k), k->size))
			continue;
		/* strings and lists compare only their used part */
		config_format_value(a, k, va, CFG_VALUE_TEXT_MAX, CONFIG_PRINT_SECRETS);
		config_format_value(b, k, vb, CFG_VALUE_TEXT_MAX, CONFIG_PRINT_SECRETS);
		if (!strcmp(va, vb))
			continue;
		config_format_value(a, k, va, CFG_VALUE_TEXT_MAX, 0);
		config_format_value(b, k, vb, CFG_VALUE_TEXT_MAX, 0);
		n++;
		if (fn)
			fn(k->key, va, vb, arg);
	}
	/* tiers: what was written (names, containers, overrides), not the merged result */
	bool tiers_differ = a->n_tiers != b->n_tiers;
	for (int t = 0; !tiers_differ && t < a->n_tiers; t++) {
		const struct cfg_tier *x = &a->tiers[t], *y = &b->tiers[t];
		tiers_differ = strcmp(x->name, y->name) || x->set_mask != y->set_mask ||
		               x->containers.n != y->containers.n ||
		               memcmp(x->containers.v, y->containers.v, sizeof(x->containers.v[0]) * (size_t)x->containers.n);
		for (size_t i = 0; !tiers_differ && i < config_schema_len; i++) {
			const struct cfg_key *k = &config_schema[i];
			int bit = config_tier_key(k);
			if (bit >= 0 && (x->set_mask & (1ull << bit)))
				tiers_differ = memcmp((const char *)&x->overrides + cfg_scaling_offset(k),
				                      (const char *)&y->overrides + cfg_scaling_offset(k), k->size) != 0;
		}
	}
	if (tiers_differ) {
		n++;
		if (fn)
			fn("tiers", "(previous tiers)", "(new tiers)", arg);
	}
	free(va);
	free(vb);
	return n;
}

/* ---- the lxcscale.yaml(5) manual page ------------------------------------------------------ */

/* roff text: backslashes doubled as \e, a leading '.' or '\'' protected, and in literal
 * values (keys, defaults, ranges) '-' as \- so it renders as a minus sign. */
static void roff(const char *s, bool literal, FILE *to)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", to);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", to);
		else if (*s == '-' && literal)
			fputs("\\-", to);
		else
			fputc(*s, to);
	}
}

static void man_key(const struct cfg_key *k, FILE *to)
{
	char def[CFG_STR_MAX + 8], allowed[256];
	const char *type = k->type == CFG_IGNORED ? (k->alias ? "alias" : "ignored") : cfg_type_name(k);
	def_text(k, def, sizeof(def));
	allowed_text(k, allowed, sizeof(allowed));
	fputs(".TP\n.B ", to);
	roff(k->key, true, to);
	if (k->flags & CFG_F_PREFIX)
		fputs(".*", to);
	fputs("\n(", to);
	fputs(type, to);
	if (def[0]) {
		fputs(", default \\fB", to);
		roff(def, true, to);
		fputs("\\fR", to);
	}
	if (allowed[0]) {
		fputs("; ", to);
		roff(allowed, true, to);
	}
	fputs(")\n", to);
	const char *origin = key_origin(k);
	if (origin) /* a sentence here: capitalised */
		fprintf(to, "%c%s. ", toupper((unsigned char)origin[0]), origin + 1);
	key_notes(k, to);
	fputc(toupper((unsigned char)k->desc[0]), to);
	roff(k->desc + 1, false, to);
	fputs(".\n", to);
}

void config_print_man(FILE *to)
{
	fprintf(to,
	        ".\\\" lxcscale.yaml(5). Generated by `lxcscaled --print-config-man` from the schema in\n"
	        ".\\\" user/config/schema.c; do not edit: run `make readme`.\n"
	        ".TH LXCSCALE.YAML 5 \"\" \"lxcscale %s\" \"File Formats\"\n"
	        ".SH NAME\n"
	        "lxcscale.yaml \\- configuration of the lxcscale daemon\n"
	        ".SH SYNOPSIS\n"
	        ".I %s\n"
	        ".SH DESCRIPTION\n"
	        ".BR lxcscaled (8)\n"
	        "reads one YAML file of keys, grouped in sections (\\fBscaling.max_cpu_cores\\fR is\n"
	        "\\fBmax_cpu_cores\\fR in the \\fBscaling\\fR mapping). A key that is not written keeps its default.\n"
	        ".PP\n"
	        "Without\n"
	        ".BR \\-\\-config ,\n"
	        "lxcscaled reads\n"
	        ".I %s\n"
	        "when it exists, or else LXC AutoScale ML's\n"
	        ".I %s\n"
	        "(and its\n"
	        ".I %s\n"
	        "when that exists), so a host switching from it needs no new file;\n"
	        ".B lxcscale migrate-config\n"
	        "converts them. The keys of those files, and of its monitor's \\fI%s\\fR,\n"
	        "are listed below: most are honoured, and the rest are accepted with one warning each.\n"
	        "A file is one of the reference's when its name is \\fIlxc_autoscale_ml.yaml\\fR,\n"
	        "\\fIlxc_autoscale_api.yaml\\fR or \\fIlxc_monitor.yaml\\fR, or starts with one of those names\n"
	        "followed by '.', '_' or '\\-' (such as the installer's \\fIlxc_autoscale_ml.yaml.new\\fR).\n"
	        "Legacy keys that the reference's newest release no longer reads\n"
	        "(\\fBscaling.total_cores\\fR, ...) are ignored in those files, as the reference ignores them,\n"
	        "with a warning that says what they would do here; in this file they have the meaning given.\n"
	        ".PP\n"
	        "Unknown keys, values of the wrong type or out of range, and contradictory values (a\n"
	        "minimum above its maximum, a scale-down threshold at or above its scale-up threshold)\n"
	        "are errors: lxcscaled names the file, line and column and does not start, and a reload\n"
	        "(SIGHUP) with errors keeps the running configuration.\n"
	        ".B lxcscaled \\-\\-check\\-config\n"
	        ".I FILE\n"
	        "checks a file without starting anything;\n"
	        ".B lxcscaled \\-\\-print\\-config\n"
	        "prints the effective configuration.\n"
	        ".PP\n"
	        "Container ids are integers or strings (\"101\" and 101 are the same). Secret values\n"
	        "are printed as *** and never logged; keep a file that holds one readable by root only.\n"
	        ".SH KEYS\n"
	        "Each key is shown with its type, its default and the values allowed.\n",
	        LXCSCALE_VERSION, CONFIG_DEFAULT_PATH, CONFIG_DEFAULT_PATH, CONFIG_REFERENCE_PATH,
	        CONFIG_REFERENCE_API_PATH, CONFIG_REFERENCE_MONITOR_PATH);
	char section[64] = "";
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		const char *dot = strchr(k->key, '.');
		char sec[64];
		if (dot && (size_t)(dot - k->key) < sizeof(sec)) {
			memcpy(sec, k->key, (size_t)(dot - k->key));
			sec[dot - k->key] = '\0';
		} else if (k->flags & CFG_F_PREFIX) {
			snprintf(sec, sizeof(sec), "%s", k->key);
		} else {
			snprintf(sec, sizeof(sec), "top level");
		}
		if (strcmp(sec, section)) {
			snprintf(section, sizeof(section), "%s", sec);
			fputs(".SS ", to);
			roff(sec, true, to);
			fputc('\n', to);
		}
		man_key(k, to);
	}
	fprintf(to,
	        ".SH TIERS\n"
	        "Keys marked \"per tier\" may be given again for a group of containers:\n"
	        ".PP\n"
	        ".nf\n"
	        ".RS\n"
	        "tiers:\n"
	        "  web:\n"
	        "    containers: [101, 102]\n"
	        "    max_cpu_cores: 8\n"
	        "    cpu_scale_up_threshold: 60\n"
	        ".RE\n"
	        ".fi\n"
	        ".PP\n"
	        "A container in no tier uses the\n"
	        ".B scaling\n"
	        "values; a container may be in one tier only.\n"
	        ".SH FILES\n"
	        ".TP\n"
	        ".I %s\n"
	        "this file\n"
	        ".TP\n"
	        ".I %s\n"
	        "LXC AutoScale ML's file, read when this one does not exist\n"
	        ".SH SEE ALSO\n"
	        ".BR lxcscaled (8),\n"
	        ".BR lxcscale (1)\n",
	        CONFIG_DEFAULT_PATH, CONFIG_REFERENCE_PATH);
}

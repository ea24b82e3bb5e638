/*
 * config/load.c — YAML into struct lxcscale_config.
 *
 * The file is parsed with libyaml into a document (so every node has its line and
 * column), then walked: a mapping key is joined to its parents into a dotted name and
 * looked up in the schema. A known key is parsed strictly by its type into a scratch value
 * and copied into the struct only when valid, so a bad value never half-writes the config.
 * Sections are mappings whose name prefixes some key; anything else is an unknown key,
 * reported with the closest schema key ("did you mean"). Duplicate keys and extra YAML
 * documents are errors (libyaml would silently keep one).
 *
 * A file's name says whose it is (config_file_kind): in one of the reference's files a
 * legacy key the reference itself ignores is ignored too, with a warning that says what it
 * would do in lxcscale and where to set it (config_key_use).
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
#include <yaml.h>

#define CONFIG_FILE_MAX (1u << 20) /* a config file larger than 1 MiB is refused */

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
		if (strcmp(cfg_leaf(config_schema[i].key), cfg_leaf(path)) == 0) {
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
	enum cfg_file_kind kind; /* whose file it is (its name says) */
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
	cfg_mark_text(L->c, &m, NULL, loc, sizeof(loc));
	va_list ap;
	va_start(ap, fmt);
	cfg_diag_vadd(L->d, sev, loc, fmt, ap);
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
	       cfg_looks_null((const char *)n->data.scalar.value, n->data.scalar.length, node_quoted(n));
}

static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

/* Parse a scalar node into dst (a field of key k); name is the dotted name for messages. */
static int load_scalar(struct loader *L, const struct cfg_key *k, const char *name, yaml_node_t *n,
                       void *dst)
{
	if (n->type != YAML_SCALAR_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s must be %s %s, not %s", name, article(cfg_type_name(k)), cfg_type_name(k),
		          node_kind(n));
		return -1;
	}
	const char *t = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	bool quoted = node_quoted(n);
	if (k->type != CFG_STRING && cfg_looks_null(t, len, quoted)) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s has no value (%s %s is needed)", name, article(cfg_type_name(k)),
		          cfg_type_name(k));
		return -1;
	}
	union cfg_value v;
	char why[200], shown[96];
	if (memchr(t, '\0', len)) {
		cfg_shown_value(k, t, strlen(t), quoted, shown, sizeof(shown));
		node_diag(L, CFG_DIAG_ERROR, n, "%s=%s contains a NUL byte", name, shown);
		return -1;
	}
	if (cfg_parse_scalar(k, t, len, quoted, &v, why, sizeof(why)) != 0) {
		cfg_shown_value(k, t, len, quoted, shown, sizeof(shown));
		node_diag(L, CFG_DIAG_ERROR, n, "%s=%s %s", name, shown, why);
		return -1;
	}
	cfg_store_scalar(dst, k, &v);
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
		if (cfg_parse_vmid(t, len, &vmid) != 0) {
			char shown[96];
			cfg_shown_value(NULL, t, len, node_quoted(e), shown, sizeof(shown));
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
		cfg_vmlist_normalise(&tmp);
		*out = tmp;
	}
	return rc;
}

static int load_strlist(struct loader *L, const struct cfg_key *k, yaml_node_t *n, struct cfg_strlist *out)
{
	if (is_null_node(n)) {
		out->n = 0;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s must be a list of strings, not %s", k->key, node_kind(n));
		return -1;
	}
	struct cfg_strlist *tmp = calloc(1, sizeof(*tmp)); /* 16 KiB: not on the stack */
	if (!tmp) {
		node_diag(L, CFG_DIAG_ERROR, n, "%s: out of memory", k->key);
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
		if (!bad && cfg_has_control(t, len))
			bad = "contains a control character";
		if (bad) {
			char shown[96];
			cfg_shown_value(k, t, len, node_quoted(e), shown, sizeof(shown));
			node_diag(L, CFG_DIAG_ERROR, e, "%s[%d]=%s %s", k->key, idx, shown, bad);
			rc = -1;
			continue;
		}
		if (tmp->n >= CFG_LIST_MAX) {
			node_diag(L, CFG_DIAG_ERROR, e, "%s has more than %d entries", k->key, CFG_LIST_MAX);
			rc = -1;
			break;
		}
		memcpy(tmp->v[tmp->n], t, len);
		tmp->v[tmp->n][len] = '\0';
		tmp->n++;
	}
	if (rc == 0)
		*out = *tmp;
	free(tmp);
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
				size_t d = edit_distance(key, cfg_leaf(config_schema[i].key));
				if (d < best_d) {
					best_d = d;
					best = cfg_leaf(config_schema[i].key);
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
		void *dst = (char *)&t->overrides + cfg_scaling_offset(k);
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

/* Whether scalar node n holds the value target's field already has (an alias that says
 * the same as its explicit key needs no warning). */
static bool same_value(struct loader *L, const struct cfg_key *target, yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || target->type > CFG_ENUM)
		return false;
	union cfg_value v;
	char why[200];
	if (cfg_parse_scalar(target, (const char *)n->data.scalar.value, n->data.scalar.length, node_quoted(n), &v, why,
	                     sizeof(why)) != 0)
		return false;
	const void *p = cfg_field(L->c, target);
	switch (target->type) {
	case CFG_BOOL: return v.b == *(const bool *)p;
	case CFG_INT: case CFG_ENUM: return v.i == *(const int *)p;
	case CFG_DOUBLE: return v.d == *(const double *)p;
	case CFG_STRING: return !strcmp(v.s, (const char *)p);
	default: return false;
	}
}

/* A key accepted but not used in this file: one warning saying why. True when it was one. */
static bool unused_key(struct loader *L, const struct cfg_key *k, const char *path, yaml_node_t *kn,
                       yaml_node_t *vn)
{
	char why[CFG_DIAG_LEN];
	bool scalar = vn->type == YAML_SCALAR_NODE && !memchr(vn->data.scalar.value, '\0', vn->data.scalar.length);
	const char *value = scalar ? (const char *)vn->data.scalar.value : NULL;
	switch (config_key_use(k, L->kind, value, why, sizeof(why))) {
	case CFG_USE_YES:
		return false;
	case CFG_USE_REF_IGNORES: {
		char shown[96] = "";
		if (scalar)
			cfg_shown_value(k, value, vn->data.scalar.length, node_quoted(vn), shown, sizeof(shown));
		node_diag(L, CFG_DIAG_WARNING, kn, "%s%s%s is ignored, as the reference ignores it: %s", path,
		          scalar ? "=" : "", shown, why);
		return true;
	}
	default:
		node_diag(L, CFG_DIAG_WARNING, kn, "%s is not used by lxcscale and is ignored: %s", path, why);
		return true;
	}
}

static void load_key(struct loader *L, const struct cfg_key *k, const char *path, yaml_node_t *kn,
                     yaml_node_t *vn)
{
	struct lxcscale_config *c = L->c;
	if (unused_key(L, k, path, kn, vn))
		return;
	if (k->alias) {
		const struct cfg_key *target = config_key(k->alias);
		int ti = config_key_index(target);
		struct cfg_mark *tm = &c->meta.mark[ti];
		if (tm->source != CFG_SRC_DEFAULT && !tm->via_alias) {
			if (same_value(L, target, vn))
				return; /* says what the explicit key says */
			char where[CFG_STR_MAX + 32];
			cfg_mark_text(c, tm, c->meta.flag[ti], where, sizeof(where));
			node_diag(L, CFG_DIAG_WARNING, kn, "%s is ignored: %s is set at %s", path, target->key, where);
			return;
		}
		if (load_scalar(L, target, path, vn, cfg_field(c, target)) == 0) {
			*tm = node_mark(L, vn);
			tm->via_alias = 1;
		}
		return;
	}
	int idx = config_key_index(k);
	int rc;
	switch (k->type) {
	case CFG_IGNORED: /* unused_key() said so */
		return;
	case CFG_TIERS:
		load_tiers(L, vn);
		return;
	case CFG_VMLIST:
		rc = load_vmlist(L, path, vn, cfg_field(c, k));
		break;
	case CFG_STRLIST:
		rc = load_strlist(L, k, vn, cfg_field(c, k));
		break;
	default:
		rc = load_scalar(L, k, path, vn, cfg_field(c, k));
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
		cfg_diag_add(d, CFG_DIAG_ERROR, name, "too many configuration files (at most %d)", CFG_FILES_MAX);
		return -1;
	}
	int file = c->meta.n_files++;
	snprintf(c->meta.files[file], CFG_STR_MAX, "%s", name);
	enum cfg_file_kind kind = config_file_kind(name);
	c->meta.kind[file] = (uint8_t)kind;

	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		cfg_diag_add(d, CFG_DIAG_ERROR, name, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		char loc[CFG_STR_MAX + 32];
		snprintf(loc, sizeof(loc), "%s:%zu:%zu", name, parser.problem_mark.line + 1,
		         parser.problem_mark.column + 1);
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "invalid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -1;
	}
	struct loader L = { .c = c, .d = d, .doc = &doc, .file = file, .kind = kind };
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
		cfg_diag_add(d, CFG_DIAG_ERROR, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		cfg_diag_add(d, CFG_DIAG_ERROR, path, "out of memory");
		return -1;
	}
	size_t n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		cfg_diag_add(d, CFG_DIAG_ERROR, path, "cannot read");
		return -1;
	}
	if (n > CONFIG_FILE_MAX) {
		free(buf);
		cfg_diag_add(d, CFG_DIAG_ERROR, path, "larger than %u bytes", CONFIG_FILE_MAX);
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
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "%s cannot be set from the command line", dotted);
		return -1;
	}
	union cfg_value v;
	char why[200], shown[96];
	size_t len = strlen(value);
	if (cfg_parse_scalar(k, value, len, false, &v, why, sizeof(why)) != 0) {
		cfg_shown_value(k, value, len, false, shown, sizeof(shown));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "%s=%s %s", dotted, shown, why);
		return -1;
	}
	cfg_store_scalar(cfg_field(c, k), k, &v);
	int idx = config_key_index(k);
	c->meta.mark[idx] = (struct cfg_mark){ .source = CFG_SRC_FLAG };
	snprintf(c->meta.flag[idx], sizeof(c->meta.flag[idx]), "%s", loc);
	return 0;
}

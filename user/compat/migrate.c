/*
 * compat/migrate.c — see compat/migrate.h.
 *
 * Two passes over the old files, each with one job. The real loader fills the config (so
 * values, ranges, aliases and cross-key rules are exactly lxcscaled's). A second, read-only
 * walk of the same YAML lists the keys as written, with their lines, and asks the schema
 * what became of each one; that walk never interprets a value.
 */
#include "compat/migrate.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct migrate *migrate_new(void)
{
	struct migrate *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = config_new();
	if (!m->cfg) {
		free(m);
		return NULL;
	}
	return m;
}

void migrate_free(struct migrate *m)
{
	if (!m)
		return;
	config_free(m->cfg);
	free(m);
}

const char *migrate_fate_name(enum migrate_fate f)
{
	switch (f) {
	case MIGRATE_KEPT: return "kept";
	case MIGRATE_RENAMED: return "renamed";
	case MIGRATE_SHADOWED: return "shadowed";
	case MIGRATE_NEW_MEANING: return "new meaning";
	case MIGRATE_IGNORED: return "ignored";
	case MIGRATE_CHANGED: return "changed";
	case MIGRATE_INVALID: return "invalid";
	}
	return "?";
}

const struct migrate_item *migrate_find(const struct migrate *m, const char *key)
{
	for (int i = 0; i < m->n_items; i++)
		if (!strcmp(m->items[i].key, key))
			return &m->items[i];
	return NULL;
}

/* The schema's "every key under PREFIX." entry (gunicorn.*) that covers path, or NULL. */
static const struct cfg_key *ignored_prefix(const char *path)
{
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		size_t l = strlen(k->key);
		if ((k->flags & CFG_F_PREFIX) && !strncmp(path, k->key, l) && (path[l] == '.' || path[l] == '\0'))
			return k;
	}
	return NULL;
}

static struct migrate_item *add_item(struct migrate *m, const char *file, const char *key, unsigned line,
                                     enum migrate_fate fate)
{
	if (m->n_items >= MIGRATE_ITEMS_MAX) {
		m->dropped_items++;
		return NULL;
	}
	struct migrate_item *it = &m->items[m->n_items++];
	memset(it, 0, sizeof(*it));
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->file, sizeof(it->file), "%s", file);
	it->line = line;
	it->fate = fate;
	return it;
}

struct walker {
	struct migrate *m;
	const char *file;
	yaml_document_t *doc;
	char *value; /* CFG_VALUE_TEXT_MAX scratch */
};

/* The value lxcscale ended up with, as it prints it (secrets as ***), cut for one line. */
static const char *shown(struct walker *w, const struct cfg_key *k)
{
	if (config_format_value(w->m->cfg, k, w->value, CFG_VALUE_TEXT_MAX, 0) != 0)
		return "?";
	if (strlen(w->value) > 120)
		memcpy(w->value + 117, "...", 4);
	return w->value;
}

static void classify(struct walker *w, const char *path, unsigned line, const yaml_node_t *vn)
{
	struct migrate *m = w->m;
	const struct cfg_key *k = config_key(path);
	struct migrate_item *it;

	if (k) {
		/* what the loader made of it in this file: the same question, the same answer */
		char why[MIGRATE_DETAIL_MAX - MIGRATE_VALUE_MAX - 32];
		bool scalar = vn->type == YAML_SCALAR_NODE &&
		              !memchr(vn->data.scalar.value, '\0', vn->data.scalar.length);
		const char *value = scalar ? (const char *)vn->data.scalar.value : NULL;
		enum cfg_use use = config_key_use(k, config_file_kind(w->file), value, why, sizeof(why));
		if (use == CFG_USE_REF_IGNORES) {
			if (!(it = add_item(m, w->file, path, line, MIGRATE_IGNORED)))
				return;
			it->ref_ignored = true;
			if (value)
				snprintf(it->value, sizeof(it->value), "%.*s", (int)sizeof(it->value) - 1, value);
			snprintf(it->detail, sizeof(it->detail), "%s%s, as the reference does: %s", value ? "= " : "",
			         value ? it->value : "", why);
			return;
		}
		if (use != CFG_USE_YES) {
			if ((it = add_item(m, w->file, path, line, MIGRATE_IGNORED)))
				snprintf(it->detail, sizeof(it->detail), ": %s", why);
			return;
		}
	}
	if (!k) {
		const struct cfg_key *ign = ignored_prefix(path);
		if (ign) {
			if ((it = add_item(m, w->file, path, line, MIGRATE_IGNORED)))
				snprintf(it->detail, sizeof(it->detail), ": %s", ign->desc);
		} else if ((it = add_item(m, w->file, path, line, MIGRATE_INVALID))) {
			snprintf(it->detail, sizeof(it->detail), ": not a key lxcscale knows (see the errors)");
		}
		return;
	}
	if (k->alias) {
		const struct cfg_key *target = config_key(k->alias);
		const struct cfg_mark *tm = &m->cfg->meta.mark[config_key_index(target)];
		bool explicit_wins = tm->source != CFG_SRC_DEFAULT && !tm->via_alias;
		if (!(it = add_item(m, w->file, path, line, explicit_wins ? MIGRATE_SHADOWED : MIGRATE_RENAMED)))
			return;
		if (explicit_wins)
			snprintf(it->detail, sizeof(it->detail), "means %s, which is also set and wins: %s = %s",
			         target->key, target->key, shown(w, target));
		else
			snprintf(it->detail, sizeof(it->detail), "-> %s = %s", target->key, shown(w, target));
		return;
	}
	switch (k->type) {
	case CFG_TIERS:
		if ((it = add_item(m, w->file, path, line, MIGRATE_KEPT)))
			snprintf(it->detail, sizeof(it->detail), "%d tier%s", m->cfg->n_tiers,
			         m->cfg->n_tiers == 1 ? "" : "s");
		return;
	default:
		break;
	}
	if (k->flags & CFG_F_LEGACY) {
		if ((it = add_item(m, w->file, path, line, MIGRATE_NEW_MEANING)))
			snprintf(it->detail, sizeof(it->detail), "= %s; the reference ignored it, lxcscale uses it: %s",
			         shown(w, k), k->desc);
		return;
	}
	if ((it = add_item(m, w->file, path, line, MIGRATE_KEPT)))
		snprintf(it->detail, sizeof(it->detail), "= %s", shown(w, k));
}

static bool is_empty_node(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return n->data.mapping.pairs.start == n->data.mapping.pairs.top;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static void walk(struct walker *w, yaml_node_t *map, const char *prefix, int depth)
{
	if (depth > 8)
		return; /* the loader reports anything this deep as an unknown key */
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(w->doc, p->value);
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
			continue;
		char path[MIGRATE_KEY_MAX];
		int n = snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
		                 (const char *)kn->data.scalar.value);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		unsigned line = (unsigned)kn->start_mark.line + 1;
		/* a section (a mapping that is not itself a key's value): report its keys */
		if (vn->type == YAML_MAPPING_NODE && !config_key(path)) {
			walk(w, vn, path, depth + 1);
			continue;
		}
		if (!config_key(path) && !ignored_prefix(path) && is_empty_node(vn))
			continue; /* an empty section ("api:") */
		classify(w, path, line, vn);
	}
}

/* Second pass over one file: list its keys. The loader has already said what is wrong
 * with it, so a file it could not parse is simply not listed. */
static void list_keys(struct migrate *m, const char *path, char *scratch)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return;
	}
	yaml_parser_set_input_file(&parser, f);
	if (yaml_parser_load(&parser, &doc)) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		struct walker w = { .m = m, .file = path, .doc = &doc, .value = scratch };
		if (root && root->type == YAML_MAPPING_NODE)
			walk(&w, root, NULL, 0);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
}

static bool has_secret_values(const struct lxcscale_config *c)
{
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (!(k->flags & CFG_F_SECRET) || k->alias)
			continue;
		const void *p = (const char *)c + k->offset;
		if (k->type == CFG_STRING && ((const char *)p)[0])
			return true;
		if (k->type == CFG_STRLIST && ((const struct cfg_strlist *)p)->n > 0)
			return true;
	}
	return false;
}

/* The migration's own changes, on top of what the loader did. Only one today: the lock file.
 * The reference daemon's lock (/run/lxc_autoscale_ml.lock, or /tmp/... in v1.0) is its own,
 * and lxcscaled's systemd unit may write exactly one lock file, lxcscale's default. */
static void apply_changes(struct migrate *m)
{
	const struct cfg_key *k = config_key("lock_file");
	const struct cfg_mark *mk = &m->cfg->meta.mark[config_key_index(k)];
	if (mk->source != CFG_SRC_FILE || !strcmp(m->cfg->lock_file, k->def))
		return;
	for (int i = 0; i < m->n_items; i++) {
		struct migrate_item *it = &m->items[i];
		if (strcmp(it->key, "lock_file"))
			continue;
		it->fate = MIGRATE_CHANGED;
		snprintf(it->detail, sizeof(it->detail),
		         ": \"%.200s\" -> \"%s\": that lock belongs to the reference daemon, and lxcscaled's systemd "
		         "unit may write only its own lock file",
		         m->cfg->lock_file, k->def);
	}
	snprintf(m->cfg->lock_file, sizeof(m->cfg->lock_file), "%s", k->def);
}

int migrate_load(struct migrate *m, const char *ml_path, const char *api_path)
{
	const char *paths[2] = { ml_path, api_path };
	return migrate_load_files(m, paths, api_path ? 2 : 1);
}

int migrate_load_files(struct migrate *m, const char *const *paths, int n)
{
	config_defaults(m->cfg);
	config_diag_clear(&m->diag);
	m->n_items = m->dropped_items = 0;
	if (n < 1 || n > CFG_FILES_MAX) {
		m->diag.errors = 1;
		m->diag.n = 1;
		snprintf(m->diag.msg[0].text, sizeof(m->diag.msg[0].text), "migrate-config: 1 to %d files, not %d",
		         CFG_FILES_MAX, n);
		return -1;
	}
	for (int i = 0; i < n; i++)
		config_load_file(m->cfg, paths[i], &m->diag);
	int rc = config_finalize(m->cfg, &m->diag);

	char *scratch = malloc(CFG_VALUE_TEXT_MAX);
	if (!scratch) {
		config_diag_clear(&m->diag);
		m->diag.errors = 1;
		m->diag.n = 1;
		snprintf(m->diag.msg[0].text, sizeof(m->diag.msg[0].text), "migrate-config: out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++)
		list_keys(m, paths[i], scratch);
	free(scratch);
	if (rc != 0)
		return -1;
	apply_changes(m);
	m->has_secrets = has_secret_values(m->cfg);
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

void migrate_print_report(const struct migrate *m, FILE *to)
{
	int count[MIGRATE_INVALID + 1] = { 0 };
	for (int i = 0; i < m->n_items; i++) {
		const struct migrate_item *it = &m->items[i];
		count[it->fate]++;
		fprintf(to, "  %-12s %s%s%s  (%s:%u)\n", migrate_fate_name(it->fate), it->key,
		        it->detail[0] == ':' ? "" : " ", it->detail, base_name(it->file), it->line);
	}
	if (m->dropped_items)
		fprintf(to, "  (%d more keys not listed)\n", m->dropped_items);
	fprintf(to, "%d key%s:", m->n_items, m->n_items == 1 ? "" : "s");
	const char *sep = " ";
	for (int f = 0; f <= MIGRATE_INVALID; f++) {
		if (!count[f])
			continue;
		fprintf(to, "%s%d %s", sep, count[f], migrate_fate_name((enum migrate_fate)f));
		sep = ", ";
	}
	fprintf(to, "\n");
}

/* Warnings the report already explains, in the loader's words (config/load.c). */
static bool explained(const char *text)
{
	return strstr(text, " is not used by lxcscale and is ignored: ") ||
	       strstr(text, " is ignored, as the reference ignores it: ") ||
	       (strstr(text, " is ignored: ") && strstr(text, " is set at "));
}

void migrate_print_diag(const struct migrate *m, FILE *to)
{
	for (int i = 0; i < m->diag.n; i++) {
		if (m->diag.msg[i].severity == CFG_DIAG_WARNING && explained(m->diag.msg[i].text))
			continue;
		fprintf(to, "%s\n", m->diag.msg[i].text);
	}
	int more = m->diag.errors + m->diag.warnings - m->diag.n;
	if (more > 0)
		fprintf(to, "(%d more messages not shown)\n", more);
}

struct note_ctx {
	const struct migrate *m;
	char text[2 * MIGRATE_DETAIL_MAX];
};

/* The comment above a legacy key the reference ignored: the old value, not carried over,
 * and what it would do (config_print_noted's note). */
static const char *legacy_note(const struct cfg_key *k, void *arg)
{
	struct note_ctx *ctx = arg;
	const struct migrate_item *it = NULL;
	for (int i = 0; i < ctx->m->n_items && !it; i++)
		if (ctx->m->items[i].ref_ignored && !strcmp(ctx->m->items[i].key, k->key))
			it = &ctx->m->items[i];
	if (!it)
		return NULL;
	const char *leaf = strrchr(k->key, '.') ? strrchr(k->key, '.') + 1 : k->key;
	const char *value = it->value[0] ? it->value : NULL;
	char effect[400], now[64] = "";
	config_ref_effect(k, value, effect, sizeof(effect));
	config_format_value(ctx->m->cfg, k, now, sizeof(now), 0);
	int n = snprintf(ctx->text, sizeof(ctx->text),
	                 "%s:%u had %s%s%s; the reference ignores it, so it is not carried over.\nIn lxcscale it would %s",
	                 base_name(it->file), it->line, leaf, value ? ": " : "", value ? value : "", effect);
	if (n < 0 || (size_t)n >= sizeof(ctx->text))
		return ctx->text;
	if (value && !strcmp(now, value))
		snprintf(ctx->text + n, sizeof(ctx->text) - (size_t)n, "; the line below says the same.");
	else if (value)
		snprintf(ctx->text + n, sizeof(ctx->text) - (size_t)n, ": to use it, change the line below to %s: %s", leaf,
		         value);
	else
		snprintf(ctx->text + n, sizeof(ctx->text) - (size_t)n, ": to use it, set it on the line below.");
	return ctx->text;
}

void migrate_print_yaml(const struct migrate *m, FILE *to)
{
	fprintf(to,
	        "# lxcscale configuration, written by `lxcscale migrate-config` (lxcscale %s)\n"
	        "# from LXC AutoScale ML's configuration. Every key is listed: the ones the old files set\n"
	        "# carry their values, the others lxcscale's defaults. Check it with\n"
	        "#   lxcscaled --check-config FILE\n",
	        LXCSCALE_VERSION);
	if (m->has_secrets)
		fprintf(to, "# It holds secret values (API keys or tokens): keep it readable by root only.\n");
	struct note_ctx ctx = { .m = m };
	config_print_noted(m->cfg, to, CONFIG_PRINT_COMMENTS | CONFIG_PRINT_SECRETS | CONFIG_PRINT_NO_HEADER, legacy_note,
	                   &ctx);
}

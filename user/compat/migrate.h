/*
 * compat/migrate.h — turn LXC AutoScale ML's configuration into lxcscale's.
 *
 * The reference system keeps its settings in /etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml
 * (and its API service's in lxc_autoscale_api.yaml beside it). lxcscaled can run off those
 * files unchanged, but the Debian package ships /etc/lxcscale/lxcscale.yaml, which then
 * wins; `lxcscale migrate-config` writes that file from the old ones.
 *
 * The values go through the real loader (config_load_file + config_finalize), so the
 * result is exactly what lxcscaled would have run with, and they come out through the real
 * printer (config_print with comments), so the new file documents every key. Besides
 * that, this module only reports what happened to each key of the old files:
 *
 *   kept         same key, same meaning
 *   renamed      an alias of a lxcscale key (logging.level -> log_level,
 *                monitoring.export_file -> data_file)
 *   shadowed     an alias whose lxcscale key is also set, which wins
 *   new meaning  a legacy key lxcscale honours, written in a file that is not one of the
 *                reference's by name (config_file_kind): lxcscaled would honour it too
 *   ignored      accepted, not used, with the reason from the schema; also a legacy key in a
 *                reference file (scaling.total_cores, ...), which the reference ignores and
 *                so lxcscaled does too: its line says what it would do and which key sets it,
 *                and the new file names the old value in a comment without carrying it over
 *   changed      a value the migration replaces, with why (the reference daemon's lock file)
 *
 *     struct migrate *m = migrate_new();
 *     if (migrate_load(m, ml_path, api_path_or_NULL) != 0) { migrate_print_diag(m, stderr); ... }
 *     migrate_print_report(m, stdout);
 *     migrate_print_yaml(m, out);
 *     migrate_free(m);
 */
#ifndef LXCSCALE_MIGRATE_H
#define LXCSCALE_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

enum migrate_fate {
	MIGRATE_KEPT = 0,
	MIGRATE_RENAMED,
	MIGRATE_SHADOWED,
	MIGRATE_NEW_MEANING,
	MIGRATE_IGNORED,
	MIGRATE_CHANGED,
	MIGRATE_INVALID, /* the loader refused it (an unknown key or a bad value): see the diagnostics */
};

#define MIGRATE_ITEMS_MAX 256
#define MIGRATE_KEY_MAX 160
#define MIGRATE_DETAIL_MAX 640

#define MIGRATE_VALUE_MAX 96

struct migrate_item {
	char key[MIGRATE_KEY_MAX]; /* dotted, as written ("scaling.total_cores") */
	char file[CFG_STR_MAX];
	unsigned line;             /* 1-based */
	enum migrate_fate fate;
	char detail[MIGRATE_DETAIL_MAX]; /* the value, the new key, or why */
	bool ref_ignored;          /* IGNORED as the reference ignores it (a legacy key in its file) */
	char value[MIGRATE_VALUE_MAX]; /* the scalar as written, when ref_ignored ("" otherwise) */
};

struct migrate {
	struct lxcscale_config *cfg;
	struct config_diag diag;
	int n_items, dropped_items;
	struct migrate_item items[MIGRATE_ITEMS_MAX];
	bool has_secrets; /* the output holds a secret value: write it 0600 */
};

struct migrate *migrate_new(void);
void migrate_free(struct migrate *m);

/* Loads ml_path and, when not NULL, api_path (the reference API file) with the real loader,
 * classifies every key written in them and applies the migration's own changes.
 * Returns 0, or -1 when the files have errors (m->diag says which; nothing should be written).
 * Either may be the reference monitor's lxc_monitor.yaml too: the loader tells the files
 * apart by name. */
int migrate_load(struct migrate *m, const char *ml_path, const char *api_path);
/* The same for n files (1 .. CFG_FILES_MAX), loaded in order: the ML, API and monitor files. */
int migrate_load_files(struct migrate *m, const char *const *paths, int n);

const char *migrate_fate_name(enum migrate_fate f);
/* The first item for `key` (dotted), or NULL. */
const struct migrate_item *migrate_find(const struct migrate *m, const char *key);

/* "  kept         scaling.max_cpu_cores = 4  (file:12)" ... and a count per fate. */
void migrate_print_report(const struct migrate *m, FILE *to);
/* The loader's errors and the warnings the report does not already explain. */
void migrate_print_diag(const struct migrate *m, FILE *to);
/* lxcscale.yaml: a header naming the sources, then every key commented, with the migrated
 * values (secret values included: they are the user's keys and must survive). A legacy key
 * the reference ignored keeps lxcscale's default; a comment above it gives the old value and
 * what it would do. */
void migrate_print_yaml(const struct migrate *m, FILE *to);

#endif

/*
 * test_migrate.c — `lxcscale migrate-config`: the reference system's files (tests/data/)
 * through the real loader, the per-key report, the written file (read back by the real
 * loader), and the command's file handling (modes, --force, unwritable paths, usage).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "compat/migrate.h"
#include "config/config.h"

static const char *top(void)
{
	const char *t = getenv("LXCSCALE_TOP");
	return t && *t ? t : ".";
}

static char *data(const char *name)
{
	static char path[8][1024];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, sizeof(path[0]), "%s/tests/data/%s", top(), name);
	return p;
}

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lxcscale-test-migrate-%ld-XXXXXX", (long)getpid());
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n == 0)
			break;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static char *to_string(void (*fn)(const struct migrate *, FILE *), const struct migrate *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	fn(m, f);
	fclose(f);
	return buf;
}

/* Keys written in a reference file, counted the plain way: "name: value" lines that are
 * not comments (the test files hold no flow mappings), plus "- item" lists' parents. */
static int count_written_keys(const char *path)
{
	char *text = read_all(path);
	assert_non_null(text);
	int n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = line + strspn(line, " ");
		if (*p == '#' || *p == '-' || !*p)
			continue;
		char *colon = strchr(p, ':');
		if (!colon)
			continue;
		char *v = colon + 1 + strspn(colon + 1, " ");
		bool section = (*v == '\0' || *v == '#');
		/* a key with a block list below it ("ignore_lxc:\n  - ...") is a key, not a section */
		char *next = line + strlen(line) + 1;
		bool list_follows = section && strstr(next, "- ") && strspn(next, " ") > 0 &&
		                    next[strspn(next, " ")] == '-';
		if (!section || list_follows)
			n++;
	}
	free(text);
	return n;
}

static void test_v1_with_api_file(void **state)
{
	(void)state;
	struct migrate *m = migrate_new();
	assert_non_null(m);
	assert_int_equal(migrate_load(m, data("lxc_autoscale_ml_v1.yaml"), data("lxc_autoscale_api.yaml")), 0);
	assert_int_equal(m->diag.errors, 0);

	/* every key written in either file is reported once */
	int written = count_written_keys(data("lxc_autoscale_ml_v1.yaml")) + count_written_keys(data("lxc_autoscale_api.yaml"));
	assert_int_equal(m->n_items, written);
	for (int i = 0; i < m->n_items; i++) {
		assert_int_not_equal(m->items[i].fate, MIGRATE_INVALID);
		for (int j = i + 1; j < m->n_items; j++)
			if (!strcmp(m->items[i].file, m->items[j].file))
				assert_string_not_equal(m->items[i].key, m->items[j].key);
	}

	const struct migrate_item *it = migrate_find(m, "lock_file");
	assert_non_null(it);
	assert_int_equal(it->fate, MIGRATE_CHANGED);
	assert_non_null(strstr(it->detail, "/tmp/lxc_autoscale_ml.lock"));
	assert_string_equal(m->cfg->lock_file, config_key("lock_file")->def);
	assert_int_equal(it->line, 7);

	/* the legacy keys the reference ignores are ignored, as lxcscaled ignores them in this file
	 * (before issue 22 they were "new meaning" and carried over: a 4-core host budget) */
	it = migrate_find(m, "scaling.total_cores");
	assert_int_equal(it->fate, MIGRATE_IGNORED);
	assert_true(it->ref_ignored);
	assert_string_equal(it->value, "4");
	assert_string_equal(it->detail, "= 4, as the reference does: in lxcscale it would set the host budget to 4 cores "
	                                "for all containers together; to use it, set scaling.total_cores in lxcscale.yaml");
	assert_int_equal(m->cfg->host.total_cores, 0);
	assert_int_equal(m->cfg->host.total_ram_mb, 0);
	static const char *const legacy[] = { "scaling.total_ram_mb", "scaling.target_cpu_load_percent",
	                                      "scaling.ram_chunk_size", "scaling.ram_upper_limit",
	                                      "feature_engineering.include_io_activity",
	                                      "feature_engineering.include_network_activity" };
	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		assert_int_equal(migrate_find(m, legacy[i])->fate, MIGRATE_IGNORED);
		assert_true(migrate_find(m, legacy[i])->ref_ignored);
	}
	assert_int_equal(m->cfg->scaling.ram_chunk_size, 0);
	assert_int_equal(m->cfg->scaling.ram_upper_limit, 0);
	assert_true(m->cfg->scaling.target_cpu_load_percent == 0);
	for (int i = 0; i < m->n_items; i++)
		assert_int_not_equal(m->items[i].fate, MIGRATE_NEW_MEANING);

	it = migrate_find(m, "api.api_url");
	assert_int_equal(it->fate, MIGRATE_IGNORED);
	assert_non_null(strstr(it->detail, config_key("api.api_url")->desc));
	assert_int_equal(migrate_find(m, "prediction.use_latest_only")->fate, MIGRATE_IGNORED);
	it = migrate_find(m, "gunicorn.workers");
	assert_int_equal(it->fate, MIGRATE_IGNORED);
	assert_non_null(strstr(it->file, "lxc_autoscale_api.yaml"));

	/* logging.level (API file) means log_level, which the ML file sets: the ML file wins */
	it = migrate_find(m, "logging.level");
	assert_int_equal(it->fate, MIGRATE_SHADOWED);
	assert_int_equal(m->cfg->log_level, CFG_LOG_DEBUG);

	it = migrate_find(m, "ignore_lxc");
	assert_int_equal(it->fate, MIGRATE_KEPT);
	assert_string_equal(it->detail, "= [101, 102]");
	assert_int_equal(m->cfg->interval_seconds, 60);
	assert_false(m->has_secrets);

	/* the report has one line per key and the counts */
	char *rep = to_string(migrate_print_report, m);
	assert_non_null(strstr(rep, "  changed      lock_file: \"/tmp/lxc_autoscale_ml.lock\" -> \"/run/lxcscale.lock\""));
	assert_non_null(strstr(rep, "(lxc_autoscale_ml_v1.yaml:26)"));
	assert_non_null(strstr(rep, "  ignored      scaling.total_cores = 4, as the reference does: in lxcscale it would "
	                            "set the host budget to 4 cores for all containers together; to use it, set "
	                            "scaling.total_cores in lxcscale.yaml  (lxc_autoscale_ml_v1.yaml:26)\n"));
	assert_null(strstr(rep, "new meaning"));
	char counts[128];
	snprintf(counts, sizeof(counts), "%d keys: ", written);
	assert_non_null(strstr(rep, counts));
	free(rep);
	/* the loader's "is ignored" warnings are in the report already; the others are kept */
	char *diag = to_string(migrate_print_diag, m);
	assert_null(strstr(diag, "is not used by lxcscale"));
	assert_null(strstr(diag, "as the reference ignores it"));
	assert_non_null(strstr(diag, "server.host=0.0.0.0"));
	free(diag);
	migrate_free(m);
}

/* The new file does not carry the ignored legacy values over: each is a comment above its
 * key, which keeps lxcscale's default, and the file loads back to the same configuration. */
static void test_legacy_values_commented_out(void **state)
{
	(void)state;
	struct migrate *m = migrate_new();
	assert_int_equal(migrate_load(m, data("lxc_autoscale_ml_v1.yaml"), NULL), 0);
	char *yaml = to_string(migrate_print_yaml, m);
	assert_non_null(strstr(yaml, "  # lxc_autoscale_ml_v1.yaml:26 had total_cores: 4; the reference ignores it, so it "
	                             "is not carried over.\n"
	                             "  # In lxcscale it would set the host budget to 4 cores for all containers together: "
	                             "to use it, change the line below to total_cores: 4\n"
	                             "  total_cores: 0\n"));
	assert_non_null(strstr(yaml, "  # In lxcscale it would make every memory change at least 50 MiB: to use it, change "
	                             "the line below to ram_chunk_size: 50\n  ram_chunk_size: 0\n"));
	/* a value that is lxcscale's default already: nothing to change */
	assert_non_null(strstr(yaml, "  # lxc_autoscale_ml_v1.yaml:57 had include_io_activity: true; the reference ignores "
	                             "it, so it is not carried over.\n"
	                             "  # In lxcscale it would keep (true) or leave out (false) the I/O features of the "
	                             "model; the line below says the same.\n"
	                             "  include_io_activity: true\n"));
	struct lxcscale_config *back = config_new();
	struct config_diag d = { 0 };
	assert_int_equal(config_load_string(back, "lxcscale.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(config_finalize(back, &d), 0);
	assert_int_equal(d.errors + d.warnings, 0);
	assert_int_equal(back->host.total_cores, 0);
	assert_int_equal(back->host.total_ram_mb, 0);
	assert_int_equal(config_diff(m->cfg, back, NULL, NULL), 0);
	/* uncommenting what the note says gives the old budget, in lxcscale's own file */
	char *edited = strdup(yaml);
	assert_non_null(edited);
	char *at = strstr(edited, "  total_cores: 0\n");
	assert_non_null(at);
	at[strlen("  total_cores: ")] = '4';
	config_defaults(back);
	config_diag_clear(&d);
	assert_int_equal(config_load_string(back, "/etc/lxcscale/lxcscale.yaml", edited, strlen(edited), &d), 0);
	free(edited);
	assert_int_equal(config_finalize(back, &d), 0);
	assert_int_equal(back->host.total_cores, 4);
	free(yaml);
	config_free(back);
	migrate_free(m);
}

/* A legacy key in a file that is not the reference's by name: lxcscaled honours it there,
 * so the migration does too, and says so. */
static void test_new_meaning_outside_reference_files(void **state)
{
	(void)state;
	char p[512];
	snprintf(p, sizeof(p), "%s/old-settings.yaml", tmpdir);
	write_text(p, "scaling:\n  total_cores: 6\n  ram_chunk_size: 64\n");
	struct migrate *m = migrate_new();
	assert_int_equal(migrate_load(m, p, NULL), 0);
	const struct migrate_item *it = migrate_find(m, "scaling.total_cores");
	assert_int_equal(it->fate, MIGRATE_NEW_MEANING);
	assert_false(it->ref_ignored);
	assert_int_equal(m->cfg->host.total_cores, 6);
	assert_int_equal(m->cfg->scaling.ram_chunk_size, 64);
	char *yaml = to_string(migrate_print_yaml, m);
	assert_null(strstr(yaml, "not carried over"));
	assert_non_null(strstr(yaml, "  total_cores: 6\n"));
	free(yaml);
	migrate_free(m);
}

static char *ref_data(const char *version, const char *name)
{
	static char path[8][1024];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, sizeof(path[0]), "%s/tests/data/reference/%s/%s", top(), version, name);
	return p;
}

/* A host's three real files of each release (tests/data/reference/): migrated without an
 * error, every key reported once, nothing invalid, and the output reads back the same. */
static void test_real_reference_files(void **state)
{
	(void)state;
	static const struct {
		const char *version;
		int keys[3];    /* keys written in ml, api, monitor, as PyYAML reads them */
		int ref_ignored;
	} sets[] = {
		{ "2024-09", { 35, 27, 12 }, 7 },
		{ "1.2.0", { 37, 31, 15 }, 7 },
		{ "latest", { 34, 30, 15 }, 0 },
	};
	for (size_t v = 0; v < sizeof(sets) / sizeof(sets[0]); v++) {
		const char *paths[3] = { ref_data(sets[v].version, "lxc_autoscale_ml.yaml"),
			                 ref_data(sets[v].version, "lxc_autoscale_api.yaml"),
			                 ref_data(sets[v].version, "lxc_monitor.yaml") };
		struct migrate *m = migrate_new();
		assert_int_equal(migrate_load_files(m, paths, 3), 0);
		assert_int_equal(m->diag.errors, 0);
		assert_int_equal(m->n_items, sets[v].keys[0] + sets[v].keys[1] + sets[v].keys[2]);
		int per_file[3] = { 0 }, ref_ignored = 0;
		for (int i = 0; i < m->n_items; i++) {
			const struct migrate_item *it = &m->items[i];
			assert_int_not_equal(it->fate, MIGRATE_INVALID);
			assert_int_not_equal(it->fate, MIGRATE_NEW_MEANING);
			for (int f = 0; f < 3; f++)
				per_file[f] += !strcmp(it->file, paths[f]);
			ref_ignored += it->ref_ignored;
		}
		for (int f = 0; f < 3; f++)
			assert_int_equal(per_file[f], sets[v].keys[f]);
		assert_int_equal(ref_ignored, sets[v].ref_ignored);
		/* the monitor's file: its metrics file and interval are lxcscale's data_file and
		 * metrics_interval_seconds, its log is its own */
		const struct migrate_item *it = migrate_find(m, "monitoring.export_file");
		assert_int_equal(it->fate, MIGRATE_SHADOWED); /* the ML file's data_file says the same and wins */
		it = migrate_find(m, "monitoring.check_interval");
		assert_int_equal(it->fate, MIGRATE_RENAMED);
		assert_string_equal(it->detail, "-> metrics_interval_seconds = 60");
		it = migrate_find(m, "logging.log_file");
		assert_true(it && !strcmp(it->file, paths[2]));
		assert_int_equal(it->fate, MIGRATE_IGNORED);
		assert_non_null(strstr(it->detail, "the reference monitor's own setting"));
		assert_string_equal(m->cfg->log_file, "/var/log/lxc_autoscale_ml.log");
		assert_int_equal(migrate_find(m, "monitoring.excluded_devices")->fate, MIGRATE_IGNORED);
		assert_int_equal(m->cfg->host.total_cores, 0);
		/* the loader's warnings are all in the report: what is left is not about keys */
		char *diag = to_string(migrate_print_diag, m);
		assert_null(strstr(diag, "is ignored"));
		free(diag);
		char *yaml = to_string(migrate_print_yaml, m);
		struct lxcscale_config *back = config_new();
		struct config_diag d = { 0 };
		assert_int_equal(config_load_string(back, "lxcscale.yaml", yaml, strlen(yaml), &d), 0);
		assert_int_equal(config_finalize(back, &d), 0);
		assert_int_equal(config_diff(m->cfg, back, NULL, NULL), 0);
		assert_int_equal(strstr(yaml, "not carried over") != NULL, sets[v].ref_ignored > 0);
		free(yaml);
		config_free(back);
		migrate_free(m);
	}
	/* the monitor's file alone, as FILE */
	struct migrate *m = migrate_new();
	assert_int_equal(migrate_load(m, ref_data("latest", "lxc_monitor.yaml"), NULL), 0);
	assert_int_equal(m->n_items, 15);
	assert_int_equal(migrate_find(m, "monitoring.export_file")->fate, MIGRATE_RENAMED);
	assert_string_equal(migrate_find(m, "monitoring.export_file")->detail, "-> data_file = \"/var/log/lxc_metrics.json\"");
	char *rep = to_string(migrate_print_report, m);
	assert_non_null(strstr(rep, "  ignored      monitoring.max_metrics_entries: lxcscaled keeps the newest 1000 cycles"));
	free(rep);
	/* and the bounds of migrate_load_files */
	assert_int_equal(migrate_load_files(m, NULL, 0), -1);
	assert_non_null(config_diag_find(&m->diag, "1 to 4 files"));
	migrate_free(m);
}

/* The written file, read back by the real loader, is the migrated configuration. */
static void test_output_reads_back(void **state)
{
	(void)state;
	const char *files[] = { "lxc_autoscale_ml.yaml", "lxc_autoscale_ml_v1.yaml" };
	for (int f = 0; f < 2; f++) {
		struct migrate *m = migrate_new();
		assert_int_equal(migrate_load(m, data(files[f]), NULL), 0);
		char *yaml = to_string(migrate_print_yaml, m);
		assert_non_null(strstr(yaml, "written by `lxcscale migrate-config`"));
		struct lxcscale_config *back = config_new();
		struct config_diag d = { 0 };
		assert_int_equal(config_load_string(back, "migrated.yaml", yaml, strlen(yaml), &d), 0);
		assert_int_equal(config_finalize(back, &d), 0);
		if (d.errors + d.warnings)
			config_diag_print(&d, stderr);
		assert_int_equal(d.errors + d.warnings, 0);
		assert_int_equal(config_diff(m->cfg, back, NULL, NULL), 0);
		/* and it is what lxcscaled would have run the old file with, but the lock file */
		struct lxcscale_config *direct = config_new();
		struct config_diag d2 = { 0 };
		assert_int_equal(config_load_file(direct, data(files[f]), &d2), 0);
		assert_int_equal(config_finalize(direct, &d2), 0);
		snprintf(direct->lock_file, sizeof(direct->lock_file), "%s", config_key("lock_file")->def);
		assert_int_equal(config_diff(direct, back, NULL, NULL), 0);
		free(yaml);
		config_free(back);
		config_free(direct);
		migrate_free(m);
	}
}

static void test_latest_file_alone(void **state)
{
	(void)state;
	struct migrate *m = migrate_new();
	assert_int_equal(migrate_load(m, data("lxc_autoscale_ml.yaml"), NULL), 0);
	assert_int_equal(m->n_items, count_written_keys(data("lxc_autoscale_ml.yaml")));
	assert_int_equal(migrate_find(m, "lock_file")->fate, MIGRATE_CHANGED);
	assert_int_equal(migrate_find(m, "scaling.min_confidence")->fate, MIGRATE_KEPT);
	assert_int_equal(migrate_find(m, "circuit_breaker.timeout_seconds")->fate, MIGRATE_KEPT);
	assert_int_equal(migrate_find(m, "api.max_concurrent")->fate, MIGRATE_IGNORED);
	/* the commented-out api_key is not a key */
	assert_null(migrate_find(m, "api.api_key"));
	/* ignore_lxc: [] is a key with an empty list, still reported */
	assert_int_equal(migrate_find(m, "ignore_lxc")->fate, MIGRATE_KEPT);
	char *diag = to_string(migrate_print_diag, m);
	assert_string_equal(diag, "");
	free(diag);
	migrate_free(m);
}

static void test_alias_renamed_and_tiers(void **state)
{
	(void)state;
	char ml[512];
	snprintf(ml, sizeof(ml), "%s/alias.yaml", tmpdir);
	write_text(ml, "logging:\n  level: WARNING\n  log_file: /var/log/lxcscale/old.log\n"
	               "api:\n"
	               "tiers:\n  db:\n    containers: [201]\n    max_cpu_cores: 2\n");
	struct migrate *m = migrate_new();
	assert_int_equal(migrate_load(m, ml, NULL), 0);
	const struct migrate_item *it = migrate_find(m, "logging.level");
	assert_int_equal(it->fate, MIGRATE_RENAMED);
	assert_string_equal(it->detail, "-> log_level = WARNING");
	assert_int_equal(m->cfg->log_level, CFG_LOG_WARNING);
	assert_int_equal(migrate_find(m, "logging.log_file")->fate, MIGRATE_RENAMED);
	assert_string_equal(m->cfg->log_file, "/var/log/lxcscale/old.log");
	/* an empty section is no key */
	assert_null(migrate_find(m, "api"));
	it = migrate_find(m, "tiers");
	assert_int_equal(it->fate, MIGRATE_KEPT);
	assert_string_equal(it->detail, "1 tier");
	assert_int_equal(m->n_items, 3);
	/* the default lock file is not "changed" */
	assert_null(migrate_find(m, "lock_file"));
	migrate_free(m);
}

static void test_errors_write_nothing(void **state)
{
	(void)state;
	char p[512];
	struct migrate *m = migrate_new();

	snprintf(p, sizeof(p), "%s/unknown.yaml", tmpdir);
	write_text(p, "scaling:\n  max_cpu_core: 4\n");
	assert_int_equal(migrate_load(m, p, NULL), -1);
	assert_int_equal(migrate_find(m, "scaling.max_cpu_core")->fate, MIGRATE_INVALID);
	assert_non_null(config_diag_find(&m->diag, "did you mean 'scaling.max_cpu_cores'"));

	snprintf(p, sizeof(p), "%s/range.yaml", tmpdir);
	write_text(p, "scaling:\n  min_cpu_cores: 8\n  max_cpu_cores: 4\n");
	assert_int_equal(migrate_load(m, p, NULL), -1);
	assert_true(m->diag.errors > 0);

	snprintf(p, sizeof(p), "%s/broken.yaml", tmpdir);
	write_text(p, "scaling: [unclosed\n");
	assert_int_equal(migrate_load(m, p, NULL), -1);
	assert_non_null(config_diag_find(&m->diag, "invalid YAML"));
	assert_int_equal(m->n_items, 0);

	snprintf(p, sizeof(p), "%s/does-not-exist.yaml", tmpdir);
	assert_int_equal(migrate_load(m, p, NULL), -1);
	assert_non_null(config_diag_find(&m->diag, "cannot open"));
	migrate_free(m);
}

static void test_secrets_survive_but_are_not_reported(void **state)
{
	(void)state;
	char api[512];
	snprintf(api, sizeof(api), "%s/secret_api.yaml", tmpdir);
	write_text(api, "server:\n  host: 127.0.0.1\nauthentication:\n  enabled: true\n  api_keys: [\"k-0123456789abcdef\"]\n");
	struct migrate *m = migrate_new();
	assert_int_equal(migrate_load(m, data("lxc_autoscale_ml.yaml"), api), 0);
	assert_true(m->has_secrets);
	char *rep = to_string(migrate_print_report, m);
	assert_null(strstr(rep, "k-0123456789abcdef"));
	assert_non_null(strstr(rep, "authentication.api_keys = [\"***\"]"));
	char *yaml = to_string(migrate_print_yaml, m);
	assert_non_null(strstr(yaml, "\"k-0123456789abcdef\""));
	assert_non_null(strstr(yaml, "keep it readable by root only"));
	free(rep);
	free(yaml);
	migrate_free(m);
}

/* Runs the CLI command with stdout/stderr sent to files in tmpdir. */
static int run_cli(const char *const *args)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"migrate-config";
	for (; *args && argc < 15; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	char out[512], err[512];
	snprintf(out, sizeof(out), "%s/cli.out", tmpdir);
	snprintf(err, sizeof(err), "%s/cli.err", tmpdir);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	int rc = cli_migrate_config(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	return rc;
}

static char *cli_file(const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return read_all(p);
}

static void test_cli_output_file(void **state)
{
	(void)state;
	char out[512], dir[300], ml[512], api[512];
	snprintf(out, sizeof(out), "%s/lxcscale.yaml", tmpdir);

	/* to stdout: YAML on stdout, the report on stderr; the API file beside it is read */
	snprintf(dir, sizeof(dir), "%s/etc", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(ml, sizeof(ml), "%s/lxc_autoscale_ml.yaml", dir);
	snprintf(api, sizeof(api), "%s/lxc_autoscale_api.yaml", dir);
	char *t = read_all(data("lxc_autoscale_ml.yaml"));
	write_text(ml, t);
	free(t);
	t = read_all(data("lxc_autoscale_api.yaml"));
	write_text(api, t);
	free(t);
	assert_int_equal(run_cli((const char *const[]){ ml, NULL }), 0);
	char *so = cli_file("cli.out"), *se = cli_file("cli.err");
	assert_non_null(strstr(so, "host: \"0.0.0.0\""));
	assert_non_null(strstr(se, "gunicorn.workers: lxcscaled serves the API itself"));
	assert_non_null(strstr(se, " + "));
	free(so);
	free(se);
	/* --no-api leaves it out */
	assert_int_equal(run_cli((const char *const[]){ ml, "--no-api", NULL }), 0);
	so = cli_file("cli.out");
	assert_non_null(strstr(so, "host: \"127.0.0.1\""));
	free(so);

	/* --output: written 0644, the report on stdout */
	assert_int_equal(run_cli((const char *const[]){ data("lxc_autoscale_ml.yaml"), "--output", out, NULL }), 0);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	so = cli_file("cli.out");
	assert_non_null(strstr(so, "wrote "));
	free(so);
	char *first = read_all(out);
	struct lxcscale_config *c = config_new();
	struct config_diag d = { 0 };
	assert_int_equal(config_load_file(c, out, &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	config_free(c);

	/* an existing file is kept without --force */
	assert_int_equal(run_cli((const char *const[]){ data("lxc_autoscale_ml_v1.yaml"), "--output", out, NULL }), 1);
	se = cli_file("cli.err");
	assert_non_null(strstr(se, "exists; add --force"));
	free(se);
	char *again = read_all(out);
	assert_string_equal(first, again);
	free(again);
	/* ... and replaced with it; secrets make it 0600 */
	char sapi[512];
	snprintf(sapi, sizeof(sapi), "%s/secret.yaml", tmpdir);
	write_text(sapi, "authentication:\n  api_keys: [\"k-secret-value-1\"]\n");
	assert_int_equal(run_cli((const char *const[]){ data("lxc_autoscale_ml_v1.yaml"), "--api-config", sapi,
	                                                "--output", out, "--force", NULL }),
	                 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	again = read_all(out);
	assert_string_not_equal(first, again);
	assert_non_null(strstr(again, "k-secret-value-1"));
	free(again);
	free(first);

	/* errors in the old file: nothing written, exit 1 */
	char bad[512];
	snprintf(bad, sizeof(bad), "%s/bad.yaml", tmpdir);
	write_text(bad, "interval_seconds: -5\n");
	char out2[512];
	snprintf(out2, sizeof(out2), "%s/never.yaml", tmpdir);
	assert_int_equal(run_cli((const char *const[]){ bad, "--output", out2, NULL }), 1);
	assert_int_not_equal(access(out2, F_OK), 0);
	se = cli_file("cli.err");
	assert_non_null(strstr(se, "nothing written"));
	free(se);

	/* an output directory that does not exist */
	snprintf(out2, sizeof(out2), "%s/no/such/dir/x.yaml", tmpdir);
	assert_int_equal(run_cli((const char *const[]){ data("lxc_autoscale_ml.yaml"), "--output", out2, NULL }), 1);
	/* no temporary files left behind in tmpdir */
	assert_int_equal(system("ls -A /tmp >/dev/null"), 0);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\.lxcscale'", tmpdir);
	assert_int_not_equal(system(cmd), 0);
}

static void test_cli_usage(void **state)
{
	(void)state;
	assert_int_equal(run_cli((const char *const[]){ "a.yaml", "b.yaml", NULL }), 2);
	assert_int_equal(run_cli((const char *const[]){ "--bogus", NULL }), 2);
	assert_int_equal(run_cli((const char *const[]){ "--output", NULL }), 2);
	assert_int_equal(run_cli((const char *const[]){ "--api-config", "x", "--no-api", NULL }), 2);
	assert_int_equal(run_cli((const char *const[]){ "--help", NULL }), 0);
	char *so = cli_file("cli.out");
	assert_non_null(strstr(so, "usage: lxcscale migrate-config"));
	free(so);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_with_api_file),
		cmocka_unit_test(test_legacy_values_commented_out),
		cmocka_unit_test(test_new_meaning_outside_reference_files),
		cmocka_unit_test(test_real_reference_files),
		cmocka_unit_test(test_output_reads_back),
		cmocka_unit_test(test_latest_file_alone),
		cmocka_unit_test(test_alias_renamed_and_tiers),
		cmocka_unit_test(test_errors_write_nothing),
		cmocka_unit_test(test_secrets_survive_but_are_not_reported),
		cmocka_unit_test(test_cli_output_file),
		cmocka_unit_test(test_cli_usage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

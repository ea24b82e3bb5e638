/*
 * test_config.c — the configuration schema, loader, rules and printers.
 *
 * Round trips go through the real printer and the real YAML loader; the reference
 * system's shipped files (tests/data/) are loaded unchanged; every validation rule has a
 * failing case that asserts the exact message, location included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static const char *top(void)
{
	const char *t = getenv("LXCSCALE_TOP");
	return t && *t ? t : ".";
}

static char *print_to_string(const struct lxcscale_config *c, unsigned flags)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print(c, f, flags);
	fclose(f);
	return buf;
}

static struct lxcscale_config *load_text(const char *yaml, struct config_diag *d)
{
	struct lxcscale_config *c = config_new();
	assert_non_null(c);
	config_diag_clear(d);
	config_load_string(c, "t.yaml", yaml, strlen(yaml), d);
	if (d->errors == 0)
		config_finalize(c, d);
	return c;
}

static void dump_diag(const struct config_diag *d)
{
	for (int i = 0; i < d->n; i++)
		print_message("  diag: %s\n", d->msg[i].text);
}

/* The text must be one of the messages, exactly. */
static void expect_msg(const struct config_diag *d, const char *exact)
{
	for (int i = 0; i < d->n; i++)
		if (strcmp(d->msg[i].text, exact) == 0)
			return;
	print_message("expected message: %s\n", exact);
	dump_diag(d);
	fail();
}

/* One YAML text gives exactly this error (and no other error). */
static void expect_error(const char *yaml, const char *exact)
{
	struct config_diag d;
	struct lxcscale_config *c = load_text(yaml, &d);
	expect_msg(&d, exact);
	if (d.errors != 1)
		dump_diag(&d);
	assert_int_equal(d.errors, 1);
	config_free(c);
}

/* ---- schema --------------------------------------------------------------------------- */

static void test_schema_fields_match_types(void **state)
{
	(void)state;
	int tierable = 0;
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		size_t want = 0;
		switch (k->type) {
		case CFG_BOOL: want = sizeof(bool); break;
		case CFG_INT: case CFG_ENUM: want = sizeof(int); break;
		case CFG_DOUBLE: want = sizeof(double); break;
		case CFG_STRING: want = CFG_STR_MAX; break;
		case CFG_STRLIST: want = sizeof(struct cfg_strlist); break;
		case CFG_VMLIST: want = sizeof(struct cfg_vmlist); break;
		case CFG_TIERS: want = sizeof(((struct lxcscale_config *)0)->tiers); break;
		case CFG_IGNORED: want = 0; break;
		}
		if (k->size != want)
			print_message("key %s: field size %zu, type wants %zu\n", k->key, k->size, want);
		assert_int_equal(k->size, want);
		assert_true(k->desc && k->desc[0]);
		if (k->flags & CFG_F_TIER) {
			tierable++;
			assert_true(k->offset >= offsetof(struct lxcscale_config, scaling));
			assert_true(k->offset + k->size <=
			            offsetof(struct lxcscale_config, scaling) + sizeof(struct cfg_scaling));
		}
		if (k->alias)
			assert_non_null(config_key(k->alias));
		/* names are unique */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(config_schema[j].key, k->key);
	}
	assert_true(tierable <= CFG_TIER_KEYS_MAX);
	assert_true(config_schema_len <= CFG_KEYS_MAX);
}

static void test_defaults_parse_and_validate(void **state)
{
	(void)state;
	struct lxcscale_config *c = config_new();
	struct config_diag d = { 0 };
	/* every scalar default goes through the same parser as a file value */
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (k->type > CFG_ENUM || k->alias)
			continue;
		if (config_set(c, k->key, k->def, "--test", &d) != 0)
			dump_diag(&d);
		assert_int_equal(d.errors, 0);
	}
	assert_int_equal(config_finalize(c, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	/* spot checks of the documented defaults */
	assert_string_equal(c->lock_file, "/run/lxcscale.lock");
	assert_string_equal(c->server.host, "127.0.0.1");
	assert_int_equal(c->server.port, 5000);
	assert_int_equal(c->sample_interval_ms, 100);
	assert_int_equal(c->psi.window_ms, 500);
	assert_int_equal(c->scaling.memory_headroom_mb, 64);
	assert_string_equal(c->bpf.pin_path, "/sys/fs/bpf/lxcscale");
	assert_string_equal(c->suggestions_file, "/var/log/lxcscale/suggestions.jsonl");
	assert_string_equal(c->journal_file, "/var/lib/lxcscale/journal");
	assert_true(c->proxmox_api.verify_tls);
	assert_int_equal(c->persist.backend, CFG_PERSIST_PCT);
	assert_int_equal(c->log_level, CFG_LOG_INFO);
	config_free(c);
}

/* ---- round trips ------------------------------------------------------------------------ */

static void roundtrip(const struct lxcscale_config *c, const char *what)
{
	char *text = print_to_string(c, CONFIG_PRINT_SECRETS);
	struct lxcscale_config *back = config_new();
	struct config_diag d = { 0 };
	config_load_string(back, "printed.yaml", text, strlen(text), &d);
	if (d.errors) {
		print_message("%s: printed config does not load:\n%s\n", what, text);
		dump_diag(&d);
	}
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	int diffs = config_diff(c, back, NULL, NULL);
	if (diffs)
		print_message("%s: %d differences after print -> load\n", what, diffs);
	assert_int_equal(diffs, 0);
	/* and the printed text is a fixed point */
	char *again = print_to_string(back, CONFIG_PRINT_SECRETS);
	/* the "# loaded from" header differs; compare from the first key on */
	assert_string_equal(strstr(text, "\nlog_file:"), strstr(again, "\nlog_file:"));
	free(again);
	free(text);
	config_free(back);
}

static void test_roundtrip_defaults(void **state)
{
	(void)state;
	struct lxcscale_config *c = config_new();
	roundtrip(c, "defaults");
	config_free(c);
}

/* Set key k to a valid value different from its default. */
static void set_alternative(struct lxcscale_config *c, const struct cfg_key *k)
{
	void *p = (char *)c + k->offset;
	switch (k->type) {
	case CFG_BOOL: *(bool *)p = !*(bool *)p; break;
	case CFG_INT: *(int *)p = *(int *)p == (int)k->max ? (int)k->max - 1 : (int)k->max; break;
	case CFG_DOUBLE: {
		double v = (k->min + k->max) / 2 + 0.125;
		*(double *)p = v == *(double *)p ? k->max : v;
		break;
	}
	case CFG_ENUM: *(int *)p = *(int *)p == 0 ? 1 : 0; break;
	case CFG_STRING:
		if (k->flags & CFG_F_PATH)
			snprintf(p, CFG_STR_MAX, "/tmp/alt \"quoted\" \\ path: #x");
		else if (k->flags & CFG_F_URL)
			snprintf(p, CFG_STR_MAX, "https://example.invalid/x?a=\"1\"&b='2'");
		else if (k->flags & CFG_F_REGEX)
			snprintf(p, CFG_STR_MAX, "^(ct|vm)-[0-9]+$");
		else
			snprintf(p, CFG_STR_MAX, "alt: \"value\" \\ with # and 'quotes' ü");
		break;
	case CFG_STRLIST: {
		struct cfg_strlist *l = p;
		l->n = 3;
		snprintf(l->v[0], CFG_LIST_STR_MAX, "alpha");
		snprintf(l->v[1], CFG_LIST_STR_MAX, "beta \"two\"");
		snprintf(l->v[2], CFG_LIST_STR_MAX, "- gamma: [x]");
		break;
	}
	case CFG_VMLIST: {
		struct cfg_vmlist *l = p;
		l->n = 3;
		l->v[0] = 100;
		l->v[1] = 4242;
		l->v[2] = CFG_VMID_LIMIT;
		break;
	}
	default: break;
	}
}

static void test_roundtrip_every_key(void **state)
{
	(void)state;
	struct lxcscale_config *def = config_new();
	int checked = 0;
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (k->type == CFG_IGNORED || k->type == CFG_TIERS || k->alias)
			continue;
		struct lxcscale_config *c = config_new();
		set_alternative(c, k);
		/* the alternative really is different, so the round trip proves something */
		char a[4096], b[4096];
		config_format_value(c, k, a, sizeof(a), CONFIG_PRINT_SECRETS);
		config_format_value(def, k, b, sizeof(b), CONFIG_PRINT_SECRETS);
		if (!strcmp(a, b))
			print_message("key %s: alternative equals default %s\n", k->key, a);
		assert_string_not_equal(a, b);
		roundtrip(c, k->key);
		config_free(c);
		checked++;
	}
	print_message("%d keys round-tripped one by one\n", checked);
	assert_true(checked >= 90);
	config_free(def);
}

static void test_roundtrip_all_keys_at_once_and_tiers(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_text("tiers:\n"
	                                      "  web:\n"
	                                      "    containers: [102, \"101\"]\n"
	                                      "    max_cpu_cores: 8\n"
	                                      "    cpu_scale_up_threshold: 60.5\n"
	                                      "    dry_run: true\n"
	                                      "  db-1:\n"
	                                      "    containers: [300]\n"
	                                      "    min_ram_mb: 2048\n",
	                                      &d);
	dump_diag(&d);
	assert_int_equal(d.errors, 0);
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (k->type != CFG_IGNORED && k->type != CFG_TIERS && !k->alias && !(k->flags & CFG_F_TIER))
			set_alternative(c, k);
	}
	roundtrip(c, "all keys + tiers");
	assert_int_equal(c->n_tiers, 2);
	assert_string_equal(c->tiers[0].name, "web");
	assert_int_equal(c->tiers[0].containers.n, 2);
	assert_int_equal(c->tiers[0].containers.v[0], 101);
	assert_int_equal(c->tiers[0].containers.v[1], 102);
	/* tier lookup: overrides on top of the global values */
	const struct cfg_scaling *s = config_scaling_for(c, 101);
	assert_int_equal(s->max_cpu_cores, 8);
	assert_true(s->dry_run);
	assert_true(s->cpu_scale_up_threshold == 60.5);
	assert_int_equal(s->min_cpu_cores, c->scaling.min_cpu_cores);
	assert_int_equal(config_scaling_for(c, 300)->min_ram_mb, 2048);
	assert_ptr_equal(config_scaling_for(c, 999), &c->scaling);
	config_free(c);
}

/* ---- the reference system's files ------------------------------------------------------ */

static struct lxcscale_config *load_data_path(const char *path, struct config_diag *d)
{
	struct lxcscale_config *c = config_new();
	config_diag_clear(d);
	assert_int_equal(config_load_file(c, path, d), 0);
	assert_int_equal(config_finalize(c, d), 0);
	return c;
}

static struct lxcscale_config *load_data(const char *name, struct config_diag *d)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/%s", top(), name);
	return load_data_path(path, d);
}

static void expect_warning_for(const struct config_diag *d, const char *key)
{
	char needle[256];
	snprintf(needle, sizeof(needle), "warning: %s is not used by lxcscale and is ignored: ", key);
	if (!config_diag_find(d, needle)) {
		print_message("no ignored-key warning for %s\n", key);
		dump_diag(d);
		fail();
	}
}

static void test_reference_ml_file_latest(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_data("lxc_autoscale_ml.yaml", &d);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c->log_file, "/var/log/lxc_autoscale_ml.log");
	assert_int_equal(c->log_level, CFG_LOG_DEBUG);
	assert_string_equal(c->lock_file, "/run/lxc_autoscale_ml.lock");
	assert_string_equal(c->data_file, "/var/log/lxc_metrics.json");
	assert_int_equal(c->interval_seconds, 600);
	assert_true(c->model.contamination == 0.05);
	assert_int_equal(c->model.n_estimators, 100);
	assert_int_equal(c->model.max_samples, 64);
	assert_int_equal(c->model.random_state, 42);
	assert_true(c->spike_detection.spike_threshold == 2);
	assert_int_equal(c->spike_detection.rolling_window, 5);
	assert_int_equal(c->scaling.max_cpu_cores, 4);
	assert_int_equal(c->scaling.max_ram_mb, 8192);
	assert_int_equal(c->scaling.min_cpu_cores, 2);
	assert_int_equal(c->scaling.min_ram_mb, 1024);
	assert_int_equal(c->scaling.cpu_scale_step, 1);
	assert_int_equal(c->scaling.ram_scale_step_mb, 512);
	assert_true(c->scaling.cpu_scale_up_threshold == 75 && c->scaling.cpu_scale_down_threshold == 30);
	assert_true(c->scaling.ram_scale_up_threshold == 75 && c->scaling.ram_scale_down_threshold == 30);
	assert_true(c->scaling.min_confidence == 0);
	assert_false(c->scaling.dry_run);
	assert_true(c->circuit_breaker.enabled);
	assert_int_equal(c->circuit_breaker.failure_threshold, 3);
	assert_int_equal(c->circuit_breaker.timeout_seconds, 1800);
	assert_int_equal(c->ignore_lxc.n, 0);
	/* the model's HTTP client keys: one warning each, nothing else */
	const char *ignored[] = { "api.api_url", "api.cores_endpoint", "api.ram_endpoint", "api.timeout_seconds",
	                          "api.max_concurrent", "retry_logic.max_retries", "retry_logic.retry_delay" };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		expect_warning_for(&d, ignored[i]);
	assert_int_equal(d.warnings, 7);
	char want[1200];
	snprintf(want, sizeof(want),
	         "%s/tests/data/lxc_autoscale_ml.yaml:33:3: warning: api.api_url is not used by lxcscale and is ignored: "
	         "lxcscaled changes limits itself instead of calling an HTTP API", top());
	expect_msg(&d, want);
	config_free(c);
}

/* The v1.0 file's legacy keys (total_cores, ...): the reference's newest code reads none of
 * them, so in a reference file they are ignored too, each with a warning that says what it
 * would do and where to set it. (Before issue 22 they were honoured here: a kept old file
 * capped all containers together at 4 cores and 16 GiB.) */
static void test_reference_ml_file_v1_legacy_keys(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_data("lxc_autoscale_ml_v1.yaml", &d);
	assert_int_equal(c->meta.kind[0], CFG_FILE_REF_ML);
	/* ignored legacy keys: lxcscale's defaults stay */
	assert_int_equal(c->host.total_cores, 0);
	assert_int_equal(c->host.total_ram_mb, 0);
	assert_true(c->scaling.target_cpu_load_percent == 0);
	assert_int_equal(c->scaling.ram_chunk_size, 0);
	assert_int_equal(c->scaling.ram_upper_limit, 0);
	assert_true(c->feature_engineering.include_io_activity);
	assert_true(c->feature_engineering.include_network_activity);
	char want[1200];
	snprintf(want, sizeof(want),
	         "%s/tests/data/lxc_autoscale_ml_v1.yaml:26:3: warning: scaling.total_cores=4 is ignored, as the reference "
	         "ignores it: in lxcscale it would set the host budget to 4 cores for all containers together; to use it, "
	         "set scaling.total_cores in lxcscale.yaml", top());
	expect_msg(&d, want);
	snprintf(want, sizeof(want),
	         "%s/tests/data/lxc_autoscale_ml_v1.yaml:27:3: warning: scaling.total_ram_mb=16384 is ignored, as the "
	         "reference ignores it: in lxcscale it would set the host budget to 16384 MiB of memory for all containers "
	         "together; to use it, set scaling.total_ram_mb in lxcscale.yaml", top());
	expect_msg(&d, want);
	assert_non_null(config_diag_find(&d, "scaling.target_cpu_load_percent=50 is ignored, as the reference ignores it: "
	                                     "in lxcscale it would size every CPU scale-up to bring usage to 50 %"));
	assert_non_null(config_diag_find(&d, "scaling.ram_chunk_size=50 is ignored, as the reference ignores it: in "
	                                     "lxcscale it would make every memory change at least 50 MiB; to use it, set "
	                                     "scaling.ram_chunk_size in lxcscale.yaml"));
	assert_non_null(config_diag_find(&d, "scaling.ram_upper_limit=1024 is ignored, as the reference ignores it: in "
	                                     "lxcscale it would make every memory change at most 1024 MiB"));
	assert_non_null(config_diag_find(&d, "feature_engineering.include_io_activity=true is ignored, as the reference "
	                                     "ignores it: in lxcscale it would keep (true) or leave out (false) the I/O "
	                                     "features of the model; to use it, set feature_engineering.include_io_activity "
	                                     "in lxcscale.yaml; that is lxcscale's default, so ignoring it changes nothing"));
	assert_non_null(config_diag_find(&d, "feature_engineering.include_network_activity=true is ignored"));
	/* ... and no budget rule fires on a budget that is not there */
	assert_null(config_diag_find(&d, "reserve_cpu_cores"));
	/* v1.0 shipped ids as strings; they are vmids here */
	assert_int_equal(c->ignore_lxc.n, 2);
	assert_true(config_ignored(c, 101));
	assert_true(config_ignored(c, 102));
	assert_false(config_ignored(c, 103));
	assert_int_equal(c->interval_seconds, 60);
	assert_string_equal(c->lock_file, "/tmp/lxc_autoscale_ml.lock");
	/* legacy keys with no meaning: one warning each */
	expect_warning_for(&d, "prediction.use_latest_only");
	expect_warning_for(&d, "prediction.include_rolling_features");
	expect_warning_for(&d, "api.api_url");
	expect_warning_for(&d, "retry_logic.retry_delay");
	assert_int_equal(d.warnings, 7 + 7);
	assert_int_equal(d.errors, 0);
	config_free(c);
}

/* The same keys in lxcscale's own file keep working as before. */
static void test_legacy_keys_honoured_in_own_file(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/lxc_autoscale_ml_v1.yaml", top());
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	char text[8192];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *names[] = { "lxcscale.yaml", "/etc/lxcscale/lxcscale.yaml", "old-autoscale.yaml", "t.yaml" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct lxcscale_config *c = config_new();
		struct config_diag d = { 0 };
		assert_int_equal(config_load_string(c, names[i], text, n, &d), 0);
		assert_int_equal(config_finalize(c, &d), 0);
		assert_int_equal(c->meta.kind[0], CFG_FILE_OWN);
		assert_int_equal(c->host.total_cores, 4);
		assert_int_equal(c->host.total_ram_mb, 16384);
		assert_true(c->scaling.target_cpu_load_percent == 50);
		assert_int_equal(c->scaling.ram_chunk_size, 50);
		assert_int_equal(c->scaling.ram_upper_limit, 1024);
		assert_null(config_diag_find(&d, "as the reference ignores it"));
		assert_int_equal(d.warnings, 7);
		config_free(c);
	}
	/* a tier in a reference file is lxcscale's own: its legacy keys apply */
	struct config_diag d;
	struct lxcscale_config *c = config_new();
	config_diag_clear(&d);
	const char *yaml = "tiers:\n  web:\n    containers: [101]\n    ram_chunk_size: 64\n";
	assert_int_equal(config_load_string(c, "lxc_autoscale_ml.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	assert_int_equal(config_scaling_for(c, 101)->ram_chunk_size, 64);
	config_free(c);
}

static void test_file_kind_by_name(void **state)
{
	(void)state;
	assert_int_equal(config_file_kind(CONFIG_REFERENCE_PATH), CFG_FILE_REF_ML);
	assert_int_equal(config_file_kind(CONFIG_REFERENCE_API_PATH), CFG_FILE_REF_API);
	assert_int_equal(config_file_kind(CONFIG_REFERENCE_MONITOR_PATH), CFG_FILE_REF_MONITOR);
	assert_int_equal(config_file_kind("lxc_autoscale_ml.yaml.new"), CFG_FILE_REF_ML); /* the installer's upgrade copy */
	assert_int_equal(config_file_kind("/root/lxc_autoscale_ml_v1.yaml"), CFG_FILE_REF_ML);
	assert_int_equal(config_file_kind("lxc_monitor-2024.yml"), CFG_FILE_REF_MONITOR);
	assert_int_equal(config_file_kind(CONFIG_DEFAULT_PATH), CFG_FILE_OWN);
	assert_int_equal(config_file_kind("/etc/lxc_autoscale_ml/other.yaml"), CFG_FILE_OWN); /* the name decides */
	assert_int_equal(config_file_kind("lxc_autoscale_mlx.yaml"), CFG_FILE_OWN);
	assert_int_equal(config_file_kind("lxc_monitor"), CFG_FILE_OWN);
	assert_int_equal(config_file_kind("/lxc_monitor.yaml/x.yaml"), CFG_FILE_OWN); /* a directory's name is not it */
	assert_int_equal(config_file_kind(""), CFG_FILE_OWN);
	assert_int_equal(config_file_kind(NULL), CFG_FILE_OWN);
	assert_non_null(strstr(config_file_kind_name(CFG_FILE_REF_MONITOR), "lxc_monitor.yaml"));
}

/* Every legacy key says what it would do; the texts fill in the value as written. */
static void test_legacy_key_texts(void **state)
{
	(void)state;
	char why[CFG_DIAG_LEN];
	int legacy = 0;
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct cfg_key *k = &config_schema[i];
		if (!(k->flags & CFG_F_LEGACY)) {
			assert_null(k->ref_effect);
			continue;
		}
		legacy++;
		assert_non_null(k->ref_effect);
		assert_int_equal(config_key_use(k, CFG_FILE_OWN, "1", why, sizeof(why)), CFG_USE_YES);
		assert_int_equal(config_key_use(k, CFG_FILE_REF_API, "1", why, sizeof(why)), CFG_USE_REF_IGNORES);
		char tail[200];
		snprintf(tail, sizeof(tail), "; to use it, set %s in lxcscale.yaml", k->key);
		assert_non_null(strstr(why, tail));
		assert_int_equal(strncmp(why, "in lxcscale it would ", 21), 0);
	}
	assert_int_equal(legacy, 7);
	const struct cfg_key *k = config_key("scaling.total_cores");
	/* the default: ignoring it changes nothing, and it says so */
	config_key_use(k, CFG_FILE_REF_ML, "0", why, sizeof(why));
	assert_non_null(strstr(why, "that is lxcscale's default, so ignoring it changes nothing"));
	/* a value lxcscale would refuse is only a warning here (the reference ignores it) */
	config_key_use(k, CFG_FILE_REF_ML, "lots", why, sizeof(why));
	assert_non_null(strstr(why, "host budget to lots cores"));
	assert_non_null(strstr(why, "(in lxcscale.yaml scaling.total_cores=lots would be refused: it must be an integer)"));
	config_key_use(k, CFG_FILE_REF_ML, NULL, why, sizeof(why));
	assert_non_null(strstr(why, "host budget to its value cores"));
	/* a tiny buffer is cut, never overrun */
	char small[16];
	config_key_use(k, CFG_FILE_REF_ML, "4", small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	char eff[8];
	config_ref_effect(k, "123456789", eff, sizeof(eff));
	assert_string_equal(eff, "set the");
	/* other uses */
	assert_int_equal(config_key_use(config_key("api.api_url"), CFG_FILE_OWN, NULL, why, sizeof(why)), CFG_USE_UNUSED);
	assert_string_equal(why, config_key("api.api_url")->desc);
	assert_int_equal(config_key_use(config_key("logging.log_file"), CFG_FILE_REF_MONITOR, "/x", why, sizeof(why)),
	                 CFG_USE_MONITOR_OWN);
	assert_int_equal(config_key_use(config_key("logging.log_file"), CFG_FILE_REF_API, "/x", why, sizeof(why)),
	                 CFG_USE_YES);
	assert_int_equal(config_key_use(config_key("scaling.max_cpu_cores"), CFG_FILE_REF_ML, "4", why, sizeof(why)),
	                 CFG_USE_YES);
}

/* Legacy keys in a reference file, value by value: never an error, always a located warning. */
static void test_legacy_keys_in_reference_file_never_refused(void **state)
{
	(void)state;
	const char *yaml = "scaling:\n  total_cores: lots\n  ram_chunk_size: [1, 2]\n  total_ram_mb: \"16384\"\n"
	                   "  target_cpu_load_percent: 50\n  reserve_cpu_cores: 4\n";
	struct lxcscale_config *c = config_new();
	struct config_diag d = { 0 };
	assert_int_equal(config_load_string(c, "/etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 4);
	expect_msg(&d, "/etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml:2:3: warning: scaling.total_cores=lots is ignored, as "
	               "the reference ignores it: in lxcscale it would set the host budget to lots cores for all containers "
	               "together; to use it, set scaling.total_cores in lxcscale.yaml (in lxcscale.yaml "
	               "scaling.total_cores=lots would be refused: it must be an integer)");
	expect_msg(&d, "/etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml:3:3: warning: scaling.ram_chunk_size is ignored, as the "
	               "reference ignores it: in lxcscale it would make every memory change at least its value MiB; to use "
	               "it, set scaling.ram_chunk_size in lxcscale.yaml");
	assert_non_null(config_diag_find(&d, "lxc_autoscale_ml.yaml:4:3: warning: scaling.total_ram_mb=\"16384\" is ignored"));
	/* lxcscale's own key beside them works */
	assert_int_equal(c->host.reserve_cpu_cores, 4);
	assert_int_equal(c->host.total_cores, 0);
	config_free(c);
	/* in lxcscale's own file the same text is refused */
	c = load_text(yaml, &d);
	assert_true(d.errors >= 2);
	expect_msg(&d, "t.yaml:2:16: error: scaling.total_cores=lots must be an integer");
	config_free(c);
}

static char *ref_data(const char *version, const char *name)
{
	static char path[4][1024];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/tests/data/reference/%s/%s", top(), version, name);
	return p;
}

/* The real files the reference installed (tests/data/reference/README.md says from which
 * revision): each loads without an error, with the warnings it should give. */
static void test_real_reference_files_load(void **state)
{
	(void)state;
	static const struct {
		const char *version, *name;
		int warnings;   /* all of them */
		int legacy;     /* of which "ignored, as the reference ignores it" */
	} files[] = {
		/* 2024: 5 legacy scaling keys + 2 feature_engineering; api (3), retry_logic (2), prediction (2) */
		{ "2024-09", "lxc_autoscale_ml.yaml", 14, 7 },
		/* lxc (3), logging (4), notification_recipients, gunicorn (9) */
		{ "2024-09", "lxc_autoscale_api.yaml", 17, 0 },
		/* logging (4), monitoring but export_file and check_interval (6) */
		{ "2024-09", "lxc_monitor.yaml", 10, 0 },
		{ "1.2.0", "lxc_autoscale_ml.yaml", 14, 7 },
		{ "1.2.0", "lxc_autoscale_api.yaml", 17, 0 },
		/* + retry_limit, retry_delay, max_metrics_entries */
		{ "1.2.0", "lxc_monitor.yaml", 13, 0 },
		/* the legacy keys are gone: api (5), retry_logic (2) */
		{ "latest", "lxc_autoscale_ml.yaml", 7, 0 },
		/* default_storage, log_format, notification_recipients, gunicorn (11), 0.0.0.0 without auth */
		{ "latest", "lxc_autoscale_api.yaml", 15, 0 },
		{ "latest", "lxc_monitor.yaml", 13, 0 },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct config_diag d;
		struct lxcscale_config *c = load_data_path(ref_data(files[i].version, files[i].name), &d);
		int legacy = 0;
		for (int m = 0; m < d.n; m++) {
			/* every message names the file, line and column, and the key */
			char prefix[1100];
			snprintf(prefix, sizeof(prefix), "%s:", ref_data(files[i].version, files[i].name));
			assert_int_equal(strncmp(d.msg[m].text, prefix, strlen(prefix)), 0);
			assert_non_null(strstr(d.msg[m].text, ": warning: "));
			legacy += strstr(d.msg[m].text, " is ignored, as the reference ignores it: ") != NULL;
		}
		if (d.warnings != files[i].warnings || legacy != files[i].legacy) {
			print_message("%s/%s: %d warnings (%d legacy)\n", files[i].version, files[i].name, d.warnings, legacy);
			dump_diag(&d);
		}
		assert_int_equal(d.errors, 0);
		assert_int_equal(d.warnings, files[i].warnings);
		assert_int_equal(legacy, files[i].legacy);
		/* nobody's budget is 4 cores / 16 GiB */
		assert_int_equal(c->host.total_cores, 0);
		assert_int_equal(c->host.total_ram_mb, 0);
		assert_int_equal(c->scaling.ram_chunk_size, 0);
		assert_int_equal(c->scaling.ram_upper_limit, 0);
		assert_true(c->scaling.target_cpu_load_percent == 0);
		config_free(c);
	}
	/* the values that matter, version by version */
	struct config_diag d;
	struct lxcscale_config *c = load_data_path(ref_data("2024-09", "lxc_autoscale_ml.yaml"), &d);
	assert_int_equal(c->ignore_lxc.n, 2); /* issue #4's ["101", "102"] */
	assert_string_equal(c->lock_file, "/tmp/lxc_autoscale_ml.lock");
	assert_int_equal(c->interval_seconds, 600);
	config_free(c);
	c = load_data_path(ref_data("1.2.0", "lxc_autoscale_ml.yaml"), &d);
	assert_int_equal(c->ignore_lxc.n, 0); /* "ignore_lxc:" then "[]" on its own line */
	assert_int_equal(c->scaling.cpu_scale_step, 1);
	assert_int_equal(c->scaling.ram_scale_step_mb, 512);
	config_free(c);
	c = load_data_path(ref_data("latest", "lxc_autoscale_ml.yaml"), &d);
	assert_int_equal(c->circuit_breaker.timeout_seconds, 1800);
	assert_string_equal(c->lock_file, "/run/lxc_autoscale_ml.lock");
	config_free(c);
	c = load_data_path(ref_data("latest", "lxc_autoscale_api.yaml"), &d);
	assert_string_equal(c->server.host, "0.0.0.0");
	assert_int_equal(c->lxc.timeout_seconds, 10);
	config_free(c);
}

/* lxc_monitor.yaml: its interval and its file are the metrics file's; its log is its own. */
static void test_monitor_file(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_data_path(ref_data("latest", "lxc_monitor.yaml"), &d);
	assert_int_equal(c->meta.kind[0], CFG_FILE_REF_MONITOR);
	assert_string_equal(c->data_file, "/var/log/lxc_metrics.json");
	assert_int_equal(c->metrics_interval_seconds, 60);
	assert_string_equal(c->log_file, ""); /* the monitor's /var/log/lxc_monitor.log is not lxcscaled's */
	assert_int_equal(c->log_level, CFG_LOG_INFO);
	char want[1400];
	snprintf(want, sizeof(want),
	         "%s:3:3: warning: logging.log_file is not used by lxcscale and is ignored: in lxc_monitor.yaml it is the "
	         "reference monitor's own setting, not lxcscaled's (lxcscaled's is log_file in lxcscale.yaml)",
	         ref_data("latest", "lxc_monitor.yaml"));
	expect_msg(&d, want);
	snprintf(want, sizeof(want),
	         "%s:46:3: warning: monitoring.max_metrics_entries is not used by lxcscale and is ignored: lxcscaled keeps "
	         "the newest 1000 cycles in data_file (up to 1125 between trims)",
	         ref_data("latest", "lxc_monitor.yaml"));
	expect_msg(&d, want);
	static const char *const ignored[] = { "logging.log_max_bytes", "logging.log_backup_count", "logging.log_level",
	                                       "monitoring.enable_swap", "monitoring.enable_network",
	                                       "monitoring.enable_filesystem", "monitoring.parallel_processing",
	                                       "monitoring.max_workers", "monitoring.excluded_devices",
	                                       "monitoring.retry_limit", "monitoring.retry_delay" };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		expect_warning_for(&d, ignored[i]);
	config_free(c);

	/* values that differ from lxcscale's defaults show the aliases at work */
	const char *mon = "logging:\n  log_file: /var/log/lxc_monitor.log\n  log_level: DEBUG\n"
	                  "monitoring:\n  export_file: /var/log/lxc_metrics_other.json\n  check_interval: 30\n"
	                  "  command_timeout: 30\n";
	c = config_new();
	config_diag_clear(&d);
	assert_int_equal(config_load_string(c, "lxc_monitor.yaml", mon, strlen(mon), &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	assert_string_equal(c->data_file, "/var/log/lxc_metrics_other.json");
	assert_int_equal(c->metrics_interval_seconds, 30);
	assert_string_equal(c->log_file, "");
	assert_int_equal(c->log_level, CFG_LOG_INFO);
	expect_warning_for(&d, "monitoring.command_timeout");
	assert_int_equal(d.warnings, 3);
	config_free(c);
	/* in lxcscale's own file the monitor's keys mean the same, but logging.log_file is log_file */
	c = load_text(mon, &d);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c->log_file, "/var/log/lxc_monitor.log");
	assert_int_equal(c->metrics_interval_seconds, 30);
	config_free(c);
	/* check_interval keeps metrics_interval_seconds' range */
	c = config_new();
	config_diag_clear(&d);
	const char *bad = "monitoring:\n  check_interval: -1\n";
	assert_int_equal(config_load_string(c, "lxc_monitor.yaml", bad, strlen(bad), &d), -1);
	expect_msg(&d, "lxc_monitor.yaml:2:19: error: monitoring.check_interval=-1 is out of range 0..86400");
	config_free(c);
}

/* A host's three reference files together: no errors; an alias that says what its key says
 * is quiet, one that contradicts it is a warning naming both places. */
static void test_three_reference_files_together(void **state)
{
	(void)state;
	static const char *const versions[] = { "2024-09", "1.2.0", "latest" };
	for (size_t v = 0; v < 3; v++) {
		struct lxcscale_config *c = config_new();
		struct config_diag d = { 0 };
		assert_int_equal(config_load_file(c, ref_data(versions[v], "lxc_autoscale_ml.yaml"), &d), 0);
		assert_int_equal(config_load_file(c, ref_data(versions[v], "lxc_autoscale_api.yaml"), &d), 0);
		assert_int_equal(config_load_file(c, ref_data(versions[v], "lxc_monitor.yaml"), &d), 0);
		assert_int_equal(config_finalize(c, &d), 0);
		assert_int_equal(d.errors, 0);
		assert_int_equal(c->meta.n_files, 3);
		assert_int_equal(c->meta.kind[0], CFG_FILE_REF_ML);
		assert_int_equal(c->meta.kind[1], CFG_FILE_REF_API);
		assert_int_equal(c->meta.kind[2], CFG_FILE_REF_MONITOR);
		assert_null(config_diag_find(&d, "monitoring.export_file is ignored"));
		assert_string_equal(c->log_file, "/var/log/lxc_autoscale_ml.log");
		assert_int_equal(c->log_level, CFG_LOG_DEBUG);
		assert_int_equal(c->metrics_interval_seconds, 60);
		assert_int_equal(c->host.total_cores, 0);
		config_free(c);
	}
	struct lxcscale_config *c = config_new();
	struct config_diag d = { 0 };
	const char *ml = "data_file: /var/log/a.json\n", *mon = "monitoring:\n  export_file: /var/log/b.json\n";
	assert_int_equal(config_load_string(c, "lxc_autoscale_ml.yaml", ml, strlen(ml), &d), 0);
	assert_int_equal(config_load_string(c, "lxc_monitor.yaml", mon, strlen(mon), &d), 0);
	expect_msg(&d, "lxc_monitor.yaml:2:3: warning: monitoring.export_file is ignored: data_file is set at "
	               "lxc_autoscale_ml.yaml:1:12");
	assert_string_equal(c->data_file, "/var/log/a.json");
	config_free(c);
}

static void test_reference_api_file(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_data("lxc_autoscale_api.yaml", &d);
	assert_string_equal(c->server.host, "0.0.0.0");
	assert_int_equal(c->server.port, 5000);
	assert_string_equal(c->lxc.node, "proxmox");
	assert_int_equal(c->lxc.timeout_seconds, 10);
	assert_true(c->rate_limiting.enabled);
	assert_int_equal(c->rate_limiting.max_requests_per_minute, 120);
	assert_int_equal(c->rate_limiting.time_window_seconds, 60);
	assert_false(c->authentication.enabled);
	assert_int_equal(c->authentication.api_keys.n, 0);
	assert_int_equal(c->log_level, CFG_LOG_INFO); /* logging.level, an alias */
	assert_true(c->logging.rotate);
	assert_int_equal(c->logging.max_log_size_mb, 100);
	assert_int_equal(c->logging.backup_count, 5);
	assert_false(c->error_handling.show_stack_traces);
	assert_true(c->error_handling.log_errors);
	assert_false(c->error_handling.notify_on_critical_errors);
	/* 11 gunicorn keys, 3 unused lxc keys, log_format, error_handling.notification_recipients,
	 * and 0.0.0.0 without auth */
	expect_warning_for(&d, "gunicorn.workers");
	expect_warning_for(&d, "gunicorn.access_log_format");
	expect_warning_for(&d, "lxc.verify_ssl");
	expect_warning_for(&d, "logging.log_format");
	assert_non_null(config_diag_find(&d, "server.host=0.0.0.0 accepts connections from the network"));
	assert_int_equal(d.warnings, 11 + 3 + 1 + 1 + 1);
	config_free(c);
}

static void test_ml_and_api_files_together(void **state)
{
	(void)state;
	char p1[1024], p2[1024];
	snprintf(p1, sizeof(p1), "%s/tests/data/lxc_autoscale_ml.yaml", top());
	snprintf(p2, sizeof(p2), "%s/tests/data/lxc_autoscale_api.yaml", top());
	struct lxcscale_config *c = config_new();
	struct config_diag d = { 0 };
	assert_int_equal(config_load_file(c, p1, &d), 0);
	assert_int_equal(config_load_file(c, p2, &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	/* log_level from the ML file wins over the API file's logging.level alias */
	assert_int_equal(c->log_level, CFG_LOG_DEBUG);
	char want[2400];
	snprintf(want, sizeof(want), "%s:23:3: warning: logging.level is ignored: log_level is set at %s:4:12", p2, p1);
	expect_msg(&d, want);
	assert_int_equal(c->meta.n_files, 2);
	config_free(c);
}

/* ---- validation rules: exact messages ---------------------------------------------------- */

static void test_rule_min_greater_than_max(void **state)
{
	(void)state;
	expect_error("scaling:\n  min_cpu_cores: 8\n",
	             "t.yaml:2:18: error: scaling.min_cpu_cores=8 is greater than scaling.max_cpu_cores=4");
	expect_error("scaling:\n  max_ram_mb: 512\n",
	             "t.yaml:2:15: error: scaling.min_ram_mb=1024 is greater than scaling.max_ram_mb=512");
}

static void test_rule_thresholds(void **state)
{
	(void)state;
	expect_error("scaling:\n  cpu_scale_up_threshold: 101\n",
	             "t.yaml:2:27: error: scaling.cpu_scale_up_threshold=101 is out of range 0..100");
	expect_error("scaling:\n  ram_scale_down_threshold: -1\n",
	             "t.yaml:2:29: error: scaling.ram_scale_down_threshold=-1 is out of range 0..100");
	expect_error("scaling:\n  cpu_scale_up_threshold: abc\n",
	             "t.yaml:2:27: error: scaling.cpu_scale_up_threshold=abc must be a number");
	expect_error("scaling:\n  cpu_scale_down_threshold: 80\n",
	             "t.yaml:2:29: error: scaling.cpu_scale_down_threshold=80 is not less than "
	             "scaling.cpu_scale_up_threshold=75");
	expect_error("scaling:\n  ram_scale_down_threshold: 75\n",
	             "t.yaml:2:29: error: scaling.ram_scale_down_threshold=75 is not less than "
	             "scaling.ram_scale_up_threshold=75");
}

static void test_rule_steps(void **state)
{
	(void)state;
	expect_error("scaling:\n  cpu_scale_step: 0\n", "t.yaml:2:19: error: scaling.cpu_scale_step=0 must be greater than 0");
	expect_error("scaling:\n  ram_scale_step_mb: -512\n",
	             "t.yaml:2:22: error: scaling.ram_scale_step_mb=-512 must be greater than 0");
	expect_error("scaling:\n  ram_upper_limit: 2048\n  ram_scale_step_mb: 4096\n",
	             "t.yaml:3:22: error: scaling.ram_scale_step_mb=4096 is greater than scaling.ram_upper_limit=2048");
	expect_error("scaling:\n  ram_upper_limit: 256\n",
	             "t.yaml:2:20: error: scaling.ram_scale_step_mb=512 is greater than scaling.ram_upper_limit=256");
	expect_error("scaling:\n  ram_chunk_size: 600\n",
	             "t.yaml:2:19: error: scaling.ram_chunk_size=600 is greater than scaling.ram_scale_step_mb=512");
	/* chunk > upper: the step cannot sit between them either, so two errors */
	struct config_diag d;
	struct lxcscale_config *c = load_text("scaling:\n  ram_chunk_size: 100\n  ram_upper_limit: 50\n", &d);
	expect_msg(&d, "t.yaml:2:19: error: scaling.ram_chunk_size=100 is greater than scaling.ram_upper_limit=50");
	config_free(c);
	/* unset legacy bounds (0) constrain nothing: a reference file with a big step loads */
	c = load_text("scaling:\n  ram_scale_step_mb: 8192\n", &d);
	assert_int_equal(d.errors, 0);
	config_free(c);
	expect_error("scaling:\n  smoothing_factor: 0\n",
	             "t.yaml:2:21: error: scaling.smoothing_factor=0 must be greater than 0");
	expect_error("model:\n  contamination: 0.6\n", "t.yaml:2:18: error: model.contamination=0.6 is out of range 0..0.5");
}

static void test_rule_host_psi_api(void **state)
{
	(void)state;
	expect_error("scaling:\n  total_cores: 4\n  reserve_cpu_cores: 4\n",
	             "t.yaml:3:22: error: scaling.reserve_cpu_cores=4 is not less than scaling.total_cores=4");
	expect_error("scaling:\n  total_ram_mb: 2048\n  reserve_memory_mb: 4096\n",
	             "t.yaml:3:22: error: scaling.reserve_memory_mb=4096 is not less than scaling.total_ram_mb=2048");
	/* with the default reserve it is only a warning: reference files must load */
	struct config_diag d;
	struct lxcscale_config *c = load_text("scaling:\n  total_cores: 1\n", &d);
	assert_int_equal(d.errors, 0);
	expect_msg(&d, "t.yaml:2:16: warning: scaling.reserve_cpu_cores=1 is not less than scaling.total_cores=1: "
	               "no CPU is left to give containers");
	/* --print-config writes the default reserve out: what it prints must load the same way
	 * (found by the config fuzzer: it used to be an error once written) */
	char *text = print_to_string(c, CONFIG_PRINT_SECRETS);
	struct lxcscale_config *back = load_text(text, &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_non_null(config_diag_find(&d, "scaling.reserve_cpu_cores=1 is not less than scaling.total_cores=1"));
	assert_int_equal(config_diff(c, back, NULL, NULL), 0);
	config_free(back);
	free(text);
	config_free(c);
	/* a reserve written equal to its default is the same value: a warning too */
	c = load_text("scaling:\n  total_ram_mb: 1024\n  reserve_memory_mb: 1024\n", &d);
	assert_int_equal(d.errors, 0);
	expect_msg(&d, "t.yaml:2:17: warning: scaling.reserve_memory_mb=1024 is not less than scaling.total_ram_mb=1024: "
	               "no memory is left to give containers");
	config_free(c);
	expect_error("psi:\n  cpu_stall_ms: 600\n", "t.yaml:2:17: error: psi.cpu_stall_ms=600 is greater than psi.window_ms=500");
	expect_error("psi:\n  window_ms: 1000\n  memory_stall_ms: 1001\n",
	             "t.yaml:3:20: error: psi.memory_stall_ms=1001 is greater than psi.window_ms=1000");
	expect_error("authentication:\n  enabled: true\n",
	             "t.yaml:2:12: error: authentication.enabled=true but authentication.api_keys is empty");
	expect_error("api:\n  tls_cert: /etc/lxcscale/cert.pem\n",
	             "t.yaml:2:13: error: api.tls_cert is set but api.tls_key is empty");
	expect_error("persist:\n  backend: api\nproxmox_api:\n  token_id: root@pam!lx\n  token_secret: abcdefgh\n"
	             "  url: \"\"\n",
	             "t.yaml:2:12: error: persist.backend=api but proxmox_api.url is empty");
	expect_error("notifications:\n  gotify_url: https://gotify.example\n",
	             "t.yaml:2:15: error: notifications.gotify_url is set but notifications.gotify_token is empty");
}

static void test_rule_warnings(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_text("interval_seconds: 600\ncircuit_breaker:\n  timeout_seconds: 300\n", &d);
	assert_int_equal(d.errors, 0);
	expect_msg(&d, "t.yaml:3:20: warning: circuit_breaker.timeout_seconds=300 is not greater than "
	               "interval_seconds=600: an open breaker never outlasts a cycle");
	config_free(c);
	c = load_text("authentication:\n  enabled: true\n  api_keys: [short]\n", &d);
	assert_int_equal(d.errors, 0);
	expect_msg(&d, "t.yaml:3:13: warning: authentication.api_keys[0] is shorter than 16 characters");
	config_free(c);
}

static void test_tiers_rules(void **state)
{
	(void)state;
	expect_error("tiers:\n  web:\n    containers: [101]\n    min_cpu_cores: 8\n",
	             "t.yaml:4:20: error: tiers.web.min_cpu_cores=8 is greater than scaling.max_cpu_cores=4");
	expect_error("tiers:\n  a:\n    containers: [101]\n  b:\n    containers: [102, 101]\n",
	             "t.yaml:5:17: error: container 101 is in tiers.a and tiers.b");
	expect_error("tiers:\n  web:\n    containers: [101]\n    max_cpu_core: 8\n",
	             "t.yaml:4:5: error: unknown key 'tiers.web.max_cpu_core'; did you mean 'max_cpu_cores'?");
	expect_error("tiers:\n  web:\n    lxc_containers: [101]\n",
	             "t.yaml:3:5: error: unknown key 'tiers.web.lxc_containers'; did you mean 'containers'?");
	expect_error("tiers:\n  web:\n    containers: [101]\n    total_cores: 8\n",
	             "t.yaml:4:5: error: tiers.web.total_cores: scaling.total_cores is host-wide and cannot be set per tier");
	expect_error("tiers:\n  \"bad name\":\n    containers: [101]\n",
	             "t.yaml:2:3: error: tier names are 1..63 letters, digits, '_' or '-'");
	expect_error("tiers: [web]\n", "t.yaml:1:8: error: tiers must be a mapping of tier names, not a list");
	struct config_diag d;
	/* a tier with no list is reached by its Proxmox tag (tags.tier_prefix), unless that is off */
	struct lxcscale_config *c = load_text("tiers:\n  empty:\n    max_cpu_cores: 6\n", &d);
	assert_int_equal(d.n, 0);
	config_free(c);
	c = load_text("tags:\n  tier_prefix: \"\"\ntiers:\n  empty:\n    max_cpu_cores: 6\n", &d);
	expect_msg(&d, "t.yaml:4:3: warning: tiers.empty has no containers and applies to nothing "
		       "(tags.tier_prefix is empty, so no tag can pick it)");
	config_free(c);
}

/* tags.*: Proxmox's own rule for a tag, and one tag cannot both exclude and pick a tier. */
static void test_tags_rules(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_text("tags:\n  ignore: hands-off\n  tier_prefix: scale.\n", &d);
	assert_int_equal(d.errors, 0);
	assert_string_equal(c->tags.ignore, "hands-off");
	config_free(c);
	c = load_text("tags:\n  ignore: \"\"\n  tier_prefix: \"\"\n", &d);
	assert_int_equal(d.errors, 0);
	config_free(c);
	expect_error("tags:\n  ignore: \"no scale\"\n",
		     "t.yaml:2:11: error: tags.ignore=\"no scale\" may hold only letters, digits and _ - + . "
		     "(Proxmox's rule for tags)");
	expect_error("tags:\n  tier_prefix: -tier\n",
		     "t.yaml:2:16: error: tags.tier_prefix=\"-tier\" must start with a letter, a digit or '_' "
		     "(Proxmox's rule for tags)");
	expect_error("tags:\n  ignore: lxcscale-tier-none\n",
		     "t.yaml:2:11: error: tags.ignore=\"lxcscale-tier-none\" starts with "
		     "tags.tier_prefix=\"lxcscale-tier-\": one tag would both exclude and pick a tier");
}

/* `lxcscaled --dry-run` wins over a tier's dry_run: false, and --print-config says so: its
 * output, loaded without the flag, must still change nothing. */
static void test_dry_run_flag_overrides_tier(void **state)
{
	(void)state;
	const char *yaml = "tiers:\n  web:\n    containers: [101]\n    dry_run: false\n";
	struct config_diag d;
	struct lxcscale_config *c = config_new();
	config_diag_clear(&d);
	assert_int_equal(config_load_string(c, "t.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(config_set(c, "scaling.dry_run", "true", "--dry-run", &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	assert_true(config_scaling_for(c, 101)->dry_run);
	char *text = print_to_string(c, CONFIG_PRINT_SECRETS);
	assert_non_null(strstr(text, "    dry_run: true\n"));
	struct lxcscale_config *back = load_text(text, &d);
	assert_int_equal(d.errors, 0);
	assert_true(config_scaling_for(back, 101)->dry_run);
	assert_true(back->scaling.dry_run);
	assert_int_equal(config_diff(c, back, NULL, NULL), 0);
	config_free(back);
	free(text);
	config_free(c);
	/* without the flag, the tier's own false stands */
	c = load_text(yaml, &d);
	assert_int_equal(d.errors, 0);
	assert_false(config_scaling_for(c, 101)->dry_run);
	config_free(c);
}

static void test_strict_types(void **state)
{
	(void)state;
	expect_error("model:\n  n_estimators: \"100\"\n",
	             "t.yaml:2:17: error: model.n_estimators=\"100\" must be an integer, not a quoted string");
	expect_error("model:\n  n_estimators: abc\n", "t.yaml:2:17: error: model.n_estimators=abc must be an integer");
	expect_error("model:\n  n_estimators: 1.5\n", "t.yaml:2:17: error: model.n_estimators=1.5 must be an integer");
	expect_error("model:\n  n_estimators: 99999999999999999999\n",
	             "t.yaml:2:17: error: model.n_estimators=99999999999999999999 must be an integer");
	expect_error("model:\n  n_estimators:\n", "t.yaml:2:16: error: model.n_estimators has no value (an integer is needed)");
	expect_error("model:\n  contamination: .nan\n", "t.yaml:2:18: error: model.contamination=.nan must be a number");
	expect_error("model:\n  contamination: 0x1p-4\n", "t.yaml:2:18: error: model.contamination=0x1p-4 must be a number");
	expect_error("scaling:\n  dry_run: yes\n", "t.yaml:2:12: error: scaling.dry_run=yes must be true or false");
	expect_error("scaling:\n  dry_run: \"true\"\n", "t.yaml:2:12: error: scaling.dry_run=\"true\" must be true or false");
	expect_error("scaling:\n  dry_run: True\n", "t.yaml:2:12: error: scaling.dry_run=True must be true or false");
	expect_error("scaling:\n  max_cpu_cores: {a: 1}\n",
	             "t.yaml:2:18: error: scaling.max_cpu_cores must be an integer, not a mapping");
	expect_error("log_level: LOUD\n",
	             "t.yaml:1:12: error: log_level=LOUD must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL");
	expect_error("persist:\n  backend: PCT\n", "t.yaml:2:12: error: persist.backend=PCT must be one of pct, api");
	expect_error("log_file: var/log/x.log\n", "t.yaml:1:11: error: log_file=var/log/x.log must be an absolute path");
	expect_error("lock_file: \"\"\n", "t.yaml:1:12: error: lock_file=\"\" must not be empty");
	expect_error("proxmox_api:\n  url: ftp://x\n",
	             "t.yaml:2:8: error: proxmox_api.url=ftp://x must start with http:// or https://");
	struct config_diag d;
	struct lxcscale_config *c = load_text("cgroup:\n  id_pattern: \"([0-9]\"\n", &d);
	assert_int_equal(d.errors, 1);
	assert_non_null(config_diag_find(&d, "t.yaml:2:15: error: cgroup.id_pattern=\"([0-9]\" is not a valid regular expression: "));
	config_free(c);
}

static void test_strict_types_more(void **state)
{
	(void)state;
	expect_error("server:\n  host: \"a\\tb\"\n", "t.yaml:2:9: error: server.host=\"a?b\" contains a control character");
	/* NEL, C1 controls and the Unicode line/paragraph separators too: YAML folds them as
	 * line breaks, so --print-config's output would not read back the same (config fuzzer) */
	expect_error("log_file: \"/a\\Lb\"\n", "t.yaml:1:11: error: log_file=\"/a???b\" contains a control character");
	expect_error("log_file: \"/a\\Nb\"\n", "t.yaml:1:11: error: log_file=\"/a??b\" contains a control character");
	expect_error("log_file: \"/a\\u2029b\"\n", "t.yaml:1:11: error: log_file=\"/a???b\" contains a control character");
	expect_error("log_file: \"/a\\x9fb\"\n", "t.yaml:1:11: error: log_file=\"/a??b\" contains a control character");
	expect_error("model:\n  features: [\"cpu\\Px\"]\n",
	             "t.yaml:2:14: error: model.features[0]=\"cpu???x\" contains a control character");
	{ /* other non-ASCII text is a value like any other, and survives a round trip */
		struct config_diag d;
		struct lxcscale_config *c = load_text("log_file: \"/var/log/caf\u00e9\\u00a0\\u2027.log\"\n", &d);
		assert_int_equal(d.errors, 0);
		assert_string_equal(c->log_file, "/var/log/caf\u00e9\u00a0\u2027.log");
		roundtrip(c, "non-ASCII path");
		config_free(c);
	}
	expect_error("ignore_lxc: [101, abc]\n",
	             "t.yaml:1:19: error: ignore_lxc[1]=abc is not a container id (100..999999999)");
	expect_error("ignore_lxc: [\"99\"]\n", "t.yaml:1:14: error: ignore_lxc[0]=\"99\" is not a container id (100..999999999)");
	expect_error("ignore_lxc: 101\n", "t.yaml:1:13: error: ignore_lxc must be a list of container ids, not a scalar");
	expect_error("ignore_lxc: [[101]]\n", "t.yaml:1:14: error: ignore_lxc[0] must be a container id, not a list");
	expect_error("model:\n  features: [cpu, \"\"]\n", "t.yaml:2:19: error: model.features[1]=\"\" is empty");
	expect_error("scaling: 4\n", "t.yaml:1:10: error: scaling must be a mapping (a section), not a scalar");
	expect_error("- a\n- b\n", "t.yaml:1:1: error: the configuration must be a mapping of keys, not a list");
	expect_error("scaling:\n  max_cpu_cores: 4\n  max_cpu_cores: 6\n", "t.yaml:3:3: error: scaling.max_cpu_cores is given twice");
	expect_error("log_level: INFO\n---\nb: 2\n", "t.yaml:3:1: error: only one YAML document is allowed");

	char long_path[CFG_STR_MAX + 40] = "log_file: /";
	memset(long_path + 11, 'x', CFG_STR_MAX);
	strcpy(long_path + 11 + CFG_STR_MAX, "\n");
	struct config_diag d;
	struct lxcscale_config *c = load_text(long_path, &d);
	assert_non_null(config_diag_find(&d, "is longer than 511 bytes"));
	assert_string_equal(c->log_file, ""); /* a bad value never half-writes */
	config_free(c);

	/* ids: strings and integers normalised, sorted, duplicates merged */
	c = load_text("ignore_lxc: [\"102\", 101, 102, '999999999']\n", &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(c->ignore_lxc.n, 3);
	assert_int_equal(c->ignore_lxc.v[0], 101);
	assert_int_equal(c->ignore_lxc.v[2], 999999999);
	config_free(c);
	/* null lists and strings are empty; null sections are fine */
	c = load_text("ignore_lxc:\nlog_file: ~\nmodel:\n", &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(c->ignore_lxc.n, 0);
	config_free(c);
	/* an empty file is the defaults */
	c = load_text("", &d);
	assert_int_equal(d.errors + d.warnings, 0);
	config_free(c);
}

static void test_invalid_yaml_and_files(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_text("scaling:\n  max_cpu_cores: [1, 2\n", &d);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.msg[0].text, "t.yaml:"));
	assert_non_null(strstr(d.msg[0].text, ": error: invalid YAML: "));
	config_free(c);

	c = config_new();
	config_diag_clear(&d);
	assert_int_equal(config_load_file(c, "/nonexistent/lxcscale.yaml", &d), -1);
	expect_msg(&d, "/nonexistent/lxcscale.yaml: error: cannot open: No such file or directory");
	config_diag_clear(&d);
	assert_int_equal(config_load_file(c, "/", &d), -1); /* a directory: read fails */
	assert_int_equal(d.errors, 1);
	config_free(c);

	/* a file over 1 MiB is refused */
	char path[] = "/tmp/lxcscale-test-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char chunk[4096];
	memset(chunk, '#', sizeof(chunk));
	for (int i = 0; i < 300; i++)
		assert_int_equal(write(fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
	close(fd);
	c = config_new();
	config_diag_clear(&d);
	assert_int_equal(config_load_file(c, path, &d), -1);
	assert_non_null(config_diag_find(&d, "larger than 1048576 bytes"));
	unlink(path);
	config_free(c);
}

static void test_unknown_keys_did_you_mean(void **state)
{
	(void)state;
	expect_error("scaling:\n  max_cpu_core: 4\n",
	             "t.yaml:2:3: error: unknown key 'scaling.max_cpu_core'; did you mean 'scaling.max_cpu_cores'?");
	expect_error("max_cpu_cores: 4\n", "t.yaml:1:1: error: unknown key 'max_cpu_cores'; did you mean 'scaling.max_cpu_cores'?");
	expect_error("modle:\n  n_estimators: 5\n", "t.yaml:1:1: error: unknown key 'modle'");
	expect_error("log_levle: INFO\n", "t.yaml:1:1: error: unknown key 'log_levle'; did you mean 'log_level'?");
	expect_error("zzz_totally_unrelated: 1\n", "t.yaml:1:1: error: unknown key 'zzz_totally_unrelated'");
	/* ignored prefixes accept anything below them, with one warning per key */
	struct config_diag d;
	struct lxcscale_config *c = load_text("gunicorn:\n  workers: 4\n  whatever: {a: 1}\n", &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 2);
	config_free(c);
}

static void test_flags_use_the_same_rules(void **state)
{
	(void)state;
	struct lxcscale_config *c = config_new();
	struct config_diag d = { 0 };
	assert_int_equal(config_set(c, "model.contamination", "0.1", "--contamination", &d), 0);
	assert_true(c->model.contamination == 0.1);
	assert_int_equal(config_set(c, "model.contamination", "0.7", "--contamination", &d), -1);
	expect_msg(&d, "--contamination: error: model.contamination=0.7 is out of range 0..0.5");
	assert_true(c->model.contamination == 0.1);
	assert_int_equal(config_set(c, "model.n_estimators", "ten", "--n_estimators", &d), -1);
	expect_msg(&d, "--n_estimators: error: model.n_estimators=ten must be an integer");
	assert_int_equal(config_set(c, "ignore_lxc", "101", "--x", &d), -1);
	expect_msg(&d, "--x: error: ignore_lxc cannot be set from the command line");
	/* a flag's location shows in cross-key messages */
	config_diag_clear(&d);
	assert_int_equal(config_set(c, "scaling.ram_chunk_size", "2000", "--ram-chunk-size", &d), 0);
	assert_int_equal(config_finalize(c, &d), -1);
	expect_msg(&d, "--ram-chunk-size: error: scaling.ram_chunk_size=2000 is greater than scaling.ram_scale_step_mb=512");
	/* log_level is case-insensitive, printed upper case */
	assert_int_equal(config_set(c, "log_level", "debug", "--log-level", &d), 0);
	assert_int_equal(c->log_level, CFG_LOG_DEBUG);
	config_free(c);
}

static void test_secrets_never_printed(void **state)
{
	(void)state;
	struct config_diag d;
	struct lxcscale_config *c = load_text("authentication:\n  enabled: true\n"
	                                      "  api_keys: [\"KEY-aaaaaaaaaaaaaaaaaaaa\", \"KEY-bbbbbbbbbbbbbbbbbbbb\"]\n"
	                                      "proxmox_api:\n  token_secret: TOKEN-cccccccccccc\n"
	                                      "notifications:\n  gotify_url: https://g.example\n  gotify_token: GOTIFY-dddd\n"
	                                      "  webhook_url: https://hooks.example/T000/SECRET-eeee\n"
	                                      "api:\n  api_key: OLD-ffffffff\n",
	                                      &d);
	dump_diag(&d);
	assert_int_equal(d.errors, 0);
	char *text = print_to_string(c, 0);
	assert_null(strstr(text, "KEY-"));
	assert_null(strstr(text, "TOKEN-"));
	assert_null(strstr(text, "GOTIFY-"));
	assert_null(strstr(text, "SECRET-"));
	assert_null(strstr(text, "OLD-"));
	assert_non_null(strstr(text, "api_keys: [\"***\", \"***\"]"));
	assert_non_null(strstr(text, "token_secret: \"***\""));
	free(text);
	for (int i = 0; i < d.n; i++)
		assert_null(strstr(d.msg[i].text, "OLD-"));
	/* a bad secret value is reported without the value */
	expect_error("proxmox_api:\n  token_secret: \"abc\\x01def\"\n",
	             "t.yaml:2:17: error: proxmox_api.token_secret=*** contains a control character");
	expect_error("authentication:\n  api_keys: [\"\"]\n", "t.yaml:2:14: error: authentication.api_keys[0]=*** is empty");
	/* the diff used for reload logs hides them too */
	struct lxcscale_config *b = config_new();
	*b = *c;
	snprintf(b->proxmox_api.token_secret, CFG_STR_MAX, "TOKEN-changed");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	config_print(b, f, 0);
	fclose(f);
	assert_null(strstr(out, "TOKEN-"));
	free(out);
	assert_int_equal(config_diff(c, b, NULL, NULL), 1);
	config_free(b);
	config_free(c);
}

/* Defensive parsing: thousands of mutated copies of real files must load or fail with
 * messages, never crash, hang or write past a buffer (run under ASan in `make test`). */
static void test_mutated_files_never_crash(void **state)
{
	(void)state;
	/* each file mutated both as lxcscale's own and as the reference file it is (whose legacy
	 * and monitor keys take other paths through the loader) */
	const char *names[] = { "lxc_autoscale_ml.yaml", "lxc_autoscale_ml_v1.yaml", "lxc_autoscale_api.yaml",
	                        "reference/1.2.0/lxc_autoscale_ml.yaml", "reference/latest/lxc_monitor.yaml" };
	const char *as[] = { "mutant/lxc_autoscale_ml.yaml", "mutant/lxc_autoscale_ml.yaml", "mutant/lxc_autoscale_api.yaml",
	                     "mutant/lxc_autoscale_ml.yaml", "mutant/lxc_monitor.yaml" };
	static const char alphabet[] = " \n\t:-[]{},\"'#&*!|>%@`0123456789.eE+abcxyz~\\";
	uint32_t seed = 12345;
	int loaded = 0, refused = 0;
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/tests/data/%s", top(), names[f]);
		FILE *fp = fopen(path, "re");
		assert_non_null(fp);
		char orig[8192];
		size_t len = fread(orig, 1, sizeof(orig) - 1, fp);
		fclose(fp);
		for (int round = 0; round < 700; round++) {
			char buf[8192];
			size_t n = len;
			memcpy(buf, orig, len);
			int edits = 1 + round % 4;
			for (int e = 0; e < edits && n > 1; e++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % n;
				switch ((seed >> 4) % 3) {
				case 0: buf[at] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)]; break;
				case 1: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
				default:
					if (n + 1 < sizeof(buf)) {
						memmove(buf + at + 1, buf + at, n - at);
						buf[at] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
						n++;
					}
				}
			}
			struct lxcscale_config *c = config_new();
			struct config_diag d = { 0 };
			const char *name = round % 2 ? as[f] : "mutant.yaml";
			if (config_load_string(c, name, buf, n, &d) == 0 && config_finalize(c, &d) == 0)
				loaded++;
			else
				refused++;
			/* whatever happened, every message is a located, terminated line */
			for (int i = 0; i < d.n; i++) {
				assert_true(strncmp(d.msg[i].text, name, strlen(name)) == 0);
				assert_true(strlen(d.msg[i].text) < CFG_DIAG_LEN);
			}
			config_free(c);
		}
	}
	print_message("mutants: %d loaded, %d refused with messages\n", loaded, refused);
	assert_true(loaded > 0 && refused > 0);
}

/* ---- generated documents ------------------------------------------------------------------- */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void test_readme_table_matches_schema(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof(path), "%s/README.md", top());
	char *readme = read_file(path);
	assert_non_null(readme);
	const char *begin = strstr(readme, "<!-- config-table:begin -->\n");
	const char *end = strstr(readme, "<!-- config-table:end -->");
	assert_non_null(begin);
	assert_non_null(end);
	begin += strlen("<!-- config-table:begin -->\n");
	assert_true(end >= begin);
	char *table = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&table, &len);
	config_print_table(f);
	fclose(f);
	size_t have = (size_t)(end - begin);
	if (have != len || memcmp(begin, table, len) != 0) {
		print_message("README.md's key table differs from the schema: run `make readme`\n");
		fail();
	}
	/* and every key is in it */
	for (size_t i = 0; i < config_schema_len; i++) {
		char needle[200];
		snprintf(needle, sizeof(needle), "| `%s", config_schema[i].key);
		assert_non_null(strstr(table, needle));
	}
	free(table);
	free(readme);
}

static void test_default_conf_file_is_the_defaults(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof(path), "%s/conf/lxcscale.yaml", top());
	struct lxcscale_config *c = config_new();
	struct lxcscale_config *def = config_new();
	struct config_diag d = { 0 };
	assert_int_equal(config_load_file(c, path, &d), 0);
	assert_int_equal(config_finalize(c, &d), 0);
	assert_int_equal(d.errors + d.warnings, 0);
	assert_int_equal(config_diff(def, c, NULL, NULL), 0);
	/* and it is exactly what the template printer writes (make readme) */
	char *file = read_file(path);
	char *tmpl = print_to_string(def, CONFIG_PRINT_COMMENTS);
	if (strcmp(file, tmpl) != 0) {
		print_message("conf/lxcscale.yaml differs from the schema: run `make readme`\n");
		fail();
	}
	free(file);
	free(tmpl);
	config_free(def);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_fields_match_types),
		cmocka_unit_test(test_defaults_parse_and_validate),
		cmocka_unit_test(test_roundtrip_defaults),
		cmocka_unit_test(test_roundtrip_every_key),
		cmocka_unit_test(test_roundtrip_all_keys_at_once_and_tiers),
		cmocka_unit_test(test_reference_ml_file_latest),
		cmocka_unit_test(test_reference_ml_file_v1_legacy_keys),
		cmocka_unit_test(test_legacy_keys_honoured_in_own_file),
		cmocka_unit_test(test_file_kind_by_name),
		cmocka_unit_test(test_legacy_key_texts),
		cmocka_unit_test(test_legacy_keys_in_reference_file_never_refused),
		cmocka_unit_test(test_real_reference_files_load),
		cmocka_unit_test(test_monitor_file),
		cmocka_unit_test(test_three_reference_files_together),
		cmocka_unit_test(test_reference_api_file),
		cmocka_unit_test(test_ml_and_api_files_together),
		cmocka_unit_test(test_rule_min_greater_than_max),
		cmocka_unit_test(test_rule_thresholds),
		cmocka_unit_test(test_rule_steps),
		cmocka_unit_test(test_rule_host_psi_api),
		cmocka_unit_test(test_rule_warnings),
		cmocka_unit_test(test_tiers_rules),
		cmocka_unit_test(test_tags_rules),
		cmocka_unit_test(test_dry_run_flag_overrides_tier),
		cmocka_unit_test(test_strict_types),
		cmocka_unit_test(test_strict_types_more),
		cmocka_unit_test(test_invalid_yaml_and_files),
		cmocka_unit_test(test_unknown_keys_did_you_mean),
		cmocka_unit_test(test_flags_use_the_same_rules),
		cmocka_unit_test(test_secrets_never_printed),
		cmocka_unit_test(test_mutated_files_never_crash),
		cmocka_unit_test(test_readme_table_matches_schema),
		cmocka_unit_test(test_default_conf_file_is_the_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_model.c — the daemon's model wrapper (user/score/model.c) with the real iforest library
 * and its real worker thread: a host-wide model is built off the caller's thread and then
 * flags an outlier and names the feature that isolated it; per-container forests come and
 * go while the worker runs; the model survives a restart through model_file; a model file
 * with another feature count or a corrupt one is refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "score/model.h"

static char dir[128], file[200];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/lxcscale-test-model-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/sub/model.bin", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[260];
	unlink(file);
	snprintf(p, sizeof(p), "%s.tmp", file);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}

static void opts(struct model_opts *o, bool per_ct, const char *path)
{
	model_opts_from(o, 16, 16, 0.05, 42, 64, 16);
	o->host.window = 128;
	o->host.warmup = 64;
	o->per_container = per_ct;
	o->model_file = path;
}

static unsigned rng = 12345;
static double noise(void)
{
	rng = rng * 1103515245u + 12345u;
	return ((rng >> 8) & 0xffff) / 65536.0 - 0.5;
}

static void normal_row(double *x, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		x[i] = 10 + i + noise();
}

static void wait_built(struct model *m)
{
	struct model_status st;
	for (int i = 0; i < 500; i++) { /* the worker runs every 200 ms; 10 s at most */
		model_status(m, &st);
		if (st.host_built)
			return;
		usleep(20000);
	}
	fail_msg("the worker never built the host-wide model");
}

static void test_build_score_explain(void **state)
{
	(void)state;
	struct model_opts o;
	opts(&o, false, "");
	/* few features, so an outlier's short paths are all about the odd one */
	const char *three[] = { "cpu_usage_percent", "memory_usage_mb", "process_count" };
	assert_int_equal(features_select_names(&o.features, three, 3, NULL, 0), 0);
	char note[256];
	struct model *m = model_new(&o, note, sizeof(note));
	assert_non_null(m);
	unsigned n = o.features.n;
	double x[FEAT_COUNT];
	iforest_result r;
	normal_row(x, n);
	assert_int_equal(model_score(m, NULL, x, false, &r), 0); /* no model yet */
	for (int i = 0; i < 200; i++) {
		normal_row(x, n);
		assert_true(model_score(m, NULL, x, true, &r) >= 0);
	}
	assert_int_equal(model_start(m), 0); /* after the rows: the build is deterministic */
	wait_built(m);
	normal_row(x, n);
	assert_int_equal(model_score(m, NULL, x, false, &r), 1);
	double normal_score = r.score;
	x[0] = 500; /* cpu_usage_percent, column 0: far outside anything seen */
	assert_int_equal(model_score(m, NULL, x, false, &r), 1);
	assert_true(r.score < normal_score);
	struct decision_feature top[DECISION_TOP_FEATURES];
	int k = model_explain(m, NULL, x, top);
	assert_true(k >= 1 && k <= DECISION_TOP_FEATURES);
	bool named = false; /* the feature that makes it an outlier is among the top */
	for (int i = 0; i < k; i++) {
		named |= strcmp(top[i].name, "cpu_usage_percent") == 0;
		assert_true(top[i].share > 0 && top[i].share <= 1);
	}
	assert_true(named);
	for (unsigned i = 0; i < n; i++) /* far out on every feature: an anomaly */
		x[i] = 1000;
	assert_int_equal(model_score(m, NULL, x, false, &r), 1);
	assert_int_equal(r.predict, -1);

	x[0] = 0.0 / 0.0; /* NaN: refused, never scored */
	assert_true(model_score(m, NULL, x, false, &r) < 0);
	model_free(m);
}

static void test_per_container_come_and_go(void **state)
{
	(void)state;
	struct model_opts o;
	opts(&o, true, "");
	struct model *m = model_new(&o, NULL, 0);
	assert_int_equal(model_start(m), 0);
	unsigned n = o.features.n;
	double x[FEAT_COUNT];
	iforest_result r;
	struct model_ct *c[8];
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 8; k++)
			assert_non_null(c[k] = model_ct_add(m, 100 + k));
		for (int i = 0; i < 120; i++)
			for (int k = 0; k < 8; k++) {
				normal_row(x, n);
				assert_true(model_score(m, c[k], x, true, &r) >= 0);
			}
		usleep(250000); /* let the worker rebuild some of them */
		for (int k = 0; k < 8; k++)
			model_ct_remove(m, c[k]); /* possibly while it is being rebuilt */
	}
	struct model_status st;
	model_status(m, &st);
	assert_int_equal(st.per_ct, 0);
	assert_true(st.rebuilds > 0);
	model_free(m);

	opts(&o, false, "");
	m = model_new(&o, NULL, 0);
	assert_null(model_ct_add(m, 1)); /* per_container off: the host-wide model is used */
	model_free(m);
}

static void test_persist_across_restart(void **state)
{
	(void)state;
	struct model_opts o;
	opts(&o, false, file);
	char note[256];
	struct model *m = model_new(&o, note, sizeof(note));
	assert_non_null(strstr(note, "none yet"));
	assert_int_equal(model_start(m), 0);
	unsigned n = o.features.n;
	double x[FEAT_COUNT];
	iforest_result r;
	for (int i = 0; i < 200; i++) {
		normal_row(x, n);
		model_score(m, NULL, x, true, &r);
	}
	wait_built(m);
	model_free(m); /* saves at stop */
	assert_int_equal(access(file, F_OK), 0);

	m = model_new(&o, note, sizeof(note));
	assert_non_null(strstr(note, "loaded"));
	normal_row(x, n);
	assert_int_equal(model_score(m, NULL, x, false, &r), 1); /* scores before any training */
	struct model_status st;
	model_status(m, &st);
	assert_true(st.loaded && !st.host_built);
	model_free(m);

	/* Another feature selection: the file does not fit and is ignored. */
	const char *two[] = { "cpu_usage_percent", "memory_usage_mb" };
	assert_int_equal(features_select_names(&o.features, two, 2, NULL, 0), 0);
	m = model_new(&o, note, sizeof(note));
	assert_non_null(strstr(note, "ignored"));
	model_free(m); /* nothing built, nothing loaded: the file is left as it was */

	FILE *f = fopen(file, "r+b"); /* corrupt it */
	assert_non_null(f);
	fseek(f, 40, SEEK_SET);
	fputs("garbage", f);
	fclose(f);
	features_select_default(&o.features);
	m = model_new(&o, note, sizeof(note));
	assert_non_null(m);
	assert_non_null(strstr(note, "starts empty"));
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_score_explain),
		cmocka_unit_test(test_per_container_come_and_go),
		cmocka_unit_test(test_persist_across_restart),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_replay.c — the replay building blocks: container model arithmetic (hand-computed
 * cases), each scenario's labels, the recording format (round trip, every truncation and
 * every single-byte corruption), and the scorecard's arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "config/config.h"
#include "record/recorder.h"
#include "record/recording.h"
#include "sim/container_model.h"
#include "sim/replay.h"
#include "sim/replay_input.h"
#include "sim/scenarios.h"
#include "sim/scorecard.h"

#define EPS 1e-9

static double used_mb(const struct feat_raw *s)
{
	return (double)(s->mem_current - s->mem_file) / (1024.0 * 1024.0);
}

static struct cm_params params_no_restart(void)
{
	struct cm_params p;
	cm_params_default(&p);
	return p;
}

/* ---- container model ------------------------------------------------------------------- */

static void test_mem_high_formula(void **state)
{
	(void)state;
	assert_true(fabs(cm_mem_high_mb(2048) - 2032.0) < EPS);
	assert_true(fabs(cm_mem_high_mb(16384) - 16256.0) < EPS);
	assert_true(fabs(cm_mem_high_mb(1024) - 1016.0) < EPS);
}

static void test_cpu_under_limit(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart();
	struct container_model m;
	container_model_init(&m, 101, &p, 2.0, 2048);
	struct cm_demand d = { .cpu_cores = 1.5, .mem_mb = 1000, .nr_procs = 7 };
	struct cm_step st;
	struct feat_raw s;
	container_model_step(&m, 0, 1000, &d, &st, &s);
	assert_true(fabs(st.cpu_used_cores - 1.5) < EPS);
	assert_true(st.cpu_throttled_s == 0);
	assert_true(st.cpu_some == 0 && st.cpu_full == 0);
	assert_int_equal(s.cpu_usage_usec, 1500000);
	assert_int_equal(s.nr_throttled, 0);
	assert_int_equal(s.nr_periods, 10);
	assert_int_equal(s.mono_ms, 1000);
	assert_int_equal(s.pids, 7);
	assert_true(fabs(used_mb(&s) - 1000) < EPS);
	assert_true(fabs(s.cpu_cores - 2.0) < EPS);
	assert_true(s.known & RAW_BIT(RAW_PSI_MEM));
	assert_false(s.known & RAW_BIT(RAW_RUNQ)); /* BPF-only: the model does not invent it */
}

static void test_cpu_throttled(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart();
	struct container_model m;
	container_model_init(&m, 1, &p, 2.0, 2048);
	struct cm_demand d = { .cpu_cores = 3.0, .mem_mb = 500 };
	struct cm_step st;
	struct feat_raw s;
	for (int i = 0; i < 10; i++)
		container_model_step(&m, i * 1000, 1000, &d, &st, &s);
	/* used 2 of 3 wanted: 1 CPU-s throttled per second, a third of the time stalled */
	assert_true(fabs(st.cpu_used_cores - 2.0) < EPS);
	assert_true(fabs(st.cpu_throttled_s - 1.0) < EPS);
	assert_true(fabs(st.cpu_some - 1.0 / 3.0) < EPS);
	assert_true(fabs(st.cpu_full - 1.0 / 3.0) < EPS);
	assert_int_equal(s.cpu_usage_usec, 20000000);
	assert_int_equal(s.nr_throttled, 100); /* 10 s of 100 ms periods, all throttled */
	assert_int_equal(s.nr_periods, 100);
	assert_int_equal(s.psi_total_us[0][0], 3333333);
	assert_int_equal(s.psi_total_us[0][1], 3333333);
}

static void test_cpu_neighbour(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart();
	struct container_model m;
	container_model_init(&m, 1, &p, 2.0, 2048);
	struct cm_demand d = { .cpu_cores = 0.3, .mem_mb = 500, .neighbour_stall = 0.5 };
	struct cm_step st;
	container_model_step(&m, 0, 2000, &d, &st, NULL);
	assert_true(fabs(st.cpu_used_cores - 0.3) < EPS); /* contention delays, does not remove work */
	assert_true(fabs(st.cpu_some - 0.5) < EPS);
	assert_true(fabs(st.cpu_full - 0.25) < EPS);
	assert_true(st.cpu_throttled_s == 0);

	/* throttled and contended: thr = 0.5, some = 1 - 0.5·0.5, full = 0.5 + 0.5·0.25 */
	d.cpu_cores = 4.0;
	container_model_step(&m, 2000, 1000, &d, &st, NULL);
	assert_true(fabs(st.cpu_some - 0.75) < EPS);
	assert_true(fabs(st.cpu_full - 0.625) < EPS);
	assert_true(fabs(st.cpu_throttled_s - 2.0) < EPS);
}

static void test_mem_swap_band(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart();
	struct container_model m;
	container_model_init(&m, 1, &p, 2.0, 2048);
	/* high 2032, band = 2048 + 512 - 2032 = 528; 264 over high = half the band */
	struct cm_demand d = { .cpu_cores = 0.5, .mem_mb = 2296 };
	struct cm_step st;
	struct feat_raw s;
	container_model_step(&m, 0, 1000, &d, &st, &s);
	assert_false(st.oom_kill);
	assert_true(fabs(st.mem_some - 0.5) < EPS);
	assert_true(fabs(st.mem_full - 0.25) < EPS);
	assert_true(fabs(used_mb(&s) - 2032) < EPS);
	assert_int_equal(s.swap_current, 264ULL << 20);
	assert_int_equal(s.psi_total_us[1][0], 500000);
	assert_int_equal(s.psi_total_us[1][1], 250000);
	assert_int_equal(s.psi_total_us[2][0], 500000);
	assert_int_equal(s.reclaim_stall_us, 500000);
	assert_int_equal(s.oom_kills, 0);
}

static void test_mem_oom_and_restart(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart(); /* base 256, restart 10 s */
	struct container_model m;
	container_model_init(&m, 1, &p, 2.0, 2048);
	struct cm_demand d = { .cpu_cores = 1.0, .mem_mb = 2600 }; /* > 2048 + 512 */
	struct cm_step st;
	struct feat_raw s;
	container_model_step(&m, 0, 1000, &d, &st, &s);
	assert_true(st.oom_kill);
	assert_true(st.restarting);
	assert_int_equal(s.oom_kills, 1);
	assert_true(fabs(used_mb(&s) - 256) < EPS);
	assert_true(st.cpu_used_cores == 0);
	assert_int_equal(s.pids, 1);
	/* still restarting until t = 10 s: no CPU work, memory at the base + what it adds */
	d.mem_mb = 2610;
	container_model_step(&m, 9000, 1000, &d, &st, &s);
	assert_true(st.restarting);
	assert_true(st.cpu_used_cores == 0);
	assert_true(fabs(used_mb(&s) - 266) < EPS); /* 2610 - (2600 - 256) */
	container_model_step(&m, 10000, 1000, &d, &st, &s);
	assert_false(st.restarting);
	assert_false(st.oom_kill);
	assert_true(fabs(st.cpu_used_cores - 1.0) < EPS);
	/* the trace falls back: the owed memory shrinks with it, never below the base */
	d.mem_mb = 600;
	container_model_step(&m, 11000, 1000, &d, &st, &s);
	assert_true(fabs(used_mb(&s) - 256) < EPS);
	d.mem_mb = 200;
	container_model_step(&m, 12000, 1000, &d, &st, &s);
	assert_true(fabs(used_mb(&s) - 200) < EPS);
	d.mem_mb = 900;
	container_model_step(&m, 13000, 1000, &d, &st, &s);
	assert_true(fabs(used_mb(&s) - 900) < EPS);
	assert_int_equal(s.oom_kills, 1);
}

static void test_limit_lag(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart();
	struct container_model m;
	container_model_init(&m, 1, &p, 2.0, 2048);
	assert_int_equal(container_model_schedule(&m, 5000, 4.0, 0), 0);
	assert_int_equal(container_model_schedule(&m, 3000, 0, 3072), 0);
	struct cm_demand d = { .cpu_cores = 3.0, .mem_mb = 100 };
	struct cm_step st;
	int cpu_changes = 0, mem_changes = 0;
	for (int i = 0; i < 8; i++) {
		container_model_step(&m, i * 1000, 1000, &d, &st, NULL);
		cpu_changes += st.cpu_changes;
		mem_changes += st.mem_changes;
		if (i < 5)
			assert_true(fabs(st.cpu_limit_cores - 2.0) < EPS);
		else
			assert_true(fabs(st.cpu_limit_cores - 4.0) < EPS);
		if (i == 3)
			assert_int_equal(st.mem_changes, 1);
		assert_true(fabs(st.mem_limit_mb - (i < 3 ? 2048 : 3072)) < EPS);
		assert_true(fabs(st.cpu_throttled_s - (i < 5 ? 1.0 : 0.0)) < EPS);
	}
	assert_int_equal(cpu_changes, 1);
	assert_int_equal(mem_changes, 1);
	/* scheduling the value in force is not a change */
	container_model_schedule(&m, 9000, 4.0, 3072);
	container_model_step(&m, 9000, 1000, &d, &st, NULL);
	assert_int_equal(st.cpu_changes + st.mem_changes, 0);
	/* the pending list is bounded */
	for (int i = 0; i < CM_PENDING_MAX; i++)
		assert_int_equal(container_model_schedule(&m, 20000 + i, 1.0, 0), 0);
	assert_int_equal(container_model_schedule(&m, 30000, 1.0, 0), -1);
}

/* The model's samples are what the daemon's feature code reads: check the rows it derives. */
static void test_model_feeds_features(void **state)
{
	(void)state;
	struct cm_params p = params_no_restart();
	struct container_model m;
	container_model_init(&m, 1, &p, 2.0, 2048);
	struct cm_demand d = { .cpu_cores = 3.0, .mem_mb = 2296, .nr_procs = 50 };
	struct feat_raw prev, cur;
	container_model_step(&m, 0, 1000, &d, NULL, &prev);
	container_model_step(&m, 1000, 1000, &d, NULL, &cur);
	struct feat_row row;
	assert_true(features_row_from_raw(&prev, &cur, &row));
	assert_true(fabs(row.v[COL_CPU] - 100.0) < 1e-6);          /* 2 of 2 allowed cores */
	assert_true(fabs(row.v[COL_MEM] - 2032.0) < 1e-6);         /* held at memory.high */
	assert_true(fabs(row.v[COL_SWAP] - 264.0) < 1e-6);
	assert_true(fabs(row.v[COL_PSI_CPU_SOME] - 1000.0 / 3) < 1e-3); /* ms per s */
	assert_true(fabs(row.v[COL_PSI_MEM_SOME] - 500.0) < 1e-6);
	assert_true(fabs(row.v[COL_THROTTLED] - 1.0) < 1e-9);
	assert_true(fabs(row.v[COL_PROCS] - 50) < 1e-9);
	assert_true(row.v[COL_OOM] == 0);
	assert_false(row.known & COL_BIT(COL_RUNQ_P50));
	d.mem_mb = 3000; /* over max + swap: the row shows the kill */
	prev = cur;
	container_model_step(&m, 2000, 1000, &d, NULL, &cur);
	assert_true(features_row_from_raw(&prev, &cur, &row));
	assert_true(row.v[COL_OOM] == 1);
	assert_true(row.v[COL_CPU] == 0);
}

/* ---- scenarios -------------------------------------------------------------------------- */

static void check_labels_sane(const struct scenario *s)
{
	int64_t end = s->start_ms + (int64_t)s->n_steps * s->step_ms;
	for (size_t i = 0; i < s->n_incidents; i++) {
		assert_true(s->incidents[i].start_ms < s->incidents[i].end_ms);
		assert_true(s->incidents[i].start_ms >= s->start_ms);
		assert_true(s->incidents[i].end_ms <= end + 1);
		if (i > 0)
			assert_true(s->incidents[i].start_ms >= s->incidents[i - 1].end_ms);
	}
	for (size_t i = 0; i < s->n_steps; i++) {
		assert_true(isfinite(s->demand[i].cpu_cores) && s->demand[i].cpu_cores >= 0);
		assert_true(isfinite(s->demand[i].mem_mb) && s->demand[i].mem_mb > 0);
		assert_true(s->demand[i].neighbour_stall >= 0 && s->demand[i].neighbour_stall <= 1);
	}
}

/* mean of a demand field inside (in = true) or outside all incidents */
static double mean_where(const struct scenario *s, bool in, int field)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < s->n_steps; i++) {
		bool inside = scenario_incident_at(s, s->start_ms + (int64_t)i * s->step_ms) >= 0;
		if (inside != in)
			continue;
		const struct cm_demand *d = &s->demand[i];
		sum += field == 0 ? d->cpu_cores : field == 1 ? d->mem_mb : field == 2 ? d->neighbour_stall
		                                                                      : (double)d->nr_procs;
		n++;
	}
	return n ? sum / (double)n : NAN;
}

static void gen(const char *name, uint64_t seed, struct scenario *s)
{
	char err[128];
	assert_int_equal(scenario_generate(name, seed, s, err, sizeof err), 0);
	check_labels_sane(s);
}

static void test_scenario_determinism(void **state)
{
	(void)state;
	for (size_t k = 0; k < scenario_generated_count(); k++) {
		struct scenario a, b, c;
		gen(scenario_generated_name(k), 7, &a);
		gen(scenario_generated_name(k), 7, &b);
		gen(scenario_generated_name(k), 8, &c);
		assert_int_equal(a.n_steps, b.n_steps);
		assert_memory_equal(a.demand, b.demand, a.n_steps * sizeof *a.demand);
		assert_int_equal(a.n_incidents, b.n_incidents);
		if (a.n_incidents)
			assert_memory_equal(a.incidents, b.incidents, a.n_incidents * sizeof *a.incidents);
		assert_memory_not_equal(a.demand, c.demand, a.n_steps * sizeof *a.demand);
		scenario_free(&a);
		scenario_free(&b);
		scenario_free(&c);
	}
	struct scenario s;
	char err[128];
	assert_int_equal(scenario_generate("nope", 1, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown scenario"));
}

static void test_scenario_quiet(void **state)
{
	(void)state;
	struct scenario s;
	gen("idle", 1, &s);
	assert_int_equal(s.n_incidents, 0);
	assert_true(mean_where(&s, false, 0) < 0.1);
	scenario_free(&s);
	gen("steady_noisy", 1, &s);
	assert_int_equal(s.n_incidents, 0);
	double m = mean_where(&s, false, 0);
	assert_true(m > 0.8 && m < 1.0);
	scenario_free(&s);
}

static void test_scenario_diurnal(void **state)
{
	(void)state;
	struct scenario s;
	gen("diurnal", 3, &s);
	assert_int_equal(s.n_incidents, 2); /* one noon peak per day */
	for (size_t i = 0; i < s.n_incidents; i++) {
		const struct scenario_incident *in = &s.incidents[i];
		assert_int_equal(in->kind, INCIDENT_DIURNAL_PEAK);
		assert_true(in->relievable);
		/* centred on noon, 24 h apart */
		int64_t mid = (in->start_ms + in->end_ms) / 2 - s.start_ms;
		int64_t noon = 12 * 3600000LL + (int64_t)i * 24 * 3600000LL;
		assert_true(llabs(mid - noon) <= 2000);
	}
	assert_true(mean_where(&s, true, 0) > s.init_cpu_cores);
	assert_true(mean_where(&s, false, 0) < s.init_cpu_cores);
	scenario_free(&s);
}

static void test_scenario_cpu_burst(void **state)
{
	(void)state;
	struct scenario s;
	gen("cpu_burst", 5, &s);
	assert_int_equal(s.n_incidents, 6);
	for (size_t i = 0; i < s.n_incidents; i++) {
		assert_int_equal(s.incidents[i].kind, INCIDENT_CPU_BURST);
		int64_t len = s.incidents[i].end_ms - s.incidents[i].start_ms;
		assert_true(len >= 3 * 60000 && len <= 20 * 60000);
	}
	assert_true(mean_where(&s, true, 0) > 2.4);
	assert_true(mean_where(&s, false, 0) < 0.5);
	scenario_free(&s);
}

static void test_scenario_memory_leak(void **state)
{
	(void)state;
	struct scenario s;
	gen("memory_leak", 5, &s);
	assert_int_equal(s.n_incidents, 3);
	static const double expect_peak[3] = { 600 + 10 * 150, 600 + 40 * 60, 600 + 150 * 20 };
	for (size_t i = 0; i < 3; i++) {
		const struct scenario_incident *in = &s.incidents[i];
		assert_int_equal(in->kind, INCIDENT_MEM_LEAK);
		size_t last = (size_t)((in->end_ms - 1 - s.start_ms) / s.step_ms);
		size_t first = (size_t)((in->start_ms - s.start_ms) / s.step_ms);
		assert_true(fabs(s.demand[last].mem_mb - expect_peak[i]) < 40);
		assert_true(fabs(s.demand[first].mem_mb - 600) < 40);
		assert_true(fabs(s.demand[last + 1].mem_mb - 600) < 40); /* fixed at the end */
	}
	assert_true(fabs(mean_where(&s, false, 1) - 600) < 5);
	scenario_free(&s);
}

static void test_scenario_fork_storm(void **state)
{
	(void)state;
	struct scenario s;
	gen("fork_storm", 5, &s);
	assert_int_equal(s.n_incidents, 3);
	for (size_t i = 0; i < 3; i++) {
		size_t at = (size_t)((s.incidents[i].start_ms + 60000 - s.start_ms) / s.step_ms);
		assert_true(s.demand[at].nr_procs >= 1500);
		assert_true(s.demand[at].cpu_cores > 2.0);
	}
	assert_true(mean_where(&s, false, 3) == 60.0);
	scenario_free(&s);
}

static void test_scenario_neighbour(void **state)
{
	(void)state;
	struct scenario s;
	gen("noisy_neighbour", 5, &s);
	assert_int_equal(s.n_incidents, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(s.incidents[i].kind, INCIDENT_NEIGHBOUR);
		assert_false(s.incidents[i].relievable);
	}
	assert_true(mean_where(&s, true, 2) > 0.35);
	assert_true(mean_where(&s, false, 2) == 0.0);
	/* pressure without own usage: CPU demand the same inside and outside */
	assert_true(fabs(mean_where(&s, true, 0) - mean_where(&s, false, 0)) < 0.02);
	scenario_free(&s);
}

static void test_scenario_nab(void **state)
{
	(void)state;
	char dir[512], csv[700], win[700];
	if (scenario_shared_dir(dir, sizeof dir) != 0)
		skip();
	snprintf(csv, sizeof csv, "%s/data/nab/ec2_cpu_utilization_24ae8d.csv", dir);
	snprintf(win, sizeof win, "%s/data/nab/windows.json", dir);
	if (access(csv, R_OK) != 0)
		skip();
	struct scenario s;
	char err[256];
	assert_int_equal(scenario_load_nab(csv, win, 900, &s, err, sizeof err), 0);
	check_labels_sane(&s);
	assert_string_equal(s.name, "nab_24ae8d");
	assert_int_equal(s.n_incidents, 2);
	assert_int_equal(s.incidents[0].kind, INCIDENT_NAB_ANOMALY);
	/* 2014-02-14 14:30:00 UTC, first value 0.132 % of 4 cores */
	assert_int_equal(s.start_ms, 1392388200000LL);
	assert_true(fabs(s.demand[0].cpu_cores - 0.132 / 100 * NAB_REF_CORES) < EPS);
	/* halfway between the first two points (0.132 and 0.134), linear */
	assert_true(fabs(s.demand[15].cpu_cores - 0.133 / 100 * NAB_REF_CORES) < EPS);
	/* window 1 starts 2014-02-26 13:45:00 UTC */
	assert_int_equal(s.incidents[0].start_ms, 1393422300000LL);
	assert_int_equal(s.n_steps, (size_t)(4031 * 300000LL / NAB_STEP_MS) + 1);
	scenario_free(&s);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/lxcscale-test-replay-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[128];
	/* only files this test wrote, in its own mkdtemp directory */
	static const char *names[] = { "a.csv", "w.json", "rec", "cut", "bad", "text", "ver", "metrics.json", NULL };
	for (int i = 0; names[i]; i++) {
		snprintf(cmd, sizeof cmd, "%s/%s", tmpdir, names[i]);
		unlink(cmd);
	}
	return rmdir(tmpdir);
}

static void write_file(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_scenario_nab_malformed(void **state)
{
	(void)state;
	char csv[128], win[128], err[256];
	struct scenario s;
	static const struct {
		const char *csv, *win, *expect;
	} cases[] = {
		{ "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,2\n", "{\"b.csv\": []}", "no window list" },
		{ "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,2\n", "{\"a.csv\": [[\"x\",\"y\"]]}", "bad time" },
		{ "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,2\n", "{\"a.csv\": [[\"2014-02-14 15:00:00\",\"2014-02-14 14:00:00\"]]}", "ends before" },
		{ "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,2\n", "not json", "cannot read or parse" },
		{ "timestamp,value\n2014-02-14 14:30,1\n", "{\"a.csv\": []}", "bad timestamp" },
		{ "timestamp,value\n2014-02-14 14:30:00,abc\n", "{\"a.csv\": []}", "bad value" },
		{ "timestamp,value\n2014-02-14 14:30:00,150\n", "{\"a.csv\": []}", "bad value" },
		{ "timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:30:00,2\n", "{\"a.csv\": []}", "must increase" },
		{ "timestamp,value\n2014-02-14 14:30:00 1\n", "{\"a.csv\": []}", "expected" },
		{ "timestamp,value\n2014-02-14 14:30:00,1\n", "{\"a.csv\": []}", "fewer than 2" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_file("a.csv", cases[i].csv, csv, sizeof csv);
		write_file("w.json", cases[i].win, win, sizeof win);
		err[0] = '\0';
		assert_int_equal(scenario_load_nab(csv, win, 1, &s, err, sizeof err), -1);
		if (!strstr(err, cases[i].expect))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].expect);
	}
	assert_int_equal(scenario_load_nab("/nonexistent/x.csv", win, 1, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	/* a good minimal pair loads */
	write_file("a.csv", "timestamp,value\n2014-02-14 14:30:00,50\n2014-02-14 14:35:00,100\n", csv, sizeof csv);
	write_file("w.json", "{\"a.csv\": [[\"2014-02-14 14:31:00.000000\",\"2014-02-14 14:33:00.000000\"]]}", win, sizeof win);
	assert_int_equal(scenario_load_nab(csv, win, 1, &s, err, sizeof err), 0);
	assert_int_equal(s.n_steps, 31);
	assert_int_equal(s.n_incidents, 1);
	assert_true(fabs(s.demand[30].cpu_cores - NAB_REF_CORES) < EPS);
	assert_true(fabs(s.demand[0].cpu_cores - NAB_REF_CORES / 2) < EPS);
	scenario_free(&s);
}

/* ---- recording -------------------------------------------------------------------------- */

#define REC_TICKS 9
#define REC_CONTAINERS 3

static void fill_tick(int t, struct recording_sample *s, struct decision *d)
{
	for (int c = 0; c < REC_CONTAINERS; c++) {
		memset(&s[c], 0, sizeof s[c]);
		s[c].vmid = (uint32_t)(100 + c);
		s[c].ram_mb = 2048;
		struct feat_raw *r = &s[c].raw;
		r->mono_ms = 5000 + t * 100;
		r->wall_ms = 1700000000000LL + t * 100;
		r->known = RAW_BIT(RAW_CPU_USAGE) | RAW_BIT(RAW_CPU_CORES) | RAW_BIT(RAW_MEM) | RAW_BIT(RAW_OOM);
		r->cpu_cores = 2.5 + c;
		r->cpu_usage_usec = (uint64_t)t * 123456789ULL + (uint64_t)c;
		r->mem_current = (uint64_t)(512 + t) << 20;
		r->mem_file = 1u << 20;
		r->oom_kills = (uint64_t)c;
		r->net_rx_bytes = UINT64_MAX - (uint64_t)t;
		r->psi_total_us[2][1] = 77;
		r->runq_p99_us = 12.5;
		r->pids = (uint64_t)(40 + t);
	}
	memset(d, 0, sizeof *d);
	d->seq = (uint64_t)t;
	d->time_ms = 1700000000000LL + t * 100;
	d->vmid = 101;
	d->cpu_change = DECISION_UP;
	d->cpu_from = 2;
	d->cpu_to = 3;
	d->mem_change = DECISION_DOWN;
	d->mem_from_mb = 4096;
	d->mem_to_mb = 3584;
	d->reason = REASON_PSI;
	d->confidence = 87.5;
	d->anomaly_score = -0.61;
	d->anomaly = true;
	d->urgency = 2;
	snprintf(d->top[0].name, sizeof d->top[0].name, "memory_usage_mb");
	d->top[0].share = 0.61;
	snprintf(d->top[1].name, sizeof d->top[1].name, "memory_trend");
	d->top[1].share = 0.22;
	d->cpu_pct = 91.0;
	d->mem_pct = 40.5;
	d->mem_psi_some_ms = 120;
	d->persist = true;
	d->priority = -3;
	snprintf(d->detail, sizeof d->detail, "cpu 91.0%% > 75%% 2->3");
}

static void write_recording(const char *path, unsigned flush_ticks)
{
	char err[256];
	struct recording_writer *w = recording_writer_open(path, 100, 1700000000000LL, flush_ticks, err, sizeof err);
	assert_non_null(w);
	for (int t = 0; t < REC_TICKS; t++) {
		struct recording_sample s[REC_CONTAINERS];
		struct decision d;
		fill_tick(t, s, &d);
		/* a decision every other tick, so ticks with none are covered too */
		assert_int_equal(recording_write_tick(w, 1700000000000LL + t * 100, s, REC_CONTAINERS, &d,
		                                      t % 2 ? 0 : 1), REC_OK);
	}
	assert_int_equal(recording_writer_close(w), REC_OK);
}

/* Read everything; returns the final status and the count of ticks that matched. */
static int read_all(const char *path, int *ticks_ok)
{
	int st;
	char err[256];
	*ticks_ok = 0;
	struct recording_reader *r = recording_reader_open(path, &st, err, sizeof err);
	if (!r) {
		assert_true(st < 0);
		assert_true(err[0] != '\0');
		return st;
	}
	struct recording_tick tk;
	int rc;
	while ((rc = recording_read_tick(r, &tk)) == REC_OK) {
		int t = *ticks_ok;
		struct recording_sample s[REC_CONTAINERS];
		struct decision d;
		fill_tick(t, s, &d);
		assert_int_equal(tk.time_ms, 1700000000000LL + t * 100);
		assert_int_equal(tk.n_samples, REC_CONTAINERS);
		for (int c = 0; c < REC_CONTAINERS; c++)
			assert_memory_equal(&tk.samples[c], &s[c], sizeof s[c]);
		assert_int_equal(tk.n_decisions, t % 2 ? 0 : 1);
		if (tk.n_decisions)
			assert_memory_equal(&tk.decisions[0], &d, sizeof d);
		(*ticks_ok)++;
	}
	if (rc != REC_END)
		assert_true(recording_reader_error(r)[0] != '\0');
	/* a stopped reader keeps saying why */
	assert_int_equal(recording_read_tick(r, &tk), rc);
	recording_reader_close(r);
	return rc;
}

static void test_recording_round_trip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "%s/rec", tmpdir);
	for (unsigned flush = 1; flush <= 10; flush += 3) {
		write_recording(path, flush);
		int ok;
		assert_int_equal(read_all(path, &ok), REC_END);
		assert_int_equal(ok, REC_TICKS);
	}
	assert_int_equal(recording_probe(path), 1);
	int st;
	char err[128];
	struct recording_reader *r = recording_reader_open(path, &st, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(recording_reader_info(r)->tick_ms, 100);
	assert_int_equal(recording_reader_info(r)->created_ms, 1700000000000LL);
	assert_int_equal(recording_reader_info(r)->version, RECORDING_VERSION);
	recording_reader_close(r);
}

static long file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

static void copy_prefix(const char *from, const char *to, long n, long flip_at)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	for (long i = 0; i < n; i++) {
		int c = fgetc(in);
		assert_true(c != EOF);
		if (i == flip_at)
			c ^= 0x5a;
		fputc(c, out);
	}
	fclose(in);
	fclose(out);
}

static void test_recording_truncated(void **state)
{
	(void)state;
	char path[128], cut[128];
	snprintf(path, sizeof path, "%s/rec", tmpdir);
	snprintf(cut, sizeof cut, "%s/cut", tmpdir);
	write_recording(path, 2);
	long size = file_size(path);
	int last_ok = -1;
	for (long n = 0; n < size; n++) {
		copy_prefix(path, cut, n, -1);
		int ok;
		int rc = read_all(cut, &ok);
		/* every cut is reported: nothing before the magic is a recording; after it, truncated */
		if (n < 8)
			assert_int_equal(rc, REC_ERR_FORMAT);
		else
			assert_int_equal(rc, REC_ERR_TRUNCATED);
		assert_true(ok <= REC_TICKS);
		assert_true(ok >= last_ok); /* a longer prefix never yields fewer ticks */
		last_ok = ok;
	}
	assert_int_equal(last_ok, REC_TICKS); /* only the end marker missing: all ticks readable */
}

static void test_recording_corrupt(void **state)
{
	(void)state;
	char path[128], bad[128];
	snprintf(path, sizeof path, "%s/rec", tmpdir);
	snprintf(bad, sizeof bad, "%s/bad", tmpdir);
	write_recording(path, 4);
	long size = file_size(path);
	for (long i = 0; i < size; i++) {
		copy_prefix(path, bad, size, i);
		int ok;
		int rc = read_all(bad, &ok);
		/* every byte is covered by a magic, a checksum or a size check */
		if (rc == REC_END)
			fail_msg("flipping byte %ld went unnoticed", i);
		assert_true(rc == REC_ERR_FORMAT || rc == REC_ERR_CORRUPT || rc == REC_ERR_TRUNCATED ||
		            rc == REC_ERR_VERSION);
	}
	/* garbage after the end marker */
	FILE *f = fopen(path, "ab");
	fputc('x', f);
	fclose(f);
	int ok;
	assert_int_equal(read_all(path, &ok), REC_ERR_FORMAT);
}

static void test_recording_bad_files(void **state)
{
	(void)state;
	char path[128], err[256];
	int st;
	assert_null(recording_reader_open("/nonexistent/rec", &st, err, sizeof err));
	assert_int_equal(st, REC_ERR_IO);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(recording_probe("/nonexistent/rec"), -1);

	write_file("text", "[{\"104\": {}}]\n this is JSON, not a recording\n", path, sizeof path);
	assert_null(recording_reader_open(path, &st, err, sizeof err));
	assert_int_equal(st, REC_ERR_FORMAT);
	assert_non_null(strstr(err, "not an lxcscale recording"));
	assert_int_equal(recording_probe(path), 0);

	/* a future version, with a valid header checksum */
	char rec[128];
	snprintf(rec, sizeof rec, "%s/rec", tmpdir);
	write_recording(rec, 4);
	snprintf(path, sizeof path, "%s/ver", tmpdir);
	copy_prefix(rec, path, file_size(rec), -1);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t h[32];
	assert_int_equal(pread(fd, h, 32, 0), 32);
	h[8] = 9;
	uint32_t crc = (uint32_t)crc32(0L, h, 28);
	h[28] = (uint8_t)crc;
	h[29] = (uint8_t)(crc >> 8);
	h[30] = (uint8_t)(crc >> 16);
	h[31] = (uint8_t)(crc >> 24);
	assert_int_equal(pwrite(fd, h, 32, 0), 32);
	close(fd);
	assert_null(recording_reader_open(path, &st, err, sizeof err));
	assert_int_equal(st, REC_ERR_VERSION);
	assert_non_null(strstr(err, "version 9"));

	/* writer errors: a missing directory, a full disk */
	assert_null(recording_writer_open("/nonexistent/dir/rec", 100, 0, 0, err, sizeof err));
	assert_non_null(strstr(err, "No such file"));
	struct recording_writer *w = recording_writer_open("/dev/full", 100, 0, 1, err, sizeof err);
	assert_null(w);
	assert_non_null(strstr(err, "No space"));
}

static void test_recording_limits(void **state)
{
	(void)state;
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/rec", tmpdir);
	struct recording_writer *w = recording_writer_open(path, 100, 0, 0, err, sizeof err);
	assert_non_null(w);
	struct recording_sample s[REC_CONTAINERS];
	struct decision d;
	fill_tick(0, s, &d);
	assert_int_equal(recording_write_tick(w, 0, s, RECORDING_MAX_SAMPLES + 1, NULL, 0), REC_ERR_LIMIT);
	assert_int_equal(recording_write_tick(w, 0, s, 1, NULL, 0), REC_OK); /* still usable */
	struct recording_sample odd = s[0];
	odd.raw.known = 1u << 31; /* a field this build does not know */
	d.cpu_change = (enum decision_change)7; /* out of range: written, refused by the reader */
	assert_int_equal(recording_write_tick(w, 100, s, 1, &d, 1), REC_OK);
	assert_int_equal(recording_writer_close(w), REC_OK);
	int st;
	struct recording_reader *r = recording_reader_open(path, &st, err, sizeof err);
	assert_non_null(r);
	struct recording_tick tk;
	assert_int_equal(recording_read_tick(r, &tk), REC_OK);
	assert_int_equal(recording_read_tick(r, &tk), REC_ERR_FORMAT);
	assert_non_null(strstr(recording_reader_error(r), "out of range"));
	assert_int_equal(recording_reader_ticks(r), 1);
	recording_reader_close(r);

	w = recording_writer_open(path, 100, 0, 0, err, sizeof err);
	assert_non_null(w);
	assert_int_equal(recording_write_tick(w, 0, &odd, 1, NULL, 0), REC_OK);
	assert_int_equal(recording_writer_close(w), REC_OK);
	r = recording_reader_open(path, &st, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(recording_read_tick(r, &tk), REC_ERR_FORMAT);
	assert_non_null(strstr(recording_reader_error(r), "sample 0 of tick 0 out of range"));
	recording_reader_close(r);
}

/* The daemon's recorder: samples and decisions handed over during a tick land in that tick. */
static void test_recorder(void **state)
{
	(void)state;
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/rec", tmpdir);
	struct recorder *r = recorder_open(path, 100, 1700000000000LL, err, sizeof err);
	assert_non_null(r);
	struct recording_sample s[REC_CONTAINERS];
	struct decision d;
	for (int t = 0; t < 25; t++) {
		fill_tick(t, s, &d);
		for (int c = 0; c < REC_CONTAINERS; c++)
			recorder_sample(r, s[c].vmid, s[c].ram_mb, &s[c].raw);
		if (t % 2 == 0)
			recorder_decision(r, &d);
		assert_int_equal(recorder_tick(r, 1700000000000LL + t * 100, err, sizeof err), 0);
	}
	fill_tick(25, s, &d); /* handed over after the last tick: close writes it */
	for (int c = 0; c < REC_CONTAINERS; c++)
		recorder_sample(r, s[c].vmid, s[c].ram_mb, &s[c].raw);
	assert_int_equal(recorder_close(r, err, sizeof err), 0);
	int ok;
	assert_int_equal(read_all(path, &ok), REC_END);
	assert_int_equal(ok, 26);
	assert_null(recorder_open("/dev/full", 100, 0, err, sizeof err));
	assert_non_null(strstr(err, "No space"));
	assert_null(recorder_open("/nonexistent/dir/rec", 100, 0, err, sizeof err));
}

/* ---- scorecard -------------------------------------------------------------------------- */

static struct scorecard_step cpu_step(int64_t t, double demand, double limit, int incident)
{
	struct scorecard_step s;
	memset(&s, 0, sizeof s);
	s.t_ms = t;
	s.dt_ms = 1000;
	s.cm.cpu_demand_cores = demand;
	s.cm.cpu_limit_cores = limit;
	s.cm.cpu_used_cores = demand < limit ? demand : limit;
	s.cm.cpu_throttled_s = demand > limit ? demand - limit : 0;
	s.cm.mem_demand_mb = 1024;
	s.cm.mem_used_mb = 1024;
	s.cm.mem_limit_mb = 2048;
	s.incident = incident;
	return s;
}

static void test_scorecard_relief(void **state)
{
	(void)state;
	struct cm_params cmp;
	cm_params_default(&cmp);
	struct scenario_incident inc[3] = {
		{ INCIDENT_CPU_BURST, 10000, 20000, true },  /* starved 10..12, relieved at 13 */
		{ INCIDENT_CPU_BURST, 30000, 40000, true },  /* starved the whole window */
		{ INCIDENT_CPU_BURST, 50000, 60000, true },  /* limit already high: relieved at 0 s */
	};
	struct scorecard sc;
	scorecard_init(&sc, NULL);
	assert_int_equal(scorecard_begin_trace(&sc, inc, 3, 2.0, 2048, &cmp), 0);
	for (int64_t t = 0; t < 70000; t += 1000) {
		int i = t >= 10000 && t < 20000 ? 0 : t >= 30000 && t < 40000 ? 1 : t >= 50000 && t < 60000 ? 2 : -1;
		double demand = i >= 0 ? 3.0 : 1.0;
		double limit = 2.0;
		if (i == 0 && t >= 13000)
			limit = 4.0;
		if (i == 2)
			limit = 4.0;
		struct scorecard_step s = cpu_step(t, demand, limit, i);
		if (t == 13000 || t == 50000)
			s.cm.cpu_changes = 1;
		scorecard_add_step(&sc, &s);
	}
	assert_int_equal(scorecard_end_trace(&sc), 0);
	struct scorecard_summary o;
	scorecard_summarise(&sc, &o);
	assert_int_equal(o.incidents, 3);
	assert_int_equal(o.applicable, 3);
	assert_int_equal(o.relieved, 2);
	assert_int_equal(o.unharmed, 1);
	assert_true(fabs(o.relieved_pct - 200.0 / 3) < 1e-6);
	assert_true(fabs(o.ttr_p50_s - 0) < EPS);  /* {0, 3}: nearest rank 1 */
	assert_true(fabs(o.ttr_p99_s - 3) < EPS);
	/* throttled: 3 s at 1 CPU (inc 0) + 10 s at 1 CPU (inc 1) */
	assert_true(fabs(o.throttled_cpu_s - 13) < EPS);
	assert_true(fabs(o.container_hours - 70.0 / 3600) < EPS);
	assert_true(fabs(o.changes_per_hour - 2 / (70.0 / 3600)) < 1e-6);
	scorecard_free(&sc);
}

static void test_scorecard_not_applicable_and_slack(void **state)
{
	(void)state;
	struct cm_params cmp;
	cm_params_default(&cmp);
	struct scenario_incident inc = { INCIDENT_NAB_ANOMALY, 0, 10000, true };
	struct scorecard sc;
	scorecard_init(&sc, NULL);
	scorecard_begin_trace(&sc, &inc, 1, 2.0, 2048, &cmp);
	for (int64_t t = 0; t < 10000; t += 1000) {
		struct scorecard_step s = cpu_step(t, 1.5, 2.0, 0);
		scorecard_add_step(&sc, &s);
	}
	scorecard_end_trace(&sc);
	struct scorecard_summary o;
	scorecard_summarise(&sc, &o);
	assert_int_equal(o.applicable, 0);
	assert_true(isnan(o.relieved_pct));
	assert_true(isnan(o.ttr_p50_s));
	assert_true(fabs(o.cpu_slack_pct - 25.0) < EPS); /* (2 - 1.5) / 2 */
	assert_true(fabs(o.mem_slack_pct - 50.0) < EPS); /* (2048 - 1024) / 2048 */
	assert_true(isnan(o.precision_pct));             /* nothing flagged */
	assert_true(fabs(o.recall_pct - 0.0) < EPS);
	assert_int_equal(o.oom_kills, 0);
	scorecard_free(&sc);
}

static void test_scorecard_memory_and_futile(void **state)
{
	(void)state;
	struct cm_params cmp;
	cm_params_default(&cmp);
	struct scenario_incident inc[2] = {
		{ INCIDENT_MEM_LEAK, 0, 10000, true },
		{ INCIDENT_NEIGHBOUR, 20000, 30000, false },
	};
	struct scorecard sc;
	scorecard_init(&sc, NULL);
	scorecard_begin_trace(&sc, inc, 2, 2.0, 2048, &cmp);
	for (int64_t t = 0; t < 30000; t += 1000) {
		int i = t < 10000 ? 0 : t >= 20000 ? 1 : -1;
		struct scorecard_step s = cpu_step(t, 0.5, 2.0, i);
		if (t == 2000) { /* an OOM kill, then a restart, then more memory at 6 s */
			s.cm.oom_kill = true;
			s.cm.restarting = true;
		}
		if (t > 2000 && t < 5000)
			s.cm.restarting = true;
		if (t >= 6000 && t < 10000)
			s.cm.mem_limit_mb = 3072;
		if (t == 6000)
			s.cm.mem_changes = 1;
		if (t == 21000)
			s.cm.cpu_changes = 1; /* resizing cannot help a noisy neighbour */
		scorecard_add_step(&sc, &s);
	}
	scorecard_end_trace(&sc);
	struct scorecard_summary o;
	scorecard_summarise(&sc, &o);
	assert_int_equal(o.oom_kills, 1);
	assert_int_equal(o.applicable, 1);
	assert_int_equal(o.relieved, 1);
	assert_int_equal(o.unharmed, 0);
	/* onset at the kill (2 s); at 5 s not starved but the limit was not raised yet; 6 s */
	assert_true(fabs(o.ttr_p50_s - 4.0) < EPS);
	assert_int_equal(o.futile_changes, 1);
	scorecard_free(&sc);
}

static void test_scorecard_detection(void **state)
{
	(void)state;
	struct cm_params cmp;
	cm_params_default(&cmp);
	struct scenario_incident inc[2] = {
		{ INCIDENT_CPU_BURST, 1000000, 2000000, true },
		{ INCIDENT_CPU_BURST, 5000000, 6000000, true },
	};
	struct scorecard sc;
	scorecard_init(&sc, NULL); /* grace 600 s */
	scorecard_begin_trace(&sc, inc, 2, 2.0, 2048, &cmp);
	int64_t flags_at[] = { 1500000, 2500000, 3000000, 4000000 }; /* in, grace, out, out */
	for (size_t k = 0; k < 4; k++) {
		struct scorecard_step s = cpu_step(flags_at[k], 1.0, 2.0, scenario_incident_at(&(struct scenario){
			.incidents = inc, .n_incidents = 2 }, flags_at[k]));
		s.evaluated = true;
		s.flagged = true;
		scorecard_add_step(&sc, &s);
	}
	struct scorecard_step quiet = cpu_step(4500000, 1.0, 2.0, -1);
	quiet.evaluated = true;
	scorecard_add_step(&sc, &quiet);
	scorecard_end_trace(&sc);
	struct scorecard_summary o;
	scorecard_summarise(&sc, &o);
	assert_int_equal(o.evaluations, 5);
	assert_int_equal(o.flags, 4);
	assert_true(fabs(o.precision_pct - 50.0) < EPS);
	assert_true(fabs(o.recall_pct - 50.0) < EPS);

	/* merging sums the totals and keeps every relief time */
	struct scorecard total;
	scorecard_init(&total, NULL);
	assert_int_equal(scorecard_merge(&total, &sc), 0);
	assert_int_equal(scorecard_merge(&total, &sc), 0);
	scorecard_summarise(&total, &o);
	assert_int_equal(o.flags, 8);
	assert_int_equal(o.incidents, 4);
	assert_true(fabs(o.precision_pct - 50.0) < EPS);
	scorecard_free(&total);
	scorecard_free(&sc);
}

static void test_scorecard_percentile(void **state)
{
	(void)state;
	double v[5] = { 5, 1, 3, 2, 4 };
	assert_true(scorecard_percentile(v, 5, 50) == 3);
	assert_true(scorecard_percentile(v, 5, 99) == 5);
	assert_true(scorecard_percentile(v, 5, 0) == 1);
	assert_true(isnan(scorecard_percentile(v, 0, 50)));
	double one = 7;
	assert_true(scorecard_percentile(&one, 1, 99) == 7);
	double hundred[100];
	for (int i = 0; i < 100; i++)
		hundred[i] = 100 - i;
	assert_true(scorecard_percentile(hundred, 100, 99) == 99);
	assert_true(scorecard_percentile(hundred, 100, 50) == 50);
}

static void test_scorecard_print(void **state)
{
	(void)state;
	struct scorecard_summary s[2];
	memset(s, 0, sizeof s);
	s[0].relieved_pct = 100;
	s[0].ttr_p50_s = 2;
	s[1].relieved_pct = NAN;
	s[1].ttr_p50_s = NAN;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *names[2] = { "lxcscale", "reference" };
	scorecard_print(f, "test", s, names, 2);
	fclose(f);
	assert_non_null(strstr(out, "lxcscale"));
	assert_non_null(strstr(out, "reference"));
	assert_non_null(strstr(out, "incidents relieved %"));
	assert_non_null(strstr(out, "100.0"));
	assert_non_null(strstr(out, "            -"));
	free(out);
}


/* ---- the replay loop (features → model → policy, real modules) -------------------------- */

static char *run_to_string(const struct scenario *s, const struct replay_config *c,
                           struct scorecard *sc, uint64_t *nd)
{
	char *out = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	int rc = replay_run(s, c, f, sc, nd, err, sizeof err);
	fclose(f);
	if (rc != 0)
		fail_msg("replay_run: %s", err);
	return out;
}

/* A shortened scenario keeps the tests fast: its first `hours`. */
static void gen_hours(const char *name, uint64_t seed, double hours, struct scenario *s)
{
	gen(name, seed, s);
	size_t n = (size_t)(hours * 3600000.0 / (double)s->step_ms);
	if (n < s->n_steps)
		s->n_steps = n;
	int64_t end = s->start_ms + (int64_t)s->n_steps * s->step_ms;
	size_t k = 0;
	for (size_t i = 0; i < s->n_incidents; i++)
		if (s->incidents[i].end_ms <= end)
			s->incidents[k++] = s->incidents[i];
	s->n_incidents = k;
}

static void test_replay_deterministic(void **state)
{
	(void)state;
	struct scenario s;
	gen_hours("cpu_burst", 3, 4, &s);
	struct replay_config c[2];
	assert_int_equal(replay_config_lxcscale(&c[0], NULL), 0);
	assert_int_equal(replay_config_reference(&c[1], NULL), 0);
	for (int p = 0; p < 2; p++) {
		uint64_t n1, n2;
		char *a = run_to_string(&s, &c[p], NULL, &n1);
		char *b = run_to_string(&s, &c[p], NULL, &n2);
		assert_true(n1 > 0);
		assert_int_equal(n1, n2);
		assert_string_equal(a, b); /* byte-identical decisions */
		free(a);
		free(b);
	}
	scenario_free(&s);
}

static void test_replay_cadence_and_relief(void **state)
{
	(void)state;
	struct scenario s;
	gen_hours("cpu_burst", 3, 4, &s);
	assert_true(s.n_incidents >= 1);
	struct replay_config c[2];
	assert_int_equal(replay_config_lxcscale(&c[0], NULL), 0);
	assert_int_equal(replay_config_reference(&c[1], NULL), 0);
	struct scorecard sc[2];
	struct scorecard_summary o[2];
	for (int p = 0; p < 2; p++) {
		scorecard_init(&sc[p], NULL);
		char *out = run_to_string(&s, &c[p], &sc[p], NULL);
		/* the reference decides only on its 600 s cycle */
		for (char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			long at;
			assert_int_equal(sscanf(line, "cpu_burst +%lds", &at), 1);
			if (p == 1)
				assert_int_equal(at % 600, 0);
		}
		free(out);
		scorecard_summarise(&sc[p], &o[p]);
		scorecard_free(&sc[p]);
	}
	/* lxcscale acts on the next 1 s tick; the reference waits for its cycle */
	assert_true(o[0].relieved_pct == 100.0);
	assert_true(o[0].ttr_p99_s <= 5);
	assert_true(o[1].ttr_p99_s >= 60 || o[1].relieved_pct < 100.0);
	assert_true(o[0].throttled_cpu_s < o[1].throttled_cpu_s);
	scenario_free(&s);
}

/* model_rebuild_due(): the worker's step in the caller's thread, so a replay needs no worker. */
static void test_model_rebuild_in_line(void **state)
{
	(void)state;
	struct model_opts o;
	model_opts_from(&o, 20, 32, 0.05, 42, 64, 16);
	o.per_container = true;
	o.model_file = NULL;
	char note[128] = "";
	struct model *m = model_new(&o, note, sizeof note);
	assert_non_null(m);
	struct model_ct *ct = model_ct_add(m, 101);
	assert_non_null(ct);
	double x[FEAT_COUNT];
	iforest_result res;
	int published = 0, scored_at = -1;
	for (int i = 0; i < 200; i++) {
		for (unsigned f = 0; f < o.features.n; f++)
			x[f] = (double)((i * 7 + (int)f * 13) % 17);
		int rc = model_score(m, ct, x, true, &res);
		assert_true(rc >= 0);
		if (rc == 1 && scored_at < 0)
			scored_at = i;
		published += model_rebuild_due(m);
	}
	assert_true(published > 0);       /* no worker was started: the rebuilds happened in line */
	assert_true(scored_at >= 0 && scored_at <= 64);
	struct model_status st;
	model_status(m, &st);
	assert_int_equal(st.rebuilds, (uint64_t)published);
	model_ct_remove(m, ct);
	model_free(m);
}

static void test_replay_bad_config(void **state)
{
	(void)state;
	struct scenario s;
	gen_hours("idle", 1, 0.1, &s);
	struct replay_config c;
	replay_config_lxcscale(&c, NULL);
	c.params.cpu_down_pct = 90; /* above the up threshold */
	char err[256];
	assert_int_equal(replay_run(&s, &c, NULL, NULL, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "policy"));
	replay_config_lxcscale(&c, NULL);
	c.window = 0;
	assert_int_equal(replay_run(&s, &c, NULL, NULL, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "features"));
	s.n_steps = 0;
	replay_config_lxcscale(&c, NULL);
	assert_int_equal(replay_run(&s, &c, NULL, NULL, NULL, err, sizeof err), -1);
	scenario_free(&s);
}

/* A recording made by the container model comes back as the demand that made it. */
static void test_replay_input_from_recording(void **state)
{
	(void)state;
	char path[128], err[256], warn[256];
	snprintf(path, sizeof path, "%s/rec", tmpdir);
	struct scenario s;
	gen_hours("fork_storm", 2, 2, &s);
	struct recording_writer *w = recording_writer_open(path, (uint32_t)s.step_ms, s.start_ms, 0, err, sizeof err);
	assert_non_null(w);
	struct container_model m[2];
	container_model_init(&m[0], 301, &s.params, 2.0, 2048);
	container_model_init(&m[1], 302, &s.params, 1.0, 4096);
	/* a sample at the start sets the baseline of every counter */
	struct recording_sample rs[2];
	for (int k = 0; k < 2; k++) {
		struct cm_demand zero = { 0 };
		struct container_model fresh = m[k];
		container_model_step(&fresh, s.start_ms - s.step_ms, 0, &zero, NULL, &rs[k].raw);
		rs[k].raw.mono_ms = rs[k].raw.wall_ms = s.start_ms;
		rs[k].vmid = m[k].vmid;
		rs[k].ram_mb = m[k].mem_limit_mb;
	}
	assert_int_equal(recording_write_tick(w, s.start_ms, rs, 2, NULL, 0), REC_OK);
	for (size_t i = 0; i < s.n_steps; i++) {
		int64_t t = s.start_ms + (int64_t)i * s.step_ms;
		for (int k = 0; k < 2; k++) {
			container_model_step(&m[k], t, s.step_ms, &s.demand[i], NULL, &rs[k].raw);
			rs[k].vmid = m[k].vmid;
			rs[k].ram_mb = m[k].mem_limit_mb;
		}
		assert_int_equal(recording_write_tick(w, t + s.step_ms, rs, 2, NULL, 0), REC_OK);
	}
	assert_int_equal(recording_writer_close(w), REC_OK);

	struct scenario *v = NULL;
	size_t n = 0;
	assert_int_equal(replay_input_load(path, 2, 2048, &v, &n, warn, sizeof warn, err, sizeof err), 0);
	assert_string_equal(warn, "");
	assert_int_equal(n, 2);
	assert_int_equal(v[0].vmid, 301);
	assert_int_equal(v[1].vmid, 302);
	assert_true(fabs(v[1].init_cpu_cores - 1.0) < EPS);
	assert_true(fabs(v[1].init_mem_mb - 4096) < EPS);
	for (size_t k = 0; k < 2; k++) {
		assert_int_equal(v[k].n_steps, s.n_steps);
		assert_int_equal(v[k].step_ms, s.step_ms);
		double worst_cpu = 0, worst_mem = 0;
		for (size_t i = 0; i < s.n_steps; i++) {
			/* counters are whole µs and bytes: compare to that precision */
			double dc = fabs(v[k].demand[i].cpu_cores - s.demand[i].cpu_cores);
			double dm = fabs(v[k].demand[i].mem_mb - s.demand[i].mem_mb);
			worst_cpu = dc > worst_cpu ? dc : worst_cpu;
			worst_mem = dm > worst_mem ? dm : worst_mem;
			assert_int_equal(v[k].demand[i].nr_procs, s.demand[i].nr_procs);
		}
		if (worst_cpu > 1e-3 || worst_mem > 1e-3)
			fail_msg("container %zu: cpu off by %g cores, memory by %g MiB", k, worst_cpu, worst_mem);
		scenario_free(&v[k]);
	}
	free(v);

	/* cut short: replayed up to the last complete chunk, with a warning */
	char cut[128];
	snprintf(cut, sizeof cut, "%s/cut", tmpdir);
	copy_prefix(path, cut, file_size(path) - 20, -1);
	assert_int_equal(replay_input_load(cut, 2, 2048, &v, &n, warn, sizeof warn, err, sizeof err), 0);
	assert_non_null(strstr(warn, "truncated"));
	for (size_t k = 0; k < n; k++)
		scenario_free(&v[k]);
	free(v);

	assert_int_equal(replay_input_load("/nonexistent/x", 2, 2048, &v, &n, warn, sizeof warn, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	char text[128];
	write_file("text", "hello\n", text, sizeof text);
	assert_int_equal(replay_input_load(text, 2, 2048, &v, &n, warn, sizeof warn, err, sizeof err), -1);
	scenario_free(&s);
}

/* The reference system's lxc_metrics.json becomes one trace per container on its interval. */
static void test_replay_input_from_metrics(void **state)
{
	(void)state;
	char path[128], err[256], warn[256];
	snprintf(path, sizeof path, "%s/metrics.json", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("[\n", f);
	for (int k = 0; k < 30; k++) {
		int min = k % 60, hour = 10 + k / 60;
		fprintf(f, "%s{\"104\": {\"timestamp\": \"2025-12-24T%02d:%02d:00.000000\", "
		        "\"cpu_usage_percent\": %d.0, \"memory_usage_mb\": %d.5, \"swap_usage_mb\": 10.0, "
		        "\"swap_total_mb\": 512.0, \"process_count\": %d, "
		        "\"io_stats\": {\"reads\": 1, \"writes\": 2}, \"network_usage\": {\"rx_bytes\": 0, \"tx_bytes\": 0}, "
		        "\"filesystem_usage_gb\": 1.0, \"filesystem_total_gb\": 8.0, \"filesystem_free_gb\": 7.0}, "
		        "\"summary\": {}}\n", k ? "," : "", hour, min, (k * 10) % 100, 500 + k, 40 + k);
	}
	fputs("]\n", f);
	fclose(f);
	struct scenario *v = NULL;
	size_t n = 0;
	if (replay_input_load(path, 4, 4096, &v, &n, warn, sizeof warn, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].vmid, 104);
	assert_int_equal(v[0].step_ms, 60000);
	assert_int_equal(v[0].n_steps, 29);
	assert_true(fabs(v[0].init_cpu_cores - 4) < EPS);
	assert_true(fabs(v[0].init_mem_mb - 4096) < EPS);
	/* step i covers (sample i, sample i+1]: it takes sample i+1's values */
	for (size_t i = 0; i < v[0].n_steps; i++) {
		int k = (int)i + 1;
		assert_true(fabs(v[0].demand[i].cpu_cores - ((k * 10) % 100) / 100.0 * 4) < EPS);
		assert_true(fabs(v[0].demand[i].mem_mb - (500 + k + 0.5 + 10)) < EPS);
		assert_int_equal(v[0].demand[i].nr_procs, 40 + k);
	}
	scenario_free(&v[0]);
	free(v);

	/* one snapshot: nothing to replay */
	f = fopen(path, "w");
	fputs("[{\"104\": {\"timestamp\": \"2025-12-24T10:00:00\", \"cpu_usage_percent\": 1.0, "
	      "\"memory_usage_mb\": 1.0, \"process_count\": 1, \"io_stats\": {\"reads\": 1, \"writes\": 2}, "
	      "\"network_usage\": {\"rx_bytes\": 0, \"tx_bytes\": 0}, \"filesystem_usage_gb\": 1.0, "
	      "\"filesystem_total_gb\": 8.0, \"filesystem_free_gb\": 7.0}}]", f);
	fclose(f);
	assert_int_equal(replay_input_load(path, 4, 4096, &v, &n, warn, sizeof warn, err, sizeof err), -1);
	assert_non_null(strstr(err, "no container has two samples"));
	/* one container more than a replay takes: refused, not cut short */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[{", f);
	for (int id = 100; id < 100 + REPLAY_INPUT_MAX_CONTAINERS + 1; id++)
		fprintf(f, "%s\"%d\": {\"timestamp\": \"2025-12-24T10:00:00\", \"cpu_usage_percent\": 1.0, "
		        "\"memory_usage_mb\": 1.0, \"process_count\": 1, \"io_stats\": {\"reads\": 1, \"writes\": 2}, "
		        "\"network_usage\": {\"rx_bytes\": 0, \"tx_bytes\": 0}, \"filesystem_usage_gb\": 1.0, "
		        "\"filesystem_total_gb\": 8.0, \"filesystem_free_gb\": 7.0}", id > 100 ? ", " : "", id);
	fputs("}]", f);
	fclose(f);
	assert_int_equal(replay_input_load(path, 4, 4096, &v, &n, warn, sizeof warn, err, sizeof err), -1);
	if (!strstr(err, "too many containers"))
		fail_msg("%s", err);
	/* malformed JSON: the reader's line:column message comes through */
	f = fopen(path, "w");
	fputs("[{\"104\": ", f);
	fclose(f);
	assert_int_equal(replay_input_load(path, 4, 4096, &v, &n, warn, sizeof warn, err, sizeof err), -1);
	assert_true(err[0] != '\0');
}

/* The reference policy decides once per the configuration's interval_seconds. */
static void test_reference_cycle_is_interval_seconds(void **state)
{
	(void)state;
	static const char yaml[] = "interval_seconds: 120\n";
	struct lxcscale_config *cfg = config_new();
	struct config_diag d;
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_load_string(cfg, "t.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(config_finalize(cfg, &d), 0);
	struct replay_config c;
	assert_int_equal(replay_config_reference(&c, cfg), 0);
	assert_true(c.cycle_ms == 120000);
	config_free(cfg);
	assert_int_equal(replay_config_reference(&c, NULL), 0);
	assert_true(c.cycle_ms == 600000); /* the default, as the reference shipped it */
}

int main(void)
{
	const struct CMUnitTest model_tests[] = {
		cmocka_unit_test(test_mem_high_formula),
		cmocka_unit_test(test_cpu_under_limit),
		cmocka_unit_test(test_cpu_throttled),
		cmocka_unit_test(test_cpu_neighbour),
		cmocka_unit_test(test_mem_swap_band),
		cmocka_unit_test(test_mem_oom_and_restart),
		cmocka_unit_test(test_limit_lag),
		cmocka_unit_test(test_model_feeds_features),
		cmocka_unit_test(test_scenario_determinism),
		cmocka_unit_test(test_scenario_quiet),
		cmocka_unit_test(test_scenario_diurnal),
		cmocka_unit_test(test_scenario_cpu_burst),
		cmocka_unit_test(test_scenario_memory_leak),
		cmocka_unit_test(test_scenario_fork_storm),
		cmocka_unit_test(test_scenario_neighbour),
		cmocka_unit_test(test_scenario_nab),
		cmocka_unit_test(test_scorecard_relief),
		cmocka_unit_test(test_scorecard_not_applicable_and_slack),
		cmocka_unit_test(test_scorecard_memory_and_futile),
		cmocka_unit_test(test_scorecard_detection),
		cmocka_unit_test(test_scorecard_percentile),
		cmocka_unit_test(test_scorecard_print),
		cmocka_unit_test(test_replay_deterministic),
		cmocka_unit_test(test_reference_cycle_is_interval_seconds),
		cmocka_unit_test(test_replay_cadence_and_relief),
		cmocka_unit_test(test_replay_bad_config),
		cmocka_unit_test(test_model_rebuild_in_line),
	};
	const struct CMUnitTest file_tests[] = {
		cmocka_unit_test(test_scenario_nab_malformed),
		cmocka_unit_test(test_recording_round_trip),
		cmocka_unit_test(test_recording_truncated),
		cmocka_unit_test(test_recording_corrupt),
		cmocka_unit_test(test_recording_bad_files),
		cmocka_unit_test(test_recording_limits),
		cmocka_unit_test(test_recorder),
		cmocka_unit_test(test_replay_input_from_recording),
		cmocka_unit_test(test_replay_input_from_metrics),
	};
	int failed = cmocka_run_group_tests_name("replay model, scenarios, scorecard", model_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("replay files", file_tests, make_tmpdir, remove_tmpdir);
	return failed ? 1 : 0;
}

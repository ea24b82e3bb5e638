/*
 * test_replay_reference.c — the replay's "reference" column decides what LXC AutoScale ML's
 * own loop decides on the same history (sim/reference_loop.h, sim/reference_plan.h,
 * sim/sklearn_forest.h).
 *
 * The histories are the .json files of tests/data/replay_reference/: lxc_metrics.json files
 * in the exact format the reference's monitor writes (make_fixtures.py beside them). Each
 * expected list
 * below — which container, which action, which cycle, and where it matters the confidence —
 * is what the reference's own run_cycle() did when run on that file, cycle by cycle, with a
 * stand-in API that reports each container's allocation and takes its POSTs (the README
 * beside the fixtures says how). One file per defect of the reference that the column must
 * reproduce: swap is not memory; only the containers stamped with the newest timestamp are
 * evaluated; "Scale Down" raises a container below the minimum (and "Scale Up" lowers one
 * above the maximum); the confidence is a rank under ONE forest over all containers' rows,
 * with sklearn's own trees; each container's allocation is its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "sim/reference_loop.h"
#include "sim/reference_plan.h"
#include "sim/replay.h"
#include "sim/replay_input.h"
#include "sim/scenarios.h"
#include "sim/scorecard.h"
#include "sim/sklearn_forest.h"

static const char *top(void)
{
	const char *t = getenv("LXCSCALE_TOP");
	return t && t[0] ? t : ".";
}

static void fixture(char *buf, size_t len, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "%s/tests/data/replay_reference/%s", top(), name) < len);
}

/* A history, its reference configuration from YAML and the reference's plan over it. */
struct run {
	struct replay_input in;
	struct replay_config cfg;
	struct reference_plan *plan;
	int64_t first_us;
};

static void run_open(struct run *r, const char *name, const char *yaml,
                     const struct replay_allocation *configs, size_t n_configs)
{
	memset(r, 0, sizeof *r);
	struct lxcscale_config *conf = config_new();
	struct config_diag *d = calloc(1, sizeof *d);
	assert_non_null(conf);
	assert_non_null(d);
	assert_int_equal(config_load_string(conf, "t.yaml", yaml, strlen(yaml), d), 0);
	assert_int_equal(config_finalize(conf, d), 0);
	assert_int_equal(replay_config_reference(&r->cfg, conf), 0);
	config_free(conf);
	free(d);
	char path[512], warn[256], err[512];
	fixture(path, sizeof path, name);
	const struct replay_input_opts o = { .cores = 2, .memory_mb = 2048, .configs = configs,
	                                     .n_configs = n_configs };
	if (replay_input_read(path, &o, &r->in, warn, sizeof warn, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(r->in.has_history);
	if (reference_plan_build(&r->in.history, &r->cfg.loop, r->cfg.cycle_ms, replay_input_allocation, &r->in,
	                         &r->plan, err, sizeof err) != 0)
		fail_msg("%s", err);
	r->first_us = r->in.history.rec[0].t_us;
	for (size_t i = 0; i < r->in.history.n_rec; i++)
		if (r->in.history.rec[i].t_us < r->first_us)
			r->first_us = r->in.history.rec[i].t_us;
}

static void run_close(struct run *r)
{
	reference_plan_free(r->plan);
	replay_input_free(&r->in);
}

static int cycle_of(const struct run *r, int64_t t_ms)
{
	return (int)llround((double)(t_ms * 1000 - r->first_us) / (double)(r->cfg.cycle_ms * 1000));
}

/* One event of the plan, with its container, in cycle order. */
struct seen {
	int cycle;
	uint32_t vmid;
	const struct reference_event *e;
};

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	if (x->cycle != y->cycle)
		return x->cycle - y->cycle;
	return (x->vmid > y->vmid) - (x->vmid < y->vmid);
}

/* Every event of the plan for vmids lo..hi, sorted by cycle then container. */
static size_t events(const struct run *r, uint32_t lo, uint32_t hi, struct seen *out, size_t max)
{
	size_t n = 0;
	for (uint32_t v = lo; v <= hi; v++) {
		size_t k;
		const struct reference_event *e = reference_plan_events(r->plan, v, &k);
		for (size_t i = 0; i < k; i++) {
			assert_true(n < max);
			out[n++] = (struct seen){ cycle_of(r, e[i].t_ms), v, &e[i] };
		}
	}
	qsort(out, n, sizeof *out, cmp_seen);
	return n;
}

/* What the reference's loop POSTed: cycle, container, CPU action and target, RAM likewise
 * (targets are the current values when there is no action). */
struct want {
	int cycle;
	uint32_t vmid;
	enum decision_change cpu;
	double cpu_to;
	enum decision_change ram;
	uint64_t ram_to;
};

static void expect_actions(const struct run *r, uint32_t lo, uint32_t hi, const struct want *w, size_t n_want)
{
	static struct seen s[4096];
	size_t n = events(r, lo, hi, s, 4096), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!s[i].e->acts)
			continue;
		const struct decision *d = &s[i].e->d;
		if (k >= n_want)
			fail_msg("an action the reference did not take: cycle %d vmid %u", s[i].cycle, s[i].vmid);
		const struct want *x = &w[k++];
		if (s[i].cycle != x->cycle || s[i].vmid != x->vmid || d->cpu_change != x->cpu || d->cpu_to != x->cpu_to ||
		    d->mem_change != x->ram || d->mem_to_mb != x->ram_to)
			fail_msg("action %zu: cycle %d vmid %u cpu %s->%g ram %s->%llu; the reference: cycle %d vmid %u "
			         "cpu %s->%g ram %s->%llu", k, s[i].cycle, s[i].vmid, decision_change_name(d->cpu_change),
			         d->cpu_to, decision_change_name(d->mem_change), (unsigned long long)d->mem_to_mb,
			         x->cycle, x->vmid, decision_change_name(x->cpu), x->cpu_to,
			         decision_change_name(x->ram), (unsigned long long)x->ram_to);
	}
	if (k != n_want)
		fail_msg("%zu actions, the reference took %zu", k, n_want);
}

static const char *const every_120s = "interval_seconds: 120\n";
static const char *const every_120s_confident =
	"interval_seconds: 120\nscaling:\n  min_confidence: 30\n";

/* ---- 1. swap is not memory ------------------------------------------------------------------ */

/* 104 holds 500 MB and 300 MB of swap in 2048 MB: 24 % to the reference (Scale Down), 39 %
 * counted with its swap (nothing). 105: 1100 + 600 MB, 54 % (nothing), not 83 %. */
static void test_swap_is_not_memory(void **state)
{
	(void)state;
	struct run r;
	run_open(&r, "swap.json", every_120s, NULL, 0);
	static const struct want w[] = { { 1, 104, DECISION_NONE, 2, DECISION_DOWN, 1536 } };
	expect_actions(&r, 104, 105, w, 1);
	size_t n;
	const struct reference_event *e = reference_plan_events(r.plan, 104, &n);
	assert_int_equal(n, 12); /* both containers share each stamp: evaluated every cycle */
	assert_true(e[0].d.mem_pct > 23 && e[0].d.mem_pct < 26);
	/* lxcscale's own view of the same file is unchanged: its demand is memory + swap */
	assert_int_equal(r.in.n, 2);
	assert_true(r.in.traces[0].demand[0].mem_mb > 790);
	run_close(&r);
}

/* ---- 2. only the newest timestamp -------------------------------------------------------- */

/* The monitor stamps each container when its own collection ends: one container carries the
 * newest stamp, and the reference evaluates that one only, every cycle. */
static void test_only_the_newest_stamp_is_evaluated(void **state)
{
	(void)state;
	struct run r;
	run_open(&r, "stamps.json", every_120s, NULL, 0);
	static const uint32_t evaluated[] = { 201, 202, 202, 203, 202, 203, 202, 201, 201, 202, 202, 201 };
	static struct seen s[64];
	size_t n = events(&r, 201, 203, s, 64);
	assert_int_equal(n, 12);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i].cycle, (int)i + 1);
		assert_int_equal(s[i].vmid, evaluated[i]);
	}
	/* all three are at 90 % CPU: each gets its two steps, one cycle at a time */
	static const struct want w[] = {
		{ 1, 201, DECISION_UP, 3, DECISION_NONE, 2048 }, { 2, 202, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 3, 202, DECISION_UP, 4, DECISION_NONE, 2048 }, { 4, 203, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 6, 203, DECISION_UP, 4, DECISION_NONE, 2048 }, { 8, 201, DECISION_UP, 4, DECISION_NONE, 2048 },
	};
	expect_actions(&r, 201, 203, w, sizeof w / sizeof w[0]);
	/* the confidences the reference logged for the first two */
	assert_true(fabs(s[0].e->d.confidence - 83.33333333333334) < 1e-9);
	assert_true(fabs(s[1].e->d.confidence - 41.66666666666667) < 1e-9);
	struct reference_plan_stats st;
	reference_plan_stats(r.plan, &st);
	assert_int_equal(st.cycles, 12);
	assert_int_equal(st.evaluations, 12);
	run_close(&r);
}

/* ---- 3. outside min/max, and allocations of their own ----------------------------------- */

static const struct replay_allocation below_min_configs[] = {
	{ .vmid = 301, .cores = 1, .memory_mb = 512, .from = "from below_min/301.conf" },
	{ .vmid = 302, .cores = 6, .memory_mb = 4096, .from = "from below_min/302.conf" },
	{ .vmid = 303, .cores = 0, .memory_mb = 2048, .from = "from below_min/303.conf" },
};

/* 301 (1 core, 512 MB, idle): "Scale Down" gives max(1 - 1, 2) = 2 cores and max(0, 1024) MB,
 * both raises; 302 (6 cores, busy): "Scale Up" gives min(7, 4) = 4, a cut; 303's config sets
 * no cores: its API answer has none, and the loop skips it every cycle. */
static void test_scale_down_raises_to_the_minimum(void **state)
{
	(void)state;
	struct run r;
	run_open(&r, "below_min.json", every_120s, below_min_configs, 3);
	static const struct want w[] = {
		{ 1, 301, DECISION_DOWN, 2, DECISION_DOWN, 1024 },
		{ 1, 302, DECISION_UP, 4, DECISION_UP, 4608 },
		{ 2, 302, DECISION_NONE, 4, DECISION_UP, 5120 },
	};
	expect_actions(&r, 301, 303, w, 3);
	size_t n;
	reference_plan_events(r.plan, 303, &n);
	assert_int_equal(n, 0);
	struct reference_plan_stats st;
	reference_plan_stats(r.plan, &st);
	assert_int_equal(st.cycles, 6);
	assert_int_equal(st.skipped_unknown, 6);
	const struct reference_event *e = reference_plan_events(r.plan, 301, &n);
	assert_non_null(strstr(e[0].d.detail, "1->2 (to min_cpu_cores)"));
	assert_non_null(strstr(e[0].d.detail, "512->1024 (to min_ram_mb)"));
	e = reference_plan_events(r.plan, 302, &n);
	assert_non_null(strstr(e[0].d.detail, "6->4 (to max_cpu_cores)"));
	/* the traces start from the configs' allocations, and say so */
	assert_int_equal(r.in.n, 3);
	assert_true(r.in.traces[0].init_cpu_cores == 1 && r.in.traces[0].init_mem_mb == 512);
	assert_true(r.in.traces[1].init_cpu_cores == 6 && r.in.traces[1].init_mem_mb == 4096);
	assert_true(r.in.traces[2].alloc_cores_unset && !r.in.traces[2].alloc_memory_unset);
	assert_true(r.in.traces[2].init_cpu_cores == 2); /* the assumption, for the container model */
	assert_non_null(strstr(r.in.traces[0].alloc_from, "301.conf"));
	double cores, ram;
	assert_false(replay_input_allocation(&r.in, 303, &cores, &ram));
	assert_true(replay_input_allocation(&r.in, 999, &cores, &ram)); /* not in the file: assumed */
	assert_true(cores == 2 && ram == 2048);
	run_close(&r);
}

/* The same rule in the closed loop of a generated scenario: idle at 1 core, the first cycle
 * "scales it down" to 2; with its allocation unknown the reference never decides. */
static void test_closed_loop_raises_to_the_minimum(void **state)
{
	(void)state;
	struct scenario s;
	char err[256];
	assert_int_equal(scenario_generate("idle", 1, &s, err, sizeof err), 0);
	s.n_steps = 1300; /* ~21 min: two cycles */
	s.init_cpu_cores = 1;
	struct replay_config c;
	assert_int_equal(replay_config_reference(&c, NULL), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	uint64_t nd = 0;
	assert_int_equal(replay_run(&s, &c, f, NULL, &nd, err, sizeof err), 0);
	fclose(f);
	assert_true(nd >= 1);
	if (!strstr(out, "idle +600s vmid=101 cpu=decrease:1->2"))
		fail_msg("%s", out);
	free(out);
	s.alloc_cores_unset = true;
	assert_int_equal(replay_run(&s, &c, NULL, NULL, &nd, err, sizeof err), 0);
	assert_int_equal(nd, 0);
	scenario_free(&s);
}

/* ---- 4. min_confidence: the reference's confidence -------------------------------------- */

/* Four containers whose load jumps around: the rule wants to act at most cycles, and a rank
 * under one forest over all of their rows decides which actions pass min_confidence 30. */
static void test_min_confidence_gates_like_the_reference(void **state)
{
	(void)state;
	struct run r;
	run_open(&r, "confidence.json", every_120s_confident, NULL, 0);
	static const struct want w[] = {
		{ 1, 402, DECISION_NONE, 2, DECISION_DOWN, 1536 }, { 1, 403, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 2, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 }, { 3, 402, DECISION_NONE, 2, DECISION_UP, 2048 },
		{ 3, 403, DECISION_UP, 3, DECISION_NONE, 2048 },   { 4, 401, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 4, 402, DECISION_NONE, 2, DECISION_DOWN, 1536 }, { 4, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 },
		{ 5, 403, DECISION_UP, 3, DECISION_NONE, 2048 },   { 6, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 },
		{ 8, 404, DECISION_NONE, 2, DECISION_DOWN, 1536 }, { 10, 402, DECISION_UP, 3, DECISION_UP, 2048 },
		{ 10, 403, DECISION_UP, 3, DECISION_NONE, 2048 },  { 11, 401, DECISION_DOWN, 2, DECISION_NONE, 2048 },
		{ 11, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 }, { 12, 401, DECISION_NONE, 2, DECISION_DOWN, 1536 },
		{ 12, 403, DECISION_UP, 3, DECISION_NONE, 2048 },  { 13, 402, DECISION_DOWN, 2, DECISION_NONE, 2048 },
		{ 14, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 }, { 15, 401, DECISION_UP, 3, DECISION_UP, 2048 },
		{ 15, 402, DECISION_UP, 3, DECISION_NONE, 2048 },  { 15, 403, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 16, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 }, { 17, 403, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 18, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 }, { 19, 402, DECISION_UP, 4, DECISION_NONE, 2048 },
		{ 19, 403, DECISION_UP, 3, DECISION_NONE, 2048 },  { 20, 401, DECISION_UP, 4, DECISION_NONE, 2048 },
		{ 20, 403, DECISION_UP, 4, DECISION_NONE, 2048 },  { 21, 401, DECISION_DOWN, 3, DECISION_DOWN, 1536 },
		{ 22, 401, DECISION_DOWN, 2, DECISION_NONE, 1536 }, { 22, 403, DECISION_DOWN, 3, DECISION_NONE, 2048 },
		{ 23, 403, DECISION_DOWN, 2, DECISION_NONE, 2048 }, { 24, 402, DECISION_NONE, 4, DECISION_DOWN, 1536 },
		{ 25, 402, DECISION_NONE, 4, DECISION_UP, 2048 },  { 26, 402, DECISION_DOWN, 3, DECISION_NONE, 2048 },
		{ 26, 403, DECISION_UP, 3, DECISION_NONE, 2048 },  { 27, 403, DECISION_UP, 4, DECISION_DOWN, 1536 },
		{ 28, 403, DECISION_DOWN, 3, DECISION_NONE, 1536 }, { 29, 403, DECISION_UP, 4, DECISION_UP, 2048 },
		{ 30, 402, DECISION_DOWN, 2, DECISION_DOWN, 1536 },
	};
	expect_actions(&r, 401, 404, w, sizeof w / sizeof w[0]);
	struct reference_plan_stats st;
	reference_plan_stats(r.plan, &st);
	assert_int_equal(st.evaluations, 120);
	assert_int_equal(st.held_by_confidence, 31);
	assert_int_equal(st.actions, 41);
	/* the first cycle's confidences, exactly as the reference computed them (100 · mean of
	 * the training |decision| at most this row's), and its one anomaly */
	static struct seen s[256];
	size_t n = events(&r, 401, 404, s, 256);
	assert_true(n >= 4);
	static const double conf[4] = { 16.666666666666664, 41.66666666666667, 100.0, 66.66666666666666 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s[i].cycle, 1);
		assert_true(s[i].e->d.confidence == conf[i]);
	}
	assert_int_equal(s[0].e->predict, -1); /* 401: an anomaly, which changes nothing but the log */
	assert_true(s[0].e->d.anomaly);
	assert_false(s[0].e->acts);           /* Scale Down wanted, held: 16.7 % < 30 % */
	run_close(&r);
}

/* ---- 5. all of it at once, and the plan played by the replay ---------------------------- */

static const struct replay_allocation monitor_configs[] = {
	{ .vmid = 502, .cores = 1, .memory_mb = 1024, .from = "from monitor/502.conf" },
	{ .vmid = 505, .cores = 4, .memory_mb = 4096, .from = "from monitor/505.conf" },
};

/* A host as the monitor records it: five containers stamped apart, swap, one container below
 * min_cpu_cores, min_confidence 30. At 120 s: one container per cycle, 12 actions held back,
 * three taken; at the shipped 600 s, one. */
static void test_a_real_monitor_history(void **state)
{
	(void)state;
	struct run r;
	run_open(&r, "monitor.json", every_120s_confident, monitor_configs, 2);
	static const struct want w[] = {
		{ 1, 502, DECISION_DOWN, 2, DECISION_NONE, 1024 },
		{ 29, 501, DECISION_UP, 3, DECISION_NONE, 2048 },
		{ 31, 501, DECISION_DOWN, 2, DECISION_NONE, 2048 },
	};
	expect_actions(&r, 501, 505, w, 3);
	struct reference_plan_stats st;
	reference_plan_stats(r.plan, &st);
	assert_int_equal(st.cycles, 45);
	assert_int_equal(st.evaluations, 45);
	assert_int_equal(st.held_by_confidence, 12);
	run_close(&r);

	run_open(&r, "monitor.json", "scaling:\n  min_confidence: 30\n", monitor_configs, 2);
	static const struct want w600[] = { { 9, 502, DECISION_DOWN, 2, DECISION_NONE, 1024 } };
	expect_actions(&r, 501, 505, w600, 1);
	reference_plan_stats(r.plan, &st);
	assert_int_equal(st.cycles, 9);
	run_close(&r);
}

/* replay_run plays a plan: its decision at its cycle (to the nearest second of the trace),
 * every evaluation counted by the scorecard, the limit in force after the lag. */
static void test_the_replay_plays_the_plan(void **state)
{
	(void)state;
	struct run r;
	run_open(&r, "swap.json", every_120s, NULL, 0);
	r.cfg.plan = r.plan;
	const struct scenario *s = &r.in.traces[0];
	assert_int_equal(s->vmid, 104);
	char *out = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct scorecard sc;
	scorecard_init(&sc, NULL);
	uint64_t nd = 0;
	assert_int_equal(replay_run(s, &r.cfg, f, &sc, &nd, err, sizeof err), 0);
	fclose(f);
	assert_int_equal(nd, 1);
	if (!strstr(out, "ct104 +120s vmid=104 cpu=none:2->2 mem=decrease:2048->1536 reason=threshold"))
		fail_msg("%s", out);
	assert_int_equal(sc.evaluations, 12);
	assert_int_equal(sc.limit_changes, 1);
	free(out);
	scorecard_free(&sc);
	run_close(&r);
}

/* ---- the model and the frame against the reference's own --------------------------------- */

/* sklearn_monitor_cycle3.txt: the frame, offset_, training decisions and first 10 trees the
 * reference's own code (pandas, scikit-learn) made at monitor.json's third 120 s cycle. */
struct sklearn_dump {
	double X[64][FEAT_REFERENCE_COUNT];
	size_t rows;
	char decision[64][40];
	size_t n_decision;
	double offset;
	char trees[10][8192];
};

static void read_dump(struct sklearn_dump *d)
{
	char path[512];
	fixture(path, sizeof path, "sklearn_monitor_cycle3.txt");
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	memset(d, 0, sizeof *d);
	static char line[16384];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "frame 3 ", 8)) {
			assert_true(d->rows < 64);
			char *p = line + 8;
			for (int j = 0; j < FEAT_REFERENCE_COUNT; j++)
				d->X[d->rows][j] = strtod(p, &p);
			d->rows++;
		} else if (!strncmp(line, "train_decision 3 ", 17)) {
			snprintf(d->decision[d->n_decision++], 40, "%.39s", line + 17);
		} else if (!strncmp(line, "offset ", 7)) {
			d->offset = strtod(line + 7, NULL);
		} else if (!strncmp(line, "tree ", 5)) {
			int t = atoi(line + 5);
			const char *nodes = strchr(line + 5, ' ');
			assert_true(t >= 0 && t < 10 && nodes);
			snprintf(d->trees[t], sizeof d->trees[t], "%s", nodes);
		}
	}
	fclose(f);
	assert_int_equal(d->rows, 30);
	assert_int_equal(d->n_decision, 30);
}

/* On the reference's own frame, sim/sklearn_forest.c grows sklearn's trees node for node and
 * gives its offset_ and decision_function to the last bit. */
static void test_forest_is_sklearns(void **state)
{
	(void)state;
	static struct sklearn_dump d;
	read_dump(&d);
	const struct skl_params p = { .n_estimators = 100, .max_samples = 64, .contamination = 0.05,
	                              .random_state = 42 };
	struct skl_forest *m = skl_forest_fit(&d.X[0][0], d.rows, FEAT_REFERENCE_COUNT, &p);
	assert_non_null(m);
	assert_true(skl_forest_offset(m) == d.offset);
	for (size_t i = 0; i < d.rows; i++) {
		double score, decision;
		skl_forest_score(m, d.X[i], &score, &decision);
		char got[40];
		snprintf(got, sizeof got, "%.17g", decision);
		assert_string_equal(got, d.decision[i]);
	}
	for (size_t t = 0; t < 10; t++) {
		const int *fe, *l, *r, *ns;
		const double *th;
		size_t n = skl_forest_tree(m, t, &fe, &th, &l, &r, &ns);
		static char got[8192];
		size_t used = 0;
		for (size_t i = 0; i < n; i++)
			used += (size_t)snprintf(got + used, sizeof got - used, " %d:%.9g:%d:%d:%d", fe[i], th[i],
			                         l[i], r[i], ns[i]);
		assert_string_equal(got, d.trees[t]);
	}
	struct skl_contrib top[3];
	int k = skl_forest_explain(m, d.X[0], top, 3);
	assert_true(k >= 1 && top[0].share > 0 && top[0].share <= 1);
	skl_forest_free(m);
}

static bool known_allocation(void *ctx, uint32_t vmid, double *cores, double *ram_mb)
{
	(void)ctx;
	(void)vmid;
	*cores = 2;
	*ram_mb = 2048;
	return true;
}

/* The frame of the same cycle, built here from the file: pandas' values to the bit, but for
 * the trend (numpy fits it by SVD, here in closed form: a few ulps). */
static void test_frame_is_pandas(void **state)
{
	(void)state;
	static struct sklearn_dump d;
	read_dump(&d);
	struct run r;
	run_open(&r, "monitor.json", every_120s, NULL, 0);
	struct ref_loop *L = ref_loop_new(&r.cfg.loop);
	assert_non_null(L);
	int64_t now = r.first_us + 3 * r.cfg.cycle_ms * 1000;
	struct ref_cycle cy;
	char err[256];
	assert_int_equal(ref_loop_cycle(L, &r.in.history, ref_history_visible(&r.in.history, now), now,
	                                known_allocation, NULL, &cy, err, sizeof err), 0);
	assert_int_equal(cy.status, REF_CYCLE_DONE);
	assert_int_equal(cy.n, 1); /* one container stamped last */
	size_t rows;
	const double *X = ref_loop_frame(L, &rows);
	assert_int_equal(rows, d.rows);
	for (size_t i = 0; i < rows; i++)
		for (int j = 0; j < FEAT_REFERENCE_COUNT; j++) {
			double got = X[i * FEAT_REFERENCE_COUNT + j], want = d.X[i][j];
			if (j == F_CPU_TREND || j == F_MEMORY_TREND) {
				if (fabs(got - want) > 1e-12 * fmax(1, fabs(want)))
					fail_msg("row %zu %s: %.17g, pandas %.17g", i, features_name((unsigned)j), got, want);
			} else if (got != want) {
				fail_msg("row %zu %s: %.17g, pandas %.17g", i, features_name((unsigned)j), got, want);
			}
		}
	ref_loop_free(L);
	run_close(&r);
}

/* pandas' rolling rules on the cases that matter to a forest: a constant window gives its
 * value and a standard deviation of exactly 0 (not a rounding residue the scaler would blow
 * up), one row gives std 0, a constant series has no trend, and the staleness limit stops a
 * cycle. */
static void test_rolling_statistics_like_pandas(void **state)
{
	(void)state;
	struct ref_history h;
	ref_history_init(&h);
	for (int k = 0; k < 8; k++) {
		struct ref_record rec = { .vmid = 101, .t_us = 1000000LL * 60 * k };
		rec.v[REF_CPU_PCT] = 0.1;
		rec.v[REF_MEMORY_MB] = k < 4 ? 300.3 : 300.3 + k;
		rec.v[REF_PROCESSES] = k % 2 ? 0 : 10;
		assert_int_equal(ref_history_append(&h, &rec, 1), 0);
	}
	struct ref_loop_params p;
	ref_loop_params_default(&p);
	struct ref_loop *L = ref_loop_new(&p);
	struct ref_cycle cy;
	char err[128];
	int64_t now = 1000000LL * 60 * 7;
	assert_int_equal(ref_loop_cycle(L, &h, h.n_snap, now, known_allocation, NULL, &cy, err, sizeof err), 0);
	size_t rows;
	const double *X = ref_loop_frame(L, &rows);
	assert_int_equal(rows, 8);
	for (size_t i = 0; i < rows; i++) {
		const double *x = X + i * FEAT_REFERENCE_COUNT;
		assert_true(x[F_ROLLING_MEAN_CPU] == 0.1);
		assert_true(x[F_ROLLING_STD_CPU] == 0);
		assert_true(x[F_CPU_TREND] == 0);
		assert_true(x[F_TIME_DIFF] == (i ? 60 : 0));
		assert_true(x[F_CPU_PER_PROCESS] == (i % 2 ? 0 : 0.1 / 10)); /* 0 processes: 0 */
		if (i < 4)
			assert_true(x[F_ROLLING_STD_MEMORY] == 0 && x[F_ROLLING_MEAN_MEMORY] == 300.3);
	}
	assert_true(X[F_ROLLING_STD_MEMORY] == 0); /* a single row */
	assert_true(X[7 * FEAT_REFERENCE_COUNT + F_MEMORY_TREND] > 0);
	/* stale: the newest row is older than 3 × 600 s */
	assert_int_equal(ref_loop_cycle(L, &h, h.n_snap, now + 1801000000LL, known_allocation, NULL, &cy, err,
	                                sizeof err), 0);
	assert_int_equal(cy.status, REF_CYCLE_STALE);
	assert_int_equal(ref_loop_cycle(L, &h, 0, now, known_allocation, NULL, &cy, err, sizeof err), 0);
	assert_int_equal(cy.status, REF_CYCLE_NO_DATA);
	/* the window: only the last max_snapshots snapshots */
	ref_history_keep_last(&h, 3);
	assert_int_equal(h.n_snap, 3);
	assert_int_equal(h.dropped, 5);
	assert_int_equal(h.rec[0].t_us, 1000000LL * 60 * 5);
	assert_int_equal(ref_history_visible(&h, 1000000LL * 60 * 6), 2);
	ref_loop_free(L);
	ref_history_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_is_not_memory),
		cmocka_unit_test(test_only_the_newest_stamp_is_evaluated),
		cmocka_unit_test(test_scale_down_raises_to_the_minimum),
		cmocka_unit_test(test_closed_loop_raises_to_the_minimum),
		cmocka_unit_test(test_min_confidence_gates_like_the_reference),
		cmocka_unit_test(test_a_real_monitor_history),
		cmocka_unit_test(test_the_replay_plays_the_plan),
		cmocka_unit_test(test_forest_is_sklearns),
		cmocka_unit_test(test_frame_is_pandas),
		cmocka_unit_test(test_rolling_statistics_like_pandas),
	};
	return cmocka_run_group_tests_name("replay: the reference's own loop", tests, NULL, NULL);
}

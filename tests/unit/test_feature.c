/*
 * test_feature.c — every feature formula of user/features/features.c against values computed by hand
 * (checked with numpy.polyfit / numpy.std(ddof=1)): the first sample, zero processes, a
 * constant series, a rising series, the trend over the history window rather than the
 * lifetime, counter resets, unknown inputs and the model's feature selection; and the
 * bucketed trend against a brute-force two-pass fit over every row, on random series short,
 * exactly full and long (every eviction boundary), with unknown values, constant, and with
 * memory values near 3 TiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features/features.h"

#define MIB (1024ull * 1024ull)
#define EPS 1e-9

static void assert_close(double got, double want)
{
	if (fabs(got - want) > EPS * (1 + fabs(want)))
		fail_msg("got %.12g, want %.12g", got, want);
}

static bool known(const struct feat_vector *v, enum feat_index f)
{
	return v->known & (1ull << f);
}

/* A row with CPU % and memory MiB and processes known. */
static struct feat_row row_at(int64_t ms, double cpu, double mem, double procs)
{
	struct feat_row r;
	memset(&r, 0, sizeof(r));
	r.mono_ms = ms;
	r.v[COL_CPU] = cpu;
	r.v[COL_MEM] = mem;
	r.v[COL_PROCS] = procs;
	r.known = COL_BIT(COL_CPU) | COL_BIT(COL_MEM) | COL_BIT(COL_PROCS);
	return r;
}

static struct feat_raw raw_at(int64_t ms)
{
	struct feat_raw r;
	memset(&r, 0, sizeof(r));
	r.mono_ms = ms;
	r.wall_ms = 1700000000000 + ms;
	return r;
}

static void test_names_sorted_like_reference(void **state)
{
	(void)state;
	/* The reference's 26 come out of pandas Index.difference, i.e. sorted. */
	for (unsigned i = 1; i < FEAT_REFERENCE_COUNT; i++)
		assert_true(strcmp(features_name(i - 1), features_name(i)) < 0);
	assert_string_equal(features_name(0), "cpu_memory_ratio");
	assert_string_equal(features_name(25), "time_diff");
	assert_int_equal(features_index("rolling_std_memory"), F_ROLLING_STD_MEMORY);
	assert_int_equal(features_index("psi_memory_some_ms"), F_PSI_MEMORY_SOME_MS);
	assert_int_equal(features_index("no_such"), -1);
	assert_int_equal(features_index(NULL), -1);
	assert_null(features_name(FEAT_COUNT));
	for (unsigned i = 0; i < FEAT_COUNT; i++)
		assert_non_null(features_name(i));
}

static void test_cpu_percent_from_usage(void **state)
{
	(void)state;
	struct feat_raw a = raw_at(1000), b = raw_at(2000);
	a.known = b.known = RAW_BIT(RAW_CPU_USAGE) | RAW_BIT(RAW_CPU_CORES);
	a.cpu_cores = b.cpu_cores = 2;
	a.cpu_usage_usec = 1000000;
	b.cpu_usage_usec = 1500000; /* 0.5 s of CPU in 1 s on 2 cores = 25 % */
	struct feat_row r;
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_true(r.known & COL_BIT(COL_CPU));
	assert_close(r.v[COL_CPU], 25.0);

	b.cpu_usage_usec = a.cpu_usage_usec + 5000000; /* more than possible: clamped */
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_close(r.v[COL_CPU], 100.0);

	b.cpu_usage_usec = a.cpu_usage_usec - 1; /* counter reset: unknown, not 0 */
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_false(r.known & COL_BIT(COL_CPU));

	b.cpu_usage_usec = a.cpu_usage_usec + 10;
	b.known &= ~RAW_BIT(RAW_CPU_CORES); /* allocation unknown: no percentage */
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_false(r.known & COL_BIT(COL_CPU));
}

static void test_first_sample_and_time(void **state)
{
	(void)state;
	struct feat_raw a = raw_at(1000);
	struct feat_row r;
	memset(&r, 0x5a, sizeof(r));
	assert_false(features_row_from_raw(NULL, &a, &r));
	assert_false(features_row_from_raw(&a, &a, &r)); /* no time passed */

	struct feat_history *h = features_history_new(10, 5);
	assert_non_null(h);
	a.known = RAW_BIT(RAW_MEM);
	a.mem_current = 10 * MIB;
	assert_false(features_feed_raw(h, &a)); /* first raw only sets the baseline */
	assert_int_equal(features_history_count(h), 0);
	struct feat_raw b = raw_at(1100);
	b.known = RAW_BIT(RAW_MEM);
	b.mem_current = 20 * MIB;
	assert_true(features_feed_raw(h, &b));
	assert_int_equal(features_history_count(h), 1);
	struct feat_raw back = raw_at(900); /* clock went backwards: ignored */
	assert_false(features_feed_raw(h, &back));
	features_history_free(h);
}

static void test_memory_swap_pids_fs(void **state)
{
	(void)state;
	struct feat_raw a = raw_at(0), b = raw_at(500);
	b.known = RAW_BIT(RAW_MEM) | RAW_BIT(RAW_SWAP) | RAW_BIT(RAW_SWAP_TOTAL) |
		  RAW_BIT(RAW_PIDS) | RAW_BIT(RAW_FS);
	b.mem_current = 600 * MIB;
	b.mem_file = 100 * MIB; /* page cache never counts */
	b.swap_current = 3 * MIB / 2;
	b.swap_total = 512 * MIB;
	b.pids = 17;
	b.fs_total_bytes = 8ull << 30;
	b.fs_used_bytes = 3ull << 29;
	b.fs_free_bytes = (8ull << 30) - (3ull << 29);
	struct feat_row r;
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_close(r.v[COL_MEM], 500);
	assert_close(r.v[COL_SWAP], 1.5);
	assert_close(r.v[COL_SWAP_TOTAL], 512);
	assert_close(r.v[COL_PROCS], 17);
	assert_close(r.v[COL_FS_TOTAL], 8);
	assert_close(r.v[COL_FS_USED], 1.5);
	assert_close(r.v[COL_FS_FREE], 6.5);

	b.mem_file = 700 * MIB; /* file > current (racy reads): used is 0, never negative */
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_close(r.v[COL_MEM], 0);
}

/* The daemon reads a quiet container every second and a hot one every 100 ms: a steady
 * load must give the same rates whatever the gap between two readings. */
static void test_irregular_sampling_keeps_rates(void **state)
{
	(void)state;
	struct feat_history *h = features_history_new(16, 4);
	assert_non_null(h);
	static const int64_t gaps[] = { 100, 1000, 100, 100, 1000, 3000, 100 };
	int64_t t = 0;
	struct feat_raw r = raw_at(0);
	r.known = RAW_BIT(RAW_CPU_USAGE) | RAW_BIT(RAW_CPU_CORES) | RAW_BIT(RAW_PSI_CPU) | RAW_BIT(RAW_IO);
	r.cpu_cores = 2;
	assert_false(features_feed_raw(h, &r)); /* a baseline only */
	for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		t += gaps[i];
		r.mono_ms = t;
		r.wall_ms = 1700000000000 + t;
		r.cpu_usage_usec = (uint64_t)t * 1000;        /* one core of two: 50 % */
		r.psi_total_us[0][0] = (uint64_t)t * 100;     /* 100 ms of stall a second */
		r.io_wbytes = (uint64_t)t * 512;              /* 1000 sectors a second */
		assert_true(features_feed_raw(h, &r));
		const struct feat_row *row = features_history_last(h);
		assert_close(row->v[COL_CPU], 50);
		assert_close(row->v[COL_PSI_CPU_SOME], 100);
		assert_close(row->v[COL_IO_WRITES], 1000);
		struct feat_vector v;
		features_compute(h, &v);
		assert_close(v.v[F_ROLLING_MEAN_CPU], 50);
		if (i > 0) /* between rows: the first row has none before it */
			assert_close(v.v[F_TIME_DIFF], (double)gaps[i] / 1000.0);
	}
	features_history_free(h);
}

static void test_rates_io_net_psi_throttle_oom(void **state)
{
	(void)state;
	struct feat_raw a = raw_at(0), b = raw_at(2000); /* 2 s apart */
	uint32_t k = RAW_BIT(RAW_IO) | RAW_BIT(RAW_NET) | RAW_BIT(RAW_PSI_CPU) | RAW_BIT(RAW_PSI_MEM) |
		     RAW_BIT(RAW_PSI_IO) | RAW_BIT(RAW_THROTTLE) | RAW_BIT(RAW_OOM) |
		     RAW_BIT(RAW_RECLAIM) | RAW_BIT(RAW_RUNQ);
	a.known = b.known = k;
	a.io_rbytes = 1000; b.io_rbytes = 1000 + 1048576;      /* 2048 sectors / 2 s */
	a.io_wbytes = 0; b.io_wbytes = 512 * 10;               /* 10 sectors / 2 s */
	a.net_rx_bytes = 5; b.net_rx_bytes = 5 + 4000;
	a.net_tx_bytes = 7; b.net_tx_bytes = 7;
	a.psi_total_us[0][0] = 100; b.psi_total_us[0][0] = 100 + 200000; /* 200 ms / 2 s */
	a.psi_total_us[1][1] = 0; b.psi_total_us[1][1] = 3000;
	a.psi_total_us[2][0] = 50; b.psi_total_us[2][0] = 50;
	a.nr_periods = 10; b.nr_periods = 20;
	a.nr_throttled = 4; b.nr_throttled = 7;
	a.oom_kills = 2; b.oom_kills = 3;
	a.reclaim_stall_us = 0; b.reclaim_stall_us = 40000;
	b.runq_p50_us = 12; b.runq_p99_us = 900;
	struct feat_row r;
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_close(r.v[COL_IO_READS], 1024);
	assert_close(r.v[COL_IO_WRITES], 5);
	assert_close(r.v[COL_NET_RX], 2000);
	assert_close(r.v[COL_NET_TX], 0);
	assert_close(r.v[COL_PSI_CPU_SOME], 100);
	assert_close(r.v[COL_PSI_MEM_FULL], 1.5);
	assert_close(r.v[COL_PSI_IO_SOME], 0);
	assert_close(r.v[COL_THROTTLED], 0.3);
	assert_close(r.v[COL_OOM], 1);
	assert_close(r.v[COL_RECLAIM], 20);
	assert_close(r.v[COL_RUNQ_P50], 12);
	assert_close(r.v[COL_RUNQ_P99], 900);

	b.nr_periods = a.nr_periods; /* no period elapsed: ratio 0 */
	b.nr_throttled = a.nr_throttled;
	b.net_tx_bytes = 6;          /* tx went backwards: network unknown */
	b.known &= ~RAW_BIT(RAW_PSI_MEM);
	assert_true(features_row_from_raw(&a, &b, &r));
	assert_close(r.v[COL_THROTTLED], 0);
	assert_false(r.known & COL_BIT(COL_NET_RX));
	assert_false(r.known & COL_BIT(COL_NET_TX));
	assert_false(r.known & COL_BIT(COL_PSI_MEM_SOME));
	assert_true(r.known & COL_BIT(COL_IO_READS));
}

static void test_first_row_vector(void **state)
{
	(void)state;
	struct feat_history *h = features_history_new(10, 5);
	struct feat_vector v;
	features_compute(h, &v);
	assert_int_equal(v.known, 0);

	struct feat_row r = row_at(1000, 40, 200, 4);
	features_push(h, &r);
	features_compute(h, &v);
	assert_close(v.v[F_CPU_USAGE_PERCENT], 40);
	assert_close(v.v[F_ROLLING_MEAN_CPU], 40);
	assert_close(v.v[F_MAX_CPU], 40);
	assert_close(v.v[F_MIN_CPU], 40);
	assert_true(known(&v, F_ROLLING_STD_CPU));
	assert_close(v.v[F_ROLLING_STD_CPU], 0);      /* NaN for one value becomes 0 */
	assert_close(v.v[F_ROLLING_STD_MEMORY], 0);
	assert_close(v.v[F_CPU_TREND], 0);            /* n < 2 */
	assert_close(v.v[F_MEMORY_TREND], 0);
	assert_true(known(&v, F_TIME_DIFF));
	assert_close(v.v[F_TIME_DIFF], 0);            /* first row */
	assert_close(v.v[F_CPU_PER_PROCESS], 10);
	assert_close(v.v[F_MEMORY_PER_PROCESS], 50);
	assert_close(v.v[F_CPU_MEMORY_RATIO], 0.2);
	features_history_free(h);
}

static void test_zero_processes_and_zero_memory(void **state)
{
	(void)state;
	struct feat_history *h = features_history_new(4, 2);
	struct feat_row r = row_at(0, 30, 0, 0);
	features_push(h, &r);
	struct feat_vector v;
	features_compute(h, &v);
	assert_true(known(&v, F_CPU_PER_PROCESS));
	assert_close(v.v[F_CPU_PER_PROCESS], 0);
	assert_close(v.v[F_MEMORY_PER_PROCESS], 0);   /* 0/0 → 0, not NaN */
	assert_close(v.v[F_CPU_MEMORY_RATIO], 0);     /* x/0 → 0, not inf */
	features_history_free(h);
}

static void test_constant_series(void **state)
{
	(void)state;
	struct feat_history *h = features_history_new(20, 5);
	for (int i = 0; i < 12; i++) {
		struct feat_row r = row_at(i * 100, 55.5, 1024, 3);
		features_push(h, &r);
	}
	struct feat_vector v;
	features_compute(h, &v);
	assert_close(v.v[F_ROLLING_MEAN_CPU], 55.5);
	assert_close(v.v[F_ROLLING_STD_CPU], 0);
	assert_close(v.v[F_CPU_TREND], 0);
	assert_close(v.v[F_MEMORY_TREND], 0);
	assert_close(v.v[F_MAX_MEMORY], 1024);
	assert_close(v.v[F_MIN_MEMORY], 1024);
	assert_close(v.v[F_TIME_DIFF], 0.1);
	features_history_free(h);
}

static void test_rising_series(void **state)
{
	(void)state;
	/* CPU 10..60, W = 5: window [20..60] → mean 40, std(ddof=1) √250, max 60, min 20.
	 * Rolling means 10,15,20,25,30,40 → polyfit slope 100/17.5 = 5.714285714285714. */
	struct feat_history *h = features_history_new(100, 5);
	for (int i = 0; i < 6; i++) {
		struct feat_row r = row_at(1000 + i * 250, 10.0 * (i + 1), 100.0 * (i + 1), 2);
		features_push(h, &r);
	}
	struct feat_vector v;
	features_compute(h, &v);
	assert_close(v.v[F_ROLLING_MEAN_CPU], 40);
	assert_close(v.v[F_ROLLING_STD_CPU], sqrt(250));
	assert_close(v.v[F_MAX_CPU], 60);
	assert_close(v.v[F_MIN_CPU], 20);
	assert_close(v.v[F_CPU_TREND], 100.0 / 17.5);
	assert_close(v.v[F_MEMORY_TREND], 1000.0 / 17.5);
	assert_close(v.v[F_ROLLING_MEAN_MEMORY], 400);
	assert_close(v.v[F_TIME_DIFF], 0.25);
	assert_close(v.v[F_CPU_PER_PROCESS], 30);
	features_history_free(h);
}

static void test_trend_over_history_window(void **state)
{
	(void)state;
	/* Capacity 3, W = 2, CPU 1,2,4,8,16: rolling means 1,1.5,3,6,12; the ring keeps the
	 * last three (3,6,12) and their slope is 4.5 (the lifetime fit would differ). */
	struct feat_history *h = features_history_new(3, 2);
	double cpu[] = { 1, 2, 4, 8, 16 };
	for (int i = 0; i < 5; i++) {
		struct feat_row r = row_at(i * 100, cpu[i], 1, 1);
		features_push(h, &r);
	}
	assert_int_equal(features_history_count(h), 3);
	struct feat_vector v;
	features_compute(h, &v);
	assert_close(v.v[F_CPU_TREND], 4.5);
	assert_close(v.v[F_ROLLING_MEAN_CPU], 12);
	assert_close(v.v[F_ROLLING_STD_CPU], sqrt(32)); /* std(8,16, ddof=1) */
	assert_close(features_history_last(h)->v[COL_CPU], 16);
	features_history_clear(h);
	assert_int_equal(features_history_count(h), 0);
	assert_null(features_history_last(h));
	features_history_free(h);
}

static void test_unknown_values_skipped_in_window(void **state)
{
	(void)state;
	struct feat_history *h = features_history_new(10, 3);
	struct feat_row r = row_at(0, 10, 5, 1);
	features_push(h, &r);
	r = row_at(100, 0, 5, 1);
	r.known &= ~COL_BIT(COL_CPU); /* a failed read in the middle */
	features_push(h, &r);
	r = row_at(200, 30, 5, 1);
	features_push(h, &r);
	struct feat_vector v;
	features_compute(h, &v);
	assert_close(v.v[F_ROLLING_MEAN_CPU], 20);  /* mean of 10 and 30, like pandas skipping NaN */
	assert_close(v.v[F_ROLLING_STD_CPU], sqrt(200));

	r = row_at(300, 0, 5, 1);
	r.known &= ~COL_BIT(COL_MEM);
	features_push(h, &r);
	features_compute(h, &v);
	assert_false(known(&v, F_MEMORY_USAGE_MB));
	assert_false(known(&v, F_MEMORY_PER_PROCESS));
	assert_false(known(&v, F_CPU_MEMORY_RATIO));
	assert_true(known(&v, F_ROLLING_MEAN_MEMORY)); /* the window still has known values */
	assert_false(known(&v, F_NET_RX_BYTES));
	features_history_free(h);
}

/* ---- the trend against a brute-force two-pass fit -------------------------------------------
 * A model of the history that keeps every row: the rolling means as pandas computes them
 * (the newest W rows, unknown values skipped) and np.polyfit's slope over the known means of
 * the newest `rows` rows, two passes, centred. The history must agree with it, to rounding,
 * over the rows it says it covers; and those must be every row until the history is full,
 * then between capacity - ceil(capacity / 16) + 1 and capacity. */

struct model_series {
	double rmean;
	bool known;
};

struct model {
	unsigned window, n;
	double *cpu, *mem;                 /* every row's values */
	bool *cpu_known, *mem_known;
	struct model_series *rm_cpu, *rm_mem;
};

static uint64_t rng_state;

static double rnd(void) /* xorshift64*, [0, 1) */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void model_init(struct model *m, unsigned window, unsigned max_rows)
{
	memset(m, 0, sizeof(*m));
	m->window = window;
	m->cpu = calloc(max_rows, sizeof(double));
	m->mem = calloc(max_rows, sizeof(double));
	m->cpu_known = calloc(max_rows, sizeof(bool));
	m->mem_known = calloc(max_rows, sizeof(bool));
	m->rm_cpu = calloc(max_rows, sizeof(struct model_series));
	m->rm_mem = calloc(max_rows, sizeof(struct model_series));
	assert_non_null(m->rm_mem);
}

static void model_free(struct model *m)
{
	free(m->cpu);
	free(m->mem);
	free(m->cpu_known);
	free(m->mem_known);
	free(m->rm_cpu);
	free(m->rm_mem);
}

static struct model_series model_rmean(const double *v, const bool *known, unsigned n, unsigned w)
{
	struct model_series s = { 0, false };
	double sum = 0;
	unsigned k = 0;
	for (unsigned i = n > w ? n - w : 0; i < n; i++)
		if (known[i]) {
			sum += v[i];
			k++;
		}
	if (k) {
		s.rmean = sum / k;
		s.known = true;
	}
	return s;
}

static void model_push(struct model *m, const struct feat_row *r)
{
	unsigned i = m->n++;
	m->cpu[i] = r->v[COL_CPU];
	m->mem[i] = r->v[COL_MEM];
	m->cpu_known[i] = r->known & COL_BIT(COL_CPU);
	m->mem_known[i] = r->known & COL_BIT(COL_MEM);
	m->rm_cpu[i] = model_rmean(m->cpu, m->cpu_known, m->n, m->window);
	m->rm_mem[i] = model_rmean(m->mem, m->mem_known, m->n, m->window);
}

/* The slope over the known means of the newest `rows` rows; false when none is known.
 * *tol gets the rounding both computations may differ by: 1e-9 relative to the slope and to
 * sqrt(Syy / Sxx), plus what a few ulps of the values themselves move a slope of n points
 * (Σ|x - x̄| / Sxx ≈ 3 / n per unit of y). */
static bool model_trend(const struct model *m, const struct model_series *s, unsigned rows,
			double *slope, double *tol)
{
	double yabs = 0;
	double sy = 0;
	unsigned n = 0;
	bool constant = true;
	double first = 0;
	for (unsigned i = m->n - rows; i < m->n; i++) {
		if (!s[i].known)
			continue;
		if (n == 0)
			first = s[i].rmean;
		else if (s[i].rmean != first)
			constant = false;
		sy += s[i].rmean;
		if (fabs(s[i].rmean) > yabs)
			yabs = fabs(s[i].rmean);
		n++;
	}
	*tol = 0;
	if (n == 0)
		return false;
	if (n < 2 || constant) {
		*slope = 0;
		return true;
	}
	double xbar = (n - 1) / 2.0, ybar = sy / n, sxy = 0, sxx = 0, syy = 0;
	unsigned x = 0;
	for (unsigned i = m->n - rows; i < m->n; i++) {
		if (!s[i].known)
			continue;
		sxy += (x - xbar) * (s[i].rmean - ybar);
		sxx += (x - xbar) * (x - xbar);
		syy += (s[i].rmean - ybar) * (s[i].rmean - ybar);
		x++;
	}
	*slope = sxy / sxx;
	*tol = 1e-9 * (fabs(*slope) + sqrt(syy / sxx)) + 64 * DBL_EPSILON * yabs * 3 / n;
	return true;
}

static void assert_trend_matches(const struct model *m, const struct model_series *s, unsigned rows,
				 const struct feat_vector *v, enum feat_index f)
{
	double want, tol;
	bool have = model_trend(m, s, rows, &want, &tol);
	assert_int_equal(known(v, f), have);
	if (!have)
		return;
	double got = v->v[f];
	if (tol == 0) { /* constant or a single point: exactly 0 */
		if (got != 0)
			fail_msg("%s: got %.17g, want exactly 0 (row %u)", features_name(f), got, m->n);
		return;
	}
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, want %.17g (tolerance %g, row %u, %u rows)", features_name(f),
			 got, want, tol, m->n, rows);
}

enum series_kind { SERIES_RANDOM, SERIES_CONSTANT, SERIES_THIRDS, SERIES_HUGE_MEMORY, SERIES_GAPS };

static struct feat_row random_row(unsigned i, enum series_kind kind)
{
	double cpu = 100 * rnd(), mem = 4096 * rnd();
	if (kind == SERIES_CONSTANT) { /* exact in binary: every rolling mean is the same */
		cpu = 42.125;
		mem = 1536.75;
	} else if (kind == SERIES_THIRDS) { /* constant, but rolling means differ in the last bit */
		cpu = 100.0 / 3;
		mem = 1e7 / 3;
	} else if (kind == SERIES_HUGE_MEMORY) {
		/* a terabyte host: MiB values near 1e6, drifting by fractions of a MiB */
		mem = 1048576.0 * 3 + 0.001 * i + 0.25 * rnd();
		cpu = 50 + 1e-6 * rnd();
	}
	struct feat_row r = row_at((int64_t)i * 100, cpu, mem, 3);
	if (kind == SERIES_GAPS || kind == SERIES_HUGE_MEMORY) {
		if (rnd() < 0.15)
			r.known &= ~COL_BIT(COL_CPU);
		if (rnd() < 0.15)
			r.known &= ~COL_BIT(COL_MEM);
	}
	if (kind == SERIES_GAPS && (i / 50) % 7 == 3) /* runs longer than W: rolling mean unknown */
		r.known &= ~(COL_BIT(COL_CPU) | COL_BIT(COL_MEM));
	return r;
}

/* Pushes `total` rows and compares the history with the model after every push. */
static void trend_case(unsigned capacity, unsigned window, unsigned total, enum series_kind kind,
		       uint64_t seed)
{
	rng_state = seed;
	struct feat_history *h = features_history_new(capacity, window);
	assert_non_null(h);
	struct model m;
	model_init(&m, window, total);
	const unsigned bucket = (capacity + 15) / 16;
	bool evicted = false;
	for (unsigned i = 0; i < total; i++) {
		struct feat_row r = random_row(i, kind);
		features_push(h, &r);
		model_push(&m, &r);
		unsigned rows = features_history_count(h);
		if (m.n <= capacity) {
			assert_int_equal(rows, m.n); /* exact until full */
		} else {
			assert_true(rows <= capacity);
			assert_true(rows + bucket > capacity);
			if (rows < capacity)
				evicted = true;
		}
		struct feat_vector v;
		features_compute(h, &v);
		assert_trend_matches(&m, m.rm_cpu, rows, &v, F_CPU_TREND);
		assert_trend_matches(&m, m.rm_mem, rows, &v, F_MEMORY_TREND);
		/* the rolling features over the newest W rows */
		struct model_series rc = model_rmean(m.cpu, m.cpu_known, m.n, window);
		assert_int_equal(known(&v, F_ROLLING_MEAN_CPU), rc.known);
		if (rc.known)
			assert_close(v.v[F_ROLLING_MEAN_CPU], rc.rmean);
		struct model_series rmm = model_rmean(m.mem, m.mem_known, m.n, window);
		assert_int_equal(known(&v, F_ROLLING_MEAN_MEMORY), rmm.known);
		if (rmm.known)
			assert_close(v.v[F_ROLLING_MEAN_MEMORY], rmm.rmean);
		assert_close(v.v[F_TIME_DIFF], m.n >= 2 ? 0.1 : 0);
	}
	if (total > capacity + bucket && bucket > 1)
		assert_true(evicted); /* the whole-bucket boundaries were crossed */
	model_free(&m);
	features_history_free(h);
}

static void test_trend_short_series(void **state)
{
	(void)state;
	trend_case(1000, 5, 1, SERIES_RANDOM, 1);
	trend_case(1000, 5, 2, SERIES_RANDOM, 2);
	trend_case(1000, 5, 700, SERIES_RANDOM, 3);
	trend_case(1000, 1, 300, SERIES_RANDOM, 4);
	trend_case(100, 100, 99, SERIES_RANDOM, 5);  /* W = capacity */
}

static void test_trend_exactly_full(void **state)
{
	(void)state;
	static const unsigned caps[] = { 2, 3, 31, 32, 33, 64, 65, 100, 999, 1000, 1024 };
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		trend_case(caps[i], caps[i] < 5 ? caps[i] : 5, caps[i], SERIES_RANDOM, 10 + i);
}

static void test_trend_long_with_eviction(void **state)
{
	(void)state;
	/* several times the capacity: every bucket boundary is crossed, with partial buckets */
	static const unsigned caps[] = { 2, 3, 8, 32, 33, 63, 100, 1000, 1001 };
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		unsigned w = caps[i] < 7 ? caps[i] : 7;
		trend_case(caps[i], w, caps[i] * 3 + 17, SERIES_RANDOM, 100 + i);
	}
	trend_case(40, 40, 200, SERIES_RANDOM, 120); /* W = capacity */
}

static void test_trend_unknown_values(void **state)
{
	(void)state;
	trend_case(1000, 5, 2600, SERIES_GAPS, 200);
	trend_case(50, 3, 400, SERIES_GAPS, 201);
	trend_case(8, 2, 300, SERIES_GAPS, 202);
}

static void test_trend_constant_series(void **state)
{
	(void)state;
	/* exactly 0, not a rounding residue, before and after whole buckets leave */
	trend_case(1000, 5, 2100, SERIES_CONSTANT, 300);
	trend_case(100, 10, 450, SERIES_CONSTANT, 301);
	trend_case(1000, 7, 2100, SERIES_THIRDS, 302);
	/* a series constant only inside the window: an old different value must leave */
	struct feat_history *h = features_history_new(64, 1);
	struct feat_row r = row_at(0, 9, 9, 1);
	features_push(h, &r);
	struct feat_vector v;
	for (int i = 1; i < 200; i++) {
		r = row_at(i * 100, 7, 7, 1);
		features_push(h, &r);
		features_compute(h, &v);
		if (i < 64)
			assert_true(v.v[F_CPU_TREND] < 0);
	}
	assert_true(v.v[F_CPU_TREND] == 0 && v.v[F_MEMORY_TREND] == 0);
	features_history_free(h);
}

static void test_trend_huge_memory(void **state)
{
	(void)state;
	trend_case(1000, 5, 2500, SERIES_HUGE_MEMORY, 400);
	trend_case(77, 4, 500, SERIES_HUGE_MEMORY, 401);
	/* a straight line far from 0: the slope comes out exact, no cancellation */
	struct feat_history *h = features_history_new(1000, 5);
	for (int i = 0; i < 3000; i++) {
		struct feat_row r = row_at(i * 100, 1, 4e6 + 0.0625 * i, 1);
		features_push(h, &r);
	}
	struct feat_vector v;
	features_compute(h, &v);
	assert_close(v.v[F_MEMORY_TREND], 0.0625);
	assert_true(v.v[F_CPU_TREND] == 0);
	features_history_free(h);
}

static void test_history_clear_restarts(void **state)
{
	(void)state;
	struct feat_history *h = features_history_new(100, 5);
	for (int i = 0; i < 250; i++) {
		struct feat_row r = row_at(i * 100, i, i, 1);
		features_push(h, &r);
	}
	features_history_clear(h);
	struct feat_vector v;
	features_compute(h, &v);
	assert_int_equal(v.known, 0);
	/* after a clear the history behaves like a new one, time_diff included */
	struct feat_row r = row_at(100000, 5, 6, 1);
	features_push(h, &r);
	features_compute(h, &v);
	assert_int_equal(features_history_count(h), 1);
	assert_close(v.v[F_TIME_DIFF], 0);
	assert_close(v.v[F_CPU_TREND], 0);
	assert_close(v.v[F_ROLLING_MEAN_CPU], 5);
	r = row_at(100500, 7, 6, 1);
	features_push(h, &r);
	features_compute(h, &v);
	assert_close(v.v[F_TIME_DIFF], 0.5);
	assert_close(v.v[F_CPU_TREND], 1);         /* means 5, 6 */
	assert_close(v.v[F_ROLLING_MEAN_CPU], 6);
	features_history_free(h);
}

static void test_selection(void **state)
{
	(void)state;
	struct feat_select s;
	features_select_default(&s);
	assert_int_equal(s.n, FEAT_REFERENCE_COUNT - 1); /* the reference's 26 but time_diff */
	for (unsigned i = 1; i < s.n; i++)
		assert_true(s.index[i - 1] < s.index[i]);
	for (unsigned i = 0; i < s.n; i++)
		assert_int_not_equal(s.index[i], F_TIME_DIFF);

	const char *names[] = { "memory_usage_mb", "cpu_usage_percent", "memory_usage_mb", "oom_kills" };
	char err[64];
	assert_int_equal(features_select_names(&s, names, 4, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.index[0], F_CPU_USAGE_PERCENT); /* canonical order, not the config's */
	assert_int_equal(s.index[1], F_MEMORY_USAGE_MB);
	assert_int_equal(s.index[2], F_OOM_KILLS);

	const char *bad[] = { "cpu_usage_percent", "cpu_usage" };
	assert_int_equal(features_select_names(&s, bad, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cpu_usage"));
	assert_int_equal(features_select_names(&s, NULL, 0, err, sizeof(err)), -1);

	struct feat_vector v;
	memset(&v, 0, sizeof(v));
	v.known = (1ull << F_CPU_USAGE_PERCENT) | (1ull << F_MEMORY_USAGE_MB);
	v.v[F_CPU_USAGE_PERCENT] = 7;
	v.v[F_MEMORY_USAGE_MB] = 9;
	const char *two[] = { "memory_usage_mb", "cpu_usage_percent" };
	assert_int_equal(features_select_names(&s, two, 2, NULL, 0), 0);
	double out[FEAT_COUNT];
	assert_true(features_project(&v, &s, out));
	assert_close(out[0], 7);
	assert_close(out[1], 9);
	assert_null(features_first_unknown(&v, &s));
	features_select_default(&s);
	assert_false(features_project(&v, &s, out)); /* unknown selected feature: not fed */
	assert_string_equal(features_first_unknown(&v, &s), "cpu_memory_ratio");
}

static void test_bad_history_arguments(void **state)
{
	(void)state;
	assert_null(features_history_new(1, 1));
	assert_null(features_history_new(10, 0));
	assert_null(features_history_new(10, 11));
	struct feat_history *h = features_history_new(2, 2);
	assert_non_null(h);
	features_history_free(h);
	features_history_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_sorted_like_reference),
		cmocka_unit_test(test_cpu_percent_from_usage),
		cmocka_unit_test(test_first_sample_and_time),
		cmocka_unit_test(test_memory_swap_pids_fs),
		cmocka_unit_test(test_rates_io_net_psi_throttle_oom),
		cmocka_unit_test(test_irregular_sampling_keeps_rates),
		cmocka_unit_test(test_first_row_vector),
		cmocka_unit_test(test_zero_processes_and_zero_memory),
		cmocka_unit_test(test_constant_series),
		cmocka_unit_test(test_rising_series),
		cmocka_unit_test(test_trend_over_history_window),
		cmocka_unit_test(test_unknown_values_skipped_in_window),
		cmocka_unit_test(test_trend_short_series),
		cmocka_unit_test(test_trend_exactly_full),
		cmocka_unit_test(test_trend_long_with_eviction),
		cmocka_unit_test(test_trend_unknown_values),
		cmocka_unit_test(test_trend_constant_series),
		cmocka_unit_test(test_trend_huge_memory),
		cmocka_unit_test(test_history_clear_restarts),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_bad_history_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

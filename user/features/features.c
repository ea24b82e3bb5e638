/*
 * features/features.c — raw samples → rows → the feature vector (design in features/features.h).
 *
 * The history keeps what the features need, not the rows themselves: the newest row whole,
 * the CPU and memory values of the newest W rows for the rolling statistics, and for the
 * trend the rolling means of CPU and memory as they were when each row arrived (exactly the
 * series pandas' `rolling(W, min_periods=1).mean()` produces), summarised in a few mergeable
 * buckets (see "history" below for the sliding semantics: the trend covers the newest
 * history_length rows, give or take one bucket once the history is full). Rolling
 * statistics skip unknown values the way pandas skips NaN.
 */
#include "features/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)

static const char *const feature_names[FEAT_COUNT] = {
	[F_CPU_MEMORY_RATIO] = "cpu_memory_ratio",
	[F_CPU_PER_PROCESS] = "cpu_per_process",
	[F_CPU_TREND] = "cpu_trend",
	[F_CPU_USAGE_PERCENT] = "cpu_usage_percent",
	[F_FS_FREE_GB] = "filesystem_free_gb",
	[F_FS_TOTAL_GB] = "filesystem_total_gb",
	[F_FS_USAGE_GB] = "filesystem_usage_gb",
	[F_IO_READS] = "io_reads",
	[F_IO_WRITES] = "io_writes",
	[F_MAX_CPU] = "max_cpu",
	[F_MAX_MEMORY] = "max_memory",
	[F_MEMORY_PER_PROCESS] = "memory_per_process",
	[F_MEMORY_TREND] = "memory_trend",
	[F_MEMORY_USAGE_MB] = "memory_usage_mb",
	[F_MIN_CPU] = "min_cpu",
	[F_MIN_MEMORY] = "min_memory",
	[F_NET_RX_BYTES] = "network_rx_bytes",
	[F_NET_TX_BYTES] = "network_tx_bytes",
	[F_PROCESS_COUNT] = "process_count",
	[F_ROLLING_MEAN_CPU] = "rolling_mean_cpu",
	[F_ROLLING_MEAN_MEMORY] = "rolling_mean_memory",
	[F_ROLLING_STD_CPU] = "rolling_std_cpu",
	[F_ROLLING_STD_MEMORY] = "rolling_std_memory",
	[F_SWAP_TOTAL_MB] = "swap_total_mb",
	[F_SWAP_USAGE_MB] = "swap_usage_mb",
	[F_TIME_DIFF] = "time_diff",
	[F_PSI_CPU_SOME_MS] = "psi_cpu_some_ms",
	[F_PSI_CPU_FULL_MS] = "psi_cpu_full_ms",
	[F_PSI_MEMORY_SOME_MS] = "psi_memory_some_ms",
	[F_PSI_MEMORY_FULL_MS] = "psi_memory_full_ms",
	[F_PSI_IO_SOME_MS] = "psi_io_some_ms",
	[F_PSI_IO_FULL_MS] = "psi_io_full_ms",
	[F_RUNQ_P50_US] = "runq_p50_us",
	[F_RUNQ_P99_US] = "runq_p99_us",
	[F_RECLAIM_STALL_MS] = "reclaim_stall_ms",
	[F_THROTTLED_RATIO] = "throttled_ratio",
	[F_OOM_KILLS] = "oom_kills",
};

const char *features_name(unsigned index)
{
	return index < FEAT_COUNT ? feature_names[index] : NULL;
}

int features_index(const char *name)
{
	if (!name)
		return -1;
	for (unsigned i = 0; i < FEAT_COUNT; i++)
		if (strcmp(feature_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* ---- raw → row ----------------------------------------------------------------------------- */

/* A counter delta; false when either side is unknown or the counter went backwards
 * (a reset: the container restarted, or a cgroup was re-created under the same name). */
static bool counter_delta(const struct feat_raw *p, const struct feat_raw *c, uint32_t bit,
			  uint64_t prev, uint64_t cur, double *delta)
{
	if (!(p->known & bit) || !(c->known & bit) || cur < prev)
		return false;
	*delta = (double)(cur - prev);
	return true;
}

static void set_col(struct feat_row *r, enum feat_col col, double v)
{
	r->v[col] = v;
	r->known |= COL_BIT(col);
}

bool features_row_from_raw(const struct feat_raw *p, const struct feat_raw *c, struct feat_row *out)
{
	if (!p || !c || c->mono_ms <= p->mono_ms)
		return false;

	struct feat_row r;
	memset(&r, 0, sizeof(r));
	r.mono_ms = c->mono_ms;
	r.wall_ms = c->wall_ms;
	const double dt_s = (double)(c->mono_ms - p->mono_ms) / 1000.0;
	double d, d2;

	/* CPU % of the allowed CPUs: Δusage / (Δt · cores), clamped to 0..100
	 * (docs/kernel-interfaces.md, "CPU files"). */
	if (counter_delta(p, c, RAW_BIT(RAW_CPU_USAGE), p->cpu_usage_usec, c->cpu_usage_usec, &d) &&
	    (c->known & RAW_BIT(RAW_CPU_CORES)) && c->cpu_cores > 0) {
		double pct = d / (dt_s * 1e6 * c->cpu_cores) * 100.0;
		set_col(&r, COL_CPU, pct < 0 ? 0 : pct > 100 ? 100 : pct);
	}
	/* Memory: page cache never counts as used. */
	if (c->known & RAW_BIT(RAW_MEM)) {
		uint64_t used = c->mem_current > c->mem_file ? c->mem_current - c->mem_file : 0;
		set_col(&r, COL_MEM, (double)used / MIB);
	}
	if (c->known & RAW_BIT(RAW_SWAP))
		set_col(&r, COL_SWAP, (double)c->swap_current / MIB);
	if (c->known & RAW_BIT(RAW_SWAP_TOTAL))
		set_col(&r, COL_SWAP_TOTAL, (double)c->swap_total / MIB);
	if (c->known & RAW_BIT(RAW_PIDS))
		set_col(&r, COL_PROCS, (double)c->pids);

	if (counter_delta(p, c, RAW_BIT(RAW_IO), p->io_rbytes, c->io_rbytes, &d) &&
	    counter_delta(p, c, RAW_BIT(RAW_IO), p->io_wbytes, c->io_wbytes, &d2)) {
		set_col(&r, COL_IO_READS, d / 512.0 / dt_s);
		set_col(&r, COL_IO_WRITES, d2 / 512.0 / dt_s);
	}
	if (counter_delta(p, c, RAW_BIT(RAW_NET), p->net_rx_bytes, c->net_rx_bytes, &d) &&
	    counter_delta(p, c, RAW_BIT(RAW_NET), p->net_tx_bytes, c->net_tx_bytes, &d2)) {
		set_col(&r, COL_NET_RX, d / dt_s);
		set_col(&r, COL_NET_TX, d2 / dt_s);
	}
	if (c->known & RAW_BIT(RAW_FS)) {
		set_col(&r, COL_FS_USED, (double)c->fs_used_bytes / GIB);
		set_col(&r, COL_FS_TOTAL, (double)c->fs_total_bytes / GIB);
		set_col(&r, COL_FS_FREE, (double)c->fs_free_bytes / GIB);
	}

	/* PSI totals are µs of stall; as ms per second they read like a per-mille share. */
	static const enum feat_raw_field psi_field[3] = { RAW_PSI_CPU, RAW_PSI_MEM, RAW_PSI_IO };
	for (int res = 0; res < 3; res++)
		for (int kind = 0; kind < 2; kind++)
			if (counter_delta(p, c, RAW_BIT(psi_field[res]), p->psi_total_us[res][kind],
					  c->psi_total_us[res][kind], &d))
				set_col(&r, (enum feat_col)(COL_PSI_CPU_SOME + res * 2 + kind),
					d / 1000.0 / dt_s);

	if (c->known & RAW_BIT(RAW_RUNQ)) {
		set_col(&r, COL_RUNQ_P50, c->runq_p50_us);
		set_col(&r, COL_RUNQ_P99, c->runq_p99_us);
	}
	if (counter_delta(p, c, RAW_BIT(RAW_RECLAIM), p->reclaim_stall_us, c->reclaim_stall_us, &d))
		set_col(&r, COL_RECLAIM, d / 1000.0 / dt_s);
	if (counter_delta(p, c, RAW_BIT(RAW_THROTTLE), p->nr_periods, c->nr_periods, &d) &&
	    counter_delta(p, c, RAW_BIT(RAW_THROTTLE), p->nr_throttled, c->nr_throttled, &d2))
		set_col(&r, COL_THROTTLED, d > 0 ? (d2 > d ? 1.0 : d2 / d) : 0.0);
	if (counter_delta(p, c, RAW_BIT(RAW_OOM), p->oom_kills, c->oom_kills, &d))
		set_col(&r, COL_OOM, d);

	*out = r;
	return true;
}

bool features_row_col(const struct feat_row *r, enum feat_col c, double *v)
{
	if (!r || !(r->known & COL_BIT(c)))
		return false;
	*v = r->v[c];
	return true;
}

/* ---- history ------------------------------------------------------------------------------- */

/*
 * The rolling statistics look back W rows (rolling_window) and time_diff one row, so only the
 * newest row is kept whole; the W newest rows keep just their CPU and memory values.
 *
 * The trend looks back over the whole history (history_length rows), but only at one number
 * per row: the rolling mean as it was when the row arrived. Those means are kept as a ring of
 * at most TREND_BUCKETS + 1 buckets of `bucket_rows` consecutive rows each (bucket_rows =
 * ceil(history_length / TREND_BUCKETS)). A bucket holds, per series, the exact statistics a
 * least-squares fit needs and that can be merged: the number of known means n, their mean ȳ
 * and the co-moment Σ(x - x̄)(y - ȳ), with x the index among the bucket's known means (so
 * x̄ = (n - 1)/2 and Σ(x - x̄)² = n(n² - 1)/12 need no storage), plus whether any mean
 * differed from the ones before, for the reference's "constant series gives 0" rule (while
 * none did, ȳ is exactly that value: Welford's update adds y - ȳ = 0). A row is
 * added to the newest bucket by Welford's update; at compute time the buckets are merged in
 * order (Chan et al.: the cross term n·(x̄_b - X̄)(ȳ_b - Ȳ) of each bucket's offset means),
 * which gives the same slope as the two-pass sum over the points themselves up to rounding.
 *
 * When the rows exceed history_length the oldest bucket leaves whole, so the trend covers
 * between history_length - bucket_rows + 1 and history_length rows: exactly history_length
 * until the history first fills, exactly a sliding history_length when history_length <=
 * TREND_BUCKETS (bucket_rows = 1), and within bucket_rows of it otherwise (for the default
 * 1000 rows, 63-row buckets: the newest 938..1000 rows). Pushing is O(1), the trend
 * O(TREND_BUCKETS), and a container costs about 1.3 KB whatever history_length is.
 */
#define TREND_BUCKETS 16

enum { SERIES_CPU = 0, SERIES_MEM, SERIES_COUNT };

struct trend_bucket {                    /* 40 bytes */
	double mean[SERIES_COUNT];       /* ȳ of the known rolling means */
	double cxy[SERIES_COUNT];        /* Σ (x - x̄)(y - ȳ), x local to the bucket */
	uint16_t n[SERIES_COUNT];        /* known rolling means (≤ bucket_rows ≤ 62500) */
	uint16_t rows;                   /* rows, known means or not */
	bool varied[SERIES_COUNT];       /* not all known means were equal */
};

struct recent_row {                      /* what the rolling window needs of a row */
	double v[SERIES_COUNT];
	uint8_t known;                   /* 1 << SERIES_* */
};

struct feat_history {
	unsigned capacity, window;
	unsigned bucket_rows, n_buckets;      /* bucket size; buckets allocated */
	unsigned b_head, b_used;              /* oldest bucket, buckets in use */
	unsigned rows;                        /* rows the buckets cover (≤ capacity) */
	unsigned r_head, r_count;             /* the recent ring: oldest, rows (≤ window) */
	bool have_last, have_prev;
	struct feat_row last;                 /* the newest row, whole */
	int64_t prev_mono_ms;                 /* the row before it: only its time */
	struct feat_raw prev_raw;
	bool have_prev_raw;
	struct trend_bucket *buckets;         /* [n_buckets], inside this allocation */
	struct recent_row *recent;            /* [window], inside this allocation */
};

static const enum feat_col series_col[SERIES_COUNT] = { COL_CPU, COL_MEM };

struct feat_history *features_history_new(unsigned capacity, unsigned window)
{
	if (capacity < 2 || capacity > 1000000 || window < 1 || window > capacity)
		return NULL;
	unsigned bucket_rows = (capacity + TREND_BUCKETS - 1) / TREND_BUCKETS;
	unsigned n_buckets = (capacity + bucket_rows - 1) / bucket_rows + 1;
	size_t size = sizeof(struct feat_history) + (size_t)n_buckets * sizeof(struct trend_bucket) +
		      (size_t)window * sizeof(struct recent_row);
	struct feat_history *h = calloc(1, size);
	if (!h)
		return NULL;
	h->capacity = capacity;
	h->window = window;
	h->bucket_rows = bucket_rows;
	h->n_buckets = n_buckets;
	h->buckets = (struct trend_bucket *)(h + 1);
	h->recent = (struct recent_row *)(h->buckets + n_buckets);
	return h;
}

void features_history_free(struct feat_history *h)
{
	free(h);
}

void features_history_clear(struct feat_history *h)
{
	h->b_head = h->b_used = h->rows = 0;
	h->r_head = h->r_count = 0;
	h->have_last = h->have_prev = false;
	h->have_prev_raw = false;
}

unsigned features_history_count(const struct feat_history *h)
{
	return h->rows;
}

const struct feat_row *features_history_last(const struct feat_history *h)
{
	return h->have_last ? &h->last : NULL;
}

struct rolling {
	unsigned n;                      /* known values in the window */
	double mean, std, max, min;
};

/* Rolling statistics of one series over the newest min(W, rows) rows, skipping unknown
 * values (pandas skips NaN; min_periods = 1). std is the sample std, 0 for one value. */
static struct rolling rolling_stats(const struct feat_history *h, int s)
{
	struct rolling r = { 0, 0, 0, -INFINITY, INFINITY };
	double sum = 0;
	for (unsigned i = 0; i < h->r_count; i++) {
		const struct recent_row *row = &h->recent[(h->r_head + i) % h->window];
		if (!(row->known & (1u << s)))
			continue;
		double x = row->v[s];
		r.n++;
		sum += x;
		if (x > r.max) r.max = x;
		if (x < r.min) r.min = x;
	}
	if (r.n == 0)
		return r;
	r.mean = sum / r.n;
	if (r.n >= 2) {
		double ss = 0;
		for (unsigned i = 0; i < h->r_count; i++) {
			const struct recent_row *row = &h->recent[(h->r_head + i) % h->window];
			if (row->known & (1u << s))
				ss += (row->v[s] - r.mean) * (row->v[s] - r.mean);
		}
		r.std = sqrt(ss / (r.n - 1));
	}
	return r;
}

/* Welford's update of one series of a bucket with its next known rolling mean y, at local
 * x = n (the bucket's known means so far): x - x̄_old = (n + 1)/2. */
static void bucket_add(struct trend_bucket *b, int s, double y)
{
	unsigned k = b->n[s];
	if (k == 0) {
		b->mean[s] = y;
		b->cxy[s] = 0;
		b->varied[s] = false;
	} else {
		double dx = (k + 1) / 2.0;
		if (y != b->mean[s]) /* while nothing varied, the mean is the common value */
			b->varied[s] = true;
		b->mean[s] += (y - b->mean[s]) / (k + 1);
		b->cxy[s] += dx * (y - b->mean[s]);
	}
	b->n[s] = (uint16_t)(k + 1);
}

static struct trend_bucket *bucket_at(const struct feat_history *h, unsigned i)
{
	return &h->buckets[(h->b_head + i) % h->n_buckets];
}

void features_push(struct feat_history *h, const struct feat_row *row)
{
	/* the whole newest row, and the time of the one before for time_diff */
	if (h->have_last) {
		h->prev_mono_ms = h->last.mono_ms;
		h->have_prev = true;
	}
	h->last = *row;
	h->have_last = true;

	/* the rolling window's ring */
	struct recent_row *rr;
	if (h->r_count < h->window) {
		rr = &h->recent[(h->r_head + h->r_count) % h->window];
		h->r_count++;
	} else {
		rr = &h->recent[h->r_head];
		h->r_head = (h->r_head + 1) % h->window;
	}
	rr->known = 0;
	for (int s = 0; s < SERIES_COUNT; s++) {
		rr->v[s] = row->v[series_col[s]];
		if (row->known & COL_BIT(series_col[s]))
			rr->known |= (uint8_t)(1u << s);
	}

	/* the rolling means as of this row, into the newest trend bucket */
	if (h->b_used == 0 || bucket_at(h, h->b_used - 1)->rows == h->bucket_rows) {
		memset(bucket_at(h, h->b_used), 0, sizeof(struct trend_bucket));
		h->b_used++;
	}
	struct trend_bucket *b = bucket_at(h, h->b_used - 1);
	for (int s = 0; s < SERIES_COUNT; s++) {
		struct rolling r = rolling_stats(h, s);
		if (r.n)
			bucket_add(b, s, r.mean);
	}
	b->rows++;
	h->rows++;
	/* whole buckets leave: the oldest is full, and one bucket never holds more than capacity */
	while (h->rows > h->capacity) {
		h->rows -= bucket_at(h, 0)->rows;
		h->b_head = (h->b_head + 1) % h->n_buckets;
		h->b_used--;
	}
}

const struct feat_raw *features_history_raw(const struct feat_history *h)
{
	return h->have_prev_raw ? &h->prev_raw : NULL;
}

bool features_feed_raw(struct feat_history *h, const struct feat_raw *raw)
{
	struct feat_row row;
	bool pushed = false;
	if (h->have_prev_raw && features_row_from_raw(&h->prev_raw, raw, &row)) {
		features_push(h, &row);
		pushed = true;
	}
	/* Time going backwards keeps the old baseline rather than poisoning the next delta. */
	if (!h->have_prev_raw || raw->mono_ms > h->prev_raw.mono_ms) {
		h->prev_raw = *raw;
		h->have_prev_raw = true;
	}
	return pushed;
}

/* Slope of np.polyfit(0..N-1, y, 1) over the known rolling means the buckets cover, oldest
 * first; 0 for fewer than two points or a constant series (the reference's latest rule).
 * Σ(x - X̄)(y - Ȳ) = Σ_b [cxy_b + n_b (x̄_b - X̄)(ȳ_b - Ȳ)]; since Σ_b n_b (x̄_b - X̄) = 0, Ȳ may
 * be replaced by any constant: the first bucket's mean keeps the terms small for large
 * memory values. Σ(x - X̄)² of the consecutive integers 0..N-1 is N(N² - 1)/12. */
static bool trend(const struct feat_history *h, int s, double *slope)
{
	uint64_t n_total = 0;
	bool constant = true, have_ref = false;
	double ref = 0;
	for (unsigned i = 0; i < h->b_used; i++) {
		const struct trend_bucket *b = bucket_at(h, i);
		if (!b->n[s])
			continue;
		if (!have_ref) {
			ref = b->mean[s];
			have_ref = true;
		}
		if (b->varied[s] || b->mean[s] != ref)
			constant = false;
		n_total += b->n[s];
	}
	if (n_total == 0)
		return false;
	if (n_total < 2 || constant) {
		*slope = 0;
		return true;
	}
	const double N = (double)n_total, xbar = (N - 1) / 2.0;
	double sxy = 0, offset = 0;
	for (unsigned i = 0; i < h->b_used; i++) {
		const struct trend_bucket *b = bucket_at(h, i);
		if (!b->n[s])
			continue;
		double nb = b->n[s], bx = offset + (nb - 1) / 2.0;
		sxy += b->cxy[s] + nb * (bx - xbar) * (b->mean[s] - ref);
		offset += nb;
	}
	*slope = sxy / (N * (N * N - 1) / 12.0);
	return true;
}

/* pandas division with inf/NaN replaced by 0 (_safe_ratio). */
static double safe_ratio(double a, double b)
{
	if (b == 0)
		return 0;
	double q = a / b;
	return isfinite(q) ? q : 0;
}

static void set_feat(struct feat_vector *v, enum feat_index f, double x)
{
	v->v[f] = x;
	v->known |= 1ull << f;
}

void features_compute(const struct feat_history *h, struct feat_vector *out)
{
	memset(out, 0, sizeof(*out));
	if (!h->have_last)
		return;
	const struct feat_row *r = &h->last;
#define KNOWN(c) (r->known & COL_BIT(c))
	static const struct { enum feat_col col; enum feat_index feat; } direct[] = {
		{ COL_CPU, F_CPU_USAGE_PERCENT }, { COL_MEM, F_MEMORY_USAGE_MB },
		{ COL_SWAP, F_SWAP_USAGE_MB }, { COL_SWAP_TOTAL, F_SWAP_TOTAL_MB },
		{ COL_PROCS, F_PROCESS_COUNT }, { COL_IO_READS, F_IO_READS },
		{ COL_IO_WRITES, F_IO_WRITES }, { COL_NET_RX, F_NET_RX_BYTES },
		{ COL_NET_TX, F_NET_TX_BYTES }, { COL_FS_USED, F_FS_USAGE_GB },
		{ COL_FS_TOTAL, F_FS_TOTAL_GB }, { COL_FS_FREE, F_FS_FREE_GB },
		{ COL_PSI_CPU_SOME, F_PSI_CPU_SOME_MS }, { COL_PSI_CPU_FULL, F_PSI_CPU_FULL_MS },
		{ COL_PSI_MEM_SOME, F_PSI_MEMORY_SOME_MS }, { COL_PSI_MEM_FULL, F_PSI_MEMORY_FULL_MS },
		{ COL_PSI_IO_SOME, F_PSI_IO_SOME_MS }, { COL_PSI_IO_FULL, F_PSI_IO_FULL_MS },
		{ COL_RUNQ_P50, F_RUNQ_P50_US }, { COL_RUNQ_P99, F_RUNQ_P99_US },
		{ COL_RECLAIM, F_RECLAIM_STALL_MS }, { COL_THROTTLED, F_THROTTLED_RATIO },
		{ COL_OOM, F_OOM_KILLS },
	};
	for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
		if (KNOWN(direct[i].col))
			set_feat(out, direct[i].feat, r->v[direct[i].col]);

	if (KNOWN(COL_CPU) && KNOWN(COL_PROCS))
		set_feat(out, F_CPU_PER_PROCESS, safe_ratio(r->v[COL_CPU], r->v[COL_PROCS]));
	if (KNOWN(COL_MEM) && KNOWN(COL_PROCS))
		set_feat(out, F_MEMORY_PER_PROCESS, safe_ratio(r->v[COL_MEM], r->v[COL_PROCS]));
	if (KNOWN(COL_CPU) && KNOWN(COL_MEM))
		set_feat(out, F_CPU_MEMORY_RATIO, safe_ratio(r->v[COL_CPU], r->v[COL_MEM]));
#undef KNOWN

	set_feat(out, F_TIME_DIFF, h->have_prev ? (double)(r->mono_ms - h->prev_mono_ms) / 1000.0 : 0.0);

	struct rolling rc = rolling_stats(h, SERIES_CPU), rm = rolling_stats(h, SERIES_MEM);
	if (rc.n) {
		set_feat(out, F_ROLLING_MEAN_CPU, rc.mean);
		set_feat(out, F_ROLLING_STD_CPU, rc.std);
		set_feat(out, F_MAX_CPU, rc.max);
		set_feat(out, F_MIN_CPU, rc.min);
	}
	if (rm.n) {
		set_feat(out, F_ROLLING_MEAN_MEMORY, rm.mean);
		set_feat(out, F_ROLLING_STD_MEMORY, rm.std);
		set_feat(out, F_MAX_MEMORY, rm.max);
		set_feat(out, F_MIN_MEMORY, rm.min);
	}
	double slope;
	if (trend(h, SERIES_CPU, &slope))
		set_feat(out, F_CPU_TREND, slope);
	if (trend(h, SERIES_MEM, &slope))
		set_feat(out, F_MEMORY_TREND, slope);
}

/* ---- selection ------------------------------------------------------------------------- */

void features_select_default(struct feat_select *s)
{
	/* time_diff is left out: the reference sampled every 60 s, so it was constant there;
	 * here it is the sampler's own cadence (0.1 s while a container is hot, about 1 s while it
	 * is quiet), and a forest fed with it would call hot containers anomalous for being hot. */
	s->n = 0;
	for (unsigned i = 0; i < FEAT_REFERENCE_COUNT; i++)
		if (i != F_TIME_DIFF)
			s->index[s->n++] = (uint8_t)i;
}

int features_select_names(struct feat_select *s, const char *const *names, size_t n,
			  char *err, size_t errlen)
{
	bool chosen[FEAT_COUNT] = { false };
	for (size_t i = 0; i < n; i++) {
		int idx = features_index(names[i]);
		if (idx < 0) {
			if (err && errlen)
				snprintf(err, errlen, "unknown feature \"%s\"", names[i] ? names[i] : "(null)");
			return -1;
		}
		chosen[idx] = true;
	}
	s->n = 0;
	for (unsigned i = 0; i < FEAT_COUNT; i++)
		if (chosen[i])
			s->index[s->n++] = (uint8_t)i;
	if (s->n == 0) {
		if (err && errlen)
			snprintf(err, errlen, "no feature selected");
		return -1;
	}
	return 0;
}

bool features_project(const struct feat_vector *v, const struct feat_select *s, double *out)
{
	for (unsigned i = 0; i < s->n; i++) {
		unsigned f = s->index[i];
		if (!(v->known & (1ull << f)))
			return false;
		out[i] = v->v[f];
	}
	return true;
}

const char *features_first_unknown(const struct feat_vector *v, const struct feat_select *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!(v->known & (1ull << s->index[i])))
			return feature_names[s->index[i]];
	return NULL;
}

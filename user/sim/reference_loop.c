/*
 * sim/reference_loop.c — the reference's model loop, one cycle (see sim/reference_loop.h).
 *
 * A cycle builds the frame the reference's preprocessing builds (every visible row, its 26
 * features), trains one forest on it, then walks the containers stamped with the newest
 * timestamp through its decision rule. The rolling statistics follow pandas' own online
 * algorithms (Kahan-compensated sums, Welford's variance, the run-of-equal-values rule that
 * makes a constant window give exactly its value and a standard deviation of exactly 0),
 * because an almost-zero where pandas has a zero is a feature the forest could split on.
 * The trend is the closed-form least-squares slope (numpy fits it by SVD; the two agree to a
 * few ulps, far below the float32 the forest compares in).
 */
#include "sim/reference_loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errbuf.h"
#include "sim/sklearn_forest.h"

/* ---- history ------------------------------------------------------------------------------ */

void ref_history_init(struct ref_history *h)
{
	memset(h, 0, sizeof *h);
}

void ref_history_free(struct ref_history *h)
{
	free(h->rec);
	free(h->snap);
	memset(h, 0, sizeof *h);
}

static int reserve(void **v, size_t *cap, size_t elem, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t want = *cap ? *cap : 64;
	while (want < need)
		want *= 2;
	void *p = realloc(*v, want * elem);
	if (!p)
		return -1;
	*v = p;
	*cap = want;
	return 0;
}

int ref_history_append(struct ref_history *h, const struct ref_record *r, size_t n)
{
	if (n == 0)
		return 0;
	if (reserve((void **)&h->rec, &h->cap_rec, sizeof *h->rec, h->n_rec + n) != 0 ||
	    reserve((void **)&h->snap, &h->cap_snap, sizeof *h->snap, h->n_snap + 1) != 0)
		return -1;
	int64_t newest = r[0].t_us;
	for (size_t i = 0; i < n; i++) {
		h->rec[h->n_rec + i] = r[i];
		if (r[i].t_us > newest)
			newest = r[i].t_us;
	}
	h->snap[h->n_snap++] = (struct ref_snapshot){ .first = h->n_rec, .n = n, .written_us = newest };
	h->n_rec += n;
	return 0;
}

void ref_history_keep_last(struct ref_history *h, size_t keep)
{
	if (h->n_snap <= keep)
		return;
	size_t drop = h->n_snap - keep, from = h->snap[drop].first;
	memmove(h->rec, h->rec + from, (h->n_rec - from) * sizeof *h->rec);
	h->n_rec -= from;
	memmove(h->snap, h->snap + drop, keep * sizeof *h->snap);
	h->n_snap = keep;
	for (size_t i = 0; i < keep; i++)
		h->snap[i].first -= from;
	h->dropped += drop;
}

size_t ref_history_visible(const struct ref_history *h, int64_t now_us)
{
	size_t n = 0;
	while (n < h->n_snap && h->snap[n].written_us <= now_us)
		n++;
	return n;
}

/* ---- parameters ------------------------------------------------------------------------- */

void ref_loop_params_default(struct ref_loop_params *p)
{
	*p = (struct ref_loop_params){
		.cpu_up_pct = 75, .cpu_down_pct = 30, .ram_up_pct = 75, .ram_down_pct = 30,
		.cpu_step = 1, .ram_step_mb = 512,
		.min_cores = 2, .max_cores = 4, .min_ram_mb = 1024, .max_ram_mb = 8192,
		.min_confidence = 0,
		.rolling_window = 5,
		.n_trees = 100, .max_samples = 64, .contamination = 0.05, .seed = 42,
		.max_snapshots = 1000,
		.max_age_us = 3LL * 600 * 1000000,
	};
}

/* ---- pandas' rolling statistics (window W, min_periods 1) ------------------------------ */

struct rolling_mean_state {
	double sum, compensation_add, compensation_remove, prev_value;
	long nobs, neg_ct, same_run;
};

static void mean_add(struct rolling_mean_state *s, double v)
{
	s->nobs++;
	double y = v - s->compensation_add, t = s->sum + y;
	s->compensation_add = t - s->sum - y;
	s->sum = t;
	if (signbit(v))
		s->neg_ct++;
	s->same_run = v == s->prev_value ? s->same_run + 1 : 1;
	s->prev_value = v;
}

static void mean_remove(struct rolling_mean_state *s, double v)
{
	s->nobs--;
	double y = -v - s->compensation_remove, t = s->sum + y;
	s->compensation_remove = t - s->sum - y;
	s->sum = t;
	if (signbit(v))
		s->neg_ct--;
}

static double mean_value(const struct rolling_mean_state *s)
{
	double r = s->sum / (double)s->nobs;
	if (s->same_run >= s->nobs)
		r = s->prev_value;
	else if (s->neg_ct == 0 && r < 0)
		r = 0;
	else if (s->neg_ct == s->nobs && r > 0)
		r = 0;
	return r;
}

/* out[i] = mean of y[max(0, i-W+1) .. i] */
static void rolling_mean(const double *y, size_t n, size_t w, double *out)
{
	struct rolling_mean_state s = { .prev_value = n ? y[0] : 0 };
	for (size_t i = 0; i < n; i++) {
		if (i >= w)
			mean_remove(&s, y[i - w]);
		mean_add(&s, y[i]);
		out[i] = mean_value(&s);
	}
}

struct rolling_var_state {
	double nobs, mean, ssqdm, compensation_add, compensation_remove, prev_value;
	long same_run;
};

static void var_add(struct rolling_var_state *s, double v)
{
	s->nobs += 1;
	s->same_run = v == s->prev_value ? s->same_run + 1 : 1;
	s->prev_value = v;
	double prev_mean = s->mean - s->compensation_add;
	double y = v - s->compensation_add, t = y - s->mean;
	s->compensation_add = t + s->mean - y;
	s->mean = s->nobs != 0 ? s->mean + t / s->nobs : 0;
	s->ssqdm += (v - prev_mean) * (v - s->mean);
}

static void var_remove(struct rolling_var_state *s, double v)
{
	s->nobs -= 1;
	if (s->nobs != 0) {
		double prev_mean = s->mean - s->compensation_remove;
		double y = v - s->compensation_remove, t = y - s->mean;
		s->compensation_remove = t + s->mean - y;
		s->mean -= t / s->nobs;
		s->ssqdm -= (v - prev_mean) * (v - s->mean);
	} else {
		s->mean = 0;
		s->ssqdm = 0;
	}
}

/* The sample standard deviation (ddof 1); 0 for one value (pandas' NaN, filled with 0). */
static double std_value(const struct rolling_var_state *s)
{
	if (s->nobs <= 1 || s->same_run >= (long)s->nobs)
		return 0;
	double var = s->ssqdm / (s->nobs - 1);
	return var > 0 ? sqrt(var) : 0;
}

static void rolling_std(const double *y, size_t n, size_t w, double *out)
{
	struct rolling_var_state s = { .prev_value = n ? y[0] : 0 };
	for (size_t i = 0; i < n; i++) {
		if (i >= w)
			var_remove(&s, y[i - w]);
		var_add(&s, y[i]);
		out[i] = std_value(&s);
	}
}

static void rolling_extreme(const double *y, size_t n, size_t w, bool want_max, double *out)
{
	for (size_t i = 0; i < n; i++) {
		size_t lo = i + 1 >= w ? i + 1 - w : 0;
		double e = y[lo];
		for (size_t j = lo + 1; j <= i; j++)
			if (want_max ? y[j] > e : y[j] < e)
				e = y[j];
		out[i] = e;
	}
}

/* The slope of the least-squares line through (i, smoothed[i]); 0 for fewer than two
 * points or a constant series, as the reference's _rolling_trend. */
static double trend_slope(const double *smoothed, size_t n)
{
	if (n < 2)
		return 0;
	bool constant = true;
	for (size_t i = 1; i < n && constant; i++)
		constant = smoothed[i] == smoothed[0];
	if (constant)
		return 0;
	double xm = (double)(n - 1) / 2.0, ym = 0;
	for (size_t i = 0; i < n; i++)
		ym += smoothed[i];
	ym /= (double)n;
	double sxy = 0, sxx = 0;
	for (size_t i = 0; i < n; i++) {
		double dx = (double)i - xm;
		sxy += dx * (smoothed[i] - ym);
		sxx += dx * dx;
	}
	return sxy / sxx;
}

/* pandas' divide with inf and NaN replaced by 0 (the reference's _safe_ratio). */
static double safe_ratio(double num, double den)
{
	double q = num / den;
	return isfinite(q) ? q : 0;
}

/* ---- the loop --------------------------------------------------------------------------- */

struct ref_loop {
	struct ref_loop_params p;
	size_t cap;                  /* rows the buffers hold */
	size_t *order;               /* row indices grouped by container, file order inside */
	double *X;                   /* rows × FEAT_REFERENCE_COUNT */
	double *series, *smooth, *tmp;
	iforest_result *scored;
	double *abs_decision;        /* sorted training |decision| */
	size_t rows;
	struct ref_verdict *v;
	size_t cap_v;
};

struct ref_loop *ref_loop_new(const struct ref_loop_params *p)
{
	if (p->rolling_window == 0 || p->n_trees <= 0 || p->max_snapshots == 0)
		return NULL;
	struct ref_loop *L = calloc(1, sizeof *L);
	if (L)
		L->p = *p;
	return L;
}

void ref_loop_free(struct ref_loop *L)
{
	if (!L)
		return;
	free(L->order);
	free(L->X);
	free(L->series);
	free(L->smooth);
	free(L->tmp);
	free(L->scored);
	free(L->abs_decision);
	free(L->v);
	free(L);
}

const double *ref_loop_frame(const struct ref_loop *L, size_t *rows)
{
	*rows = L->rows;
	return L->rows ? L->X : NULL;
}

static int grow_rows(struct ref_loop *L, size_t n)
{
	if (n <= L->cap)
		return 0;
	size_t cap = L->cap ? L->cap : 256;
	while (cap < n)
		cap *= 2;
	size_t *order = realloc(L->order, cap * sizeof *order);
	if (order)
		L->order = order;
	double *X = realloc(L->X, cap * FEAT_REFERENCE_COUNT * sizeof *X);
	if (X)
		L->X = X;
	double *a = realloc(L->series, cap * sizeof *a);
	if (a)
		L->series = a;
	double *b = realloc(L->smooth, cap * sizeof *b);
	if (b)
		L->smooth = b;
	double *c = realloc(L->tmp, cap * sizeof *c);
	if (c)
		L->tmp = c;
	iforest_result *r = realloc(L->scored, cap * sizeof *r);
	if (r)
		L->scored = r;
	double *d = realloc(L->abs_decision, cap * sizeof *d);
	if (d)
		L->abs_decision = d;
	if (!order || !X || !a || !b || !c || !r || !d)
		return -1;
	L->cap = cap;
	return 0;
}

/* qsort has no context argument; a cycle runs on one thread and one loop at a time per
 * replay run, and each run owns its loop, so the rows travel in a thread-local. */
static _Thread_local const struct ref_record *sort_rows;

static int by_container_then_position(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint32_t vx = sort_rows[x].vmid, vy = sort_rows[y].vmid;
	if (vx != vy)
		return vx < vy ? -1 : 1;
	return (x > y) - (x < y);
}

/* One container's rows (idx[0..n), file order): its features into L->X. */
static void container_features(struct ref_loop *L, const struct ref_record *rows, const size_t *idx, size_t n)
{
	const size_t w = L->p.rolling_window, F = FEAT_REFERENCE_COUNT;
	for (size_t k = 0; k < n; k++) {
		const struct ref_record *r = &rows[idx[k]];
		double *x = L->X + idx[k] * F;
		x[F_CPU_USAGE_PERCENT] = r->v[REF_CPU_PCT];
		x[F_MEMORY_USAGE_MB] = r->v[REF_MEMORY_MB];
		x[F_SWAP_USAGE_MB] = r->v[REF_SWAP_MB];
		x[F_SWAP_TOTAL_MB] = r->v[REF_SWAP_TOTAL_MB];
		x[F_PROCESS_COUNT] = r->v[REF_PROCESSES];
		x[F_IO_READS] = r->v[REF_IO_READS];
		x[F_IO_WRITES] = r->v[REF_IO_WRITES];
		x[F_NET_RX_BYTES] = r->v[REF_NET_RX];
		x[F_NET_TX_BYTES] = r->v[REF_NET_TX];
		x[F_FS_USAGE_GB] = r->v[REF_FS_USAGE_GB];
		x[F_FS_TOTAL_GB] = r->v[REF_FS_TOTAL_GB];
		x[F_FS_FREE_GB] = r->v[REF_FS_FREE_GB];
		x[F_CPU_PER_PROCESS] = safe_ratio(r->v[REF_CPU_PCT], r->v[REF_PROCESSES]);
		x[F_MEMORY_PER_PROCESS] = safe_ratio(r->v[REF_MEMORY_MB], r->v[REF_PROCESSES]);
		x[F_CPU_MEMORY_RATIO] = safe_ratio(r->v[REF_CPU_PCT], r->v[REF_MEMORY_MB]);
		x[F_TIME_DIFF] = k == 0 ? 0 : (double)(r->t_us - rows[idx[k - 1]].t_us) / 1e6;
	}
	static const struct {
		enum ref_field field;
		enum feat_index mean, std, max, min, trend;
	} series[2] = {
		{ REF_CPU_PCT, F_ROLLING_MEAN_CPU, F_ROLLING_STD_CPU, F_MAX_CPU, F_MIN_CPU, F_CPU_TREND },
		{ REF_MEMORY_MB, F_ROLLING_MEAN_MEMORY, F_ROLLING_STD_MEMORY, F_MAX_MEMORY, F_MIN_MEMORY,
		  F_MEMORY_TREND },
	};
	for (size_t s = 0; s < 2; s++) {
		for (size_t k = 0; k < n; k++)
			L->series[k] = rows[idx[k]].v[series[s].field];
		rolling_mean(L->series, n, w, L->smooth);
		double slope = trend_slope(L->smooth, n);
		for (size_t k = 0; k < n; k++) {
			L->X[idx[k] * F + series[s].mean] = L->smooth[k];
			L->X[idx[k] * F + series[s].trend] = slope;
		}
		rolling_std(L->series, n, w, L->tmp);
		for (size_t k = 0; k < n; k++)
			L->X[idx[k] * F + series[s].std] = L->tmp[k];
		rolling_extreme(L->series, n, w, true, L->tmp);
		for (size_t k = 0; k < n; k++)
			L->X[idx[k] * F + series[s].max] = L->tmp[k];
		rolling_extreme(L->series, n, w, false, L->tmp);
		for (size_t k = 0; k < n; k++)
			L->X[idx[k] * F + series[s].min] = L->tmp[k];
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* 100 · mean(training |decision| <= |d|), over the sorted table. */
static double confidence_of(const struct ref_loop *L, double decision)
{
	double a = fabs(decision);
	size_t lo = 0, hi = L->rows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (L->abs_decision[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double)lo / (double)L->rows * 100.0;
}

/* The reference's determine_scaling_action for one resource. */
static enum decision_change rule(double usage, double up, double down, double cur, double step,
                                 double lo, double hi, double *target)
{
	enum decision_change c = DECISION_NONE;
	*target = cur;
	if (usage > up) {
		c = DECISION_UP;
		*target = fmin(cur + step, hi);
	} else if (usage < down) {
		c = DECISION_DOWN;
		*target = fmax(cur - step, lo);
	}
	if (c != DECISION_NONE && *target == cur)
		c = DECISION_NONE; /* already at the limit: no action */
	return c;
}

static int add_verdict(struct ref_loop *L, size_t n)
{
	if (n < L->cap_v)
		return 0;
	size_t cap = L->cap_v ? L->cap_v * 2 : 16;
	struct ref_verdict *v = realloc(L->v, cap * sizeof *v);
	if (!v)
		return -1;
	L->v = v;
	L->cap_v = cap;
	return 0;
}

static void decide(const struct ref_loop *L, const struct ref_record *last, struct ref_verdict *v)
{
	const struct ref_loop_params *p = &L->p;
	v->cpu_pct = last->v[REF_CPU_PCT];
	v->mem_pct = v->ram_mb > 0 ? last->v[REF_MEMORY_MB] / v->ram_mb * 100 : 0;
	v->cpu = rule(v->cpu_pct, p->cpu_up_pct, p->cpu_down_pct, v->cores, p->cpu_step, p->min_cores,
	              p->max_cores, &v->new_cores);
	v->ram = rule(v->mem_pct, p->ram_up_pct, p->ram_down_pct, v->ram_mb, p->ram_step_mb, p->min_ram_mb,
	              p->max_ram_mb, &v->new_ram_mb);
	bool wants = v->cpu != DECISION_NONE || v->ram != DECISION_NONE;
	v->held_by_confidence = wants && v->model.confidence < p->min_confidence;
	v->acts = wants && !v->held_by_confidence;
}

static void explain(const struct skl_forest *m, const double *x, struct ref_verdict *v)
{
	struct skl_contrib c[DECISION_TOP_FEATURES];
	int k = skl_forest_explain(m, x, c, DECISION_TOP_FEATURES);
	for (int i = 0; i < k; i++) {
		const char *name = features_name((unsigned)c[i].feature);
		snprintf(v->top[i].name, sizeof v->top[i].name, "%s", name ? name : "?");
		v->top[i].share = c[i].share;
	}
}

int ref_loop_cycle(struct ref_loop *L, const struct ref_history *h, size_t n_visible, int64_t now_us,
                   ref_allocation_fn allocation, void *ctx, struct ref_cycle *out,
                   char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	L->rows = 0;
	if (n_visible > h->n_snap)
		n_visible = h->n_snap;
	size_t lo = n_visible > L->p.max_snapshots ? n_visible - L->p.max_snapshots : 0;
	if (n_visible == 0 || lo >= n_visible) {
		out->status = REF_CYCLE_NO_DATA;
		return 0;
	}
	const struct ref_snapshot *last_snap = &h->snap[n_visible - 1];
	const size_t first = h->snap[lo].first, n = last_snap->first + last_snap->n - first;
	const struct ref_record *rows = h->rec + first;
	if (n == 0) {
		out->status = REF_CYCLE_NO_DATA;
		return 0;
	}
	int64_t newest = rows[0].t_us;
	for (size_t i = 1; i < n; i++)
		if (rows[i].t_us > newest)
			newest = rows[i].t_us;
	if (L->p.max_age_us > 0 && now_us - newest > L->p.max_age_us) {
		out->status = REF_CYCLE_STALE;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		for (int f = 0; f < REF_FIELD_COUNT; f++)
			if (!isfinite(rows[i].v[f])) {
				out->status = REF_CYCLE_UNTRAINABLE;
				return 0;
			}
	if (grow_rows(L, n) != 0) {
		errbuf_set(err, errlen, "reference loop: out of memory");
		return -1;
	}

	/* the frame: features per container, rows in file order */
	for (size_t i = 0; i < n; i++)
		L->order[i] = i;
	sort_rows = rows;
	qsort(L->order, n, sizeof *L->order, by_container_then_position);
	for (size_t g = 0; g < n;) {
		size_t e = g + 1;
		while (e < n && rows[L->order[e]].vmid == rows[L->order[g]].vmid)
			e++;
		container_features(L, rows, L->order + g, e - g);
		g = e;
	}
	L->rows = n;

	/* one forest on every row, sklearn's own, and every row's distance from its boundary */
	const struct skl_params sp = { .n_estimators = L->p.n_trees, .max_samples = L->p.max_samples,
	                               .contamination = L->p.contamination,
	                               .random_state = (uint32_t)L->p.seed };
	struct skl_forest *m = skl_forest_fit(L->X, n, FEAT_REFERENCE_COUNT, &sp);
	if (!m) {
		errbuf_set(err, errlen, "reference model: out of memory");
		return -1;
	}
	size_t n_scored;
	const double *training = skl_forest_training_scores(m, &n_scored);
	const double offset = skl_forest_offset(m);
	for (size_t i = 0; i < n; i++) {
		iforest_result *r = &L->scored[i];
		r->score = training[i];
		r->decision = training[i] - offset;
		r->predict = r->decision < 0 ? -1 : 1;
		L->abs_decision[i] = fabs(r->decision);
	}
	qsort(L->abs_decision, n, sizeof *L->abs_decision, cmp_double);

	/* the containers of the newest timestamp, in the order their rows come */
	size_t nv = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i].t_us != newest)
			continue;
		bool seen = false;
		for (size_t k = 0; k < nv && !seen; k++)
			seen = L->v[k].vmid == rows[i].vmid;
		if (seen)
			continue;
		if (add_verdict(L, nv) != 0) {
			skl_forest_free(m);
			errbuf_set(err, errlen, "reference loop: out of memory");
			return -1;
		}
		struct ref_verdict *v = &L->v[nv++];
		memset(v, 0, sizeof *v);
		v->vmid = rows[i].vmid;
		v->allocation_known = allocation(ctx, v->vmid, &v->cores, &v->ram_mb);
		if (!v->allocation_known)
			continue;
		/* its last row in file order: the end of its group */
		size_t lo_g = 0, hi_g = n;
		while (lo_g < hi_g) {
			size_t mid = lo_g + (hi_g - lo_g) / 2;
			if (rows[L->order[mid]].vmid <= v->vmid)
				lo_g = mid + 1;
			else
				hi_g = mid;
		}
		size_t last = L->order[lo_g - 1];
		v->model = L->scored[last];
		v->model.confidence = confidence_of(L, v->model.decision);
		explain(m, L->X + last * FEAT_REFERENCE_COUNT, v);
		decide(L, &rows[last], v);
	}
	skl_forest_free(m);
	out->status = REF_CYCLE_DONE;
	out->rows = n;
	out->v = L->v;
	out->n = nv;
	return 0;
}

/* ---- a verdict as a decision record ---------------------------------------------------- */

/* One resource's part of the detail line, as decide/policy.c words it ("cpu 91.0% > 75%
 * 2->3"), and when the reference's step went the other way, the limit that made it. */
static void describe(char *buf, size_t len, const char *what, enum decision_change c, double pct,
                     double threshold, const char *change, const char *limit_key)
{
	size_t used = strlen(buf);
	if (c == DECISION_NONE || used >= len)
		return;
	snprintf(buf + used, len - used, "%s%s %.1f%% %s %.0f%% %s%s%s%s", used ? "; " : "", what, pct,
	         c == DECISION_UP ? ">" : "<", threshold, change, limit_key ? " (to " : "",
	         limit_key ? limit_key : "", limit_key ? ")" : "");
}

void ref_verdict_decision(const struct ref_verdict *v, const struct ref_loop_params *p,
                          int64_t time_ms, struct decision *d)
{
	memset(d, 0, sizeof *d);
	d->time_ms = time_ms;
	d->vmid = v->vmid;
	d->reason = REASON_THRESHOLD;
	d->cpu_change = v->cpu;
	d->cpu_from = v->cores;
	d->cpu_to = v->cpu != DECISION_NONE ? v->new_cores : v->cores;
	d->mem_change = v->ram;
	d->mem_from_mb = (uint64_t)llround(v->ram_mb);
	d->mem_to_mb = (uint64_t)llround(v->ram != DECISION_NONE ? v->new_ram_mb : v->ram_mb);
	d->confidence = v->model.confidence;
	d->anomaly_score = v->model.score;
	d->anomaly = v->model.predict < 0;
	memcpy(d->top, v->top, sizeof d->top);
	d->cpu_pct = v->cpu_pct;
	d->mem_pct = v->mem_pct;
	d->dry_run = true;
	d->persist = true;
	char change[64];
	snprintf(change, sizeof change, "%g->%g", d->cpu_from, d->cpu_to);
	describe(d->detail, sizeof d->detail, "cpu", v->cpu, v->cpu_pct,
	         v->cpu == DECISION_UP ? p->cpu_up_pct : p->cpu_down_pct, change,
	         v->cpu == DECISION_DOWN && d->cpu_to > d->cpu_from ? "min_cpu_cores"
	         : v->cpu == DECISION_UP && d->cpu_to < d->cpu_from ? "max_cpu_cores" : NULL);
	snprintf(change, sizeof change, "%llu->%llu", (unsigned long long)d->mem_from_mb,
	         (unsigned long long)d->mem_to_mb);
	describe(d->detail, sizeof d->detail, "ram", v->ram, v->mem_pct,
	         v->ram == DECISION_UP ? p->ram_up_pct : p->ram_down_pct, change,
	         v->ram == DECISION_DOWN && d->mem_to_mb > d->mem_from_mb ? "min_ram_mb"
	         : v->ram == DECISION_UP && d->mem_to_mb < d->mem_from_mb ? "max_ram_mb" : NULL);
}

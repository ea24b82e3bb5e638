/*
 * stream.c — the streaming model: a sliding window of recent rows, one group of 8 trees
 * rebuilt from it every delta rows, and lock-free publication of each new model.
 *
 * Hot path (push): score the row against the published model, then — under one short
 * mutex — note whether it was predicted anomalous and copy it into the window, unless it is
 * strongly anomalous (decision < exclude_below) and exclusion is on: an incident must not
 * become "normal". If at least drift_rate of the last delta rows were anomalous, the change
 * is a new regime rather than an incident: exclusion pauses and the next n_groups rebuilds
 * draw only from rows pushed since the change, at 4x the usual rate, so the whole forest
 * has moved to the new regime well within one window length.
 *
 * Worker path (maybe_rebuild): the first full model once `warmup` rows are in; afterwards
 * the oldest group (round robin) is rebuilt from fresh psi-row samples of the window. The
 * sampled rows are copied under the mutex; trees, the new model (a copy of the old one with
 * one group replaced) and its confidence table / offset (from an evenly spaced subset of the
 * window) are built outside it. The scaler is fitted once, on the first build, and kept:
 * an axis-parallel forest is scale-invariant in distribution, so later groups stay
 * comparable with earlier ones and c(psi) never changes.
 *
 * Publication: `current` is swapped atomically. Readers pin a two-slot epoch counter only
 * for the few instructions that load `current` and take a reference, so a publisher that
 * flips the epoch and waits for the old slot to drain knows no reader can still be about to
 * reference the old model; it then drops its own reference, and the old model is freed when
 * the last reader releases it. No reader ever waits.
 */
#include "iforest_int.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CONF_ROWS 256

struct iforest_stream {
	iforest_stream_params p;
	int d, n_groups, delta;

	_Atomic(iforest_model *) current;
	atomic_uint_fast64_t epoch;
	atomic_long pins[2];

	pthread_mutex_t lock;          /* everything below up to the scratch area */
	double  *win;                  /* W rows; row with sequence number q at q % W */
	size_t   W, count;
	uint64_t seq;                  /* rows stored so far */
	uint8_t *flags;                /* anomalous? for the last delta pushes (ring) */
	size_t   flag_pos, flag_fill, flag_sum;
	int      drift, drift_left;
	uint64_t drift_seq;
	uint64_t since_rebuild, pushed, stored, excluded, rebuilds;
	int      built, next_group;
	double   mean[IFOREST_MAX_FEATURES], scale[IFOREST_MAX_FEATURES];

	pthread_mutex_t build_lock;    /* one rebuild at a time; owns the scratch below, which
	                                  is allocated only while a rebuild runs */
	int      psi;
	double  *raw;                  /* 8 * psi rows */
	float   *cols;                 /* 8 * psi * d */
	uint32_t *rows, *set;
	size_t   set_size;
	int32_t *idx;
	if_node *tmp;                  /* 8 * (2 psi - 1) */
	double  *conf_x, *conf_s;
	size_t   conf_cap;
};

void iforest_stream_params_init(iforest_stream_params *p)
{
	memset(p, 0, sizeof(*p));
	iforest_params_init(&p->forest);
	p->window = 4096;
	p->warmup = 256;
	p->exclude_below = -0.1;
	p->drift_rate = 0.5;
}

int iforest_stream_create(const iforest_stream_params *p, size_t n_features,
                          iforest_stream **out)
{
	if (!p || !out)
		return IFOREST_E_INVAL;
	*out = NULL;
	if (n_features == 0 || n_features > IFOREST_MAX_FEATURES)
		return IFOREST_E_FEATURES;
	const iforest_params *f = &p->forest;
	if (p->window < 16 || p->window > (1 << 26) || p->warmup < 2 || p->warmup > p->window ||
	    p->rebuild_every < 0 || f->n_trees < 1 || f->n_trees > IFOREST_MAX_TREES ||
	    f->max_samples < 0 || f->max_samples_fraction != 0 || f->confidence_rows < -1 ||
	    !(f->contamination >= 0 && f->contamination <= 0.5) ||
	    !(p->drift_rate > 0 && p->drift_rate <= 1) || !isfinite(p->exclude_below))
		return IFOREST_E_INVAL;

	iforest_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return IFOREST_E_NOMEM;
	s->p = *p;
	s->d = (int)n_features;
	s->n_groups = (f->n_trees + IFOREST_GROUP_TREES - 1) / IFOREST_GROUP_TREES;
	s->delta = p->rebuild_every ? p->rebuild_every : (p->window / s->n_groups > 0 ? p->window / s->n_groups : 1);
	s->W = (size_t)p->window;
	int psi_cfg = f->max_samples ? f->max_samples : 256;
	s->psi = psi_cfg < p->window ? psi_cfg : p->window;   /* upper bound; fixed at first build */
	s->conf_cap = f->confidence_rows < 0 ? s->W
	            : (size_t)(f->confidence_rows ? f->confidence_rows : STREAM_CONF_ROWS);
	if (s->conf_cap > s->W)
		s->conf_cap = s->W;
	s->set_size = if_set_size_for(s->psi);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->build_lock, NULL);
	atomic_init(&s->current, NULL);
	atomic_init(&s->epoch, 0);
	atomic_init(&s->pins[0], 0);
	atomic_init(&s->pins[1], 0);
	s->win = malloc(s->W * n_features * sizeof(double));
	s->flags = calloc((size_t)s->delta, 1);
	if (!s->win || !s->flags) {
		iforest_stream_free(s);
		return IFOREST_E_NOMEM;
	}
	*out = s;
	return IFOREST_OK;
}

void iforest_stream_free(iforest_stream *s)
{
	if (!s)
		return;
	iforest_model_free(atomic_load(&s->current));
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->build_lock);
	free(s->win);
	free(s->flags);
	free(s);
}

/* Rebuild scratch (~1 MB for psi 256 and 36 features) exists only while a rebuild runs, so
 * hundreds of idle per-container streams cost their windows and nothing more. */
static void scratch_free(iforest_stream *s)
{
	free(s->raw);
	free(s->cols);
	free(s->rows);
	free(s->set);
	free(s->idx);
	free(s->tmp);
	free(s->conf_x);
	free(s->conf_s);
	s->raw = s->conf_x = s->conf_s = NULL;
	s->cols = NULL;
	s->rows = s->set = NULL;
	s->idx = NULL;
	s->tmp = NULL;
}

static int scratch_alloc(iforest_stream *s)
{
	const size_t G8 = IFOREST_GROUP_TREES, d = (size_t)s->d, psi = (size_t)s->psi;
	s->raw = malloc(G8 * psi * d * sizeof(double));
	s->cols = malloc(G8 * psi * d * sizeof(float));
	s->rows = malloc(psi * sizeof(uint32_t));
	s->set = malloc(s->set_size * sizeof(uint32_t));
	s->idx = malloc(psi * sizeof(int32_t));
	s->tmp = malloc(G8 * (2 * psi - 1) * sizeof(if_node));
	s->conf_x = malloc(s->conf_cap * d * sizeof(double));
	s->conf_s = malloc(s->conf_cap * sizeof(double));
	if (!s->raw || !s->cols || !s->rows || !s->set || !s->idx || !s->tmp || !s->conf_x || !s->conf_s) {
		scratch_free(s);
		return IFOREST_E_NOMEM;
	}
	return IFOREST_OK;
}

const iforest_model *iforest_stream_acquire(iforest_stream *s)
{
	if (!s)
		return NULL;
	unsigned e = (unsigned)(atomic_load(&s->epoch) & 1);
	atomic_fetch_add(&s->pins[e], 1);
	iforest_model *m = atomic_load(&s->current);
	if (m)
		atomic_fetch_add(&m->refs, 1);
	atomic_fetch_sub(&s->pins[e], 1);
	return m;
}

void iforest_stream_release(iforest_stream *s, const iforest_model *m)
{
	(void)s;
	iforest_model_free(m);
}

static void publish(iforest_stream *s, iforest_model *m)
{
	iforest_model *old = atomic_exchange(&s->current, m);
	unsigned e = (unsigned)(atomic_fetch_add(&s->epoch, 1) & 1);
	while (atomic_load(&s->pins[e]) != 0)
		sched_yield();
	iforest_model_free(old);
}

int iforest_stream_push(iforest_stream *s, const double *x, size_t n_features,
                        iforest_result *res)
{
	if (!s || !x)
		return IFOREST_E_INVAL;
	if (n_features != (size_t)s->d)
		return IFOREST_E_FEATURES;
	if (if_check_finite(x, n_features) != IFOREST_OK)
		return IFOREST_E_NONFINITE;
	iforest_result r;
	int flags = 0;
	const iforest_model *m = iforest_stream_acquire(s);
	if (m && iforest_score(m, x, n_features, &r) == IFOREST_OK) {
		flags |= IFOREST_PUSH_SCORED;
		if (res)
			*res = r;
	}
	iforest_stream_release(s, m);

	pthread_mutex_lock(&s->lock);
	s->pushed++;
	if (flags & IFOREST_PUSH_SCORED) {
		uint8_t anomalous = r.predict < 0;
		s->flag_sum -= s->flags[s->flag_pos];
		s->flags[s->flag_pos] = anomalous;
		s->flag_sum += anomalous;
		s->flag_pos = (s->flag_pos + 1) % (size_t)s->delta;
		if (s->flag_fill < (size_t)s->delta)
			s->flag_fill++;
		if (!s->drift && s->flag_fill == (size_t)s->delta &&
		    (double)s->flag_sum >= s->p.drift_rate * s->delta) {
			s->drift = 1;
			s->drift_seq = s->seq;
			s->drift_left = s->n_groups;
			s->since_rebuild = 0;
		}
	}
	if (s->p.exclude_anomalies && (flags & IFOREST_PUSH_SCORED) && !s->drift &&
	    r.decision < s->p.exclude_below) {
		s->excluded++;
		flags |= IFOREST_PUSH_EXCLUDED;
	} else {
		memcpy(s->win + (s->seq % s->W) * (size_t)s->d, x, n_features * sizeof(double));
		s->seq++;
		if (s->count < s->W)
			s->count++;
		s->stored++;
		s->since_rebuild++;
		flags |= IFOREST_PUSH_STORED;
	}
	if (s->drift)
		flags |= IFOREST_PUSH_DRIFT;
	pthread_mutex_unlock(&s->lock);
	return flags;
}

static const double *win_row(const iforest_stream *s, uint64_t q)
{
	return s->win + (q % s->W) * (size_t)s->d;
}

/* Confidence table and (for a contamination fraction) offset from the conf rows. */
static int finish_from_rows(iforest_stream *s, iforest_model *m, size_t k)
{
	float z[IFOREST_MAX_FEATURES];
	for (size_t j = 0; j < k; j++) {
		if_standardize(m, s->conf_x + j * (size_t)s->d, z);
		double sum = if_path_sum_best(m, z);
		s->conf_s[j] = if_score_from_sum(m, sum);
	}
	m->offset = -0.5;
	if (m->contamination > 0 && k > 0) {
		double *tmp = malloc(k * sizeof(double));
		if (!tmp)
			return IFOREST_E_NOMEM;
		memcpy(tmp, s->conf_s, k * sizeof(double));
		m->offset = if_percentile_linear(tmp, k, 100.0 * m->contamination);
		free(tmp);
	}
	for (size_t j = 0; j < k; j++)
		s->conf_s[j] -= m->offset;
	return if_model_set_conf(m, s->conf_s, k);
}

static int first_build(iforest_stream *s)
{
	size_t n = s->count, d = (size_t)s->d;
	double *X = malloc(n * d * sizeof(double));
	if (!X) {
		pthread_mutex_unlock(&s->lock);
		return IFOREST_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(X + i * d, win_row(s, s->seq - n + i), d * sizeof(double));
	s->since_rebuild = 0;
	pthread_mutex_unlock(&s->lock);

	iforest_params p = s->p.forest;
	p.max_samples = s->psi;
	p.confidence_rows = (int)s->conf_cap;
	iforest_model *m;
	int rc = if_train_rows(X, 0, n, d, &p, &m);
	free(X);
	if (rc != IFOREST_OK)
		return rc;
	pthread_mutex_lock(&s->lock);
	memcpy(s->mean, m->mean, d * sizeof(double));
	memcpy(s->scale, m->scale, d * sizeof(double));
	s->psi = m->psi;
	s->built = 1;
	s->rebuilds++;
	pthread_mutex_unlock(&s->lock);
	publish(s, m);
	return 1;
}

int iforest_stream_adopt(iforest_stream *s, const iforest_model *cm)
{
	if (!s || !cm)
		return IFOREST_E_INVAL;
	if (cm->n_features != s->d)
		return IFOREST_E_FEATURES;
	if (cm->n_trees != s->p.forest.n_trees || cm->psi > s->psi ||
	    (size_t)s->set_size < 2 * (size_t)cm->psi)
		return IFOREST_E_INVAL;
	pthread_mutex_lock(&s->build_lock);
	pthread_mutex_lock(&s->lock);
	memcpy(s->mean, cm->mean, sizeof(double) * (size_t)s->d);
	memcpy(s->scale, cm->scale, sizeof(double) * (size_t)s->d);
	s->psi = cm->psi;
	s->built = 1;
	s->next_group = (int)(cm->generation % (uint64_t)s->n_groups);
	s->since_rebuild = 0;
	pthread_mutex_unlock(&s->lock);
	publish(s, (iforest_model *)iforest_model_ref(cm));
	pthread_mutex_unlock(&s->build_lock);
	return IFOREST_OK;
}

/* A copy of old with trees [t0, t1) replaced by the ones in s->tmp. */
static iforest_model *replace_group(iforest_stream *s, const iforest_model *old, int t0, int t1,
                                    const int *count)
{
	const size_t cap = 2 * (size_t)s->psi - 1;
	size_t before = old->tree_off[t0], after_old = old->n_nodes - old->tree_off[t1];
	size_t fresh = 0;
	for (int t = t0; t < t1; t++)
		fresh += (size_t)count[t - t0];
	iforest_model *m = if_model_alloc(old->n_features, old->n_trees, old->psi,
	                                  before + fresh + after_old, old->packed);
	if (!m)
		return NULL;
	memcpy(m->mean, old->mean, sizeof(double) * old->n_features);
	memcpy(m->scale, old->scale, sizeof(double) * old->n_features);
	m->contamination = old->contamination;
	m->seed = old->seed;
	m->generation = old->generation + 1;
	memcpy(m->nodes, old->nodes, before * sizeof(if_node));
	memcpy(m->value, old->value, before * sizeof(double));
	size_t off = before;
	for (int t = 0; t <= t0; t++)
		m->tree_off[t] = old->tree_off[t];
	for (int t = t0; t < t1; t++) {
		memcpy(m->nodes + off, s->tmp + (size_t)(t - t0) * cap, (size_t)count[t - t0] * sizeof(if_node));
		off += (size_t)count[t - t0];
		m->tree_off[t + 1] = off;
	}
	memcpy(m->nodes + off, old->nodes + old->tree_off[t1], after_old * sizeof(if_node));
	memcpy(m->value + off, old->value + old->tree_off[t1], after_old * sizeof(double));
	for (int t = t1; t < old->n_trees; t++)
		m->tree_off[t + 1] = old->tree_off[t + 1] - old->tree_off[t1] + off;
	if (m->simd) {
		size_t g = (size_t)old->n_groups, leaves = (size_t)1 << old->max_depth;
		if (m->packed)
			memcpy(m->gpack, old->gpack, g * old->slots * 8 * sizeof(float));
		else
			memcpy(m->gnode, old->gnode, g * old->slots * 8 * sizeof(if_pair));
		memcpy(m->gleaf, old->gleaf, g * leaves * 8 * sizeof(float));
	}
	for (int t = t0; t < t1; t++)
		if_model_compile_tree(m, t);
	if_model_finish(m);
	return m;
}

/* Under s->lock: is a group rebuild due, and from which rows ([first, first + avail))? */
static int rebuild_due(const iforest_stream *s, uint64_t *first, size_t *avail)
{
	uint64_t interval = (uint64_t)(s->drift ? (s->delta / 4 > 0 ? s->delta / 4 : 1) : s->delta);
	*first = s->seq - s->count;
	if (s->drift && s->drift_seq > *first)
		*first = s->drift_seq;
	*avail = (size_t)(s->seq - *first);
	return s->since_rebuild >= interval && *avail >= (size_t)s->psi;
}

static int rebuild_group(iforest_stream *s);

int iforest_stream_maybe_rebuild(iforest_stream *s)
{
	if (!s)
		return IFOREST_E_INVAL;
	pthread_mutex_lock(&s->build_lock);
	pthread_mutex_lock(&s->lock);
	int rc = 0;
	if (!s->built) {
		if (s->count >= (size_t)s->p.warmup)
			rc = first_build(s);               /* unlocks s->lock */
		else
			pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&s->build_lock);
		return rc;
	}
	uint64_t first;
	size_t avail;
	if (!rebuild_due(s, &first, &avail)) {
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_unlock(&s->build_lock);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);
	if ((rc = scratch_alloc(s)) != IFOREST_OK) {
		pthread_mutex_unlock(&s->build_lock);
		return rc;
	}
	rc = rebuild_group(s);
	scratch_free(s);
	pthread_mutex_unlock(&s->build_lock);
	return rc;
}

/* Called with build_lock held and the scratch allocated: take the window lock, re-check
 * (pushes may have started a drift meanwhile), copy the rows, build outside the lock. */
static int rebuild_group(iforest_stream *s)
{
	uint64_t first;
	size_t avail;
	int rc;
	pthread_mutex_lock(&s->lock);
	if (!rebuild_due(s, &first, &avail)) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	const iforest_model *old = iforest_stream_acquire(s);
	const int g = s->next_group, t0 = g * IFOREST_GROUP_TREES;
	const int t1 = t0 + IFOREST_GROUP_TREES < old->n_trees ? t0 + IFOREST_GROUP_TREES : old->n_trees;
	const size_t d = (size_t)s->d, psi = (size_t)s->psi;
	if_rng rng[IFOREST_GROUP_TREES];
	for (int t = t0; t < t1; t++) {
		if_rng *r = &rng[t - t0];
		if_rng_seed(r, s->p.forest.seed, (uint64_t)t, old->generation + 1);
		if (avail == psi)
			for (size_t i = 0; i < psi; i++)
				s->rows[i] = (uint32_t)i;
		else
			if_sample_rows(r, avail, (int)psi, s->rows, s->set, s->set_size);
		for (size_t i = 0; i < psi; i++)
			memcpy(s->raw + ((size_t)(t - t0) * psi + i) * d, win_row(s, first + s->rows[i]),
			       d * sizeof(double));
	}
	size_t k = avail < s->conf_cap ? avail : s->conf_cap;
	for (size_t j = 0; j < k; j++)
		memcpy(s->conf_x + j * d, win_row(s, first + (uint64_t)((double)j * (double)avail / (double)k)),
		       d * sizeof(double));
	s->since_rebuild = 0;
	pthread_mutex_unlock(&s->lock);

	/* Outside the window lock: standardise, grow the trees, assemble, publish. */
	int count[IFOREST_GROUP_TREES];
	const size_t cap = 2 * psi - 1;
	for (int t = t0; t < t1; t++) {
		float *cols = s->cols + (size_t)(t - t0) * psi * d;
		const double *raw = s->raw + (size_t)(t - t0) * psi * d;
		for (size_t i = 0; i < psi; i++)
			for (size_t f = 0; f < d; f++)
				cols[i * d + f] = (float)((raw[i * d + f] - s->mean[f]) / s->scale[f]);
		count[t - t0] = if_build_tree(cols, (int)psi, (int)d, old->max_depth, old->packed,
		                              &rng[t - t0], s->idx,
		                              s->tmp + (size_t)(t - t0) * cap);
	}
	iforest_model *m = replace_group(s, old, t0, t1, count);
	iforest_stream_release(s, old);
	if (!m)
		return IFOREST_E_NOMEM;
	if ((rc = finish_from_rows(s, m, k)) != IFOREST_OK) {
		iforest_model_free(m);
		return rc;
	}
	publish(s, m);

	pthread_mutex_lock(&s->lock);
	s->next_group = (g + 1) % s->n_groups;
	s->rebuilds++;
	if (s->drift && --s->drift_left <= 0) {
		s->drift = 0;
		s->flag_fill = s->flag_sum = s->flag_pos = 0;
		memset(s->flags, 0, (size_t)s->delta);
	}
	pthread_mutex_unlock(&s->lock);
	return 1;
}

void iforest_stream_get_stats(iforest_stream *s, iforest_stream_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	st->pushed = s->pushed;
	st->stored = s->stored;
	st->excluded = s->excluded;
	st->rebuilds = s->rebuilds;
	st->window_rows = s->count;
	st->drift = s->drift;
	pthread_mutex_unlock(&s->lock);
	const iforest_model *m = iforest_stream_acquire(s);
	st->generation = m ? m->generation : 0;
	iforest_stream_release(s, m);
}

/*
 * score/model.c — host-wide + per-container streaming forests and their worker (see score/model.h).
 *
 * Per-container streams live in slots. The loop adds and removes slots; the worker
 * rebuilds them. A slot being rebuilt is marked busy, and a removal of a busy slot only
 * marks it dead: the worker frees it when it is done. The slot list lock is only held for
 * pointer bookkeeping, never across a rebuild, so the loop never waits on tree building.
 */
#include "score/model.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/worker.h"

#define WORKER_PERIOD_MS 200

struct model_ct {
	uint32_t vmid;
	iforest_stream *s;
	int busy;                    /* the worker is rebuilding it (under slots_mu) */
	_Atomic bool dead;           /* removed by the loop while busy: the worker frees it */
};

struct model {
	struct model_opts o;
	char model_file[512];
	iforest_stream *host;
	const iforest_model *loaded; /* from model_file; immutable */

	pthread_mutex_t slots_mu;
	struct model_ct **slots;
	size_t n_slots, cap_slots;

	struct worker worker;        /* the rebuild thread (model_start) */

	atomic_uint_fast64_t rebuilds, saves, save_errors;
	_Atomic int64_t last_rebuild_ms;     /* wall clock of the last host-wide publish */
	_Atomic int64_t last_rebuild_us;     /* how long that rebuild took */
};

void model_opts_from(struct model_opts *o, int n_estimators, int max_samples, double contamination,
		     int random_state, int window, int rebuild_every)
{
	memset(o, 0, sizeof(*o));
	features_select_default(&o->features);
	iforest_stream_params_init(&o->per_ct);
	o->per_ct.forest.n_trees = n_estimators;
	o->per_ct.forest.max_samples = max_samples;
	o->per_ct.forest.contamination = contamination;
	o->per_ct.forest.seed = (uint64_t)random_state;
	o->per_ct.window = window;
	o->per_ct.rebuild_every = rebuild_every;
	o->per_ct.warmup = window < 256 ? window : 256;
	if (o->per_ct.warmup < max_samples && max_samples <= window)
		o->per_ct.warmup = max_samples;
	o->host = o->per_ct;
	/* The pooled model sees every container: a longer window, the same turnover per row. */
	long hw = (long)window * 8;
	o->host.window = (int)(hw > (1 << 20) ? (1 << 20) : hw);
}

struct model *model_new(const struct model_opts *o, char *note, size_t notelen)
{
	if (note && notelen)
		note[0] = '\0';
	if (o->features.n == 0 || o->features.n > IFOREST_MAX_FEATURES)
		return NULL;
	struct model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->o = *o;
	snprintf(m->model_file, sizeof(m->model_file), "%s", o->model_file ? o->model_file : "");
	m->o.model_file = m->model_file;
	if (iforest_stream_create(&o->host, o->features.n, &m->host) != IFOREST_OK) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->slots_mu, NULL);

	if (m->model_file[0]) {
		iforest_model *loaded = NULL;
		struct stat st;
		if (stat(m->model_file, &st) != 0) {
			if (note && notelen)
				snprintf(note, notelen, "%s: none yet; the model starts empty", m->model_file);
		} else {
			int rc = iforest_load(m->model_file, &loaded);
			iforest_info info;
			if (rc == IFOREST_OK)
				iforest_model_info(loaded, &info);
			if (rc != IFOREST_OK) {
				if (note && notelen)
					snprintf(note, notelen, "%s: %s; the model starts empty", m->model_file,
						 iforest_strerror(rc));
			} else if ((unsigned)info.n_features != o->features.n) {
				if (note && notelen)
					snprintf(note, notelen, "%s: %d features, the configuration selects %u; "
						 "ignored", m->model_file, info.n_features, o->features.n);
				iforest_model_free(loaded);
			} else {
				m->loaded = loaded;
				if (note && notelen)
					snprintf(note, notelen, "%s: loaded (%d trees, %d features)", m->model_file,
						 info.n_trees, info.n_features);
			}
		}
	}
	return m;
}

int model_save(struct model *m)
{
	if (!m->model_file[0])
		return IFOREST_OK;
	const iforest_model *cur = iforest_stream_acquire(m->host);
	const iforest_model *which = cur ? cur : m->loaded;
	int rc = IFOREST_OK;
	if (which) {
		if (fs_mkdir_parent(m->model_file) != 0)
			rc = IFOREST_E_IO;
		else
			rc = iforest_save(which, m->model_file);
		if (rc == IFOREST_OK)
			atomic_fetch_add(&m->saves, 1);
		else
			atomic_fetch_add(&m->save_errors, 1);
	}
	iforest_stream_release(m->host, cur);
	return rc;
}

/* The rebuild work that is due: the host-wide stream, then every per-container stream
 * (taken from the slot list, rebuilt outside its lock). Returns the models published. */
static int rebuild_due(struct model *m, struct model_ct ***work, size_t *work_cap)
{
	int published = 0;
	struct timespec t0, t1, wall;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = iforest_stream_maybe_rebuild(m->host);
	if (rc == 1) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		clock_gettime(CLOCK_REALTIME, &wall);
		atomic_store(&m->last_rebuild_ms, (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
		atomic_store(&m->last_rebuild_us, (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
						   (t1.tv_nsec - t0.tv_nsec) / 1000);
		published++;
		atomic_fetch_add(&m->rebuilds, 1);
		if (m->o.force_save) {
			int s = model_save(m);
			if (s != IFOREST_OK)
				log_warning("model: saving %s failed: %s", m->model_file, iforest_strerror(s));
		}
	} else if (rc < 0) {
		log_warning("model: host-wide rebuild failed: %s", iforest_strerror(rc));
	}

	pthread_mutex_lock(&m->slots_mu);
	if (*work_cap < m->n_slots) {
		struct model_ct **nw = realloc(*work, m->n_slots * sizeof(*nw));
		if (nw) {
			*work = nw;
			*work_cap = m->n_slots;
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < m->n_slots && n < *work_cap; i++) {
		m->slots[i]->busy++;
		(*work)[n++] = m->slots[i];
	}
	pthread_mutex_unlock(&m->slots_mu);
	for (size_t i = 0; i < n; i++) {
		if ((*work)[i]->dead)
			continue;
		if (iforest_stream_maybe_rebuild((*work)[i]->s) == 1) {
			published++;
			atomic_fetch_add(&m->rebuilds, 1);
		}
	}
	pthread_mutex_lock(&m->slots_mu);
	for (size_t i = 0; i < n; i++) {
		(*work)[i]->busy--;
		if ((*work)[i]->dead && (*work)[i]->busy == 0) {
			iforest_stream_free((*work)[i]->s);
			free((*work)[i]);
		}
	}
	pthread_mutex_unlock(&m->slots_mu);
	return published;
}

int model_rebuild_due(struct model *m)
{
	struct model_ct **work = NULL;
	size_t work_cap = 0;
	int n = rebuild_due(m, &work, &work_cap);
	free(work);
	return n;
}

/* Every WORKER_PERIOD_MS: rebuild what is due. Nothing queues work here, the streams
 * say when they are due, so the thread only wakes early to stop. */
static void worker_main(void *arg)
{
	struct model *m = arg;
	struct model_ct **work = NULL;
	size_t work_cap = 0;
	for (;;) {
		worker_lock(&m->worker);
		if (!worker_stopping(&m->worker))
			worker_wait(&m->worker, worker_now_ms() + WORKER_PERIOD_MS);
		bool stop = worker_stopping(&m->worker);
		worker_unlock(&m->worker);
		if (stop)
			break;
		rebuild_due(m, &work, &work_cap);
	}
	free(work);
}

int model_start(struct model *m)
{
	return -worker_start(&m->worker, worker_main, m); /* pthread_create's positive error */
}

void model_free(struct model *m)
{
	if (!m)
		return;
	worker_stop(&m->worker); /* nothing when it never started */
	int rc = model_save(m);
	if (rc != IFOREST_OK)
		log_warning("model: saving %s failed: %s", m->model_file, iforest_strerror(rc));
	for (size_t i = 0; i < m->n_slots; i++) {
		iforest_stream_free(m->slots[i]->s);
		free(m->slots[i]);
	}
	free(m->slots);
	iforest_stream_free(m->host);
	iforest_model_free(m->loaded);
	pthread_mutex_destroy(&m->slots_mu);
	free(m);
}

struct model_ct *model_ct_add(struct model *m, uint32_t vmid)
{
	if (!m->o.per_container)
		return NULL;
	struct model_ct *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->vmid = vmid;
	if (iforest_stream_create(&m->o.per_ct, m->o.features.n, &c->s) != IFOREST_OK) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&m->slots_mu);
	if (m->n_slots == m->cap_slots) {
		size_t cap = m->cap_slots ? m->cap_slots * 2 : 16;
		struct model_ct **ns = realloc(m->slots, cap * sizeof(*ns));
		if (!ns) {
			pthread_mutex_unlock(&m->slots_mu);
			iforest_stream_free(c->s);
			free(c);
			return NULL;
		}
		m->slots = ns;
		m->cap_slots = cap;
	}
	m->slots[m->n_slots++] = c;
	pthread_mutex_unlock(&m->slots_mu);
	return c;
}

void model_ct_remove(struct model *m, struct model_ct *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&m->slots_mu);
	for (size_t i = 0; i < m->n_slots; i++) {
		if (m->slots[i] == c) {
			m->slots[i] = m->slots[--m->n_slots];
			break;
		}
	}
	c->dead = true;
	bool free_now = c->busy == 0;
	pthread_mutex_unlock(&m->slots_mu);
	if (free_now) {
		iforest_stream_free(c->s);
		free(c);
	}
}

/* The model that scores c: its own once built, else the host-wide one, else the loaded
 * one. The caller releases it with release_for(). */
static const iforest_model *acquire_for(struct model *m, struct model_ct *c, iforest_stream **from)
{
	const iforest_model *x = NULL;
	if (c && (x = iforest_stream_acquire(c->s))) {
		*from = c->s;
		return x;
	}
	if ((x = iforest_stream_acquire(m->host))) {
		*from = m->host;
		return x;
	}
	*from = NULL;
	return m->loaded;
}

static void release_for(iforest_stream *from, const iforest_model *x)
{
	if (from)
		iforest_stream_release(from, x);
}

int model_score(struct model *m, struct model_ct *c, const double *x, bool train, iforest_result *res)
{
	const size_t d = m->o.features.n;
	if (train) {
		iforest_result rc_ct, rc_host;
		int f_ct = c ? iforest_stream_push(c->s, x, d, &rc_ct) : 0;
		int f_host = iforest_stream_push(m->host, x, d, &rc_host);
		if (f_ct < 0)
			return f_ct;
		if (f_host < 0)
			return f_host;
		if (f_ct & IFOREST_PUSH_SCORED) {
			*res = rc_ct;
			return 1;
		}
		if (f_host & IFOREST_PUSH_SCORED) {
			*res = rc_host;
			return 1;
		}
		if (!m->loaded)
			return 0;
		int rc = iforest_score(m->loaded, x, d, res);
		return rc == IFOREST_OK ? 1 : rc;
	}
	iforest_stream *from;
	const iforest_model *mod = acquire_for(m, c, &from);
	int rc = 0;
	if (mod) {
		rc = iforest_score(mod, x, d, res);
		rc = rc == IFOREST_OK ? 1 : rc;
	}
	release_for(from, mod);
	return rc;
}

int model_explain(struct model *m, struct model_ct *c, const double *x,
		  struct decision_feature top[DECISION_TOP_FEATURES])
{
	memset(top, 0, sizeof(struct decision_feature) * DECISION_TOP_FEATURES);
	iforest_stream *from;
	const iforest_model *mod = acquire_for(m, c, &from);
	int n = 0;
	if (mod) {
		iforest_contrib contrib[DECISION_TOP_FEATURES];
		n = iforest_explain(mod, x, m->o.features.n, contrib, DECISION_TOP_FEATURES);
		for (int i = 0; i < n; i++) {
			unsigned col = (unsigned)contrib[i].feature;
			const char *name = col < m->o.features.n ? features_name(m->o.features.index[col]) : NULL;
			snprintf(top[i].name, sizeof(top[i].name), "%s", name ? name : "?");
			top[i].share = contrib[i].share;
		}
		if (n < 0)
			n = 0;
	}
	release_for(from, mod);
	return n;
}

void model_status(struct model *m, struct model_status *st)
{
	memset(st, 0, sizeof(*st));
	iforest_stream_stats ss;
	iforest_stream_get_stats(m->host, &ss);
	const iforest_model *cur = iforest_stream_acquire(m->host);
	st->host_built = cur != NULL;
	iforest_stream_release(m->host, cur);
	st->loaded = m->loaded != NULL;
	st->host_generation = ss.generation;
	st->host_rows = ss.window_rows;
	st->rebuilds = atomic_load(&m->rebuilds);
	st->saves = atomic_load(&m->saves);
	st->save_errors = atomic_load(&m->save_errors);
	pthread_mutex_lock(&m->slots_mu);
	st->per_ct = m->n_slots;
	pthread_mutex_unlock(&m->slots_mu);
}

void model_info(struct model *m, struct model_info *out)
{
	memset(out, 0, sizeof(*out));
	const struct feat_select *sel = &m->o.features;
	out->n_features = sel->n;
	for (unsigned i = 0; i < sel->n && i < FEAT_COUNT; i++) {
		const char *name = features_name(sel->index[i]);
		snprintf(out->names[i], sizeof(out->names[i]), "%s", name ? name : "?");
	}
	out->trees = (unsigned)m->o.host.forest.n_trees;
	out->sample_size = (unsigned)m->o.host.forest.max_samples;
	out->window = (unsigned)m->o.host.window;
	out->contamination = m->o.host.forest.contamination;
	iforest_stream_stats ss;
	iforest_stream_get_stats(m->host, &ss);
	out->samples_seen = ss.pushed;
	out->rebuilds = atomic_load(&m->rebuilds);
	out->last_rebuild_ms = atomic_load(&m->last_rebuild_ms);
	out->last_rebuild_duration_ms = (double)atomic_load(&m->last_rebuild_us) / 1000.0;
	iforest_stream *from = m->host;
	const iforest_model *mod = iforest_stream_acquire(m->host);
	if (!mod) {
		from = NULL;
		mod = m->loaded;
	}
	if (mod) {
		iforest_info info;
		iforest_model_info(mod, &info);
		out->trained = true;
		out->loaded_only = from == NULL;
		out->trees = (unsigned)info.n_trees;
		out->sample_size = (unsigned)info.max_samples;
		out->threshold = info.offset;
		if (iforest_feature_importances(mod, out->importance, sel->n) != IFOREST_OK)
			memset(out->importance, 0, sizeof(out->importance));
	}
	if (from)
		iforest_stream_release(from, mod);
}

/*
 * routes_v1.c — lxcscale's own routes under /api/v1, answered from the daemon through
 * `struct api_backend`. Plain JSON (no envelope) shaped as api/openapi.yaml describes;
 * errors use the envelope's {"status":"error","message"} so clients handle both alike.
 *
 * /api/v1/events is a server-sent-events stream. Each stream has a bounded queue filled
 * by the backend's callback (from any daemon thread, never blocking it: when a slow client
 * lets the queue fill, the oldest events are dropped and the next event says how many).
 * The connection's own thread waits on the queue and sends a comment every 15 s so dead
 * clients are noticed. The number of streams is bounded.
 */
#include "internal.h"
#include "jsonw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SSE_QUEUE 256
#define SSE_MAX_STREAMS 32
#define SSE_KEEPALIVE_S 15
#define DECISIONS_MAX 1000
#define DECISIONS_SCAN 16384 /* more than a backend keeps (the daemon: 1024) */
#define HISTORY_MAX 4096

/* The API's own words for a change, as api/openapi.yaml lists them (none, up, down, set);
 * the suggestions log says increase/decrease instead (decision_change_name). */
static const char *change_str(enum decision_change c)
{
	switch (c) {
	case DECISION_NONE: return "none";
	case DECISION_UP: return "up";
	case DECISION_DOWN: return "down";
	case DECISION_SET: return "set";
	}
	return "unknown";
}

void decision_write(struct jsonw *w, const struct decision *d)
{
	jw_obj_begin(w);
	jw_kuint(w, "seq", d->seq);
	jw_kint(w, "time_ms", d->time_ms);
	jw_kuint(w, "vmid", d->vmid);
	jw_key(w, "cpu");
	jw_obj_begin(w);
	jw_kstr(w, "change", change_str(d->cpu_change));
	jw_knum(w, "from", d->cpu_from);
	jw_knum(w, "to", d->cpu_to);
	jw_obj_end(w);
	jw_key(w, "memory");
	jw_obj_begin(w);
	jw_kstr(w, "change", change_str(d->mem_change));
	jw_kuint(w, "from_mb", d->mem_from_mb);
	jw_kuint(w, "to_mb", d->mem_to_mb);
	jw_obj_end(w);
	jw_kstr(w, "reason", decision_reason_name(d->reason));
	jw_knum(w, "confidence", d->confidence);
	jw_knum(w, "anomaly_score", d->anomaly_score);
	jw_kbool(w, "anomaly", d->anomaly);
	jw_kint(w, "urgency", d->urgency);
	jw_key(w, "top_features");
	jw_arr_begin(w);
	for (int i = 0; i < DECISION_TOP_FEATURES; i++) {
		if (!d->top[i].name[0])
			continue;
		jw_obj_begin(w);
		jw_key(w, "name");
		jw_strn(w, d->top[i].name, strnlen(d->top[i].name, DECISION_FEATURE_NAME_MAX));
		jw_knum(w, "share", d->top[i].share);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_knum(w, "cpu_pct", d->cpu_pct);
	jw_knum(w, "mem_pct", d->mem_pct);
	jw_knum(w, "cpu_psi_some_ms", d->cpu_psi_some_ms);
	jw_knum(w, "mem_psi_some_ms", d->mem_psi_some_ms);
	jw_kstr(w, "woken_by", decision_wake_name(d->woken_by));
	jw_key(w, "wake_to_decision_ms");
	if (d->wake_us >= 0)
		jw_num(w, (double)d->wake_us / 1000.0);
	else
		jw_null(w);
	jw_kbool(w, "dry_run", d->dry_run);
	jw_kbool(w, "persist", d->persist);
	jw_key(w, "outcome");
	jw_strn(w, d->outcome, strnlen(d->outcome, sizeof(d->outcome)));
	jw_kbool(w, "enforced", d->enforced);
	jw_kbool(w, "applies_at_start", d->applies_at_start);
	jw_key(w, "detail");
	jw_strn(w, d->detail, strnlen(d->detail, sizeof(d->detail)));
	jw_obj_end(w);
}

static void container_write(struct jsonw *w, const struct ct_snapshot *c)
{
	jw_obj_begin(w);
	jw_kuint(w, "vmid", c->vmid);
	jw_key(w, "name");
	jw_strn(w, c->name, strnlen(c->name, sizeof(c->name)));
	jw_kbool(w, "running", c->running);
	jw_kbool(w, "ignored", c->ignored);
	jw_key(w, "ignored_by");
	jw_strn(w, c->ignored_by, strnlen(c->ignored_by, sizeof(c->ignored_by)));
	jw_key(w, "tier");
	jw_strn(w, c->tier, strnlen(c->tier, sizeof(c->tier)));
	jw_kint(w, "updated_ms", c->updated_ms);
	jw_key(w, "limits");
	jw_obj_begin(w);
	jw_knum(w, "cores", c->cores);
	jw_kuint(w, "memory_mb", c->memory_mb);
	jw_kuint(w, "memory_high_mb", c->memory_high_mb);
	jw_obj_end(w);
	jw_key(w, "usage");
	jw_obj_begin(w);
	jw_knum(w, "cpu_pct", c->cpu_pct);
	jw_kuint(w, "memory_mb", c->memory_used_mb);
	jw_knum(w, "memory_pct", c->mem_pct);
	jw_obj_end(w);
	jw_key(w, "pressure");
	jw_obj_begin(w);
	jw_knum(w, "cpu_some_avg10", c->cpu_psi_some_avg10);
	jw_knum(w, "memory_some_avg10", c->mem_psi_some_avg10);
	jw_knum(w, "io_some_avg10", c->io_psi_some_avg10);
	jw_knum(w, "cpu_full_avg10", c->cpu_psi_full_avg10);
	jw_knum(w, "memory_full_avg10", c->mem_psi_full_avg10);
	jw_knum(w, "runq_p99_us", c->runq_p99_us);
	jw_obj_end(w);
	jw_key(w, "score");
	jw_obj_begin(w);
	jw_knum(w, "anomaly_score", c->anomaly_score);
	jw_kbool(w, "anomaly", c->anomaly);
	jw_obj_end(w);
	jw_key(w, "last_decision");
	if (c->has_last_decision)
		decision_write(w, &c->last_decision);
	else
		jw_null(w);
	jw_obj_end(w);
}

static void resp_jw(struct req *r, int status, struct jsonw *w)
{
	size_t len;
	char *body = jw_finish(w, &len);
	resp_take(r, status, "application/json", body, len);
}

/* 503 when the daemon is not attached or lacks the function. */
static bool need(struct req *r, const void *fn)
{
	if (r->srv->has_backend && fn)
		return true;
	resp_error_code(r, 503, "no_daemon", NULL, "The lxcscale daemon is not attached to this API server");
	return false;
}

static void backend_failed(struct req *r, int rc, const char *what)
{
	if (rc == -ENOENT) {
		char msg[96];
		snprintf(msg, sizeof(msg), "container %u is not running under the daemon", r->path_id);
		resp_error_code(r, 404, "not_managed", "id", msg);
		return;
	}
	char detail[160];
	snprintf(detail, sizeof(detail), "%s failed: %s", what, strerror(rc < 0 ? -rc : rc));
	resp_internal(r, detail);
}

/* A copy of the cached answer when the backend's generation has not moved since it was
 * encoded; false otherwise. Copying 70 KB costs a few µs, encoding it ~80 µs. */
static bool containers_from_cache(struct req *r, uint64_t gen)
{
	struct containers_cache *c = &r->srv->containers_cache;
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	if (c->json && c->generation == gen) {
		char *copy = malloc(c->len + 1);
		if (copy) {
			memcpy(copy, c->json, c->len + 1);
			resp_take(r, 200, "application/json", copy, c->len);
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void containers_to_cache(struct api_server *srv, uint64_t gen, const char *json, size_t len)
{
	struct containers_cache *c = &srv->containers_cache;
	char *copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, json, len + 1);
	pthread_mutex_lock(&c->lock);
	free(c->json);
	c->json = copy;
	c->len = len;
	c->generation = gen;
	pthread_mutex_unlock(&c->lock);
}

void route_v1_containers(struct req *r)
{
	struct api_backend *b = &r->srv->backend;
	if (!need(r, b->list_containers))
		return;
	/* The generation is read before the list: if the state moves in between, the cache
	 * holds a newer list under an older generation and the next request re-encodes. */
	uint64_t gen = 0;
	bool cacheable = b->containers_generation != NULL;
	if (cacheable) {
		gen = b->containers_generation(b->ctx);
		if (containers_from_cache(r, gen))
			return;
	}
	struct ct_snapshot *list = NULL;
	size_t n = 0;
	int rc = b->list_containers(b->ctx, &list, &n);
	if (rc < 0) {
		free(list);
		backend_failed(r, rc, "list_containers");
		return;
	}
	struct jsonw w;
	jw_init(&w, 1024 + n * 900);
	jw_obj_begin(&w);
	jw_key(&w, "containers");
	jw_arr_begin(&w);
	for (size_t i = 0; i < n; i++)
		container_write(&w, &list[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(list);
	size_t len;
	char *body = jw_finish(&w, &len);
	if (body && cacheable)
		containers_to_cache(r->srv, gen, body, len);
	resp_take(r, 200, "application/json", body, len);
}

void route_v1_container(struct req *r)
{
	struct api_backend *b = &r->srv->backend;
	if (!need(r, b->get_container))
		return;
	struct ct_snapshot c;
	struct history_point *hist = NULL;
	size_t nh = 0;
	memset(&c, 0, sizeof(c));
	int rc = b->get_container(b->ctx, r->path_id, &c, &hist, &nh);
	if (rc < 0) {
		free(hist);
		backend_failed(r, rc, "get_container");
		return;
	}
	struct jsonw w;
	jw_init(&w, 2048 + nh * 200);
	/* the container's fields plus "history": write the object, reopen it for history */
	container_write(&w, &c);
	w.len--; /* drop the closing brace */
	w.depth++;
	jw_key(&w, "history");
	jw_arr_begin(&w);
	for (size_t i = 0; i < nh && i < HISTORY_MAX; i++) {
		jw_obj_begin(&w);
		jw_kint(&w, "time_ms", hist[i].time_ms);
		jw_knum(&w, "cores", hist[i].cores);
		jw_kuint(&w, "memory_mb", hist[i].memory_mb);
		jw_knum(&w, "cpu_pct", hist[i].cpu_pct);
		jw_knum(&w, "mem_pct", hist[i].mem_pct);
		jw_knum(&w, "cpu_psi_some_avg10", hist[i].cpu_psi_some_avg10);
		jw_knum(&w, "mem_psi_some_avg10", hist[i].mem_psi_some_avg10);
		jw_knum(&w, "anomaly_score", hist[i].anomaly_score);
		jw_knum(&w, "cpu_psi_full_avg10", hist[i].cpu_psi_full_avg10);
		jw_knum(&w, "mem_psi_full_avg10", hist[i].mem_psi_full_avg10);
		jw_knum(&w, "runq_p99_us", hist[i].runq_p99_us);
		jw_kuint(&w, "memory_high_mb", hist[i].memory_high_mb);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(hist);
	resp_jw(r, 200, &w);
}

void route_v1_limits(struct req *r)
{
	struct api_server *srv = r->srv;
	struct api_backend *b = &srv->backend;
	struct params p;
	params_load(r, &p);
	double cores = 0;
	long long mem = 0;
	bool has_cores = false, has_mem = false, persist = true;
	char note[64] = "";
	bool force = false;
	if (!p.body_error) {
		static const char *const C[] = {"cores", NULL}, *const M[] = {"memory_mb", NULL},
				  *const P[] = {"persist", NULL}, *const N[] = {"note", NULL},
				  *const F[] = {"force", NULL};
		params_text(&p, N, "note", note, sizeof(note));
		params_bool(&p, F, "force", false, &force);
		params_number(&p, C, "cores", 0.01, (double)(srv->host_cpus < 128 ? srv->host_cpus : 128),
			      false, &cores, &has_cores);
		params_int(&p, M, "memory_mb", 64, 1048576, false, &mem, &has_mem);
		params_bool(&p, P, "persist", true, &persist);
		if (!has_cores && !has_mem)
			params_fail(&p, "at least one of cores and memory_mb is required");
	}
	if (!params_ok(&p)) {
		resp_validation(r, json_object_get(p.errors));
		params_free(&p);
		return;
	}
	params_free(&p);
	if (!need(r, b->apply_limits))
		return;
	struct api_limits_request lr = {
		.vmid = r->path_id,
		.set_cores = has_cores,
		.cores = cores,
		.set_memory = has_mem,
		.memory_mb = (uint64_t)mem,
		.persist = persist,
		.source = "POST /api/v1/containers/{id}/limits",
	};
	snprintf(lr.note, sizeof(lr.note), "%s", note);
	lr.force = force;
	struct decision d;
	char err[256] = "";
	memset(&d, 0, sizeof(d));
	int rc = b->apply_limits(b->ctx, &lr, &d, err, sizeof(err));
	if (rc == -EINVAL) {
		json_object *errs = json_object_new_array();
		json_object_array_add(errs, json_object_new_string(err[0] ? err : "refused by the daemon"));
		resp_validation(r, errs);
		return;
	}
	if (rc < 0) {
		resp_backend_refusal(r, rc, r->path_id, "id", err);
		return;
	}
	if (has_cores)
		metrics_scaling_action(&srv->metrics, r->path_id, RES_CPU, ACT_SET);
	if (has_mem)
		metrics_scaling_action(&srv->metrics, r->path_id, RES_RAM, ACT_SET);
	struct jsonw w;
	jw_init(&w, 1024);
	jw_obj_begin(&w);
	jw_key(&w, "decision");
	decision_write(&w, &d);
	jw_obj_end(&w);
	resp_jw(r, 200, &w);
}

void route_v1_decisions(struct req *r)
{
	struct api_backend *b = &r->srv->backend;
	struct params p;
	params_load(r, &p);
	long long since = 0, limit = 100, vmid = 0;
	bool newest = false, one_ct = false;
	static const char *const S[] = {"since", NULL}, *const L[] = {"limit", NULL},
			  *const N[] = {"newest", NULL}, *const V[] = {"vmid", NULL};
	params_int(&p, S, "since", 0, INT64_MAX - 1, false, &since, NULL);
	params_int(&p, L, "limit", 1, DECISIONS_MAX, false, &limit, NULL);
	params_bool(&p, N, "newest", false, &newest);
	params_int(&p, V, "vmid", 100, 999999999, false, &vmid, &one_ct);
	if (!params_ok(&p)) {
		resp_validation(r, json_object_get(p.errors));
		params_free(&p);
		return;
	}
	params_free(&p);
	if (!need(r, b->list_decisions))
		return;
	struct decision *list = NULL;
	size_t n = 0;
	/* newest: the last `limit` of those after since; vmid: only that container's. Both
	 * take all the daemon keeps, then filter and cut. */
	bool all = newest || one_ct;
	int rc = b->list_decisions(b->ctx, (uint64_t)since, all ? DECISIONS_SCAN : (size_t)limit, &list, &n);
	if (rc < 0) {
		free(list);
		backend_failed(r, rc, "list_decisions");
		return;
	}
	if (one_ct) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (list[i].vmid == (uint32_t)vmid)
				list[k++] = list[i];
		n = k;
	}
	size_t skip = newest && n > (size_t)limit ? n - (size_t)limit : 0;
	struct jsonw w;
	jw_init(&w, 256 + n * 700);
	jw_obj_begin(&w);
	jw_key(&w, "decisions");
	jw_arr_begin(&w);
	uint64_t last = (uint64_t)since;
	for (size_t i = skip; i < n && i - skip < (size_t)limit; i++) {
		decision_write(&w, &list[i]);
		if (list[i].seq > last)
			last = list[i].seq;
	}
	jw_arr_end(&w);
	jw_kuint(&w, "next_since", last);
	jw_obj_end(&w);
	free(list);
	resp_jw(r, 200, &w);
}

void route_v1_model(struct req *r)
{
	struct api_backend *b = &r->srv->backend;
	if (!need(r, b->model_info))
		return;
	struct api_model_info *m = calloc(1, sizeof(*m));
	if (!m) {
		resp_internal(r, "out of memory");
		return;
	}
	int rc = b->model_info(b->ctx, m);
	if (rc < 0) {
		free(m);
		backend_failed(r, rc, "model_info");
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "trained", json_object_new_boolean(m->trained));
	json_object *feats = json_object_new_array();
	unsigned nf = m->n_features < API_MODEL_MAX_FEATURES ? m->n_features : API_MODEL_MAX_FEATURES;
	for (unsigned i = 0; i < nf; i++) {
		char name[DECISION_FEATURE_NAME_MAX + 1];
		memcpy(name, m->feature_names[i], DECISION_FEATURE_NAME_MAX);
		name[DECISION_FEATURE_NAME_MAX] = '\0';
		json_object *f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(name));
		json_object_object_add(f, "importance", json_object_new_double(m->feature_importance[i]));
		json_object_array_add(feats, f);
	}
	json_object_object_add(o, "features", feats);
	json_object_object_add(o, "trees", json_object_new_int64(m->trees));
	json_object_object_add(o, "sample_size", json_object_new_int64(m->sample_size));
	json_object_object_add(o, "window", json_object_new_int64(m->window));
	json_object_object_add(o, "model_window", json_object_new_int64(m->config_window));
	json_object_object_add(o, "per_container", json_object_new_boolean(m->per_container));
	json_object_object_add(o, "contamination", json_object_new_double(m->contamination));
	json_object_object_add(o, "threshold", json_object_new_double(m->threshold));
	json_object_object_add(o, "samples_seen", json_object_new_uint64(m->samples_seen));
	json_object_object_add(o, "last_rebuild_ms", json_object_new_int64(m->last_rebuild_ms));
	json_object_object_add(o, "last_rebuild_duration_ms", json_object_new_double(m->last_rebuild_duration_ms));
	json_object_object_add(o, "rebuilds", json_object_new_uint64(m->rebuilds));
	free(m);
	resp_json(r, 200, o);
}

void route_v1_host(struct req *r)
{
	struct api_backend *b = &r->srv->backend;
	if (!need(r, b->host_info))
		return;
	struct api_host h;
	memset(&h, 0, sizeof(h));
	int rc = b->host_info(b->ctx, &h);
	if (rc < 0) {
		backend_failed(r, rc, "host_info");
		return;
	}
	struct jsonw jw, *w = &jw;
	jw_init(w, 512);
	jw_obj_begin(w);
	jw_knum(w, "cpus", h.cpus);
	jw_knum(w, "memory_mb", h.memory_mb);
	jw_kuint(w, "containers", h.containers);
	jw_kbool(w, "dry_run", h.dry_run);
	jw_kbool(w, "actuation", h.actuation);
	jw_kbool(w, "bpf", h.bpf);
	jw_kuint(w, "ticks", h.ticks);
	jw_key(w, "budget");
	jw_obj_begin(w);
	jw_knum(w, "cores_total", h.cores_total);
	jw_knum(w, "cores_allocated", h.cores_allocated);
	jw_knum(w, "reserve_cores", h.reserve_cores);
	jw_knum(w, "memory_total_mb", h.memory_total_mb);
	jw_knum(w, "memory_allocated_mb", h.memory_allocated_mb);
	jw_knum(w, "reserve_memory_mb", h.reserve_memory_mb);
	jw_obj_end(w);
	jw_obj_end(w);
	resp_jw(r, 200, w);
}

/* ---- server-sent events ----------------------------------------------------------------- */

struct sse_stream {
	struct api_server *srv;
	uint64_t handle;
	bool subscribed;
	struct ct_event q[SSE_QUEUE];
	unsigned head, count;
	uint64_t dropped;    /* events lost to a full queue since the last one sent */
	uint64_t next_id;
	char pending[4096];  /* formatted text not yet handed to MHD */
	size_t pend_len, pend_off;
	int64_t last_send_ms;
};

static const char *event_name(enum ct_event_type t)
{
	switch (t) {
	case CT_EVENT_DECISION: return "decision";
	case CT_EVENT_OOM: return "oom";
	case CT_EVENT_PSI: return "psi";
	}
	return "event";
}

/* Backend thread: copy and wake the stream. Never blocks beyond the short lock. */
static void sse_publish(void *arg, const struct ct_event *ev)
{
	struct sse_stream *s = arg;
	struct api_server *srv = s->srv;
	pthread_mutex_lock(&srv->sse_lock);
	if (s->count == SSE_QUEUE) {
		s->head = (s->head + 1) % SSE_QUEUE;
		s->count--;
		s->dropped++;
	}
	s->q[(s->head + s->count) % SSE_QUEUE] = *ev;
	s->count++;
	pthread_cond_broadcast(&srv->sse_cond);
	pthread_mutex_unlock(&srv->sse_lock);
}

static void sse_format(struct sse_stream *s, const struct ct_event *ev, uint64_t dropped)
{
	struct jsonw w;
	jw_init(&w, 1024);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", event_name(ev->type));
	jw_kint(&w, "time_ms", ev->time_ms);
	jw_kuint(&w, "vmid", ev->vmid);
	if (ev->type == CT_EVENT_DECISION) {
		jw_key(&w, "decision");
		decision_write(&w, &ev->decision);
	} else {
		jw_key(&w, "resource");
		jw_strn(&w, ev->resource, strnlen(ev->resource, sizeof(ev->resource)));
		jw_knum(&w, "value", ev->value);
		jw_key(&w, "detail");
		jw_strn(&w, ev->detail, strnlen(ev->detail, sizeof(ev->detail)));
	}
	if (dropped)
		jw_kuint(&w, "dropped_before", dropped);
	jw_obj_end(&w);
	size_t len = 0;
	char *js = jw_finish(&w, &len);
	int n = snprintf(s->pending, sizeof(s->pending), "id: %llu\nevent: %s\ndata: %s\n\n",
			 (unsigned long long)++s->next_id, event_name(ev->type), js ? js : "{}");
	if (n < 0 || (size_t)n >= sizeof(s->pending)) /* cannot happen with bounded fields */
		n = snprintf(s->pending, sizeof(s->pending), "event: %s\ndata: {}\n\n", event_name(ev->type));
	free(js);
	s->pend_len = (size_t)n;
	s->pend_off = 0;
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse_stream *s = cls;
	struct api_server *srv = s->srv;
	if (s->pend_off < s->pend_len) {
		size_t n = s->pend_len - s->pend_off;
		if (n > max)
			n = max;
		memcpy(buf, s->pending + s->pend_off, n);
		s->pend_off += n;
		return (ssize_t)n;
	}
	pthread_mutex_lock(&srv->sse_lock);
	while (!srv->stopping && s->count == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts); /* sse_cond runs on CLOCK_MONOTONIC */
		ts.tv_sec += SSE_KEEPALIVE_S;
		if (pthread_cond_timedwait(&srv->sse_cond, &srv->sse_lock, &ts) == ETIMEDOUT)
			break;
	}
	if (srv->stopping) {
		pthread_mutex_unlock(&srv->sse_lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (s->count == 0) {
		pthread_mutex_unlock(&srv->sse_lock);
		static const char keepalive[] = ": keepalive\n\n";
		size_t n = sizeof(keepalive) - 1 < max ? sizeof(keepalive) - 1 : max;
		memcpy(buf, keepalive, n);
		return (ssize_t)n;
	}
	struct ct_event ev = s->q[s->head];
	s->head = (s->head + 1) % SSE_QUEUE;
	s->count--;
	uint64_t dropped = s->dropped;
	s->dropped = 0;
	pthread_mutex_unlock(&srv->sse_lock);
	sse_format(s, &ev, dropped);
	return sse_reader(cls, pos, buf, max);
}

static void sse_free(void *cls)
{
	struct sse_stream *s = cls;
	struct api_server *srv = s->srv;
	if (s->subscribed && srv->backend.unsubscribe)
		srv->backend.unsubscribe(srv->backend.ctx, s->handle);
	pthread_mutex_lock(&srv->sse_lock);
	srv->sse_active--;
	pthread_mutex_unlock(&srv->sse_lock);
	free(s);
}

void v1_events(struct req *r)
{
	struct api_server *srv = r->srv;
	struct api_backend *b = &srv->backend;
	if (!need(r, b->subscribe))
		return;
	pthread_mutex_lock(&srv->sse_lock);
	bool full = srv->sse_active >= SSE_MAX_STREAMS;
	if (!full)
		srv->sse_active++;
	pthread_mutex_unlock(&srv->sse_lock);
	if (full) {
		resp_error(r, 503, "Too many event streams");
		return;
	}
	struct sse_stream *s = calloc(1, sizeof(*s));
	if (!s) {
		pthread_mutex_lock(&srv->sse_lock);
		srv->sse_active--;
		pthread_mutex_unlock(&srv->sse_lock);
		resp_internal(r, "out of memory");
		return;
	}
	s->srv = srv;
	/* The stream opens with a comment so clients see the connection is live at once. */
	s->pend_len = (size_t)snprintf(s->pending, sizeof(s->pending), ": lxcscale events\nretry: 3000\n\n");
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_reader,
								     s, sse_free);
	if (!resp) {
		s->subscribed = false;
		sse_free(s);
		resp_internal(r, "cannot create the event stream");
		return;
	}
	if (b->subscribe(b->ctx, sse_publish, s, &s->handle) < 0) {
		MHD_destroy_response(resp); /* calls sse_free */
		resp_internal(r, "cannot subscribe to daemon events");
		return;
	}
	s->subscribed = true;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	r->custom = resp;
	r->status = 200;
}

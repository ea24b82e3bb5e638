/*
 * daemon/backend.c — the REST API's backend (api.h's struct api_backend) over the daemon.
 *
 * API threads never touch loop state. Reads come from the snapshot the loop publishes
 * (daemon/publish.h): the counters every tick; the container list and a per-container history
 * (one point a second, 300 kept) every second and at once after a decision or a container
 * coming or going; the last decisions as they are made. Events (decisions, OOM
 * kills, PSI triggers) are pushed to subscribers from the loop as they happen.
 *
 * A write (POST /scale/cores, /scale/ram, /api/v1/containers/{id}/limits) becomes a manual
 * decision built ON the loop: the API thread queues a CMD_CALL (base/cmdq.h) and waits for its
 * answer with a timeout. The loop builds the decision from the container's current
 * allocation, checks it against the host budget, and emits it through daemon_apply() —
 * logged, journalled, written, read back, persisted like any decision. The call's state is
 * shared by reference count, so an API thread that gave up waiting leaves it safely to the
 * loop, and the loop leaves it to the waiting thread.
 */
#include "daemon/internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "base/log.h"

#define MANUAL_TIMEOUT_MS 10000
#define HISTORY_EVERY_MS 1000
#define LIST_EVERY_MS 1000 /* the container list's refresh (daemon_publish) */
#define PSI_EVENT_EVERY_MS 1000

/* ---- publication (loop thread) -------------------------------------------------------- */

static void fill(const struct daemon *d, const struct ct *ct, struct ct_snapshot *a)
{
	memset(a, 0, sizeof(*a));
	a->vmid = ct->vmid;
	a->running = true; /* it has a cgroup */
	const char *why = daemon_ct_ignored_why(d, ct);
	a->ignored = why != NULL;
	snprintf(a->ignored_by, sizeof(a->ignored_by), "%s", why ? why : "");
	int tier = daemon_ct_tier(d, ct);
	snprintf(a->tier, sizeof(a->tier), "%s", tier >= 0 ? d->cfg->tiers[tier].name : "");
	snprintf(a->name, sizeof(a->name), "%s", ct->name);
	const struct feat_raw *raw = features_history_raw(ct->hist);
	a->updated_ms = raw ? raw->wall_ms : 0;
	a->cores = ct->alloc.cores_known ? ct->alloc.cores : 0;
	a->memory_mb = ct->alloc.ram_known ? (uint64_t)llround(ct->alloc.ram_mb) : 0;
	a->memory_high_mb = ct->limits.known && cg_known(ct->limits.v.mem_high) ? ct->limits.v.mem_high.v >> 20 : 0;
	const struct feat_row *row = features_history_last(ct->hist);
	double v;
	if (features_row_col(row, COL_CPU, &v))
		a->cpu_pct = v;
	if (features_row_col(row, COL_MEM, &v)) {
		a->memory_used_mb = v > 0 ? (uint64_t)llround(v) : 0;
		if (ct->alloc.ram_known && ct->alloc.ram_mb > 0)
			a->mem_pct = v / ct->alloc.ram_mb * 100.0;
	}
	a->cpu_psi_some_avg10 = ct->psi_avg10[0];
	a->mem_psi_some_avg10 = ct->psi_avg10[1];
	a->io_psi_some_avg10 = ct->psi_avg10[2];
	a->cpu_psi_full_avg10 = ct->psi_full_avg10[0];
	a->mem_psi_full_avg10 = ct->psi_full_avg10[1];
	a->runq_p99_us = ct->runq_p99_max_us;
	if (ct->scored) {
		a->anomaly_score = ct->score.score;
		a->anomaly = ct->score.predict < 0;
	}
	a->has_last_decision = ct->last != NULL;
	if (ct->last)
		a->last_decision = *ct->last;
}

/* The container list is copied for the API at most every LIST_EVERY_MS, or at once after a
 * decision or a container coming or going (pub_dirty): between two copies most containers
 * were not even read (quiet sampling). The list is built straight into the store's back
 * buffer, compacted there (daemon/publish.c), so the loop keeps no copy of its own; filling an
 * entry is a few hundred bytes of copying, a second. Only containers read, scored, decided
 * or renamed since the last copy (ct->pub_stale) add a point to their history (a point per
 * new reading, at most one a second). The loop-wide figures are published every tick. */
void daemon_publish(struct daemon *d, int64_t now_ms)
{
	if (!d->pub)
		return;
	struct pub_stats st = {
		.ticks = d->st.ticks, .samples = d->st.samples, .decisions = d->st.decisions,
		.events = d->st.events, .bpf = d->bpf != NULL, .actuation = d->act != NULL,
		.tick_avg_ms = d->st.ticks ? (double)d->st.tick_wall_ns / (double)d->st.ticks / 1e6 : 0,
		.tick_max_ms = (double)d->st.tick_wall_max_ns / 1e6,
	};
	if (d->bpf) {
		uint64_t drops = 0;
		if (lxs_bpf_stat(d->bpf, LXS_STAT_RB_DROPS, &drops) == 0)
			st.bpf_drops = drops;
	}
	if (d->act) {
		struct actuate_stats as;
		actuate_get_stats(d->act, &as);
		st.persist_pending = as.persist_pending;
		st.shrinks = as.shrinks;
		st.journal_open = as.journal_open;
	}
	struct policy_budget b;
	daemon_budget(d, &b);
	const struct lxcscale_config *c = d->cfg;
	st.host = (struct api_host){
		.cpus = d->host_cpus, .memory_mb = d->host_ram_mb,
		.cores_total = b.cores_total, .cores_allocated = b.cores_used,
		.memory_total_mb = b.ram_total_mb, .memory_allocated_mb = b.ram_used_mb,
		.reserve_cores = c->host.total_cores > 0 ? 0 : c->host.reserve_cpu_cores,
		.reserve_memory_mb = c->host.total_ram_mb > 0 ? 0 : c->host.reserve_memory_mb,
		.containers = d->n_cts, .dry_run = !d->apply || !config_is_live(c),
		.actuation = d->act != NULL, .bpf = d->bpf != NULL, .ticks = d->st.ticks,
	};
	if (!d->pub_dirty && now_ms < d->next_pub_ms) {
		pub_set_stats(d->pub, &st);
		return;
	}
	if (pub_list_begin(d->pub, d->n_cts) != 0)
		return;
	d->pub_dirty = false;
	d->next_pub_ms = now_ms + LIST_EVERY_MS;
	for (size_t i = 0; i < d->n_cts; i++) {
		struct ct *ct = d->cts[i];
		struct ct_snapshot one, *a = &one;
		const bool fresh = ct->pub_stale;
		fill(d, ct, a);
		pub_list_put(d->pub, i, a);
		ct->pub_stale = false;
		/* a point a second; the list itself comes about as often, so allow its jitter */
		if (fresh && ct->have_raw && now_ms - ct->last_hist_ms >= HISTORY_EVERY_MS * 9 / 10) {
			ct->last_hist_ms = now_ms;
			struct history_point pt = {
				.time_ms = a->updated_ms, .cores = a->cores, .memory_mb = a->memory_mb,
				.cpu_pct = a->cpu_pct, .mem_pct = a->mem_pct,
				.cpu_psi_some_avg10 = a->cpu_psi_some_avg10,
				.mem_psi_some_avg10 = a->mem_psi_some_avg10, .anomaly_score = a->anomaly_score,
				.cpu_psi_full_avg10 = a->cpu_psi_full_avg10, .mem_psi_full_avg10 = a->mem_psi_full_avg10,
				.runq_p99_us = a->runq_p99_us, .memory_high_mb = a->memory_high_mb,
			};
			pub_history(d->pub, ct->vmid, &pt);
			ct->runq_p99_max_us = 0; /* the next point: the worst of its own second */
		}
	}
	pub_list_commit(d->pub, d->n_cts, &st);
}

void daemon_publish_psi(struct daemon *d, struct ct *ct, int which, int64_t now_ms)
{
	if (!d->pub || which < 0 || which > 1 || now_ms - ct->psi_event_ms[which] < PSI_EVENT_EVERY_MS)
		return;
	ct->psi_event_ms[which] = now_ms;
	struct ct_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = CT_EVENT_PSI;
	ev.time_ms = daemon_wall_ms();
	ev.vmid = ct->vmid;
	snprintf(ev.resource, sizeof(ev.resource), "%s", which ? "cpu" : "memory");
	ev.value = ct->psi_avg10[which ? 0 : 1];
	snprintf(ev.detail, sizeof(ev.detail), "%s pressure trigger: some stall %d ms within %d ms",
		 ev.resource, which ? d->cfg->psi.cpu_stall_ms : d->cfg->psi.memory_stall_ms, d->cfg->psi.window_ms);
	pub_event(d->pub, &ev);
}

void daemon_publish_oom(struct daemon *d, struct ct *ct, uint64_t kills, const char *source)
{
	if (!d->pub)
		return;
	struct ct_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = CT_EVENT_OOM;
	ev.time_ms = daemon_wall_ms();
	ev.vmid = ct->vmid;
	snprintf(ev.resource, sizeof(ev.resource), "memory");
	ev.value = (double)kills;
	snprintf(ev.detail, sizeof(ev.detail), "OOM kill (%s)", source);
	pub_event(d->pub, &ev);
}

/* ---- manual limits ------------------------------------------------------------------- */

struct manual {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	bool done;
	struct daemon *d;
	struct api_limits_request req;
	struct decision out;
	int rc;
	char err[256];
};

static void manual_put(struct manual *m)
{
	pthread_mutex_lock(&m->mu);
	bool last = --m->refs == 0;
	pthread_mutex_unlock(&m->mu);
	if (last) {
		pthread_mutex_destroy(&m->mu);
		pthread_cond_destroy(&m->cv);
		free(m);
	}
}

/* Loop thread: the manual decision, from the container's allocation now. */
static int manual_apply(struct daemon *d, const struct api_limits_request *rq, struct decision *out,
			char *err, size_t errlen)
{
	struct ct *ct = daemon_find(d, rq->vmid);
	if (!ct) {
		snprintf(err, errlen, "container %u is not running under the daemon", rq->vmid);
		return -ENOENT;
	}
	const char *ign = daemon_ct_ignored_why(d, ct);
	if (ign && !rq->force) {
		if (!strcmp(ign, "tag"))
			snprintf(err, errlen, "container %u has the Proxmox tag %.100s: lxcscale leaves it alone; ask "
				 "with force (lxcscale scale --force) to change it anyway", rq->vmid,
				 d->cfg->tags.ignore);
		else
			snprintf(err, errlen, "container %u is in ignore_lxc: lxcscale leaves it alone; ask with "
				 "force (lxcscale scale --force) to change it anyway", rq->vmid);
		return -EPERM;
	}
	/* More cores than this host has: a cgroup can be given no more than the host's CPUs.
	 * Asked with clamp_to_host (the reference's /scale/cores), the cgroup gets them and the
	 * caller persists what was asked (Proxmox keeps `cores` above the host's count); else
	 * it is refused. */
	bool clamped = rq->set_cores && rq->clamp_to_host && rq->cores > d->host_cpus && rq->cores <= 8192;
	if (rq->set_cores && !clamped && !(rq->cores >= 0.01 && rq->cores <= d->host_cpus)) {
		snprintf(err, errlen, "cores must be between 0.01 and %g (this host's CPUs)", d->host_cpus);
		return -EINVAL;
	}
	if (rq->set_memory && (rq->memory_mb < 64 || rq->memory_mb > 1048576)) {
		snprintf(err, errlen, "memory must be between 64 and 1048576 MB");
		return -EINVAL;
	}
	struct decision dec;
	memset(&dec, 0, sizeof(dec));
	dec.vmid = rq->vmid;
	dec.reason = REASON_MANUAL;
	dec.confidence = 100;
	dec.persist = rq->persist;
	dec.cpu_from = dec.cpu_to = ct->alloc.cores_known ? ct->alloc.cores : 0;
	dec.mem_from_mb = dec.mem_to_mb = ct->alloc.ram_known ? (uint64_t)llround(ct->alloc.ram_mb) : 0;
	if (rq->set_cores) {
		dec.cpu_change = DECISION_SET;
		dec.cpu_to = clamped ? d->host_cpus : rq->cores;
	}
	if (rq->set_memory) {
		dec.mem_change = DECISION_SET;
		dec.mem_to_mb = rq->memory_mb;
	}
	snprintf(dec.detail, sizeof(dec.detail), "%s%s%s%s", rq->source ? rq->source : "manual",
		 rq->persist ? "" : ", not persisted", rq->note[0] ? ": " : "", rq->note);
	if (clamped) {
		dec.persist = false; /* the persister would write what the cgroup holds */
		snprintf(dec.detail, sizeof(dec.detail), "%s: %g cores asked; cgroup at this host's %g CPUs, "
			 "config %g (written by the API)", rq->source ? rq->source : "manual", rq->cores,
			 d->host_cpus, rq->cores);
		log_info("container %u: %s asks for %g cores, more than this host's %g CPUs: its cgroup "
			 "gets %g, its config keeps %g (written by the API)", rq->vmid,
			 rq->source ? rq->source : "manual", rq->cores, d->host_cpus, d->host_cpus, rq->cores);
	}

	struct policy_budget b;
	daemon_budget(d, &b);
	struct decision wish = dec;
	policy_grant(&b, &dec);
	if (dec.cpu_to != wish.cpu_to || dec.mem_to_mb != wish.mem_to_mb) {
		snprintf(err, errlen, "the host budget cannot grant it (%.2f of %.2f cores, %.0f of %.0f MiB "
			 "allocated; scaling.total_cores / total_ram_mb / reserve_*)",
			 b.cores_used, b.cores_total, b.ram_used_mb, b.ram_total_mb);
		return -EPERM;
	}
	int rc = daemon_apply(d, &dec);
	policy_commit(&ct->pol, &dec, daemon_mono_ms()); /* the policy does not undo it at once */
	*out = dec;
	if (rc != 0) {
		const struct actuator_outcome *o = &d->last_outcome;
		snprintf(err, errlen, "%s: %s", dec.outcome, o->detail[0] ? o->detail : strerror(rc < 0 ? -rc : rc));
		/* the API's status follows: a controller missing on this host is not the
		 * request's fault nor a crash (503); the rest is the write's own error (500) */
		if (o->status == ACT_FAILED && o->error == CG_ENOTSUP)
			return -EOPNOTSUPP;
		return rc == -EINVAL ? -EINVAL : rc < 0 ? rc : -EIO;
	}
	return 0;
}

static void manual_on_loop(void *arg)
{
	struct manual *m = arg;
	struct decision out;
	char err[256] = "";
	memset(&out, 0, sizeof(out));
	int rc = manual_apply(m->d, &m->req, &out, err, sizeof(err));
	pthread_mutex_lock(&m->mu);
	m->rc = rc;
	m->out = out;
	memcpy(m->err, err, sizeof(err));
	m->done = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	manual_put(m);
}

/* The loop stopped before running it: answer the waiting caller and drop the queue's
 * reference, or the shared state would outlive the daemon. */
static void manual_drop(void *arg)
{
	struct manual *m = arg;
	pthread_mutex_lock(&m->mu);
	m->rc = -ECANCELED;
	snprintf(m->err, sizeof(m->err), "the daemon is stopping");
	m->done = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	manual_put(m);
}

static int be_apply_limits(void *ctx, const struct api_limits_request *req, struct decision *applied,
			   char *err, size_t errlen)
{
	struct daemon *d = ctx;
	struct manual *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	m->refs = 2;
	m->d = d;
	m->req = *req;
	m->req.source = req->source; /* the API's string literals */
	struct cmd c = { .type = CMD_CALL, .vmid = req->vmid, .fn = manual_on_loop,
			 .drop = manual_drop, .arg = m };
	if (cmdq_push(d->cmdq, &c) != 0) {
		pthread_mutex_destroy(&m->mu);
		pthread_cond_destroy(&m->cv);
		free(m);
		snprintf(err, errlen, "the daemon is busy (command queue full); try again");
		return -EBUSY;
	}
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += MANUAL_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&m->mu);
	int w = 0;
	while (!m->done && w != ETIMEDOUT)
		w = pthread_cond_timedwait(&m->cv, &m->mu, &until);
	bool done = m->done;
	int rc = m->rc;
	if (done) {
		*applied = m->out;
		snprintf(err, errlen, "%s", m->err);
	}
	pthread_mutex_unlock(&m->mu);
	manual_put(m);
	if (!done) {
		snprintf(err, errlen, "the daemon did not answer within %d s", MANUAL_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	return rc;
}

/* ---- reads (any thread) ---------------------------------------------------------------- */

static int be_list(void *ctx, struct ct_snapshot **out, size_t *n)
{
	return pub_list(((struct daemon *)ctx)->pub, out, n);
}

static uint64_t be_generation(void *ctx)
{
	return pub_generation(((struct daemon *)ctx)->pub);
}

static int be_get(void *ctx, uint32_t vmid, struct ct_snapshot *out, struct history_point **h,
		  size_t *nh)
{
	return pub_get(((struct daemon *)ctx)->pub, vmid, out, h, nh);
}

static int be_decisions(void *ctx, uint64_t since, size_t max, struct decision **out, size_t *n)
{
	return pub_decisions(((struct daemon *)ctx)->pub, since, max, out, n);
}

static int be_health(void *ctx, struct api_health *out)
{
	pub_get_health(((struct daemon *)ctx)->pub, out);
	return 0;
}

static int be_model(void *ctx, struct api_model_info *out)
{
	struct daemon *d = ctx;
	struct model_info *mi = calloc(1, sizeof(*mi));
	if (!mi)
		return -ENOMEM;
	model_info(d->model, mi);
	memset(out, 0, sizeof(*out));
	out->trained = mi->trained;
	out->n_features = mi->n_features < API_MODEL_MAX_FEATURES ? mi->n_features : API_MODEL_MAX_FEATURES;
	for (unsigned i = 0; i < out->n_features; i++) {
		memcpy(out->feature_names[i], mi->names[i], DECISION_FEATURE_NAME_MAX);
		out->feature_importance[i] = mi->importance[i];
	}
	out->trees = mi->trees;
	out->sample_size = mi->sample_size;
	out->window = mi->window;
	out->config_window = d->cfg->model.window > 0 ? (unsigned)d->cfg->model.window : 0;
	out->per_container = d->cfg->model.per_container;
	out->contamination = mi->contamination;
	out->threshold = mi->threshold;
	out->samples_seen = mi->samples_seen;
	out->last_rebuild_ms = mi->last_rebuild_ms;
	out->last_rebuild_duration_ms = mi->last_rebuild_duration_ms;
	out->rebuilds = mi->rebuilds;
	free(mi);
	return 0;
}

static int be_subscribe(void *ctx, api_event_fn fn, void *arg, uint64_t *handle)
{
	return pub_subscribe(((struct daemon *)ctx)->pub, fn, arg, handle);
}

static void be_unsubscribe(void *ctx, uint64_t handle)
{
	pub_unsubscribe(((struct daemon *)ctx)->pub, handle);
}

static int be_host(void *ctx, struct api_host *out)
{
	struct pub_stats st;
	pub_get_stats(((struct daemon *)ctx)->pub, &st);
	*out = st.host;
	return 0;
}

static void be_metrics(void *ctx, FILE *out)
{
	pub_write_metrics(((struct daemon *)ctx)->pub, out);
}

void daemon_api_backend(struct daemon *d, struct api_backend *b)
{
	memset(b, 0, sizeof(*b));
	b->ctx = d;
	b->list_containers = be_list;
	b->containers_generation = be_generation;
	b->get_container = be_get;
	b->apply_limits = be_apply_limits;
	b->list_decisions = be_decisions;
	b->model_info = be_model;
	b->subscribe = be_subscribe;
	b->unsubscribe = be_unsubscribe;
	b->write_metrics = be_metrics;
	b->health = be_health;
	b->host_info = be_host;
}

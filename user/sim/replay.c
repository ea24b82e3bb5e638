/*
 * sim/replay.c — the replay loop: container model → features → model → policy → lag → model.
 *
 * The loop owns no scaling logic. lxcscale's rows and vectors come from features/features.c,
 * its scores from the daemon's model module, its decisions from decide/evaluate.c, the daemon's
 * own evaluation. The reference's come from its own loop (sim/reference_loop.c), fed here from
 * its monitor's view of the container model, or played from the plan it made over a history
 * (sim/reference_plan.c). What lives here is where they are fed from (the container model and
 * the trace), decision → new limits, and the two cadences.
 */
#include "sim/replay.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/errbuf.h"
#include "decide/evaluate.h"
#include "decide/params.h"
#include "iforest.h"
#include "sim/container_model.h"
#include "sim/reference_plan.h"

const char *replay_policy_name(enum replay_policy p)
{
	return p == REPLAY_REFERENCE ? "reference" : "lxcscale";
}

int replay_policy_parse(const char *s, enum replay_policy *out)
{
	if (strcmp(s, "lxcscale") == 0)
		*out = REPLAY_LXCSCALE;
	else if (strcmp(s, "reference") == 0)
		*out = REPLAY_REFERENCE;
	else
		return -1;
	return 0;
}

/* cfg, or the built-in defaults in *own (freed by the caller) */
static const struct lxcscale_config *config_or_defaults(const struct lxcscale_config *cfg,
                                                        struct lxcscale_config **own)
{
	*own = NULL;
	if (cfg)
		return cfg;
	*own = config_new();
	return *own;
}

int replay_config_lxcscale(struct replay_config *c, const struct lxcscale_config *cfg)
{
	struct lxcscale_config *own;
	cfg = config_or_defaults(cfg, &own);
	if (!cfg)
		return -1;
	memset(c, 0, sizeof *c);
	c->policy = REPLAY_LXCSCALE;
	policy_params_from_config(cfg, &cfg->scaling, 0, &c->params);
	c->sample_ms = 0;
	c->cycle_ms = 0;
	c->lag_ms = 0; /* written to cgroup files at once: in force from the next tick */
	c->history = (unsigned)cfg->history_length;
	c->window = (unsigned)cfg->spike_detection.rolling_window;
	struct feat_select sel;
	char err[128];
	if (features_select_from_config(cfg, &sel, err, sizeof err) != 0)
		features_select_default(&sel); /* config_finalize validated model.features */
	model_opts_from_config(cfg, &sel, &c->model);
	c->model.model_file = NULL; /* a replay never reads or writes the daemon's model */
	c->model.force_save = false;
	c->train_every_ms = MODEL_TRAIN_EVERY_MS;
	config_free(own);
	return 0;
}

int replay_config_reference(struct replay_config *c, const struct lxcscale_config *cfg)
{
	struct lxcscale_config *own;
	cfg = config_or_defaults(cfg, &own);
	if (!cfg)
		return -1;
	memset(c, 0, sizeof *c);
	c->policy = REPLAY_REFERENCE;
	/* the scaling keys, checked as the reference checks them at start; its loop reads only
	 * its own keys of them (thresholds, steps, min/max, min_confidence) */
	policy_params_from_config(cfg, &cfg->scaling, 0, &c->params);
	c->sample_ms = 60000;  /* lxc_monitor check_interval */
	c->cycle_ms = (int64_t)cfg->interval_seconds * 1000; /* its model loop: 600 s by default */
	c->lag_ms = 2000;      /* POST → pct set hot-plug: about 0.5–2 s (docs/reference-compat.md) */
	c->history = (unsigned)cfg->history_length;
	c->window = (unsigned)cfg->spike_detection.rolling_window;
	struct ref_loop_params *l = &c->loop;
	ref_loop_params_default(l);
	l->cpu_up_pct = c->params.cpu_up_pct;
	l->cpu_down_pct = c->params.cpu_down_pct;
	l->ram_up_pct = c->params.ram_up_pct;
	l->ram_down_pct = c->params.ram_down_pct;
	l->cpu_step = c->params.cpu_step;
	l->ram_step_mb = c->params.ram_step_mb;
	l->min_cores = c->params.min_cores;
	l->max_cores = c->params.max_cores;
	l->min_ram_mb = c->params.min_ram_mb;
	l->max_ram_mb = c->params.max_ram_mb;
	l->min_confidence = c->params.min_confidence;
	l->rolling_window = c->window;
	l->n_trees = cfg->model.n_estimators;
	l->max_samples = cfg->model.max_samples;
	l->contamination = cfg->model.contamination;
	l->seed = (uint64_t)cfg->model.random_state;
	l->max_snapshots = 1000; /* lxc_monitor's max_metrics_entries */
	int64_t max_age_s = cfg->max_metrics_age_seconds > 0 ? cfg->max_metrics_age_seconds
	                                                      : 3 * (int64_t)cfg->interval_seconds;
	l->max_age_us = max_age_s * 1000000;
	config_free(own);
	return 0;
}

/* ---- lxcscale: the daemon's model ---------------------------------------------------- */

struct model_state {
	const struct replay_config *c;
	struct model *daemon;
	struct model_ct *ct;
	int64_t next_train_ms;
	const struct feat_select *sel;
	double x[FEAT_COUNT];
	bool x_valid;
};

static int model_init(struct model_state *ms, const struct replay_config *c, uint32_t vmid,
                      char *err, size_t errlen)
{
	memset(ms, 0, sizeof *ms);
	ms->c = c;
	ms->next_train_ms = INT64_MIN;
	ms->sel = &c->model.features;
	char note[256] = "";
	ms->daemon = model_new(&c->model, note, sizeof note);
	if (!ms->daemon) {
		errbuf_set(err, errlen, "model: %s", note[0] ? note : "bad options or out of memory");
		return -1;
	}
	if (c->model.per_container)
		ms->ct = model_ct_add(ms->daemon, vmid);
	return 0;
}

static void model_state_free(struct model_state *ms)
{
	if (ms->daemon) {
		if (ms->ct)
			model_ct_remove(ms->daemon, ms->ct);
		model_free(ms->daemon);
	}
}

/* A new vector at a sample: scored at once, training on one sample per train_every_ms, as
 * the daemon. */
static int model_push(struct model_state *ms, int64_t now, const struct feat_vector *v,
                      iforest_result *res, bool *scored, char *err, size_t errlen)
{
	const struct replay_config *c = ms->c;
	*scored = false;
	ms->x_valid = features_project(v, ms->sel, ms->x);
	if (!ms->x_valid)
		return 0;
	bool train = now >= ms->next_train_ms;
	if (train)
		ms->next_train_ms = now + c->train_every_ms;
	int rc = model_score(ms->daemon, ms->ct, ms->x, train, res);
	if (rc < 0) {
		errbuf_set(err, errlen, "model: %s", iforest_strerror(rc));
		return -1;
	}
	*scored = rc == 1;
	if (train)
		model_rebuild_due(ms->daemon); /* in line: replay is single-threaded per run */
	return 0;
}

/* Which features isolated the current vector, for the decision record. */
static void model_explain_top(struct model_state *ms, struct decision_feature *top)
{
	if (ms->x_valid)
		model_explain(ms->daemon, ms->ct, ms->x, top);
}

static void print_decision(FILE *f, const struct scenario *s, int64_t elapsed_s, const struct decision *d)
{
	fprintf(f, "%s +%" PRId64 "s vmid=%u cpu=%s:%g->%g mem=%s:%" PRIu64 "->%" PRIu64
	        " reason=%s urgency=%d score=%.4f confidence=%.1f top=%s:%.2f detail=\"%s\"\n",
	        s->name, elapsed_s, d->vmid, decision_change_name(d->cpu_change),
	        d->cpu_from, d->cpu_to, decision_change_name(d->mem_change), d->mem_from_mb,
	        d->mem_to_mb, decision_reason_name(d->reason), d->urgency, d->anomaly_score,
	        d->confidence, d->top[0].name[0] ? d->top[0].name : "-", d->top[0].share, d->detail);
}

/* ---- the reference: its monitor's view, its loop or its plan ------------------------- */

struct reference_state {
	/* closed loop: the rows its monitor writes, its loop */
	struct ref_history rows;
	struct ref_loop *loop;
	struct feat_raw monitor_prev;    /* the monitor's previous reading (CPU % is a delta) */
	bool have_monitor_prev;
	/* on a history: this container's events of the plan */
	const struct reference_event *ev;
	size_t n_ev, next_ev;
};

/* What the reference's monitor writes for a reading, given the previous one: CPU % of the
 * allowed CPUs over the interval, memory without page cache (swap is its own field, never
 * memory), cumulative sectors and bytes. A figure it could not read is 0, as it writes. */
static bool monitor_record(const struct feat_raw *prev, const struct feat_raw *cur, uint32_t vmid,
                           int64_t now_ms, struct ref_record *out)
{
	struct feat_row row;
	if (!features_row_from_raw(prev, cur, &row))
		return false;
	static const struct {
		enum ref_field field;
		enum feat_col col;
	} from_row[] = {
		{ REF_CPU_PCT, COL_CPU }, { REF_MEMORY_MB, COL_MEM }, { REF_SWAP_MB, COL_SWAP },
		{ REF_SWAP_TOTAL_MB, COL_SWAP_TOTAL }, { REF_PROCESSES, COL_PROCS },
		{ REF_FS_USAGE_GB, COL_FS_USED }, { REF_FS_TOTAL_GB, COL_FS_TOTAL },
		{ REF_FS_FREE_GB, COL_FS_FREE },
	};
	memset(out, 0, sizeof *out);
	out->vmid = vmid;
	out->t_us = now_ms * 1000;
	for (size_t i = 0; i < sizeof from_row / sizeof from_row[0]; i++)
		if (!features_row_col(&row, from_row[i].col, &out->v[from_row[i].field]))
			out->v[from_row[i].field] = 0;
	if (cur->known & RAW_BIT(RAW_IO)) {
		out->v[REF_IO_READS] = (double)(cur->io_rbytes / 512);
		out->v[REF_IO_WRITES] = (double)(cur->io_wbytes / 512);
	}
	if (cur->known & RAW_BIT(RAW_NET)) {
		out->v[REF_NET_RX] = (double)cur->net_rx_bytes;
		out->v[REF_NET_TX] = (double)cur->net_tx_bytes;
	}
	return true;
}

/* ---- the loop ----------------------------------------------------------------------- */

/* One trace's run: what the daemon keeps per container, fed from the container model. */
struct run {
	const struct scenario *s;
	const struct replay_config *c;
	FILE *decisions;                /* NULL: not printed */
	struct feat_history *h;         /* lxcscale */
	struct model_state ms;          /* lxcscale */
	struct policy_config pc;        /* lxcscale */
	struct policy_state ps;         /* lxcscale */
	struct oom_tracker oom;         /* lxcscale */
	struct reference_state ref;     /* reference */
	struct container_model m;
	iforest_result res;
	bool have_res;                  /* res holds the model's latest verdict */
	uint64_t seq;                   /* decisions made */
	char *err;
	size_t errlen;
};

static int run_open(struct run *r, const struct scenario *s, const struct replay_config *c,
                    FILE *decisions, struct scorecard *sc, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->c = c;
	r->decisions = decisions;
	r->err = err;
	r->errlen = errlen;
	ref_history_init(&r->ref.rows);
	if (s->step_ms <= 0 || s->n_steps == 0) {
		errbuf_set(err, errlen, "%s: empty trace", s->name);
		return -1;
	}
	char why[256];
	if (policy_params_validate(&c->params, why, sizeof why) != 0) {
		errbuf_set(err, errlen, "policy: %s", why);
		return -1;
	}
	r->h = features_history_new(c->history, c->window);
	if (!r->h) {
		errbuf_set(err, errlen, "features: bad history %u / window %u", c->history, c->window);
		return -1;
	}
	if (c->policy == REPLAY_LXCSCALE) {
		if (model_init(&r->ms, c, s->vmid, err, errlen) != 0)
			return -1;
	} else if (c->plan) {
		r->ref.ev = reference_plan_events(c->plan, s->vmid, &r->ref.n_ev);
	} else {
		r->ref.loop = ref_loop_new(&c->loop);
		if (!r->ref.loop) {
			errbuf_set(err, errlen, "reference loop: out of memory or no window / trees");
			return -1;
		}
	}
	r->pc = (struct policy_config){ .defaults = c->params };
	policy_state_init(&r->ps);
	container_model_init(&r->m, s->vmid, &s->params, s->init_cpu_cores, s->init_mem_mb);
	if (sc && scorecard_begin_trace(sc, s->incidents, s->n_incidents, s->init_cpu_cores,
	                                s->init_mem_mb, &s->params) != 0) {
		errbuf_set(err, errlen, "scorecard: out of memory");
		return -1;
	}
	return 0;
}

static void run_close(struct run *r)
{
	model_state_free(&r->ms);
	features_history_free(r->h);
	ref_loop_free(r->ref.loop);
	ref_history_free(&r->ref.rows);
}

/* A sample: a new row into the history, scored at once by lxcscale's model. */
static int run_sample(struct run *r, int64_t now, const struct feat_raw *raw, struct scorecard_step *st)
{
	if (!features_feed_raw(r->h, raw))
		return 0;
	struct feat_vector v;
	features_compute(r->h, &v);
	bool scored;
	int rc = model_push(&r->ms, now, &v, &r->res, &scored, r->err, r->errlen);
	if (scored) {
		r->have_res = true;
		st->evaluated = true;
		st->flagged = r->res.predict < 0;
	}
	return rc;
}

/* A decision, numbered and printed, in force in the container model after the lag. */
static int run_apply(struct run *r, int64_t now, int64_t elapsed_s, struct decision *d)
{
	d->seq = ++r->seq;
	double cpu_to = d->cpu_change != DECISION_NONE ? d->cpu_to : 0;
	double mem_to = d->mem_change != DECISION_NONE ? (double)d->mem_to_mb : 0;
	int rc = 0;
	if (container_model_schedule(&r->m, now + r->c->lag_ms, cpu_to, mem_to) != 0) {
		errbuf_set(r->err, r->errlen, "%s: too many pending limit changes", r->s->name);
		rc = -1;
	}
	if (r->decisions)
		print_decision(r->decisions, r->s, elapsed_s, d);
	return rc;
}

/* lxcscale's decision: explained and committed, then applied. */
static int run_emit(struct run *r, int64_t now, struct decision *d)
{
	d->time_ms = now;
	d->dry_run = true;
	model_explain_top(&r->ms, d->top);
	policy_commit(&r->ps, d, now);
	return run_apply(r, now, (now - r->s->start_ms) / 1000, d);
}

/* lxcscale's cycle: the daemon's evaluation decides on the newest row with the container
 * model's limits. */
static int run_cycle(struct run *r, int64_t now, struct scorecard_step *st)
{
	(void)st;
	const struct alloc limits = { true, true, r->m.cpu_limit_cores, r->m.mem_limit_mb };
	const struct eval_request rq = {
		.vmid = r->s->vmid,
		.now_ms = now,
		.row = features_history_last(r->h),
		.alloc = &limits,
		.oom_kills = oom_tracker_take_raw(&r->oom, features_history_raw(r->h)),
		.score = r->have_res ? &r->res : NULL,
		.view = EVAL_FULL,
	};
	struct policy_input in;
	struct decision d;
	if (!evaluate(&r->pc, &r->ps, &rq, &in, &d))
		return 0;
	return run_emit(r, now, &d);
}

/* The seconds since the trace's start of a time the reference chose (a cycle of a history's
 * plan), to the nearest second: its cycles follow the history's oldest stamp, not this
 * container's first one. */
static int64_t elapsed_s_rounded(const struct scenario *s, int64_t t_ms)
{
	return (int64_t)llround((double)(t_ms - s->start_ms) / 1000.0);
}

/* The reference's view of its container's allocation: the container model's limits, unknown
 * when the trace's allocation is (its config sets no cores or no memory). */
static bool reference_allocation(void *ctx, uint32_t vmid, double *cores, double *ram_mb)
{
	const struct run *r = ctx;
	(void)vmid;
	*cores = r->m.cpu_limit_cores;
	*ram_mb = r->m.mem_limit_mb;
	return !r->s->alloc_cores_unset && !r->s->alloc_memory_unset;
}

/* Closed loop, a sample: the monitor's row for this container. */
static int reference_sample(struct run *r, int64_t now, const struct feat_raw *raw)
{
	struct reference_state *rs = &r->ref;
	struct ref_record rec;
	bool have = rs->have_monitor_prev && monitor_record(&rs->monitor_prev, raw, r->s->vmid, now, &rec);
	rs->monitor_prev = *raw;
	rs->have_monitor_prev = true;
	if (!have)
		return 0;
	if (ref_history_append(&rs->rows, &rec, 1) != 0) {
		errbuf_set(r->err, r->errlen, "reference loop: out of memory");
		return -1;
	}
	if (rs->rows.n_snap >= 2 * (size_t)r->c->loop.max_snapshots)
		ref_history_keep_last(&rs->rows, r->c->loop.max_snapshots);
	return 0;
}

/* Closed loop, a cycle: the reference's loop over this container's rows. */
static int reference_cycle(struct run *r, int64_t now, struct scorecard_step *st)
{
	struct reference_state *rs = &r->ref;
	struct ref_cycle cy;
	if (ref_loop_cycle(rs->loop, &rs->rows, rs->rows.n_snap, now * 1000, reference_allocation, r, &cy,
	                   r->err, r->errlen) != 0)
		return -1;
	for (size_t i = 0; i < cy.n; i++) {
		const struct ref_verdict *v = &cy.v[i];
		if (v->vmid != r->s->vmid || !v->allocation_known)
			continue;
		st->evaluated = true;
		st->flagged = v->model.predict < 0;
		if (!v->acts)
			continue;
		struct decision d;
		ref_verdict_decision(v, &r->c->loop, now, &d);
		if (run_apply(r, now, (now - r->s->start_ms) / 1000, &d) != 0)
			return -1;
	}
	return 0;
}

/* On a history: the plan's events up to now, played. */
static int reference_play(struct run *r, int64_t now, struct scorecard_step *st)
{
	struct reference_state *rs = &r->ref;
	while (rs->next_ev < rs->n_ev && rs->ev[rs->next_ev].t_ms <= now) {
		const struct reference_event *e = &rs->ev[rs->next_ev++];
		if (st && e->scored) {
			st->evaluated = true;
			st->flagged = e->predict < 0;
		}
		if (!e->acts)
			continue;
		struct decision d = e->d;
		if (run_apply(r, e->t_ms, elapsed_s_rounded(r->s, e->t_ms), &d) != 0)
			return -1;
	}
	return 0;
}

int replay_run(const struct scenario *s, const struct replay_config *c, FILE *decisions,
               struct scorecard *sc, uint64_t *n_decisions, char *err, size_t errlen)
{
	return replay_run_traced(s, c, decisions, sc, NULL, 0, n_decisions, err, errlen);
}

int replay_run_traced(const struct scenario *s, const struct replay_config *c, FILE *decisions,
                      struct scorecard *sc, struct timeline *tl, size_t max_points,
                      uint64_t *n_decisions, char *err, size_t errlen)
{
	struct run r;
	if (run_open(&r, s, c, decisions, sc, err, errlen) != 0) {
		run_close(&r);
		return -1;
	}
	if (tl && timeline_begin(tl, s->step_ms, s->n_steps, max_points) != 0) {
		errbuf_set(err, errlen, "timeline: out of memory");
		run_close(&r);
		return -1;
	}
	const bool lxcscale = c->policy == REPLAY_LXCSCALE;
	const int64_t sample_every = c->sample_ms > 0 ? c->sample_ms : s->step_ms;
	const int64_t cycle_every = c->cycle_ms > 0 ? c->cycle_ms : sample_every;
	int64_t next_sample = s->start_ms + sample_every, next_cycle = s->start_ms + cycle_every;
	int rc = 0;
	for (size_t i = 0; i < s->n_steps && rc == 0; i++) {
		const int64_t t = s->start_ms + (int64_t)i * s->step_ms;
		const int64_t now = t + s->step_ms;
		struct cm_step cs;
		struct feat_raw raw;
		container_model_step(&r.m, t, s->step_ms, &s->demand[i], &cs, &raw);
		struct scorecard_step st = { .t_ms = t, .dt_ms = s->step_ms, .cm = cs,
		                             .incident = scenario_incident_at(s, t) };
		if (!lxcscale && c->plan) {
			rc = reference_play(&r, now, &st);
		} else {
			if (now >= next_sample) {
				while (next_sample <= now)
					next_sample += sample_every;
				rc = lxcscale ? run_sample(&r, now, &raw, &st) : reference_sample(&r, now, &raw);
			}
			bool have_rows = lxcscale ? features_history_count(r.h) > 0 : r.ref.rows.n_snap > 0;
			if (rc == 0 && now >= next_cycle && have_rows) {
				while (next_cycle <= now)
					next_cycle += cycle_every;
				rc = lxcscale ? run_cycle(&r, now, &st) : reference_cycle(&r, now, &st);
			}
		}
		if (sc)
			scorecard_add_step(sc, &st);
		if (tl)
			timeline_add_step(tl, t - s->start_ms, &cs);
	}
	/* what the plan decided after this container's last whole step is still printed */
	if (rc == 0 && !lxcscale && c->plan)
		rc = reference_play(&r, INT64_MAX, NULL);
	if (sc && scorecard_end_trace(sc) != 0 && rc == 0) {
		errbuf_set(err, errlen, "scorecard: out of memory");
		rc = -1;
	}
	if (n_decisions)
		*n_decisions = r.seq;
	run_close(&r);
	return rc;
}

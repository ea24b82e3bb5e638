/*
 * sim/replay.c — the replay loop: container model → features → model → policy → lag → model.
 *
 * The loop owns no scaling logic: rows and vectors come from features/features.c, scores from the
 * iforest library, decisions from decide/evaluate.c, the daemon's own evaluation. What lives here
 * is where they are fed from (the container model and the trace), decision → new limits, and
 * the two cadences.
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
	policy_params_from_config(cfg, &cfg->scaling, 0, &c->params);
	/* the reference's latest rule (docs/reference-compat.md), nothing more: every cycle
	 * may step, no signal but the thresholds, the anomaly is only logged, a scale-up is
	 * one step */
	c->params.smoothing_factor = 1;
	c->params.cooldown_up_s = 0;
	c->params.cooldown_down_s = 0;
	c->params.urgent_step_factor = 1;
	c->params.psi_cpu_some_ms = 0;
	c->params.psi_cpu_full_ms = 0;
	c->params.psi_memory_some_ms = 0;
	c->params.throttled_ratio = 0;
	c->params.target_cpu_pct = 0;
	c->sample_ms = 60000;  /* lxc_monitor check_interval */
	c->cycle_ms = (int64_t)cfg->interval_seconds * 1000; /* its model loop: 600 s by default */
	c->lag_ms = 2000;      /* POST → pct set hot-plug: about 0.5–2 s (docs/reference-compat.md) */
	c->history = (unsigned)cfg->history_length;
	c->window = (unsigned)cfg->spike_detection.rolling_window;
	c->select.n = FEAT_REFERENCE_COUNT;
	for (unsigned i = 0; i < FEAT_REFERENCE_COUNT; i++)
		c->select.index[i] = (uint8_t)i;
	c->n_trees = cfg->model.n_estimators;
	c->max_samples = cfg->model.max_samples;
	c->contamination = cfg->model.contamination;
	c->seed = (uint64_t)cfg->model.random_state;
	c->retrain_rows = 1000; /* max_metrics_entries */
	config_free(own);
	return 0;
}

/* ---- the model, in the policy's own way ---------------------------------------------- */

struct model_state {
	const struct replay_config *c;
	struct model *daemon;           /* lxcscale: the daemon's model module */
	struct model_ct *ct;
	int64_t next_train_ms;
	double *rows;                   /* reference: ring of retrain_rows × n */
	size_t n_rows, head;
	double *train;                  /* reference: the ring in time order */
	const iforest_model *last;      /* reference: the model of the last cycle */
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
	if (c->policy == REPLAY_LXCSCALE) {
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
	ms->sel = &c->select;
	const size_t n = c->select.n;
	if (n == 0 || n > IFOREST_MAX_FEATURES) {
		errbuf_set(err, errlen, "model: %zu features selected (1..%d)", n, IFOREST_MAX_FEATURES);
		return -1;
	}
	size_t cap = c->retrain_rows ? c->retrain_rows : 1000;
	ms->rows = calloc(cap * n, sizeof *ms->rows);
	ms->train = calloc(cap * n, sizeof *ms->train);
	if (!ms->rows || !ms->train) {
		errbuf_set(err, errlen, "model: out of memory");
		return -1;
	}
	return 0;
}

static void model_state_free(struct model_state *ms)
{
	if (ms->daemon) {
		if (ms->ct)
			model_ct_remove(ms->daemon, ms->ct);
		model_free(ms->daemon);
	}
	iforest_model_free(ms->last);
	free(ms->rows);
	free(ms->train);
}

/* A new vector at a sample: lxcscale scores it at once (training on one sample per
 * train_every_ms, as the daemon); the reference only keeps it for its next cycle. */
static int model_push(struct model_state *ms, int64_t now, const struct feat_vector *v,
                      iforest_result *res, bool *scored, char *err, size_t errlen)
{
	const struct replay_config *c = ms->c;
	const size_t n = ms->sel->n;
	*scored = false;
	ms->x_valid = features_project(v, ms->sel, ms->x);
	if (!ms->x_valid)
		return 0;
	if (c->policy == REPLAY_LXCSCALE) {
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
	size_t cap = c->retrain_rows ? c->retrain_rows : 1000;
	size_t slot = (ms->head + ms->n_rows) % cap;
	if (ms->n_rows == cap) {
		slot = ms->head;
		ms->head = (ms->head + 1) % cap;
	} else {
		ms->n_rows++;
	}
	memcpy(ms->rows + slot * n, ms->x, n * sizeof *ms->x);
	return 0;
}

/* The reference's cycle: retrain from scratch on every kept row, score the newest. */
static int model_cycle(struct model_state *ms, iforest_result *res, bool *scored, char *err,
                       size_t errlen)
{
	const struct replay_config *c = ms->c;
	const size_t n = c->select.n;
	*scored = false;
	if (c->policy != REPLAY_REFERENCE || ms->n_rows < 2 || !ms->x_valid)
		return 0;
	size_t cap = c->retrain_rows ? c->retrain_rows : 1000;
	for (size_t i = 0; i < ms->n_rows; i++)
		memcpy(ms->train + i * n, ms->rows + ((ms->head + i) % cap) * n, n * sizeof *ms->train);
	iforest_params p;
	iforest_params_init(&p);
	p.n_trees = c->n_trees;
	p.max_samples = c->max_samples;
	p.contamination = c->contamination;
	p.seed = c->seed;
	iforest_model *m = NULL;
	int rc = iforest_train(ms->train, ms->n_rows, n, &p, &m);
	if (rc == IFOREST_OK)
		rc = iforest_score(m, ms->x, n, res);
	if (rc != IFOREST_OK) {
		iforest_model_free(m);
		errbuf_set(err, errlen, "model: %s", iforest_strerror(rc));
		return -1;
	}
	iforest_model_free(ms->last);
	ms->last = m;
	*scored = true;
	return 0;
}

/* Which features isolated the current vector, for the decision record. */
static void model_explain_top(struct model_state *ms, struct decision_feature *top)
{
	if (!ms->x_valid)
		return;
	if (ms->daemon) {
		model_explain(ms->daemon, ms->ct, ms->x, top);
		return;
	}
	if (!ms->last)
		return;
	iforest_contrib contrib[DECISION_TOP_FEATURES];
	int k = iforest_explain(ms->last, ms->x, ms->sel->n, contrib, DECISION_TOP_FEATURES);
	for (int i = 0; i < k; i++) {
		const char *name = features_name(ms->sel->index[contrib[i].feature]);
		snprintf(top[i].name, sizeof top[i].name, "%s", name ? name : "?");
		top[i].share = contrib[i].share;
	}
}

static void print_decision(FILE *f, const struct scenario *s, int64_t now, const struct decision *d)
{
	fprintf(f, "%s +%" PRId64 "s vmid=%u cpu=%s:%g->%g mem=%s:%" PRIu64 "->%" PRIu64
	        " reason=%s urgency=%d score=%.4f confidence=%.1f top=%s:%.2f detail=\"%s\"\n",
	        s->name, (now - s->start_ms) / 1000, d->vmid, decision_change_name(d->cpu_change),
	        d->cpu_from, d->cpu_to, decision_change_name(d->mem_change), d->mem_from_mb,
	        d->mem_to_mb, decision_reason_name(d->reason), d->urgency, d->anomaly_score,
	        d->confidence, d->top[0].name[0] ? d->top[0].name : "-", d->top[0].share, d->detail);
}

/* ---- the loop ----------------------------------------------------------------------- */

/* One trace's run: what the daemon keeps per container, fed from the container model. */
struct run {
	const struct scenario *s;
	const struct replay_config *c;
	FILE *decisions;                /* NULL: not printed */
	struct feat_history *h;
	struct model_state ms;
	struct policy_config pc;
	struct policy_state ps;
	struct oom_tracker oom;
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
	if (model_init(&r->ms, c, s->vmid, err, errlen) != 0)
		return -1;
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

/* A decision: numbered, explained, committed, printed, and in force in the container model
 * after the lag. */
static int run_emit(struct run *r, int64_t now, struct decision *d)
{
	d->seq = ++r->seq;
	d->time_ms = now;
	d->dry_run = true;
	model_explain_top(&r->ms, d->top);
	policy_commit(&r->ps, d, now);
	double cpu_to = d->cpu_change != DECISION_NONE ? d->cpu_to : 0;
	double mem_to = d->mem_change != DECISION_NONE ? (double)d->mem_to_mb : 0;
	int rc = 0;
	if (container_model_schedule(&r->m, now + r->c->lag_ms, cpu_to, mem_to) != 0) {
		errbuf_set(r->err, r->errlen, "%s: too many pending limit changes", r->s->name);
		rc = -1;
	}
	if (r->decisions)
		print_decision(r->decisions, r->s, now, d);
	return rc;
}

/* A cycle: the reference retrains and scores; then the daemon's evaluation decides on the
 * newest row with the container model's limits. */
static int run_cycle(struct run *r, int64_t now, struct scorecard_step *st)
{
	if (r->c->policy == REPLAY_REFERENCE) {
		bool scored;
		int rc = model_cycle(&r->ms, &r->res, &scored, r->err, r->errlen);
		r->have_res = scored;
		st->evaluated = scored;
		st->flagged = scored && r->res.predict < 0;
		if (rc != 0)
			return rc;
	}
	const struct alloc limits = { true, true, r->m.cpu_limit_cores, r->m.mem_limit_mb };
	const struct eval_request rq = {
		.vmid = r->s->vmid,
		.now_ms = now,
		.row = features_history_last(r->h),
		.alloc = &limits,
		.oom_kills = oom_tracker_take_raw(&r->oom, features_history_raw(r->h)),
		.score = r->have_res ? &r->res : NULL,
		.view = r->c->policy == REPLAY_LXCSCALE ? EVAL_FULL : EVAL_REFERENCE,
	};
	struct policy_input in;
	struct decision d;
	if (!evaluate(&r->pc, &r->ps, &rq, &in, &d))
		return 0;
	return run_emit(r, now, &d);
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
		if (now >= next_sample) {
			while (next_sample <= now)
				next_sample += sample_every;
			rc = run_sample(&r, now, &raw, &st);
		}
		if (rc == 0 && now >= next_cycle && features_history_count(r.h) > 0) {
			while (next_cycle <= now)
				next_cycle += cycle_every;
			rc = run_cycle(&r, now, &st);
		}
		if (sc)
			scorecard_add_step(sc, &st);
		if (tl)
			timeline_add_step(tl, t - s->start_ms, &cs);
	}
	if (sc && scorecard_end_trace(sc) != 0 && rc == 0) {
		errbuf_set(err, errlen, "scorecard: out of memory");
		rc = -1;
	}
	if (n_decisions)
		*n_decisions = r.seq;
	run_close(&r);
	return rc;
}

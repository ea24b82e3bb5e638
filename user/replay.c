/*
 * replay.c — the replay loop: container model → features → model → policy → lag → model.
 *
 * The loop owns no scaling logic: rows and vectors come from feature.c, scores from the
 * iforest library, decisions from policy.c. What lives here is the wiring the daemon also
 * does (row → policy_input, decision → new limits) and the two cadences.
 */
#include "replay.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "container_model.h"
#include "iforest.h"

static void set_err(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

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

static void copy_scaling(struct policy_params *dst, const struct policy_params *scaling)
{
	dst->cpu_up_pct = scaling->cpu_up_pct;
	dst->cpu_down_pct = scaling->cpu_down_pct;
	dst->ram_up_pct = scaling->ram_up_pct;
	dst->ram_down_pct = scaling->ram_down_pct;
	dst->cpu_step = scaling->cpu_step;
	dst->ram_step_mb = scaling->ram_step_mb;
	dst->min_cores = scaling->min_cores;
	dst->max_cores = scaling->max_cores;
	dst->min_ram_mb = scaling->min_ram_mb;
	dst->max_ram_mb = scaling->max_ram_mb;
	dst->min_confidence = scaling->min_confidence;
}

void replay_config_lxcscale(struct replay_config *c, const struct policy_params *scaling)
{
	memset(c, 0, sizeof *c);
	c->policy = REPLAY_LXCSCALE;
	if (scaling)
		c->params = *scaling;
	else
		policy_params_default(&c->params);
	c->sample_ms = 0;
	c->cycle_ms = 0;
	c->lag_ms = 0; /* written to cgroup files at once: in force from the next tick */
	c->history = 64;
	c->window = 5;
	features_select_default(&c->select);
	c->n_trees = 100;
	c->max_samples = 0;
	c->contamination = 0.05;
	c->seed = 42;
	c->stream_window = 4096;
	c->stream_warmup = 256;
}

void replay_config_reference(struct replay_config *c, const struct policy_params *scaling)
{
	memset(c, 0, sizeof *c);
	c->policy = REPLAY_REFERENCE;
	policy_params_default(&c->params);
	if (scaling)
		copy_scaling(&c->params, scaling);
	/* the latest rule of §4.5, nothing more: every cycle may step, no signal but the
	 * thresholds, the anomaly is only logged */
	c->params.smoothing_factor = 1;
	c->params.cooldown_up_s = 0;
	c->params.cooldown_down_s = 0;
	c->params.urgent_step_factor = 1;
	c->params.psi_cpu_some_ms = 0;
	c->params.psi_cpu_full_ms = 0;
	c->params.psi_memory_some_ms = 0;
	c->params.throttled_ratio = 0;
	c->sample_ms = 60000;  /* lxc_monitor check_interval */
	c->cycle_ms = 600000;  /* interval_seconds */
	c->lag_ms = 2000;      /* POST → pct set hot-plug (A.6: about 0.5–2 s) */
	c->history = 64;
	c->window = 5;
	c->select.n = FEAT_REFERENCE_COUNT;
	for (unsigned i = 0; i < FEAT_REFERENCE_COUNT; i++)
		c->select.index[i] = (uint8_t)i;
	c->n_trees = 100;
	c->max_samples = 64;
	c->contamination = 0.05;
	c->seed = 42;
	c->retrain_rows = 1000; /* max_metrics_entries */
}

/* ---- the model, in the policy's own way ---------------------------------------------- */

struct model_state {
	const struct replay_config *c;
	iforest_stream *stream;         /* lxcscale */
	double *rows;                   /* reference: ring of retrain_rows × n */
	size_t n_rows, head;
	double *train;                  /* reference: the ring in time order */
	const iforest_model *last;      /* reference: the model of the last cycle */
	double x[FEAT_COUNT];
	bool x_valid;
};

static int model_init(struct model_state *ms, const struct replay_config *c, char *err, size_t errlen)
{
	memset(ms, 0, sizeof *ms);
	ms->c = c;
	const size_t n = c->select.n;
	if (n == 0 || n > IFOREST_MAX_FEATURES) {
		set_err(err, errlen, "model: %zu features selected (1..%d)", n, IFOREST_MAX_FEATURES);
		return -1;
	}
	if (c->policy == REPLAY_LXCSCALE) {
		iforest_stream_params sp;
		iforest_stream_params_init(&sp);
		sp.forest.n_trees = c->n_trees;
		sp.forest.max_samples = c->max_samples;
		sp.forest.contamination = c->contamination;
		sp.forest.seed = c->seed;
		if (c->stream_window > 0)
			sp.window = c->stream_window;
		if (c->stream_warmup > 0)
			sp.warmup = c->stream_warmup;
		sp.exclude_anomalies = 1;
		int rc = iforest_stream_create(&sp, n, &ms->stream);
		if (rc != IFOREST_OK) {
			set_err(err, errlen, "model: %s", iforest_strerror(rc));
			return -1;
		}
		return 0;
	}
	size_t cap = c->retrain_rows ? c->retrain_rows : 1000;
	ms->rows = calloc(cap * n, sizeof *ms->rows);
	ms->train = calloc(cap * n, sizeof *ms->train);
	if (!ms->rows || !ms->train) {
		set_err(err, errlen, "model: out of memory");
		return -1;
	}
	return 0;
}

static void model_free(struct model_state *ms)
{
	if (ms->stream)
		iforest_stream_free(ms->stream);
	iforest_model_free(ms->last);
	free(ms->rows);
	free(ms->train);
}

/* A new vector at a sample: lxcscale scores it at once; the reference only keeps it. */
static int model_push(struct model_state *ms, const struct feat_vector *v, iforest_result *res,
                      bool *scored, char *err, size_t errlen)
{
	const struct replay_config *c = ms->c;
	const size_t n = c->select.n;
	*scored = false;
	ms->x_valid = features_project(v, &c->select, ms->x);
	if (!ms->x_valid)
		return 0;
	if (c->policy == REPLAY_LXCSCALE) {
		int rc = iforest_stream_push(ms->stream, ms->x, n, res);
		if (rc < 0) {
			set_err(err, errlen, "model: %s", iforest_strerror(rc));
			return -1;
		}
		*scored = rc & IFOREST_PUSH_SCORED;
		rc = iforest_stream_maybe_rebuild(ms->stream); /* in line: replay is single-threaded */
		if (rc < 0) {
			set_err(err, errlen, "model rebuild: %s", iforest_strerror(rc));
			return -1;
		}
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
		set_err(err, errlen, "model: %s", iforest_strerror(rc));
		return -1;
	}
	iforest_model_free(ms->last);
	ms->last = m;
	*scored = true;
	return 0;
}

/* Which features isolated the current vector, for the decision record. */
static void model_explain(struct model_state *ms, struct decision_feature *top)
{
	const struct replay_config *c = ms->c;
	const iforest_model *m = ms->stream ? iforest_stream_acquire(ms->stream) : ms->last;
	if (!m || !ms->x_valid) {
		if (ms->stream && m)
			iforest_stream_release(ms->stream, m);
		return;
	}
	iforest_contrib contrib[DECISION_TOP_FEATURES];
	int k = iforest_explain(m, ms->x, c->select.n, contrib, DECISION_TOP_FEATURES);
	for (int i = 0; i < k; i++) {
		const char *name = features_name(c->select.index[contrib[i].feature]);
		snprintf(top[i].name, sizeof top[i].name, "%s", name ? name : "?");
		top[i].share = contrib[i].share;
	}
	if (ms->stream)
		iforest_stream_release(ms->stream, m);
}

/* ---- one row → the policy's input ----------------------------------------------------- */

static bool col(const struct feat_row *r, enum feat_col c, double *v)
{
	if (!(r->known & COL_BIT(c)))
		return false;
	*v = r->v[c];
	return true;
}

static void build_input(const struct replay_config *c, uint32_t vmid, int64_t now,
                        const struct container_model *m, const struct feat_row *row,
                        bool scored, const iforest_result *res, struct policy_input *in)
{
	memset(in, 0, sizeof *in);
	in->vmid = vmid;
	in->now_ms = now;
	in->cores_known = true;
	in->cores = m->cpu_limit_cores;
	in->ram_known = true;
	in->ram_mb = m->mem_limit_mb;
	in->cpu_known = col(row, COL_CPU, &in->cpu_pct);
	in->mem_known = col(row, COL_MEM, &in->mem_mb);
	if (c->policy == REPLAY_LXCSCALE) {
		in->psi_known = col(row, COL_PSI_CPU_SOME, &in->cpu_some_ms) &&
		                col(row, COL_PSI_CPU_FULL, &in->cpu_full_ms) &&
		                col(row, COL_PSI_MEM_SOME, &in->mem_some_ms);
		in->throttle_known = col(row, COL_THROTTLED, &in->throttled_ratio);
		double oom;
		if (col(row, COL_OOM, &oom) && oom > 0)
			in->oom_kills = (uint64_t)oom;
	}
	/* the reference's monitor never saw pressure, throttling or OOM kills */
	if (scored) {
		in->model_known = true;
		in->anomaly_score = res->score;
		in->confidence = res->confidence;
		/* the reference only logs an anomaly; lxcscale lets it raise urgency */
		in->anomaly = c->policy == REPLAY_LXCSCALE && res->predict < 0;
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

int replay_run(const struct scenario *s, const struct replay_config *c, FILE *decisions,
               struct scorecard *sc, uint64_t *n_decisions, char *err, size_t errlen)
{
	if (s->step_ms <= 0 || s->n_steps == 0) {
		set_err(err, errlen, "%s: empty trace", s->name);
		return -1;
	}
	char why[256];
	if (policy_params_validate(&c->params, why, sizeof why) != 0) {
		set_err(err, errlen, "policy: %s", why);
		return -1;
	}
	struct feat_history *h = features_history_new(c->history, c->window);
	if (!h) {
		set_err(err, errlen, "features: bad history %u / window %u", c->history, c->window);
		return -1;
	}
	struct model_state ms;
	if (model_init(&ms, c, err, errlen) != 0) {
		model_free(&ms);
		features_history_free(h);
		return -1;
	}
	struct policy_config pc = { .defaults = c->params };
	struct policy_state ps;
	policy_state_init(&ps);
	struct container_model m;
	container_model_init(&m, s->vmid, &s->params, s->init_cpu_cores, s->init_mem_mb);
	if (sc && scorecard_begin_trace(sc, s->incidents, s->n_incidents, s->init_cpu_cores,
	                                s->init_mem_mb, &s->params) != 0) {
		set_err(err, errlen, "scorecard: out of memory");
		model_free(&ms);
		features_history_free(h);
		return -1;
	}

	const int64_t sample_every = c->sample_ms > 0 ? c->sample_ms : s->step_ms;
	const int64_t cycle_every = c->cycle_ms > 0 ? c->cycle_ms : sample_every;
	int64_t next_sample = s->start_ms + sample_every, next_cycle = s->start_ms + cycle_every;
	uint64_t seq = 0;
	int rc = 0;
	iforest_result res = { 0 };
	bool have_res = false;

	for (size_t i = 0; i < s->n_steps && rc == 0; i++) {
		const int64_t t = s->start_ms + (int64_t)i * s->step_ms;
		const int64_t now = t + s->step_ms;
		struct cm_step cs;
		struct feat_raw raw;
		container_model_step(&m, t, s->step_ms, &s->demand[i], &cs, &raw);

		struct scorecard_step st = { .t_ms = t, .dt_ms = s->step_ms, .cm = cs,
		                             .incident = scenario_incident_at(s, t) };
		if (now >= next_sample) {
			while (next_sample <= now)
				next_sample += sample_every;
			if (features_feed_raw(h, &raw)) {
				struct feat_vector v;
				features_compute(h, &v);
				bool scored;
				rc = model_push(&ms, &v, &res, &scored, err, errlen);
				if (scored) {
					have_res = true;
					st.evaluated = true;
					st.flagged = res.predict < 0;
				}
			}
		}
		if (rc == 0 && now >= next_cycle && features_history_count(h) > 0) {
			while (next_cycle <= now)
				next_cycle += cycle_every;
			if (c->policy == REPLAY_REFERENCE) {
				bool scored;
				rc = model_cycle(&ms, &res, &scored, err, errlen);
				have_res = scored;
				st.evaluated = scored;
				st.flagged = scored && res.predict < 0;
			}
			struct policy_input in;
			build_input(c, s->vmid, now, &m, features_history_last(h), have_res && rc == 0, &res, &in);
			struct decision d;
			if (rc == 0 && policy_evaluate(&pc, &ps, &in, &d)) {
				d.seq = ++seq;
				d.time_ms = now;
				d.dry_run = true;
				model_explain(&ms, d.top);
				policy_commit(&ps, &d, now);
				double cpu_to = d.cpu_change != DECISION_NONE ? d.cpu_to : 0;
				double mem_to = d.mem_change != DECISION_NONE ? (double)d.mem_to_mb : 0;
				if (container_model_schedule(&m, now + c->lag_ms, cpu_to, mem_to) != 0) {
					set_err(err, errlen, "%s: too many pending limit changes", s->name);
					rc = -1;
				}
				if (decisions)
					print_decision(decisions, s, now, &d);
			}
		}
		if (sc)
			scorecard_add_step(sc, &st);
	}
	if (sc && scorecard_end_trace(sc) != 0 && rc == 0) {
		set_err(err, errlen, "scorecard: out of memory");
		rc = -1;
	}
	if (n_decisions)
		*n_decisions = seq;
	model_free(&ms);
	features_history_free(h);
	return rc;
}

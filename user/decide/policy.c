/*
 * decide/policy.c — the scaling rules (design and the list of rules in decide/policy.h).
 *
 * One evaluation is: smooth the signals, work out per resource whether the container wants
 * more (threshold, pressure, OOM) or less (sustained low usage), apply urgency, cooldowns,
 * clamps and the confidence gate, and describe the result in one decision record. The
 * budget is a second, separate step because it needs every container's wish at once.
 */
#include "decide/policy.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters -------------------------------------------------------------------------- */

void policy_params_default(struct policy_params *p)
{
	*p = (struct policy_params){
		.cpu_up_pct = 75, .cpu_down_pct = 30,
		.ram_up_pct = 75, .ram_down_pct = 30,
		.cpu_step = 1, .ram_step_mb = 512,
		.min_cores = 2, .max_cores = 4,
		.min_ram_mb = 1024, .max_ram_mb = 8192,
		.min_confidence = 0,
		.smoothing_factor = 1,
		.cooldown_up_s = 10, .cooldown_down_s = 300,
		.urgent_step_factor = 2,
		.psi_cpu_some_ms = 100, .psi_cpu_full_ms = 50,
		.psi_memory_some_ms = 10,
		.throttled_ratio = 0.2,
		.priority = 0,
	};
}

struct param_key {
	const char *name;
	size_t offset;
	double min, max;
	bool min_exclusive;
};

#define PK(n, field, lo, hi, excl) { n, offsetof(struct policy_params, field), lo, hi, excl }
static const struct param_key param_table[] = {
	PK("cpu_scale_up_threshold", cpu_up_pct, 0, 100, false),
	PK("cpu_scale_down_threshold", cpu_down_pct, 0, 100, false),
	PK("ram_scale_up_threshold", ram_up_pct, 0, 100, false),
	PK("ram_scale_down_threshold", ram_down_pct, 0, 100, false),
	PK("cpu_scale_step", cpu_step, 0, 8192, true),
	PK("ram_scale_step_mb", ram_step_mb, 0, 16777216, true),
	PK("min_cpu_cores", min_cores, 0, 8192, true),
	PK("max_cpu_cores", max_cores, 0, 8192, true),
	PK("min_ram_mb", min_ram_mb, 16, 16777216, false),
	PK("max_ram_mb", max_ram_mb, 16, 16777216, false),
	PK("min_confidence", min_confidence, 0, 100, false),
	PK("smoothing_factor", smoothing_factor, 0, 1, true),
	PK("cooldown_up", cooldown_up_s, 0, 86400, false),
	PK("cooldown_down", cooldown_down_s, 0, 7 * 86400, false),
	PK("urgent_step_factor", urgent_step_factor, 1, 64, false),
	PK("psi_cpu_some_ms", psi_cpu_some_ms, 0, 1000, false),
	PK("psi_cpu_full_ms", psi_cpu_full_ms, 0, 1000, false),
	PK("psi_memory_some_ms", psi_memory_some_ms, 0, 1000, false),
	PK("throttled_ratio", throttled_ratio, 0, 1, false),
	PK("priority", priority, -1000000, 1000000, false),
	PK("target_cpu_load_percent", target_cpu_pct, 0, 100, false),
};
#define N_PARAMS (sizeof(param_table) / sizeof(param_table[0]))

const char *const policy_param_keys[] = {
	"cpu_scale_up_threshold", "cpu_scale_down_threshold", "ram_scale_up_threshold",
	"ram_scale_down_threshold", "cpu_scale_step", "ram_scale_step_mb", "min_cpu_cores",
	"max_cpu_cores", "min_ram_mb", "max_ram_mb", "min_confidence", "smoothing_factor",
	"cooldown_up", "cooldown_down", "urgent_step_factor", "psi_cpu_some_ms", "psi_cpu_full_ms",
	"psi_memory_some_ms", "throttled_ratio", "priority", "target_cpu_load_percent", NULL,
};

int policy_params_set(struct policy_params *p, const char *key, double value, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_PARAMS; i++) {
		const struct param_key *k = &param_table[i];
		if (!key || strcmp(k->name, key) != 0)
			continue;
		if (!isfinite(value) || value > k->max || value < k->min ||
		    (k->min_exclusive && value == k->min)) {
			if (err && errlen)
				snprintf(err, errlen, "%s: %g is outside %s%g..%g]", key, value,
					 k->min_exclusive ? "(" : "[", k->min, k->max);
			return -1;
		}
		*(double *)((char *)p + k->offset) = value;
		return 0;
	}
	if (err && errlen)
		snprintf(err, errlen, "unknown scaling key \"%s\"", key ? key : "(null)");
	return -1;
}

int policy_params_validate(const struct policy_params *p, char *err, size_t errlen)
{
	const char *why = NULL;
	if (p->cpu_down_pct >= p->cpu_up_pct)
		why = "cpu_scale_down_threshold must be below cpu_scale_up_threshold";
	else if (p->ram_down_pct >= p->ram_up_pct)
		why = "ram_scale_down_threshold must be below ram_scale_up_threshold";
	else if (p->min_cores > p->max_cores)
		why = "min_cpu_cores must not exceed max_cpu_cores";
	else if (p->min_ram_mb > p->max_ram_mb)
		why = "min_ram_mb must not exceed max_ram_mb";
	else if (p->cpu_step <= 0 || p->ram_step_mb <= 0)
		why = "scale steps must be positive";
	else if (!(p->smoothing_factor > 0 && p->smoothing_factor <= 1))
		why = "smoothing_factor must be in (0, 1]";
	if (why && err && errlen)
		snprintf(err, errlen, "%s", why);
	return why ? -1 : 0;
}

/* ---- configuration lookups ---------------------------------------------------------------- */

bool policy_ignored(const struct policy_config *c, uint32_t vmid)
{
	for (size_t i = 0; i < c->n_ignore; i++)
		if (c->ignore[i] == vmid)
			return true;
	return false;
}

const struct policy_params *policy_params_for(const struct policy_config *c, uint32_t vmid)
{
	for (size_t t = 0; t < c->n_tiers; t++)
		for (size_t i = 0; i < c->tiers[t].n_vmids; i++)
			if (c->tiers[t].vmids[i] == vmid)
				return &c->tiers[t].params;
	return &c->defaults;
}

/* ---- evaluation ---------------------------------------------------------------------------- */

void policy_state_init(struct policy_state *s)
{
	s->primed = false;
	s->cpu_pct = s->mem_mb = NAN;
	s->cpu_some_ms = s->cpu_full_ms = s->mem_some_ms = s->throttled = NAN;
	s->last_change_ms = INT64_MIN;
	s->cpu_low_since_ms = s->mem_low_since_ms = -1;
}

static double ewma(double *acc, double x, double alpha)
{
	*acc = isnan(*acc) ? x : alpha * x + (1 - alpha) * *acc;
	return *acc;
}

/* A pressure reading counts at once (max of the newest and the smoothed value): an
 * instant PSI burst must not be diluted, a sustained one must survive a quiet sample. */
static bool over(double raw, double smoothed, double threshold)
{
	if (threshold <= 0) /* 0 disables the signal */
		return false;
	return (raw > smoothed ? raw : smoothed) >= threshold;
}

static int reason_rank(enum decision_reason r)
{
	switch (r) {
	case REASON_OOM: return 4;
	case REASON_ANOMALY: return 3;
	case REASON_PSI: return 2;
	case REASON_THRESHOLD: return 1;
	default: return 0;
	}
}

struct wish {
	enum decision_change change;
	enum decision_reason reason;
	int urgency;
	double to;
};

static bool since(int64_t now, int64_t then, double seconds)
{
	return then == INT64_MIN || (double)(now - then) >= seconds * 1000.0;
}

/* The shared shape of both resources: up (threshold or pressure) or down (sustained low). */
static struct wish decide_resource(const struct policy_params *p, const struct policy_state *s,
				   int64_t now, double cur, double lo, double hi, double step,
				   bool pct_known, double pct, double up_pct, double down_pct,
				   bool pressure, bool oom, bool anomaly, int64_t low_since, bool whole)
{
	struct wish w = { DECISION_NONE, REASON_THRESHOLD, 0, cur };
	bool above = pct_known && pct > up_pct;
	if (oom || above || pressure) {
		if (oom) {
			w.reason = REASON_OOM;
			w.urgency = 2;
		} else if (anomaly && pressure) {
			w.reason = REASON_ANOMALY;
			w.urgency = 2;
		} else if (above) {
			w.reason = REASON_THRESHOLD;
			w.urgency = pressure ? 1 : 0;
		} else {
			w.reason = REASON_PSI;
			w.urgency = 1;
		}
		if (w.urgency < 2 && !since(now, s->last_change_ms, p->cooldown_up_s))
			return w;
		double to = cur + step * (w.urgency >= 2 ? p->urgent_step_factor : 1);
		if (to > hi)
			to = hi;
		if (whole)
			to = floor(to + 1e-9);
		if (to > cur) {
			w.change = DECISION_UP;
			w.to = to;
		}
		return w;
	}
	bool low = pct_known && pct < down_pct && !anomaly;
	if (low && low_since >= 0 && (double)(now - low_since) >= p->cooldown_down_s * 1000.0 &&
	    since(now, s->last_change_ms, p->cooldown_down_s)) {
		double to = cur - step;
		if (to < lo)
			to = lo;
		if (whole)
			to = ceil(to - 1e-9);
		if (to < cur) {
			w.change = DECISION_DOWN;
			w.to = to;
		}
	}
	return w;
}

static void detail_append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void detail_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

bool policy_evaluate(const struct policy_config *c, struct policy_state *s,
		     const struct policy_input *in, struct decision *out)
{
	const struct policy_params *p = in->params ? in->params : policy_params_for(c, in->vmid);
	const double a = p->smoothing_factor;
	const int64_t now = in->now_ms;

	memset(out, 0, sizeof(*out));
	out->vmid = in->vmid;
	out->cpu_from = out->cpu_to = in->cores_known ? in->cores : 0;
	out->mem_from_mb = out->mem_to_mb = in->ram_known ? (uint64_t)llround(in->ram_mb) : 0;
	out->reason = REASON_THRESHOLD;
	out->confidence = in->model_known ? in->confidence : 0;
	out->anomaly_score = in->model_known ? in->anomaly_score : 0;
	out->anomaly = in->model_known && in->anomaly;
	out->priority = (int)p->priority;
	out->persist = true;
	memcpy(out->top, in->top, sizeof(out->top));

	/* Smoothed signals. Memory is smoothed in MiB, so a new limit shows at once. */
	double cpu_pct = in->cpu_known ? ewma(&s->cpu_pct, in->cpu_pct, a) : NAN;
	double mem_mb = in->mem_known ? ewma(&s->mem_mb, in->mem_mb, a) : NAN;
	bool mem_pct_known = in->mem_known && in->ram_known && in->ram_mb > 0;
	double mem_pct = mem_pct_known ? mem_mb / in->ram_mb * 100.0 : NAN;
	if (in->psi_known) {
		ewma(&s->cpu_some_ms, in->cpu_some_ms, a);
		ewma(&s->cpu_full_ms, in->cpu_full_ms, a);
		ewma(&s->mem_some_ms, in->mem_some_ms, a);
	}
	if (in->throttle_known)
		ewma(&s->throttled, in->throttled_ratio, a);
	s->primed = true;

	out->cpu_pct = in->cpu_known ? cpu_pct : 0;
	out->mem_pct = mem_pct_known ? mem_pct : 0;
	out->cpu_psi_some_ms = in->psi_known ? in->cpu_some_ms : 0;
	out->mem_psi_some_ms = in->psi_known ? in->mem_some_ms : 0;

	if (in->ignored || policy_ignored(c, in->vmid))
		return false;

	/* Pressure: held back by its own limit (see decide/policy.h). Stalls alone are not enough:
	 * a cgroup's CPU `some` and even `full` also count time lost to neighbours, which more
	 * quota would not give back; with the container using its allocation they are its own. */
	bool cpu_saturated = in->cpu_known && cpu_pct >= p->cpu_up_pct;
	bool cpu_pressure =
		(in->throttle_known && over(in->throttled_ratio, s->throttled, p->throttled_ratio)) ||
		(in->psi_known && cpu_saturated &&
		 (over(in->cpu_some_ms, s->cpu_some_ms, p->psi_cpu_some_ms) ||
		  over(in->cpu_full_ms, s->cpu_full_ms, p->psi_cpu_full_ms)));
	bool mem_pressure = in->psi_known && over(in->mem_some_ms, s->mem_some_ms, p->psi_memory_some_ms);
	bool oom = in->oom_kills > 0;

	/* Low-usage streaks for the sustained-quiet rule. */
	bool cpu_low = in->cpu_known && cpu_pct < p->cpu_down_pct && !cpu_pressure;
	bool mem_low = mem_pct_known && mem_pct < p->ram_down_pct && !mem_pressure && !oom;
	s->cpu_low_since_ms = cpu_low ? (s->cpu_low_since_ms < 0 ? now : s->cpu_low_since_ms) : -1;
	s->mem_low_since_ms = mem_low ? (s->mem_low_since_ms < 0 ? now : s->mem_low_since_ms) : -1;

	struct wish cw = { DECISION_NONE, REASON_THRESHOLD, 0, 0 }, mw = cw;
	if (in->cores_known && in->cores > 0)
		cw = decide_resource(p, s, now, in->cores, p->min_cores, p->max_cores, p->cpu_step,
				     in->cpu_known, cpu_pct, p->cpu_up_pct, p->cpu_down_pct,
				     cpu_pressure, false, out->anomaly, s->cpu_low_since_ms, false);
	if (in->ram_known && in->ram_mb > 0)
		mw = decide_resource(p, s, now, in->ram_mb, p->min_ram_mb, p->max_ram_mb, p->ram_step_mb,
				     mem_pct_known, mem_pct, p->ram_up_pct, p->ram_down_pct,
				     mem_pressure, oom, out->anomaly, s->mem_low_since_ms, true);

	/* Sized scale-up: enough cores that the current load would sit at the target. */
	if (cw.change == DECISION_UP && p->target_cpu_pct > 0 && in->cpu_known) {
		double want = ceil(in->cores * cpu_pct / p->target_cpu_pct - 1e-9);
		if (want > p->max_cores)
			want = p->max_cores;
		if (want > cw.to)
			cw.to = want;
	}

	/* The reference's gate: threshold decisions need the model's confidence. */
	double conf = out->confidence;
	if (cw.change != DECISION_NONE && cw.reason == REASON_THRESHOLD && conf < p->min_confidence)
		cw.change = DECISION_NONE;
	if (mw.change != DECISION_NONE && mw.reason == REASON_THRESHOLD && conf < p->min_confidence)
		mw.change = DECISION_NONE;

	if (cw.change != DECISION_NONE) {
		out->cpu_change = cw.change;
		out->cpu_to = cw.to;
		char why[64];
		if (cw.change == DECISION_DOWN || cw.reason == REASON_THRESHOLD)
			snprintf(why, sizeof(why), "%.1f%% %s %.0f%%", in->cpu_known ? cpu_pct : 0.0,
				 cw.change == DECISION_UP ? ">" : "<",
				 cw.change == DECISION_UP ? p->cpu_up_pct : p->cpu_down_pct);
		else
			snprintf(why, sizeof(why), "%.1f%%, throttled %.2f, stall %.0f ms/s",
				 in->cpu_known ? cpu_pct : 0.0, in->throttle_known ? in->throttled_ratio : 0.0,
				 in->psi_known ? in->cpu_some_ms : 0.0);
		detail_append(out->detail, sizeof(out->detail), "cpu %s%s%s %g->%g", why,
			      cpu_pressure && cw.change == DECISION_UP ? " +pressure" : "",
			      cw.reason == REASON_ANOMALY ? " +anomaly" : "", in->cores, cw.to);
	}
	if (mw.change != DECISION_NONE) {
		out->mem_change = mw.change;
		out->mem_to_mb = (uint64_t)llround(mw.to);
		char why[64];
		if (mw.change == DECISION_DOWN || mw.reason == REASON_THRESHOLD)
			snprintf(why, sizeof(why), "%.1f%% %s %.0f%%", mem_pct_known ? mem_pct : 0.0,
				 mw.change == DECISION_UP ? ">" : "<",
				 mw.change == DECISION_UP ? p->ram_up_pct : p->ram_down_pct);
		else
			snprintf(why, sizeof(why), "%.1f%%, stall %.0f ms/s", mem_pct_known ? mem_pct : 0.0,
				 in->psi_known ? in->mem_some_ms : 0.0);
		detail_append(out->detail, sizeof(out->detail), "%sram %s%s%s%s %llu->%llu",
			      out->detail[0] ? "; " : "", why,
			      mem_pressure && mw.change == DECISION_UP ? " +pressure" : "",
			      mw.reason == REASON_ANOMALY ? " +anomaly" : "", oom ? " +oom" : "",
			      (unsigned long long)out->mem_from_mb, (unsigned long long)out->mem_to_mb);
	}
	if (out->cpu_change == DECISION_NONE && out->mem_change == DECISION_NONE)
		return false;

	const struct wish *w1 = out->cpu_change != DECISION_NONE ? &cw : NULL;
	const struct wish *w2 = out->mem_change != DECISION_NONE ? &mw : NULL;
	const struct wish *top = !w1 ? w2 : !w2 ? w1 : reason_rank(w2->reason) > reason_rank(w1->reason) ? w2 : w1;
	out->reason = top->reason;
	out->urgency = (w1 && w1->urgency > out->urgency) ? w1->urgency : out->urgency;
	out->urgency = (w2 && w2->urgency > out->urgency) ? w2->urgency : out->urgency;
	return true;
}

void policy_commit(struct policy_state *s, const struct decision *d, int64_t now_ms)
{
	if (d->cpu_change != DECISION_NONE || d->mem_change != DECISION_NONE)
		s->last_change_ms = now_ms;
}

/* ---- budget -------------------------------------------------------------------------------- */

void policy_budget_init(struct policy_budget *b, double cfg_total_cores, double cfg_total_ram_mb,
			double host_cpus, double host_ram_mb, double reserve_cores,
			double reserve_ram_mb)
{
	memset(b, 0, sizeof(*b));
	b->cores_total = cfg_total_cores > 0 ? cfg_total_cores : host_cpus - reserve_cores;
	b->ram_total_mb = cfg_total_ram_mb > 0 ? cfg_total_ram_mb : host_ram_mb - reserve_ram_mb;
	if (b->cores_total < 0)
		b->cores_total = 0;
	if (b->ram_total_mb < 0)
		b->ram_total_mb = 0;
}

void policy_budget_account(struct policy_budget *b, bool cores_known, double cores,
			   bool ram_known, double ram_mb)
{
	if (cores_known)
		b->cores_used += cores;
	if (ram_known)
		b->ram_used_mb += ram_mb;
}

/* A manual SET counts as the increase or decrease it is. */
static bool cpu_grows(const struct decision *d)
{
	return (d->cpu_change == DECISION_UP || d->cpu_change == DECISION_SET) && d->cpu_to > d->cpu_from;
}
static bool cpu_shrinks(const struct decision *d)
{
	return (d->cpu_change == DECISION_DOWN || d->cpu_change == DECISION_SET) && d->cpu_to < d->cpu_from;
}
static bool mem_grows(const struct decision *d)
{
	return (d->mem_change == DECISION_UP || d->mem_change == DECISION_SET) && d->mem_to_mb > d->mem_from_mb;
}
static bool mem_shrinks(const struct decision *d)
{
	return (d->mem_change == DECISION_DOWN || d->mem_change == DECISION_SET) && d->mem_to_mb < d->mem_from_mb;
}

static void grant_decreases(struct policy_budget *b, const struct decision *d)
{
	if (cpu_shrinks(d))
		b->cores_used -= d->cpu_from - d->cpu_to;
	if (mem_shrinks(d))
		b->ram_used_mb -= (double)(d->mem_from_mb - d->mem_to_mb);
}

static void grant_increases(struct policy_budget *b, struct decision *d)
{
	if (cpu_grows(d) && b->cores_total > 0) {
		double want = d->cpu_to - d->cpu_from, left = b->cores_total - b->cores_used;
		double got = want <= left ? want : floor(left);
		if (got < 1 && got < want)
			got = 0;
		if (got <= 0) {
			d->cpu_change = DECISION_NONE;
			d->cpu_to = d->cpu_from;
		} else {
			d->cpu_to = d->cpu_from + got;
		}
		b->cores_used += got > 0 ? got : 0;
		if (got < want)
			detail_append(d->detail, sizeof(d->detail), " (budget: %g of %g cores)", got, want);
	}
	if (mem_grows(d) && b->ram_total_mb > 0) {
		double want = (double)(d->mem_to_mb - d->mem_from_mb), left = b->ram_total_mb - b->ram_used_mb;
		double got = want <= left ? want : floor(left);
		if (got <= 0) {
			d->mem_change = DECISION_NONE;
			d->mem_to_mb = d->mem_from_mb;
			got = 0;
		} else {
			d->mem_to_mb = d->mem_from_mb + (uint64_t)got;
		}
		b->ram_used_mb += got;
		if (got < want)
			detail_append(d->detail, sizeof(d->detail), " (budget: %g of %g MiB)", got, want);
	}
}

bool policy_grant(struct policy_budget *b, struct decision *d)
{
	grant_decreases(b, d);
	grant_increases(b, d);
	return d->cpu_change != DECISION_NONE || d->mem_change != DECISION_NONE;
}

static int by_urgency_priority(const void *x, const void *y)
{
	const struct decision *a = x, *b = y;
	if (a->urgency != b->urgency)
		return a->urgency > b->urgency ? -1 : 1;
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	return a->vmid < b->vmid ? -1 : a->vmid > b->vmid;
}

size_t policy_grant_all(struct policy_budget *b, struct decision *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		grant_decreases(b, &d[i]);
	qsort(d, n, sizeof(*d), by_urgency_priority);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		grant_increases(b, &d[i]);
		if (d[i].cpu_change != DECISION_NONE || d[i].mem_change != DECISION_NONE) {
			if (kept != i) { /* swap: the refused ones collect at the end */
				struct decision t = d[kept];
				d[kept] = d[i];
				d[i] = t;
			}
			kept++;
		}
	}
	return kept;
}

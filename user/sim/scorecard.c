/*
 * sim/scorecard.c — the arithmetic behind the figures described in sim/scorecard.h.
 *
 * Everything is accumulated in step time (dt), so traces on different step lengths and
 * policies on different cadences are scored by the same clock.
 */
#include "sim/scorecard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scorecard_params_default(struct scorecard_params *p)
{
	p->starve_share = 0.05;
	p->detect_grace_ms = 600000;
}

void scorecard_init(struct scorecard *sc, const struct scorecard_params *p)
{
	memset(sc, 0, sizeof *sc);
	if (p)
		sc->p = *p;
	else
		scorecard_params_default(&sc->p);
}

void scorecard_free(struct scorecard *sc)
{
	free(sc->ttr_s);
	free(sc->st);
	sc->ttr_s = NULL;
	sc->st = NULL;
}

static int push_ttr(struct scorecard *sc, double v)
{
	if (sc->n_ttr == sc->cap_ttr) {
		size_t cap = sc->cap_ttr ? sc->cap_ttr * 2 : 64;
		double *p = realloc(sc->ttr_s, cap * sizeof *p);
		if (!p)
			return -1;
		sc->ttr_s = p;
		sc->cap_ttr = cap;
	}
	sc->ttr_s[sc->n_ttr++] = v;
	return 0;
}

int scorecard_begin_trace(struct scorecard *sc, const struct scenario_incident *inc, size_t n_inc,
                          double init_cpu_cores, double init_mem_mb, const struct cm_params *cm)
{
	free(sc->st);
	sc->st = calloc(n_inc ? n_inc : 1, sizeof *sc->st);
	if (!sc->st)
		return -1;
	sc->inc = inc;
	sc->n_inc = n_inc;
	sc->init_cpu = init_cpu_cores;
	sc->init_mem = init_mem_mb;
	sc->cmp = *cm;
	for (size_t i = 0; i < n_inc; i++) {
		sc->st[i].relievable = inc[i].relievable;
		sc->st[i].onset_ms = -1;
		sc->st[i].relief_ms = -1;
	}
	return 0;
}

static double cpu_starve_share(double demand, double limit)
{
	return demand > limit && demand > 0 ? (demand - limit) / demand : 0.0;
}

static double mem_stall_share(double demand, double limit, double swap)
{
	double high = cm_mem_high_mb(limit);
	if (demand > limit + swap)
		return 1.0;
	if (demand <= high)
		return 0.0;
	double band = limit + swap - high;
	return band > 0 ? (demand - high) / band : 1.0;
}

static bool in_any_window(const struct scorecard *sc, int64_t t)
{
	for (size_t i = 0; i < sc->n_inc; i++)
		if (t >= sc->inc[i].start_ms && t < sc->inc[i].end_ms + sc->p.detect_grace_ms)
			return true;
	return false;
}

void scorecard_add_step(struct scorecard *sc, const struct scorecard_step *s)
{
	const struct cm_step *c = &s->cm;
	const double dt = (double)s->dt_ms / 1000.0;
	const double thr = sc->p.starve_share;

	sc->container_s += dt;
	sc->throttled_cpu_s += c->cpu_throttled_s;
	sc->cpu_alloc += c->cpu_limit_cores * dt;
	sc->cpu_used += c->cpu_used_cores * dt;
	sc->mem_alloc += c->mem_limit_mb * dt;
	sc->mem_used += c->mem_used_mb * dt;
	sc->limit_changes += (uint64_t)(c->cpu_changes + c->mem_changes);
	if (c->oom_kill)
		sc->oom_kills++;
	if (s->evaluated)
		sc->evaluations++;

	/* detection: flags anywhere, hits per incident window (+ grace) */
	if (s->evaluated && s->flagged) {
		sc->flags++;
		if (in_any_window(sc, s->t_ms))
			sc->flags_in_window++;
		for (size_t i = 0; i < sc->n_inc; i++)
			if (s->t_ms >= sc->inc[i].start_ms &&
			    s->t_ms < sc->inc[i].end_ms + sc->p.detect_grace_ms)
				sc->st[i].detected = true;
	}

	if (s->incident < 0 || (size_t)s->incident >= sc->n_inc)
		return;
	struct sc_incident_state *is = &sc->st[s->incident];
	if (!is->relievable) {
		sc->futile_changes += (uint64_t)(c->cpu_changes + c->mem_changes);
		return;
	}
	bool cpu_starved = !c->restarting && cpu_starve_share(c->cpu_demand_cores, c->cpu_limit_cores) > thr;
	bool mem_starved = c->oom_kill || c->restarting || c->mem_some > thr;
	/* would the initial allocation have starved? (policy-independent applicability) */
	if (cpu_starve_share(c->cpu_demand_cores, sc->init_cpu) > thr ||
	    mem_stall_share(c->mem_demand_mb, sc->init_mem, sc->cmp.swap_mb) > thr)
		is->applicable = true;

	if (cpu_starved || mem_starved) {
		is->applicable = true;
		if (is->onset_ms < 0) {
			is->onset_ms = s->t_ms;
			is->onset_cpu = cpu_starved;
			is->onset_mem = mem_starved;
			is->onset_cpu_limit = c->cpu_limit_cores;
			is->onset_mem_limit = c->mem_limit_mb;
		}
	} else if (is->onset_ms >= 0 && is->relief_ms < 0) {
		bool raised = (is->onset_cpu && c->cpu_limit_cores > is->onset_cpu_limit) ||
		              (is->onset_mem && c->mem_limit_mb > is->onset_mem_limit);
		if (raised)
			is->relief_ms = s->t_ms;
	}
}

int scorecard_end_trace(struct scorecard *sc)
{
	int rc = 0;
	for (size_t i = 0; i < sc->n_inc; i++) {
		const struct sc_incident_state *is = &sc->st[i];
		sc->incidents++;
		sc->detect_total++;
		if (is->detected)
			sc->detect_hit++;
		if (!is->relievable || !is->applicable)
			continue;
		sc->incidents_applicable++;
		double ttr = -1;
		if (is->onset_ms < 0) {
			ttr = 0.0;
			sc->incidents_unharmed++;
		}
		else if (is->relief_ms >= 0)
			ttr = (double)(is->relief_ms - is->onset_ms) / 1000.0;
		if (ttr >= 0) {
			sc->incidents_relieved++;
			if (push_ttr(sc, ttr) != 0)
				rc = -1;
		}
	}
	free(sc->st);
	sc->st = NULL;
	sc->inc = NULL;
	sc->n_inc = 0;
	return rc;
}

int scorecard_merge(struct scorecard *dst, const struct scorecard *src)
{
	dst->incidents += src->incidents;
	dst->incidents_applicable += src->incidents_applicable;
	dst->incidents_relieved += src->incidents_relieved;
	dst->incidents_unharmed += src->incidents_unharmed;
	dst->detect_total += src->detect_total;
	dst->detect_hit += src->detect_hit;
	dst->oom_kills += src->oom_kills;
	dst->flags += src->flags;
	dst->flags_in_window += src->flags_in_window;
	dst->evaluations += src->evaluations;
	dst->limit_changes += src->limit_changes;
	dst->futile_changes += src->futile_changes;
	dst->throttled_cpu_s += src->throttled_cpu_s;
	dst->cpu_alloc += src->cpu_alloc;
	dst->cpu_used += src->cpu_used;
	dst->mem_alloc += src->mem_alloc;
	dst->mem_used += src->mem_used;
	dst->container_s += src->container_s;
	for (size_t i = 0; i < src->n_ttr; i++)
		if (push_ttr(dst, src->ttr_s[i]) != 0)
			return -1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double scorecard_percentile(double *v, size_t n, double pct)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	double rank = ceil(pct / 100.0 * (double)n);
	size_t idx = rank < 1 ? 0 : (size_t)rank - 1;
	if (idx >= n)
		idx = n - 1;
	return v[idx];
}

static double pct_or_nan(double num, double den)
{
	return den > 0 ? 100.0 * num / den : NAN;
}

void scorecard_summarise(const struct scorecard *sc, struct scorecard_summary *o)
{
	memset(o, 0, sizeof *o);
	o->incidents = sc->incidents;
	o->applicable = sc->incidents_applicable;
	o->relieved = sc->incidents_relieved;
	o->unharmed = sc->incidents_unharmed;
	o->relieved_pct = pct_or_nan((double)sc->incidents_relieved, (double)sc->incidents_applicable);
	double *tmp = sc->n_ttr ? malloc(sc->n_ttr * sizeof *tmp) : NULL;
	if (tmp) {
		memcpy(tmp, sc->ttr_s, sc->n_ttr * sizeof *tmp);
		o->ttr_p50_s = scorecard_percentile(tmp, sc->n_ttr, 50);
		o->ttr_p99_s = scorecard_percentile(tmp, sc->n_ttr, 99);
		free(tmp);
	} else {
		o->ttr_p50_s = o->ttr_p99_s = NAN;
	}
	o->oom_kills = sc->oom_kills;
	o->throttled_cpu_s = sc->throttled_cpu_s;
	o->cpu_slack_pct = pct_or_nan(sc->cpu_alloc - sc->cpu_used, sc->cpu_alloc);
	o->mem_slack_pct = pct_or_nan(sc->mem_alloc - sc->mem_used, sc->mem_alloc);
	o->container_hours = sc->container_s / 3600.0;
	o->changes_per_hour = o->container_hours > 0 ? (double)sc->limit_changes / o->container_hours : 0;
	o->futile_changes = sc->futile_changes;
	o->precision_pct = pct_or_nan((double)sc->flags_in_window, (double)sc->flags);
	o->recall_pct = pct_or_nan((double)sc->detect_hit, (double)sc->detect_total);
	o->evaluations = sc->evaluations;
	o->flags = sc->flags;
}

/* The rows of the printed scorecard, in order: the one list the text and the HTML report
 * (sim/report_data.c) both read, so they always show the same figures. */
static const struct {
	const char *label;
	int decimals;
} rows[] = {
	{ "incidents (labelled)", 0 },
	{ "incidents needing more", 0 },
	{ "incidents relieved %", 1 },
	{ "  of them never starved", 0 },
	{ "time to relief p50 s", 0 },
	{ "time to relief p99 s", 0 },
	{ "OOM kills", 0 },
	{ "throttled CPU-s", 0 },
	{ "CPU slack %", 1 },
	{ "memory slack %", 1 },
	{ "limit changes / container-hour", 2 },
	{ "futile changes", 0 },
	{ "detector precision %", 1 },
	{ "detector recall %", 1 },
};

size_t scorecard_row_count(void)
{
	return sizeof rows / sizeof rows[0];
}

const char *scorecard_row_label(size_t row)
{
	return row < scorecard_row_count() ? rows[row].label : NULL;
}

double scorecard_row_value(const struct scorecard_summary *s, size_t row)
{
	switch (row) {
	case 0: return (double)s->incidents;
	case 1: return (double)s->applicable;
	case 2: return s->relieved_pct;
	case 3: return (double)s->unharmed;
	case 4: return s->ttr_p50_s;
	case 5: return s->ttr_p99_s;
	case 6: return (double)s->oom_kills;
	case 7: return s->throttled_cpu_s;
	case 8: return s->cpu_slack_pct;
	case 9: return s->mem_slack_pct;
	case 10: return s->changes_per_hour;
	case 11: return (double)s->futile_changes;
	case 12: return s->precision_pct;
	case 13: return s->recall_pct;
	default: return NAN;
	}
}

void scorecard_row_format(const struct scorecard_summary *s, size_t row, char *buf, size_t len)
{
	if (len == 0)
		return;
	double v = scorecard_row_value(s, row);
	if (row >= scorecard_row_count() || isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", rows[row].decimals, v);
}

void scorecard_print(FILE *f, const char *title, const struct scorecard_summary *s,
                     const char *const *names, size_t n)
{
	fprintf(f, "%-34s", title);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %12s", names[i]);
	fputc('\n', f);
	for (size_t row = 0; row < scorecard_row_count(); row++) {
		fprintf(f, "  %-32s", rows[row].label);
		for (size_t i = 0; i < n; i++) {
			char cell[SCORECARD_CELL_MAX];
			scorecard_row_format(&s[i], row, cell, sizeof cell);
			fprintf(f, " %12s", cell);
		}
		fputc('\n', f);
	}
}

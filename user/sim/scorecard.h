/*
 * sim/scorecard.h — how well a policy served a labelled trace.
 *
 * The replay feeds every step of every container (what the container model says happened,
 * which labelled incident is active, whether the policy evaluated and flagged it) and the
 * scorecard turns that into the figures an admin compares policies on:
 *   - incidents relieved (%) and time to relief (p50, p99): an incident counts when its
 *     demand would starve the initial allocation, or did starve the policy's; "starved" is
 *     throttled share, memory stall share > starve_share, an OOM kill or its restart. It is
 *     relieved at the first step after the onset that is not starved while the starving
 *     resource's limit is above its value at the onset (time 0 when it never starved: the
 *     policy got there first); one that never starved under the policy is relieved at 0 s;
 *   - OOM kills; throttled CPU-seconds (demand above the limit);
 *   - slack: allocated minus used, as % of allocated, over time (CPU and memory);
 *   - churn: limit changes per container-hour, and futile changes (made during incidents
 *     a resize cannot help, e.g. a noisy neighbour);
 *   - the detector's precision and recall: an incident is detected when an evaluation inside
 *     [start, end + grace) was flagged; precision is the share of flagged evaluations that
 *     fall inside some incident's [start, end + grace).
 */
#ifndef LXCSCALE_SCORECARD_H
#define LXCSCALE_SCORECARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/container_model.h"
#include "sim/scenarios.h"

struct scorecard_params {
	double starve_share;      /* 0.05 */
	int64_t detect_grace_ms;  /* 600 000: one reference cycle */
};

struct scorecard_step {
	int64_t t_ms, dt_ms;
	struct cm_step cm;
	int incident;             /* index of the active incident, or -1 */
	bool evaluated;           /* the policy looked at this container in this step */
	bool flagged;             /* ... and its detector called it anomalous */
};

struct sc_incident_state {
	bool relievable, applicable, detected;
	int64_t onset_ms, relief_ms;  /* -1: not yet */
	bool onset_cpu, onset_mem;
	double onset_cpu_limit, onset_mem_limit;
};

struct scorecard {
	struct scorecard_params p;
	/* totals */
	size_t incidents, incidents_applicable, incidents_relieved, incidents_unharmed;
	size_t detect_total, detect_hit;
	double *ttr_s;
	size_t n_ttr, cap_ttr;
	uint64_t oom_kills, flags, flags_in_window, evaluations, limit_changes, futile_changes;
	double throttled_cpu_s;
	double cpu_alloc, cpu_used, mem_alloc, mem_used; /* core·s and MiB·s */
	double container_s;
	/* the trace in progress */
	const struct scenario_incident *inc;
	size_t n_inc;
	struct sc_incident_state *st;
	double init_cpu, init_mem;
	struct cm_params cmp;
	bool oom;
};

struct scorecard_summary {
	size_t incidents, applicable, relieved;
	size_t unharmed;          /* relieved at 0 s: never starved under the policy */
	double relieved_pct;      /* NAN when nothing applied */
	double ttr_p50_s, ttr_p99_s; /* NAN when nothing was relieved */
	uint64_t oom_kills;
	double throttled_cpu_s;
	double cpu_slack_pct, mem_slack_pct;
	double changes_per_hour;
	uint64_t futile_changes;
	double precision_pct, recall_pct; /* NAN when undefined */
	uint64_t evaluations, flags;
	double container_hours;
};

void scorecard_params_default(struct scorecard_params *p);
void scorecard_init(struct scorecard *sc, const struct scorecard_params *p); /* p may be NULL */
void scorecard_free(struct scorecard *sc);

/* One container's trace: its labels and its initial allocation. Returns 0 or -1 (no memory). */
int scorecard_begin_trace(struct scorecard *sc, const struct scenario_incident *inc, size_t n_inc,
                          double init_cpu_cores, double init_mem_mb, const struct cm_params *cm);
void scorecard_add_step(struct scorecard *sc, const struct scorecard_step *st);
int scorecard_end_trace(struct scorecard *sc);

/* Add src's totals into dst (both outside a trace). Returns 0 or -1 (no memory). */
int scorecard_merge(struct scorecard *dst, const struct scorecard *src);

void scorecard_summarise(const struct scorecard *sc, struct scorecard_summary *out);

/* Nearest-rank percentile of v[0..n) (sorted in place); NAN when n == 0. */
double scorecard_percentile(double *v, size_t n, double pct);

/* The printed scorecard's rows: how many, each one's label ("OOM kills"; an indented label
 * belongs to the row above), its figure in a summary (NAN: undefined), and that figure as
 * printed ("-" when undefined, else with the row's decimals) into buf (at most len bytes,
 * cut short if smaller; SCORECARD_CELL_MAX holds any double's). scorecard_print
 * writes these, and the HTML report (sim/report_data.h) copies the same strings. */
#define SCORECARD_CELL_MAX 320
size_t scorecard_row_count(void);
const char *scorecard_row_label(size_t row); /* NULL past the last row */
double scorecard_row_value(const struct scorecard_summary *s, size_t row);
void scorecard_row_format(const struct scorecard_summary *s, size_t row, char *buf, size_t len);

/* Print summaries side by side, one column per policy. */
void scorecard_print(FILE *f, const char *title, const struct scorecard_summary *s,
                     const char *const *names, size_t n);

#endif

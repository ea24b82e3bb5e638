/*
 * sim/timeline.h — one replay run's demand and limits over time, small enough to chart.
 *
 * The HTML report (`lxcscale replay --html`) draws, per trace, the demand against each
 * policy's limits. A trace can have millions of steps; a chart needs a few thousand points at
 * most. So the run's steps are cut into equal buckets of consecutive steps, and each bucket
 * keeps, per series, its lowest and its highest value, in the order they happened: the chart
 * gets two points per bucket (at the bucket's start and at its middle), so a one-step spike
 * stays visible however long the trace. A trace that fits in the budget keeps every step as
 * one point, unchanged.
 *
 * Beside the series, at full resolution: the time ranges in which the policy's limits hurt
 * (CPU throttled: demand above the CPU limit; memory: demand above memory.high, so the
 * container stalled in reclaim, or it was killed and restarting), and the OOM kills. Ranges
 * closer together than one bucket are merged, so there are never more than about one per
 * bucket; at most TIMELINE_MAX_RANGES are kept (the last one then runs on to the last step
 * that hurt) and at most TIMELINE_MAX_OOM kill times (oom_total still counts every kill).
 *
 * Times are milliseconds since the trace's start. One timeline per run, filled by one thread.
 */
#ifndef LXCSCALE_TIMELINE_H
#define LXCSCALE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/container_model.h"

#define TIMELINE_MIN_POINTS 200   /* the least any chart is given */
#define TIMELINE_MAX_POINTS 2000  /* the most any chart gets */
#define TIMELINE_MAX_RANGES 2048  /* per kind of range */
#define TIMELINE_MAX_OOM 1000     /* kill times kept */

enum timeline_series {
	TL_CPU_DEMAND = 0, /* cores the workload wanted */
	TL_CPU_LIMIT,      /* cores the policy allowed */
	TL_MEM_DEMAND,     /* MiB the workload wanted */
	TL_MEM_LIMIT,      /* MiB the policy allowed (memory.max) */
	TL_N_SERIES,
};

enum timeline_range_kind {
	TL_CPU_THROTTLED = 0, /* demand above the CPU limit */
	TL_MEM_PRESSURE,      /* demand above memory.high, an OOM kill, or its restart */
	TL_N_RANGES,
};

struct timeline_range {
	int64_t start_ms, end_ms; /* [start, end) */
};

struct timeline_bucket {
	float lo[TL_N_SERIES], hi[TL_N_SERIES];
	uint8_t lo_last;  /* bit s: series s reached its low after its high */
};

struct timeline {
	int64_t step_ms;
	size_t n_steps;           /* steps the trace has */
	size_t bucket_steps;      /* steps per bucket; 1: every step is a point */
	size_t n_buckets, cap_buckets;
	size_t steps_seen;
	struct timeline_bucket *b;
	struct timeline_range *ranges[TL_N_RANGES];
	size_t n_ranges[TL_N_RANGES], cap_ranges[TL_N_RANGES];
	int64_t *oom_ms;
	size_t n_oom, cap_oom;
	uint64_t oom_total;
};

/* Starts (or restarts) tl for a trace of n_steps steps of step_ms each, charted with at most
 * max_points points (clamped to TIMELINE_MIN_POINTS..TIMELINE_MAX_POINTS). tl must be zeroed
 * or previously begun. Returns 0, or -1 when out of memory (tl is then empty but valid). */
int timeline_begin(struct timeline *tl, int64_t step_ms, size_t n_steps, size_t max_points);

/* The next step, which started t_ms after the trace's start. Steps past n_steps are ignored. */
void timeline_add_step(struct timeline *tl, int64_t t_ms, const struct cm_step *cm);

void timeline_free(struct timeline *tl);

/* The chart's points: how many, and point i's time and values (v[TL_N_SERIES]). */
size_t timeline_points(const struct timeline *tl);
void timeline_point(const struct timeline *tl, size_t i, int64_t *t_ms, double *v);

/* Points per series the report may give each of n_traces charts, from a total budget so a
 * report of many traces stays a reasonable size: TIMELINE_MAX_POINTS for up to 32 traces,
 * fewer beyond, never below TIMELINE_MIN_POINTS. */
size_t timeline_points_for(size_t n_traces);

#endif

/*
 * sim/timeline.c — the buckets, ranges and kill times described in sim/timeline.h.
 *
 * Bucket size: ceil(n_steps / (max_points / 2)) steps when the trace has more steps than
 * max_points (two points per bucket), else 1 (one point per step). Each step updates its
 * bucket's low and high per series and remembers which of the two came last, which is all
 * the two points need. A step that hurts extends the last range when it starts within
 * (bucket_steps - 1) steps of that range's end (0: only the very next step), else opens a
 * new one. Ranges and kill times grow as they come (most runs have few), up to their caps.
 */
#include "sim/timeline.h"

#include <stdlib.h>
#include <string.h>

#define TIMELINE_POINT_BUDGET 64000 /* over every chart of a report */

size_t timeline_points_for(size_t n_traces)
{
	size_t per = n_traces ? TIMELINE_POINT_BUDGET / n_traces : TIMELINE_MAX_POINTS;
	if (per > TIMELINE_MAX_POINTS)
		per = TIMELINE_MAX_POINTS;
	if (per < TIMELINE_MIN_POINTS)
		per = TIMELINE_MIN_POINTS;
	return per;
}

void timeline_free(struct timeline *tl)
{
	free(tl->b);
	for (int k = 0; k < TL_N_RANGES; k++)
		free(tl->ranges[k]);
	free(tl->oom_ms);
	memset(tl, 0, sizeof *tl);
}

int timeline_begin(struct timeline *tl, int64_t step_ms, size_t n_steps, size_t max_points)
{
	timeline_free(tl);
	if (max_points < TIMELINE_MIN_POINTS)
		max_points = TIMELINE_MIN_POINTS;
	if (max_points > TIMELINE_MAX_POINTS)
		max_points = TIMELINE_MAX_POINTS;
	tl->step_ms = step_ms > 0 ? step_ms : 1;
	tl->n_steps = n_steps;
	if (n_steps <= max_points) {
		tl->bucket_steps = 1;
	} else {
		size_t buckets = max_points / 2;
		tl->bucket_steps = (n_steps + buckets - 1) / buckets;
	}
	tl->cap_buckets = n_steps ? (n_steps + tl->bucket_steps - 1) / tl->bucket_steps : 0;
	tl->b = calloc(tl->cap_buckets ? tl->cap_buckets : 1, sizeof *tl->b);
	if (!tl->b) {
		timeline_free(tl);
		return -1;
	}
	return 0;
}

/* Room for one more element in a growing array of at most max (doubling from 16). */
static bool grow(void **v, size_t *cap, size_t n, size_t max, size_t size)
{
	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	size_t c = *cap ? *cap * 2 : 16;
	if (c > max)
		c = max;
	void *p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* A step that hurt, [t, t + step): extends the last range, or opens a new one when it starts
 * further than the merge gap from it and there is room (else the last range runs on). */
static void range_add(struct timeline *tl, enum timeline_range_kind k, int64_t t_ms)
{
	const int64_t end = t_ms + tl->step_ms;
	const int64_t merge_gap = (int64_t)(tl->bucket_steps - 1) * tl->step_ms;
	size_t n = tl->n_ranges[k];
	if (n == 0 || t_ms > tl->ranges[k][n - 1].end_ms + merge_gap) {
		void *v = tl->ranges[k];
		if (grow(&v, &tl->cap_ranges[k], n, TIMELINE_MAX_RANGES, sizeof *tl->ranges[k])) {
			tl->ranges[k] = v;
			tl->ranges[k][n] = (struct timeline_range){ t_ms, end };
			tl->n_ranges[k] = n + 1;
			return;
		}
		if (n == 0)
			return; /* out of memory before the first range: none is shown */
	}
	if (end > tl->ranges[k][n - 1].end_ms)
		tl->ranges[k][n - 1].end_ms = end;
}

void timeline_add_step(struct timeline *tl, int64_t t_ms, const struct cm_step *cm)
{
	if (!tl->b || tl->steps_seen >= tl->n_steps)
		return;
	const size_t i = tl->steps_seen++;
	const size_t bi = i / tl->bucket_steps;
	const double v[TL_N_SERIES] = {
		[TL_CPU_DEMAND] = cm->cpu_demand_cores,
		[TL_CPU_LIMIT] = cm->cpu_limit_cores,
		[TL_MEM_DEMAND] = cm->mem_demand_mb,
		[TL_MEM_LIMIT] = cm->mem_limit_mb,
	};
	struct timeline_bucket *b = &tl->b[bi];
	if (bi >= tl->n_buckets) {
		tl->n_buckets = bi + 1;
		for (int s = 0; s < TL_N_SERIES; s++)
			b->lo[s] = b->hi[s] = (float)v[s];
		b->lo_last = 0;
	} else {
		for (int s = 0; s < TL_N_SERIES; s++) {
			const float x = (float)v[s];
			if (x < b->lo[s]) {
				b->lo[s] = x;
				b->lo_last |= (uint8_t)(1u << s);
			}
			if (x > b->hi[s]) {
				b->hi[s] = x;
				b->lo_last &= (uint8_t)~(1u << s);
			}
		}
	}
	if (cm->cpu_throttled_s > 0)
		range_add(tl, TL_CPU_THROTTLED, t_ms);
	if (cm->mem_some > 0 || cm->oom_kill || cm->restarting)
		range_add(tl, TL_MEM_PRESSURE, t_ms);
	if (cm->oom_kill) {
		void *kills = tl->oom_ms;
		if (grow(&kills, &tl->cap_oom, tl->n_oom, TIMELINE_MAX_OOM, sizeof *tl->oom_ms)) {
			tl->oom_ms = kills;
			tl->oom_ms[tl->n_oom++] = t_ms;
		}
		tl->oom_total++;
	}
}

size_t timeline_points(const struct timeline *tl)
{
	return tl->bucket_steps > 1 ? 2 * tl->n_buckets : tl->n_buckets;
}

void timeline_point(const struct timeline *tl, size_t i, int64_t *t_ms, double *v)
{
	if (i >= timeline_points(tl)) {
		*t_ms = 0;
		for (int s = 0; s < TL_N_SERIES; s++)
			v[s] = 0;
		return;
	}
	const bool pairs = tl->bucket_steps > 1;
	const size_t bi = pairs ? i / 2 : i;
	const bool second = pairs && (i % 2) == 1;
	const struct timeline_bucket *b = &tl->b[bi];
	const int64_t start = (int64_t)(bi * tl->bucket_steps) * tl->step_ms;
	*t_ms = start;
	if (second) {
		/* the middle of the steps the bucket holds (the last bucket may hold fewer) */
		size_t held = tl->steps_seen - bi * tl->bucket_steps;
		if (held > tl->bucket_steps)
			held = tl->bucket_steps;
		int64_t half = (int64_t)held * tl->step_ms / 2;
		*t_ms = start + (half > 0 ? half : 1);
	}
	for (int s = 0; s < TL_N_SERIES; s++) {
		const bool lo_first = !(b->lo_last & (1u << s));
		const bool want_lo = second ? !lo_first : lo_first;
		v[s] = want_lo ? b->lo[s] : b->hi[s];
	}
}

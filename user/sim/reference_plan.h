/*
 * sim/reference_plan.h — the reference's loop run over a whole metrics history, beforehand.
 *
 * On a history (the reference's own lxc_metrics.json) the reference column must decide what
 * the reference decides when its loop reads that file: every interval_seconds it reads the
 * snapshots written so far, trains, evaluates the containers of the newest timestamp and
 * POSTs its targets, which its API reports back as the allocation at the next cycle. What it
 * reads is the file, whatever it decided, so its decisions do not depend on what the replay's
 * container model makes of them: they are computed here once, for every container of the
 * history together (one frame, one forest), before the per-container runs play them
 * (sim/replay.c) through the container model for the scorecard.
 *
 * Cycles: at first + k · cycle_ms (k = 1, 2, ...) up to the newest snapshot, `first` being
 * the history's oldest timestamp. A container's starting allocation comes from the caller
 * (the history, a Proxmox config, or the replay's --cores/--memory); an unknown one makes the
 * reference skip that container at every cycle, as it does.
 *
 * Folder: sim/ (see sim/replay.h).
 */
#ifndef LXCSCALE_REFERENCE_PLAN_H
#define LXCSCALE_REFERENCE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/reference_loop.h"
#include "types/decision.h"

/* What the reference's loop did about one container at one cycle. */
struct reference_event {
	int64_t t_ms;            /* the cycle's time, ms since the epoch */
	bool scored;             /* evaluated with a known allocation: the model scored it */
	int predict;             /* -1 anomaly, +1 normal (when scored) */
	bool acts;               /* it POSTed the targets in d */
	struct decision d;       /* the verdict as a decision record (when scored) */
};

struct reference_plan_stats {
	size_t cycles, stale_cycles, untrainable_cycles; /* run, skipped as stale, skipped on NaN */
	size_t evaluations, skipped_unknown, held_by_confidence, actions;
};

struct reference_plan;

/* Runs the loop over h. start_allocation gives each container's allocation before the first
 * cycle (false: unknown). 0 with *out (free it with reference_plan_free), or -1 with a message. */
int reference_plan_build(const struct ref_history *h, const struct ref_loop_params *p, int64_t cycle_ms,
                         ref_allocation_fn start_allocation, void *ctx, struct reference_plan **out,
                         char *err, size_t errlen);
void reference_plan_free(struct reference_plan *plan);

/* One container's events in time order (*n = 0 and NULL when it has none). */
const struct reference_event *reference_plan_events(const struct reference_plan *plan, uint32_t vmid,
                                                    size_t *n);
void reference_plan_stats(const struct reference_plan *plan, struct reference_plan_stats *out);

#endif

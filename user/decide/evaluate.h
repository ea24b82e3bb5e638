/*
 * decide/evaluate.h — one container's newest feature row, its current limits and the model's
 * verdict turned into the policy's input and a decision.
 *
 * The daemon (daemon/tick.c) and the replay simulator (sim/replay.c) both go through here, so
 * a replayed trace is decided by the same code as a live container: what differs between them
 * is only where the row, the limits and the score come from. The caller scores the row (the
 * daemon and replay train their models on their own cadences), and afterwards explains a
 * decision with its model, passes increases through the host budget and commits what it emits.
 *
 * OOM kills arrive as cumulative counters (memory.events, or BPF's count); the policy wants
 * the kills since its previous evaluation. struct oom_tracker remembers what was taken.
 */
#ifndef LXCSCALE_EVALUATE_H
#define LXCSCALE_EVALUATE_H

#include <stdbool.h>
#include <stdint.h>

#include "collect/sampler.h"
#include "decide/policy.h"
#include "features/features.h"
#include "iforest.h"

/* Which signals of the row the policy sees. */
enum eval_view {
	EVAL_FULL,      /* lxcscale: use, pressure, throttling, OOM kills; an anomaly raises urgency */
	EVAL_REFERENCE, /* the reference's monitor: CPU and memory use only; its anomaly is only logged */
};

struct eval_request {
	uint32_t vmid;
	int64_t now_ms;                 /* monotonic */
	const struct feat_row *row;     /* the container's newest row */
	const struct alloc *alloc;      /* its current limits */
	uint64_t oom_kills;             /* new since its previous evaluation (oom_tracker_take) */
	const iforest_result *score;    /* the model's verdict on this row; NULL: not scored */
	enum eval_view view;
	const struct policy_params *params; /* NULL: the config's (policy_params_for) */
	bool ignored;                   /* left alone whatever ignore_lxc says (a Proxmox tag) */
};

/* The policy's input for the request (pure). */
void evaluate_input(const struct eval_request *rq, struct policy_input *in);

/* evaluate_input(), then policy_evaluate() with the container's policy state: true when *out
 * holds a change. *in is left as the policy saw it (the daemon's schedule looks at it). */
bool evaluate(const struct policy_config *pc, struct policy_state *ps, const struct eval_request *rq,
	      struct policy_input *in, struct decision *out);

/* ---- OOM kills ---------------------------------------------------------------------------- */

struct oom_tracker {
	bool baseline;                  /* seen holds a first reading */
	uint64_t seen;                  /* the cumulative count at the last take */
};

/* Kills in `cumulative` beyond the last take: 0 before the first take (no baseline) and
 * after the counter went back (a new cgroup). Takes nothing. */
uint64_t oom_tracker_unseen(const struct oom_tracker *t, uint64_t cumulative);

/* oom_tracker_unseen(), and the next call counts from `cumulative`. */
uint64_t oom_tracker_take(struct oom_tracker *t, uint64_t cumulative);

/* oom_tracker_take() of a raw sample's count; 0 (nothing taken) when raw is NULL or does not
 * know its OOM kills. */
uint64_t oom_tracker_take_raw(struct oom_tracker *t, const struct feat_raw *raw);

#endif

/*
 * decide/evaluate.c — row + limits + score → policy input → decision (see decide/evaluate.h).
 */
#include "decide/evaluate.h"

#include <string.h>

/* Pressure and throttling as the policy reads them: stall ms per second of CPU and memory
 * `some` (both, or neither counts), CPU `full` when known (0 when not), the share of
 * throttled periods. */
static void pressure_input(const struct feat_row *row, struct policy_input *in)
{
	in->psi_known = features_row_col(row, COL_PSI_CPU_SOME, &in->cpu_some_ms) &&
			features_row_col(row, COL_PSI_MEM_SOME, &in->mem_some_ms);
	if (in->psi_known && !features_row_col(row, COL_PSI_CPU_FULL, &in->cpu_full_ms))
		in->cpu_full_ms = 0;
	in->throttle_known = features_row_col(row, COL_THROTTLED, &in->throttled_ratio);
}

void evaluate_input(const struct eval_request *rq, struct policy_input *in)
{
	memset(in, 0, sizeof(*in));
	in->vmid = rq->vmid;
	in->now_ms = rq->now_ms;
	in->params = rq->params;
	in->ignored = rq->ignored;
	in->cores_known = rq->alloc->cores_known;
	in->cores = rq->alloc->cores;
	in->ram_known = rq->alloc->ram_known;
	in->ram_mb = rq->alloc->ram_mb;
	in->cpu_known = features_row_col(rq->row, COL_CPU, &in->cpu_pct);
	in->mem_known = features_row_col(rq->row, COL_MEM, &in->mem_mb);
	const bool full = rq->view == EVAL_FULL;
	if (full) {
		pressure_input(rq->row, in);
		in->oom_kills = rq->oom_kills;
	}
	if (rq->score) {
		in->model_known = true;
		in->anomaly = full && rq->score->predict < 0;
		in->anomaly_score = rq->score->score;
		in->confidence = rq->score->confidence;
	}
}

bool evaluate(const struct policy_config *pc, struct policy_state *ps, const struct eval_request *rq,
	      struct policy_input *in, struct decision *out)
{
	evaluate_input(rq, in);
	return policy_evaluate(pc, ps, in, out);
}

/* ---- OOM kills ---------------------------------------------------------------------------- */

uint64_t oom_tracker_unseen(const struct oom_tracker *t, uint64_t cumulative)
{
	return t->baseline && cumulative > t->seen ? cumulative - t->seen : 0;
}

uint64_t oom_tracker_take(struct oom_tracker *t, uint64_t cumulative)
{
	uint64_t kills = oom_tracker_unseen(t, cumulative);
	t->seen = cumulative;
	t->baseline = true;
	return kills;
}

uint64_t oom_tracker_take_raw(struct oom_tracker *t, const struct feat_raw *raw)
{
	if (!raw || !(raw->known & RAW_BIT(RAW_OOM)))
		return 0;
	return oom_tracker_take(t, raw->oom_kills);
}

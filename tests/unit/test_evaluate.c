/*
 * test_evaluate.c — user/decide/evaluate.c, the evaluation the daemon and replay share: what
 * of a row each view passes to the policy, the model's verdict, and the OOM kill tracker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "decide/evaluate.h"

static void set(struct feat_row *r, enum feat_col c, double v)
{
	r->v[c] = v;
	r->known |= COL_BIT(c);
}

/* A row with everything the policy reads, an allocation of 2 cores and 1024 MiB. */
static struct feat_row full_row(void)
{
	struct feat_row r;
	memset(&r, 0, sizeof(r));
	set(&r, COL_CPU, 40);
	set(&r, COL_MEM, 300);
	set(&r, COL_PSI_CPU_SOME, 7);
	set(&r, COL_PSI_CPU_FULL, 3);
	set(&r, COL_PSI_MEM_SOME, 5);
	set(&r, COL_THROTTLED, 0.25);
	return r;
}

static const struct alloc two_cores = { true, true, 2, 1024 };

static void test_full_view(void **state)
{
	(void)state;
	struct feat_row row = full_row();
	iforest_result score = { .score = -0.3, .confidence = 80, .predict = -1 };
	struct eval_request rq = { .vmid = 101, .now_ms = 5000, .row = &row, .alloc = &two_cores,
				   .oom_kills = 2, .score = &score, .view = EVAL_FULL };
	struct policy_input in;
	evaluate_input(&rq, &in);
	assert_int_equal(in.vmid, 101);
	assert_true(in.now_ms == 5000);
	assert_true(in.cores_known && in.cores == 2 && in.ram_known && in.ram_mb == 1024);
	assert_true(in.cpu_known && in.cpu_pct == 40 && in.mem_known && in.mem_mb == 300);
	assert_true(in.psi_known && in.cpu_some_ms == 7 && in.cpu_full_ms == 3 && in.mem_some_ms == 5);
	assert_true(in.throttle_known && in.throttled_ratio == 0.25);
	assert_true(in.oom_kills == 2);
	assert_true(in.model_known && in.anomaly && in.anomaly_score == -0.3 && in.confidence == 80);
}

/* The reference's monitor saw CPU and memory use only, and only logged an anomaly. */
static void test_reference_view(void **state)
{
	(void)state;
	struct feat_row row = full_row();
	iforest_result score = { .score = -0.3, .confidence = 80, .predict = -1 };
	struct eval_request rq = { .vmid = 101, .row = &row, .alloc = &two_cores, .oom_kills = 2,
				   .score = &score, .view = EVAL_REFERENCE };
	struct policy_input in;
	evaluate_input(&rq, &in);
	assert_true(in.cpu_known && in.mem_known);
	assert_false(in.psi_known);
	assert_false(in.throttle_known);
	assert_true(in.oom_kills == 0);
	assert_true(in.model_known && in.confidence == 80);
	assert_false(in.anomaly);
}

/* Pressure needs both CPU and memory `some`; CPU `full` alone unknown reads as 0. */
static void test_partial_row(void **state)
{
	(void)state;
	struct feat_row row;
	memset(&row, 0, sizeof(row));
	set(&row, COL_PSI_CPU_SOME, 7);
	set(&row, COL_PSI_MEM_SOME, 5);
	struct eval_request rq = { .row = &row, .alloc = &two_cores, .view = EVAL_FULL };
	struct policy_input in;
	evaluate_input(&rq, &in);
	assert_false(in.cpu_known || in.mem_known || in.throttle_known || in.model_known);
	assert_true(in.psi_known && in.cpu_full_ms == 0);
	row.known &= ~COL_BIT(COL_PSI_MEM_SOME);
	evaluate_input(&rq, &in);
	assert_false(in.psi_known);
}

static void test_oom_tracker(void **state)
{
	(void)state;
	struct oom_tracker t = { 0 };
	assert_true(oom_tracker_unseen(&t, 5) == 0); /* no baseline yet */
	assert_true(oom_tracker_take(&t, 5) == 0);
	assert_true(oom_tracker_unseen(&t, 7) == 2);
	assert_true(oom_tracker_unseen(&t, 7) == 2); /* unseen takes nothing */
	assert_true(oom_tracker_take(&t, 7) == 2);
	assert_true(oom_tracker_take(&t, 7) == 0);
	assert_true(oom_tracker_take(&t, 1) == 0);   /* went back: a new cgroup */
	assert_true(oom_tracker_take(&t, 2) == 1);

	struct feat_raw raw;
	memset(&raw, 0, sizeof(raw));
	raw.oom_kills = 9;
	assert_true(oom_tracker_take_raw(&t, NULL) == 0);
	assert_true(oom_tracker_take_raw(&t, &raw) == 0); /* unknown: nothing taken */
	raw.known = RAW_BIT(RAW_OOM);
	assert_true(oom_tracker_take_raw(&t, &raw) == 7);
}

/* evaluate() decides what policy_evaluate() decides on the same input. */
static void test_evaluate_is_the_policy(void **state)
{
	(void)state;
	struct policy_config pc;
	memset(&pc, 0, sizeof(pc));
	policy_params_default(&pc.defaults);
	struct policy_state a, b;
	policy_state_init(&a);
	policy_state_init(&b);
	struct feat_row row = full_row();
	set(&row, COL_CPU, 95);
	struct eval_request rq = { .vmid = 101, .now_ms = 60000, .row = &row, .alloc = &two_cores,
				   .view = EVAL_FULL };
	struct policy_input in, in2;
	struct decision d1, d2;
	bool w1 = evaluate(&pc, &a, &rq, &in, &d1);
	evaluate_input(&rq, &in2);
	bool w2 = policy_evaluate(&pc, &b, &in2, &d2);
	assert_true(w1);
	assert_true(w1 == w2);
	assert_int_equal(d1.cpu_change, d2.cpu_change);
	assert_true(d1.cpu_to == d2.cpu_to);
	assert_memory_equal(&in, &in2, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_view),
		cmocka_unit_test(test_reference_view),
		cmocka_unit_test(test_partial_row),
		cmocka_unit_test(test_oom_tracker),
		cmocka_unit_test(test_evaluate_is_the_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

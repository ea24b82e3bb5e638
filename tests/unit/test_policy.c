/*
 * test_policy.c — each rule of user/decide/policy.c: the reference thresholds and steps, clamps,
 * the unknown-allocation skip, ignore_lxc, the min_confidence gate, no-op suppression,
 * pressure, OOM and anomaly urgency, cooldowns and the sustained-quiet rule, smoothing,
 * tiers, parameter validation and the host budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "decide/policy.h"

static struct policy_config cfg;
static struct policy_state st;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	policy_params_default(&cfg.defaults);
	policy_state_init(&st);
	return 0;
}

/* A container with 2 cores and 1024 MiB, everything known and quiet. */
static struct policy_input base(int64_t now_ms)
{
	struct policy_input in;
	memset(&in, 0, sizeof(in));
	in.vmid = 101;
	in.now_ms = now_ms;
	in.cores_known = in.ram_known = true;
	in.cores = 2;
	in.ram_mb = 1024;
	in.cpu_known = in.mem_known = true;
	in.cpu_pct = 50;
	in.mem_mb = 512;
	in.psi_known = true;
	in.model_known = true;
	in.confidence = 80;
	return in;
}

static void test_params_defaults_and_keys(void **state)
{
	(void)state;
	struct policy_params p;
	policy_params_default(&p);
	assert_true(p.cpu_up_pct == 75 && p.cpu_down_pct == 30 && p.ram_step_mb == 512);
	assert_true(p.min_cores == 2 && p.max_cores == 4 && p.min_ram_mb == 1024 && p.max_ram_mb == 8192);
	char err[128];
	assert_int_equal(policy_params_validate(&p, err, sizeof(err)), 0);
	assert_int_equal(policy_params_set(&p, "cpu_scale_up_threshold", 90, err, sizeof(err)), 0);
	assert_true(p.cpu_up_pct == 90);
	assert_int_equal(policy_params_set(&p, "cpu_scale_up_threshold", 101, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cpu_scale_up_threshold"));
	assert_int_equal(policy_params_set(&p, "cpu_scale_step", 0, err, sizeof(err)), -1);
	assert_int_equal(policy_params_set(&p, "smoothing_factor", NAN, err, sizeof(err)), -1);
	assert_int_equal(policy_params_set(&p, "no_such_key", 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no_such_key"));
	for (size_t i = 0; policy_param_keys[i]; i++) /* every advertised key is settable */
		assert_int_equal(policy_params_set(&p, policy_param_keys[i], 1, err, sizeof(err)) == 0 ||
				 strstr(err, "outside") != NULL, 1);

	policy_params_default(&p);
	p.cpu_down_pct = 80;
	assert_int_equal(policy_params_validate(&p, err, sizeof(err)), -1);
	policy_params_default(&p);
	p.min_ram_mb = 9000;
	assert_int_equal(policy_params_validate(&p, err, sizeof(err)), -1);
	policy_params_default(&p);
	p.ram_down_pct = p.ram_up_pct;
	assert_int_equal(policy_params_validate(&p, err, sizeof(err)), -1);
}

static void test_cpu_threshold_up(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cpu_pct = 90;
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.cpu_change, DECISION_UP);
	assert_true(d.cpu_from == 2 && d.cpu_to == 3);
	assert_int_equal(d.mem_change, DECISION_NONE);
	assert_int_equal(d.mem_to_mb, 1024);
	assert_int_equal(d.reason, REASON_THRESHOLD);
	assert_int_equal(d.urgency, 0);
	assert_true(d.cpu_pct == 90 && d.mem_pct == 50);
	assert_true(d.confidence == 80);
	assert_non_null(strstr(d.detail, "cpu 90.0% > 75%"));
}

static void test_target_cpu_load_sizes_the_step(void **state)
{
	(void)state;
	cfg.defaults.target_cpu_pct = 50;
	cfg.defaults.max_cores = 16;
	struct policy_input in = base(1000);
	in.cores = 4;
	in.cpu_pct = 90; /* 3.6 cores busy; at 50 % that needs 7.2, so 8 */
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_true(d.cpu_to == 8);
	cfg.defaults.max_cores = 6; /* still clamped */
	policy_state_init(&st);
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_true(d.cpu_to == 6);
	cfg.defaults.target_cpu_pct = 80; /* 4 * 90 / 80 = 4.5 -> 5, the step's 5 anyway */
	policy_state_init(&st);
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_true(d.cpu_to == 5);
}

static void test_exactly_at_threshold_is_no_action(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cpu_pct = 75; /* the reference uses strict comparisons */
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
}

static void test_ram_percent_of_allocation_and_clamp(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.mem_mb = 800; /* 78 % of 1024 */
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.mem_change, DECISION_UP);
	assert_int_equal(d.mem_to_mb, 1536);
	assert_int_equal(d.cpu_change, DECISION_NONE);

	policy_state_init(&st);
	in.ram_mb = 8000;
	in.mem_mb = 7000; /* 8000 + 512 clamps to max_ram_mb */
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.mem_to_mb, 8192);

	policy_state_init(&st);
	in.ram_mb = 8192;
	in.mem_mb = 8000; /* already at max: equal to current, no action */
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
}

static void test_never_against_the_signal(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cores = 6; /* above max_cpu_cores 4, busy: not "scaled up" to 4 */
	in.cpu_pct = 95;
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));

	cfg.defaults.cooldown_down_s = 0;
	policy_state_init(&st);
	in = base(1000);
	in.cores = 1; /* below min_cpu_cores 2, idle: not "scaled down" to 2 */
	in.cpu_pct = 1;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
}

static void test_unknown_allocation_skipped_per_resource(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cpu_pct = 99;
	in.mem_mb = 1000;
	in.cores_known = false;
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.cpu_change, DECISION_NONE); /* never a target from an unknown current */
	assert_int_equal(d.mem_change, DECISION_UP);

	policy_state_init(&st);
	in.ram_known = false;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));

	policy_state_init(&st);
	in = base(1000);
	in.cpu_known = false; /* usage unknown: no threshold decision either */
	in.mem_known = false;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
}

static void test_ignore_list(void **state)
{
	(void)state;
	uint32_t ignore[] = { 7, 101 };
	cfg.ignore = ignore;
	cfg.n_ignore = 2;
	struct policy_input in = base(1000);
	in.cpu_pct = 99;
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	assert_true(policy_ignored(&cfg, 7));
	assert_false(policy_ignored(&cfg, 102));
	in.vmid = 102;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
}

/* The daemon's own word (a Proxmox tag): ignored without ignore_lxc, and a tier's params
 * given for a container no tier lists. */
static void test_caller_ignored_and_params(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cpu_pct = 99;
	in.ignored = true;
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));

	policy_state_init(&st);
	in = base(1000);
	in.cpu_pct = 99;
	in.cores = 4; /* at the defaults' max_cpu_cores: nothing to add */
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	struct policy_params gold = cfg.defaults;
	gold.max_cores = 8;
	gold.priority = 3;
	in.params = &gold;
	policy_state_init(&st);
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.cpu_change, DECISION_UP);
	assert_true(d.cpu_to > 4 && d.cpu_to <= 8);
	assert_int_equal(d.priority, 3);
}

static void test_min_confidence_gate(void **state)
{
	(void)state;
	cfg.defaults.min_confidence = 50;
	struct policy_input in = base(1000);
	in.cpu_pct = 99;
	in.confidence = 49.9;
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.model_known = false; /* no model: confidence 0, like the reference */
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.model_known = true;
	in.confidence = 50;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));

	/* Pressure decisions rest on measured stalls, not on the model. */
	policy_state_init(&st);
	in = base(1000);
	in.confidence = 0;
	in.mem_some_ms = 50;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.reason, REASON_PSI);
}

static void test_memory_pressure_psi(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.mem_mb = 400; /* 39 %: below the up threshold */
	in.mem_some_ms = 25; /* ≥ 10 ms/s */
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.reason, REASON_PSI);
	assert_int_equal(d.urgency, 1);
	assert_int_equal(d.mem_change, DECISION_UP);
	assert_int_equal(d.mem_to_mb, 1536); /* normal step */
	assert_true(d.mem_psi_some_ms == 25);
}

static void test_cpu_pressure_needs_own_limit(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cpu_pct = 40;
	in.cpu_some_ms = 500; /* neighbours contend: more quota would not help */
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));

	in.throttle_known = true;
	in.throttled_ratio = 0.5; /* throttled by its own cpu.max */
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.cpu_change, DECISION_UP);
	assert_int_equal(d.reason, REASON_PSI);

	policy_state_init(&st);
	in = base(1000);
	in.cpu_pct = 40;
	in.cpu_full_ms = 800; /* all stalled, but below its allocation: neighbours, not its limit */
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.cpu_pct = 80; /* using its allocation and stalled: its own shortage, urgency 1 */
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.reason, REASON_THRESHOLD);
	assert_int_equal(d.urgency, 1);
	assert_non_null(strstr(d.detail, "+pressure"));
}

static void test_anomaly_with_pressure_is_urgent(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.anomaly = true;
	in.anomaly_score = -0.2;
	in.mem_some_ms = 30;
	strcpy(in.top[0].name, "memory_usage_mb");
	in.top[0].share = 0.6;
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.reason, REASON_ANOMALY);
	assert_int_equal(d.urgency, 2);
	assert_int_equal(d.mem_to_mb, 2048); /* step × urgent_step_factor 2 */
	assert_true(d.anomaly && d.anomaly_score == -0.2);
	assert_string_equal(d.top[0].name, "memory_usage_mb");
	policy_commit(&st, &d, in.now_ms);

	/* No cooldown for urgent decisions. */
	in.now_ms += 100;
	in.ram_mb = 2048;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.mem_to_mb, 3072);

	/* An anomaly without pressure changes nothing (the reference only logged it). */
	policy_state_init(&st);
	in = base(1000);
	in.anomaly = true;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
}

static void test_oom_kill(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.oom_kills = 1;
	in.mem_mb = 100; /* usage looks low right after the kill */
	in.confidence = 0;
	cfg.defaults.min_confidence = 90;
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.reason, REASON_OOM);
	assert_int_equal(d.urgency, 2);
	assert_int_equal(d.mem_change, DECISION_UP);
	assert_int_equal(d.mem_to_mb, 2048);
	assert_non_null(strstr(d.detail, "+oom"));
}

static void test_cooldown_up(void **state)
{
	(void)state;
	struct policy_input in = base(1000);
	in.cpu_pct = 90;
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	policy_commit(&st, &d, in.now_ms);
	in.cores = 3;
	in.now_ms = 1000 + 9999; /* cooldown_up is 10 s */
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.now_ms = 1000 + 10000;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_true(d.cpu_to == 4);
}

static void test_scale_down_needs_sustained_quiet(void **state)
{
	(void)state;
	cfg.defaults.cooldown_down_s = 60;
	struct policy_input in = base(0);
	in.cores = 3;
	in.cpu_pct = 10;
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d)); /* quiet starts */
	in.now_ms = 30000;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.now_ms = 40000;
	in.cpu_pct = 50; /* a busy sample breaks the streak */
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.cpu_pct = 10;
	in.now_ms = 50000;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.now_ms = 109999;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.now_ms = 110000; /* 60 s of quiet since 50 s */
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.cpu_change, DECISION_DOWN);
	assert_true(d.cpu_to == 2);
	assert_non_null(strstr(d.detail, "cpu 10.0% < 30%"));
	policy_commit(&st, &d, in.now_ms);

	/* Also RAM down, one step, clamped at min_ram_mb; and a change 1 s ago blocks it. */
	policy_state_init(&st);
	in = base(0);
	in.ram_mb = 1200;
	in.mem_mb = 100;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.now_ms = 60000;
	st.last_change_ms = 59000;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	st.last_change_ms = INT64_MIN;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_int_equal(d.mem_change, DECISION_DOWN);
	assert_int_equal(d.mem_to_mb, 1024);

	/* An anomalous sample never shrinks a container. */
	policy_state_init(&st);
	in = base(0);
	in.cores = 3;
	in.cpu_pct = 5;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
	in.now_ms = 70000;
	in.anomaly = true;
	assert_false(policy_evaluate(&cfg, &st, &in, &d));
}

static void test_smoothing(void **state)
{
	(void)state;
	cfg.defaults.smoothing_factor = 0.5;
	struct policy_input in = base(0);
	in.cpu_pct = 0;
	struct decision d;
	assert_false(policy_evaluate(&cfg, &st, &in, &d)); /* primes at 0 */
	in.cpu_pct = 100;
	in.now_ms = 100;
	assert_false(policy_evaluate(&cfg, &st, &in, &d)); /* 50 */
	assert_true(d.cpu_pct == 50);
	in.now_ms = 200;
	assert_false(policy_evaluate(&cfg, &st, &in, &d)); /* 75: not above 75 */
	in.now_ms = 300;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));  /* 87.5 */
	assert_true(d.cpu_pct == 87.5);
}

static void test_tiers_override(void **state)
{
	(void)state;
	struct policy_tier tier;
	memset(&tier, 0, sizeof(tier));
	strcpy(tier.name, "db");
	tier.params = cfg.defaults;
	char err[128];
	assert_int_equal(policy_params_set(&tier.params, "cpu_scale_up_threshold", 50, err, sizeof(err)), 0);
	assert_int_equal(policy_params_set(&tier.params, "max_cpu_cores", 16, err, sizeof(err)), 0);
	assert_int_equal(policy_params_set(&tier.params, "priority", 5, err, sizeof(err)), 0);
	uint32_t members[] = { 200 };
	tier.vmids = members;
	tier.n_vmids = 1;
	cfg.tiers = &tier;
	cfg.n_tiers = 1;

	assert_ptr_equal(policy_params_for(&cfg, 200), &tier.params);
	assert_ptr_equal(policy_params_for(&cfg, 201), &cfg.defaults);

	struct policy_input in = base(1000);
	in.vmid = 200;
	in.cores = 8;
	in.cpu_pct = 60;
	struct decision d;
	assert_true(policy_evaluate(&cfg, &st, &in, &d));
	assert_true(d.cpu_to == 9);
	assert_int_equal(d.priority, 5);

	struct policy_state other;
	policy_state_init(&other);
	in.vmid = 201;
	in.cores = 2;
	assert_false(policy_evaluate(&cfg, &other, &in, &d));
}

static struct decision up(uint32_t vmid, double cf, double ct, uint64_t mf, uint64_t mt, int urgency, int prio)
{
	struct decision d;
	memset(&d, 0, sizeof(d));
	d.vmid = vmid;
	d.cpu_from = cf;
	d.cpu_to = ct;
	d.cpu_change = ct > cf ? DECISION_UP : ct < cf ? DECISION_DOWN : DECISION_NONE;
	d.mem_from_mb = mf;
	d.mem_to_mb = mt;
	d.mem_change = mt > mf ? DECISION_UP : mt < mf ? DECISION_DOWN : DECISION_NONE;
	d.urgency = urgency;
	d.priority = prio;
	return d;
}

static void test_budget_init(void **state)
{
	(void)state;
	struct policy_budget b;
	policy_budget_init(&b, 0, 0, 16, 65536, 1, 2048);
	assert_true(b.cores_total == 15);
	assert_true(b.ram_total_mb == 63488);
	policy_budget_init(&b, 8, 16384, 16, 65536, 1, 2048); /* configured totals win */
	assert_true(b.cores_total == 8 && b.ram_total_mb == 16384);
	policy_budget_account(&b, true, 3, true, 1024);
	policy_budget_account(&b, false, 99, true, 1024); /* unknown cores not counted */
	assert_true(b.cores_used == 3 && b.ram_used_mb == 2048);
	policy_budget_init(&b, 0, 0, 1, 1024, 2, 4096);
	assert_true(b.cores_total == 0);
	assert_true(b.ram_total_mb == 0); /* never negative */
}

static void test_budget_grants_by_urgency_then_priority(void **state)
{
	(void)state;
	struct policy_budget b;
	policy_budget_init(&b, 10, 4096, 0, 0, 0, 0);
	b.cores_used = 8;
	b.ram_used_mb = 3072;
	struct decision d[4] = {
		up(101, 2, 3, 1024, 1024, 0, 0),   /* normal */
		up(102, 2, 3, 1024, 1024, 0, 9),   /* normal, higher priority */
		up(103, 2, 4, 1024, 2048, 2, 0),   /* urgent: 2 cores, 1024 MiB */
		up(104, 4, 2, 2048, 1024, 0, 0),   /* a decrease gives back 2 cores, 1024 MiB */
	};
	size_t kept = policy_grant_all(&b, d, 4);
	/* Budget after the decrease: 6 of 10 cores, 2048 of 4096 MiB. Urgent 103 takes 2
	 * cores and 1024 MiB, then priority 9 (102) takes 1 core, then 101 gets the last. */
	assert_int_equal(kept, 4);
	assert_int_equal(d[0].vmid, 103);
	assert_int_equal(d[1].vmid, 102);
	assert_int_equal(d[2].vmid, 101);
	assert_true(b.cores_used == 10);
	assert_true(b.ram_used_mb == 3072);

	/* Now the budget is full: the next increase is dropped, a partial one shrinks. */
	struct decision e[2] = { up(105, 2, 3, 1024, 1024, 0, 0), up(106, 1, 1, 1024, 2048, 1, 0) };
	b.ram_used_mb = 3584; /* 512 MiB left */
	kept = policy_grant_all(&b, e, 2);
	assert_int_equal(kept, 1);
	assert_int_equal(e[0].vmid, 106);
	assert_int_equal(e[1].vmid, 105); /* the refused one is kept after the granted ones */
	assert_int_equal(e[1].cpu_change, DECISION_NONE);
	assert_int_equal(e[0].mem_to_mb, 1536);
	assert_non_null(strstr(e[0].detail, "budget: 512 of 1024 MiB"));

	/* An unlimited budget (total 0) grants everything. */
	struct policy_budget open;
	memset(&open, 0, sizeof(open));
	struct decision f = up(107, 2, 100, 1024, 99999, 0, 0);
	assert_true(policy_grant(&open, &f));
	assert_true(f.cpu_to == 100 && f.mem_to_mb == 99999);

	/* A manual SET is held to the budget like the increase it is. */
	policy_budget_init(&b, 8, 0, 0, 0, 0, 0);
	b.cores_used = 6;
	struct decision set = up(109, 2, 16, 0, 0, 0, 0);
	set.cpu_change = DECISION_SET;
	assert_true(policy_grant(&b, &set));
	assert_true(set.cpu_to == 4 && set.cpu_change == DECISION_SET);
	struct decision shrink = up(110, 4, 1, 0, 0, 0, 0);
	shrink.cpu_change = DECISION_SET;
	assert_true(policy_grant(&b, &shrink));
	assert_true(b.cores_used == 5); /* 6 + 2 - 3 */

	/* A fractional remainder below one core grants nothing. */
	policy_budget_init(&b, 4.5, 0, 0, 0, 0, 0);
	b.cores_used = 4;
	struct decision g = up(108, 2, 3, 0, 0, 0, 0);
	assert_false(policy_grant(&b, &g));
	assert_true(g.cpu_to == 2 && g.cpu_change == DECISION_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_params_defaults_and_keys, setup),
		cmocka_unit_test_setup(test_cpu_threshold_up, setup),
		cmocka_unit_test_setup(test_target_cpu_load_sizes_the_step, setup),
		cmocka_unit_test_setup(test_exactly_at_threshold_is_no_action, setup),
		cmocka_unit_test_setup(test_ram_percent_of_allocation_and_clamp, setup),
		cmocka_unit_test_setup(test_never_against_the_signal, setup),
		cmocka_unit_test_setup(test_unknown_allocation_skipped_per_resource, setup),
		cmocka_unit_test_setup(test_ignore_list, setup),
		cmocka_unit_test_setup(test_caller_ignored_and_params, setup),
		cmocka_unit_test_setup(test_min_confidence_gate, setup),
		cmocka_unit_test_setup(test_memory_pressure_psi, setup),
		cmocka_unit_test_setup(test_cpu_pressure_needs_own_limit, setup),
		cmocka_unit_test_setup(test_anomaly_with_pressure_is_urgent, setup),
		cmocka_unit_test_setup(test_oom_kill, setup),
		cmocka_unit_test_setup(test_cooldown_up, setup),
		cmocka_unit_test_setup(test_scale_down_needs_sustained_quiet, setup),
		cmocka_unit_test_setup(test_smoothing, setup),
		cmocka_unit_test_setup(test_tiers_override, setup),
		cmocka_unit_test_setup(test_budget_init, setup),
		cmocka_unit_test_setup(test_budget_grants_by_urgency_then_priority, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

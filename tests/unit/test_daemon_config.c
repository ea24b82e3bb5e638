/*
 * test_daemon_config.c — the configuration as the daemon's parts see it
 * (user/decide/params.c): the reference's scaling keys onto the policy, PSI trigger levels
 * as stall per second, the legacy step bounds, tier overrides and their budget priority,
 * ignore_lxc, the model's feature selection and options, bpf.* onto the loader's options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collect/bpf_loader.h"
#include "decide/params.h"

static struct lxcscale_config *load(const char *yaml)
{
	struct lxcscale_config *c = config_new();
	struct config_diag d;
	memset(&d, 0, sizeof(d));
	if (config_load_string(c, "test.yaml", yaml, strlen(yaml), &d) != 0 || config_finalize(c, &d) != 0) {
		config_diag_print(&d, stderr);
		fail();
	}
	return c;
}

static void test_scaling_and_psi(void **state)
{
	(void)state;
	struct lxcscale_config *c = load("scaling:\n"
					 "  cpu_scale_up_threshold: 80\n"
					 "  cpu_scale_down_threshold: 20\n"
					 "  ram_scale_step_mb: 768\n"
					 "  ram_upper_limit: 1024\n"
					 "  cooldown_up_seconds: 5\n"
					 "  cooldown_down_seconds: 600\n"
					 "  smoothing_factor: 0.3\n"
					 "  min_confidence: 40\n"
					 "psi:\n  window_ms: 2000\n  memory_stall_ms: 40\n  cpu_stall_ms: 100\n"
					 "ignore_lxc: [\"105\", 106]\n");
	struct policy_tier tiers[CFG_TIERS_MAX];
	struct policy_config pc;
	policy_config_from_config(c, tiers, &pc);
	const struct policy_params *p = &pc.defaults;
	assert_true(p->cpu_up_pct == 80 && p->cpu_down_pct == 20);
	assert_true(p->ram_step_mb == 768);
	assert_true(p->cooldown_up_s == 5 && p->cooldown_down_s == 600);
	assert_true(p->smoothing_factor == 0.3);
	assert_true(p->min_confidence == 40);
	assert_true(p->psi_memory_some_ms == 20); /* 40 ms per 2 s window = 20 ms/s */
	assert_true(p->psi_cpu_some_ms == 50);
	assert_true(policy_ignored(&pc, 105) && policy_ignored(&pc, 106) && !policy_ignored(&pc, 107));
	char err[128];
	assert_int_equal(policy_params_validate(p, err, sizeof(err)), 0);
	config_free(c);
}

static void test_tiers_and_priority(void **state)
{
	(void)state;
	struct lxcscale_config *c = load("tiers:\n"
					 "  db:\n    containers: [201, 202]\n    max_cpu_cores: 16\n"
					 "  web:\n    containers: [\"301\"]\n    cpu_scale_up_threshold: 60\n");
	struct policy_tier tiers[CFG_TIERS_MAX];
	struct policy_config pc;
	policy_config_from_config(c, tiers, &pc);
	assert_int_equal(pc.n_tiers, 2);
	const struct policy_params *db = policy_params_for(&pc, 202);
	const struct policy_params *web = policy_params_for(&pc, 301);
	assert_true(db->max_cores == 16 && db->cpu_up_pct == 75);
	assert_true(web->cpu_up_pct == 60 && web->max_cores == 4);
	assert_true(db->priority > web->priority);        /* listed first, granted first */
	assert_true(web->priority > pc.defaults.priority);
	assert_ptr_equal(policy_params_for(&pc, 999), &pc.defaults);
	config_free(c);
}

static void test_features_and_model(void **state)
{
	(void)state;
	struct lxcscale_config *c = load("model:\n  n_estimators: 64\n  max_samples: 32\n  window: 500\n"
					 "  per_container: false\n  force_save: true\n");
	struct feat_select s;
	char err[128];
	assert_int_equal(features_select_from_config(c, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, FEAT_REFERENCE_COUNT - 1); /* empty list: the reference's 26 but time_diff */
	struct model_opts o;
	model_opts_from_config(c, &s, &o);
	assert_int_equal(o.per_ct.forest.n_trees, 64);
	assert_int_equal(o.per_ct.forest.max_samples, 32);
	assert_int_equal(o.per_ct.window, 500);
	assert_int_equal(o.host.window, 4000); /* the pooled model keeps 8 windows */
	assert_false(o.per_container);
	assert_true(o.force_save);
	assert_true(o.per_ct.forest.contamination == 0.05);
	assert_int_equal(o.per_ct.forest.seed, 42);
	config_free(c);

	c = load("model:\n  features: [memory_usage_mb, cpu_usage_percent, psi_memory_some_ms]\n");
	assert_int_equal(features_select_from_config(c, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.index[0], F_CPU_USAGE_PERCENT);
	config_free(c);

	c = load("model:\n  features: [cpu_usage_percent, cpu_usge]\n");
	assert_int_equal(features_select_from_config(c, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cpu_usge"));
	config_free(c);
}

/* Every bpf.* key reaches the loader: events_per_second is the per container, type and
 * CPU notify interval (1 s / value), the thresholds are in ns, the pin path is passed. */
static void test_bpf_keys(void **state)
{
	(void)state;
	struct lxcscale_config *c = load("bpf:\n"
					 "  pin_path: /sys/fs/bpf/elsewhere\n"
					 "  runq_threshold_us: 2500\n"
					 "  reclaim_threshold_us: 700\n"
					 "  events_per_second: 4\n");
	struct lxs_bpf_opts o;
	lxs_bpf_opts_from_config(c, &o);
	assert_string_equal(o.pin_dir, "/sys/fs/bpf/elsewhere");
	assert_true(o.runq_notify_ns == 2500000ULL);
	assert_true(o.reclaim_notify_ns == 700000ULL);
	assert_true(o.notify_interval_ns == 250000000ULL);
	config_free(c);

	c = load("bpf:\n  events_per_second: 1000000\n");
	lxs_bpf_opts_from_config(c, &o);
	assert_true(o.notify_interval_ns == 1000ULL); /* the bound: 1 us, never 0 (= 1 s) */
	config_free(c);

	c = load("");
	lxs_bpf_opts_from_config(c, &o);
	assert_true(o.notify_interval_ns == 1000000000ULL); /* default: one per second */
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scaling_and_psi),
		cmocka_unit_test(test_tiers_and_priority),
		cmocka_unit_test(test_features_and_model),
		cmocka_unit_test(test_bpf_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

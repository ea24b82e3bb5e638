/*
 * test_sampler.c — cgroup sample → raw sample + allocation (user/collect/sampler.c): where the
 * allocation comes from (cpu.max, cpuset, both, assumed, unknown), unknown values staying
 * unknown, swap "max", and the host SwapTotal parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collect/sampler.h"

static cg_u64 K(uint64_t v) { return (cg_u64){ v, CG_KNOWN }; }

static struct cg_sample empty(void)
{
	struct cg_sample s;
	memset(&s, 0, sizeof(s)); /* every value CG_UNKNOWN */
	s.mono_ns = 5000000000ull;
	return s;
}

static void test_allocation_sources(void **state)
{
	(void)state;
	struct sampler_opts o = { 0 };
	struct feat_raw raw;
	struct alloc a;
	struct cg_sample s = empty();
	sampler_map(&s, &o, 1, &raw, &a);
	assert_false(a.cores_known);
	assert_false(a.ram_known);
	assert_int_equal(raw.known, 0);
	assert_int_equal(raw.mono_ms, 5000);

	s.cpu_max_quota_usec = K(150000);
	s.cpu_max_period_usec = K(100000);
	s.mem_max = K(2048ull << 20);
	sampler_map(&s, &o, 1, &raw, &a);
	assert_true(a.cores_known && a.cores == 1.5);
	assert_true(a.ram_known && a.ram_mb == 2048);
	assert_true(raw.known & RAW_BIT(RAW_CPU_CORES));
	assert_true(raw.cpu_cores == 1.5);

	s.cpuset_cpus_effective.state = CG_KNOWN;
	s.cpuset_cpus_effective.count = 1; /* fewer CPUs than the quota: the cpuset limits */
	sampler_map(&s, &o, 1, &raw, &a);
	assert_true(a.cores == 1);

	s = empty();
	s.cpu_max_quota_usec = (cg_u64){ UINT64_MAX, CG_MAX }; /* "max": no quota */
	s.cpu_max_period_usec = K(100000);
	s.cpuset_cpus_effective.state = CG_KNOWN;
	s.cpuset_cpus_effective.count = 4;
	s.mem_max = (cg_u64){ UINT64_MAX, CG_MAX };
	sampler_map(&s, &o, 1, &raw, &a);
	assert_true(a.cores == 4);
	assert_false(a.ram_known); /* no memory limit and nothing assumed: unknown */

	o.assumed_cores = 2;
	o.assumed_ram_mb = 1024;
	s = empty();
	sampler_map(&s, &o, 1, &raw, &a);
	assert_true(a.cores_known && a.cores == 2);
	assert_true(a.ram_known && a.ram_mb == 1024);
}

static void test_raw_fields(void **state)
{
	(void)state;
	struct sampler_opts o = { .host_swap_bytes = 1ull << 30 };
	struct cg_sample s = empty();
	s.cpu_usage_usec = K(123);
	s.mem_current = K(1000);
	s.mem_file = K(400);
	s.swap_current = K(7);
	s.swap_max = (cg_u64){ UINT64_MAX, CG_MAX };
	s.io_rbytes = K(10);
	s.io_wbytes = K(20);
	s.pids_current = K(9);
	s.psi_cpu.some.total = K(111);
	s.psi_memory.some.total = K(222);
	s.psi_memory.full.total = K(22);
	s.cpu_nr_periods = K(50);
	s.cpu_nr_throttled = K(5);
	s.ev_oom_kill = K(1);
	struct feat_raw raw;
	struct alloc a;
	sampler_map(&s, &o, 77, &raw, &a);
	assert_int_equal(raw.wall_ms, 77);
	assert_int_equal(raw.cpu_usage_usec, 123);
	assert_true(raw.known & RAW_BIT(RAW_MEM));
	assert_int_equal(raw.mem_current - raw.mem_file, 600);
	assert_int_equal(raw.swap_total, 1ull << 30); /* "max" → the host's SwapTotal */
	assert_int_equal(raw.pids, 9);
	assert_int_equal(raw.psi_total_us[0][0], 111);
	assert_int_equal(raw.psi_total_us[1][1], 22);
	assert_false(raw.known & RAW_BIT(RAW_PSI_IO));
	assert_int_equal(raw.nr_throttled, 5);
	assert_int_equal(raw.oom_kills, 1);
	assert_false(raw.known & RAW_BIT(RAW_CPU_CORES));
	assert_false(raw.known & RAW_BIT(RAW_NET)); /* not from cgroup files */

	s.mem_file.state = CG_UNKNOWN; /* half of the memory reading: unknown, not "all used" */
	o.host_swap_bytes = 0;
	sampler_map(&s, &o, 77, &raw, &a);
	assert_false(raw.known & RAW_BIT(RAW_MEM));
	assert_false(raw.known & RAW_BIT(RAW_SWAP_TOTAL));
}

/* The limits of the last limits read carried onto a counters-only sample: the allocation
 * and swap total are the carried ones, the counters the sample's, and what was unknown at
 * the limits read stays unknown. */
static void test_carried_limits(void **state)
{
	(void)state;
	struct sampler_opts o = { .host_swap_bytes = 1ull << 30 };
	struct cg_sample full = empty();
	full.cpu_max_quota_usec = K(250000);
	full.cpu_max_period_usec = K(100000);
	full.cpuset_cpus_effective.state = CG_KNOWN;
	full.cpuset_cpus_effective.count = 2;
	full.mem_max = K(512ull << 20);
	full.swap_max = (cg_u64){ UINT64_MAX, CG_MAX };
	full.cpu_usage_usec = K(1);
	struct sampler_limits l;
	sampler_limits_keep(&full, &l);
	struct feat_raw raw, raw_full;
	struct alloc a, a_full;
	sampler_map(&full, &o, 5, &raw_full, &a_full);
	sampler_map_carried(&full, &l, &o, 5, &raw, &a); /* the same sample: the same result */
	assert_memory_equal(&raw, &raw_full, sizeof(raw));
	assert_memory_equal(&a, &a_full, sizeof(a));

	struct cg_sample counters = empty(); /* limit values unknown: not read this time */
	counters.cpu_usage_usec = K(999);
	counters.pids_current = K(3);
	sampler_map_carried(&counters, &l, &o, 6, &raw, &a);
	assert_true(a.cores_known && a.cores == 2); /* min(2.5 quota, 2 CPUs) */
	assert_true(a.ram_known && a.ram_mb == 512);
	assert_true(raw.known & RAW_BIT(RAW_CPU_CORES));
	assert_int_equal(raw.swap_total, 1ull << 30);
	assert_int_equal(raw.cpu_usage_usec, 999);
	assert_int_equal(raw.pids, 3);
	/* the same sample mapped without the carried limits would lose the allocation */
	sampler_map(&counters, &o, 6, &raw, &a);
	assert_false(a.cores_known || a.ram_known);

	/* a limits read that found nothing: unknown carries as unknown, never 0 */
	struct cg_sample bare = empty();
	sampler_limits_keep(&bare, &l);
	sampler_map_carried(&counters, &l, &o, 6, &raw, &a);
	assert_false(a.cores_known || a.ram_known);
	assert_false(raw.known & RAW_BIT(RAW_SWAP_TOTAL));
}

static void test_swap_total(void **state)
{
	(void)state;
	assert_int_equal(sampler_parse_swap_total("MemTotal: 1 kB\nSwapTotal:     2048 kB\n"), 2048 * 1024);
	assert_int_equal(sampler_parse_swap_total("MemTotal: 1 kB\n"), 0);
	assert_int_equal(sampler_parse_swap_total(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocation_sources),
		cmocka_unit_test(test_raw_fields),
		cmocka_unit_test(test_carried_limits),
		cmocka_unit_test(test_swap_total),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

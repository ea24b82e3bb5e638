/*
 * cgroup_files.c — libFuzzer target for the cgroup file parsers (cgroup/cg_parse.c).
 *
 * The daemon parses every container's cpu.stat, memory.stat, *.pressure, io.stat, cpu.max,
 * cpuset.cpus and memory.* ten times a second. The kernel writes them, but a container's
 * cgroup can be delegated, a fake tree can be anything, and a parser bug here runs in a
 * root daemon on every tick. The contract (cgroup.h) is that the parsers never fail on
 * garbage: what cannot be parsed is CG_UNKNOWN. The input goes through every parser; the
 * checks are that states are valid enum values, a CG_MAX is only ever UINT64_MAX, a known
 * PSI average is finite and in [0, 100], and a CPU list that parses formats back to a list
 * that parses to the same set.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

static void check_u64(cg_u64 x)
{
	if (x.state > CG_MAX || (x.state == CG_MAX && x.v != UINT64_MAX))
		abort();
}

static void check_f64(cg_f64 x)
{
	if (x.state > CG_KNOWN)
		abort();
	if (x.state == CG_KNOWN && !(isfinite(x.v) && x.v >= 0 && x.v <= 100))
		abort();
}

static void check_psi_line(const struct cg_psi_line *l)
{
	check_f64(l->avg10);
	check_f64(l->avg60);
	check_f64(l->avg300);
	check_u64(l->total);
	if (l->total.state == CG_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	/* the library reads into a NUL-terminated buffer: give it the same */
	char *t = malloc(size + 1);
	if (!t)
		return 0;
	memcpy(t, data, size);
	t[size] = '\0';

	struct cg_psi psi;
	cg_parse_psi(t, size, &psi);
	check_psi_line(&psi.some);
	check_psi_line(&psi.full);

	struct cg_mem_events ev;
	cg_parse_mem_events(t, size, &ev);
	check_u64(ev.low);
	check_u64(ev.oom_kill);

	check_u64(cg_parse_limit(t, size));
	check_u64(cg_parse_keyed(t, size, "usage_usec"));
	check_u64(cg_parse_keyed(t, size, "anon"));

	cg_u64 quota, period;
	cg_parse_cpu_max(t, size, &quota, &period);
	check_u64(quota);
	check_u64(period);
	if (period.state == CG_MAX)
		abort();

	static struct cg_sample s;
	memset(&s, 0, sizeof s);
	cg_parse_io_stat(t, size, &s);
	check_u64(s.io_rbytes);
	check_u64(s.io_dios);

	static cg_cpuset set, back;
	if (cg_cpuset_parse(t, size, &set) == CG_OK && set.state == CG_KNOWN) {
		char buf[CG_CPUSET_MAX_CPUS * 6];
		if (cg_cpuset_format(&set, buf, sizeof buf) != CG_OK)
			abort();
		if (cg_cpuset_parse(buf, strlen(buf), &back) != CG_OK || !cg_cpuset_equal(&set, &back)) {
			fprintf(stderr, "cpuset round trip: '%s'\n", buf);
			abort();
		}
		uint32_t count = 0;
		for (size_t i = 0; i < CG_CPUSET_MAX_CPUS / 64; i++)
			count += (uint32_t)__builtin_popcountll(set.bits[i]);
		if (count != set.count)
			abort();
	}
	free(t);
	return 0;
}

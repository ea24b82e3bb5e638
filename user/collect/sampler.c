/*
 * collect/sampler.c — cgroup sample → raw feature sample + allocation (see collect/sampler.h).
 */
#include "collect/sampler.h"

#include <stdio.h>
#include <string.h>

static bool k(cg_u64 x)
{
	return x.state == CG_KNOWN;
}

void sampler_limits_keep(const struct cg_sample *s, struct sampler_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->cpu_quota_usec = s->cpu_max_quota_usec;
	l->cpu_period_usec = s->cpu_max_period_usec;
	l->mem_max = s->mem_max;
	l->swap_max = s->swap_max;
	l->cpuset_count = s->cpuset_cpus_effective.count;
	l->cpuset_state = s->cpuset_cpus_effective.state;
}

void sampler_map(const struct cg_sample *s, const struct sampler_opts *o, int64_t wall_ms,
		 struct feat_raw *raw, struct alloc *a)
{
	struct sampler_limits l;
	sampler_limits_keep(s, &l);
	sampler_map_carried(s, &l, o, wall_ms, raw, a);
}

void sampler_map_carried(const struct cg_sample *s, const struct sampler_limits *l,
			 const struct sampler_opts *o, int64_t wall_ms, struct feat_raw *raw,
			 struct alloc *a)
{
	memset(raw, 0, sizeof(*raw));
	memset(a, 0, sizeof(*a));
	raw->mono_ms = (int64_t)(s->mono_ns / 1000000u);
	raw->wall_ms = wall_ms;

	/* allocation */
	double quota_cores = 0, set_cores = 0;
	if (k(l->cpu_quota_usec) && k(l->cpu_period_usec) && l->cpu_period_usec.v > 0)
		quota_cores = (double)l->cpu_quota_usec.v / (double)l->cpu_period_usec.v;
	if (l->cpuset_state == CG_KNOWN && l->cpuset_count > 0)
		set_cores = l->cpuset_count;
	if (quota_cores > 0 && set_cores > 0)
		a->cores = quota_cores < set_cores ? quota_cores : set_cores;
	else if (quota_cores > 0)
		a->cores = quota_cores;
	else if (set_cores > 0)
		a->cores = set_cores;
	else if (o->assumed_cores > 0)
		a->cores = o->assumed_cores;
	a->cores_known = a->cores > 0;
	if (k(l->mem_max) && l->mem_max.v > 0)
		a->ram_mb = (double)l->mem_max.v / (1024.0 * 1024.0);
	else if (o->assumed_ram_mb > 0)
		a->ram_mb = o->assumed_ram_mb;
	a->ram_known = a->ram_mb > 0;

	/* raw counters */
	if (k(s->cpu_usage_usec)) {
		raw->cpu_usage_usec = s->cpu_usage_usec.v;
		raw->known |= RAW_BIT(RAW_CPU_USAGE);
	}
	if (a->cores_known) {
		raw->cpu_cores = a->cores;
		raw->known |= RAW_BIT(RAW_CPU_CORES);
	}
	if (k(s->mem_current) && k(s->mem_file)) {
		raw->mem_current = s->mem_current.v;
		raw->mem_file = s->mem_file.v;
		raw->known |= RAW_BIT(RAW_MEM);
	}
	if (k(s->swap_current)) {
		raw->swap_current = s->swap_current.v;
		raw->known |= RAW_BIT(RAW_SWAP);
	}
	if (k(l->swap_max)) {
		raw->swap_total = l->swap_max.v;
		raw->known |= RAW_BIT(RAW_SWAP_TOTAL);
	} else if (l->swap_max.state == CG_MAX && o->host_swap_bytes) {
		raw->swap_total = o->host_swap_bytes;
		raw->known |= RAW_BIT(RAW_SWAP_TOTAL);
	}
	if (k(s->io_rbytes) && k(s->io_wbytes)) {
		raw->io_rbytes = s->io_rbytes.v;
		raw->io_wbytes = s->io_wbytes.v;
		raw->known |= RAW_BIT(RAW_IO);
	}
	if (k(s->pids_current)) {
		raw->pids = s->pids_current.v;
		raw->known |= RAW_BIT(RAW_PIDS);
	}
	const struct cg_psi *psi[3] = { &s->psi_cpu, &s->psi_memory, &s->psi_io };
	static const enum feat_raw_field field[3] = { RAW_PSI_CPU, RAW_PSI_MEM, RAW_PSI_IO };
	for (int r = 0; r < 3; r++) {
		/* cpu "full" may be absent (old kernels, the root): a known some is enough, full 0 */
		if (!k(psi[r]->some.total))
			continue;
		raw->psi_total_us[r][0] = psi[r]->some.total.v;
		raw->psi_total_us[r][1] = k(psi[r]->full.total) ? psi[r]->full.total.v : 0;
		raw->known |= RAW_BIT(field[r]);
	}
	if (k(s->cpu_nr_periods) && k(s->cpu_nr_throttled)) {
		raw->nr_periods = s->cpu_nr_periods.v;
		raw->nr_throttled = s->cpu_nr_throttled.v;
		raw->known |= RAW_BIT(RAW_THROTTLE);
	}
	if (k(s->ev_oom_kill)) {
		raw->oom_kills = s->ev_oom_kill.v;
		raw->known |= RAW_BIT(RAW_OOM);
	}
}

uint64_t sampler_parse_swap_total(const char *meminfo)
{
	const char *p = meminfo ? strstr(meminfo, "SwapTotal:") : NULL;
	unsigned long long kb;
	if (!p || sscanf(p + 10, "%llu", &kb) != 1)
		return 0;
	return (uint64_t)kb * 1024;
}

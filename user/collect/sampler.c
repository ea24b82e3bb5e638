/*
 * collect/sampler.c — cgroup sample → raw feature sample + allocation, and one container's
 * whole sample: what to read when, the mapping, the host-side extras (see collect/sampler.h).
 */
#include "collect/sampler.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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
	l->mem_high = s->mem_high;
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

/* ---- one container's sample ------------------------------------------------------------
 * An idle container whose tasks did not run since its previous sample:
 *   - its pressure: nothing new can stall while none of its tasks runs, except tasks
 *     starved of CPU or waiting on memory, and the PSI triggers (cpu and memory) wake
 *     the daemon for those at once. So its pressure totals are carried over from the
 *     previous sample (the stall of the interval is 0) instead of read;
 *   - its CPU time: when BPF counts its scheduling (bpf_quiet: no drain reported it
 *     since that sample, none failed), cpu.stat cannot have moved and is not read;
 *     otherwise an unchanged cpu.stat is what says no task ran.
 * Every PSI_CARRY_MAX + 1-th idle sample reads everything anyway (I/O waits have no
 * trigger). Memory, I/O and pids counters are always read: reclaim, writeback and
 * socket buffers move them without the container's tasks. */

struct sample_plan {
	bool limits;                  /* read the limit files */
	bool may_carry;               /* pressure is read only if the container ran */
	bool bpf_quiet;               /* cpu.stat is not read: BPF saw no task switched */
};

static struct sample_plan plan_sample(const struct sampler_host *h, const struct sampler_ct *c)
{
	const struct sampler_limits_cache *l = c->limits;
	const struct sampler_bpf *b = c->bpf;
	const struct feat_raw *prev = c->prev;
	struct sample_plan p;
	p.limits = !l->known || l->stale || c->hot || l->samples_since + 1 >= LIMITS_EVERY_SAMPLES;
	p.may_carry = c->idle && !c->hot && prev && c->psi_triggers && c->psi_carried < PSI_CARRY_MAX &&
		      (prev->known & RAW_BIT(RAW_CPU_USAGE));
	p.bpf_quiet = p.may_carry && h->bpf->counts_cpu && b->seen && b->drain_no <= b->sample_no &&
		      h->bpf->fail_no <= b->sample_no;
	return p;
}

/* Reads the plan's files into *s; *carry when the pressure files were left unread because
 * the container did not run. */
static cg_err read_files(const struct sampler_ct *c, const struct sample_plan *p, struct cg_sample *s,
			 bool *carry)
{
	const struct feat_raw *prev = c->prev;
	const unsigned mask = (p->bpf_quiet ? 0 : CG_READ_CPU) | CG_READ_COUNTERS |
			      (p->limits ? CG_READ_LIMITS : 0) | (p->may_carry ? 0 : CG_READ_PRESSURE);
	memset(s, 0, sizeof(*s));
	cg_err e = cg_sample_read_more(c->cg, mask, s); /* mask may hold no file here */
	if (p->bpf_quiet) {
		s->cpu_usage_usec = (cg_u64){ prev->cpu_usage_usec, CG_KNOWN };
		if (prev->known & RAW_BIT(RAW_THROTTLE)) {
			s->cpu_nr_periods = (cg_u64){ prev->nr_periods, CG_KNOWN };
			s->cpu_nr_throttled = (cg_u64){ prev->nr_throttled, CG_KNOWN };
		}
	}
	*carry = p->may_carry && s->cpu_usage_usec.state == CG_KNOWN && s->cpu_usage_usec.v == prev->cpu_usage_usec;
	if (e == CG_OK && p->may_carry && !*carry) /* it ran: read the pressure after all */
		e = cg_sample_read_more(c->cg, CG_READ_PRESSURE, s);
	return e;
}

static void keep_limits(struct sampler_limits_cache *l, const struct cg_sample *s, bool read)
{
	if (!read) {
		l->samples_since++;
		return;
	}
	sampler_limits_keep(s, &l->v);
	l->known = true;
	l->stale = false;
	l->samples_since = 0;
}

static int64_t wall_ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Carried: the previous totals (the interval's stall is 0). Read: the avg10 values too. */
static void take_pressure(const struct cg_sample *s, const struct feat_raw *prev, bool carry,
			  struct sampler_result *out)
{
	if (carry) {
		const uint32_t psi_bits = RAW_BIT(RAW_PSI_CPU) | RAW_BIT(RAW_PSI_MEM) | RAW_BIT(RAW_PSI_IO);
		memcpy(out->raw.psi_total_us, prev->psi_total_us, sizeof(out->raw.psi_total_us));
		out->raw.known = (out->raw.known & ~psi_bits) | (prev->known & psi_bits);
		return;
	}
	const struct cg_psi *psi[3] = { &s->psi_cpu, &s->psi_memory, &s->psi_io };
	for (int i = 0; i < 3; i++) {
		out->psi_avg10[i] = psi[i]->some.avg10.state == CG_KNOWN ? psi[i]->some.avg10.v : 0;
		out->psi_full_avg10[i] = psi[i]->full.avg10.state == CG_KNOWN ? psi[i]->full.avg10.v : 0;
	}
}

/* Traffic and disk usage, read from the host side. */
static void add_host_side(const struct sampler_host *h, const struct sampler_ct *c, int64_t now_ms,
			  struct feat_raw *raw)
{
	if (ctextra_net(c->extra, h->roots, now_ms, &raw->net_rx_bytes, &raw->net_tx_bytes))
		raw->known |= RAW_BIT(RAW_NET);
	/* statvfs costs a path walk through /proc/<pid>/root; a quiet container's disk usage
	 * is read every 30 s, a hot one's every 5 s (a cached value fills the rows between) */
	int64_t fs_every = c->hot ? FS_EVERY_MS : FS_QUIET_EVERY_MS;
	if (ctextra_fs(c->extra, h->roots, now_ms, fs_every, &raw->fs_total_bytes, &raw->fs_free_bytes,
		       &raw->fs_used_bytes))
		raw->known |= RAW_BIT(RAW_FS);
}

static void add_bpf(const struct sampler_host *h, const struct sampler_bpf *b, struct feat_raw *raw)
{
	if (!b->seen)
		return;
	/* the drain reports only containers with events in its interval */
	const bool fresh = b->drain_no == h->bpf->drain_no;
	raw->runq_p50_us = fresh ? b->runq_p50_us : 0;
	raw->runq_p99_us = fresh ? b->runq_p99_us : 0;
	raw->reclaim_stall_us = b->reclaim_us;
	raw->known |= RAW_BIT(RAW_RUNQ) | RAW_BIT(RAW_RECLAIM);
	if (!(raw->known & RAW_BIT(RAW_OOM))) { /* no memory.events: BPF counts the kills */
		raw->oom_kills = b->oom;
		raw->known |= RAW_BIT(RAW_OOM);
	}
}

cg_err collect_sample_ct(const struct sampler_host *h, const struct sampler_ct *c, int64_t now_ms,
			 struct sampler_result *out)
{
	const struct sample_plan p = plan_sample(h, c);
	struct cg_sample s;
	bool carry;
	cg_err e = read_files(c, &p, &s, &carry);
	if (e != CG_OK)
		return e;
	keep_limits(c->limits, &s, p.limits);
	memset(out, 0, sizeof(*out));
	sampler_map_carried(&s, &c->limits->v, h->opts, wall_ms_now(), &out->raw, &out->alloc);
	out->pressure_carried = carry;
	out->cpu_from_bpf = p.bpf_quiet;
	take_pressure(&s, c->prev, carry, out);
	add_host_side(h, c, now_ms, &out->raw);
	add_bpf(h, c->bpf, &out->raw);
	c->bpf->sample_no = h->bpf->drain_no;
	return CG_OK;
}

uint64_t sampler_parse_swap_total(const char *meminfo)
{
	const char *p = meminfo ? strstr(meminfo, "SwapTotal:") : NULL;
	unsigned long long kb;
	if (!p || sscanf(p + 10, "%llu", &kb) != 1)
		return 0;
	return (uint64_t)kb * 1024;
}

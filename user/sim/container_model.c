/*
 * sim/container_model.c — the rules that turn (limits, demand) into what the kernel would report.
 *
 * CPU (cpu.max, period 100 ms):
 *   used       = min(demand, limit)
 *   throttled  = (demand - limit)+ CPU-seconds; nr_periods counts the 100 ms periods,
 *                nr_throttled those of a step whose demand exceeded the limit
 *   thr        = (demand - limit)+ / demand   share of wanted time spent throttled
 *   some       = 1 - (1 - thr)(1 - n)         n = outside contention (noisy neighbour)
 *   full       = thr + (1 - thr) n / 2        throttling stalls every task of the cgroup
 *                                             (psi.c counts it as FULL); contention from
 *                                             others stalls all tasks half the time it
 *                                             stalls any
 * Memory (memory.max = limit, memory.high = Proxmox's formula, memory.swap.max = swap):
 *   demand above max + swap  -> OOM kill: the service restarts at restart_base_mb and does
 *                               no CPU work for restart_ms; the memory it had freed stays
 *                               "owed" (a leak starts again from the base), until the trace
 *                               itself falls back (the offset never exceeds demand - base)
 *   demand above high        -> the excess is reclaimed to swap; tasks stall in reclaim:
 *                               some = (demand - high) / (max + swap - high), full = some / 2,
 *                               io some = some (swap-in waits)
 *   otherwise                -> no stall; used = demand
 * Outside contention does not reduce the work done (it is delayed, not lost): a resize
 * cannot help it, which is exactly what the noisy-neighbour scenario tests.
 */
#include "sim/container_model.h"

#include <math.h>
#include <string.h>

double cm_mem_high_mb(double mem_mb)
{
	/* PVE: memory >= 16384 ? memory - 128 MiB : memory * 1024 * 1016 bytes */
	return mem_mb >= 16384.0 ? mem_mb - 128.0 : mem_mb * 1016.0 / 1024.0;
}

void cm_params_default(struct cm_params *p)
{
	memset(p, 0, sizeof *p);
	p->swap_mb = 512.0;
	p->restart_base_mb = 256.0;
	p->restart_ms = 10000;
	p->file_cache_mb = 128.0;
	p->fs_total_gb = 8.0;
	p->fs_used_gb = 2.0;
}

void container_model_init(struct container_model *m, uint32_t vmid, const struct cm_params *p,
                          double cpu_cores, double mem_mb)
{
	memset(m, 0, sizeof *m);
	m->vmid = vmid;
	m->p = *p;
	m->cpu_limit_cores = cpu_cores;
	m->mem_limit_mb = mem_mb;
}

int container_model_schedule(struct container_model *m, int64_t at_ms, double cpu_cores,
                             double mem_mb)
{
	if (m->n_pending >= CM_PENDING_MAX)
		return -1;
	/* keep the list ordered by time, stable for equal times (later call applies later) */
	int i = m->n_pending;
	while (i > 0 && m->pending[i - 1].at_ms > at_ms) {
		m->pending[i] = m->pending[i - 1];
		i--;
	}
	m->pending[i] = (struct cm_pending){ .at_ms = at_ms, .cpu_cores = cpu_cores, .mem_mb = mem_mb };
	m->n_pending++;
	return 0;
}

static void apply_due(struct container_model *m, int64_t t_ms, int *cpu_changes, int *mem_changes)
{
	int done = 0;
	while (done < m->n_pending && m->pending[done].at_ms <= t_ms) {
		const struct cm_pending *c = &m->pending[done];
		if (c->cpu_cores > 0 && c->cpu_cores != m->cpu_limit_cores) {
			m->cpu_limit_cores = c->cpu_cores;
			(*cpu_changes)++;
		}
		if (c->mem_mb > 0 && c->mem_mb != m->mem_limit_mb) {
			m->mem_limit_mb = c->mem_mb;
			(*mem_changes)++;
		}
		done++;
	}
	if (done > 0) {
		memmove(m->pending, m->pending + done, (size_t)(m->n_pending - done) * sizeof m->pending[0]);
		m->n_pending -= done;
	}
}

static double clamp01(double x)
{
	return x < 0 ? 0 : (x > 1 ? 1 : x);
}

static uint64_t round_counter(double v)
{
	return v <= 0 ? 0 : (uint64_t)llround(v);
}

void container_model_step(struct container_model *m, int64_t t_ms, int64_t dt_ms,
                          const struct cm_demand *d, struct cm_step *out,
                          struct feat_raw *sample)
{
	struct cm_step st;
	memset(&st, 0, sizeof st);
	apply_due(m, t_ms, &st.cpu_changes, &st.mem_changes);

	const double dt_s = (double)dt_ms / 1000.0;
	const double dt_us = (double)dt_ms * 1000.0;
	const double limit = m->cpu_limit_cores;
	const double mem_max = m->mem_limit_mb;
	const double mem_high = cm_mem_high_mb(mem_max);
	const double base = m->p.restart_base_mb;
	double demand_cpu = d->cpu_cores > 0 ? d->cpu_cores : 0;
	double demand_mem = d->mem_mb > 0 ? d->mem_mb : 0;
	double n = clamp01(d->neighbour_stall);

	st.cpu_demand_cores = demand_cpu;
	st.cpu_limit_cores = limit;
	st.mem_demand_mb = demand_mem;
	st.mem_limit_mb = mem_max;

	/* memory first: an OOM kill in this step also stops the CPU work */
	double owed_cap = demand_mem - base > 0 ? demand_mem - base : 0;
	if (m->oom_offset_mb > owed_cap)
		m->oom_offset_mb = owed_cap;
	double mem = demand_mem - m->oom_offset_mb;
	bool restarting = t_ms < m->restart_until_ms;

	if (mem > mem_max + m->p.swap_mb) {
		m->oom_kills++;
		m->oom_offset_mb += mem - base;
		m->restart_until_ms = t_ms + m->p.restart_ms;
		mem = base < demand_mem ? base : demand_mem;
		st.oom_kill = true;
		st.mem_some = 1.0; /* the step ended in reclaim, then the kill */
		st.mem_full = 1.0;
		restarting = true;
	} else if (mem > mem_high) {
		double band = mem_max + m->p.swap_mb - mem_high;
		st.mem_some = band > 0 ? clamp01((mem - mem_high) / band) : 1.0;
		st.mem_full = st.mem_some / 2.0;
	}
	double swapped = mem > mem_high ? mem - mem_high : 0;
	st.mem_used_mb = mem - swapped;
	st.restarting = restarting;

	if (restarting) {
		st.cpu_used_cores = 0;
	} else {
		st.cpu_used_cores = demand_cpu < limit ? demand_cpu : limit;
		double over = demand_cpu - limit;
		if (over > 0) {
			st.cpu_throttled_s = over * dt_s;
			double thr = over / demand_cpu;
			st.cpu_some = 1.0 - (1.0 - thr) * (1.0 - n);
			st.cpu_full = thr + (1.0 - thr) * n / 2.0;
			m->nr_throttled += (double)dt_ms / CM_CPU_PERIOD_MS;
		} else {
			st.cpu_some = n;
			st.cpu_full = n / 2.0;
		}
	}

	m->nr_periods += (double)dt_ms / CM_CPU_PERIOD_MS;
	m->usage_us += st.cpu_used_cores * dt_us;
	m->cpu_some_us += st.cpu_some * dt_us;
	m->cpu_full_us += st.cpu_full * dt_us;
	m->mem_some_us += st.mem_some * dt_us;
	m->mem_full_us += st.mem_full * dt_us;
	m->io_some_us += st.mem_some * dt_us;

	if (out)
		*out = st;
	if (!sample)
		return;
	const double mib = 1024.0 * 1024.0, gib = mib * 1024.0;
	memset(sample, 0, sizeof *sample);
	sample->mono_ms = t_ms + dt_ms;
	sample->wall_ms = t_ms + dt_ms;
	sample->known = RAW_BIT(RAW_CPU_USAGE) | RAW_BIT(RAW_CPU_CORES) | RAW_BIT(RAW_MEM) |
	                RAW_BIT(RAW_SWAP) | RAW_BIT(RAW_SWAP_TOTAL) | RAW_BIT(RAW_IO) |
	                RAW_BIT(RAW_NET) | RAW_BIT(RAW_FS) | RAW_BIT(RAW_PIDS) |
	                RAW_BIT(RAW_PSI_CPU) | RAW_BIT(RAW_PSI_MEM) | RAW_BIT(RAW_PSI_IO) |
	                RAW_BIT(RAW_RECLAIM) | RAW_BIT(RAW_THROTTLE) | RAW_BIT(RAW_OOM);
	sample->cpu_usage_usec = round_counter(m->usage_us);
	sample->cpu_cores = limit;
	sample->mem_file = round_counter(m->p.file_cache_mb * mib);
	sample->mem_current = round_counter(st.mem_used_mb * mib) + sample->mem_file;
	sample->swap_current = round_counter(swapped * mib);
	sample->swap_total = round_counter(m->p.swap_mb * mib);
	sample->fs_total_bytes = round_counter(m->p.fs_total_gb * gib);
	sample->fs_used_bytes = round_counter(m->p.fs_used_gb * gib);
	sample->fs_free_bytes = sample->fs_total_bytes - sample->fs_used_bytes;
	sample->pids = restarting ? 1 : d->nr_procs;
	sample->psi_total_us[0][0] = round_counter(m->cpu_some_us);
	sample->psi_total_us[0][1] = round_counter(m->cpu_full_us);
	sample->psi_total_us[1][0] = round_counter(m->mem_some_us);
	sample->psi_total_us[1][1] = round_counter(m->mem_full_us);
	sample->psi_total_us[2][0] = round_counter(m->io_some_us);
	sample->reclaim_stall_us = round_counter(m->mem_some_us);
	sample->nr_periods = round_counter(m->nr_periods);
	sample->nr_throttled = round_counter(m->nr_throttled);
	sample->oom_kills = m->oom_kills;
}

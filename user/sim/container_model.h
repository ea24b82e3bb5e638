/*
 * sim/container_model.h — what a container gets, given its limits and what it asks for.
 *
 * Replay needs one trace to score any policy: the trace says what the workload *wants*
 * (CPU cores, memory MiB, outside CPU contention, processes) and this model says what it
 * *gets* under the limits a policy chose, in the same raw form the sampler reads from the
 * kernel (struct feat_raw, the daemon's raw sample: cumulative usage, throttling, PSI totals,
 * OOM kills), which the daemon's own feature code then turns into rows. The model
 * is deliberately simple and hand-checkable; every rule is stated in sim/container_model.c.
 *
 * Limits change with a lag: a policy schedules a change for a time (its decision time plus
 * its own delay), and the model applies it at the first step that starts at or after it.
 */
#ifndef LXCSCALE_CONTAINER_MODEL_H
#define LXCSCALE_CONTAINER_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "features/features.h"

#define CM_PENDING_MAX 16
#define CM_CPU_PERIOD_MS 100 /* cpu.max period Proxmox writes */

struct cm_params {
	double swap_mb;         /* memory.swap.max: demand above max + swap is OOM-killed */
	double restart_base_mb; /* memory in use right after the killed service restarts */
	int64_t restart_ms;     /* how long a killed service does no work */
	double file_cache_mb;   /* page cache: reported, never counted as used */
	double fs_total_gb, fs_used_gb;
};

/* what the workload wants during one step */
struct cm_demand {
	double cpu_cores;       /* runnable work, in cores */
	double mem_mb;          /* anonymous memory it would touch, MiB */
	double neighbour_stall; /* 0..1: share of time others' CPU use delays it */
	uint32_t nr_procs;
};

/* what happened during one step (for the scorecard) */
struct cm_step {
	double cpu_demand_cores, cpu_used_cores, cpu_limit_cores;
	double cpu_throttled_s;  /* (demand - limit)+ × dt */
	double cpu_some, cpu_full; /* stall shares 0..1 over the step */
	double mem_demand_mb, mem_used_mb, mem_limit_mb;
	double mem_some, mem_full;
	bool oom_kill;           /* an OOM kill happened in this step */
	bool restarting;         /* the killed service was restarting */
	int cpu_changes, mem_changes; /* limit changes applied at the start of the step */
};

struct cm_pending {
	int64_t at_ms;
	double cpu_cores; /* <= 0: unchanged */
	double mem_mb;    /* <= 0: unchanged */
};

struct container_model {
	uint32_t vmid;
	struct cm_params p;
	double cpu_limit_cores, mem_limit_mb;
	struct cm_pending pending[CM_PENDING_MAX];
	int n_pending;
	double oom_offset_mb;    /* memory the last OOM kill freed, still owed by the trace */
	int64_t restart_until_ms;
	/* cumulative counters kept in double, rounded when a sample is emitted */
	double usage_us, nr_periods, nr_throttled;
	double cpu_some_us, cpu_full_us, mem_some_us, mem_full_us, io_some_us, io_full_us;
	uint64_t oom_kills;
};

/* Proxmox's memory.high for a `memory` setting (PVE::LXC::Config::calculate_memory_constraints) */
double cm_mem_high_mb(double mem_mb);

/* defaults: swap 512 MiB (Proxmox's default), restart base 256 MiB, restart 10 s */
void cm_params_default(struct cm_params *p);

void container_model_init(struct container_model *m, uint32_t vmid, const struct cm_params *p,
                          double cpu_cores, double mem_mb);

/* Schedule new limits from at_ms on (<= 0 leaves that resource as it is). Returns 0, or -1
 * when too many changes are pending. A later schedule for the same time wins. */
int container_model_schedule(struct container_model *m, int64_t at_ms, double cpu_cores,
                             double mem_mb);

/* Run the step [t_ms, t_ms + dt_ms): apply due changes, serve the demand, and write the
 * sample read at t_ms + dt_ms (mono_ms = wall_ms = t_ms + dt_ms). out and sample may be NULL.
 * Every field the model knows is marked known; run-queue latency (BPF only) is not. */
void container_model_step(struct container_model *m, int64_t t_ms, int64_t dt_ms,
                          const struct cm_demand *d, struct cm_step *out,
                          struct feat_raw *sample);

#endif

/*
 * collect/sampler.h — one container's cgroup reading (cgroup.h's struct cg_sample) mapped onto
 * the feature module's raw sample and the container's current allocation.
 *
 * The allocation is what the policy's percentages are "of" and what a decision moves from:
 *   cores: cpu.max quota/period when limited, the size of cpuset.cpus.effective when that
 *          is known, the smaller of the two when both are; else `assumed_cores` (config
 *          cgroup.assumed_cores) when > 0; else unknown — and that resource is not scaled.
 *   memory: memory.max when it is a number; else `assumed_ram_mb`; else unknown.
 * The assumed values exist for hosts without the cpu/memory controllers (a plain cgroup v2
 * machine, CI): an admin states what a container "has" there, as pct config does on Proxmox.
 *
 * Values the cgroup library left unknown stay unknown here (the RAW_* bit is not set).
 * "max" for memory.swap.max takes the host's SwapTotal, what the guest would see.
 *
 * Folder: collect/ owns reading the host: cgroup files mapped onto samples (here), the BPF
 * programs (collect/bpf_loader.h), network and root-filesystem figures (collect/ctextra.h), the
 * start-up probe (collect/hostprobe.h).
 * May include: types/ base/ config/ features/, and the cgroup/ and bpf/ libraries (the table in
 * user/README.md).
 */
#ifndef LXCSCALE_SAMPLER_H
#define LXCSCALE_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "features/features.h"

struct sampler_opts {
	double assumed_cores;     /* 0: unknown when the cgroup has no CPU limit */
	double assumed_ram_mb;    /* 0: unknown when the cgroup has no memory limit */
	uint64_t host_swap_bytes; /* SwapTotal, for memory.swap.max = max */
};

struct alloc {
	bool cores_known, ram_known;
	double cores;
	double ram_mb;
};

/* Fills raw (mono_ms from the sample, wall_ms given) and the allocation. Extras that do not
 * come from cgroup files (network, filesystem, BPF) are added by the caller. */
void sampler_map(const struct cg_sample *s, const struct sampler_opts *o, int64_t wall_ms,
		 struct feat_raw *raw, struct alloc *a);

/* The limit-file values the mapping uses (cpu.max, the size of cpuset.cpus.effective,
 * memory.max, memory.swap.max), as last read. A caller that reads the limit files only now
 * and then (cg_sample_read_mask, CG_READ_LIMITS) keeps them from its last limits read and
 * maps a counters-only sample with them: the allocation stays what it was, never unknown
 * or 0 for not having been read this time. Values that were unknown stay unknown. */
struct sampler_limits {
	cg_u64 cpu_quota_usec, cpu_period_usec, mem_max, swap_max;
	uint32_t cpuset_count;       /* CPUs in cpuset.cpus.effective */
	uint8_t cpuset_state;        /* enum cg_state of cpuset.cpus.effective */
};

/* The limits of a sample that read the limit files. */
void sampler_limits_keep(const struct cg_sample *s, struct sampler_limits *l);
/* sampler_map() with the limits taken from *l instead of from s (s's limit values are not
 * looked at: a counters-only sample has them unknown). */
void sampler_map_carried(const struct cg_sample *s, const struct sampler_limits *l,
			 const struct sampler_opts *o, int64_t wall_ms, struct feat_raw *raw,
			 struct alloc *a);

/* The host's SwapTotal in bytes from /proc/meminfo text (0 when absent). */
uint64_t sampler_parse_swap_total(const char *meminfo);

#endif

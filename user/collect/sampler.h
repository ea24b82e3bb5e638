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
 * collect_sample_ct() is one container's whole sample as the daemon takes it: which cgroup
 * files it reads this time (limit files now and then, pressure carried over for an idle
 * container), the mapping above, then what the cgroup does not hold (veth counters and disk
 * usage through collect/ctextra.h, BPF's run-queue, reclaim and OOM aggregates). The daemon
 * keeps the per-container state it is given and stores the result.
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
#include "collect/ctextra.h"
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
	cg_u64 cpu_quota_usec, cpu_period_usec, mem_max, mem_high, swap_max;
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

/* ---- one container's sample ------------------------------------------------------------ */

/* The limit files change when someone writes them: a quiet container reads them every
 * LIMITS_EVERY_SAMPLES-th sample (a change made outside lxcscale, pct set by hand, shows
 * within 10 s for a quiet container, 50 s for an idle one with the default intervals), at
 * once while hot, and our own writes are read back at the next sample (stale). */
#define LIMITS_EVERY_SAMPLES 10
/* An idle container whose tasks did not run since its last sample carries its pressure
 * totals over instead of reading the three files, at most this many samples in a row
 * (30 s at the default idle interval); see collect_sample_ct(). */
#define PSI_CARRY_MAX 5
#define FS_EVERY_MS 5000          /* statvfs of a hot container's root */
#define FS_QUIET_EVERY_MS 30000   /* ... of a quiet one: disk usage moves slowly */

/* A container's limit files as last read, and whether they are due again. */
struct sampler_limits_cache {
	struct sampler_limits v;
	bool known;                   /* read at least once */
	bool stale;                   /* written since (by us): read them at the next sample */
	uint8_t samples_since;        /* samples since they were last read */
};

/* What the BPF programs report of one container (kept by the daemon's drain of their maps). */
struct sampler_bpf {
	bool seen;                    /* BPF counts this container (registered in its set) */
	uint64_t drain_no;            /* the drain that last reported it: runq_p50/p99 hold
	                                 that interval's values, 0 for a later interval */
	uint64_t sample_no;           /* the host's drain_no at its last sample */
	uint64_t oom, reclaim_us;     /* cumulative OOM kills and reclaim stall */
	double runq_p50_us, runq_p99_us;
};

/* The drains of the BPF maps, host-wide. */
struct sampler_bpf_host {
	bool counts_cpu;              /* the run-queue programs are attached: a container BPF
	                                 never reports had no task switched in or out */
	uint64_t drain_no;            /* drains run */
	uint64_t fail_no;             /* the last drain that failed (its reports may be missing) */
};

/* What every container's sample reads with. */
struct sampler_host {
	const struct sampler_opts *opts;
	const struct ctextra_roots *roots;
	const struct sampler_bpf_host *bpf;
};

/* One container as its sample sees it: its handles, what it keeps between samples, and
 * what the daemon's schedule says of it now. */
struct sampler_ct {
	cg_ct *cg;
	struct ctextra *extra;
	struct sampler_limits_cache *limits;
	struct sampler_bpf *bpf;      /* sample_no is set by a successful sample */
	const struct feat_raw *prev;  /* its previous sample; NULL before the first */
	bool hot;                     /* watched closely: everything is read */
	bool idle;                    /* its last evaluation saw nothing going on */
	bool psi_triggers;            /* its memory and cpu PSI triggers are armed */
	unsigned psi_carried;         /* samples in a row that carried pressure over */
};

struct sampler_result {
	struct feat_raw raw;
	struct alloc alloc;           /* from the limit files or the assumed values */
	bool pressure_carried;        /* pressure totals taken from prev: no task ran */
	bool cpu_from_bpf;            /* cpu.stat taken from prev: BPF saw no task run */
	double psi_avg10[3];          /* cpu, memory, io `some` avg10, when not carried */
	double psi_full_avg10[3];     /* the same for `full` (cpu full: kernel 5.13 and later) */
};

/* Reads one container. CG_OK with *out filled, CG_GONE when its cgroup went away, another
 * error when it could not be read (then nothing in *c changed). */
cg_err collect_sample_ct(const struct sampler_host *h, const struct sampler_ct *c, int64_t now_ms,
			 struct sampler_result *out);

/* The host's SwapTotal in bytes from /proc/meminfo text (0 when absent). */
uint64_t sampler_parse_swap_total(const char *meminfo);

#endif

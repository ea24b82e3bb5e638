/*
 * lxcscale.h — the one header shared by the BPF programs (the bpf/ programs) and user space
 * (user/bpf_loader.c, the daemon, tests, bench).
 *
 * Two ways data leaves the kernel:
 *   - Frequent data is aggregated in the kernel: one `struct lxs_cagg` per container and per
 *     CPU in the per-CPU hash `lxs_cagg`, keyed by the container's cgroup id (the ancestor of
 *     the task at the container level). Every field only ever grows (cumulative since the
 *     entry was created), so user space takes deltas between two reads and nothing is lost
 *     between a read and a reset; after a daemon crash the pinned map is reused and the
 *     first read becomes the new baseline.
 *   - Rare events (OOM kill, a stall above a threshold, a container cgroup created or
 *     removed) go through the ring buffer `lxs_events` as `struct lxs_event`.
 *
 * Only fixed-width types, no pointers, explicit padding: the layout is identical for
 * `clang -target bpf` and the host compiler (checked by static asserts in the loader).
 */
#ifndef LXCSCALE_BPF_SHARED_H
#define LXCSCALE_BPF_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Where the loader pins the shared maps (bpffs). */
#define LXS_PIN_DIR "/sys/fs/bpf/lxcscale"

/* Run-queue latency histogram: slot 0 holds [0, 2) µs, slot i (i >= 1) holds
 * [2^i, 2^(i+1)) µs; the last slot also takes everything longer (2^31 µs ≈ 36 min).
 * A power of two: the BPF side masks the index so that every kernel's verifier can
 * prove the access in bounds. */
#define LXS_HIST_SLOTS 32

/* Capacity of the container set and of the aggregate map. A Proxmox host with more
 * than this many containers still works: the extra ones are counted in
 * LXS_STAT_AGG_FULL and show up as missing data, never as wrong data. */
#define LXS_MAX_CONTAINERS 4096

/* Change hints: the drain reads only the aggregates that changed since the previous
 * drain. The programs raise flag[lxs_dirty_slot(cgid)] after they update a container's
 * aggregate; user space maps the array (BPF_F_MMAPABLE), takes the flags with an atomic
 * exchange and reads just those aggregates, so a drain costs what changed, not what
 * exists. A flag is a hint shared by every container whose id hashes to it: a collision
 * costs one extra read, never a missed one. The program stores the flag after its
 * increments and user space clears it before its read, so no change goes unreported. */
#define LXS_DIRTY_BITS 13
#define LXS_DIRTY_SLOTS (1U << LXS_DIRTY_BITS) /* 2 x LXS_MAX_CONTAINERS */

struct lxs_dirty {
	__u8 flag[LXS_DIRTY_SLOTS];
};

/* Fibonacci hashing: cgroup ids are nearly sequential, their top product bits are not. */
static inline __u32 lxs_dirty_slot(__u64 cgid)
{
	return (__u32)((cgid * 0x9E3779B97F4A7C15ULL) >> (64 - LXS_DIRTY_BITS));
}

/* Key of the "host/other" bucket in lxs_cagg (present only when the loader asks for
 * it): tasks below no registered container. It is the root cgroup's id, which can never
 * be a container (the container level is >= 1); 0 means "no container" everywhere. */
#define LXS_OTHER_ID 1ULL

/* Value of lxs_ctrs (the container set the daemon fills). */
struct lxs_ctr {
	__u64 added_ns;   /* CLOCK_MONOTONIC when the daemon registered it (informational) */
	__u32 vmid;       /* Proxmox VMID, 0 when unknown; shown by bpftool map dump */
	__u32 flags;      /* reserved, 0 */
};

/* Value of lxs_cagg: per container, per CPU, cumulative. */
struct lxs_cagg {
	/* run-queue latency: wake-up (or preemption) to running, of tasks in the container */
	__u64 runq_hist[LXS_HIST_SLOTS]; /* count per log2 µs slot */
	__u64 runq_sum_ns;
	__u64 runq_count;
	/* CPU use, from sched_switch */
	__u64 oncpu_ns;                  /* time the container's tasks spent on a CPU */
	__u64 nvcsw;                     /* voluntary switches out (slept, blocked) */
	__u64 nivcsw;                    /* involuntary switches out (preempted while runnable) */
	/* memory: limit (memcg) reclaim entered by the container's tasks */
	__u64 reclaim_ns;
	__u64 reclaim_count;
	__u64 reclaim_pages;             /* nr_reclaimed reported by the _end tracepoint */
	/* memory: global direct reclaim (host shortage) entered by the container's tasks */
	__u64 dreclaim_ns;
	__u64 dreclaim_count;
	/* OOM kills whose victim belonged to the container */
	__u64 oom_kills;
};

/* lxs_stats holds one struct lxs_stats per CPU (key 0), with named fields so that
 * `bpftool map dump pinned .../lxs_stats` shows which counter is which. enum lxs_stat
 * indexes the same fields as an array of __u64, in this order. */
struct lxs_stats {
	__u64 rb_events;    /* LXS_STAT_RB_EVENTS */
	__u64 rb_drops;     /* LXS_STAT_RB_DROPS */
	__u64 rate_limited; /* LXS_STAT_RATE_LIMITED */
	__u64 start_full;   /* LXS_STAT_START_FULL */
	__u64 agg_full;     /* LXS_STAT_AGG_FULL */
};

/* A field of struct lxs_stats. */
enum lxs_stat {
	LXS_STAT_RB_EVENTS = 0,   /* events written to the ring buffer */
	LXS_STAT_RB_DROPS,        /* events lost: ring buffer full */
	LXS_STAT_RATE_LIMITED,    /* notable events suppressed by the per-container rate limit */
	LXS_STAT_START_FULL,      /* a start timestamp could not be stored (pid map full) */
	LXS_STAT_AGG_FULL,        /* a container aggregate could not be created (map full) */
	LXS_STAT_NR,
};

enum lxs_event_type {
	LXS_EV_OOM_KILL = 1,      /* value = victim's total_vm pages; pid/comm = victim */
	LXS_EV_RECLAIM_STALL,     /* value = stall ns of one memcg reclaim pass over the threshold */
	LXS_EV_DRECLAIM_STALL,    /* value = stall ns of one direct reclaim pass over the threshold */
	LXS_EV_RUNQ_DELAY,        /* value = run-queue delay ns over the threshold */
	LXS_EV_CG_MKDIR,          /* cgid = new cgroup at the container level, path = its path */
	LXS_EV_CG_RMDIR,          /* cgid = removed cgroup at the container level */
	LXS_EV_TYPE_NR,
};

#define LXS_COMM_LEN 16
#define LXS_PATH_LEN 96

/* A record in the ring buffer lxs_events. */
struct lxs_event {
	__u32 type;               /* enum lxs_event_type */
	__u32 pid;                /* task concerned (victim, stalled or delayed task), 0 for lifecycle */
	__u64 ts_ns;              /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgid;               /* container cgroup id (ancestor at the container level) */
	__u64 value;              /* meaning depends on type, see enum lxs_event_type */
	__u32 cpu;
	__u32 level;              /* cgroup level of cgid (lifecycle), container level otherwise */
	char comm[LXS_COMM_LEN];  /* task command, "" for lifecycle */
	char path[LXS_PATH_LEN];  /* lifecycle: cgroup path as the tracepoint gives it, else "" */
};

#endif /* LXCSCALE_BPF_SHARED_H */

/*
 * collect/bpf_loader.h — the daemon's handle on lxcscale's BPF programs.
 *
 * lxs_bpf_open() loads the per-concern BPF objects (run-queue/CPU, memory stall, OOM kill,
 * cgroup lifecycle), sets their knobs, attaches each program as `tp_btf` when the kernel
 * supports it and as `raw_tp` otherwise, and pins the shared maps under LXS_PIN_DIR.
 * The daemon then:
 *   - registers container cgroup ids (lxs_bpf_add_container) — only those are counted —
 *     and, after that first scan, calls lxs_bpf_prune() to forget containers that went
 *     away while it was down (pins reused after a crash);
 *   - puts lxs_bpf_ring_fd() in its epoll set and calls lxs_bpf_consume() when it is readable
 *     (OOM kills, stalls over a threshold, container cgroups created/removed);
 *   - calls lxs_bpf_drain() every tick to get per-container deltas since the previous drain.
 * lxs_bpf_close(b, true) on a clean stop removes the pins; after a crash the next
 * lxs_bpf_open() reuses them.
 *
 * Errors: functions return 0 or a negative errno; lxs_bpf_open() also writes a sentence for
 * the admin into `err` (not root, no BTF, no bpffs, ...). Not thread-safe: one thread (the
 * event loop) owns the handle. lxs_bpf_open() installs a libbpf print callback that passes
 * libbpf's warnings to stderr (everything with LXCSCALE_BPF_DEBUG=1 in the environment).
 *
 * Cost, measured by bench/bpf on the 2-core dev VM under pipe ping-pong with BPF stats on:
 * sched_switch about 205 ns per run for a container task, 185 ns for a host task;
 * sched_wakeup about 200 / 90 ns; a drain of a few containers about 30 us of user CPU. A
 * drain reads only the containers whose counters changed (see lxs_bpf_drain).
 */
#ifndef LXCSCALE_BPF_LOADER_H
#define LXCSCALE_BPF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "lxcscale.h"

struct lxs_bpf;

struct lxs_bpf_opts {
	const char *pin_dir;         /* NULL = LXS_PIN_DIR; "" = do not pin (tests, bench) */
	int container_level;         /* cgroup level of a container: 2 for /lxc/<vmid> on PVE */
	uint64_t lifecycle_parent;   /* report mkdir/rmdir only below this cgroup id (the
	                                directory at container_level-1, e.g. /lxc); 0 = any */
	uint64_t runq_notify_ns;     /* ring event when one run-queue delay exceeds this; 0 = never */
	uint64_t reclaim_notify_ns;  /* ring event when one reclaim pass exceeds this; 0 = never */
	uint64_t notify_interval_ns; /* at most one notable event per container, type and CPU per
	                                interval; 0 = 1 s */
	bool count_other;            /* also aggregate tasks outside any container under LXS_OTHER_ID */
	bool force_raw_tp;           /* skip tp_btf even when supported (tests of the fallback) */
	bool force_iterate;          /* drain by key iteration, not batch lookups (tests) */
	bool force_full_drain;       /* ignore the change flags: every drain reads everything */
	bool want_runq;              /* load run-queue latency / on-CPU programs */
	bool want_mem;               /* load memcg + direct reclaim programs */
	bool want_oom;               /* load oom:mark_victim */
	bool want_lifecycle;         /* load cgroup_mkdir/rmdir */
};

/* Defaults: level 2, no pin override, 5 ms runq / 10 ms reclaim notify, 1 s interval,
 * every concern wanted, count_other off. */
void lxs_bpf_opts_default(struct lxs_bpf_opts *o);

/* Checks that loading can work (root or CAP_BPF+CAP_PERFMON, /sys/kernel/btf/vmlinux,
 * bpffs mountable at /sys/fs/bpf when pinning). Returns 0 or -errno with a sentence in err. */
int lxs_bpf_preflight(const struct lxs_bpf_opts *o, char *err, size_t errlen);

/* Loads and attaches. Mounts bpffs at /sys/fs/bpf when pinning and it is absent.
 * A concern whose tracepoints the kernel lacks is left out (see lxs_bpf_concerns()) and
 * is not an error unless nothing at all could be attached. */
int lxs_bpf_open(struct lxs_bpf **out, const struct lxs_bpf_opts *o, char *err, size_t errlen);

/* Detaches and frees. unpin=true (clean stop) removes the pinned maps and the directory. */
void lxs_bpf_close(struct lxs_bpf *b, bool unpin);

/* "tp_btf" or "raw_tp": how the programs were attached. */
const char *lxs_bpf_attach_mode(const struct lxs_bpf *b);

/* Bit set of the concerns attached. */
enum lxs_concern {
	LXS_CONCERN_RUNQ = 1u << 0,
	LXS_CONCERN_MEM = 1u << 1,
	LXS_CONCERN_OOM = 1u << 2,
	LXS_CONCERN_LIFECYCLE = 1u << 3,
};
unsigned lxs_bpf_concerns(const struct lxs_bpf *b);

/* The container set. cgid = inode of the container's cgroup directory (>= 2). Adding an
 * id twice is fine; removing drops its aggregates too. -EINVAL bad id, -ENOSPC full. */
int lxs_bpf_add_container(struct lxs_bpf *b, uint64_t cgid, uint32_t vmid);
int lxs_bpf_remove_container(struct lxs_bpf *b, uint64_t cgid);

/* After a restart that reused pinned maps: removes from the kernel's container set and
 * aggregates every id not added in this run (containers that went away while the daemon
 * was down). Call it once the initial container scan has added the live ones. Returns the
 * number of ids removed or -errno. */
int lxs_bpf_prune(struct lxs_bpf *b);

/* Ring buffer: an fd for epoll (EPOLLIN) and a consume call that invokes fn for each
 * event without blocking. fn returning non-zero stops early. Returns the number of
 * events consumed or -errno. */
typedef int (*lxs_bpf_event_fn)(const struct lxs_event *ev, void *ctx);
int lxs_bpf_ring_fd(const struct lxs_bpf *b);
int lxs_bpf_consume(struct lxs_bpf *b, lxs_bpf_event_fn fn, void *ctx);
const char *lxs_event_type_name(uint32_t type);

/* One container's change since the previous drain. */
struct lxs_ct_delta {
	uint64_t cgid;
	uint64_t runq_count;       /* task wake-ups/preemptions that reached a CPU */
	uint64_t runq_sum_ns;
	uint64_t runq_p50_ns;      /* estimates from the log2 histogram of this interval, 0 if none */
	uint64_t runq_p99_ns;
	uint64_t runq_hist[LXS_HIST_SLOTS];
	uint64_t oncpu_ns;
	uint64_t nvcsw, nivcsw;
	uint64_t reclaim_ns, reclaim_count, reclaim_pages;
	uint64_t dreclaim_ns, dreclaim_count;
	uint64_t oom_kills;
	bool first;                /* first drain that saw this container: deltas are 0 (baseline) */
};

/* Writes the deltas of the registered containers (and LXS_OTHER_ID when count_other)
 * whose aggregates changed since the previous drain into out[0..cap), and of those whose
 * baseline is unknown (first = true: reused after a crash); a container not written had
 * no event in the interval (all its deltas are 0). *n = number written. -ENOBUFS when
 * cap is too small: the first cap are valid, the rest come at the next drain. Reads only
 * the changed aggregates (the change flags of struct lxs_dirty), or all of them (batch
 * lookups, or iteration on kernels without them) at the first drain, every 64th, when
 * more than a quarter changed, and when the flags cannot be mapped. */
int lxs_bpf_drain(struct lxs_bpf *b, struct lxs_ct_delta *out, size_t cap, size_t *n);

/* The cumulative sums (over CPUs) of one container's aggregate, as the kernel holds them
 * now; the drain's deltas add up to these. -ENOENT when it has none. */
int lxs_bpf_read(struct lxs_bpf *b, uint64_t cgid, struct lxs_cagg *sum);

/* A container with a task on a CPU now, as the last context switch (or a task moving
 * itself into it) left that CPU: since_ns is when that task got the CPU (CLOCK_MONOTONIC).
 * A task alone on a CPU may run for seconds without a switch, so a drain that reported
 * nothing for a container does not mean none of its tasks ran. */
struct lxs_on_cpu {
	uint64_t cgid;
	uint64_t since_ns;
};

/* *out: one entry per CPU that runs a registered container's task (a container on two
 * CPUs appears twice), in a buffer of b's that holds every CPU and stays valid until the
 * next call. *n = 0 and 0 when the run-queue programs are not loaded. */
int lxs_bpf_on_cpu(struct lxs_bpf *b, const struct lxs_on_cpu **out, size_t *n);

/* What the drains cost so far (tests and bench). */
struct lxs_bpf_drain_stats {
	uint64_t drains;           /* lxs_bpf_drain calls */
	uint64_t full;             /* of which read every aggregate */
	uint64_t lookups;          /* single-aggregate reads for raised change flags */
	uint64_t reported;         /* deltas written */
	bool change_flags;         /* the flags are mapped (false: every drain is full) */
};
void lxs_bpf_drain_stats(const struct lxs_bpf *b, struct lxs_bpf_drain_stats *st);

/* Cumulative counters from lxs_stats (summed over CPUs). */
int lxs_bpf_stat(const struct lxs_bpf *b, enum lxs_stat which, uint64_t *value);

/* Estimate of quantile q (0..1) from a log2-µs histogram, interpolated inside the slot.
 * Returns ns; 0 for an empty histogram. */
uint64_t lxs_hist_quantile_ns(const uint64_t *hist, size_t slots, double q);

/* BPF run-time statistics (host-wide, costs two clock reads per program run on the host):
 * enable holds an fd from BPF_ENABLE_STATS until disable or close. */
int lxs_bpf_stats_enable(struct lxs_bpf *b);
void lxs_bpf_stats_disable(struct lxs_bpf *b);

struct lxs_prog_stat {
	char name[16];             /* program name as bpftool prog show lists it */
	uint64_t run_cnt;
	uint64_t run_time_ns;
};
/* Per attached program, cumulative since load. *n = number written (<= cap). */
int lxs_bpf_prog_stats(const struct lxs_bpf *b, struct lxs_prog_stat *out, size_t cap, size_t *n);

/* BPF loader options from bpf.* (defaults for the rest; the caller sets the cgroup level
 * and the lifecycle parent, which come from the hierarchy, not the configuration). */
void lxs_bpf_opts_from_config(const struct lxcscale_config *c, struct lxs_bpf_opts *o);

#endif /* LXCSCALE_BPF_LOADER_H */

/*
 * cgroup.h — the one public header of lxcscale's cgroup v2 library.
 *
 * The library is how a program sees and changes containers through cgroup v2 files.
 * It knows nothing of the daemon; it needs only libc. Five parts:
 *
 *  1. Hierarchy (cg_hier): where cgroup v2 is mounted (pure v2 at /sys/fs/cgroup or hybrid
 *     /sys/fs/cgroup/unified, or a configured path), where containers live (Proxmox: the
 *     directory "lxc", one child per vmid, tasks below "<vmid>/ns") and at which cgroup level
 *     a container sits (lxc/<vmid> = level 2; computed from the path, never hard-coded).
 *
 *  2. Container set (cg_ctset): the ids present under the container root. An inotify fd on the
 *     root directory (IN_CREATE/IN_DELETE) goes into the caller's epoll loop, so containers
 *     coming and going are noticed without rescanning the tree every tick; a full rescan is
 *     there for start-up, inotify overflow and paranoia.
 *
 *  3. Container handle (cg_ct): the files of one container kept open; one cg_sample_read()
 *     preads them all (no open/close per sample), cg_sample_read_mask() a class of them
 *     (the counters every time, the limits now and then). Every value in struct cg_sample carries a
 *     state: a missing controller or file, or unparsable text, leaves a value CG_UNKNOWN —
 *     never a fake 0. A container that disappears mid-read gives CG_GONE, a normal outcome.
 *
 *  4. Events: PSI triggers ("<some|full> <stall_us> <window_us>") on a container's or the
 *     host's pressure files, with the window the kernel accepted (an unprivileged opener needs
 *     2 s multiples: the library falls back to the nearest one), and memory.events change
 *     notifications. Both are plain fds for the caller's epoll loop.
 *
 *  5. Writers with the safety rules of Proxmox and the kernel: cpu.max, cpuset.cpus (parent
 *     widened first, child narrowed first), memory.max/memory.high (grow: max then high;
 *     shrink: high then max, never below memory.current + headroom), memory.swap.max.
 *     Every write is read back and compared.
 *
 * Errors: every function that can fail returns an enum cg_err (CG_OK = 0); cg_strerror()
 * names it. CG_EIO keeps errno from the failing system call.
 * Thread safety: a handle may be used by one thread at a time; different handles are
 * independent. Nothing here allocates on the sampling path.
 */
#ifndef LXCSCALE_CGROUP_H
#define LXCSCALE_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors --------------------------------------------------------------------------- */

typedef enum cg_err {
	CG_OK = 0,
	CG_GONE,      /* the container (cgroup directory) vanished: ENOENT/ENODEV. Normal. */
	CG_ENOTSUP,   /* the file or controller does not exist here */
	CG_EINVAL,    /* a bad argument (id, value out of range, NULL), or the kernel said EINVAL */
	CG_EPARSE,    /* a file's contents could not be parsed */
	CG_EIO,       /* a system call failed; errno is kept */
	CG_ENOMEM,
	CG_EVERIFY,   /* the value read back after a write is not the value written */
	CG_EUNSAFE,   /* refused: memory.max below memory.current + headroom would OOM-kill */
	CG_ENOMOUNT,  /* no cgroup v2 mount or no container root found */
	CG_EBUSY,     /* the kernel refused with EBUSY (e.g. a second trigger on one fd) */
	CG_EPERM,     /* EACCES/EPERM */
	CG__COUNT
} cg_err;

const char *cg_strerror(cg_err err);

/* ---- values with a state -------------------------------------------------------------- */

enum cg_state {
	CG_UNKNOWN = 0, /* missing file/controller/field or unparsable: do not use .v */
	CG_KNOWN = 1,   /* .v holds the value */
	CG_MAX = 2,     /* the file says "max": no limit (.v is UINT64_MAX) */
};

typedef struct cg_u64 {
	uint64_t v;
	uint8_t state; /* enum cg_state */
} cg_u64;

typedef struct cg_f64 {
	double v;
	uint8_t state; /* enum cg_state; never CG_MAX */
} cg_f64;

static inline bool cg_known(cg_u64 x) { return x.state == CG_KNOWN; }

/* A CPU list such as "0-3,8,10-11". CPUs at or above CG_CPUSET_MAX_CPUS make it unparsable. */
#define CG_CPUSET_MAX_CPUS 4096
typedef struct cg_cpuset {
	uint64_t bits[CG_CPUSET_MAX_CPUS / 64];
	uint32_t count;  /* CPUs in the set; 0 for an empty file ("inherit from parent") */
	uint8_t state;   /* enum cg_state */
} cg_cpuset;

/* Parse a kernel CPU list ("", "3", "0-3,8"), tolerant of a trailing newline. */
cg_err cg_cpuset_parse(const char *text, size_t len, cg_cpuset *out);
/* Format as a canonical list ("0-3,8"); returns CG_EINVAL if it does not fit in cap. */
cg_err cg_cpuset_format(const cg_cpuset *set, char *buf, size_t cap);
bool cg_cpuset_equal(const cg_cpuset *a, const cg_cpuset *b);

/* ---- 1. hierarchy --------------------------------------------------------------------- */

struct cg_config {
	/* Absolute path of the cgroup v2 mount. NULL: /sys/fs/cgroup if that is cgroup2,
	 * else /sys/fs/cgroup/unified if that is cgroup2, else CG_ENOMOUNT.
	 * A configured path is used as is (tests point it at a fake tree). */
	const char *mount;
	/* Container root relative to the mount, e.g. "lxc" (NULL = "lxc"), or "" for the mount. */
	const char *root;
	/* Directory name of a container below the root, with exactly one "%u" for the numeric
	 * id, e.g. "%u" (NULL = "%u", Proxmox) or "lxc-%u.scope". Ids are 1..999999999. */
	const char *id_pattern;
	/* Payload cgroup below the container where tasks run, e.g. "ns" (NULL = "ns");
	 * "" when there is none. Used by the cpuset writer (child of the limit cgroup). */
	const char *inner;
};

typedef struct cg_hier cg_hier;

cg_err cg_hier_open(const struct cg_config *cfg, cg_hier **out);
void cg_hier_close(cg_hier *h);
const char *cg_hier_mount(const cg_hier *h);     /* "/sys/fs/cgroup" */
const char *cg_hier_root(const cg_hier *h);      /* absolute: "/sys/fs/cgroup/lxc" */
bool cg_hier_is_cgroup2(const cg_hier *h);       /* the mount's statfs type is cgroup2 */
/* Cgroup level of a container: root's depth below the mount + 1 (Proxmox: 2). This is the
 * ancestor level BPF uses to attribute a task to its container. */
int cg_hier_level(const cg_hier *h);
/* Absolute directory of container `id` into buf. CG_EINVAL if it does not fit. */
cg_err cg_hier_ct_path(const cg_hier *h, uint32_t id, char *buf, size_t cap);
/* Match a directory name against the id pattern: true and *id when it is a container. */
bool cg_hier_match(const cg_hier *h, const char *name, uint32_t *id);
/* Cgroup id (= directory inode on 64-bit) of any path. */
cg_err cg_cgroup_id(const char *path, uint64_t *id);

/* ---- 2. container set ----------------------------------------------------------------- */

typedef struct cg_ctset cg_ctset;

/* Called for every container that appeared (added = true) or disappeared. */
typedef void (*cg_ctset_cb)(void *arg, uint32_t id, bool added);

/* Watch the container root (inotify) and scan it once; the first scan reports every
 * container through cb when cb is not NULL. */
cg_err cg_ctset_open(const cg_hier *h, cg_ctset **out, cg_ctset_cb cb, void *arg);
void cg_ctset_close(cg_ctset *s);
/* The inotify fd (non-blocking): add it to epoll with EPOLLIN. */
int cg_ctset_fd(const cg_ctset *s);
/* Drain pending inotify events, report changes through cb. On queue overflow or when the
 * root itself was replaced, falls back to a rescan. Returns CG_OK when nothing is pending. */
cg_err cg_ctset_process(cg_ctset *s, cg_ctset_cb cb, void *arg);
/* Rescan the root directory and report the differences to the known set. */
cg_err cg_ctset_rescan(cg_ctset *s, cg_ctset_cb cb, void *arg);
size_t cg_ctset_count(const cg_ctset *s);
/* Copy up to cap ids (ascending) into ids; returns how many there are in total. */
size_t cg_ctset_ids(const cg_ctset *s, uint32_t *ids, size_t cap);
bool cg_ctset_has(const cg_ctset *s, uint32_t id);

/* ---- 3. container handle and sample --------------------------------------------------- */

typedef struct cg_ct cg_ct;

/* Open container `id` of the hierarchy: directory fd plus every readable file. CG_GONE
 * when the directory does not exist. Files that do not exist stay unknown in samples. */
cg_err cg_ct_open(const cg_hier *h, uint32_t id, cg_ct **out);
/* Open any cgroup directory (absolute path), e.g. the host's root cgroup. `inner` is the
 * payload child name or NULL/"" for none; `id` is a label returned by cg_ct_id(). */
cg_err cg_ct_open_dir(const char *dir, const char *inner, uint32_t id, cg_ct **out);
void cg_ct_close(cg_ct *ct);
uint32_t cg_ct_id(const cg_ct *ct);
uint64_t cg_ct_cgroup_id(const cg_ct *ct);  /* directory inode, as BPF sees it */
const char *cg_ct_path(const cg_ct *ct);
/* Try again to open the files that were missing (a controller enabled later). Cheap when
 * all are open. Returns CG_GONE when the directory vanished. */
cg_err cg_ct_refresh(cg_ct *ct);

struct cg_psi_line {
	cg_f64 avg10, avg60, avg300; /* percent */
	cg_u64 total;                /* cumulative stall, microseconds */
};
struct cg_psi {
	struct cg_psi_line some, full;
};

struct cg_sample {
	uint64_t mono_ns;               /* CLOCK_MONOTONIC when the read started */

	/* cpu.stat (usage/user/system exist without the cpu controller; the rest need it) */
	cg_u64 cpu_usage_usec, cpu_user_usec, cpu_system_usec;
	cg_u64 cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
	cg_u64 cpu_nr_bursts, cpu_burst_usec;
	/* cpu.max: quota is CG_MAX for "max"; period in microseconds */
	cg_u64 cpu_max_quota_usec, cpu_max_period_usec;
	cg_cpuset cpuset_cpus, cpuset_cpus_effective;

	/* memory.* (bytes) */
	cg_u64 mem_current, mem_max, mem_high, swap_current, swap_max;
	/* memory.stat: a subset that the daemon's features and PVE's formulas use */
	cg_u64 mem_anon, mem_file, mem_kernel, mem_shmem, mem_slab, mem_sock;
	cg_u64 mem_active_anon, mem_inactive_anon, mem_active_file, mem_inactive_file;
	cg_u64 mem_unevictable, mem_slab_reclaimable;
	cg_u64 mem_pgfault, mem_pgmajfault, mem_pgscan, mem_pgsteal;
	cg_u64 mem_workingset_refault_anon, mem_workingset_refault_file;
	/* memory.events (hierarchical counters) */
	cg_u64 ev_low, ev_high, ev_max, ev_oom, ev_oom_kill, ev_oom_group_kill;

	/* io.stat, summed over devices; an empty file (no I/O yet) is a known 0 */
	cg_u64 io_rbytes, io_wbytes, io_rios, io_wios, io_dbytes, io_dios;

	cg_u64 pids_current;

	struct cg_psi psi_cpu, psi_memory, psi_io;
};

/* Read every file of the container into *out (all values reset to unknown first).
 * CG_OK: read (some values may still be unknown). CG_GONE: the container vanished during
 * the read; what was read before stays in *out. */
cg_err cg_sample_read(cg_ct *ct, struct cg_sample *out);

/* The files of a sample fall in four classes. Counters move all the time; limits change
 * only when someone writes them (an admin, pct, the caller itself), so a caller that
 * samples often may read them now and then and keep the last values meanwhile. CPU time
 * and pressure move only while the container has tasks that run, or want to run or wait
 * on memory or I/O, so a caller that knows none of them ran may skip them.
 *   CG_READ_CPU:      cpu.stat
 *   CG_READ_COUNTERS: memory.current, memory.stat, memory.events, memory.swap.current,
 *                     io.stat, pids.current
 *   CG_READ_PRESSURE: cpu.pressure, memory.pressure, io.pressure
 *   CG_READ_LIMITS:   cpu.max, cpuset.cpus, cpuset.cpus.effective, memory.max, memory.high,
 *                     memory.swap.max */
enum cg_read_class {
	CG_READ_COUNTERS = 1u << 0,
	CG_READ_LIMITS = 1u << 1,
	CG_READ_PRESSURE = 1u << 2,
	CG_READ_CPU = 1u << 3,
	CG_READ_ALL = CG_READ_CPU | CG_READ_COUNTERS | CG_READ_LIMITS | CG_READ_PRESSURE,
};
/* cg_sample_read() of the files in `mask` (enum cg_read_class bits) only: the values of
 * the other files stay CG_UNKNOWN. CG_EINVAL for an empty mask or unknown bits. */
cg_err cg_sample_read_mask(cg_ct *ct, unsigned mask, struct cg_sample *out);
/* Reads the files in `mask` into a sample already begun (zeroed, or filled by an earlier
 * read), leaving every other value as it is; an empty mask reads nothing. The first read
 * into a zeroed sample sets its time (mono_ns). CG_EINVAL for unknown bits. */
cg_err cg_sample_read_more(cg_ct *ct, unsigned mask, struct cg_sample *out);
/* How many files of `mask` the handle holds open: the preads a masked read costs. */
unsigned cg_ct_files_held(const cg_ct *ct, unsigned mask);

/* Single-file readers for event handlers (after a PSI or memory.events wakeup). */
enum cg_resource { CG_RES_CPU = 0, CG_RES_MEMORY, CG_RES_IO, CG_RES__COUNT };
cg_err cg_read_pressure(cg_ct *ct, enum cg_resource res, struct cg_psi *out);
struct cg_mem_events {
	cg_u64 low, high, max, oom, oom_kill, oom_group_kill;
};
cg_err cg_read_mem_events(cg_ct *ct, struct cg_mem_events *out);
cg_err cg_read_mem_current(cg_ct *ct, cg_u64 *out);

/* The parsers behind the readers, for callers with text in hand (and for tests).
 * They never fail on garbage: what cannot be parsed stays CG_UNKNOWN. */
void cg_parse_psi(const char *text, size_t len, struct cg_psi *out);
void cg_parse_mem_events(const char *text, size_t len, struct cg_mem_events *out);
/* One number or "max" (memory.max, pids.max...). */
cg_u64 cg_parse_limit(const char *text, size_t len);
/* A flat-keyed file ("key value\n"...): looks up `key`. */
cg_u64 cg_parse_keyed(const char *text, size_t len, const char *key);
/* cpu.max: "max 100000" or "50000 100000". */
void cg_parse_cpu_max(const char *text, size_t len, cg_u64 *quota, cg_u64 *period);
/* io.stat: sums rbytes wbytes rios wios dbytes dios over the device lines. */
void cg_parse_io_stat(const char *text, size_t len, struct cg_sample *out);

/* ---- 4. events ------------------------------------------------------------------------ */

enum cg_psi_kind { CG_PSI_SOME = 0, CG_PSI_FULL };

#define CG_PSI_WINDOW_DEFAULT_US 500000u
#define CG_PSI_WINDOW_MAX_US 10000000u

/* Open a PSI trigger on the container's <res>.pressure (or on /proc/pressure/<res> with
 * cg_psi_host_trigger). Writes "<some|full> <stall_us> <window_us>"; when the kernel says
 * EINVAL (an unprivileged opener may only use 2 s multiples) it retries with the nearest
 * 2 s multiple (at least 2 s) and stall_us scaled by the same factor. *window_used_us and
 * *stall_used_us (may be NULL) receive what the kernel accepted. *fd is non-blocking and
 * owned by the caller (close it to remove the trigger): put it in epoll with EPOLLPRI;
 * EPOLLPRI = threshold crossed, EPOLLERR = the cgroup is gone. */
cg_err cg_psi_trigger_open(cg_ct *ct, enum cg_resource res, enum cg_psi_kind kind,
                           uint64_t stall_us, uint64_t window_us, int *fd,
                           uint64_t *window_used_us, uint64_t *stall_used_us);
cg_err cg_psi_host_trigger(enum cg_resource res, enum cg_psi_kind kind, uint64_t stall_us,
                           uint64_t window_us, int *fd, uint64_t *window_used_us,
                           uint64_t *stall_used_us);
/* Same on any pressure file path. */
cg_err cg_psi_trigger_path(const char *path, enum cg_psi_kind kind, uint64_t stall_us,
                           uint64_t window_us, int *fd, uint64_t *window_used_us,
                           uint64_t *stall_used_us);

/* A dedicated fd on memory.events for change notifications, owned by the handle (closed by
 * cg_ct_close): add it to epoll with EPOLLPRI. The kernel reports a change as
 * EPOLLPRI|EPOLLERR and a removed cgroup the same way, so after any wakeup call
 * cg_mem_events_ack(): it rereads the file through this fd (which re-arms the
 * notification; without it epoll keeps firing), fills *out (may be NULL) and returns
 * CG_GONE when the cgroup was removed. */
cg_err cg_mem_events_watch(cg_ct *ct, int *fd);
cg_err cg_mem_events_ack(cg_ct *ct, struct cg_mem_events *out);

/* What an epoll/poll event on a PSI trigger fd means: EPOLLERR = the trigger's cgroup is
 * gone (CG_FD_GONE), else EPOLLPRI = threshold crossed (CG_FD_EVENT). */
enum cg_fd_event { CG_FD_NONE = 0, CG_FD_EVENT, CG_FD_GONE };
enum cg_fd_event cg_psi_event_classify(uint32_t epoll_events);

/* ---- 5. writers ----------------------------------------------------------------------- */

#define CG_CPU_PERIOD_US 100000u
#define CG_MEM_HEADROOM_DEFAULT (64ull << 20)
#define CG_MEM_MIN_BYTES (16ull << 20)   /* pct's minimum `memory` */

/* cpu.max = "<cores*100000> 100000" (fractional cores allowed, at least 0.01);
 * cores == 0 writes "max" (no limit), as pct's cpulimit 0 does. */
cg_err cg_set_cpu(cg_ct *ct, double cores);
/* cpuset.cpus on the container and its payload child: the container gets the union of old
 * and new first (widen parent first), then the child the new set, then the container the
 * new set (narrow child first); writes that change nothing are skipped. */
cg_err cg_set_cpuset(cg_ct *ct, const cg_cpuset *cpus);
cg_err cg_set_cpuset_str(cg_ct *ct, const char *cpus);
/* Proxmox's memory.high for a memory.max of `max_bytes`:
 * max >= 16384 MiB ? max - 128 MiB : max * 1016 / 1024 (page aligned). */
uint64_t cg_pve_memory_high(uint64_t max_bytes);
/* Set memory.max to bytes (page aligned down) and memory.high by Proxmox's formula.
 * Growing: memory.max, then memory.high. Shrinking: memory.high, then memory.max — but
 * only if bytes >= memory.current + headroom (checked before any write and again before
 * memory.max); otherwise CG_EUNSAFE ("would OOM-kill") and memory.max is left alone. */
cg_err cg_set_memory(cg_ct *ct, uint64_t bytes, uint64_t headroom);
/* memory.high alone (for stepwise shrinking); CG_MAX-like "no limit" with UINT64_MAX. */
cg_err cg_set_memory_high(cg_ct *ct, uint64_t bytes);
/* memory.swap.max; UINT64_MAX writes "max". */
cg_err cg_set_swap(cg_ct *ct, uint64_t bytes);

/* Write `value` to file `name` of the container and read it back (exact text compare,
 * ignoring a trailing newline). The building block of the writers above; also for
 * cpu.weight, pids.max and the like. */
cg_err cg_write_verify(cg_ct *ct, const char *name, const char *value);

#ifdef __cplusplus
}
#endif
#endif /* LXCSCALE_CGROUP_H */

/*
 * lxs_common.bpf.h — BPF-side pieces every lxcscale object includes (kernel side only;
 * the structs shared with user space are in lxcscale.h).
 *
 * Why several objects share maps: each concern (run queue, memory stall, OOM, lifecycle)
 * is its own object so that a kernel lacking one concern's tracepoints (e.g. no
 * CONFIG_MEMCG) still gets the others. The maps that carry the results are declared here,
 * identically in every object, and shared: the loader passes the first object's map fds
 * to the next ones (bpf_map__reuse_fd) and libbpf pins them by name under the loader's
 * pin_root_path, so a restarted daemon reuses them. Maps private to one concern (start
 * timestamps) live in that object and are not pinned.
 *
 * The knobs are `const volatile` and set by the loader in every object before load.
 */
#ifndef LXS_COMMON_BPF_H
#define LXS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "lxcscale.h"

#define TASK_RUNNING 0
#define LXS_MAX_HOPS 12 /* cgroup levels below the container walked with plain loads */

/* ---- knobs (rodata, set by the loader) ---------------------------------------------- */
const volatile __u32 container_level = 2;       /* cgroup level of a container */
const volatile __u64 runq_notify_ns = 0;        /* 0 = no run-queue delay events */
const volatile __u64 reclaim_notify_ns = 0;     /* 0 = no reclaim stall events */
const volatile __u64 notify_interval_ns = 1000000000ULL;
const volatile __u64 lifecycle_parent = 0;      /* 0 = any parent */
const volatile bool count_other = false;

/* ---- shared maps (pinned by name) --------------------------------------------------- */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LXS_MAX_CONTAINERS);
	__type(key, __u64);                 /* container cgroup id */
	__type(value, struct lxs_ctr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lxs_ctrs SEC(".maps");

/* Not preallocated: a preallocated per-CPU hash costs max_entries x CPUs x 344 bytes
 * (180 MB on a 128-thread host) whatever the number of containers. Entries are created by
 * the loader when a container is registered; the programs create one only after a crash
 * reuse or for the host/other bucket (safe in tracing programs since 6.1's bpf_mem_alloc). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LXS_MAX_CONTAINERS + 1); /* + the host/other bucket */
	__type(key, __u64);                 /* container cgroup id, or LXS_OTHER_ID */
	__type(value, struct lxs_cagg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lxs_cagg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lxs_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lxs_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lxs_stats SEC(".maps");

/* Change hints for the drain (see struct lxs_dirty in lxcscale.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lxs_dirty);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lxs_dirty SEC(".maps");

/* Rate limit of notable events: last emit time per (container, event type), per CPU, so
 * the check needs no atomics. LRU: containers that went away age out by themselves. */
struct lxs_rl_key {
	__u64 cgid;
	__u32 type;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 2048);           /* LRU, so preallocated: kept small */
	__type(key, struct lxs_rl_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lxs_ratelim SEC(".maps");

/* Zero value for creating an aggregate entry (too large for the BPF stack). */
const struct lxs_cagg lxs_zero_cagg = {};

/* ---- CO-RE flavours of renamed fields ----------------------------------------------- */
struct task_struct___pre514 {
	long state;                          /* renamed __state in 5.14 */
} __attribute__((preserve_access_index));

struct cgroup___pre61 {
	int level;
	__u64 ancestor_ids[];                /* replaced by ancestors[] in 6.1 */
} __attribute__((preserve_access_index));

/*
 * Field reads. tp_btf programs receive BTF-typed pointers and read fields with plain
 * loads (the verifier turns them into fault-safe loads: no helper call); raw_tp programs
 * receive plain integers and must go through bpf_probe_read_kernel (BPF_CORE_READ), which
 * costs a helper call per field. `btf` is a literal in every caller, so only one branch is
 * compiled into each program. Measured on the dev VM: a probe read costs about 22 ns, a
 * direct load nothing measurable.
 */
static __always_inline __u32 task_state(struct task_struct *t, const bool btf)
{
	if (bpf_core_field_exists(t->__state))
		return btf ? t->__state : BPF_CORE_READ(t, __state);
	if (btf)
		return (__u32)((struct task_struct___pre514 *)t)->state;
	return (__u32)BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline __u32 task_pid(struct task_struct *t, const bool btf)
{
	return btf ? t->pid : BPF_CORE_READ(t, pid);
}

/* Id of the ancestor at container_level of a task's cgroup (cgroup v2), or 0 when the
 * task's cgroup is above that level (a host task). */
static __always_inline __u64 task_level_id(struct task_struct *t, const bool btf)
{
	__u32 want = container_level;
	struct cgroup *cg;
	int level;

	if (btf) {
		cg = t->cgroups->dfl_cgrp;
		if (!cg)
			return 0;
		level = cg->level;
	} else {
		cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
		if (!cg)
			return 0;
		level = BPF_CORE_READ(cg, level);
	}
	if (level < (int)want)
		return 0;
	if (level == (int)want)
		return btf ? cg->kn->id : BPF_CORE_READ(cg, kn, id);
	if (btf && level - (int)want <= LXS_MAX_HOPS) {
		/* Walk up through the parents with plain loads: the verifier rejects a direct
		 * read of the flexible ancestors[] array, and a few loads cost less than the
		 * three helper calls of the ancestors[] path. */
		int hops = level - (int)want;

		for (int i = 0; i < LXS_MAX_HOPS; i++) {
			if (i >= hops)
				break;
			cg = cg->self.parent->cgroup;
		}
		return cg ? cg->kn->id : 0;
	}
	if (bpf_core_field_exists(cg->ancestors)) {
		struct cgroup *anc = NULL;

		bpf_core_read(&anc, sizeof(anc), &cg->ancestors[want]);
		return anc ? BPF_CORE_READ(anc, kn, id) : 0;
	} else {
		struct cgroup___pre61 *old = (void *)cg;
		__u64 id = 0;

		bpf_core_read(&id, sizeof(id), &old->ancestor_ids[want]);
		return id;
	}
}

/* Container of an id at the container level: the id itself when registered, the
 * host/other bucket when asked for, else 0 (not counted). */
static __always_inline __u64 container_of_level_id(__u64 id)
{
	if (id && bpf_map_lookup_elem(&lxs_ctrs, &id))
		return id;
	return count_other ? LXS_OTHER_ID : 0;
}

static __always_inline __u64 task_container(struct task_struct *t, const bool btf)
{
	return container_of_level_id(task_level_id(t, btf));
}

static __always_inline __u64 current_container(void)
{
	return container_of_level_id(bpf_get_current_ancestor_cgroup_id(container_level));
}

static __always_inline void stat_inc(__u32 which)
{
	__u32 zero = 0;
	struct lxs_stats *s = bpf_map_lookup_elem(&lxs_stats, &zero);

	if (s && which < LXS_STAT_NR)
		((__u64 *)s)[which]++;
}

/* The container's aggregate on this CPU, created on first use. The loader pre-creates
 * entries when a container is registered; creating here covers a map reused after a
 * crash and the host/other bucket. A container removed from lxs_ctrs is not re-created. */
static __always_inline struct lxs_cagg *cagg_get(__u64 cgid)
{
	struct lxs_cagg *a = bpf_map_lookup_elem(&lxs_cagg, &cgid);
	long err;

	if (a || !cgid)
		return a;
	if (cgid != LXS_OTHER_ID && !bpf_map_lookup_elem(&lxs_ctrs, &cgid))
		return NULL;
	err = bpf_map_update_elem(&lxs_cagg, &cgid, &lxs_zero_cagg, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST */) {
		stat_inc(LXS_STAT_AGG_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&lxs_cagg, &cgid);
}

/* Tells the drain that the container's aggregate changed. Called after the increments
 * (the drain clears the flag, then reads). The load first: a flag already raised costs
 * no store, so CPUs share the cache line until the drain clears it. */
static __always_inline void cagg_touched(__u64 cgid)
{
	__u32 zero = 0;
	struct lxs_dirty *d = bpf_map_lookup_elem(&lxs_dirty, &zero);
	__u32 i = lxs_dirty_slot(cgid) & (LXS_DIRTY_SLOTS - 1);

	if (d && !d->flag[i])
		d->flag[i] = 1;
}

/* True when a notable event of this type may be emitted for the container now. */
static __always_inline bool rate_ok(__u64 cgid, __u32 type, __u64 now)
{
	struct lxs_rl_key k = { .cgid = cgid, .type = type };
	__u64 *last = bpf_map_lookup_elem(&lxs_ratelim, &k);

	if (last) {
		if (now - *last < notify_interval_ns) {
			stat_inc(LXS_STAT_RATE_LIMITED);
			return false;
		}
		*last = now;
		return true;
	}
	bpf_map_update_elem(&lxs_ratelim, &k, &now, BPF_ANY);
	return true;
}

/* Reserve an event; counts a drop when the ring buffer is full. The caller fills the
 * rest and calls bpf_ringbuf_submit(e, 0). */
static __always_inline struct lxs_event *event_new(__u32 type, __u64 cgid, __u64 now)
{
	struct lxs_event *e = bpf_ringbuf_reserve(&lxs_events, sizeof(*e), 0);

	if (!e) {
		stat_inc(LXS_STAT_RB_DROPS);
		return NULL;
	}
	stat_inc(LXS_STAT_RB_EVENTS);
	e->type = type;
	e->pid = 0;
	e->ts_ns = now;
	e->cgid = cgid;
	e->value = 0;
	e->cpu = bpf_get_smp_processor_id();
	e->level = container_level;
	e->comm[0] = 0;
	e->path[0] = 0;
	return e;
}

/* floor(log2(v)) for v > 0, 0 for v == 0. */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r;
}

/* Histogram slot of a delay in ns (see LXS_HIST_SLOTS). */
_Static_assert((LXS_HIST_SLOTS & (LXS_HIST_SLOTS - 1)) == 0, "slots: a power of two");

/* Histogram slot of a delay in ns (see LXS_HIST_SLOTS). The empty asm hides the clamp's
 * range from clang so that it keeps the mask: older verifiers (6.1) lose the clamp's bound
 * through clang's 32-bit zero-extension copy, but always follow an AND. */
static __always_inline __u64 hist_slot(__u64 ns)
{
	__u64 s = log2_u64(ns / 1000);

	if (s > LXS_HIST_SLOTS - 1)
		s = LXS_HIST_SLOTS - 1;
	asm volatile("" : "+r"(s));
	return s & (LXS_HIST_SLOTS - 1);
}

#endif /* LXS_COMMON_BPF_H */

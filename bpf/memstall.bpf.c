// SPDX-License-Identifier: GPL-2.0
/*
 * memstall.bpf.c — time the container's tasks spend in memory reclaim.
 *
 *   vmscan:mm_vmscan_memcg_reclaim_begin/end   reclaim because a cgroup limit was hit
 *                                              (memory.high/max): the limit stall
 *   vmscan:mm_vmscan_direct_reclaim_begin/end  global direct reclaim: the host is short
 *
 * These tracepoints carry no task or memcg argument, so the stall is attributed to
 * `current`'s container (the task that charged or allocated). That is what we want: a
 * reclaim run by the daemon itself while it writes memory.high is not charged to the
 * container. begin stores {ts, container} per (pid, kind); end adds the duration and the
 * pages reclaimed to the container's aggregate, and a pass longer than reclaim_notify_ns
 * sends one rate-limited ring-buffer event.
 *
 * Per-CPU aggregate fields written here (reclaim_*, dreclaim_*) are written only here;
 * a task does not migrate inside one tracepoint program run.
 */
#include "lxs_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

enum { RCL_MEMCG = 0, RCL_DIRECT = 1 };

struct rcl_start_val {
	__u64 ts;
	__u64 cgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);                    /* pid << 1 | kind */
	__type(value, struct rcl_start_val);
} rcl_start SEC(".maps");

static __always_inline __u64 rcl_key(__u32 kind)
{
	return ((bpf_get_current_pid_tgid() & 0xFFFFFFFFULL) << 1) | kind;
}

static __always_inline int on_begin(__u32 kind)
{
	struct rcl_start_val v;
	__u64 key;

	v.cgid = current_container();
	if (!v.cgid)
		return 0;
	v.ts = bpf_ktime_get_ns();
	key = rcl_key(kind);
	if (bpf_map_update_elem(&rcl_start, &key, &v, BPF_ANY))
		stat_inc(LXS_STAT_START_FULL);
	return 0;
}

static __always_inline int on_end(__u32 kind, unsigned long nr_reclaimed)
{
	__u64 key = rcl_key(kind), now = bpf_ktime_get_ns(), delay, cgid;
	struct rcl_start_val *st = bpf_map_lookup_elem(&rcl_start, &key);
	struct lxs_cagg *a;
	struct lxs_event *e;
	__u32 type;

	if (!st)
		return 0;
	cgid = st->cgid;
	delay = now > st->ts ? now - st->ts : 0;
	bpf_map_delete_elem(&rcl_start, &key);

	a = cagg_get(cgid);
	if (!a)
		return 0;
	if (kind == RCL_MEMCG) {
		a->reclaim_ns += delay;
		a->reclaim_count++;
		a->reclaim_pages += nr_reclaimed;
		type = LXS_EV_RECLAIM_STALL;
	} else {
		a->dreclaim_ns += delay;
		a->dreclaim_count++;
		type = LXS_EV_DRECLAIM_STALL;
	}
	cagg_touched(cgid);
	if (!reclaim_notify_ns || delay <= reclaim_notify_ns || !rate_ok(cgid, type, now))
		return 0;
	e = event_new(type, cgid, now);
	if (!e)
		return 0;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	e->value = delay;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(lxs_memcg_beg, int order, gfp_t gfp_flags)
{
	return on_begin(RCL_MEMCG);
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(lxs_memcg_end, unsigned long nr_reclaimed)
{
	return on_end(RCL_MEMCG, nr_reclaimed);
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(lxs_drcl_beg, int order, gfp_t gfp_flags)
{
	return on_begin(RCL_DIRECT);
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(lxs_drcl_end, unsigned long nr_reclaimed)
{
	return on_end(RCL_DIRECT, nr_reclaimed);
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(lxs_memcg_beg_r, int order, gfp_t gfp_flags)
{
	return on_begin(RCL_MEMCG);
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(lxs_memcg_end_r, unsigned long nr_reclaimed)
{
	return on_end(RCL_MEMCG, nr_reclaimed);
}

SEC("raw_tp/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(lxs_drcl_beg_r, int order, gfp_t gfp_flags)
{
	return on_begin(RCL_DIRECT);
}

SEC("raw_tp/mm_vmscan_direct_reclaim_end")
int BPF_PROG(lxs_drcl_end_r, unsigned long nr_reclaimed)
{
	return on_end(RCL_DIRECT, nr_reclaimed);
}

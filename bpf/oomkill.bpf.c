// SPDX-License-Identifier: GPL-2.0
/*
 * oomkill.bpf.c — one ring-buffer event per OOM kill, naming the victim's container.
 *
 * oom:mark_victim fires once per victim chosen by the OOM killer (global or memcg). Since
 * the 2024 change to this tracepoint (backported to stable kernels) its arguments are
 * (struct task_struct *task, uid_t uid), and the victim's container is read from task;
 * older kernels pass only (int pid): there the container of `current` (the allocating task,
 * in a memcg OOM a task of the same container) is used. Which form the kernel has is read
 * from BTF (trace_event_raw_mark_victim has `__data_loc_comm` only in the new form).
 *
 * Not rate-limited: the kernel serialises OOM kills (oom_lock) and each one is an event
 * the daemon must see. The per-container oom_kills counter is also kept in lxs_cagg.
 */
#include "lxs_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline int on_mark_victim(__u64 arg0)
{
	bool has_task = bpf_core_field_exists(((struct trace_event_raw_mark_victim *)0)->__data_loc_comm);
	struct task_struct *task = has_task ? (struct task_struct *)arg0 : NULL;
	__u64 now = bpf_ktime_get_ns(), cgid;
	struct lxs_cagg *a;
	struct lxs_event *e;

	cgid = task ? task_container(task, false) : current_container();
	if (!cgid)
		return 0;
	a = cagg_get(cgid);
	if (a) {
		__sync_fetch_and_add(&a->oom_kills, 1);
		cagg_touched(cgid);
	}
	e = event_new(LXS_EV_OOM_KILL, cgid, now);
	if (!e)
		return 0;
	if (task) {
		e->pid = BPF_CORE_READ(task, pid);
		e->value = BPF_CORE_READ(task, mm, total_vm);
		BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	} else {
		e->pid = (__u32)arg0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(lxs_oom_victim, __u64 arg0)
{
	return on_mark_victim(arg0);
}

SEC("raw_tp/mark_victim")
int BPF_PROG(lxs_oom_vict_r, __u64 arg0)
{
	return on_mark_victim(arg0);
}

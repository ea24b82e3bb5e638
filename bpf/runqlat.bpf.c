// SPDX-License-Identifier: GPL-2.0
/*
 * runqlat.bpf.c — run-queue latency, on-CPU time and context switches per container.
 *
 * The runqlat algorithm, attributed to the woken/next task's container (never `current`,
 * which is the waker in sched_wakeup):
 *   sched_wakeup(_new)(p): if p is in a container, runq_start[p->pid] = {now, container}.
 *   sched_switch(prev, next):
 *     - prev ran since it was switched in (runq_cpu[this CPU]): add that to its container's
 *       on-CPU time; count a voluntary switch when prev sleeps, an involuntary one when it
 *       is still runnable (TASK_RUNNING) — then it waits in the run queue again, so its
 *       start time is recorded as for a wake-up.
 *     - next: delay = now - runq_start[next->pid] goes into next's container histogram;
 *       a delay over runq_notify_ns also sends a rate-limited ring-buffer event.
 *     - remember (now, next's container) for this CPU.
 *   cgroup_attach_task(task): a task that moves itself into a container (lxc-attach,
 *     `pct exec`) runs on with this CPU's entry naming its old cgroup; the entry now
 *     names the container, so its time counts from here and the daemon sees it on a CPU.
 * The daemon reads runq_cpu at each drain: a container whose task is on a CPU now is
 * running although no switch reported it (a task alone on an idle CPU may run for seconds
 * between two switches).
 * The container stored at wake-up saves the cgroup walk for next in the common case; a
 * task with no start entry (host task, or running since before load) is walked.
 * Cost (bench/bpf): the tp_btf copies read task fields with plain loads, not helpers, and
 * the start map is written in place (no delete, no lock) on the common path.
 *
 * Per-CPU aggregate fields written here are written by sched_switch, which runs with
 * interrupts off, and by cgroup_attach_task, which runs with preemption off (no switch on
 * this CPU meanwhile), so plain increments cannot race on this CPU.
 * Each handler exists as tp_btf (typed args, preferred) and raw_tp (fallback): the loader
 * disables the set it does not use.
 */
#include "lxs_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct runq_start_val {
	__u64 ts;
	__u64 cgid;
};

/* LRU so that entries of tasks that exited (or were never switched in) age out without a
 * delete on the hot path: a consumed entry is marked ts = 0 and rewritten in place at the
 * task's next wake-up, so the common path takes no lock. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);                    /* pid (thread id) */
	__type(value, struct runq_start_val);
} runq_start SEC(".maps");

/* What runs on this CPU: since when, and its container (0 = not counted). */
struct runq_cpu_val {
	__u64 ts;
	__u64 cgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct runq_cpu_val);
} runq_cpu SEC(".maps");

static __always_inline void mark_queued(__u32 pid, __u64 cgid, __u64 now)
{
	struct runq_start_val v = { .ts = now, .cgid = cgid }, *st;

	if (!pid)
		return;
	st = bpf_map_lookup_elem(&runq_start, &pid);
	if (st) {
		st->cgid = cgid;
		st->ts = now;
		return;
	}
	if (bpf_map_update_elem(&runq_start, &pid, &v, BPF_ANY))
		stat_inc(LXS_STAT_START_FULL);
}

static __always_inline int on_wakeup(struct task_struct *p, const bool btf)
{
	__u64 cgid = task_container(p, btf);

	if (cgid)
		mark_queued(task_pid(p, btf), cgid, bpf_ktime_get_ns());
	return 0;
}

static __always_inline void runq_event(struct task_struct *next, __u64 cgid, __u64 delay,
				       __u64 now)
{
	struct lxs_event *e;

	if (!rate_ok(cgid, LXS_EV_RUNQ_DELAY, now))
		return;
	e = event_new(LXS_EV_RUNQ_DELAY, cgid, now);
	if (!e)
		return;
	e->pid = BPF_CORE_READ(next, pid);
	e->value = delay;
	BPF_CORE_READ_STR_INTO(&e->comm, next, comm);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_switch(struct task_struct *prev, struct task_struct *next,
				     const bool btf)
{
	__u32 zero = 0, next_pid;
	__u64 now = bpf_ktime_get_ns(), next_cg = 0;
	struct runq_cpu_val *cpu = bpf_map_lookup_elem(&runq_cpu, &zero);
	struct runq_start_val *st;
	struct lxs_cagg *a, *prev_a = NULL;

	if (!cpu)
		return 0;

	/* prev: on-CPU time and the kind of switch, to the container it was switched in with */
	if (cpu->cgid) {
		a = prev_a = cagg_get(cpu->cgid);
		if (a) {
			if (cpu->ts && now > cpu->ts)
				a->oncpu_ns += now - cpu->ts;
			if (task_state(prev, btf) == TASK_RUNNING) {
				a->nivcsw++;
				mark_queued(task_pid(prev, btf), cpu->cgid, now);
			} else {
				a->nvcsw++;
			}
			cagg_touched(cpu->cgid);
		}
	}

	/* next: run-queue delay, to its container */
	next_pid = task_pid(next, btf);
	if (next_pid) {
		st = bpf_map_lookup_elem(&runq_start, &next_pid);
		if (st && st->ts) {
			__u64 ts = st->ts;

			next_cg = st->cgid;
			st->ts = 0; /* consumed */
			/* a switch between two tasks of one container needs one lookup */
			a = next_cg == cpu->cgid && prev_a ? prev_a : cagg_get(next_cg);
			if (!a) {
				next_cg = 0; /* container removed since the wake-up */
			} else if (now > ts) {
				__u64 delay = now - ts;

				a->runq_hist[hist_slot(delay)]++;
				a->runq_sum_ns += delay;
				a->runq_count++;
				if (next_cg != cpu->cgid || !prev_a)
					cagg_touched(next_cg);
				if (runq_notify_ns && delay > runq_notify_ns)
					runq_event(next, next_cg, delay, now);
			}
		} else {
			next_cg = task_container(next, btf);
		}
	}
	cpu->ts = now;
	cpu->cgid = next_cg;
	return 0;
}

static __always_inline int on_attach(struct task_struct *task, __u64 current, const bool btf)
{
	__u32 zero = 0;
	struct runq_cpu_val *cpu;
	__u64 cgid, now;

	if ((__u64)task != current)
		return 0; /* another task: its CPU's entry is that CPU's own (see the top) */
	cpu = bpf_map_lookup_elem(&runq_cpu, &zero);
	if (!cpu)
		return 0;
	cgid = task_container(task, btf);
	if (cgid == cpu->cgid)
		return 0;
	now = bpf_ktime_get_ns();
	if (cpu->cgid) { /* the time so far, to where it ran */
		struct lxs_cagg *a = cagg_get(cpu->cgid);

		if (a && cpu->ts && now > cpu->ts) {
			a->oncpu_ns += now - cpu->ts;
			cagg_touched(cpu->cgid);
		}
	}
	cpu->ts = now;
	cpu->cgid = cgid;
	return 0;
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(lxs_attach, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	return on_attach(task, (__u64)bpf_get_current_task_btf(), true);
}

SEC("raw_tp/cgroup_attach_task")
int BPF_PROG(lxs_attach_r, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	return on_attach(task, bpf_get_current_task(), false);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(lxs_wakeup, struct task_struct *p)
{
	return on_wakeup(p, true);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(lxs_wakeup_new, struct task_struct *p)
{
	return on_wakeup(p, true);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(lxs_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev, next, true);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(lxs_wakeup_r, struct task_struct *p)
{
	return on_wakeup(p, false);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(lxs_wakeupnew_r, struct task_struct *p)
{
	return on_wakeup(p, false);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(lxs_switch_r, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(prev, next, false);
}

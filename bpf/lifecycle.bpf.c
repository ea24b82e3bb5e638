// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle.bpf.c — a ring-buffer event when a cgroup is created or removed at the
 * container level (e.g. /lxc/<vmid> on Proxmox), so the daemon discovers containers from
 * the kernel instead of polling directories.
 *
 * cgroup:cgroup_mkdir / cgroup_rmdir (struct cgroup *cgrp, const char *path). Only cgroups
 * whose level equals container_level are reported, and when lifecycle_parent is set only
 * those whose parent has that id (the /lxc directory), so systemd's and other cgroups at the
 * same depth are ignored. Not rate-limited: a container is created and removed once, and a
 * lost lifecycle event would leave the daemon's view wrong until its next rescan.
 */
#include "lxs_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline __u64 parent_id(struct cgroup *cg, int level)
{
	struct cgroup *parent;

	if (level < 1)
		return 0;
	parent = BPF_CORE_READ(cg, self.parent, cgroup);
	return parent ? BPF_CORE_READ(parent, kn, id) : 0;
}

static __always_inline int on_cgroup(__u32 type, struct cgroup *cg, const char *path)
{
	int level = BPF_CORE_READ(cg, level);
	struct lxs_event *e;
	__u64 now;

	if (level != (int)container_level)
		return 0;
	if (lifecycle_parent && parent_id(cg, level) != lifecycle_parent)
		return 0;
	now = bpf_ktime_get_ns();
	e = event_new(type, BPF_CORE_READ(cg, kn, id), now);
	if (!e)
		return 0;
	e->level = level;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(lxs_cg_mkdir, struct cgroup *cg, const char *path)
{
	return on_cgroup(LXS_EV_CG_MKDIR, cg, path);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(lxs_cg_rmdir, struct cgroup *cg, const char *path)
{
	return on_cgroup(LXS_EV_CG_RMDIR, cg, path);
}

SEC("raw_tp/cgroup_mkdir")
int BPF_PROG(lxs_cg_mkdir_r, struct cgroup *cg, const char *path)
{
	return on_cgroup(LXS_EV_CG_MKDIR, cg, path);
}

SEC("raw_tp/cgroup_rmdir")
int BPF_PROG(lxs_cg_rmdir_r, struct cgroup *cg, const char *path)
{
	return on_cgroup(LXS_EV_CG_RMDIR, cg, path);
}

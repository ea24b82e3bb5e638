/*
 * collect/hostprobe.h — what this machine lets lxcscaled do, found once at start-up.
 *
 * The daemon must start anywhere (a laptop, a CI runner, a Proxmox host) and say plainly
 * what works: root or not, where cgroup v2 is mounted (pure, or hybrid under
 * /sys/fs/cgroup/unified), whether an lxc/ container root exists and how many containers
 * it holds, which controllers the root delegates, PSI, pct, kernel BTF and bpffs.
 * hostprobe_report() turns that into "can"/"cannot" lines for the log.
 * This is a read-only survey; the cgroup library does the real discovery and I/O.
 */
#ifndef LXCSCALE_HOSTPROBE_H
#define LXCSCALE_HOSTPROBE_H

#include <stdbool.h>

#include "config/config.h"

struct hostprobe {
	bool root;                    /* effective uid 0 */
	char cgroup_mount[1024];       /* "" when no cgroup2 mount */
	bool cgroup_hybrid;           /* v2 mounted below a v1 hierarchy (/sys/fs/cgroup/unified) */
	char controllers[256];        /* the mount root's cgroup.controllers */
	bool ctrl_cpu, ctrl_cpuset, ctrl_memory, ctrl_io;
	bool psi;                     /* cpu.pressure readable at the mount root or /proc/pressure */
	char lxc_root[2048];          /* "" when there is no container root */
	int containers;               /* child cgroups of lxc_root matching cgroup.id_pattern */
	char lxc_controllers[256];    /* lxc_root's cgroup.controllers: what containers can be limited by */
	char pct[1024];               /* "" when no pct */
	bool btf;                     /* /sys/kernel/btf/vmlinux */
	bool bpffs;                   /* a bpf filesystem is mounted */
	char bpffs_path[1024];
	char kernel[160];
};

void hostprobe_run(struct hostprobe *h, const struct lxcscale_config *c);
/* Log the summary (log_info / log_warning lines). */
void hostprobe_report(const struct hostprobe *h, const struct lxcscale_config *c);

#endif

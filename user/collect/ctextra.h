/*
 * collect/ctextra.h — what a container's cgroup does not tell: network traffic and its root
 * filesystem, read from the host side (no `pct exec`, unlike the reference:
 * docs/reference-compat.md, "Collection").
 *
 * Network: Proxmox names a container's host-side veth peers `veth<vmid>i<n>`. They are
 * found through one index of /sys/class/net shared by all containers (struct
 * ctextra_ifindex): a host with 1 000 containers has 2 000 entries there, and a readdir
 * of them per container per minute was most of the daemon's CPU on such a host. The
 * index is read again every 60 s (a NIC hot-plugged into a running container is seen
 * within a minute), and at once, at most once a second, when a container is read for the
 * first time or one of its interfaces went away (its next reading fails). Their
 * /sys/class/net/<if>/statistics counters are the container's traffic seen from the host,
 * so rx and tx are swapped (what the host receives on the peer, the container sent). The
 * two counter files of each peer are held open and read with pread(): a sysfs attribute
 * is generated anew at offset 0, and an open one fails (ENODEV) once its interface is
 * unregistered, which sends us looking again. That is 2 syscalls a sample per peer instead
 * of 6 (with no fd left, EMFILE, the counters are unknown until there is one again). A
 * container without such interfaces (a plain cgroup v2 host, a container with no NIC) is
 * read through one of its processes: /proc/<pid>/net/dev of its network namespace, all
 * interfaces but lo, as the reference did from inside — unless that process shares the
 * daemon's own network namespace: then the counters are the host's, and the container's
 * traffic is unknown.
 *
 * Filesystem: statvfs() of /proc/<pid>/root, the container's root mount as its processes
 * see it (df's used/total/available). Read at most every `fs_every_ms` (it changes slowly).
 *
 * A process of the container is found in its cgroup (cgroup.procs, then the cgroups below,
 * e.g. Proxmox's ns/) and kept: it is looked up again every 30 s (a recycled pid) and at
 * once when a reading through /proc/<pid> fails (the process is gone). No liveness probe
 * (kill(pid, 0)) per reading: the failed reading says the same for free.
 * Everything is unknown (false) when nothing can be read; never a made-up 0.
 */
#ifndef LXCSCALE_CTEXTRA_H
#define LXCSCALE_CTEXTRA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CTEXTRA_MAX_IFACES 8

struct ctextra_ifindex;

struct ctextra_roots {
	const char *sys_class_net;   /* "/sys/class/net" */
	const char *proc;            /* "/proc" */
	struct ctextra_ifindex *ifindex; /* the veth index of sys_class_net (ctextra_ifindex_new) */
};

/* The index of Proxmox veth peers in a /sys/class/net, shared by every container read
 * through the same roots. NULL on ENOMEM. */
struct ctextra_ifindex *ctextra_ifindex_new(void);
void ctextra_ifindex_free(struct ctextra_ifindex *idx);
/* How many times the index has read its directory (for tests and benches). */
uint64_t ctextra_ifindex_scans(const struct ctextra_ifindex *idx);

struct ctextra {
	uint32_t vmid;
	const char *cgroup_dir;          /* the caller's string, kept alive as long as x */
	pid_t pid;                       /* 0: none known */
	int64_t pid_checked_ms;
	int n_ifaces;
	char ifaces[CTEXTRA_MAX_IFACES][16];
	int stat_fd[CTEXTRA_MAX_IFACES][2];  /* rx_bytes, tx_bytes held open; -1: not open */
	uint64_t ifaces_gen;             /* the index generation ifaces were taken from; 0: none */
	bool ifaces_stale;               /* first reading, or one failed: the index is read now */
	pid_t netns_pid;                 /* the pid netns_own was checked for */
	bool netns_own;                  /* that process has its own network namespace */
	bool fs_known;
	uint64_t fs_total, fs_free, fs_used;
	int64_t fs_read_ms;
};

/* cgroup_dir is not copied (a daemon of 1 000 containers would keep 1 000 copies of what
 * its cgroup handles already hold): it must outlive x. */
void ctextra_init(struct ctextra *x, uint32_t vmid, const char *cgroup_dir);

/* Closes the counter files ctextra_net() holds open; x can be read again after (it reopens).
 * Call it before freeing x. */
void ctextra_close(struct ctextra *x);

/* A process of the cgroup at `dir` (or below it, a few levels deep); 0 when none. */
pid_t ctextra_find_pid(const char *dir);

/* Container traffic in bytes (cumulative). False when unknown. */
bool ctextra_net(struct ctextra *x, const struct ctextra_roots *r, int64_t now_ms,
		 uint64_t *rx, uint64_t *tx);

/* Root filesystem in bytes, cached for fs_every_ms. False when unknown. */
bool ctextra_fs(struct ctextra *x, const struct ctextra_roots *r, int64_t now_ms,
		int64_t fs_every_ms, uint64_t *total, uint64_t *free_bytes, uint64_t *used);

/* Parses /proc/<pid>/net/dev text: sums rx/tx bytes of every interface but lo. */
bool ctextra_parse_net_dev(const char *text, uint64_t *rx, uint64_t *tx);

#endif

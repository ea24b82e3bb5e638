/*
 * collect/ctextra.c — host-side network and root-filesystem readings of a container (collect/ctextra.h).
 */
#include "collect/ctextra.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/vmid_search.h"

#define PID_RECHECK_MS 30000   /* a recycled pid is noticed within this */
#define IFACE_RESCAN_MS 60000  /* a NIC added to a running container: seen within this */
#define IFACE_FORCED_MIN_MS 1000 /* an early re-read of the index, asked by a container: at most this often */

struct ifindex_entry {
	uint32_t vmid;
	char name[16];
};

struct ctextra_ifindex {
	struct ifindex_entry *e; /* sorted by vmid, then name */
	size_t n, cap;
	uint64_t gen;            /* bumped at each read of the directory */
	int64_t read_ms;
	uint64_t scans;
};

void ctextra_init(struct ctextra *x, uint32_t vmid, const char *cgroup_dir)
{
	memset(x, 0, sizeof(*x));
	x->vmid = vmid;
	x->cgroup_dir = cgroup_dir ? cgroup_dir : "";
	x->pid_checked_ms = x->fs_read_ms = INT64_MIN;
	x->ifaces_stale = true;
	for (int i = 0; i < CTEXTRA_MAX_IFACES; i++)
		x->stat_fd[i][0] = x->stat_fd[i][1] = -1;
}

void ctextra_close(struct ctextra *x)
{
	for (int i = 0; i < CTEXTRA_MAX_IFACES; i++)
		for (int j = 0; j < 2; j++)
			if (x->stat_fd[i][j] >= 0) {
				close(x->stat_fd[i][j]);
				x->stat_fd[i][j] = -1;
			}
}

static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static pid_t first_pid_in(const char *dir)
{
	char path[600], buf[64];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	long pid = strtol(buf, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
}

static pid_t find_below(const char *dir, int depth)
{
	pid_t pid = first_pid_in(dir);
	if (pid || depth == 0)
		return pid;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while (!pid && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		char sub[600];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= sizeof(sub))
			continue;
		pid = find_below(sub, depth - 1);
	}
	closedir(d);
	return pid;
}

pid_t ctextra_find_pid(const char *dir)
{
	return find_below(dir, 3);
}

/* The cached process, looked up again every PID_RECHECK_MS (a recycled pid) or when none is
 * known. No kill(pid, 0) per reading: the reading itself fails when the process is gone,
 * and the callers then call forget_pid() and look once more (pid_read_or_refind). */
static pid_t current_pid(struct ctextra *x, int64_t now_ms)
{
	if (x->pid <= 0 || x->pid_checked_ms == INT64_MIN || now_ms - x->pid_checked_ms >= PID_RECHECK_MS) {
		x->pid = ctextra_find_pid(x->cgroup_dir);
		x->pid_checked_ms = now_ms;
	}
	return x->pid;
}

/* A reading through /proc/<pid> failed: the process may be gone. Look for another one at
 * once; true when a different process was found (worth one more try). */
static bool refind_pid(struct ctextra *x, int64_t now_ms)
{
	pid_t old = x->pid;
	x->pid = ctextra_find_pid(x->cgroup_dir);
	x->pid_checked_ms = now_ms;
	return x->pid > 0 && x->pid != old;
}

bool ctextra_parse_net_dev(const char *text, uint64_t *rx, uint64_t *tx)
{
	uint64_t r = 0, t = 0;
	bool any = false;
	const char *line = text;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		const char *colon = memchr(line, ':', nl ? (size_t)(nl - line) : strlen(line));
		if (colon) {
			const char *name = line;
			while (*name == ' ')
				name++;
			size_t nlen = (size_t)(colon - name);
			unsigned long long f[16];
			int n = sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
				       &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]);
			if (n == 9 && !(nlen == 2 && strncmp(name, "lo", 2) == 0)) {
				r += f[0];
				t += f[8];
				any = true;
			} else if (n == 9) {
				any = true; /* only lo: a known zero */
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!any)
		return false;
	*rx = r;
	*tx = t;
	return true;
}

struct ctextra_ifindex *ctextra_ifindex_new(void)
{
	struct ctextra_ifindex *idx = calloc(1, sizeof(*idx));
	if (idx)
		idx->read_ms = INT64_MIN;
	return idx;
}

void ctextra_ifindex_free(struct ctextra_ifindex *idx)
{
	if (!idx)
		return;
	free(idx->e);
	free(idx);
}

uint64_t ctextra_ifindex_scans(const struct ctextra_ifindex *idx)
{
	return idx ? idx->scans : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct ifindex_entry *x = a, *y = b;
	if (x->vmid != y->vmid)
		return x->vmid < y->vmid ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* veth<vmid>i<n>, shorter than IFNAMSIZ: the vmid, or 0 when the name is not one */
static uint32_t veth_vmid(const char *name)
{
	if (strncmp(name, "veth", 4) != 0 || strlen(name) >= 16)
		return 0;
	const char *p = name + 4;
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 9 || p[digits] != 'i')
		return 0;
	const char *n = p + digits + 1;
	if (!*n || strspn(n, "0123456789") != strlen(n))
		return 0;
	return (uint32_t)strtoul(p, NULL, 10);
}

/* Reads the directory again. When it cannot be opened (no fd left, no directory) the
 * previous index stays: dropping it would make every container let go of its interfaces. */
static void ifindex_read(struct ctextra_ifindex *idx, const char *sys_class_net, int64_t now_ms)
{
	idx->read_ms = now_ms;
	idx->scans++;
	DIR *d = opendir(sys_class_net);
	if (!d)
		return;
	idx->n = 0;
	idx->gen++;
	struct dirent *e;
	while ((e = readdir(d))) {
		uint32_t vmid = veth_vmid(e->d_name);
		if (!vmid)
			continue;
		if (idx->n == idx->cap) {
			size_t cap = idx->cap ? idx->cap * 2 : 256;
			struct ifindex_entry *ne = realloc(idx->e, cap * sizeof(*ne));
			if (!ne)
				break;
			idx->e = ne;
			idx->cap = cap;
		}
		idx->e[idx->n].vmid = vmid;
		memcpy(idx->e[idx->n].name, e->d_name, strlen(e->d_name) + 1); /* < 16, checked */
		idx->n++;
	}
	closedir(d);
	if (idx->n > 1)
		qsort(idx->e, idx->n, sizeof(*idx->e), entry_cmp);
}

static void ifindex_refresh(struct ctextra_ifindex *idx, const char *sys_class_net, int64_t now_ms, bool asked)
{
	if (idx->read_ms == INT64_MIN) {
		ifindex_read(idx, sys_class_net, now_ms);
		return;
	}
	int64_t age = now_ms - idx->read_ms; /* both are times the caller gave: no overflow */
	if (age >= IFACE_RESCAN_MS || age < 0 || (asked && age >= IFACE_FORCED_MIN_MS))
		ifindex_read(idx, sys_class_net, now_ms);
}

/* Takes the container's interfaces from the index. Held files stay open when the names did
 * not change (a re-read of the index is not a change of interface). */
static uint32_t ifindex_vmid(const void *idx, size_t i)
{
	return ((const struct ctextra_ifindex *)idx)->e[i].vmid;
}

static void take_ifaces(struct ctextra *x, const struct ctextra_ifindex *idx)
{
	size_t lo = vmid_lower_bound(idx, idx->n, ifindex_vmid, x->vmid);
	char names[CTEXTRA_MAX_IFACES][16];
	int n = 0;
	for (size_t i = lo; i < idx->n && idx->e[i].vmid == x->vmid && n < CTEXTRA_MAX_IFACES; i++)
		memcpy(names[n++], idx->e[i].name, sizeof(names[0]));
	bool same = n == x->n_ifaces;
	for (int i = 0; same && i < n; i++)
		same = strcmp(names[i], x->ifaces[i]) == 0;
	if (!same) {
		ctextra_close(x);
		memcpy(x->ifaces, names, sizeof(names[0]) * (size_t)n);
		x->n_ifaces = n;
	}
	x->ifaces_gen = idx->gen;
}

static bool parse_u64(const char *buf, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;
	*v = x;
	return true;
}

/* One counter of interface i, through its held fd, opened at the first need. */
static bool read_counter(struct ctextra *x, const struct ctextra_roots *r, int i, int which, uint64_t *v)
{
	char buf[32];
	int *fd = &x->stat_fd[i][which];
	if (*fd < 0) {
		char path[300];
		snprintf(path, sizeof(path), "%s/%s/statistics/%s", r->sys_class_net, x->ifaces[i],
			 which ? "tx_bytes" : "rx_bytes");
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return false;
	}
	ssize_t n = pread(*fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return parse_u64(buf, v);
}

bool ctextra_net(struct ctextra *x, const struct ctextra_roots *r, int64_t now_ms,
		 uint64_t *rx, uint64_t *tx)
{
	ifindex_refresh(r->ifindex, r->sys_class_net, now_ms, x->ifaces_stale);
	if (x->ifaces_stale || x->ifaces_gen != r->ifindex->gen) {
		take_ifaces(x, r->ifindex);
		x->ifaces_stale = false;
	}
	if (x->n_ifaces > 0) {
		uint64_t sum_rx = 0, sum_tx = 0;
		for (int i = 0; i < x->n_ifaces; i++) {
			uint64_t hrx, htx;
			if (!read_counter(x, r, i, 0, &hrx) || !read_counter(x, r, i, 1, &htx)) {
				/* an interface went away: the index is read again at the next reading */
				ctextra_close(x);
				x->n_ifaces = 0;
				x->ifaces_stale = true;
				return false;
			}
			sum_rx += htx; /* the host's tx on the peer is what the container received */
			sum_tx += hrx;
		}
		*rx = sum_rx;
		*tx = sum_tx;
		return true;
	}
	char buf[8192];
	for (int attempt = 0; attempt < 2; attempt++) {
		pid_t pid = current_pid(x, now_ms);
		if (!pid)
			return false;
		char path[128];
		if (pid != x->netns_pid) { /* a process in our own network namespace: host traffic, not its */
			struct stat theirs, ours;
			snprintf(path, sizeof(path), "%s/%d/ns/net", r->proc, (int)pid);
			x->netns_own = stat(path, &theirs) == 0 && stat("/proc/self/ns/net", &ours) == 0 &&
				       (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev);
			x->netns_pid = pid;
		}
		if (!x->netns_own)
			return false;
		snprintf(path, sizeof(path), "%s/%d/net/dev", r->proc, (int)pid);
		if (read_small(path, buf, sizeof(buf)) > 0)
			return ctextra_parse_net_dev(buf, rx, tx);
		if (!refind_pid(x, now_ms)) /* the process is gone and no other one is there */
			return false;
	}
	return false;
}

bool ctextra_fs(struct ctextra *x, const struct ctextra_roots *r, int64_t now_ms,
		int64_t fs_every_ms, uint64_t *total, uint64_t *free_bytes, uint64_t *used)
{
	if (x->fs_read_ms == INT64_MIN || now_ms - x->fs_read_ms >= fs_every_ms) {
		x->fs_read_ms = now_ms;
		x->fs_known = false;
		for (int attempt = 0; attempt < 2 && !x->fs_known; attempt++) {
			pid_t pid = current_pid(x, now_ms);
			if (!pid)
				break;
			char path[128];
			struct statvfs sv;
			snprintf(path, sizeof(path), "%s/%d/root/", r->proc, (int)pid);
			if (statvfs(path, &sv) == 0) {
				uint64_t f = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
				x->fs_total = (uint64_t)sv.f_blocks * f;
				x->fs_free = (uint64_t)sv.f_bavail * f;
				x->fs_used = (uint64_t)(sv.f_blocks - sv.f_bfree) * f;
				x->fs_known = true;
			} else if (!refind_pid(x, now_ms)) {
				break;
			}
		}
	}
	if (!x->fs_known)
		return false;
	*total = x->fs_total;
	*free_bytes = x->fs_free;
	*used = x->fs_used;
	return true;
}

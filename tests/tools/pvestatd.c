/*
 * pvestatd.c — the part of Proxmox's pvestatd that contests lxcscaled's writes: every status
 * cycle (10 s) it makes each running container's cpuset match the `cores` of its config.
 *
 * For each <vmid>.conf in $PCT_STAND_IN_DIR whose container has lxc/<vmid>/ns and no raw
 * `lxc.cgroup2.cpuset.cpus:` line: when lxc/<vmid>/cpuset.cpus holds a different number of
 * CPUs than `cores` (absent: every CPU), it keeps the container's current CPUs (the lowest
 * first), adds the CPUs the fewest containers use, and writes the set the way pvestatd's
 * modify_cpuset does — every CPU on lxc/<vmid>, the new set on ns/, the new set on
 * lxc/<vmid> (a cgroup v2 child is bounded by its parent's set, hence the order). It logs
 * "modified cpu set for lxc/<vmid>: <set>" as pvestatd logs to syslog. What it leaves out:
 * the moves toward less-used CPUs that pvestatd makes when the count is already right
 * (they change which CPUs, never how many, and the tests count).
 *
 *   pvestatd [--interval-ms N] [--once]        (N default 10000)
 * Environment: PCT_STAND_IN_DIR (required), PCT_STAND_IN_CGROUP (default /sys/fs/cgroup).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 64
#define MAX_CTS 256

static const char *g_cg = "/sys/fs/cgroup";

static uint64_t parse_cpus(const char *list)
{
	uint64_t set = 0;
	for (const char *p = list; *p && *p != '\n';) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < MAX_CPUS; c++)
			if (c >= 0)
				set |= 1ULL << c;
		p = *end == ',' ? end + 1 : end;
	}
	return set;
}

static void format_cpus(uint64_t set, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int c = 0; c < MAX_CPUS && o + 8 < len; c++) {
		if (!(set & (1ULL << c)))
			continue;
		int e = c;
		while (e + 1 < MAX_CPUS && (set & (1ULL << (e + 1))))
			e++;
		o += (size_t)snprintf(out + o, len - o, "%s%d", o ? "," : "", c);
		if (e > c)
			o += (size_t)snprintf(out + o, len - o, "-%d", e);
		c = e;
	}
}

static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

struct ct {
	unsigned vmid;
	int cores;	/* 0: every CPU */
	uint64_t cpus; /* lxc/<vmid>/cpuset.cpus now */
};

/* reads `cores:` and the raw cpuset line of the main section; false if not to balance */
static bool read_conf(const char *dir, const char *name, struct ct *ct)
{
	char path[4096], line[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool raw = false;
	ct->cores = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '[')
			break;
		if (!strncmp(line, "cores:", 6))
			ct->cores = atoi(line + 6);
		if (!strncmp(line, "lxc.cgroup2.cpuset.cpus:", 24) || !strncmp(line, "lxc.cgroup.cpuset.cpus:", 23))
			raw = true;
	}
	fclose(f);
	return !raw;
}

static int cycle(const char *dir, uint64_t all, int ncpu)
{
	struct ct cts[MAX_CTS];
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_CTS) {
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);
		if (end == e->d_name || strcmp(end, ".conf") || id < 100)
			continue;
		struct ct ct = {.vmid = (unsigned)id};
		char path[4096], buf[256];
		snprintf(path, sizeof(path), "%s/lxc/%u/ns", g_cg, ct.vmid);
		if (access(path, F_OK) != 0 || !read_conf(dir, e->d_name, &ct))
			continue;
		snprintf(path, sizeof(path), "%s/lxc/%u/cpuset.cpus", g_cg, ct.vmid);
		if (!read_line(path, buf, sizeof(buf)))
			continue;
		ct.cpus = buf[0] ? parse_cpus(buf) : all;
		cts[n++] = ct;
	}
	closedir(d);
	int use[MAX_CPUS] = {0};
	for (int i = 0; i < n; i++)
		for (int c = 0; c < ncpu; c++)
			use[c] += !!(cts[i].cpus & (1ULL << c));
	for (int i = 0; i < n; i++) {
		struct ct *ct = &cts[i];
		int want = ct->cores > 0 && ct->cores < ncpu ? ct->cores : ncpu;
		int have = __builtin_popcountll(ct->cpus & all);
		if (have == want)
			continue;
		uint64_t set = 0;
		for (int c = 0; c < ncpu && __builtin_popcountll(set) < want; c++)
			if (ct->cpus & (1ULL << c))
				set |= 1ULL << c;
		while (__builtin_popcountll(set) < want) {
			int best = -1;
			for (int c = 0; c < ncpu; c++)
				if (!(set & (1ULL << c)) && (best < 0 || use[c] < use[best]))
					best = c;
			set |= 1ULL << best;
			use[best]++;
		}
		char s_all[256], s_new[256], p_ct[4096], p_ns[4200];
		format_cpus(all, s_all, sizeof(s_all));
		format_cpus(set, s_new, sizeof(s_new));
		snprintf(p_ct, sizeof(p_ct), "%s/lxc/%u/cpuset.cpus", g_cg, ct->vmid);
		snprintf(p_ns, sizeof(p_ns), "%s/lxc/%u/ns/cpuset.cpus", g_cg, ct->vmid);
		if (write_str(p_ct, s_all) && write_str(p_ns, s_new) && write_str(p_ct, s_new))
			printf("modified cpu set for lxc/%u: %s\n", ct->vmid, s_new);
		else
			printf("cpu set for lxc/%u not changed: %s\n", ct->vmid, strerror(errno));
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long interval_ms = 10000;
	bool once = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--once"))
			once = true;
		else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = strtol(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: pvestatd [--interval-ms N] [--once]\n");
			return 2;
		}
	}
	const char *dir = getenv("PCT_STAND_IN_DIR");
	if (!dir || !*dir) {
		fprintf(stderr, "pvestatd: PCT_STAND_IN_DIR is not set\n");
		return 2;
	}
	if (getenv("PCT_STAND_IN_CGROUP") && *getenv("PCT_STAND_IN_CGROUP"))
		g_cg = getenv("PCT_STAND_IN_CGROUP");
	if (interval_ms < 10) {
		fprintf(stderr, "pvestatd: --interval-ms must be at least 10\n");
		return 2;
	}
	char path[4096], buf[256];
	snprintf(path, sizeof(path), "%s/lxc/cpuset.cpus.effective", g_cg);
	if (!read_line(path, buf, sizeof(buf))) {
		fprintf(stderr, "pvestatd: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	uint64_t all = parse_cpus(buf);
	int ncpu = 64 - __builtin_clzll(all | 1);
	for (;;) {
		if (cycle(dir, all, ncpu) < 0) {
			fprintf(stderr, "pvestatd: cannot read %s: %s\n", dir, strerror(errno));
			return 1;
		}
		if (once)
			return 0;
		struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/*
 * bpf_scenario.c — drives lxcscale's BPF programs against real processes in real cgroups
 * and checks what lands in the maps. Used by tests/integration/bpf_host.sh (mode runq, on
 * the host) and by the VM scenario (modes memhigh, oom).
 *
 *   bpf_scenario runq    [--raw] [--root DIR] [--lxc ID]   CPU burners in one cgroup, a
 *                             sleeper in a second, nothing in a third; lifecycle events
 *   bpf_scenario memhigh [--root DIR] [--lxc ID]   a memory hog under memory.high: reclaim stall
 *   bpf_scenario oom     [--root DIR] [--lxc ID]   a hog over memory.max: exactly one OOM event
 *   bpf_scenario dreclaim --lxc ID [--root DIR]    (VM only) a hog larger than the machine:
 *                             global direct reclaim, then a global OOM kill
 *   bpf_scenario attribute --lxc ID --secs S [--root DIR]   (VM) an existing, running
 *                             container DIR/lxc/ID (a real LXC one, whatever runs inside
 *                             it and however deep): prints "ready" once its baseline is
 *                             taken, then after S seconds compares what BPF gave the
 *                             container and the host's share with the kernel's cpu.stat
 *
 * Containers are Proxmox-shaped: a container directory with tasks in its `ns` child (one
 * level deeper, so the programs' walk up to the container level is exercised); the
 * sleeper runs in its container directory itself on the host, so the level-equal path is
 * too. On the host they are DIR/lxcscale-test-bpf-<pid>/<name> (DIR defaults to the
 * cgroup v2 mount); with --lxc ID (the VM, where the memory controller exists) they are
 * DIR/lxc/<ID>, <ID+1>, ... exactly as on Proxmox. Everything created is removed. Output: `ok - ...` / `FAIL - ...` / `skip - ...` lines and a closing
 * `N passed, N failed, N skipped`. No check depends on timing: burners and hogs run for a
 * fixed time only so that there is something to measure, and the checks compare the
 * cgroups with each other and with the kernel's own cpu.stat.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/bpf_loader.h"

static int passed, failed, skipped;

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (cond)
		passed++;
	else
		failed++;
}

static void skip(const char *what, const char *why)
{
	printf("skip - %s: %s\n", what, why);
	skipped++;
}

static int summary(void)
{
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

/* ---- cgroups ----------------------------------------------------------------------------- */

static char g_parent[256];
static int g_lxc_base;            /* 0: host layout; else first VMID under <root>/lxc */
static int g_lxc_next;

static uint64_t cg_id(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char p[640];
	int fd, rc = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static long long cg_read_key(const char *dir, const char *file, const char *key)
{
	char p[640], line[256];
	long long v = -1;
	size_t kl = strlen(key);
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			v = strtoll(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Level of a directory in the cgroup v2 tree: components below the mount root. */
static int cg_level(const char *root, const char *path)
{
	const char *p = path + strlen(root);
	int level = 0;

	for (; *p; p++)
		if (*p == '/' && p[1])
			level++;
	return level;
}

/* Creates a container directory (named `name` on the host, the next VMID with --lxc)
 * and its ns child with the controllers ns needs, like PVE. */
static void cg_child(char *out, size_t n, const char *name)
{
	char ns[600];

	if (g_lxc_base)
		snprintf(out, n, "%s/%d", g_parent, g_lxc_base + g_lxc_next++);
	else
		snprintf(out, n, "%s/%s", g_parent, name);
	mkdir(out, 0755);
	if (g_lxc_base)
		cg_write(out, "cgroup.subtree_control", "+cpu +memory +pids");
	snprintf(ns, sizeof(ns), "%s/ns", out);
	mkdir(ns, 0755);
}

static void cg_ns(char *out, size_t n, const char *ct)
{
	snprintf(out, n, "%s/ns", ct);
}

/* Kills every process of a cgroup, then removes it. */
static void cg_remove(const char *dir)
{
	char p[640], line[64];
	FILE *f;

	if (!dir[0])
		return;
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	f = fopen(p, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			pid_t pid = (pid_t)atoi(line);

			if (pid > 0)
				kill(pid, SIGKILL);
		}
		fclose(f);
	}
	for (int i = 0; i < 100 && rmdir(dir) != 0 && errno == EBUSY; i++)
		usleep(10000);
}

/* Forks a child that joins cgroup `dir` and runs fn; returns its pid. */
static pid_t spawn_in(const char *dir, void (*fn)(long), long arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		if (cg_write(dir, "cgroup.procs", buf) != 0)
			_exit(111);
		fn(arg);
		_exit(0);
	}
	return pid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void burn(long seconds_x1000)
{
	double end = now_s() + (double)seconds_x1000 / 1000.0;
	volatile unsigned long x = 0;

	while (now_s() < end)
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
}

static void sleeper(long seconds_x1000)
{
	double end = now_s() + (double)seconds_x1000 / 1000.0;

	while (now_s() < end)
		usleep(2000);
}

/* Touches `mib` MiB page by page, twice; exits 0 when done. */
static void hog(long mib)
{
	size_t len = (size_t)mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(112);
	for (int round = 0; round < 2; round++)
		for (size_t off = 0; off < len; off += 4096)
			p[off] = (char)(off + (size_t)round);
}

/* Allocates and touches 32 MiB chunks up to `mib` MiB in all, as the first victim of the
 * OOM killer: for exhausting a whole (virtual) machine's memory. */
static void host_hog(long mib)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);

	if (fd < 0 || write(fd, "1000", 4) != 4)
		_exit(113);
	close(fd);
	for (long done = 0; done < mib; done += 32) {
		char *p = mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(112);
		for (size_t off = 0; off < (32u << 20); off += 4096)
			p[off] = 1;
	}
}

/* ---- events ------------------------------------------------------------------------------ */

#define MAX_EV 256
static struct lxs_event g_ev[MAX_EV];
static int g_nev;

static int collect(const struct lxs_event *ev, void *ctx)
{
	(void)ctx;
	if (g_nev < MAX_EV)
		g_ev[g_nev++] = *ev;
	return 0;
}

static int count_events(uint32_t type, uint64_t cgid)
{
	int n = 0;

	for (int i = 0; i < g_nev; i++)
		if (g_ev[i].type == type && (!cgid || g_ev[i].cgid == cgid))
			n++;
	return n;
}

/* Sum of all deltas of one container over the drains done so far. */
struct total {
	uint64_t cgid;
	struct lxs_ct_delta sum;
};

static void accumulate(struct total *t, int nt, const struct lxs_ct_delta *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < nt; k++) {
			struct lxs_ct_delta *s = &t[k].sum;

			if (t[k].cgid != d[i].cgid)
				continue;
			s->runq_count += d[i].runq_count;
			s->runq_sum_ns += d[i].runq_sum_ns;
			for (int j = 0; j < LXS_HIST_SLOTS; j++)
				s->runq_hist[j] += d[i].runq_hist[j];
			s->oncpu_ns += d[i].oncpu_ns;
			s->nvcsw += d[i].nvcsw;
			s->nivcsw += d[i].nivcsw;
			s->reclaim_ns += d[i].reclaim_ns;
			s->reclaim_count += d[i].reclaim_count;
			s->reclaim_pages += d[i].reclaim_pages;
			s->dreclaim_ns += d[i].dreclaim_ns;
			s->dreclaim_count += d[i].dreclaim_count;
			s->oom_kills += d[i].oom_kills;
		}
}

/* Drains and consumes for `seconds`, 100 ms per tick, as the daemon would. */
static int run_ticks(struct lxs_bpf *b, struct total *t, int nt, double seconds)
{
	struct lxs_ct_delta d[16];
	double end = now_s() + seconds;
	size_t n;
	int rc;

	do {
		usleep(100000);
		rc = lxs_bpf_drain(b, d, 16, &n);
		if (rc)
			return rc;
		accumulate(t, nt, d, n);
		rc = lxs_bpf_consume(b, collect, NULL);
		if (rc < 0)
			return rc;
	} while (now_s() < end);
	return 0;
}

static const char *g_root = "/sys/fs/cgroup/unified";

static int make_parent(void)
{
	struct statfs sfs;

	if (statfs(g_root, &sfs) != 0 || sfs.f_type != 0x63677270 /* CGROUP2_SUPER_MAGIC */) {
		fprintf(stderr, "%s is not a cgroup v2 mount\n", g_root);
		return -1;
	}
	if (g_lxc_base) {
		snprintf(g_parent, sizeof(g_parent), "%s/lxc", g_root);
		mkdir(g_parent, 0755); /* the VM harness has it already */
		return 0;
	}
	snprintf(g_parent, sizeof(g_parent), "%s/lxcscale-test-bpf-%d", g_root, (int)getpid());
	if (mkdir(g_parent, 0755) != 0) {
		perror(g_parent);
		return -1;
	}
	return 0;
}

static struct lxs_bpf *open_bpf(struct lxs_bpf_opts *o, const char *pin)
{
	struct lxs_bpf *b = NULL;
	char err[512] = "";
	int rc;

	o->pin_dir = pin;
	unsigned want = (o->want_runq ? LXS_CONCERN_RUNQ : 0) | (o->want_mem ? LXS_CONCERN_MEM : 0) |
			(o->want_oom ? LXS_CONCERN_OOM : 0) |
			(o->want_lifecycle ? LXS_CONCERN_LIFECYCLE : 0);

	rc = lxs_bpf_open(&b, o, err, sizeof(err));
	check(rc == 0, "BPF programs load and attach (%s)", rc ? err : lxs_bpf_attach_mode(b));
	if (rc)
		return NULL;
	check(lxs_bpf_concerns(b) == want, "every concern asked for is attached (0x%x of 0x%x)",
	      lxs_bpf_concerns(b), want);
	return b;
}

/* ---- mode runq --------------------------------------------------------------------------- */

static int mode_runq(bool raw)
{
	char busy[400], slp[400], idle[400], unreg[400], newct[400], pin[128];
	char busy_ns[500], slp_ns[500], idle_ns[500], unreg_ns[500], new_ns[500], deep[600];
	struct lxs_bpf_opts o;
	struct lxs_bpf *b;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), nburn = 2 * ncpu + 1;
	pid_t pids[64];
	int np = 0;
	double t0, elapsed;
	long long usage0, usage1;

	if (make_parent())
		return 1;
	cg_child(busy, sizeof(busy), "busy");
	cg_child(slp, sizeof(slp), "sleep");
	cg_child(idle, sizeof(idle), "idle");
	cg_child(unreg, sizeof(unreg), "unreg");
	cg_ns(busy_ns, sizeof(busy_ns), busy);
	cg_ns(slp_ns, sizeof(slp_ns), slp);
	cg_ns(idle_ns, sizeof(idle_ns), idle);
	cg_ns(unreg_ns, sizeof(unreg_ns), unreg);
	new_ns[0] = 0;

	lxs_bpf_opts_default(&o);
	o.container_level = cg_level(g_root, busy);
	o.lifecycle_parent = cg_id(g_parent);
	o.runq_notify_ns = 1000000;       /* 1 ms: burners exceed it often */
	o.notify_interval_ns = 500000000; /* at most 2 per container, CPU and second */
	o.force_raw_tp = raw;
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/lxcscale-test-%d", (int)getpid());
	b = open_bpf(&o, pin);
	if (!b)
		goto out;
	check(strcmp(lxs_bpf_attach_mode(b), raw ? "raw_tp" : "tp_btf") == 0,
	      "attached as %s", lxs_bpf_attach_mode(b));

	uint64_t id_busy = cg_id(busy), id_slp = cg_id(slp), id_idle = cg_id(idle);
	uint64_t id_unreg = cg_id(unreg);
	check(lxs_bpf_add_container(b, id_busy, 901) == 0 &&
	      lxs_bpf_add_container(b, id_slp, 902) == 0 &&
	      lxs_bpf_add_container(b, id_idle, 903) == 0, "three containers registered");

	struct total t[3] = { { .cgid = id_busy }, { .cgid = id_slp }, { .cgid = id_idle } };

	/* lifecycle: a container created and removed, and a cgroup deeper than containers */
	cg_child(newct, sizeof(newct), "new");
	cg_ns(new_ns, sizeof(new_ns), newct);
	snprintf(deep, sizeof(deep), "%s/x", busy_ns);
	mkdir(deep, 0755);
	uint64_t id_new = cg_id(newct), id_deep2 = cg_id(deep);
	rmdir(deep);
	rmdir(new_ns);
	rmdir(newct);

	usage0 = cg_read_key(busy, "cpu.stat", "usage_usec"); /* includes ns below */
	t0 = now_s();
	for (int i = 0; i < nburn && np < 60; i++)
		pids[np++] = spawn_in(busy_ns, burn, 2000);
	/* the sleeper at the container level itself on the host; in ns with controllers
	 * (the VM), where a cgroup with children cannot hold processes */
	pids[np++] = spawn_in(g_lxc_base ? slp_ns : slp, sleeper, 2000);
	pids[np++] = spawn_in(unreg_ns, burn, 2000);
	if (run_ticks(b, t, 3, 2.2) != 0)
		check(0, "drain and consume work during the run");
	for (int i = 0; i < np; i++)
		waitpid(pids[i], NULL, 0);
	run_ticks(b, t, 3, 0.1);
	elapsed = now_s() - t0;
	usage1 = cg_read_key(busy, "cpu.stat", "usage_usec");

	struct lxs_ct_delta *B = &t[0].sum, *S = &t[1].sum, *I = &t[2].sum;
	double mean_b = B->runq_count ? (double)B->runq_sum_ns / (double)B->runq_count : 0;
	double mean_s = S->runq_count ? (double)S->runq_sum_ns / (double)S->runq_count : 0;
	uint64_t p50_b = lxs_hist_quantile_ns(B->runq_hist, LXS_HIST_SLOTS, 0.5);
	uint64_t p50_s = lxs_hist_quantile_ns(S->runq_hist, LXS_HIST_SLOTS, 0.5);
	uint64_t p99_b = lxs_hist_quantile_ns(B->runq_hist, LXS_HIST_SLOTS, 0.99);
	uint64_t p99_s = lxs_hist_quantile_ns(S->runq_hist, LXS_HIST_SLOTS, 0.99);

	printf("info - %d burners on %d CPUs for %.1f s: busy runq n=%llu mean=%.0f us p50=%llu us "
	       "p99=%llu us oncpu=%.3f s nivcsw=%llu; sleep n=%llu mean=%.0f us p50=%llu us "
	       "p99=%llu us nvcsw=%llu\n", nburn, ncpu, elapsed,
	       (unsigned long long)B->runq_count, mean_b / 1e3, (unsigned long long)p50_b / 1000,
	       (unsigned long long)p99_b / 1000, (double)B->oncpu_ns / 1e9,
	       (unsigned long long)B->nivcsw, (unsigned long long)S->runq_count, mean_s / 1e3,
	       (unsigned long long)p50_s / 1000, (unsigned long long)p99_s / 1000,
	       (unsigned long long)S->nvcsw);

	check(B->runq_count > 0 && B->nivcsw > 0, "busy cgroup: run-queue samples (%llu) and "
	      "involuntary switches (%llu) counted on its id", (unsigned long long)B->runq_count,
	      (unsigned long long)B->nivcsw);
	check(S->runq_count > 0 && S->nvcsw > 0, "sleeper cgroup: wake-ups (%llu) and voluntary "
	      "switches (%llu) counted on its id", (unsigned long long)S->runq_count,
	      (unsigned long long)S->nvcsw);
	check(mean_b > mean_s, "busy cgroup has the larger mean run-queue latency "
	      "(%.0f us > %.0f us)", mean_b / 1e3, mean_s / 1e3);
	/* p50, not p99: the sleeper's worst 1% can come close to the burners' under TCG */
	check(p50_b > p50_s, "busy cgroup has the larger median run-queue latency (%llu us > %llu us)",
	      (unsigned long long)p50_b / 1000, (unsigned long long)p50_s / 1000);
	check(B->oncpu_ns > 3 * S->oncpu_ns, "busy cgroup's on-CPU time is several times the sleeper's "
	      "(%.3f s vs %.3f s)", (double)B->oncpu_ns / 1e9, (double)S->oncpu_ns / 1e9);
	if (usage0 >= 0 && usage1 > usage0) {
		double kern = (double)(usage1 - usage0) * 1e3, ours = (double)B->oncpu_ns;

		check(ours > 0.85 * kern && ours < 1.15 * kern, "busy on-CPU time matches the "
		      "kernel's cpu.stat usage within 15%% (bpf %.3f s, cpu.stat %.3f s)",
		      ours / 1e9, kern / 1e9);
	} else {
		skip("on-CPU time vs cpu.stat", "cpu.stat usage_usec not readable");
	}
	check(I->runq_count == 0 && I->oncpu_ns == 0 && I->nvcsw == 0 && I->nivcsw == 0,
	      "idle cgroup (ran nothing) has no counts");

	/* nothing for a cgroup that is not registered, even though it burned CPU */
	char mp[256];
	snprintf(mp, sizeof(mp), "%s/lxs_cagg", pin);
	int cagg = bpf_obj_get(mp);
	check(cagg >= 0, "aggregate map pinned at %s", mp);
	if (cagg >= 0) {
		void *v = calloc((size_t)libbpf_num_possible_cpus(), sizeof(struct lxs_cagg));

		check(bpf_map_lookup_elem(cagg, &id_unreg, v) != 0 && errno == ENOENT,
		      "unregistered cgroup that burned CPU has no aggregate");
		free(v);
		close(cagg);
	}

	/* notable events: rate-limited, only for the busy container */
	int nrunq = count_events(LXS_EV_RUNQ_DELAY, 0), nrunq_b = count_events(LXS_EV_RUNQ_DELAY, id_busy);
	int limit = ncpu * ((int)(elapsed / 0.5) + 2);
	check(nrunq_b > 0 && nrunq_b <= limit, "run-queue delay events for the busy container: "
	      "%d, at most %d by the rate limit", nrunq_b, limit);
	check(count_events(LXS_EV_RUNQ_DELAY, id_idle) == 0, "no run-queue event for the idle "
	      "container (%d events in all)", nrunq);
	uint64_t rl = 0, drops = 1;
	lxs_bpf_stat(b, LXS_STAT_RATE_LIMITED, &rl);
	lxs_bpf_stat(b, LXS_STAT_RB_DROPS, &drops);
	check(rl > 0, "the in-kernel rate limit suppressed %llu events", (unsigned long long)rl);
	check(drops == 0, "no ring-buffer drops");

	/* lifecycle */
	check(count_events(LXS_EV_CG_MKDIR, id_new) == 1 && count_events(LXS_EV_CG_RMDIR, id_new) == 1,
	      "one mkdir and one rmdir event for a cgroup created at the container level");
	/* the tracepoint's path is relative to the hierarchy root: it ends like ours */
	const char *tail = strrchr(newct, '/');
	const char *evpath = "";
	for (int i = 0; i < g_nev; i++)
		if (g_ev[i].type == LXS_EV_CG_MKDIR && g_ev[i].cgid == id_new)
			evpath = g_ev[i].path;
	size_t el = strlen(evpath), tl = tail ? strlen(tail) : 0;
	check(tail && el >= tl && !strcmp(evpath + el - tl, tail),
	      "the mkdir event carries the cgroup's path (%s)", evpath);
	check(count_events(LXS_EV_CG_MKDIR, id_deep2) == 0, "no lifecycle event below the "
	      "container level");

	/* removal and clean stop */
	check(lxs_bpf_remove_container(b, id_busy) == 0, "container removed");
	lxs_bpf_close(b, true);
	check(access(pin, F_OK) != 0, "pins removed on a clean stop");
out:
	cg_remove(busy_ns); cg_remove(slp_ns); cg_remove(idle_ns); cg_remove(unreg_ns);
	cg_remove(busy); cg_remove(slp); cg_remove(idle); cg_remove(unreg);
	if (!g_lxc_base)
		cg_remove(g_parent);
	return summary();
}

/* ---- modes memhigh / oom (in the VM: cgroup v2 with the memory controller) ---------------- */

static int enable_memory(void)
{
	int rc = cg_write(g_root, "cgroup.subtree_control", "+memory");

	if (rc == 0)
		rc = cg_write(g_parent, "cgroup.subtree_control", "+memory");
	return rc;
}

static void remove_parent(void)
{
	if (!g_lxc_base)
		cg_remove(g_parent);
}

static int mode_mem(bool oom)
{
	char ct[400], leaf[500];
	struct lxs_bpf_opts o;
	struct lxs_bpf *b;

	if (make_parent())
		return 1;
	if (enable_memory() != 0) {
		skip(oom ? "OOM kill event" : "reclaim stall under memory.high",
		     "the memory controller cannot be enabled here (host without it: run in the VM)");
		remove_parent();
		return summary();
	}
	cg_child(ct, sizeof(ct), oom ? "oomct" : "highct");
	cg_ns(leaf, sizeof(leaf), ct); /* like PVE: tasks below lxc/<vmid>/ns */
	if (oom) {
		cg_write(ct, "memory.max", "32M");
		cg_write(ct, "memory.swap.max", "0");
	} else {
		cg_write(ct, "memory.high", "24M");
		cg_write(ct, "memory.swap.max", "max");
	}

	lxs_bpf_opts_default(&o);
	o.container_level = cg_level(g_root, ct);
	o.reclaim_notify_ns = 0;
	b = open_bpf(&o, "");
	if (!b)
		goto out;
	uint64_t id = cg_id(ct);
	check(lxs_bpf_add_container(b, id, 101) == 0, "container registered (level %d)",
	      o.container_level);
	struct total t[1] = { { .cgid = id } };
	pid_t pid = spawn_in(leaf, hog, oom ? 96 : 48);
	int status = 0;
	if (oom) {
		waitpid(pid, &status, 0);
		run_ticks(b, t, 1, 0.3);
		check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the hog was OOM-killed");
		check(count_events(LXS_EV_OOM_KILL, 0) == 1, "exactly one OOM event in the ring "
		      "buffer (%d)", count_events(LXS_EV_OOM_KILL, 0));
		check(count_events(LXS_EV_OOM_KILL, id) == 1, "the OOM event names the container");
		for (int i = 0; i < g_nev; i++)
			if (g_ev[i].type == LXS_EV_OOM_KILL)
				check(g_ev[i].pid == (uint32_t)pid && !strcmp(g_ev[i].comm, "bpf_scenario"),
				      "the OOM event names the victim (pid %u, comm %s)",
				      g_ev[i].pid, g_ev[i].comm);
		check(t[0].sum.oom_kills == 1, "oom_kills = 1 in the container's aggregate");
		check(cg_read_key(ct, "memory.events", "oom_kill") == 1,
		      "the kernel's memory.events agrees: oom_kill 1");
	} else {
		/* the hog is throttled, not killed: let it run, then measure */
		double t0 = now_s();

		while (waitpid(pid, &status, WNOHANG) == 0 && now_s() - t0 < 20)
			run_ticks(b, t, 1, 0.2);
		if (waitpid(pid, &status, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		run_ticks(b, t, 1, 0.1);
		printf("info - memory.high hog: reclaim %llu passes, %.1f ms, %llu pages\n",
		       (unsigned long long)t[0].sum.reclaim_count, (double)t[0].sum.reclaim_ns / 1e6,
		       (unsigned long long)t[0].sum.reclaim_pages);
		check(t[0].sum.reclaim_count > 0 && t[0].sum.reclaim_ns > 0,
		      "memory hog under memory.high produced reclaim stall time on its container");
		/* reclaim_pages is printed, not checked: an anonymous hog with no swap (the VM)
		 * stalls in reclaim that frees nothing, which is exactly the stall we measure */
		check(cg_read_key(ct, "memory.events", "high") > 0,
		      "the kernel's memory.events agrees: high > 0");
		check(count_events(LXS_EV_OOM_KILL, 0) == 0, "no OOM event under memory.high");
	}
	lxs_bpf_close(b, true);
out:
	cg_remove(leaf);
	cg_remove(ct);
	remove_parent();
	return summary();
}

/* ---- mode dreclaim (VM only): global direct reclaim and a global OOM kill ------------------ */

static long mem_total_mib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib < 0 ? -1 : kib / 1024;
}

static int mode_dreclaim(void)
{
	char ct[400], leaf[500];
	struct lxs_bpf_opts o;
	struct lxs_bpf *b;
	long total = mem_total_mib();
	int status = 0;

	/* This exhausts the machine's memory: never on a real host. */
	if (!g_lxc_base || total < 0 || total > 2048) {
		skip("direct reclaim and global OOM", "exhausts the machine's memory: only in the "
		     "test VM (--lxc, at most 2 GiB)");
		return summary();
	}
	if (make_parent())
		return 1;
	cg_child(ct, sizeof(ct), "dreclaim");
	cg_ns(leaf, sizeof(leaf), ct);
	lxs_bpf_opts_default(&o);
	o.container_level = cg_level(g_root, ct);
	o.reclaim_notify_ns = 1000000; /* 1 ms */
	o.want_runq = o.want_lifecycle = false;
	b = open_bpf(&o, "");
	if (!b)
		goto out;
	uint64_t id = cg_id(ct);
	check(lxs_bpf_add_container(b, id, 102) == 0, "container without limits registered");
	struct total t[1] = { { .cgid = id } };
	pid_t pid = spawn_in(leaf, host_hog, total + 256);
	while (waitpid(pid, &status, WNOHANG) == 0)
		run_ticks(b, t, 1, 0.2);
	run_ticks(b, t, 1, 0.2);
	printf("info - machine of %ld MiB: direct reclaim %llu passes, %.1f ms\n", total,
	       (unsigned long long)t[0].sum.dreclaim_count, (double)t[0].sum.dreclaim_ns / 1e6);
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the hog was killed by the "
	      "global OOM killer");
	check(t[0].sum.dreclaim_count > 0 && t[0].sum.dreclaim_ns > 0, "global direct reclaim "
	      "stall time lands on the hog's container");
	check(t[0].sum.reclaim_count == 0, "no memcg reclaim: the container has no limit");
	check(count_events(LXS_EV_OOM_KILL, id) == 1, "one OOM event naming the container for "
	      "the global OOM kill (%d)", count_events(LXS_EV_OOM_KILL, 0));
	check(count_events(LXS_EV_DRECLAIM_STALL, id) >= 1 &&
	      count_events(LXS_EV_RECLAIM_STALL, 0) == 0, "direct-reclaim stall events (%d) for "
	      "the container, none of the memcg kind", count_events(LXS_EV_DRECLAIM_STALL, id));
	lxs_bpf_close(b, true);
out:
	cg_remove(leaf);
	cg_remove(ct);
	return summary();
}

/* ---- mode attribute ------------------------------------------------------------------------ */

static long long usage_usec(const char *dir)
{
	return cg_read_key(dir, "cpu.stat", "usage_usec");
}

/*
 * The container's on-CPU time in BPF against its cpu.stat (hierarchical: everything below
 * it, systemd's tree included), and the host's share (LXS_OTHER_ID: every task outside a
 * container) against the root's cpu.stat minus the container's. Each context switch gives
 * the time to exactly one owner, so time of the container's tasks that landed on the host
 * would show twice: as missing from the container and as extra on the host. The
 * container's bound is tight (20 %): both sides count its tasks' exact run time. The host's
 * is what double counting would break: the root's cpu.stat is sampled at the timer tick
 * (kcpustat, interrupts included), so it differs from BPF's switch-to-switch time by a few
 * hundred ms in seconds under emulation (575 ms in BPF for 340 ms once); the container's
 * time landing on the host would add all of it, so the host's BPF time must stay below the
 * host's cpu.stat time plus half the container's.
 */
static int mode_attribute(double secs)
{
	char ct[400], pin[128];
	struct lxs_bpf_opts o;
	struct lxs_bpf *b;

	snprintf(ct, sizeof(ct), "%s/lxc/%d", g_root, g_lxc_base);
	if (cg_level(g_root, ct) < 1 || usage_usec(ct) < 0) {
		check(0, "container %s exists with a cpu.stat", ct);
		return summary();
	}
	lxs_bpf_opts_default(&o);
	o.container_level = cg_level(g_root, ct);
	o.count_other = true;
	o.reclaim_notify_ns = 0;
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/lxcscale-test-attr-%d", (int)getpid());
	b = open_bpf(&o, pin);
	if (!b)
		return summary();
	uint64_t id = cg_id(ct);
	check(lxs_bpf_add_container(b, id, g_lxc_base) == 0, "container %d registered (level %d)", g_lxc_base,
	      o.container_level);
	struct total t[2] = { { .cgid = id }, { .cgid = LXS_OTHER_ID } };
	struct total base[2] = { { .cgid = id }, { .cgid = LXS_OTHER_ID } };
	run_ticks(b, base, 2, 0.2); /* baselines: the first drain reports zero deltas */
	long long ct0 = usage_usec(ct), root0 = usage_usec(g_root);
	printf("ready\n");
	run_ticks(b, t, 2, secs);
	long long ct1 = usage_usec(ct), root1 = usage_usec(g_root);
	const double ct_ms = (double)(ct1 - ct0) / 1000.0, bpf_ct_ms = (double)t[0].sum.oncpu_ns / 1e6;
	const double host_ms = (double)((root1 - root0) - (ct1 - ct0)) / 1000.0;
	const double bpf_host_ms = (double)t[1].sum.oncpu_ns / 1e6;
	printf("info - %d: on-CPU %.0f ms in BPF, %.0f ms in cpu.stat; host share %.0f ms in BPF, "
	       "%.0f ms in cpu.stat (root - container); run queue %llu wake-ups p99-slot sum %.1f ms; "
	       "reclaim stall %.1f ms in %llu\n",
	       g_lxc_base, bpf_ct_ms, ct_ms, bpf_host_ms, host_ms, (unsigned long long)t[0].sum.runq_count,
	       (double)t[0].sum.runq_sum_ns / 1e6, (double)(t[0].sum.reclaim_ns + t[0].sum.dreclaim_ns) / 1e6,
	       (unsigned long long)(t[0].sum.reclaim_count + t[0].sum.dreclaim_count));
	check(ct_ms > 100, "%d's tasks ran (%.0f ms in cpu.stat)", g_lxc_base, ct_ms);
	check(bpf_ct_ms >= 0.8 * ct_ms && bpf_ct_ms <= 1.2 * ct_ms + 20,
	      "%d's on-CPU time lands on it: %.0f ms in BPF for %.0f ms in cpu.stat", g_lxc_base, bpf_ct_ms, ct_ms);
	check(bpf_host_ms < host_ms + ct_ms / 2,
	      "none of it lands on the host's share: %.0f ms in BPF for %.0f ms of host tasks (bound %.0f ms)",
	      bpf_host_ms, host_ms, host_ms + ct_ms / 2);
	check(t[0].sum.runq_count > 0, "its wake-ups have run-queue latency (%llu)",
	      (unsigned long long)t[0].sum.runq_count);
	check(t[0].sum.reclaim_count + t[0].sum.dreclaim_count > 0,
	      "its reclaim stalls land on it (%llu, %.1f ms)",
	      (unsigned long long)(t[0].sum.reclaim_count + t[0].sum.dreclaim_count),
	      (double)(t[0].sum.reclaim_ns + t[0].sum.dreclaim_ns) / 1e6);
	lxs_bpf_close(b, true);
	return summary();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	bool raw = false;
	double secs = 5;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--raw"))
			raw = true;
		else if (!strcmp(argv[i], "--secs") && i + 1 < argc) {
			secs = atof(argv[++i]);
			if (!(secs > 0 && secs <= 600)) {
				fprintf(stderr, "--secs: 0 < S <= 600\n");
				return 2;
			}
		}
		else if (!strcmp(argv[i], "--root") && i + 1 < argc)
			g_root = argv[++i];
		else if (!strcmp(argv[i], "--lxc") && i + 1 < argc) {
			g_lxc_base = atoi(argv[++i]);
			if (g_lxc_base < 100 || g_lxc_base > 999999990) {
				fprintf(stderr, "--lxc: a VMID from 100\n");
				return 2;
			}
		}
		else {
			fprintf(stderr, "unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (geteuid() != 0) {
		skip("BPF scenario", "needs root to load BPF programs and create cgroups");
		return summary();
	}
	if (!strcmp(mode, "runq"))
		return mode_runq(raw);
	if (!strcmp(mode, "memhigh"))
		return mode_mem(false);
	if (!strcmp(mode, "oom"))
		return mode_mem(true);
	if (!strcmp(mode, "dreclaim"))
		return mode_dreclaim();
	if (!strcmp(mode, "attribute") && g_lxc_base)
		return mode_attribute(secs);
	fprintf(stderr, "usage: bpf_scenario runq [--raw] | memhigh | oom | dreclaim | attribute --secs S [--root DIR] [--lxc ID]\n");
	return 2;
}

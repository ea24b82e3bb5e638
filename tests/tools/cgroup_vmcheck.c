/*
 * cgroup_vmcheck.c — the cgroup library against a real kernel, one subcommand per topic.
 *
 *   cgroup_vmcheck discover ID...   auto-discovery, inotify come/go, a full sample
 *   cgroup_vmcheck writes ID        every write rule (cpu.max, cpuset order, memory order,
 *                                   the refused unsafe memory.max, swap, kernel refusals)
 *   cgroup_vmcheck throttle ID      cpu.max throttling visible in cpu.stat
 *   cgroup_vmcheck psi ID           PSI trigger: window, first-event latency, event count
 *   cgroup_vmcheck memevents ID ID2 memory.events notification on memory.high and on OOM
 *   cgroup_vmcheck gone ID          a container removed in the middle of reads
 *
 * Runs inside the test VM (tests/vm/) as root on a pure cgroup v2 hierarchy with the
 * containers lxc/<ID>/ns already created by the scenario. Prints one line per check,
 * "ok - ...", "FAIL - ...", "skip - ...", and "info - ..." for measured figures; exits 1
 * when a check failed. Load comes from the sibling programs cpuburn and memhog, started
 * inside the container's ns cgroup. Timing bounds are deliberately loose (TCG is slow).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#define MiB (1024ull * 1024ull)
#define CGROOT "/sys/fs/cgroup"

static int failures;
static char tooldir[PATH_MAX];

static void say(const char *tag, const char *fmt, va_list ap)
{
	printf("%s - ", tag);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}
static void ok(const char *fmt, ...) { va_list ap; va_start(ap, fmt); say("ok", fmt, ap); va_end(ap); }
static void info(const char *fmt, ...) { va_list ap; va_start(ap, fmt); say("info", fmt, ap); va_end(ap); }
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("FAIL", fmt, ap);
	va_end(ap);
	failures++;
}
#define CHECK(cond, ...) do { if (cond) ok(__VA_ARGS__); else fail(__VA_ARGS__); } while (0)
#define CHECK_ERR(got, want, what) \
	do { cg_err g_ = (got), w_ = (want); \
	     if (g_ == w_) ok("%s: %s", what, cg_strerror(g_)); \
	     else fail("%s: got \"%s\", want \"%s\"", what, cg_strerror(g_), cg_strerror(w_)); } while (0)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool read_text(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return false;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return true;
}

static const char *ct_file(uint32_t id, const char *name)
{
	static char buf[4096];
	char p[PATH_MAX];
	snprintf(p, sizeof p, CGROOT "/lxc/%u/%s", id, name);
	if (!read_text(p, buf, sizeof buf))
		snprintf(buf, sizeof buf, "<unreadable: %s>", strerror(errno));
	return buf;
}

static bool write_text(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool r = write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	close(fd);
	return r;
}

/* Start a tool (cpuburn, memhog) inside lxc/<id>/ns. */
static pid_t spawn_in(uint32_t id, char *const argv[])
{
	char procs[PATH_MAX], prog[PATH_MAX * 2];
	snprintf(procs, sizeof procs, CGROOT "/lxc/%u/ns/cgroup.procs", id);
	snprintf(prog, sizeof prog, "%s/%s", tooldir, argv[0]);
	pid_t pid = fork();
	if (pid == 0) {
		if (!write_text(procs, "0"))
			_exit(120);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execv(prog, argv);
		_exit(121);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st = 0;
	if (pid <= 0)
		return -1;
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static bool alive(pid_t pid)
{
	int st;
	return waitpid(pid, &st, WNOHANG) == 0;
}

static cg_hier *hier(void)
{
	cg_hier *h = NULL;
	cg_err e = cg_hier_open(NULL, &h);
	if (e != CG_OK) {
		fail("cg_hier_open: %s", cg_strerror(e));
		exit(1);
	}
	return h;
}

static cg_ct *open_ct(cg_hier *h, uint32_t id)
{
	cg_ct *ct = NULL;
	cg_err e = cg_ct_open(h, id, &ct);
	if (e != CG_OK) {
		fail("cg_ct_open %u: %s", id, cg_strerror(e));
		exit(1);
	}
	return ct;
}

/* Wait until memory.current of the container reaches `bytes`, up to `secs`. */
static bool wait_mem(cg_ct *ct, uint64_t bytes, double secs)
{
	double end = now_s() + secs;
	cg_u64 cur;
	do {
		if (cg_read_mem_current(ct, &cur) == CG_OK && cur.v >= bytes)
			return true;
		msleep(20);
	} while (now_s() < end);
	return false;
}

/* ---- inotify write-order log on a container and its ns ---------------------------- */

struct wlog { int fd, wd_ct, wd_ns; };

static void wlog_open(struct wlog *w, uint32_t id)
{
	char p[PATH_MAX];
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(p, sizeof p, CGROOT "/lxc/%u", id);
	w->wd_ct = inotify_add_watch(w->fd, p, IN_MODIFY);
	snprintf(p, sizeof p, CGROOT "/lxc/%u/ns", id);
	w->wd_ns = inotify_add_watch(w->fd, p, IN_MODIFY);
}

/* Names of the files written since the last call, in order: "memory.max,memory.high". */
static const char *wlog_take(struct wlog *w)
{
	static char out[1024];
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;
	out[0] = '\0';
	while ((n = read(w->fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			p += sizeof *e + e->len;
			if (!e->len || strlen(out) + e->len + 8 >= sizeof out)
				continue;
			if (out[0])
				strcat(out, ",");
			if (e->wd == w->wd_ns)
				strcat(out, "ns/");
			strcat(out, e->name);
		}
	}
	return out;
}

/* ---- discover ------------------------------------------------------------------- */

static void note_cb(void *arg, uint32_t id, bool added)
{
	int *n = arg;
	(void)id;
	*n += added ? 1 : -1;
}

static int cmd_discover(int argc, char **argv)
{
	cg_hier *h = hier();
	CHECK(strcmp(cg_hier_mount(h), CGROOT) == 0, "auto-discovered mount is %s", cg_hier_mount(h));
	CHECK(cg_hier_is_cgroup2(h), "mount is cgroup2");
	CHECK(strcmp(cg_hier_root(h), CGROOT "/lxc") == 0, "container root is %s", cg_hier_root(h));
	CHECK(cg_hier_level(h) == 2, "container level is %d (lxc/<vmid>)", cg_hier_level(h));

	int changes = 0;
	cg_ctset *set = NULL;
	cg_err e = cg_ctset_open(h, &set, note_cb, &changes);
	CHECK_ERR(e, CG_OK, "container set opens on the real root");
	if (e)
		return 1;
	for (int i = 0; i < argc; i++) {
		uint32_t id = (uint32_t)strtoul(argv[i], NULL, 10);
		CHECK(cg_ctset_has(set, id), "container %u found by the initial scan", id);
	}

	/* come and go through inotify, in the caller's epoll loop */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, cg_ctset_fd(set), &ev);
	const uint32_t nid = 499;
	char p[PATH_MAX];
	snprintf(p, sizeof p, CGROOT "/lxc/%u", nid);
	changes = 0;
	mkdir(p, 0755);
	int n = epoll_wait(ep, &ev, 1, 2000);
	cg_ctset_process(set, note_cb, &changes);
	CHECK(n == 1 && cg_ctset_has(set, nid) && changes == 1,
	      "mkdir lxc/%u wakes the set's fd and adds it", nid);
	rmdir(p);
	n = epoll_wait(ep, &ev, 1, 2000);
	cg_ctset_process(set, note_cb, &changes);
	CHECK(n == 1 && !cg_ctset_has(set, nid) && changes == 0,
	      "rmdir lxc/%u wakes the set's fd and removes it", nid);
	close(ep);
	cg_ctset_close(set);

	if (argc < 1)
		return failures ? 1 : 0;
	uint32_t id = (uint32_t)strtoul(argv[0], NULL, 10);
	cg_ct *ct = open_ct(h, id);
	uint64_t ino = 0;
	snprintf(p, sizeof p, CGROOT "/lxc/%u", id);
	cg_cgroup_id(p, &ino);
	CHECK(cg_ct_cgroup_id(ct) == ino && ino != 0, "cgroup id of lxc/%u is its inode %llu", id,
	      (unsigned long long)ino);

	struct cg_sample s;
	e = cg_sample_read(ct, &s);
	CHECK_ERR(e, CG_OK, "full sample of a live container");
	struct { const char *name; uint8_t state; } f[] = {
		{ "cpu usage_usec", s.cpu_usage_usec.state },   { "cpu nr_periods", s.cpu_nr_periods.state },
		{ "cpu throttled_usec", s.cpu_throttled_usec.state }, { "cpu.max period", s.cpu_max_period_usec.state },
		{ "cpuset.cpus.effective", s.cpuset_cpus_effective.state },
		{ "memory.current", s.mem_current.state }, { "memory.stat anon", s.mem_anon.state },
		{ "memory.stat file", s.mem_file.state }, { "memory.events high", s.ev_high.state },
		{ "memory.swap.current", s.swap_current.state }, { "io.stat", s.io_rbytes.state },
		{ "pids.current", s.pids_current.state }, { "cpu.pressure some total", s.psi_cpu.some.total.state },
		{ "memory.pressure full avg10", s.psi_memory.full.avg10.state },
		{ "io.pressure some avg300", s.psi_io.some.avg300.state },
	};
	char missing[512] = "";
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if (f[i].state != CG_KNOWN) {
			strncat(missing, " ", sizeof missing - strlen(missing) - 1);
			strncat(missing, f[i].name, sizeof missing - strlen(missing) - 1);
		}
	CHECK(missing[0] == '\0', "every sampled value is known on a full kernel%s%s",
	      missing[0] ? ": unknown:" : "", missing);
	CHECK(s.mem_max.state == CG_MAX && s.mem_high.state == CG_MAX && s.cpu_max_quota_usec.state == CG_MAX,
	      "unlimited memory.max/memory.high/cpu.max read as \"max\", not as numbers");
	CHECK(s.pids_current.state == CG_KNOWN && s.pids_current.v >= 1,
	      "pids.current counts the container's process (%llu)", (unsigned long long)s.pids_current.v);
	CHECK(s.cpuset_cpus_effective.count == (uint32_t)sysconf(_SC_NPROCESSORS_ONLN),
	      "cpuset.cpus.effective has all %u CPUs", s.cpuset_cpus_effective.count);

	/* timing of one full sample on this (emulated) machine */
	double t0 = now_s();
	for (int i = 0; i < 200; i++)
		cg_sample_read(ct, &s);
	info("one full sample takes %.1f us in the VM (200 reads)", (now_s() - t0) / 200 * 1e6);
	cg_ct_close(ct);
	cg_hier_close(h);
	return failures ? 1 : 0;
}

/* ---- writes --------------------------------------------------------------------- */

static int cmd_writes(uint32_t id)
{
	cg_hier *h = hier();
	cg_ct *ct = open_ct(h, id);
	struct wlog w;
	char want[64];
	cg_err e;
	wlog_open(&w, id);

	/* cpu.max */
	CHECK_ERR(cg_set_cpu(ct, 2), CG_OK, "cg_set_cpu 2 cores");
	CHECK(strcmp(ct_file(id, "cpu.max"), "200000 100000") == 0, "cpu.max reads \"%s\" after 2 cores", ct_file(id, "cpu.max"));
	CHECK_ERR(cg_set_cpu(ct, 1.5), CG_OK, "cg_set_cpu 1.5 cores");
	CHECK(strcmp(ct_file(id, "cpu.max"), "150000 100000") == 0, "cpu.max reads \"%s\" after 1.5 cores", ct_file(id, "cpu.max"));
	CHECK_ERR(cg_set_cpu(ct, 0.05), CG_OK, "cg_set_cpu 0.05 cores");
	CHECK(strcmp(ct_file(id, "cpu.max"), "5000 100000") == 0, "cpu.max reads \"%s\" after 0.05 cores", ct_file(id, "cpu.max"));
	CHECK_ERR(cg_set_cpu(ct, 0), CG_OK, "cg_set_cpu 0 = no limit");
	CHECK(strcmp(ct_file(id, "cpu.max"), "max 100000") == 0, "cpu.max reads \"%s\" after no limit", ct_file(id, "cpu.max"));
	CHECK_ERR(cg_write_verify(ct, "cpu.max", "500 100000"), CG_EINVAL,
	          "the kernel's own refusal (quota below 1 ms) comes back as CG_EINVAL");
	wlog_take(&w);

	/* cpuset.cpus: parent widened first, child narrowed first */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu >= 2) {
		CHECK_ERR(cg_set_cpuset_str(ct, "0"), CG_OK, "cg_set_cpuset 0");
		CHECK(strcmp(ct_file(id, "cpuset.cpus"), "0") == 0 && strcmp(ct_file(id, "ns/cpuset.cpus"), "0") == 0 &&
		      strcmp(ct_file(id, "ns/cpuset.cpus.effective"), "0") == 0,
		      "cpuset 0 on lxc/%u and ns (effective %s)", id, ct_file(id, "ns/cpuset.cpus.effective"));
		wlog_take(&w);
		CHECK_ERR(cg_set_cpuset_str(ct, "0-1"), CG_OK, "cg_set_cpuset widen to 0-1");
		const char *order = wlog_take(&w);
		CHECK(strcmp(order, "cpuset.cpus,ns/cpuset.cpus") == 0, "widening writes the container before ns (%s)", order);
		CHECK(strcmp(ct_file(id, "ns/cpuset.cpus.effective"), "0-1") == 0, "ns effective cpuset is 0-1 after widening");
		CHECK_ERR(cg_set_cpuset_str(ct, "1"), CG_OK, "cg_set_cpuset narrow to 1");
		order = wlog_take(&w);
		CHECK(strcmp(order, "ns/cpuset.cpus,cpuset.cpus") == 0, "narrowing writes ns before the container (%s)", order);
		CHECK(strcmp(ct_file(id, "cpuset.cpus.effective"), "1") == 0 && strcmp(ct_file(id, "ns/cpuset.cpus.effective"), "1") == 0,
		      "effective cpuset is 1 on both after narrowing");
		CHECK_ERR(cg_set_cpuset_str(ct, "0"), CG_OK, "cg_set_cpuset move 1 -> 0");
		order = wlog_take(&w);
		CHECK(strcmp(order, "cpuset.cpus,ns/cpuset.cpus,cpuset.cpus") == 0, "a move goes union, child, parent (%s)", order);
		char big[32];
		snprintf(big, sizeof big, "0-%ld", ncpu + 3);
		e = cg_set_cpuset_str(ct, big);
		CHECK(e == CG_EINVAL || e == CG_EVERIFY, "cpuset %s beyond the machine is refused (%s)", big, cg_strerror(e));
		cg_set_cpuset_str(ct, "0-1");
	} else {
		printf("skip - cpuset order: needs 2 CPUs\n");
	}
	wlog_take(&w);

	/* memory: a 40 MiB process in the container */
	char *hog[] = { "memhog", "-m", "40", NULL };
	pid_t pid = spawn_in(id, hog);
	if (!wait_mem(ct, 40 * MiB, 20)) {
		fail("memhog did not reach 40 MiB in lxc/%u (memory.current %s)", id, ct_file(id, "memory.current"));
		reap(pid);
		return 1;
	}
	cg_u64 cur;
	cg_read_mem_current(ct, &cur);
	info("memory.current with the hog: %llu MiB", (unsigned long long)(cur.v / MiB));
	wlog_take(&w); /* forget the hog's own move into ns/cgroup.procs */

	CHECK_ERR(cg_set_memory(ct, 256 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_OK, "cg_set_memory 256 MiB from max (a shrink)");
	const char *order = wlog_take(&w);
	CHECK(strcmp(order, "memory.high,memory.max") == 0, "shrinking writes memory.high before memory.max (%s)", order);
	snprintf(want, sizeof want, "%llu", 256 * MiB);
	CHECK(strcmp(ct_file(id, "memory.max"), want) == 0, "memory.max reads %s", ct_file(id, "memory.max"));
	snprintf(want, sizeof want, "%llu", 256ull * 1024 * 1016);
	CHECK(strcmp(ct_file(id, "memory.high"), want) == 0, "memory.high follows Proxmox's formula (%s)", ct_file(id, "memory.high"));

	CHECK_ERR(cg_set_memory(ct, 384 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_OK, "cg_set_memory grow to 384 MiB");
	order = wlog_take(&w);
	CHECK(strcmp(order, "memory.max,memory.high") == 0, "growing writes memory.max before memory.high (%s)", order);
	snprintf(want, sizeof want, "%llu", 384 * MiB);
	CHECK(strcmp(ct_file(id, "memory.max"), want) == 0, "memory.max reads %s", ct_file(id, "memory.max"));

	/* the unsafe shrink: below usage + headroom -> refused, nothing written, nobody killed */
	e = cg_set_memory(ct, 64 * MiB, CG_MEM_HEADROOM_DEFAULT);
	CHECK_ERR(e, CG_EUNSAFE, "memory.max 64 MiB under 40 MiB usage + 64 MiB headroom is refused");
	info("refusal message: %s", cg_strerror(e));
	order = wlog_take(&w);
	CHECK(order[0] == '\0', "the refused shrink wrote nothing (%s)", order[0] ? order : "no write");
	CHECK(strcmp(ct_file(id, "memory.max"), want) == 0, "memory.max still %s", ct_file(id, "memory.max"));
	CHECK(alive(pid), "the container's process is alive after the refused shrink");
	struct cg_mem_events ev;
	cg_read_mem_events(ct, &ev);
	CHECK(ev.oom_kill.state == CG_KNOWN && ev.oom_kill.v == 0, "memory.events oom_kill is 0");

	CHECK_ERR(cg_set_memory(ct, 128 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_OK, "a safe shrink to 128 MiB is done");
	order = wlog_take(&w);
	CHECK(strcmp(order, "memory.high,memory.max") == 0, "and writes memory.high before memory.max (%s)", order);
	CHECK(alive(pid), "the process is alive after the safe shrink");

	CHECK_ERR(cg_set_memory_high(ct, 100 * MiB), CG_OK, "cg_set_memory_high 100 MiB");
	snprintf(want, sizeof want, "%llu", 100 * MiB);
	CHECK(strcmp(ct_file(id, "memory.high"), want) == 0, "memory.high reads %s", ct_file(id, "memory.high"));
	CHECK_ERR(cg_set_swap(ct, 64 * MiB), CG_OK, "cg_set_swap 64 MiB");
	snprintf(want, sizeof want, "%llu", 64 * MiB);
	CHECK(strcmp(ct_file(id, "memory.swap.max"), want) == 0, "memory.swap.max reads %s", ct_file(id, "memory.swap.max"));
	CHECK_ERR(cg_set_swap(ct, UINT64_MAX), CG_OK, "cg_set_swap max");
	CHECK(strcmp(ct_file(id, "memory.swap.max"), "max") == 0, "memory.swap.max reads max");
	CHECK_ERR(cg_write_verify(ct, "memory.high", "max"), CG_OK, "cg_write_verify memory.high max");
	CHECK_ERR(cg_write_verify(ct, "pids.max", "64"), CG_OK, "cg_write_verify pids.max 64");

	struct cg_sample s;
	cg_sample_read(ct, &s);
	CHECK(s.mem_max.state == CG_KNOWN && s.mem_max.v == 128 * MiB && s.mem_high.state == CG_MAX,
	      "the sample reads the limits back (max %llu MiB, high max)", (unsigned long long)(s.mem_max.v / MiB));
	/* the read-back is real: the kernel rounds memory to pages, so an unaligned raw write
	 * reads back differently and is reported, not silently accepted */
	CHECK_ERR(cg_write_verify(ct, "memory.high", "100000001"), CG_EVERIFY,
	          "an unaligned memory.high reads back rounded: CG_EVERIFY");
	info("memory.high after writing 100000001: %s", ct_file(id, "memory.high"));
	reap(pid);
	cg_write_verify(ct, "memory.max", "max");
	cg_write_verify(ct, "pids.max", "max");
	close(w.fd);
	cg_ct_close(ct);
	cg_hier_close(h);
	return failures ? 1 : 0;
}

/* ---- throttle ------------------------------------------------------------------- */

static int cmd_throttle(uint32_t id)
{
	cg_hier *h = hier();
	cg_ct *ct = open_ct(h, id);
	struct cg_sample a, b;
	CHECK_ERR(cg_set_cpu(ct, 0.2), CG_OK, "cpu.max 0.2 cores");
	char *burn[] = { "cpuburn", "-t", "1", NULL };
	pid_t pid = spawn_in(id, burn);
	msleep(200);
	cg_sample_read(ct, &a);
	msleep(1500);
	cg_sample_read(ct, &b);
	reap(pid);
	double wall = (double)(b.mono_ns - a.mono_ns) / 1e9;
	uint64_t thr = b.cpu_nr_throttled.v - a.cpu_nr_throttled.v;
	uint64_t per = b.cpu_nr_periods.v - a.cpu_nr_periods.v;
	uint64_t tus = b.cpu_throttled_usec.v - a.cpu_throttled_usec.v;
	double cores = (double)(b.cpu_usage_usec.v - a.cpu_usage_usec.v) / 1e6 / wall;
	info("under cpu.max 0.2: nr_throttled +%llu of +%llu periods, throttled_usec +%llu, %.2f cores used",
	     (unsigned long long)thr, (unsigned long long)per, (unsigned long long)tus, cores);
	CHECK(cg_known(b.cpu_nr_throttled) && thr > 0, "nr_throttled grows under cpu.max with a burner");
	CHECK(tus > 0, "throttled_usec grows");
	CHECK(cores < 0.5, "usage stays near the 0.2-core quota (%.2f cores; loose bound 0.5)", cores);
	CHECK(b.psi_cpu.full.total.v > a.psi_cpu.full.total.v, "cpu.pressure full grows while throttled");
	cg_set_cpu(ct, 0);
	cg_ct_close(ct);
	cg_hier_close(h);
	return failures ? 1 : 0;
}

/* ---- psi ------------------------------------------------------------------------ */

static int cmd_psi(uint32_t id)
{
	cg_hier *h = hier();
	cg_ct *ct = open_ct(h, id);
	int fd = -1;
	uint64_t win = 0, stall = 0;
	cg_set_cpu(ct, 0);
	cg_err e = cg_set_cpuset_str(ct, "0"); /* one CPU for three burners: real contention */
	CHECK_ERR(e, CG_OK, "container pinned to CPU 0");
	e = cg_psi_trigger_open(ct, CG_RES_CPU, CG_PSI_SOME, 50000, CG_PSI_WINDOW_DEFAULT_US, &fd, &win, &stall);
	CHECK_ERR(e, CG_OK, "PSI trigger some 50ms/500ms on cpu.pressure");
	if (e)
		return 1;
	CHECK(win == 500000 && stall == 50000, "root in the VM gets the 500 ms window (got %llu us)", (unsigned long long)win);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLPRI };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);

	int idle_events = 0;
	double end = now_s() + 1.0;
	while (now_s() < end)
		if (epoll_wait(ep, &ev, 1, 100) == 1 && cg_psi_event_classify(ev.events) == CG_FD_EVENT)
			idle_events++;
	CHECK(idle_events == 0, "no PSI event in 1 s while the container idles (%d)", idle_events);

	char *burn[] = { "cpuburn", "-t", "3", NULL };
	double t0 = now_s();
	pid_t pid = spawn_in(id, burn);
	double first = -1;
	int events = 0, gone = 0;
	while (now_s() < t0 + 3.0) {
		int ms = (int)((t0 + 3.0 - now_s()) * 1000) + 1;
		if (epoll_wait(ep, &ev, 1, ms) != 1)
			continue;
		enum cg_fd_event k = cg_psi_event_classify(ev.events);
		if (k == CG_FD_GONE) {
			gone++;
			break;
		}
		if (k == CG_FD_EVENT) {
			if (first < 0)
				first = now_s() - t0;
			events++;
		}
	}
	reap(pid);
	info("PSI cpu some 50ms/500ms: first event %.0f ms after 3 burners started, %d events in 3 s",
	     first * 1000, events);
	CHECK(gone == 0, "the trigger fd never reported the cgroup gone");
	CHECK(first >= 0 && first < 1.5, "first PSI event within 1.5 s (%.0f ms)", first * 1000);
	CHECK(events >= 3, "at least 3 PSI events in 3 s (%d)", events);
	CHECK(events <= 8, "events are rate-limited to about one per window (%d in 3 s)", events);

	struct cg_psi p;
	CHECK_ERR(cg_read_pressure(ct, CG_RES_CPU, &p), CG_OK, "cpu.pressure reads after the events");
	CHECK(p.some.total.v > 100000, "cpu some total grew past 100 ms (%llu us)", (unsigned long long)p.some.total.v);
	close(ep);
	close(fd);

	e = cg_psi_host_trigger(CG_RES_MEMORY, CG_PSI_SOME, 100000, 1000000, &fd, &win, &stall);
	CHECK_ERR(e, CG_OK, "host PSI trigger on /proc/pressure/memory");
	if (e == CG_OK)
		close(fd);
	e = cg_psi_trigger_open(ct, CG_RES_IO, CG_PSI_FULL, 10, 20, &fd, &win, &stall);
	CHECK(e == CG_OK || e == CG_EINVAL, "a 20 us window is either taken or refused cleanly (%s)", cg_strerror(e));
	if (e == CG_OK)
		close(fd);
	cg_set_cpuset_str(ct, "0-1");
	cg_ct_close(ct);
	cg_hier_close(h);
	return failures ? 1 : 0;
}

/* ---- memory.events --------------------------------------------------------------- */

static int wait_events(int ep, cg_ct *ct, double secs, struct cg_mem_events *out,
                       bool (*done)(const struct cg_mem_events *))
{
	struct epoll_event ev;
	double end = now_s() + secs;
	int wakeups = 0;
	while (now_s() < end) {
		int ms = (int)((end - now_s()) * 1000) + 1;
		if (epoll_wait(ep, &ev, 1, ms) != 1)
			continue;
		wakeups++;
		if (cg_mem_events_ack(ct, out) != CG_OK)
			return -1;
		if (done(out))
			return wakeups;
	}
	return -wakeups - 2;
}

static bool high_seen(const struct cg_mem_events *e) { return e->high.v > 0; }
static bool oom_seen(const struct cg_mem_events *e) { return e->oom_kill.v > 0; }

static int cmd_memevents(uint32_t id, uint32_t id2)
{
	cg_hier *h = hier();
	cg_ct *ct = open_ct(h, id);
	int fd = -1;
	struct cg_mem_events e;

	CHECK_ERR(cg_set_memory(ct, 256 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_OK, "memory.max 256 MiB");
	CHECK_ERR(cg_set_memory_high(ct, 32 * MiB), CG_OK, "memory.high 32 MiB");
	CHECK_ERR(cg_mem_events_watch(ct, &fd), CG_OK, "memory.events watch fd");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLPRI };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	char *hog[] = { "memhog", "-m", "96", "-r", "64", NULL };
	double t0 = now_s();
	pid_t pid = spawn_in(id, hog);
	int r = wait_events(ep, ct, 8, &e, high_seen);
	double dt = now_s() - t0;
	CHECK(r > 0, "memory.events wakes epoll when memory.high is breached (high %llu after %d wakeups)",
	      (unsigned long long)e.high.v, r);
	if (r > 0)
		info("memory.events high notification %.0f ms after a 64 MiB/s hog started under a 32 MiB memory.high", dt * 1000);
	struct cg_sample s;
	cg_sample_read(ct, &s);
	CHECK(alive(pid), "memory.high throttles the hog instead of killing it");
	CHECK(s.ev_oom_kill.v == 0, "no OOM kill under memory.high");
	int st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the throttled hog can be killed");
	close(ep);
	cg_write_verify(ct, "memory.high", "max");
	cg_write_verify(ct, "memory.max", "max");
	cg_ct_close(ct);

	/* OOM: memory.max without memory.high, a hog bigger than the limit */
	ct = open_ct(h, id2);
	CHECK_ERR(cg_write_verify(ct, "memory.max", "33554432"), CG_OK, "memory.max 32 MiB on the OOM container");
	CHECK_ERR(cg_write_verify(ct, "memory.swap.max", "0"), CG_OK, "no swap for the OOM container");
	CHECK_ERR(cg_mem_events_watch(ct, &fd), CG_OK, "memory.events watch fd");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLPRI;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	char *big[] = { "memhog", "-m", "128", NULL };
	pid = spawn_in(id2, big);
	r = wait_events(ep, ct, 10, &e, oom_seen);
	CHECK(r > 0, "memory.events wakes epoll on an OOM kill (oom_kill %llu)", (unsigned long long)e.oom_kill.v);
	st = reap(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the hog over memory.max was OOM-killed");
	close(ep);
	cg_write_verify(ct, "memory.max", "max");
	cg_write_verify(ct, "memory.swap.max", "max");
	cg_ct_close(ct);
	cg_hier_close(h);
	return failures ? 1 : 0;
}

/* ---- gone ----------------------------------------------------------------------- */

struct remover { uint32_t id; long delay_us; };

static void *remove_later(void *arg)
{
	struct remover *r = arg;
	char p[PATH_MAX];
	usleep((useconds_t)r->delay_us);
	snprintf(p, sizeof p, CGROOT "/lxc/%u/ns", r->id);
	rmdir(p);
	snprintf(p, sizeof p, CGROOT "/lxc/%u", r->id);
	if (rmdir(p) != 0)
		fprintf(stderr, "rmdir %s: %s\n", p, strerror(errno));
	return NULL;
}

static bool make_ct(uint32_t id)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, CGROOT "/lxc/%u", id);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return false;
	snprintf(p, sizeof p, CGROOT "/lxc/%u/cgroup.subtree_control", id);
	write_text(p, "+cpu +memory +io +pids");
	snprintf(p, sizeof p, CGROOT "/lxc/%u/ns", id);
	return mkdir(p, 0755) == 0 || errno == EEXIST;
}

static int cmd_gone(uint32_t base)
{
	cg_hier *h = hier();
	cg_ctset *set = NULL;
	const int rounds = 20;
	int gone_rounds = 0, bad = 0, mid = 0;
	long total_ok = 0;
	cg_ctset_open(h, &set, NULL, NULL);

	for (int r = 0; r < rounds; r++) {
		uint32_t id = base + (uint32_t)r;
		cg_ct *ct = NULL;
		if (!make_ct(id) || cg_ct_open(h, id, &ct) != CG_OK) {
			fail("could not create lxc/%u", id);
			continue;
		}
		int tfd = -1, efd = -1;
		uint64_t w;
		cg_psi_trigger_open(ct, CG_RES_MEMORY, CG_PSI_SOME, 100000, 1000000, &tfd, &w, NULL);
		cg_mem_events_watch(ct, &efd);
		struct remover rm = { id, 2000 + r * 1500 };
		pthread_t t;
		pthread_create(&t, NULL, remove_later, &rm);
		struct cg_sample s;
		cg_err e = CG_OK;
		long oks = 0;
		double end = now_s() + 5;
		while (now_s() < end) {
			e = cg_sample_read(ct, &s);
			if (e == CG_OK)
				oks++;
			else
				break;
		}
		pthread_join(t, NULL);
		total_ok += oks;
		if (e == CG_GONE)
			gone_rounds++;
		else
			bad++;
		if (oks > 0 && e == CG_GONE)
			mid++;
		if (r == 0) {
			/* everything else about a vanished container, once */
			CHECK_ERR(cg_ct_refresh(ct), CG_GONE, "cg_ct_refresh after removal");
			CHECK_ERR(cg_set_cpu(ct, 1), CG_GONE, "cg_set_cpu after removal");
			CHECK_ERR(cg_set_memory(ct, 64 * MiB, 0), CG_GONE, "cg_set_memory after removal");
			CHECK_ERR(cg_mem_events_ack(ct, NULL), CG_GONE, "memory.events watch after removal");
			struct cg_psi p;
			CHECK_ERR(cg_read_pressure(ct, CG_RES_CPU, &p), CG_GONE, "cg_read_pressure after removal");
			if (tfd >= 0) {
				int ep = epoll_create1(EPOLL_CLOEXEC);
				struct epoll_event ev = { .events = EPOLLPRI };
				epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
				int n = epoll_wait(ep, &ev, 1, 2000);
				CHECK(n == 1 && cg_psi_event_classify(ev.events) == CG_FD_GONE,
				      "the PSI trigger fd reports EPOLLERR: container gone");
				close(ep);
			} else {
				fail("PSI trigger on memory.pressure did not open");
			}
		}
		if (tfd >= 0)
			close(tfd);
		cg_ct_close(ct);
	}
	info("removal during reads: %d rounds, %d ended CG_GONE after >= 1 good read, %ld good reads before",
	     rounds, mid, total_ok);
	CHECK(gone_rounds == rounds && bad == 0, "every read loop ended with CG_GONE, never another error (%d/%d)",
	      gone_rounds, rounds);
	CHECK(mid > 0, "the removal landed between reads of a live handle in %d rounds", mid);
	cg_ctset_process(set, NULL, NULL);
	bool left = false;
	for (int r = 0; r < rounds; r++)
		left |= cg_ctset_has(set, base + (uint32_t)r);
	CHECK(!left, "the container set dropped all removed containers");
	cg_ctset_close(set);
	cg_hier_close(h);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(tooldir, sizeof tooldir, "%s", self);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: cgroup_vmcheck discover|writes|throttle|psi|memevents|gone ID...\n");
		return 2;
	}
	const char *cmd = argv[1];
	uint32_t id = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 0;
	uint32_t id2 = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;
	if (strcmp(cmd, "discover") == 0)
		return cmd_discover(argc - 2, argv + 2);
	if (id == 0) {
		fprintf(stderr, "cgroup_vmcheck %s: needs a container id\n", cmd);
		return 2;
	}
	if (strcmp(cmd, "writes") == 0)
		return cmd_writes(id);
	if (strcmp(cmd, "throttle") == 0)
		return cmd_throttle(id);
	if (strcmp(cmd, "psi") == 0)
		return cmd_psi(id);
	if (strcmp(cmd, "memevents") == 0 && id2)
		return cmd_memevents(id, id2);
	if (strcmp(cmd, "gone") == 0)
		return cmd_gone(id);
	fprintf(stderr, "cgroup_vmcheck: unknown command %s\n", cmd);
	return 2;
}

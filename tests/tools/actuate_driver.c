/*
 * actuate_driver.c — runs the real actuator, journal, persister and reconcile as a process,
 * for tests that need a real process to kill at any point (host tests, and 70-actuate in the
 * VM on real containers) or a shrink step forced without the daemon's policy.
 *
 *   actuate_driver [options] apply VMID CPU_FROM CPU_TO MEM_FROM MEM_TO
 *       journal + write + read back, print "applied seq=N status=S cpu=C mem=M", then wait
 *       for the persister and print "persisted seq=N" (or "persist-failed ...").
 *   actuate_driver [options] reconcile [VMID...]
 *       journal replay, then the config baseline for the VMIDs given (default: every
 *       container found under the cgroup root); prints each action and a summary line
 *       "reconcile: persisted=N restored=N cancelled=N failed=N drift=N open=N".
 *   actuate_driver [options] shrink VMID FROM_MB TO_MB
 *       VM: the stepwise shrink, ticking every 100 ms until it ends; prints the event.
 *
 * Options: --cgroup MOUNT (default: auto) --root lxc --journal PATH --pct PATH
 *          --debounce MS --timeout MS
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "act/actuator.h"
#include "act/journal.h"
#include "act/reconcile.h"
#include "cgroup.h"
#include "pve/persister.h"

#define MIB (1ull << 20)

static const char *opt_cgroup, *opt_root = "lxc", *opt_journal = "/tmp/lxcscale-journal";
static struct persist_settings g_ps;
static cg_hier *g_h;
static struct journal *g_j;
static struct persister *g_p;
static struct actuator *g_a;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("actuate_driver: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static double num(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !isfinite(v) || v < 0)
		die("not a number: %s", s);
	return v;
}

static void open_all(bool with_persister)
{
	struct cg_config cfg = {.mount = opt_cgroup, .root = opt_root, .inner = "ns"};
	cg_err err = cg_hier_open(&cfg, &g_h);
	if (err)
		die("cgroup: %s", cg_strerror(err));
	struct journal_open_info info;
	int rc = journal_open(opt_journal, &g_j, &info);
	if (rc)
		die("journal %s: %s", opt_journal, strerror(-rc));
	printf("journal: records=%zu open=%zu torn_bytes=%zu corrupt=%zu\n", info.records,
	       info.open_changes, info.torn_bytes, info.corrupt);
	if (with_persister && (rc = persister_start(&g_ps, &g_p)))
		die("persister: %s", strerror(-rc));
	struct actuator_settings as;
	actuator_settings_default(&as);
	if ((rc = actuator_new(&as, g_h, g_j, g_p, &g_a)))
		die("actuator: %s", strerror(-rc));
	fflush(stdout);
}

static void close_all(void)
{
	actuator_free(g_a);
	persister_stop(g_p, false);
	journal_close(g_j);
	cg_hier_close(g_h);
}

static void print_events(void)
{
	struct actuator_event ev[16];
	size_t n;
	static const char *names[] = {"shrink-done", "shrink-abandoned", "persisted",
				      "persist-failed", "persist-locked"};
	while ((n = actuator_take_events(g_a, ev, 16)) > 0)
		for (size_t i = 0; i < n; i++)
			printf("event %s ct=%u seq=%llu cores=%u mem=%llu: %s\n", names[ev[i].kind],
			       ev[i].vmid, (unsigned long long)ev[i].seq, ev[i].cores,
			       (unsigned long long)ev[i].mem_mb, ev[i].detail);
	fflush(stdout);
}

static struct decision decision(uint32_t vmid, double cf, double ct, uint64_t mf, uint64_t mt)
{
	struct decision d = {.vmid = vmid, .cpu_from = cf, .cpu_to = ct, .mem_from_mb = mf,
			     .mem_to_mb = mt, .persist = true, .reason = REASON_MANUAL};
	d.cpu_change = cf == ct ? DECISION_NONE : ct > cf ? DECISION_UP : DECISION_DOWN;
	d.mem_change = mf == mt ? DECISION_NONE : mt > mf ? DECISION_UP : DECISION_DOWN;
	return d;
}

/* Waits for persister results until vmid's change is persisted (or failed for good). */
static int wait_persisted(uint32_t vmid, uint64_t seq, int guard_ms)
{
	uint64_t end = mono_us() + (uint64_t)guard_ms * 1000;
	while (mono_us() < end) {
		struct pollfd pfd = {.fd = persister_eventfd(g_p), .events = POLLIN};
		actuator_tick(g_a); /* a shrink advances while we wait */
		print_events();
		if (poll(&pfd, 1, 100) == 1) {
			struct persist_result r[8];
			size_t n = persister_take_results(g_p, r, 8);
			for (size_t i = 0; i < n; i++) {
				actuator_persisted(g_a, &r[i]);
				print_events();
				if (r[i].vmid == vmid && r[i].upto_seq >= seq &&
				    (r[i].status == PERSIST_OK || r[i].status == PERSIST_GONE))
					return 0;
			}
		}
	}
	return -1;
}

static int apply_one(const struct decision *d, struct actuator_outcome *o)
{
	int rc = actuator_apply(g_a, d, o);
	printf("applied seq=%llu status=%s cpu=%.2f mem=%llu: %s\n", (unsigned long long)o->seq,
	       actuator_status_name(o->status), o->cpu_applied, (unsigned long long)o->mem_applied_mb,
	       o->detail);
	fflush(stdout);
	return rc;
}

static int cmd_apply(int argc, char **argv)
{
	if (argc != 6)
		die("apply VMID CPU_FROM CPU_TO MEM_FROM MEM_TO");
	open_all(true);
	struct decision d = decision((uint32_t)num(argv[1]), num(argv[2]), num(argv[3]),
				     (uint64_t)num(argv[4]), (uint64_t)num(argv[5]));
	struct actuator_outcome o;
	if (apply_one(&d, &o) < 0) {
		close_all();
		return 1;
	}
	int rc = wait_persisted(d.vmid, o.seq, 60000);
	printf("%s seq=%llu\n", rc == 0 ? "persisted" : "not-persisted", (unsigned long long)o.seq);
	close_all();
	return rc == 0 ? 0 : 1;
}

static void log_line(void *ud, enum reconcile_level lvl, const char *msg)
{
	(void)ud;
	static const char *names[] = {"info", "warn", "error"};
	printf("reconcile %s: %s\n", names[lvl], msg);
}

static int cmd_reconcile(int argc, char **argv)
{
	open_all(false);
	struct reconcile_report r = {0};
	reconcile_journal(g_j, g_h, &g_ps, CG_MEM_HEADROOM_DEFAULT, log_line, NULL, &r);
	uint32_t ids[1024];
	size_t n = 0;
	if (argc > 1) {
		for (int i = 1; i < argc && n < 1024; i++)
			ids[n++] = (uint32_t)num(argv[i]);
	} else {
		cg_ctset *set;
		if (cg_ctset_open(g_h, &set, NULL, NULL) == CG_OK) {
			n = cg_ctset_ids(set, ids, 1024);
			n = n > 1024 ? 1024 : n;
			cg_ctset_close(set);
		}
	}
	/* ACTUATE_DRIVER_SKIP_TAG: tags.ignore, as lxcscaled passes it */
	reconcile_baseline(g_h, &g_ps, ids, n, CG_MEM_HEADROOM_DEFAULT, getenv("ACTUATE_DRIVER_SKIP_TAG"),
			   log_line, NULL, &r, NULL);
	size_t open;
	journal_open_changes(g_j, &open);
	printf("reconcile: persisted=%zu restored=%zu cancelled=%zu failed=%zu drift=%zu open=%zu\n",
	       r.persisted, r.restored, r.cancelled, r.failed, r.drift, open);
	close_all();
	return r.failed ? 1 : 0;
}


/* ---- VM modes: the real actuator on the real kernel --------------------------------------- */

static int g_pass, g_fail;
static void result(bool okay, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool okay, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s - ", okay ? "ok" : "FAIL");
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	okay ? g_pass++ : g_fail++;
}

static char *ct_file(uint32_t vmid, const char *name)
{
	static char buf[4][256];
	static int k;
	char path[512];
	snprintf(path, sizeof(path), "%s/%u/%s", cg_hier_root(g_h), vmid, name);
	char *b = buf[k++ % 4];
	b[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, b, 255);
		b[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	size_t l = strlen(b);
	while (l && b[l - 1] == '\n')
		b[--l] = '\0';
	return b;
}

static uint64_t ct_u64(uint32_t vmid, const char *name)
{
	return strtoull(ct_file(vmid, name), NULL, 10);
}

static uint64_t oom_kills(uint32_t vmid)
{
	const char *ev = strstr(ct_file(vmid, "memory.events"), "oom_kill ");
	return ev ? strtoull(ev + 9, NULL, 10) : UINT64_MAX;
}

/* Forks a child that joins VMID's payload cgroup and runs fn. */
static pid_t spawn_in(uint32_t vmid, void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	char path[512];
	snprintf(path, sizeof(path), "%s/%u/ns/cgroup.procs", cg_hier_root(g_h), vmid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(99);
	close(fd);
	fn(arg);
	_exit(0);
}

struct hold_arg {
	uint64_t mb;
	bool churn; /* keep allocating and freeing 8 MiB: charges that memory.high throttles */
};

static void hold(void *p)
{
	struct hold_arg *a = p;
	char *m = mmap(NULL, a->mb * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(3);
	memset(m, 0x5a, a->mb * MIB);
	for (;;) {
		if (!a->churn) {
			pause();
			continue;
		}
		char *c = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c != MAP_FAILED) {
			memset(c, 1, 8 * MIB);
			munmap(c, 8 * MIB);
		}
	}
}

/* shrink VMID FROM_MB TO_MB HOLD_MB idle|busy MAX_TICKS */
static int cmd_shrink(int argc, char **argv)
{
	if (argc != 7)
		die("shrink VMID FROM_MB TO_MB HOLD_MB idle|busy MAX_TICKS");
	uint32_t vmid = (uint32_t)num(argv[1]);
	uint64_t from = (uint64_t)num(argv[2]), to = (uint64_t)num(argv[3]);
	struct hold_arg ha = {.mb = (uint64_t)num(argv[4]), .churn = !strcmp(argv[5], "busy")};
	struct cg_config cfg = {.mount = opt_cgroup, .root = opt_root, .inner = "ns"};
	if (cg_hier_open(&cfg, &g_h) != CG_OK)
		die("cgroup");
	int rc = journal_open(opt_journal, &g_j, NULL);
	if (rc)
		die("journal: %s", strerror(-rc));
	if ((rc = persister_start(&g_ps, &g_p)))
		die("persister: %s", strerror(-rc));
	struct actuator_settings as;
	actuator_settings_default(&as);
	as.shrink_max_ticks = (int)num(argv[6]);
	if ((rc = actuator_new(&as, g_h, g_j, g_p, &g_a)))
		die("actuator: %s", strerror(-rc));

	pid_t child = spawn_in(vmid, hold, &ha);
	uint64_t end = mono_us() + 20000000;
	while (ct_u64(vmid, "memory.current") < ha.mb * MIB && mono_us() < end)
		usleep(50000);
	uint64_t oom0 = oom_kills(vmid), max0 = ct_u64(vmid, "memory.max");
	char high0[64];
	snprintf(high0, sizeof(high0), "%s", ct_file(vmid, "memory.high"));
	printf("info - shrink %s: holding %llu MiB, usage %llu MiB, memory.max %llu -> %llu MiB\n",
	       argv[5], (unsigned long long)ha.mb,
	       (unsigned long long)(ct_u64(vmid, "memory.current") / MIB), (unsigned long long)from,
	       (unsigned long long)to);
	struct decision d = decision(vmid, 0, 0, from, to);
	struct actuator_outcome o;
	rc = actuator_apply(g_a, &d, &o);
	result(rc == 0 && o.status == ACT_SHRINKING, "shrink %s: started (%s)", argv[5],
	       actuator_status_name(o.status));
	int ticks = 0;
	uint64_t min_high = UINT64_MAX;
	while (actuator_shrinks(g_a) && ticks < 2000) {
		usleep(100000);
		actuator_tick(g_a);
		uint64_t h = ct_u64(vmid, "memory.high");
		min_high = h && h < min_high ? h : min_high;
		ticks++;
	}
	struct actuator_event ev[8];
	size_t nev = actuator_take_events(g_a, ev, 8);
	bool done = nev && ev[0].kind == ACT_EV_SHRINK_DONE;
	bool abandoned = nev && ev[0].kind == ACT_EV_SHRINK_ABANDONED;
	if (nev)
		printf("info - shrink %s: %s (driver saw %d ticks); lowest memory.high %llu MiB\n", argv[5],
		       ev[0].detail, ticks, (unsigned long long)(min_high == UINT64_MAX ? 0 : min_high / MIB));
	uint64_t cur = ct_u64(vmid, "memory.current");
	result(oom_kills(vmid) == oom0 && kill(child, 0) == 0,
	       "shrink %s: 0 oom_kill, the process is alive", argv[5]);
	if (!ha.churn) {
		result(done && ct_u64(vmid, "memory.max") == to * MIB,
		       "shrink idle: finished, memory.max = %llu MiB", (unsigned long long)to);
		result(cur < to * MIB, "shrink idle: usage %llu MiB below the new target %llu MiB",
		       (unsigned long long)(cur / MIB), (unsigned long long)to);
		if (done && wait_persisted(vmid, ev[0].seq, 20000) == 0)
			result(true, "shrink idle: persisted");
		else
			result(false, "shrink idle: not persisted");
	} else {
		result(abandoned, "shrink busy: abandoned (usage cannot go below the target without swap)");
		result(ct_u64(vmid, "memory.max") == max0 && !strcmp(ct_file(vmid, "memory.high"), high0),
		       "shrink busy: memory.max untouched, memory.high restored to %s", high0);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close_all();
	return g_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	persist_settings_default(&g_ps);
	g_ps.debounce_ms = 0;
	g_ps.retry_delay_ms = 100;
	g_ps.lock_retry_ms = 200;
	int i = 1;
	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--cgroup"))
			opt_cgroup = argv[i + 1];
		else if (!strcmp(argv[i], "--root"))
			opt_root = argv[i + 1];
		else if (!strcmp(argv[i], "--journal"))
			opt_journal = argv[i + 1];
		else if (!strcmp(argv[i], "--pct"))
			snprintf(g_ps.pct_path, sizeof(g_ps.pct_path), "%s", argv[i + 1]);
		else if (!strcmp(argv[i], "--debounce"))
			g_ps.debounce_ms = (int)num(argv[i + 1]);
		else if (!strcmp(argv[i], "--timeout"))
			g_ps.call_timeout_ms = (int)num(argv[i + 1]);
		else
			die("unknown option %s", argv[i]);
	}
	if (i >= argc)
		die("usage: actuate_driver [options] apply|reconcile|shrink ...");
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argv[i];
	if (!strcmp(cmd, "apply"))
		return cmd_apply(argc - i, argv + i);
	if (!strcmp(cmd, "reconcile"))
		return cmd_reconcile(argc - i, argv + i);
	if (!strcmp(cmd, "shrink"))
		return cmd_shrink(argc - i, argv + i);
	die("unknown command %s", cmd);
}

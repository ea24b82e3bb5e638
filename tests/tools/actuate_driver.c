/*
 * actuate_driver.c — runs the real actuator, journal, persister and reconcile as a process,
 * for tests that need a real process to kill (host) and for the VM scenarios (real cgroups,
 * real kernel) until the daemon drives them.
 *
 *   actuate_driver [options] apply VMID CPU_FROM CPU_TO MEM_FROM MEM_TO
 *       journal + write + read back, print "applied seq=N status=S cpu=C mem=M", then wait
 *       for the persister and print "persisted seq=N" (or "persist-failed ...").
 *   actuate_driver [options] reconcile [VMID...]
 *       journal replay, then the config baseline for the VMIDs given (default: every
 *       container found under the cgroup root); prints each action and a summary line
 *       "reconcile: persisted=N restored=N cancelled=N failed=N drift=N open=N".
 *   actuate_driver [options] burst VMID ROUNDS
 *       VM: ROUNDS times: start 2 CPU burners in VMID's ns cgroup, wait for the PSI trigger
 *       on its cpu.pressure, apply cores 0.5 -> 2 (cpu.max + cpuset widening + pct), print
 *       "latency_us N" (burst start -> cgroup written), stop the burners, scale back.
 *   actuate_driver [options] leak VMID START_MB MAX_MB STEP_MB LEAK_MB
 *       VM: a child in VMID leaks LEAK_MB at a steady rate; every 100 ms tick the driver
 *       raises memory (by STEP_MB, up to MAX_MB) when usage passes 75 % of memory.max.
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

#include "actuator.h"
#include "cgroup.h"
#include "journal.h"
#include "persister.h"
#include "reconcile.h"

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
	reconcile_baseline(g_h, &g_ps, ids, n, CG_MEM_HEADROOM_DEFAULT, log_line, NULL, &r, NULL);
	size_t open;
	journal_open_changes(g_j, &open);
	printf("reconcile: persisted=%zu restored=%zu cancelled=%zu failed=%zu drift=%zu open=%zu\n",
	       r.persisted, r.restored, r.cancelled, r.failed, r.drift, open);
	close_all();
	return r.failed ? 1 : 0;
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
		die("usage: actuate_driver [options] apply|reconcile|burst|leak|shrink ...");
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argv[i];
	if (!strcmp(cmd, "apply"))
		return cmd_apply(argc - i, argv + i);
	if (!strcmp(cmd, "reconcile"))
		return cmd_reconcile(argc - i, argv + i);
	die("unknown command %s", cmd);
}

/*
 * test_daemon.c — the daemon core (user/daemon/) on a real event loop and real test
 * cgroups of this host (skipped without root and cgroup v2): containers found at start,
 * picked up and dropped through inotify; ticks sample them; the command queue runs a
 * manual decision on the loop thread and answers the caller; daemon_apply numbers each
 * decision, writes the suggestion and calls the apply hook only when not in dry run; the
 * host budget refuses what does not fit; a reload switches to dry run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <errno.h>

#include "api.h"
#include "base/cmdq.h"
#include "base/log.h"
#include "base/loop.h"
#include "collect/bpf_loader.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/internal.h" /* daemon_find_cgid, struct ct: the cgroup id table's test */
#include "decide/params.h"
#include "testlib.h"

static char root[256], rootname[64], work[64], sugg[128];

static int applied;
static struct decision last_applied;

static int hook(void *ctx, const struct decision *d)
{
	(void)ctx;
	applied++;
	last_applied = *d;
	return 0;
}

/* The test cgroups of this host as the container root, 2 cores and 2048 MiB assumed per
 * container, no BPF, no model file, suggestions and metrics history in the work folder.
 * kv: extra "key", "value" pairs set last, NULL-terminated (may be NULL). */
static struct lxcscale_config *make_config_kv(bool dry_run, const char *total_cores, const char *const *kv)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/m.json", work);
	const char *const base[] = { "cgroup.root", rootname, "cgroup.assumed_cores", "2",
				     "cgroup.assumed_ram_mb", "2048", "scaling.dry_run", dry_run ? "true" : "false",
				     "scaling.total_cores", total_cores, "bpf.enabled", "false",
				     "metrics_interval_seconds", "0", "model_file", "",
				     "suggestions_file", sugg, "data_file", path, NULL };
	return tl_config_kv(base, kv);
}

static struct lxcscale_config *make_config(bool dry_run, const char *total_cores)
{
	return make_config_kv(dry_run, total_cores, NULL);
}

/* A dry-run daemon's configuration on the fake cgroup mount TREE (containers below
 * TREE/lxc), writing no file; kv as for make_config_kv. */
static struct lxcscale_config *make_fake_tree_config(const char *tree, const char *const *kv)
{
	const char *const base[] = { "cgroup.mount", tree, "cgroup.root", "lxc", "scaling.dry_run", "true",
				     "bpf.enabled", "false", "metrics_interval_seconds", "0", "model_file", "",
				     "suggestions_file", "", "data_file", "", NULL };
	return tl_config_kv(base, kv);
}

/* How the tests run their daemon: ticked by hand (no timer), without BPF unless they test
 * it, without the worker threads where they would only add noise. */
static const struct daemon_opts by_hand = { .no_bpf = true, .no_timer = true };
static const struct daemon_opts by_hand_no_threads = { .no_bpf = true, .no_timer = true, .no_threads = true };
static const struct daemon_opts by_hand_with_bpf = { .no_timer = true, .no_threads = true };

/* The tests that run on this host's test cgroups skip without them (no root, no cgroup2). */
#define NEED_TEST_CGROUPS()       \
	do {                      \
		if (!root[0]) {   \
			skip();   \
			return;   \
		}                 \
	} while (0)

static int setup(void **state)
{
	(void)state;
	const char *mount = "/sys/fs/cgroup/unified";
	struct stat st;
	if (stat("/sys/fs/cgroup/unified/cgroup.procs", &st) != 0)
		mount = "/sys/fs/cgroup";
	if (geteuid() != 0 || stat(mount, &st) != 0)
		return 0;
	snprintf(rootname, sizeof(rootname), "lxcscale-test-daemon-%d", (int)getpid());
	snprintf(root, sizeof(root), "%s/%s", mount, rootname);
	if (mkdir(root, 0755) != 0) {
		root[0] = '\0';
		return 0;
	}
	char p[300];
	snprintf(p, sizeof(p), "%s/201", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/202", root);
	mkdir(p, 0755);
	snprintf(work, sizeof(work), "/tmp/lxcscale-test-daemon-XXXXXX");
	assert_non_null(mkdtemp(work));
	snprintf(sugg, sizeof(sugg), "%s/suggestions.jsonl", work);
	log_set_level(LOGL_WARNING);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!root[0])
		return 0;
	char p[300];
	for (int id = 200; id <= 210; id++) {
		snprintf(p, sizeof(p), "%s/%d", root, id);
		rmdir(p);
	}
	rmdir(root);
	unlink(sugg);
	snprintf(p, sizeof(p), "%s/m.json", work);
	unlink(p);
	rmdir(work);
	return 0;
}

static size_t lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char buf[4096];
	size_t n = 0;
	while (fgets(buf, sizeof(buf), f))
		n += !needle || strstr(buf, needle) != NULL;
	fclose(f);
	return n;
}

struct push_arg {
	struct cmdq *q;
	struct cmd_reply reply;
	struct decision dec;
};

/* Another thread, as the API would: push a manual decision and wait for the answer. */
static void *api_thread(void *arg)
{
	struct push_arg *a = arg;
	struct cmd c = { .type = CMD_DECISION, .decision = a->dec, .reply = &a->reply };
	if (cmdq_push(a->q, &c) != 0)
		return NULL;
	cmd_reply_wait(&a->reply, 5000);
	return NULL;
}

static int manual(struct loop *l, struct daemon *d, uint32_t vmid, double to, char *text, size_t len)
{
	struct push_arg a;
	memset(&a, 0, sizeof(a));
	cmd_reply_init(&a.reply);
	a.q = daemon_cmdq(d);
	a.dec.vmid = vmid;
	a.dec.cpu_change = DECISION_SET;
	a.dec.cpu_from = 2;
	a.dec.cpu_to = to;
	a.dec.mem_from_mb = a.dec.mem_to_mb = 2048;
	a.dec.reason = REASON_MANUAL;
	snprintf(a.dec.detail, sizeof(a.dec.detail), "test");
	pthread_t t;
	pthread_create(&t, NULL, api_thread, &a);
	for (int i = 0; i < 100; i++) { /* the loop runs the command; the thread gets the reply */
		loop_run_once(l, 50);
		pthread_mutex_lock(&a.reply.mu);
		bool done = a.reply.done;
		pthread_mutex_unlock(&a.reply.mu);
		if (done)
			break;
	}
	pthread_join(t, NULL);
	assert_true(a.reply.done);
	snprintf(text, len, "%s", a.reply.text);
	int rc = a.reply.rc;
	cmd_reply_destroy(&a.reply);
	return rc;
}

static void test_daemon_on_real_cgroups(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	struct tl_daemon t;
	tl_daemon_start(&t, make_config(false, "64"), &by_hand);
	struct daemon *d = t.d;
	struct loop *l = t.loop;
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	assert_int_equal(st.containers, 2);

	for (int i = 0; i < 3; i++) {
		daemon_tick(d);
		usleep(20000);
	}
	daemon_get_stats(d, &st);
	assert_int_equal(st.ticks, 3);
	assert_int_equal(st.samples, 6);
	assert_int_equal(st.rows, 4);       /* the first sample of each is only a baseline */
	assert_int_equal(st.decisions, 0);  /* idle at the minimum: nothing to do */

	/* A manual decision from another thread: no hook yet, so it can only be a dry run. */
	char text[256];
	assert_int_equal(manual(l, d, 201, 3, text, sizeof(text)), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(lines(sugg, "\"reason\":\"manual\""), 1);
	assert_int_equal(lines(sugg, "\"dry_run\":true"), 1);

	daemon_set_apply(d, hook, NULL);
	assert_int_equal(manual(l, d, 201, 4, text, sizeof(text)), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(last_applied.vmid, 201);
	assert_true(last_applied.cpu_to == 4);
	assert_false(last_applied.dry_run);
	assert_int_equal(last_applied.seq, 2); /* numbered in emission order */
	assert_int_equal(lines(sugg, "\"cpu_action\":\"set\""), 2);

	/* The host budget: 64 cores configured, 4 allocated; 100 more do not fit. */
	assert_int_equal(manual(l, d, 202, 100, text, sizeof(text)), 0); /* 60 fit: shrunk */
	assert_true(last_applied.cpu_to == 62);
	struct lxcscale_config *tight = make_config(false, "4");
	daemon_reconfigure(d, tight);
	assert_int_equal(manual(l, d, 202, 3, text, sizeof(text)), -1);
	assert_non_null(strstr(text, "budget"));
	assert_int_equal(applied, 2);

	/* A reload into dry run: logged and written, the hook is not called. */
	struct lxcscale_config *dry = make_config(true, "64");
	daemon_reconfigure(d, dry);
	assert_int_equal(manual(l, d, 202, 3, text, sizeof(text)), 0);
	assert_int_equal(applied, 2);
	assert_int_equal(lines(sugg, NULL), 4);

	/* Containers come and go through inotify on the container root. */
	char p[300];
	snprintf(p, sizeof(p), "%s/203", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/202", root);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/99", root); /* does not match cgroup.id_pattern (3+ digits) */
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 20; i++)
		loop_run_once(l, 20);
	daemon_get_stats(d, &st);
	assert_int_equal(st.containers, 2); /* 201 and 203 */
	daemon_tick(d);
	rmdir(p);

	char line[256];
	daemon_status_line(d, line, sizeof(line));
	assert_non_null(strstr(line, "2 containers"));
	assert_non_null(strstr(line, "4 decisions"));
	assert_non_null(strstr(line, "dry run"));

	tl_daemon_stop(&t);
	config_free(tight);
	config_free(dry);
}

/* Quiet containers are read every cgroup.quiet_sample_interval_ms, spread over the ticks;
 * a container with something going on (here: a decision just emitted) every tick. */
static uint64_t samples_after_tick(struct daemon *d)
{
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	uint64_t before = st.samples;
	usleep(20000); /* rows need time between readings */
	daemon_tick(d);
	daemon_get_stats(d, &st);
	return st.samples - before;
}

/* A tick far later than due (the loop held up) is said in the log, once per 10 s: it
 * delays every reaction, and nothing else would show it. */
static void test_late_tick_warned(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	char path[] = "/tmp/lxcscale-test-late-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct log_file_opts lo = { .path = path };
	assert_int_equal(log_set_file(&lo), 0);
	static const char *const kv[] = { "sample_interval_ms", "100", NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_config_kv(true, "64", kv), &by_hand);
	daemon_tick(t.d);
	usleep(100000);
	daemon_tick(t.d); /* on time: nothing said */
	usleep(1250000);
	daemon_tick(t.d); /* 1.25 s after the previous one */
	usleep(1250000);
	daemon_tick(t.d); /* late again, but within 10 s of the warning */
	tl_daemon_stop(&t);
	lo.path = NULL;
	log_set_file(&lo);
	char buf[8192] = "";
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	unlink(path);
	const char *w = strstr(buf, "loop: a tick came ");
	assert_non_null(w);
	assert_true(atoi(w + strlen("loop: a tick came ")) >= 1250);
	assert_null(strstr(w + 1, "loop: a tick came ")); /* once */
}

static void test_quiet_sampling(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	static const char *const kv[] = { "sample_interval_ms", "100", "cgroup.quiet_sample_interval_ms", "400",
					  "cgroup.idle_sample_interval_ms", "0", NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_config_kv(true, "64", kv), &by_hand);
	struct daemon *d = t.d;
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	uint64_t n = st.containers;
	assert_true(n >= 1 && n <= 4); /* 201 is there; distinct slots out of 4 */

	/* A new container is read every tick until it has its first rows. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(samples_after_tick(d), n);

	/* Then once every 4 ticks, never two in the same tick. */
	uint64_t total = 0;
	for (int i = 0; i < 20; i++) {
		uint64_t k = samples_after_tick(d);
		assert_true(k <= 1);
		total += k;
	}
	assert_int_equal(total, 5 * n);

	/* A decision makes 201 hot: read every tick, the others still once in 4. */
	char text[256];
	assert_int_equal(manual(t.loop, d, 201, 3, text, sizeof(text)), 0);
	total = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t k = samples_after_tick(d);
		assert_true(k >= 1);
		total += k;
	}
	assert_int_equal(total, 4 + (n - 1));

	/* 0: every container every tick. */
	static const char *const every[] = { "cgroup.quiet_sample_interval_ms", "0", NULL };
	struct lxcscale_config *c0 = make_config_kv(true, "64", every);
	daemon_reconfigure(d, c0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(samples_after_tick(d), n);

	tl_daemon_stop(&t);
	config_free(c0);
}

/* The process start_in_201 made, until stop_in_201: a failed assertion jumps past the
 * stop, so each test's teardown kills what is left (a burner left running would hold the
 * runner's output open and make the next tests' idle container busy). */
static pid_t in_201;

/* A process in container 201: a CPU burner, or one that sleeps 5 ms at a time. It moves
 * itself in, as lxc-attach and `pct exec` do. The burner runs as SCHED_FIFO when the host
 * allows it, so that nothing preempts it: a burst that no context switch reports, as on
 * an otherwise idle CPU (the daemon must still see it). */
static pid_t start_in_201(bool burn)
{
	char procs[320];
	int ready[2];
	snprintf(procs, sizeof(procs), "%s/201/cgroup.procs", root);
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* and with the test binary, if it dies */
		struct sched_param sp = { .sched_priority = 1 };
		if (burn)
			(void)sched_setscheduler(0, SCHED_FIFO, &sp);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(1);
		close(fd);
		if (write(ready[1], "y", 1) != 1)
			_exit(1);
		for (;;) {
			if (burn)
				__asm__ volatile("" ::: "memory");
			else
				usleep(5000);
		}
	}
	in_201 = pid;
	char ok = 0;
	close(ready[1]);
	assert_int_equal(read(ready[0], &ok, 1), 1); /* in 201 */
	close(ready[0]);
	return pid;
}

/* Kills it and gives the next test an empty 201 (a killed task may still be leaving). */
static void stop_in_201(pid_t pid)
{
	char p[300];
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	in_201 = 0;
	snprintf(p, sizeof(p), "%s/201", root);
	for (int i = 0; i < 50 && rmdir(p) != 0 && errno == EBUSY; i++)
		usleep(20000);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int kill_left_in_201(void **state)
{
	(void)state;
	if (in_201 > 0) {
		kill(in_201, SIGKILL);
		waitpid(in_201, NULL, 0);
		in_201 = 0;
	}
	return 0;
}

/* Without BPF there is no idle tier: nothing but the next reading would see an idle
 * container start a burst that raises no stall, so idle ones are read at the quiet period. */
static void test_no_idle_tier_without_bpf(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	static const char *const kv[] = { "sample_interval_ms", "100", "cgroup.quiet_sample_interval_ms", "200",
					  "cgroup.idle_sample_interval_ms", "800", NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_config_kv(true, "64", kv), &by_hand);
	struct daemon *d = t.d;
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	uint64_t n = st.containers;
	assert_true(n >= 1 && n <= 8);
	for (int i = 0; i < 3; i++)
		samples_after_tick(d);
	uint64_t total = 0;
	for (int i = 0; i < 16; i++)
		total += samples_after_tick(d);
	assert_int_equal(total, 8 * n); /* every 2 ticks, not every 8 */
	tl_daemon_stop(&t);
}

/* Idle containers (empty cgroups: no CPU use, no stalls) are read every
 * cgroup.idle_sample_interval_ms when BPF watches them; one that starts using CPU is read
 * at the quiet period again from its next reading on. */
static void test_idle_sampling(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	char dir[128];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/lxcscale-test-daemon-idles-%d", (int)getpid());
	const char *const kv[] = { "sample_interval_ms", "100", "cgroup.quiet_sample_interval_ms", "200",
				   "cgroup.idle_sample_interval_ms", "800", "bpf.enabled", "true",
				   "bpf.pin_path", dir, NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_config_kv(true, "64", kv), &by_hand_with_bpf);
	struct daemon *d = t.d;
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	if (!st.bpf) {
		print_message("skip: BPF not available: the idle tier exists only with BPF\n");
		tl_daemon_stop(&t);
		skip();
		return;
	}
	uint64_t n = st.containers;
	assert_true(n >= 1 && n <= 8); /* 201 is there; distinct slots out of 8 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(samples_after_tick(d), n);

	/* idle: once every 8 ticks, not every 2 */
	uint64_t total = 0;
	for (int i = 0; i < 16; i++) {
		uint64_t k = samples_after_tick(d);
		assert_true(k <= 1);
		total += k;
	}
	assert_int_equal(total, 2 * n);

	/* Idle, with its PSI triggers armed and no task running: the pressure files are read at
	 * one idle sample in PSI_CARRY_MAX + 1 and carried over at the others. */
	struct ct *ct201 = daemon_find(d, 201);
	assert_non_null(ct201);
	const bool have_triggers = ct201->psi_fd[0] >= 0 && ct201->psi_fd[1] >= 0;
	if (have_triggers) {
		daemon_get_stats(d, &st);
		uint64_t carried0 = st.psi_carried, samples0 = st.samples;
		for (int i = 0; i < 8 * (PSI_CARRY_MAX + 1) * 2; i++)
			samples_after_tick(d);
		daemon_get_stats(d, &st);
		uint64_t carried = st.psi_carried - carried0, sampled = st.samples - samples0;
		print_message("idle samples %llu, pressure carried over in %llu\n",
			      (unsigned long long)sampled, (unsigned long long)carried);
		assert_true(carried > 0);
		assert_true(carried <= sampled * PSI_CARRY_MAX / (PSI_CARRY_MAX + 1) + n);
		assert_true(carried >= sampled * (PSI_CARRY_MAX - 1) / (PSI_CARRY_MAX + 1));
	}

	/* 201 burns CPU: from its next (idle) reading on it is read at least every 2 ticks */
	pid_t burner = start_in_201(true);
	for (int i = 0; i < 8; i++) /* 201's idle reading sees the use */
		samples_after_tick(d);
	total = 0;
	daemon_get_stats(d, &st);
	uint64_t carried_busy = st.psi_carried;
	for (int i = 0; i < 8; i++)
		total += samples_after_tick(d);
	daemon_get_stats(d, &st);
	/* its tasks run: 201 reads its pressure (other idle ones may still carry theirs) */
	assert_true(st.psi_carried - carried_busy <= n - 1);
	assert_int_equal(ct201->psi_carried, 0);
	assert_true(total >= 4 + (n - 1)); /* idle it would be n */

	tl_daemon_stop(&t);
	stop_in_201(burner);
	if (!have_triggers) { /* the rest was checked; the idle carry-over could not be */
		print_message("skip: no PSI triggers on this host: the pressure carry-over was not checked\n");
		skip();
	}
}

/* A quiet container reads its limit files (cpu.max here) only every 10th sample and keeps
 * their last values in between: on a fake tree, a changed cpu.max shows in the allocation
 * only after the next limits read. */
static void test_limits_carried_over(void **state)
{
	(void)state;
	char tree[128], dir[300];
	assert_int_equal(tl_cg_tree(tree, sizeof(tree), "daemon-carry"), 0);
	snprintf(dir, sizeof(dir), "%s/lxc/301", tree);
	assert_int_equal(mkdir(dir, 0755), 0);
	tl_put(dir, "cpu.stat", "usage_usec 1000\n");
	tl_put(dir, "cpu.max", "200000 100000\n");
	tl_put(dir, "memory.current", "1048576\n");
	tl_put(dir, "memory.max", "1073741824\n");
	tl_put(dir, "cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	static const char *const kv[] = { "sample_interval_ms", "100", "cgroup.quiet_sample_interval_ms", "200",
					  "cgroup.idle_sample_interval_ms", "0", NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_fake_tree_config(tree, kv), &by_hand_no_threads);
	struct daemon *d = t.d;
	struct api_backend b;
	daemon_api_backend(d, &b);
	struct ct_snapshot a;
	struct history_point *h = NULL;
	size_t nh = 0;

	uint64_t samples = 0;
	for (int i = 0; i < 3; i++) /* first sample: every file */
		samples += samples_after_tick(d);
	assert_int_equal(samples, 3);
	assert_int_equal(b.get_container(b.ctx, 301, &a, &h, &nh), 0);
	free(h);
	assert_true(a.cores == 2 && a.memory_mb == 1024);

	/* cpu.max changes behind our back; the counters-only samples keep the allocation */
	tl_put(dir, "cpu.max", "400000 100000\n");
	usleep(1100000); /* the container list is republished once a second */
	while (samples < 6)
		samples += samples_after_tick(d);
	assert_int_equal(b.get_container(b.ctx, 301, &a, &h, &nh), 0);
	free(h);
	assert_true(a.cores == 2); /* carried over: known, not 0, not the unread new value */
	assert_true(a.memory_mb == 1024);

	/* the 10th sample after the last limits read reads them again */
	while (samples < 12)
		samples += samples_after_tick(d);
	usleep(1100000);
	samples += samples_after_tick(d);
	assert_int_equal(b.get_container(b.ctx, 301, &a, &h, &nh), 0);
	free(h);
	assert_true(a.cores == 4);
	assert_true(a.memory_mb == 1024);

	tl_daemon_stop(&t);
	tl_rm_rf(tree);
}

/* The host budget's used side is a running total: a container coming adds its allocation,
 * one going takes it away (8 cores configured, 2 assumed per container). */
static void test_budget_follows_containers(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	struct tl_daemon t;
	tl_daemon_start(&t, make_config(false, "8"), &by_hand);
	struct daemon *d = t.d;
	struct loop *l = t.loop;
	daemon_set_apply(d, hook, NULL);
	char p[300], text[256];
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	const size_t n = st.containers; /* 201 and the others earlier tests left */
	assert_true(n >= 1 && n <= 2);
	snprintf(p, sizeof(p), "%s/204", root);
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 20; i++) { /* inotify: 204 comes */
		loop_run_once(l, 20);
		daemon_get_stats(d, &st);
		if (st.containers == n + 1)
			break;
	}
	assert_int_equal(st.containers, n + 1);
	daemon_tick(d); /* every allocation read once: 2 cores each */
	assert_int_equal(manual(l, d, 201, 10, text, sizeof(text)), 0);
	assert_true(last_applied.cpu_to == 2 + (8 - 2 * (double)(n + 1))); /* what is left of 8 */

	assert_int_equal(rmdir(p), 0);
	for (int i = 0; i < 20; i++) { /* 204 goes: its 2 cores are free again */
		loop_run_once(l, 20);
		daemon_get_stats(d, &st);
		if (st.containers == n)
			break;
	}
	assert_int_equal(st.containers, n);
	daemon_tick(d);
	assert_int_equal(manual(l, d, 201, 10, text, sizeof(text)), 0);
	assert_true(last_applied.cpu_to == 2 + (8 - 2 * (double)n));
	tl_daemon_stop(&t);
}

/* The cgroup id -> container table BPF's deltas and events go through (daemon_find_cgid,
 * internal: daemon/internal.h): 300 containers on a fake tree, then every other one removed
 * (backward-shift deletion keeps the others findable), then new ones added. */
static void test_find_by_cgroup_id(void **state)
{
	(void)state;
	char tree[128], dir[300];
	assert_int_equal(tl_cg_tree(tree, sizeof(tree), "daemon-cgid"), 0);
	enum { N = 300, FIRST = 1000 };
	uint64_t ino[N + 50];
	for (int i = 0; i < N; i++) {
		snprintf(dir, sizeof(dir), "%s/lxc/%d", tree, FIRST + i);
		assert_int_equal(mkdir(dir, 0755), 0);
		struct stat st;
		assert_int_equal(stat(dir, &st), 0);
		ino[i] = (uint64_t)st.st_ino;
	}
	struct tl_daemon t;
	tl_daemon_start(&t, make_fake_tree_config(tree, NULL), &by_hand_no_threads);
	struct daemon *d = t.d;
	for (int i = 0; i < N; i++) {
		struct ct *ct = daemon_find_cgid(d, ino[i]);
		assert_non_null(ct);
		assert_int_equal(ct->vmid, FIRST + i);
	}
	assert_null(daemon_find_cgid(d, 1));

	for (int i = 0; i < N; i += 2) {
		snprintf(dir, sizeof(dir), "%s/lxc/%d", tree, FIRST + i);
		assert_int_equal(rmdir(dir), 0);
	}
	for (int i = N; i < N + 50; i++) {
		snprintf(dir, sizeof(dir), "%s/lxc/%d", tree, FIRST + i);
		assert_int_equal(mkdir(dir, 0755), 0);
		struct stat st;
		assert_int_equal(stat(dir, &st), 0);
		ino[i] = (uint64_t)st.st_ino;
	}
	struct daemon_stats st;
	for (int k = 0; k < 50; k++) {
		loop_run_once(t.loop, 20);
		daemon_get_stats(d, &st);
		if (st.containers == N / 2 + 50)
			break;
	}
	assert_int_equal(st.containers, N / 2 + 50);
	for (int i = 0; i < N + 50; i++) {
		struct ct *ct = daemon_find_cgid(d, ino[i]);
		if (i < N && i % 2 == 0) {
			/* removed; a new directory may have reused the inode */
			bool reused = false;
			for (int j = N; j < N + 50; j++)
				reused |= ino[j] == ino[i];
			if (!reused)
				assert_null(ct);
			continue;
		}
		assert_non_null(ct);
		assert_int_equal(ct->vmid, FIRST + i);
	}
	tl_daemon_stop(&t);
	tl_rm_rf(tree);
}

/* A policy decision names what woke it: the first event since the container's last
 * decision while it is at most DECISION_WAKE_HOLD_MS old (a later one does not replace it),
 * else the tick; a scale-down is the tick's and leaves the wake waiting; the wake is used
 * up by a scale-up; a manual decision has none. */
static void test_decision_names_its_wake(void **state)
{
	(void)state;
	char tree[128], dir[300];
	assert_int_equal(tl_cg_tree(tree, sizeof(tree), "daemon-wake"), 0);
	snprintf(dir, sizeof(dir), "%s/lxc/1001", tree);
	assert_int_equal(mkdir(dir, 0755), 0);
	struct tl_daemon t;
	tl_daemon_start(&t, make_fake_tree_config(tree, NULL), &by_hand_no_threads);
	struct daemon *d = t.d;
	struct ct *ct = daemon_find(d, 1001);
	assert_non_null(ct);
	struct decision dec = { .vmid = 1001, .reason = REASON_PSI, .cpu_change = DECISION_UP,
				.cpu_from = 1, .cpu_to = 2 };

	daemon_note_wake(ct, WAKE_CPU_PSI);
	daemon_note_wake(ct, WAKE_BPF_RUNQ); /* the first one is still waiting */
	struct decision down = dec; /* a scale-down is never an event's answer */
	down.cpu_change = DECISION_DOWN;
	down.cpu_from = 2;
	down.cpu_to = 1;
	daemon_apply(d, &down);
	assert_int_equal(down.woken_by, WAKE_TICK);
	assert_int_equal(down.wake_us, -1);
	struct decision a = dec;
	daemon_apply(d, &a);
	assert_int_equal(a.woken_by, WAKE_CPU_PSI);
	assert_true(a.wake_us >= 0 && a.wake_us <= DECISION_WAKE_HOLD_MS * 1000);

	struct decision b = dec; /* used up: the next one came from the tick */
	daemon_apply(d, &b);
	assert_int_equal(b.woken_by, WAKE_TICK);
	assert_int_equal(b.wake_us, -1);

	daemon_note_wake(ct, WAKE_MEMORY_EVENTS); /* too old by the time of the decision */
	ct->wake_ns -= (uint64_t)(DECISION_WAKE_HOLD_MS + 1) * 1000000u;
	daemon_note_wake(ct, WAKE_BPF_RECLAIM); /* an expired wake is replaced */
	struct decision c = dec;
	daemon_apply(d, &c);
	assert_int_equal(c.woken_by, WAKE_BPF_RECLAIM);
	daemon_note_wake(ct, WAKE_MEMORY_EVENTS);
	ct->wake_ns -= (uint64_t)(DECISION_WAKE_HOLD_MS + 1) * 1000000u;
	struct decision e = dec;
	daemon_apply(d, &e);
	assert_int_equal(e.woken_by, WAKE_TICK);
	assert_int_equal(e.wake_us, -1);

	daemon_note_wake(ct, WAKE_CPU_PSI);
	struct decision m = dec;
	m.reason = REASON_MANUAL;
	daemon_apply(d, &m);
	assert_int_equal(m.woken_by, WAKE_NONE);
	assert_int_equal(m.wake_us, -1);
	assert_string_equal(decision_wake_name(WAKE_CPU_PSI), "cpu_psi");
	tl_daemon_stop(&t);
	tl_rm_rf(tree);
}

static void test_bad_configuration(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	struct lxcscale_config *c = make_config(true, "0");
	struct config_diag d;
	memset(&d, 0, sizeof(d));
	assert_int_equal(config_set(c, "cgroup.root", "/not/below/the/mount", "t", &d), 0);
	struct loop *l = loop_new();
	char err[512];
	struct daemon_opts o = { .no_bpf = true, .no_timer = true, .no_threads = true };
	assert_null(daemon_new(c, l, &o, err, sizeof(err)));
	assert_non_null(strstr(err, "not below the cgroup v2 mount"));
	loop_free(l);
	config_free(c);
}

/* Pins reused after a crash: the first container scan registers the live containers and
 * the daemon then prunes what the previous run left (a container gone while it was down). */
static void test_bpf_pins_pruned_after_first_scan(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	char dir[128], path[320];
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/lxcscale-test-daemon-%d", (int)getpid());
	struct lxs_bpf_opts o;
	lxs_bpf_opts_default(&o);
	o.pin_dir = dir;
	struct lxs_bpf *b = NULL;
	char err[512] = "";
	if (lxs_bpf_open(&b, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "skip: BPF: %s\n", err);
		skip();
		return;
	}
	const uint64_t gone = 0x7ffffff0ULL; /* no cgroup has this id */
	assert_int_equal(lxs_bpf_add_container(b, gone, 4711), 0);
	lxs_bpf_close(b, false); /* a crash: the pins stay */

	const char *kv[] = { "bpf.enabled", "true", "bpf.pin_path", dir, NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_config_kv(true, "0", kv), &by_hand_with_bpf);
	snprintf(path, sizeof(path), "%s/lxs_ctrs", dir);
	int fd = bpf_obj_get(path);
	assert_true(fd >= 0);
	struct lxs_ctr v;
	uint64_t key = gone;
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &v), -ENOENT); /* pruned */
	struct stat st;
	snprintf(path, sizeof(path), "%s/201", root);
	assert_int_equal(stat(path, &st), 0);
	key = st.st_ino; /* a live container stays registered */
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &v), 0);
	assert_int_equal(v.vmid, 201);
	close(fd);
	tl_daemon_stop(&t); /* a clean stop removes the pins */
	assert_int_not_equal(stat(dir, &st), 0);
}

static uint64_t cpu_stat_usage(const char *dir)
{
	char path[400], line[128];
	unsigned long long v = 0;
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "usage_usec %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* With BPF counting scheduling, an idle container that BPF never reported since its last
 * sample had no task run: its sample takes cpu.stat as unchanged instead of reading it,
 * and that is exactly what cpu.stat says. A container whose task wakes now and then (too
 * little CPU to stop being idle) is read every time. */
static void test_idle_cpu_from_bpf(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	char dir[128], ct_dir[320];
	pid_t napper = 0;
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/lxcscale-test-daemon-idle-%d", (int)getpid());
	const char *const kv[] = { "sample_interval_ms", "100", "cgroup.quiet_sample_interval_ms", "200",
				   "cgroup.idle_sample_interval_ms", "400", "bpf.enabled", "true",
				   "bpf.pin_path", dir, NULL };
	struct tl_daemon t;
	tl_daemon_start(&t, make_config_kv(true, "64", kv), &by_hand_with_bpf);
	struct daemon *d = t.d;
	struct daemon_stats st;
	daemon_get_stats(d, &st);
	if (!st.bpf) {
		print_message("skip: BPF not available\n");
		tl_daemon_stop(&t);
		skip();
		return;
	}
	struct ct *ct201 = daemon_find(d, 201);
	assert_non_null(ct201);
	snprintf(ct_dir, sizeof(ct_dir), "%s/201", root);
	for (int i = 0; i < 40; i++) /* settle: idle, triggers armed */
		samples_after_tick(d);
	const bool have_triggers = ct201->psi_fd[0] >= 0 && ct201->psi_fd[1] >= 0;
	if (have_triggers) {
		daemon_get_stats(d, &st);
		uint64_t from_bpf0 = st.cpu_from_bpf;
		int checked = 0;
		for (int i = 0; i < 48; i++) {
			int64_t before = ct201->last_sample_ms;
			samples_after_tick(d);
			if (ct201->cpu_from_bpf && ct201->last_sample_ms != before) {
				/* taken as unchanged: it is */
				assert_true(features_history_raw(ct201->hist)->cpu_usage_usec == cpu_stat_usage(ct_dir));
				checked++;
			}
		}
		daemon_get_stats(d, &st);
		print_message("idle: %llu samples took cpu.stat from BPF, %d of 201's checked\n",
			      (unsigned long long)(st.cpu_from_bpf - from_bpf0), checked);
		assert_true(st.cpu_from_bpf > from_bpf0);
		assert_true(checked > 0);

		/* a task in 201 that wakes every 5 ms: little CPU, but BPF sees it run */
		napper = start_in_201(false);
		int read = 0;
		for (int i = 0; i < 32; i++) {
			int64_t before = ct201->last_sample_ms;
			samples_after_tick(d);
			if (ct201->last_sample_ms != before) {
				assert_false(ct201->cpu_from_bpf);
				read++;
			}
		}
		assert_true(read > 0);
	}
	tl_daemon_stop(&t);
	if (napper > 0)
		stop_in_201(napper);
	if (!have_triggers) {
		print_message("skip: no PSI triggers on this host\n");
		skip();
	}
}

/* Per-tier dry_run: the tier's value decides for its containers; `--dry-run` (a flag)
 * still wins over a tier that says false. */
static void test_tier_dry_run(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	static const char yaml[] = "scaling:\n  dry_run: true\n"
				   "tiers:\n  live:\n    containers: [201]\n    dry_run: false\n";
	for (int flag = 0; flag <= 1; flag++) {
		struct lxcscale_config *c = config_new();
		struct config_diag dg;
		memset(&dg, 0, sizeof(dg));
		assert_int_equal(config_load_string(c, "t.yaml", yaml, strlen(yaml), &dg), 0);
		const char *kv[][2] = { { "cgroup.root", rootname }, { "cgroup.assumed_cores", "2" },
					{ "cgroup.assumed_ram_mb", "2048" }, { "bpf.enabled", "false" },
					{ "metrics_interval_seconds", "0" }, { "model_file", "" },
					{ "suggestions_file", "" }, { "data_file", "" } };
		for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
			assert_int_equal(config_set(c, kv[i][0], kv[i][1], "t", &dg), 0);
		if (flag) /* lxcscaled --dry-run */
			assert_int_equal(config_set(c, "scaling.dry_run", "true", "--dry-run", &dg), 0);
		assert_int_equal(config_finalize(c, &dg), 0);
		assert_int_equal(config_is_live(c), !flag);

		struct tl_daemon t;
		tl_daemon_start(&t, c, &by_hand_no_threads);
		struct daemon *d = t.d;
		struct loop *l = t.loop;
		daemon_set_apply(d, hook, NULL);
		applied = 0;
		char text[256];
		assert_int_equal(manual(l, d, 202, 3, text, sizeof(text)), 0); /* global: dry run */
		assert_int_equal(applied, 0);
		assert_int_equal(manual(l, d, 201, 3, text, sizeof(text)), 0); /* its tier: live */
		assert_int_equal(applied, flag ? 0 : 1);
		if (!flag) {
			assert_int_equal(last_applied.vmid, 201);
			assert_false(last_applied.dry_run);
		}
		tl_daemon_stop(&t);
	}
}

struct limits_call {
	struct api_backend b;
	int rc;
	char err[256];
};

static void *limits_thread(void *arg)
{
	struct limits_call *lc = arg;
	struct api_limits_request rq = { .vmid = 201, .set_cores = true, .cores = 1, .source = "test" };
	struct decision out;
	lc->rc = lc->b.apply_limits(lc->b.ctx, &rq, &out, lc->err, sizeof(lc->err));
	return NULL;
}

/* A manual request still queued when the daemon stops: its caller is answered at once
 * and the state it shares with the loop is freed (ASan's leak check sees it otherwise). */
static void test_queued_manual_at_shutdown(void **state)
{
	(void)state;
	NEED_TEST_CGROUPS();
	struct tl_daemon t;
	tl_daemon_start(&t, make_config(true, "0"), &by_hand_no_threads);
	struct daemon *d = t.d;
	struct limits_call lc;
	memset(&lc, 0, sizeof(lc));
	daemon_api_backend(d, &lc.b);
	pthread_t caller;
	assert_int_equal(pthread_create(&caller, NULL, limits_thread, &lc), 0);
	while (cmdq_pending(daemon_cmdq(d)) == 0) /* queued; the loop never runs it */
		usleep(1000);
	tl_daemon_stop(&t);
	pthread_join(caller, NULL);
	assert_int_equal(lc.rc, -ECANCELED); /* not the caller's own timeout */
	assert_non_null(strstr(lc.err, "stopping"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_daemon_on_real_cgroups, kill_left_in_201),
		cmocka_unit_test_teardown(test_quiet_sampling, kill_left_in_201),
		cmocka_unit_test_teardown(test_late_tick_warned, kill_left_in_201),
		cmocka_unit_test_teardown(test_no_idle_tier_without_bpf, kill_left_in_201),
		cmocka_unit_test_teardown(test_idle_sampling, kill_left_in_201),
		cmocka_unit_test_teardown(test_limits_carried_over, kill_left_in_201),
		cmocka_unit_test_teardown(test_budget_follows_containers, kill_left_in_201),
		cmocka_unit_test_teardown(test_find_by_cgroup_id, kill_left_in_201),
		cmocka_unit_test_teardown(test_bad_configuration, kill_left_in_201),
		cmocka_unit_test_teardown(test_decision_names_its_wake, kill_left_in_201),
		cmocka_unit_test_teardown(test_bpf_pins_pruned_after_first_scan, kill_left_in_201),
		cmocka_unit_test_teardown(test_idle_cpu_from_bpf, kill_left_in_201),
		cmocka_unit_test_teardown(test_tier_dry_run, kill_left_in_201),
		cmocka_unit_test_teardown(test_queued_manual_at_shutdown, kill_left_in_201),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

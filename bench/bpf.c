/*
 * bench/bpf.c — what lxcscale's BPF programs cost under a context-switch-heavy load.
 *
 * Load: P pairs of threads play pipe ping-pong (one byte each way), in a test cgroup; every
 * round trip is two wake-ups and two context switches. Phases, each D seconds:
 *   base       programs not loaded: round trips/s of the load alone
 *   ct         programs loaded, the load's cgroup registered as a container (full path:
 *              histogram, on-CPU time, switch counts)
 *   host       programs loaded, the load's cgroup not registered (the filter path every
 *              host task takes)
 *   base2      programs unloaded again: a second baseline, since a shared machine's
 *              throughput drifts; "% of base" uses the mean of base and base2
 * With the kernel's BPF run-time stats on (BPF_ENABLE_STATS, held only during the
 * measured phases), it prints per program: runs/s and average ns per run; and per phase:
 * ring-buffer events/s, drops, the CPU time the drain + consume loop (100 ms tick) used
 * in user space, and the load's round trips/s relative to the base phase.
 *
 * usage: bpf [-d seconds] [-p pairs] [-r]   (-r: force the raw_tp copies; root, else a skip line)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/bpf_loader.h"

#define MAX_PROGS 32

/* For the signal handler: what to clean up when `timeout` or ^C stops the bench. The BPF
 * links and the unpinned maps go away with the process. */
static volatile pid_t g_load = -1;
static char g_parent[256], g_ct[300];

static void on_signal(int sig)
{
	(void)sig;
	if (g_load > 0) {
		kill(g_load, SIGKILL);
		waitpid(g_load, NULL, 0);
	}
	rmdir(g_ct);
	rmdir(g_parent);
	_exit(1);
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the load ------------------------------------------------------------------------------ */

struct pp {
	int ab[2], ba[2];
	volatile int *stop;
	_Atomic unsigned long *trips;
};

static void *pp_ping(void *arg)
{
	struct pp *p = arg;
	char c = 0;
	unsigned long n = 0;

	while (!*p->stop) {
		if (write(p->ab[1], &c, 1) != 1 || read(p->ba[0], &c, 1) != 1)
			break;
		n++;
	}
	atomic_fetch_add(p->trips, n);
	close(p->ab[1]); /* lets the pong thread's read end */
	return NULL;
}

static void *pp_pong(void *arg)
{
	struct pp *p = arg;
	char c;

	while (read(p->ab[0], &c, 1) == 1)
		if (write(p->ba[1], &c, 1) != 1)
			break;
	return NULL;
}

/* Child process: joins the cgroup, runs `pairs` ping-pong pairs for `secs`, writes the
 * number of round trips into *result. */
static void run_load(const char *cg, int pairs, double secs, _Atomic unsigned long *result)
{
	pthread_t th[2 * 64];
	struct pp pp[64];
	volatile int stop = 0;
	char buf[32];
	int fd;

	snprintf(buf, sizeof(buf), "%d", (int)getpid());
	fd = open(cg, O_WRONLY);
	if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
		_exit(111);
	close(fd);
	for (int i = 0; i < pairs; i++) {
		if (pipe(pp[i].ab) || pipe(pp[i].ba))
			_exit(112);
		pp[i].stop = &stop;
		pp[i].trips = result;
		pthread_create(&th[2 * i], NULL, pp_ping, &pp[i]);
		pthread_create(&th[2 * i + 1], NULL, pp_pong, &pp[i]);
	}
	usleep((useconds_t)(secs * 1e6));
	stop = 1;
	for (int i = 0; i < 2 * pairs; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

/* ---- phases ---------------------------------------------------------------------------------- */

struct phase {
	const char *name;
	double secs;
	double trips_s;
	double drain_cpu_ms, drains;
	uint64_t events, drops, switches;
	size_t nprog;
	struct lxs_prog_stat before[MAX_PROGS], after[MAX_PROGS];
};

static int on_event(const struct lxs_event *ev, void *ctx)
{
	(void)ev;
	(void)ctx;
	return 0;
}

static int run_phase(struct phase *ph, struct lxs_bpf *b, const char *procs, int pairs)
{
	_Atomic unsigned long *trips = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct lxs_ct_delta d[8];
	uint64_t ev0 = 0, ev1 = 0, dr0 = 0, dr1 = 0;
	double t0, cpu = 0;
	pid_t pid;
	size_t n;

	if (trips == MAP_FAILED)
		return -1;
	if (b) {
		lxs_bpf_drain(b, d, 8, &n); /* baseline */
		lxs_bpf_stat(b, LXS_STAT_RB_EVENTS, &ev0);
		lxs_bpf_stat(b, LXS_STAT_RB_DROPS, &dr0);
		lxs_bpf_prog_stats(b, ph->before, MAX_PROGS, &ph->nprog);
	}
	t0 = now_s(CLOCK_MONOTONIC);
	pid = fork();
	if (pid == 0)
		run_load(procs, pairs, ph->secs, trips);
	g_load = pid;
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		usleep(100000);
		if (!b)
			continue;
		double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);

		if (lxs_bpf_drain(b, d, 8, &n) == 0)
			for (size_t i = 0; i < n; i++)
				ph->switches += d[i].nvcsw + d[i].nivcsw;
		lxs_bpf_consume(b, on_event, NULL);
		cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		ph->drains++;
	}
	g_load = -1;
	ph->secs = now_s(CLOCK_MONOTONIC) - t0;
	ph->trips_s = (double)*trips / ph->secs;
	ph->drain_cpu_ms = cpu * 1e3;
	if (b) {
		size_t n2;

		lxs_bpf_prog_stats(b, ph->after, MAX_PROGS, &n2);
		lxs_bpf_stat(b, LXS_STAT_RB_EVENTS, &ev1);
		lxs_bpf_stat(b, LXS_STAT_RB_DROPS, &dr1);
		ph->events = ev1 - ev0;
		ph->drops = dr1 - dr0;
	}
	munmap((void *)trips, 4096);
	return 0;
}

static void print_phase(const struct phase *ph, const struct phase *base)
{
	printf("\nphase %-5s %.1f s: %.0f round trips/s (%.1f%% of mean base)", ph->name, ph->secs,
	       ph->trips_s, base->trips_s > 0 ? 100.0 * ph->trips_s / base->trips_s : 0.0);
	if (!ph->nprog) {
		printf("\n");
		return;
	}
	printf(", container switches counted %.0f/s\n", (double)ph->switches / ph->secs);
	printf("  %-16s %12s %12s %10s\n", "program", "runs", "runs/s", "avg ns/run");
	for (size_t i = 0; i < ph->nprog; i++) {
		uint64_t runs = ph->after[i].run_cnt - ph->before[i].run_cnt;
		uint64_t ns = ph->after[i].run_time_ns - ph->before[i].run_time_ns;

		printf("  %-16s %12llu %12.0f %10.0f\n", ph->after[i].name,
		       (unsigned long long)runs, (double)runs / ph->secs,
		       runs ? (double)ns / (double)runs : 0.0);
	}
	printf("  ring events %.1f/s, drops %llu, user-side drain+consume %.3f ms CPU in %.0f ticks "
	       "(%.1f us/tick, %.4f%% of one CPU)\n", (double)ph->events / ph->secs,
	       (unsigned long long)ph->drops, ph->drain_cpu_ms, ph->drains,
	       ph->drains ? ph->drain_cpu_ms * 1e3 / ph->drains : 0.0,
	       ph->drain_cpu_ms / 10.0 / ph->secs);
}

int main(int argc, char **argv)
{
	double secs = 3.0;
	int pairs = 2, opt, rc = 1;
	bool raw = false;
	char *parent = g_parent, *ct = g_ct, procs[340], err[512] = "";
	struct lxs_bpf_opts o;
	struct lxs_bpf *b = NULL;
	struct stat st;

	while ((opt = getopt(argc, argv, "d:p:r")) != -1) {
		if (opt == 'r')
			raw = true;
		else if (opt == 'd')
			secs = atof(optarg);
		else if (opt == 'p')
			pairs = atoi(optarg);
		else {
			fprintf(stderr, "usage: bpf [-d seconds] [-p pairs] [-r]\n");
			return 2;
		}
	}
	if (secs <= 0 || secs > 60 || pairs < 1 || pairs > 64) {
		fprintf(stderr, "bpf: -d must be in (0,60], -p in 1..64\n");
		return 2;
	}
	if (geteuid() != 0) {
		printf("skip - bench bpf: needs root to load BPF programs\n");
		return 0;
	}
	snprintf(parent, sizeof(g_parent), "/sys/fs/cgroup/unified/lxcscale-bench-bpf-%d", (int)getpid());
	if (stat("/sys/fs/cgroup/unified", &st) != 0)
		snprintf(parent, sizeof(g_parent), "/sys/fs/cgroup/lxcscale-bench-bpf-%d", (int)getpid());
	snprintf(ct, sizeof(g_ct), "%s/ct", parent);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", ct);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (mkdir(parent, 0755) || mkdir(ct, 0755)) {
		perror("bench bpf: mkdir test cgroup");
		return 1;
	}
	stat(ct, &st);

	printf("setup: %ld CPUs, %d ping-pong thread pairs in a test cgroup, %.1f s per phase, "
	       "100 ms drain tick, BPF_STATS_RUN_TIME on during measured phases\n",
	       sysconf(_SC_NPROCESSORS_ONLN), pairs, secs);

	struct phase base = { .name = "base", .secs = secs };
	struct phase pct = { .name = "ct", .secs = secs };
	struct phase phost = { .name = "host", .secs = secs };
	struct phase base2 = { .name = "base2", .secs = secs };

	run_phase(&base, NULL, procs, pairs);

	lxs_bpf_opts_default(&o);
	o.container_level = 2;
	o.pin_dir = "";
	o.force_raw_tp = raw;
	if (lxs_bpf_open(&b, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench bpf: %s\n", err);
		goto out;
	}
	printf("programs attached as %s\n", lxs_bpf_attach_mode(b));
	if (lxs_bpf_stats_enable(b) != 0) {
		fprintf(stderr, "bench bpf: BPF_ENABLE_STATS failed\n");
		goto out;
	}
	lxs_bpf_add_container(b, (uint64_t)st.st_ino, 100);
	run_phase(&pct, b, procs, pairs);
	lxs_bpf_remove_container(b, (uint64_t)st.st_ino);
	run_phase(&phost, b, procs, pairs);
	lxs_bpf_stats_disable(b);
	lxs_bpf_close(b, true);
	b = NULL;
	run_phase(&base2, NULL, procs, pairs);

	struct phase ref = { .trips_s = (base.trips_s + base2.trips_s) / 2 };

	print_phase(&base, &ref);
	print_phase(&pct, &ref);
	print_phase(&phost, &ref);
	print_phase(&base2, &ref);
	rc = 0;
out:
	lxs_bpf_close(b, true);
	rmdir(ct);
	rmdir(parent);
	return rc;
}

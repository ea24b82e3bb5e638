/*
 * bench/daemon.c — what the daemon's loop costs: CPU and wall time per tick with N test
 * containers (default 100) on this host's real cgroup v2 tree.
 *
 *     build/bench/daemon [-n CONTAINERS] [-s SECONDS] [-i TICK_MS] [-q QUIET_MS] [-I IDLE_MS] [-b]
 *
 * -b loads BPF; -q sets cgroup.quiet_sample_interval_ms (default: the configuration's;
 * -q 0 reads every container every tick, as the daemon did before quiet sampling);
 * -I sets cgroup.idle_sample_interval_ms (-I 0: idle containers as often as quiet ones).
 *
 * It creates <mount>/lxcscale-bench-<pid>/<1001..> with one sleeping process in each (so
 * the network and filesystem readings have a process to look through), runs the real
 * daemon (daemon/daemon.h) on a real event loop with its tick timer, model worker and metrics
 * writer for SECONDS, and prints per-tick figures from the loop thread's own clocks
 * (CLOCK_THREAD_CPUTIME_ID) and the whole process's CPU (getrusage, all threads).
 * Everything it created is removed at the end. Needs root.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"
#include "config/config.h"
#include "daemon/daemon.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rusage_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

/* A cgroup whose last task was just reaped can still be busy for a moment (the task is
 * still leaving it): retry for up to a second. */
static void rmdir_retry(const char *path)
{
	for (int i = 0; i < 50 && rmdir(path) != 0 && errno == EBUSY; i++)
		usleep(20000);
}

static int set(struct lxcscale_config *c, const char *k, const char *v, struct config_diag *d)
{
	if (config_set(c, k, v, "bench", d) != 0) {
		config_diag_print(d, stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = 100, secs = 10, tick_ms = 100, bpf = 0, opt;
	const char *quiet = NULL, *idle = NULL;
	while ((opt = getopt(argc, argv, "n:s:i:q:I:b")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 's': secs = atoi(optarg); break;
		case 'i': tick_ms = atoi(optarg); break;
		case 'q': quiet = optarg; break;
		case 'I': idle = optarg; break;
		case 'b': bpf = 1; break;
		default:
			fprintf(stderr, "usage: daemon [-n CONTAINERS] [-s SECONDS] [-i TICK_MS] [-q QUIET_MS] [-b]\n");
			return 2;
		}
	}
	if (n < 1 || n > 5000 || secs < 1 || secs > 600 || tick_ms < 10 || tick_ms > 60000) {
		fprintf(stderr, "daemon bench: bad arguments\n");
		return 2;
	}
	const char *mount = NULL;
	struct stat st;
	if (stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0)
		mount = "/sys/fs/cgroup/unified";
	else if (stat("/sys/fs/cgroup/cgroup.procs", &st) == 0)
		mount = "/sys/fs/cgroup";
	if (geteuid() != 0 || !mount) {
		printf("daemon bench: skipped (needs root and a cgroup v2 mount)\n");
		return 0;
	}
	char root[256], dir[300], work[] = "/tmp/lxcscale-bench-daemon-XXXXXX";
	snprintf(root, sizeof(root), "%s/lxcscale-bench-%d", mount, (int)getpid());
	if (mkdir(root, 0755) != 0 || !mkdtemp(work)) {
		fprintf(stderr, "daemon bench: cannot create %s: %s\n", root, strerror(errno));
		return 1;
	}
	pid_t *kids = calloc((size_t)n, sizeof(pid_t));
	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/%d", root, 1001 + i);
		mkdir(dir, 0755);
		pid_t p = fork();
		if (p == 0) {
			char procs[320];
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
			FILE *f = fopen(procs, "w");
			if (f) {
				fprintf(f, "0\n");
				fclose(f);
			}
			alarm((unsigned)secs + 30); /* never outlive the bench */
			pause();
			_exit(0);
		}
		kids[i] = p;
	}

	struct lxcscale_config *c = config_new();
	struct config_diag *d = calloc(1, sizeof(*d));
	char path[400], tick[16];
	snprintf(tick, sizeof(tick), "%d", tick_ms);
	int bad = 0;
	bad |= set(c, "cgroup.root", strrchr(root, '/') + 1, d);
	bad |= set(c, "cgroup.assumed_cores", "2", d);
	bad |= set(c, "cgroup.assumed_ram_mb", "2048", d);
	bad |= set(c, "scaling.dry_run", "true", d);
	bad |= set(c, "sample_interval_ms", tick, d);
	bad |= set(c, "metrics_interval_seconds", "1", d);
	snprintf(path, sizeof(path), "%s/lxc_metrics.json", work);
	bad |= set(c, "data_file", path, d);
	snprintf(path, sizeof(path), "%s/suggestions.jsonl", work);
	bad |= set(c, "suggestions_file", path, d);
	bad |= set(c, "model_file", "", d);
	bad |= set(c, "bpf.pin_path", "/sys/fs/bpf/lxcscale-bench", d);
	bad |= set(c, "bpf.enabled", bpf ? "true" : "false", d);
	if (quiet)
		bad |= set(c, "cgroup.quiet_sample_interval_ms", quiet, d);
	if (idle)
		bad |= set(c, "cgroup.idle_sample_interval_ms", idle, d);
	/* what this host can measure: no memory controller, and test cgroups share the host's
	 * network namespace (their traffic is unknown) */
	static const char features[] =
		"model:\n  features: [cpu_usage_percent, rolling_mean_cpu, rolling_std_cpu, max_cpu, min_cpu, "
		"cpu_trend, time_diff, filesystem_usage_gb, "
		"filesystem_total_gb, filesystem_free_gb, psi_cpu_some_ms, psi_memory_some_ms, psi_io_some_ms]\n";
	bad |= config_load_string(c, "bench", features, sizeof(features) - 1, d) != 0;
	int rc = 0;
	struct loop *l = NULL;
	if (bad || config_finalize(c, d) != 0) {
		config_diag_print(d, stderr);
		rc = 1;
		goto cleanup;
	}
	log_set_level(LOGL_WARNING);

	l = loop_new();
	char err[512];
	struct daemon_opts o = { 0 };
	double r0 = rusage_s();
	struct daemon *dm = daemon_new(c, l, &o, err, sizeof(err));
	if (!dm) {
		fprintf(stderr, "daemon bench: %s\n", err);
		rc = 1;
	} else {
		double t0 = now_s(), r1 = rusage_s();
		while (now_s() - t0 < secs)
			loop_run_once(l, 200);
		double wall = now_s() - t0, cpu = rusage_s() - r1;
		struct daemon_stats s;
		daemon_get_stats(dm, &s);
		double ticks = s.ticks ? (double)s.ticks : 1;
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("daemon loop, %zu test containers (one sleeping process each), tick %d ms, quiet sampling "
		       "every %d ms, idle every %d ms, %d s, BPF %s, %ld CPUs (host load included)\n",
		       s.containers, tick_ms, c->cgroup.quiet_sample_interval_ms,
		       c->cgroup.idle_sample_interval_ms, secs, s.bpf ? "on" : "off",
		       sysconf(_SC_NPROCESSORS_ONLN));
		printf("| ticks | wall ms/tick avg | wall ms/tick max | loop CPU ms/tick | loop CPU %% of a core "
		       "| process CPU %% (all threads) | max RSS MB | samples | rows | model-fed | scored | decisions |\n");
		printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
		printf("| %llu | %.3f | %.3f | %.3f | %.2f | %.2f | %.1f | %llu | %llu | %llu | %llu | %llu |\n",
		       (unsigned long long)s.ticks, (double)s.tick_wall_ns / ticks / 1e6,
		       (double)s.tick_wall_max_ns / 1e6, (double)s.tick_cpu_ns / ticks / 1e6,
		       (double)s.tick_cpu_ns / 1e9 / wall * 100.0, cpu / wall * 100.0, (double)ru.ru_maxrss / 1024.0,
		       (unsigned long long)s.samples, (unsigned long long)s.rows, (unsigned long long)s.fed,
		       (unsigned long long)s.scored, (unsigned long long)s.decisions);
		char line[256];
		daemon_status_line(dm, line, sizeof(line));
		printf("start-up (daemon_new with %d containers): %.1f ms CPU; at the end: %s\n", n,
		       (r1 - r0) * 1000.0, line);
		daemon_free(dm);
	}
cleanup:
	loop_free(l);
	config_free(c);
	free(d);
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		snprintf(dir, sizeof(dir), "%s/%d", root, 1001 + i);
		rmdir_retry(dir);
	}
	free(kids);
	rmdir_retry(root);
	snprintf(path, sizeof(path), "%s/lxc_metrics.json", work);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lxc_metrics.json.tmp", work);
	unlink(path);
	snprintf(path, sizeof(path), "%s/suggestions.jsonl", work);
	unlink(path);
	rmdir(work);
	return rc;
}

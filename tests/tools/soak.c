/*
 * soak.c — the daemon (user/daemon/daemon.h, the same code lxcscaled runs) for a long time on this
 * host's real cgroup v2 tree, with containers and load coming and going, measured from the
 * inside: per-tick wall time and lateness (p50/p99/max), CPU, RSS and open fds over time.
 *
 *     soak [-n CONTAINERS] [-s SECONDS] [-i TICK_MS] [-w WARMUP_S] [-H HISTORY] [-W WINDOW]
 *          [-M METRICS_S] [-q QUIET_MS] [-I IDLE_MS] [-c] [-b BURNERS] [-B]
 *
 *   -n  test containers kept alive (default 500), each a cgroup with one sleeping process,
 *       under <mount>/lxcscale-soak-<pid>/<vmid>
 *   -c  churn: every second a new container appears (cgroup + process) and the oldest goes
 *       (process killed, cgroup removed), so the count stays at N..N+1
 *   -b  burners: every 3 s up to B short CPU burners (2 s each) start in random containers
 *   -B  load the BPF programs (otherwise bpf.enabled: false)
 *   -w  warm-up: the reference measurement of RSS and fds is taken after it (default 30 s)
 *   -H  history_length (rows kept per container; default: the configuration's default).
 *       Each container's history is allocated at once but its pages become resident as
 *       the ring fills (history_length ticks), so a flat-RSS check needs a warm-up longer
 *       than that
 *   -W  model.window (training rows kept per container, default the configuration's): the
 *       same, filled one row per sample fed to the model
 *   -q, -I  cgroup.quiet_sample_interval_ms and cgroup.idle_sample_interval_ms (default:
 *       the configuration's; -I 0 reads idle containers as often as quiet ones)
 *   -M  metrics_interval_seconds (default 10; 0 = no reference metrics history). The
 *       history keeps the last 1000 cycles serialised in memory, so it grows for 1000
 *       intervals before it is flat
 *
 * The daemon runs on a real event loop with its PSI triggers, memory.events fds, inotify
 * container set, model worker and metrics writer; only its tick timer is the harness's
 * own (daemon_opts.no_timer), so every daemon_tick() can be timed: wall time of the tick
 * and how late it started against its schedule. The churn and the burners run in a child
 * process, so what /proc/self shows is the daemon alone. RSS and fds are measured with
 * the churn paused and the daemon settled (same container count at both points).
 *
 * Prints a table and, last, one machine-readable line for the scripts:
 *   SOAK containers=.. ticks=.. tick_p50_us=.. tick_p99_us=.. tick_max_us=.. late_p99_us=..
 *        cpu_pct=.. cpu_ms_per_tick=.. rss_warm_kb=.. rss_end_kb=.. rss_max_kb=..
 *        fds_warm=.. fds_end=.. errors=.. churned=..
 * "errors" counts the daemon's log lines at ERROR or above (the log goes to a file it
 * names). Needs root and a cgroup v2 mount; removes everything it created.
 */
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"
#include "config/config.h"
#include "daemon/daemon.h"

#define FIRST_VMID 1001
#define MAX_TICKS (8 * 3600 * 100) /* 8 h at 10 ms */

static char root[256];
static volatile sig_atomic_t stop_churn;

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = atol(line + kl + 1);
	if (f)
		fclose(f);
	return v;
}

static int open_fds(void)
{
	int n = -3; /* ".", ".." and the DIR's own fd */
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* ---- the churner (a child process) -------------------------------------------------- */

static void rmdir_retry(const char *path)
{
	for (int i = 0; i < 50 && rmdir(path) != 0 && errno == EBUSY; i++)
		usleep(20000);
}

static pid_t spawn_in(const char *dir, int burn_s)
{
	pid_t p = fork();
	if (p != 0)
		return p;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	char procs[400];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	FILE *f = fopen(procs, "w");
	if (f) {
		fprintf(f, "0\n");
		fclose(f);
	}
	if (burn_s > 0) {
		int64_t end = mono_us() + (int64_t)burn_s * 1000000;
		volatile unsigned long x = 0;
		while (mono_us() < end)
			for (int i = 0; i < 100000; i++)
				x += (unsigned long)i;
		_exit(0);
	}
	pause();
	_exit(0);
}

struct slot {
	int vmid;
	pid_t sleeper;
};

static void on_term(int sig)
{
	(void)sig;
	stop_churn = 1;
}

static void ct_dir(char *buf, size_t len, int vmid)
{
	snprintf(buf, len, "%s/%d", root, vmid);
}

static void remove_ct(struct slot *s)
{
	char dir[300];
	if (s->sleeper > 0) {
		kill(s->sleeper, SIGKILL);
		waitpid(s->sleeper, NULL, 0);
	}
	ct_dir(dir, sizeof(dir), s->vmid);
	/* A burner may be running in it too: kill everything inside, or rmdir fails with EBUSY
	 * and an emptied but never removed cgroup makes the daemon rightly count one more. */
	char kill_file[320];
	snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", dir);
	int kfd = open(kill_file, O_WRONLY | O_CLOEXEC);
	if (kfd >= 0) {
		if (write(kfd, "1", 1) != 1) { /* older kernel: the sleeper is already gone */ }
		close(kfd);
	}
	rmdir_retry(dir);
	s->sleeper = 0;
}

static void add_ct(struct slot *s, int vmid)
{
	char dir[300];
	s->vmid = vmid;
	ct_dir(dir, sizeof(dir), vmid);
	mkdir(dir, 0755);
	s->sleeper = spawn_in(dir, 0);
}

/* Keeps n containers; with churn, one new one per second and the oldest removed. Burners
 * start every 3 s. SIGUSR1 pauses (and the parent waits for it to settle), SIGUSR2
 * resumes, SIGTERM ends and removes everything. Reports the churn count on exit status
 * through a file. */
static volatile sig_atomic_t paused;
static void on_pause(int sig) { paused = sig == SIGUSR1; }

static int churner(int n, int churn, int burners, const char *count_file)
{
	signal(SIGTERM, on_term);
	signal(SIGUSR1, on_pause);
	signal(SIGUSR2, on_pause);
	struct slot *s = calloc((size_t)n + 1, sizeof(*s));
	pid_t *burn = calloc((size_t)(burners > 0 ? burners : 1), sizeof(pid_t));
	int next = FIRST_VMID + n, head = 0; /* s is a ring of n live containers */
	long churned = 0;
	unsigned seed = (unsigned)getpid();
	for (int i = 0; i < n; i++)
		add_ct(&s[i], FIRST_VMID + i);
	int64_t next_churn = mono_us() + 1000000, next_burn = mono_us() + 3000000;
	while (!stop_churn) {
		usleep(50000);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (paused)
			continue;
		int64_t now = mono_us();
		if (churn && now >= next_churn) {
			next_churn += 1000000;
			struct slot fresh;
			add_ct(&fresh, next++);
			remove_ct(&s[head]);
			s[head] = fresh;
			head = (head + 1) % n;
			churned++;
		}
		if (burners > 0 && now >= next_burn) {
			next_burn += 3000000;
			for (int b = 0; b < burners; b++) {
				if (burn[b] > 0 && waitpid(burn[b], NULL, WNOHANG) == 0)
					continue; /* still burning */
				char dir[300];
				ct_dir(dir, sizeof(dir), s[rand_r(&seed) % n].vmid);
				burn[b] = spawn_in(dir, 2);
			}
		}
	}
	for (int b = 0; b < burners; b++)
		if (burn[b] > 0) {
			kill(burn[b], SIGKILL);
			waitpid(burn[b], NULL, 0);
		}
	for (int i = 0; i < n; i++)
		remove_ct(&s[i]);
	FILE *f = fopen(count_file, "w");
	if (f) {
		fprintf(f, "%ld\n", churned);
		fclose(f);
	}
	free(s);
	free(burn);
	return 0;
}

/* ---- the daemon side ------------------------------------------------------------------- */

struct ticker {
	struct daemon *d;
	int64_t period_us, next_us;
	uint32_t *wall, *late; /* µs per tick */
	size_t n, cap;
};

static void on_tick(struct loop *l, int timer_id, uint64_t expirations, void *arg)
{
	(void)l;
	(void)timer_id;
	(void)expirations;
	struct ticker *t = arg;
	int64_t start = mono_us();
	int64_t late = t->next_us ? start - t->next_us : 0;
	daemon_tick(t->d);
	int64_t wall = mono_us() - start;
	if (t->n < t->cap) {
		t->wall[t->n] = (uint32_t)(wall > UINT32_MAX ? UINT32_MAX : wall);
		t->late[t->n] = (uint32_t)(late < 0 ? 0 : late > UINT32_MAX ? UINT32_MAX : late);
		t->n++;
	}
	/* the schedule is the timerfd's: period after period from the first expiry */
	t->next_us = (t->next_us ? t->next_us : start) + t->period_us;
	while (t->next_us < start - t->period_us) /* skipped expirations are not lateness */
		t->next_us += t->period_us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t pct(uint32_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static int set(struct lxcscale_config *c, const char *k, const char *v, struct config_diag *d)
{
	if (config_set(c, k, v, "soak", d) != 0) {
		config_diag_print(d, stderr);
		return -1;
	}
	return 0;
}

static void run_for(struct loop *l, double secs)
{
	int64_t end = mono_us() + (int64_t)(secs * 1e6);
	while (mono_us() < end)
		loop_run_once(l, 100);
}

static int count_errors(const char *log_path)
{
	FILE *f = fopen(log_path, "r");
	char line[LOG_LINE_MAX];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[ERROR]") || strstr(line, "[CRITICAL]"))
			n++;
	if (f)
		fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	int n = 500, secs = 120, tick_ms = 100, warm = 30, churn = 0, burners = 0, bpf = 0, opt;
	const char *history = NULL, *window = NULL, *metrics = "10", *quiet = NULL, *idle = NULL;
	while ((opt = getopt(argc, argv, "n:s:i:w:H:W:M:q:I:cb:B")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 's': secs = atoi(optarg); break;
		case 'i': tick_ms = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'c': churn = 1; break;
		case 'b': burners = atoi(optarg); break;
		case 'B': bpf = 1; break;
		case 'H': history = optarg; break;
		case 'W': window = optarg; break;
		case 'M': metrics = optarg; break;
		case 'q': quiet = optarg; break;
		case 'I': idle = optarg; break;
		default:
			fprintf(stderr, "usage: soak [-n N] [-s SECONDS] [-i TICK_MS] [-w WARMUP_S] [-q QUIET_MS] [-I IDLE_MS] [-c] [-b BURNERS] [-B]\n");
			return 2;
		}
	}
	if (n < 1 || n > 5000 || secs < 2 || secs > 8 * 3600 || tick_ms < 10 || tick_ms > 60000 ||
	    warm < 1 || warm >= secs || burners < 0 || burners > 64) {
		fprintf(stderr, "soak: bad arguments\n");
		return 2;
	}
	const char *mount = NULL;
	struct stat st;
	if (stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0)
		mount = "/sys/fs/cgroup/unified";
	else if (stat("/sys/fs/cgroup/cgroup.procs", &st) == 0)
		mount = "/sys/fs/cgroup";
	if (geteuid() != 0 || !mount) {
		printf("soak: skipped (needs root and a cgroup v2 mount)\n");
		return 77;
	}
	char work[] = "/tmp/lxcscale-soak-XXXXXX";
	snprintf(root, sizeof(root), "%s/lxcscale-soak-%d", mount, (int)getpid());
	if (mkdir(root, 0755) != 0 || !mkdtemp(work)) {
		fprintf(stderr, "soak: cannot create %s: %s\n", root, strerror(errno));
		return 1;
	}
	char count_file[128], log_path[128], path[512], tick[16];
	snprintf(count_file, sizeof(count_file), "%s/churned", work);
	snprintf(log_path, sizeof(log_path), "%s/daemon.log", work);

	pid_t kid = fork();
	if (kid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the soak, even if it crashes */
		_exit(churner(n, churn, burners, count_file));
	}
	/* wait until the n containers exist before the daemon starts */
	for (int i = 0; i < 600; i++) {
		snprintf(path, sizeof(path), "%s/%d/cgroup.procs", root, FIRST_VMID + n - 1);
		if (stat(path, &st) == 0)
			break;
		usleep(50000);
	}

	struct lxcscale_config *c = config_new();
	struct config_diag *d = calloc(1, sizeof(*d));
	snprintf(tick, sizeof(tick), "%d", tick_ms);
	int bad = 0;
	bad |= set(c, "cgroup.root", strrchr(root, '/') + 1, d);
	bad |= set(c, "cgroup.assumed_cores", "2", d);
	bad |= set(c, "cgroup.assumed_ram_mb", "2048", d);
	bad |= set(c, "scaling.dry_run", "true", d);
	bad |= set(c, "sample_interval_ms", tick, d);
	bad |= set(c, "metrics_interval_seconds", metrics, d);
	snprintf(path, sizeof(path), "%s/lxc_metrics.json", work);
	bad |= set(c, "data_file", path, d);
	snprintf(path, sizeof(path), "%s/suggestions.jsonl", work);
	bad |= set(c, "suggestions_file", path, d);
	snprintf(path, sizeof(path), "%s/model.bin", work);
	bad |= set(c, "model_file", path, d);
	bad |= set(c, "bpf.pin_path", "/sys/fs/bpf/lxcscale-soak", d);
	bad |= set(c, "bpf.enabled", bpf ? "true" : "false", d);
	if (quiet)
		bad |= set(c, "cgroup.quiet_sample_interval_ms", quiet, d);
	if (idle)
		bad |= set(c, "cgroup.idle_sample_interval_ms", idle, d);
	if (history)
		bad |= set(c, "history_length", history, d);
	if (window)
		bad |= set(c, "model.window", window, d);
	static const char features[] =
		"model:\n  features: [cpu_usage_percent, rolling_mean_cpu, rolling_std_cpu, max_cpu, min_cpu, "
		"cpu_trend, time_diff, filesystem_usage_gb, "
		"filesystem_total_gb, filesystem_free_gb, psi_cpu_some_ms, psi_memory_some_ms, psi_io_some_ms]\n";
	bad |= config_load_string(c, "soak", features, sizeof(features) - 1, d) != 0;
	int rc = 0;
	struct loop *l = NULL;
	if (bad || config_finalize(c, d) != 0) {
		config_diag_print(d, stderr);
		rc = 1;
		goto cleanup;
	}
	struct log_file_opts lo = {.path = log_path};
	log_set_file(&lo);
	log_set_level(LOGL_WARNING);

	l = loop_new();
	char err[512];
	struct daemon_opts o = {.no_timer = true};
	struct daemon *dm = daemon_new(c, l, &o, err, sizeof(err));
	if (!dm) {
		fprintf(stderr, "soak: %s\n", err);
		rc = 1;
		goto cleanup;
	}
	struct ticker t = {.d = dm, .period_us = (int64_t)tick_ms * 1000};
	size_t cap = ((size_t)secs + 10) * 1000 / (size_t)tick_ms + 16; /* + the settling pauses */
	if (cap > MAX_TICKS)
		cap = MAX_TICKS;
	t.wall = calloc(cap, sizeof(uint32_t));
	t.late = calloc(cap, sizeof(uint32_t));
	t.cap = t.wall && t.late ? cap : 0;
	loop_add_timer(l, (uint64_t)tick_ms, (uint64_t)tick_ms, on_tick, &t);

	double c0 = cpu_s();
	int64_t t0 = mono_us();
	run_for(l, warm);
	/* settle: churn paused, the daemon has seen every change */
	kill(kid, SIGUSR1);
	run_for(l, 2);
	long rss_warm = status_kb("VmRSS");
	int fds_warm = open_fds();
	struct daemon_stats s;
	daemon_get_stats(dm, &s);
	size_t cts_warm = s.containers;
	kill(kid, SIGUSR2);
	run_for(l, secs - warm - 2 > 0 ? secs - warm - 2 : 0);
	kill(kid, SIGUSR1);
	run_for(l, 2);
	double wall_s = (double)(mono_us() - t0) / 1e6, cpu = cpu_s() - c0;
	long rss_end = status_kb("VmRSS"), rss_max = status_kb("VmHWM");
	int fds_end = open_fds();
	daemon_get_stats(dm, &s);
	size_t cts_end = s.containers;

	size_t nt = t.n;
	qsort(t.wall, nt, sizeof(uint32_t), cmp_u32);
	qsort(t.late, nt, sizeof(uint32_t), cmp_u32);
	kill(kid, SIGTERM);
	waitpid(kid, NULL, 0);
	long churned = 0;
	FILE *cf = fopen(count_file, "r");
	if (cf) {
		if (fscanf(cf, "%ld", &churned) != 1)
			churned = 0;
		fclose(cf);
	}
	kid = 0;
	daemon_free(dm);
	int errors = count_errors(log_path);
	double ticks = nt ? (double)nt : 1;

	printf("soak: %d test containers (%zu seen by the daemon at warm-up, %zu at the end), tick %d ms, "
	       "quiet every %d ms, idle every %d ms, history_length %d, model.window %d, metrics history every %d s, %.0f s (warm-up %d s), churn %s (%ld containers replaced), %d burners, BPF %s, "
	       "%ld CPUs (host load included)\n",
	       n, cts_warm, cts_end, tick_ms, c->cgroup.quiet_sample_interval_ms,
	       c->cgroup.idle_sample_interval_ms, c->history_length, c->model.window, c->metrics_interval_seconds,
	       wall_s, warm, churn ? "on" : "off", churned, burners,
	       s.bpf ? "on" : "off", sysconf(_SC_NPROCESSORS_ONLN));
	printf("| ticks | tick p50 ms | tick p99 ms | tick max ms | start lateness p99 ms | CPU ms/tick (process) "
	       "| CPU %% of a core | RSS warm kB | RSS end kB | VmHWM kB | fds warm | fds end | error lines |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	printf("| %zu | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %ld | %ld | %ld | %d | %d | %d |\n", nt,
	       pct(t.wall, nt, 0.5) / 1e3, pct(t.wall, nt, 0.99) / 1e3, nt ? t.wall[nt - 1] / 1e3 : 0,
	       pct(t.late, nt, 0.99) / 1e3, cpu * 1000.0 / ticks, cpu / wall_s * 100.0, rss_warm, rss_end,
	       rss_max, fds_warm, fds_end, errors);
	printf("SOAK containers=%d ticks=%zu tick_p50_us=%u tick_p99_us=%u tick_max_us=%u late_p99_us=%u "
	       "cpu_pct=%.3f cpu_ms_per_tick=%.4f rss_warm_kb=%ld rss_end_kb=%ld rss_max_kb=%ld fds_warm=%d "
	       "fds_end=%d cts_warm=%zu cts_end=%zu errors=%d churned=%ld\n",
	       n, nt, pct(t.wall, nt, 0.5), pct(t.wall, nt, 0.99), nt ? t.wall[nt - 1] : 0,
	       pct(t.late, nt, 0.99), cpu / wall_s * 100.0, cpu * 1000.0 / ticks, rss_warm, rss_end, rss_max,
	       fds_warm, fds_end, cts_warm, cts_end, errors, churned);
	if (errors) {
		printf("daemon error lines:\n");
		fflush(stdout);
		FILE *f = fopen(log_path, "r");
		char line[LOG_LINE_MAX];
		int shown = 0;
		while (f && fgets(line, sizeof(line), f) && shown < 20)
			if (strstr(line, "[ERROR]") || strstr(line, "[CRITICAL]")) {
				fputs(line, stdout);
				shown++;
			}
		if (f)
			fclose(f);
	}
	free(t.wall);
	free(t.late);
cleanup:
	if (kid > 0) {
		kill(kid, SIGTERM);
		waitpid(kid, NULL, 0);
	}
	loop_free(l);
	config_free(c);
	free(d);
	log_close();
	rmdir_retry(root);
	static const char *const files[] = {"lxc_metrics.json", "lxc_metrics.json.tmp", "suggestions.jsonl",
					    "model.bin", "model.bin.tmp", "daemon.log", "churned"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", work, files[i]);
		unlink(path);
	}
	if (rmdir(work) != 0)
		fprintf(stderr, "soak: left %s behind (unexpected files)\n", work);
	return rc;
}

/*
 * cpu_burner — keeps N threads busy on the CPU for a while, optionally inside a cgroup.
 *
 *     cpu_burner [-c CGROUP_DIR] [-t THREADS] [-s SECONDS] [-w PREFIX -n COUNT]
 *
 * With -c it first moves itself into CGROUP_DIR (writes "0" to its cgroup.procs), so the
 * whole burn is charged to that cgroup; the integration tests use it to make a test
 * "container" busy. It always ends by itself after SECONDS (default 10, at most 600), so
 * a test that dies cannot leave a burner running.
 *
 * With -w it runs COUNT bursts, one each time a file PREFIX<i> (i = 1..COUNT) appears: it
 * prints "ready" once, then for each burst "start <i> <wall ms>" at the moment the burn
 * begins, so a test's reaction figure starts at the load itself. It waits by polling with
 * nanosleep (no process is forked between bursts, which would itself look like load), ends
 * when PREFIXend appears, and gives up after 120 s without a signal.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static double seconds = 10;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *burn(void *arg)
{
	(void)arg;
	double end = now() + seconds;
	volatile unsigned long x = 0;
	while (!stop) {
		for (int i = 0; i < 1000000; i++)
			x += (unsigned long)i * 2654435761u;
		if (now() >= end)
			break;
	}
	return NULL;
}

static int run_threads(long threads)
{
	pthread_t t[256];
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, burn, NULL) != 0) {
			fprintf(stderr, "cpu_burner: pthread_create failed\n");
			return 1;
		}
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static bool exists(const char *prefix, const char *what)
{
	char path[4096];
	struct stat st;
	return (size_t)snprintf(path, sizeof(path), "%s%s", prefix, what) < sizeof(path) &&
	       stat(path, &st) == 0;
}

/* -w: wait for each go file, stamp, burn; 0 when all COUNT ran or PREFIXend appeared */
static int run_on_signal(const char *prefix, long count, long threads)
{
	printf("ready\n");
	fflush(stdout);
	for (long i = 1; i <= count; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%ld", i);
		const struct timespec poll = { 0, 10 * 1000 * 1000 };
		double give_up = now() + 120;
		while (!exists(prefix, name)) {
			if (exists(prefix, "end"))
				return 0;
			if (now() > give_up) {
				fprintf(stderr, "cpu_burner: no %s%s within 120 s\n", prefix, name);
				return 1;
			}
			nanosleep(&poll, NULL);
		}
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		printf("start %ld %lld\n", i, (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
		fflush(stdout);
		if (run_threads(threads) != 0)
			return 1;
	}
	return 0;
}

/* -FLAG's whole number in 1..MAX, or -1 after saying so */
static long whole_arg(char flag, const char *arg, long max)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || v < 1 || v > max) {
		fprintf(stderr, "cpu_burner: -%c takes 1..%ld\n", flag, max);
		return -1;
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *cg = NULL, *wait_prefix = NULL;
	long threads = 1, count = 0;
	int opt;
	while ((opt = getopt(argc, argv, "c:t:s:w:n:")) != -1) {
		char *end;
		switch (opt) {
		case 'c': cg = optarg; break;
		case 't':
			if ((threads = whole_arg('t', optarg, 256)) < 0)
				return 2;
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (*end || !(seconds > 0 && seconds <= 600)) {
				fprintf(stderr, "cpu_burner: -s takes (0, 600]\n");
				return 2;
			}
			break;
		case 'w': wait_prefix = optarg; break;
		case 'n':
			if ((count = whole_arg('n', optarg, 10000)) < 0)
				return 2;
			break;
		default:
			fprintf(stderr, "usage: cpu_burner [-c CGROUP_DIR] [-t THREADS] [-s SECONDS] [-w PREFIX -n COUNT]\n");
			return 2;
		}
	}
	if (cg) {
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", cg) >= sizeof(path)) {
			fprintf(stderr, "cpu_burner: path too long\n");
			return 1;
		}
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1) {
			fprintf(stderr, "cpu_burner: cannot join %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
	}
	if (!wait_prefix != !count) {
		fprintf(stderr, "cpu_burner: -w and -n go together\n");
		return 2;
	}
	return wait_prefix ? run_on_signal(wait_prefix, count, threads) : run_threads(threads);
}

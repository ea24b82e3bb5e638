/*
 * cpu_burner — keeps N threads busy on the CPU for a while, optionally inside a cgroup.
 *
 *     cpu_burner [-c CGROUP_DIR] [-t THREADS] [-s SECONDS]
 *
 * With -c it first moves itself into CGROUP_DIR (writes "0" to its cgroup.procs), so the
 * whole burn is charged to that cgroup; the integration tests use it to make a test
 * "container" busy. It always ends by itself after SECONDS (default 10, at most 600), so
 * a test that dies cannot leave a burner running.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

int main(int argc, char **argv)
{
	const char *cg = NULL;
	long threads = 1;
	int opt;
	while ((opt = getopt(argc, argv, "c:t:s:")) != -1) {
		char *end;
		switch (opt) {
		case 'c': cg = optarg; break;
		case 't':
			threads = strtol(optarg, &end, 10);
			if (*end || threads < 1 || threads > 256) {
				fprintf(stderr, "cpu_burner: -t takes 1..256\n");
				return 2;
			}
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (*end || !(seconds > 0 && seconds <= 600)) {
				fprintf(stderr, "cpu_burner: -s takes (0, 600]\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: cpu_burner [-c CGROUP_DIR] [-t THREADS] [-s SECONDS]\n");
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

/*
 * cpuburn.c — a CPU burner for tests: N threads spinning until killed or until -s seconds.
 *
 *   cpuburn [-t THREADS] [-s SECONDS]
 *
 * The spin does real work on a volatile so the compiler keeps it; it checks the clock only
 * every few million iterations, so the burner is almost pure user time. Used by the VM
 * tests to make CPU pressure and cpu.max throttling inside a container.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double stop_at; /* CLOCK_MONOTONIC seconds; 0 = never */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
	volatile unsigned long x = (unsigned long)(size_t)arg;
	for (;;) {
		for (int i = 0; i < 4000000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
		if (stop_at > 0 && now() >= stop_at)
			return NULL;
	}
}

int main(int argc, char **argv)
{
	long threads = 1;
	double seconds = 0;
	int c;
	while ((c = getopt(argc, argv, "t:s:")) != -1) {
		if (c == 't')
			threads = strtol(optarg, NULL, 10);
		else if (c == 's')
			seconds = strtod(optarg, NULL);
		else {
			fprintf(stderr, "usage: cpuburn [-t THREADS] [-s SECONDS]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 256 || seconds < 0) {
		fprintf(stderr, "cpuburn: bad arguments\n");
		return 2;
	}
	if (seconds > 0)
		stop_at = now() + seconds;
	pthread_t tid[256];
	for (long i = 1; i < threads; i++)
		if (pthread_create(&tid[i], NULL, spin, (void *)(size_t)i) != 0) {
			fprintf(stderr, "cpuburn: pthread_create failed\n");
			return 1;
		}
	spin(NULL);
	for (long i = 1; i < threads; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

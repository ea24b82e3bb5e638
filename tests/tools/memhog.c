/*
 * memhog.c — allocate and touch memory at a given rate, then hold it, for tests.
 *
 *   memhog -m MIB [-r MIB_PER_SECOND] [-H HOLD_SECONDS]
 *
 * Anonymous memory is touched page by page (so it is charged to the cgroup at once) in
 * 1 MiB steps paced to the rate (0 = as fast as possible). After reaching the target it
 * prints "memhog: holding N MiB" and sleeps for HOLD_SECONDS (default: until killed).
 * Used by the VM tests to push a container against memory.high and memory.max.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long mib = 0;
	double rate = 0, hold = -1;
	int c;
	while ((c = getopt(argc, argv, "m:r:H:")) != -1) {
		if (c == 'm')
			mib = strtol(optarg, NULL, 10);
		else if (c == 'r')
			rate = strtod(optarg, NULL);
		else if (c == 'H')
			hold = strtod(optarg, NULL);
		else {
			fprintf(stderr, "usage: memhog -m MIB [-r MIB_PER_S] [-H HOLD_S]\n");
			return 2;
		}
	}
	if (mib < 1 || mib > 1 << 20 || rate < 0) {
		fprintf(stderr, "memhog: bad arguments\n");
		return 2;
	}
	size_t step = 1 << 20;
	char *mem = mmap(NULL, (size_t)mib * step, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("memhog: mmap");
		return 1;
	}
	long page = sysconf(_SC_PAGESIZE);
	double t0 = now();
	for (long i = 0; i < mib; i++) {
		for (size_t off = 0; off < step; off += (size_t)page)
			mem[(size_t)i * step + off] = (char)(i + 1);
		if (rate > 0) {
			double due = t0 + (double)(i + 1) / rate;
			double wait = due - now();
			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
	}
	printf("memhog: holding %ld MiB\n", mib);
	fflush(stdout);
	if (hold < 0)
		for (;;)
			pause();
	usleep((useconds_t)(hold * 1e6));
	return 0;
}

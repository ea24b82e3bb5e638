/*
 * bench/ctextra.c — a container's network counters read from the host side, as the
 * daemon reads them at every sample: the rx_bytes and tx_bytes of its Proxmox veth peers.
 *
 *   ctextra -n CONTAINERS -b FIRST_VMID [-r ROUNDS]
 *
 * The peers veth<FIRST_VMID>i0 .. veth<FIRST_VMID+N-1>i0 must exist (bench/ctextra.sh
 * creates them with `ip -batch` and deletes them after). For each round it reads every
 * container once through ctextra_net() (the counter files held open, read with pread)
 * and once the way it was read before (open, read, close per file per sample: what
 * every cgroup tool does), and prints the medians over ROUNDS: µs per container, and
 * for a pass over all of them (2 syscalls a container against 6). Both read the same
 * sysfs files on the same kernel.
 *
 * Finding the interfaces: once a minute, the shared index reads /sys/class/net once for
 * all containers; before, each container read the whole directory for its own names.
 * Both are timed too: one index read against N per-container directory scans.
 * Figures only: nothing asserts a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"
#include "collect/ctextra.h"

/* the baseline: one counter file opened, read and closed */
static int read_once(const char *path, unsigned long long *v)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/* the baseline: one container's interfaces found by reading the whole directory */
static int scan_for(unsigned vmid)
{
	char prefix[24];
	int plen = snprintf(prefix, sizeof(prefix), "veth%ui", vmid), n = 0;
	DIR *d = opendir("/sys/class/net");
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strncmp(e->d_name, prefix, (size_t)plen) == 0;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int n = 0, rounds = 21;
	unsigned first = 0;
	int opt;
	while ((opt = getopt(argc, argv, "n:b:r:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'b': first = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s -n CONTAINERS -b FIRST_VMID [-r ROUNDS]\n", argv[0]);
			return 2;
		}
	}
	if (n <= 0 || n > 100000 || first == 0 || rounds <= 0 || rounds > 1000) {
		fprintf(stderr, "usage: %s -n CONTAINERS -b FIRST_VMID [-r ROUNDS]\n", argv[0]);
		return 2;
	}
	struct ctextra_roots roots = { "/sys/class/net", "/proc", ctextra_ifindex_new() };
	struct ctextra *x = calloc((size_t)n, sizeof(*x));
	char (*paths)[2][64] = calloc((size_t)n, sizeof(*paths));
	double *held = calloc((size_t)rounds, sizeof(double)), *base = calloc((size_t)rounds, sizeof(double));
	double *idx_read = calloc((size_t)rounds, sizeof(double)), *scans = calloc((size_t)rounds, sizeof(double));
	if (!x || !paths || !held || !base || !roots.ifindex || !idx_read || !scans) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		ctextra_init(&x[i], first + (unsigned)i, "/nonexistent");
		snprintf(paths[i][0], sizeof(paths[i][0]), "/sys/class/net/veth%ui0/statistics/rx_bytes", first + (unsigned)i);
		snprintf(paths[i][1], sizeof(paths[i][1]), "/sys/class/net/veth%ui0/statistics/tx_bytes", first + (unsigned)i);
	}
	/* the interface scan (a readdir of /sys/class/net, every 60 s in the daemon) and the
	 * first open happen here, outside the timing */
	uint64_t rx, tx, sum = 0;
	for (int i = 0; i < n; i++) {
		if (!ctextra_net(&x[i], &roots, 0, &rx, &tx) || x[i].n_ifaces != 1) {
			fprintf(stderr, "container %u: veth%ui0 not readable (bench/ctextra.sh creates it)\n",
				first + (unsigned)i, first + (unsigned)i);
			return 1;
		}
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = now_us();
		for (int i = 0; i < n; i++)
			if (ctextra_net(&x[i], &roots, 1 + r, &rx, &tx))
				sum += rx + tx;
		double t1 = now_us();
		for (int i = 0; i < n; i++) {
			unsigned long long a = 0, b = 0;
			if (read_once(paths[i][0], &a) == 0 && read_once(paths[i][1], &b) == 0)
				sum += a + b;
		}
		double t2 = now_us();
		held[r] = (t1 - t0) / n;
		base[r] = (t2 - t1) / n;
	}
	/* finding the interfaces: one index read (a fresh index, one container's first
	 * reading) against every container scanning the directory for itself */
	int found = 0;
	for (int r = 0; r < rounds; r++) {
		struct ctextra_roots fresh = { "/sys/class/net", "/proc", ctextra_ifindex_new() };
		struct ctextra one;
		ctextra_init(&one, first, "/nonexistent");
		double t0 = now_us();
		if (fresh.ifindex && ctextra_net(&one, &fresh, 0, &rx, &tx))
			sum += rx;
		double t1 = now_us();
		for (int i = 0; i < n; i++)
			found += scan_for(first + (unsigned)i);
		double t2 = now_us();
		ctextra_close(&one);
		ctextra_ifindex_free(fresh.ifindex);
		idx_read[r] = t1 - t0;
		scans[r] = t2 - t1;
	}
	double h = median(held, rounds), b = median(base, rounds);
	double ir = median(idx_read, rounds), sc = median(scans, rounds);
	printf("%d containers, one veth each, median of %d rounds (checksum %llu)\n", n, rounds,
	       (unsigned long long)(sum & 0xffff));
	printf("| network counters of one container      | held fds, pread | open/read/close | speed-up |\n");
	printf("|----------------------------------------|-----------------|-----------------|----------|\n");
	printf("| time per container                     | %12.2f us | %12.2f us | %7.1fx |\n", h, b, b / h);
	printf("| pass over all %6d containers         | %12.1f us | %12.1f us |          |\n", n, h * n, b * n);
	printf("| finding all containers' interfaces     |  one index read | %6d readdirs |          |\n", n);
	printf("| once a minute                          | %12.1f us | %12.1f us | %7.0fx |\n", ir, sc, sc / ir);
	printf("(%d interfaces found by the scans in %d rounds)\n", found, rounds);
	for (int i = 0; i < n; i++)
		ctextra_close(&x[i]);
	ctextra_ifindex_free(roots.ifindex);
	free(idx_read);
	free(scans);
	free(x);
	free(paths);
	free(held);
	free(base);
	return 0;
}

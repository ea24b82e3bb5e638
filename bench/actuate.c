/*
 * bench/actuate.c — what the actuation path costs on this host.
 *
 *  1. journal: one change's three fdatasync'd records (PENDING, APPLIED, PERSISTED), in the
 *     folder given with -d (use the filesystem of journal_file, e.g. /var/lib/lxcscale);
 *  2. persisting a burst: N changes spread over C containers submitted at once, through the
 *     persister and the stand-in pct (-p): calls made and time until all are persisted,
 *     against the reference's way (one `pct set` per resource and change, in sequence).
 *
 *   actuate -d DIR -p PCT [-n CHANGES] [-c CONTAINERS] [-D PCT_DELAY_MS] [-J (no journal part)]
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act/journal.h"
#include "base/proc.h"
#include "pve/persister.h"

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void bench_journal(const char *dir, int n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/lxcscale-bench-journal-%d", dir, (int)getpid());
	struct journal *j;
	int rc = journal_open(path, &j, NULL);
	if (rc) {
		printf("journal: cannot open %s: %s\n", path, strerror(-rc));
		return;
	}
	uint64_t *t = calloc((size_t)n, sizeof(*t));
	uint64_t total0 = now_us();
	for (int i = 0; i < n; i++) {
		struct journal_change c = {.vmid = 100 + (uint32_t)i % 50, .what = JOURNAL_CPU | JOURNAL_MEM,
					   .cpu_before_milli = 2000, .cpu_after_milli = 3000,
					   .mem_before_mb = 1024, .mem_after_mb = 2048};
		uint64_t t0 = now_us();
		if (journal_begin(j, &c) || journal_mark(j, c.seq, JOURNAL_APPLIED, NULL) ||
		    journal_mark(j, c.seq, JOURNAL_PERSISTED, NULL)) {
			printf("journal: write failed at change %d\n", i);
			break;
		}
		t[i] = now_us() - t0;
	}
	uint64_t total = now_us() - total0;
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("journal in %s: %d changes x 3 fdatasync'd records: per change p50 %.3f ms, p99 %.3f ms, "
	       "max %.3f ms; %.0f changes/s; file now %zu records (compacted at 4096)\n",
	       dir, n, t[n / 2] / 1000.0, t[n * 99 / 100] / 1000.0, t[n - 1] / 1000.0,
	       n / (total / 1e6), journal_file_records(j));
	free(t);
	journal_close(j);
	unlink(path);
}

static void bench_persist(const char *pct, const char *dir, int n, int cts)
{
	char confdir[4096];
	snprintf(confdir, sizeof(confdir), "%s/lxcscale-bench-pve-%d", dir, (int)getpid());
	if (mkdir(confdir, 0700) < 0) {
		printf("persist: mkdir %s: %s\n", confdir, strerror(errno));
		return;
	}
	setenv("PCT_STAND_IN_DIR", confdir, 1);
	unsetenv("PCT_STAND_IN_LOG");
	for (int c = 0; c < cts; c++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/%d.conf", confdir, 100 + c);
		FILE *f = fopen(p, "w");
		fprintf(f, "arch: amd64\ncores: 1\nmemory: 512\n");
		fclose(f);
	}
	/* the reference: POST /scale/cores and /scale/ram per change, each one `pct set` */
	uint64_t t0 = now_us();
	int calls = 0;
	for (int i = 0; i < n; i++) {
		char id[16], v[16];
		snprintf(id, sizeof(id), "%d", 100 + i % cts);
		snprintf(v, sizeof(v), "%d", 1 + i % 4);
		const char *a1[] = {pct, "set", id, "--cores", v, NULL};
		snprintf(v, sizeof(v), "%d", 512 * (1 + i % 4));
		const char *a2[] = {pct, "set", id, "--memory", v, NULL};
		struct proc_result r;
		proc_run(a1, NULL, &r);
		proc_result_free(&r);
		proc_run(a2, NULL, &r);
		proc_result_free(&r);
		calls += 2;
	}
	double ref_s = (now_us() - t0) / 1e6;

	struct persist_settings s;
	persist_settings_default(&s);
	snprintf(s.pct_path, sizeof(s.pct_path), "%s", pct);
	s.debounce_ms = 500; /* persist.debounce_ms default */
	struct persister *p;
	if (persister_start(&s, &p)) {
		printf("persist: cannot start\n");
		return;
	}
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		struct persist_target t = {.vmid = (uint32_t)(100 + i % cts), .set_cores = true,
					   .cores = (unsigned)(1 + i % 4), .set_memory = true,
					   .memory_mb = (uint64_t)(512 * (1 + i % 4)), .upto_seq = (uint64_t)i + 1};
		persister_submit(p, &t);
	}
	int done = 0, ours = 0;
	while (done < cts) {
		struct pollfd pf = {.fd = persister_eventfd(p), .events = POLLIN};
		if (poll(&pf, 1, 60000) != 1)
			break;
		struct persist_result r[16];
		size_t k = persister_take_results(p, r, 16);
		for (size_t i = 0; i < k; i++) {
			ours += r[i].attempts;
			done += r[i].status == PERSIST_OK;
		}
	}
	double our_s = (now_us() - t0) / 1e6;
	persister_stop(p, false);
	printf("persist a burst of %d changes (cores + memory) over %d containers, stand-in pct:\n"
	       "  reference (one pct set per resource and change): %d calls, %.2f s\n"
	       "  lxcscale persister (coalesced, debounce %d ms):  %d calls, %.2f s until all persisted\n",
	       n, cts, calls, ref_s, s.debounce_ms, ours, our_s);
	if (getenv("PCT_STAND_IN_DELAY_MS"))
		printf("  (each pct call made to take %s ms, like Perl start-up + pmxcfs on a PVE host)\n",
		       getenv("PCT_STAND_IN_DELAY_MS"));
	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", confdir);
	if (system(cmd) != 0)
		printf("persist: could not remove %s\n", confdir);
}

int main(int argc, char **argv)
{
	const char *dir = "/var/tmp", *pct = NULL;
	int n = 2000, cts = 10, opt;
	bool skip_journal = false;
	while ((opt = getopt(argc, argv, "d:p:n:c:D:J")) != -1) {
		switch (opt) {
		case 'D': setenv("PCT_STAND_IN_DELAY_MS", optarg, 1); break; /* a pct that takes time */
		case 'J': skip_journal = true; break;
		case 'd': dir = optarg; break;
		case 'p': pct = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'c': cts = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s -d DIR -p PCT [-n CHANGES] [-c CONTAINERS]\n", argv[0]);
			return 2;
		}
	}
	if (n < 10 || cts < 1 || cts > 1000) {
		fprintf(stderr, "bad -n / -c\n");
		return 2;
	}
	if (!skip_journal)
		bench_journal(dir, n);
	if (pct)
		bench_persist(pct, dir, n / 10, cts);
	return 0;
}

/*
 * bench/metrics_file.c — memory and bytes written per cycle by the metrics history writer
 * (user/metrics_file*.c), with synthetic containers, against the design it replaced.
 *
 *   metrics_file after  DIR CONTAINERS CYCLES MAX   appends through metrics_file_append
 *   metrics_file before DIR CONTAINERS CYCLES MAX   the old writer: every cycle kept
 *                                                   serialised in memory, the whole file
 *                                                   rewritten (.tmp, fdatasync, rename)
 *   metrics_file load   FILE MAX                    a restart: metrics_file_load of FILE
 *   metrics_file read   FILE                        lxcscale import-metrics' reader over FILE
 *
 * Both writers use the same serialiser (mf_serialise_snapshot), so the difference is the
 * storage design alone. Prints one line of key=value figures per phase; bench/metrics_file.sh
 * runs the three and makes the table. Each mode runs in its own process, so its peak RSS
 * (VmHWM) is its own.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat/metrics_file.h"
#include "compat/metrics_file_int.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmRSS and VmHWM of this process in MB. */
static void rss_mb(double *rss, double *hwm)
{
	*rss = *hwm = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	char line[256];
	long kb;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			*rss = kb / 1024.0;
		else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			*hwm = kb / 1024.0;
	}
	fclose(f);
}

/* One cycle of n containers with values that change like real ones (two decimals, as the
 * reference rounds them; counters that grow). */
static void fill_cycle(struct mf_container *c, size_t n, unsigned cycle, struct mf_summary *s)
{
	int64_t base_us = 1766583200000000ll + (int64_t)cycle * 60000000ll;
	for (size_t k = 0; k < n; k++) {
		memset(&c[k], 0, sizeof(c[k]));
		c[k].vmid = 100 + (uint32_t)k;
		mf_format_timestamp(base_us + (int64_t)k * 137, c[k].timestamp);
		c[k].cpu_usage_percent = round(fmod(cycle * 0.37 + k * 1.3, 100) * 100) / 100;
		c[k].memory_usage_mb = round((200 + fmod(k * 7.7 + cycle * 0.11, 3000)) * 100) / 100;
		c[k].swap_usage_mb = round(fmod(k * 3.3, 512) * 100) / 100;
		c[k].swap_total_mb = 512;
		c[k].process_count = 20 + (k + cycle) % 80;
		c[k].io_reads = 4405620829ull + cycle * 1000ull + k;
		c[k].io_writes = 842586379ull + cycle * 300ull + k;
		c[k].rx_bytes = 123456989ull + cycle * 4096ull * (k + 1);
		c[k].tx_bytes = 98765432ull + cycle * 1024ull * (k + 1);
		c[k].filesystem_total_gb = 30;
		c[k].filesystem_usage_gb = round(fmod(k * 0.37, 30) * 100) / 100;
		c[k].filesystem_free_gb = round((30 - c[k].filesystem_usage_gb) * 100) / 100;
	}
	memset(s, 0, sizeof(*s));
	mf_format_timestamp(base_us, s->collection_start_time);
	mf_format_timestamp(base_us + 3100000, s->collection_end_time);
	s->total_containers = s->collected_containers = (unsigned)n;
	s->total_duration_seconds = 3.1;
	s->monitor_cpu_percent = 1.2;
	s->monitor_memory_usage_mb = 45.6;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The writer as it was before: a ring of serialised cycles, the whole file each cycle. */
static int run_before(const char *path, size_t n, unsigned cycles, unsigned max)
{
	struct mf_container *c = calloc(n, sizeof(*c));
	char **ring = calloc(max, sizeof(*ring));
	size_t *lens = calloc(max, sizeof(*lens));
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unsigned head = 0, count = 0;
	uint64_t written = 0, last_written = 0;
	double t0 = now_s();
	for (unsigned i = 0; i < cycles; i++) {
		struct mf_summary s;
		fill_cycle(c, n, i, &s);
		size_t len;
		char *text = mf_serialise_snapshot(c, n, &s, &len);
		if (!text)
			return 1;
		if (count == max) {
			free(ring[head]);
			ring[head] = text;
			lens[head] = len;
			head = (head + 1) % max;
		} else {
			ring[(head + count) % max] = text;
			lens[(head + count) % max] = len;
			count++;
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		uint64_t w = 0;
		int rc = fd < 0 ? -1 : write_all(fd, "[", 1);
		w++;
		for (unsigned k = 0; rc == 0 && k < count; k++) {
			unsigned at = (head + k) % max;
			rc = write_all(fd, k ? ",\n" : "\n", k ? 2 : 1);
			if (rc == 0)
				rc = write_all(fd, ring[at], lens[at]);
			w += (k ? 2 : 1) + lens[at];
		}
		if (rc == 0)
			rc = write_all(fd, "\n]", 2);
		w += 2;
		if (rc != 0 || fdatasync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
			perror(path);
			return 1;
		}
		written += w;
		last_written = w;
	}
	double dt = now_s() - t0, rss, hwm;
	rss_mb(&rss, &hwm);
	printf("mode=before containers=%zu cycles=%u max=%u cycle_bytes=%zu bytes_per_cycle_mean=%.0f "
	       "bytes_last_cycle=%llu rss_mb=%.1f hwm_mb=%.1f ms_per_cycle=%.2f\n",
	       n, cycles, max, lens[(head + count - 1) % max], (double)written / cycles,
	       (unsigned long long)last_written, rss, hwm, dt * 1000 / cycles);
	for (unsigned k = 0; k < count; k++)
		free(ring[(head + k) % max]);
	free(ring);
	free(lens);
	free(c);
	return 0;
}

static int run_after(const char *path, size_t n, unsigned cycles, unsigned max)
{
	struct mf_container *c = calloc(n, sizeof(*c));
	struct metrics_file *mf = metrics_file_new(path, max);
	if (!c || !mf)
		return 1;
	char err[512];
	struct mf_io_stats io, at_trim = { 0 };
	uint64_t trims = 0, period_bytes = 0, period_cycles = 0, max_cycle = 0, before = 0;
	unsigned trim_cycle = 0;
	double t0 = now_s(), rss_at_max = 0, hwm_at_max = 0;
	size_t cycle_bytes = 0;
	for (unsigned i = 0; i < cycles; i++) {
		struct mf_summary s;
		fill_cycle(c, n, i, &s);
		if (metrics_file_append(mf, c, n, &s, err, sizeof(err)) != 0) {
			fprintf(stderr, "append %u: %s\n", i, err);
			return 1;
		}
		metrics_file_io_stats(mf, &io);
		uint64_t this_cycle = io.bytes_written - before;
		before = io.bytes_written;
		if (this_cycle > max_cycle)
			max_cycle = this_cycle;
		if (io.appends == 1 && i == 1)
			cycle_bytes = (size_t)this_cycle - 4;
		if (io.rewrites > 1 + trims) { /* a trim: measure one whole period between two */
			if (trims) {
				period_bytes = io.bytes_written - at_trim.bytes_written;
				period_cycles = i - trim_cycle;
			}
			trims++;
			at_trim = io;
			trim_cycle = i;
		}
		if (i + 1 == max)
			rss_mb(&rss_at_max, &hwm_at_max);
	}
	double dt = now_s() - t0, rss, hwm;
	rss_mb(&rss, &hwm);
	printf("mode=after containers=%zu cycles=%u max=%u slack=%u cycle_bytes=%zu file_cycles=%u "
	       "bytes_per_cycle_mean=%.0f bytes_per_cycle_steady=%.0f max_cycle_bytes=%llu trims=%llu "
	       "rss_mb_at_max=%.1f rss_mb=%.1f hwm_mb=%.1f ms_per_cycle=%.2f\n",
	       n, cycles, max, metrics_file_slack(max), cycle_bytes, metrics_file_count(mf),
	       (double)io.bytes_written / cycles,
	       period_cycles ? (double)period_bytes / period_cycles : -1.0, (unsigned long long)max_cycle,
	       (unsigned long long)trims, rss_at_max, rss, hwm, dt * 1000 / cycles);
	metrics_file_free(mf);
	free(c);
	return 0;
}

static int run_load(const char *path, unsigned max)
{
	struct metrics_file *mf = metrics_file_new(path, max);
	char err[512];
	double t0 = now_s();
	if (!mf || metrics_file_load(mf, err, sizeof(err)) != 0) {
		fprintf(stderr, "load: %s\n", mf ? err : "bad arguments");
		return 1;
	}
	double dt = now_s() - t0, rss, hwm;
	rss_mb(&rss, &hwm);
	printf("mode=load cycles=%u s=%.2f rss_mb=%.1f hwm_mb=%.1f\n", metrics_file_count(mf), dt, rss, hwm);
	metrics_file_free(mf);
	return 0;
}

static int count_records(void *ctx, const struct mf_snapshot *s)
{
	*(size_t *)ctx += s->n;
	return 0;
}

static int run_read(const char *path)
{
	char err[512];
	size_t records = 0;
	struct mf_read_stats st;
	double t0 = now_s();
	if (metrics_file_read(path, count_records, &records, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "read: %s\n", err);
		return 1;
	}
	double dt = now_s() - t0, rss, hwm;
	rss_mb(&rss, &hwm);
	printf("mode=read cycles=%zu records=%zu s=%.2f rss_mb=%.1f hwm_mb=%.1f\n", st.snapshots, records, dt,
	       rss, hwm);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "read") == 0)
		return run_read(argv[2]);
	if (argc == 4 && strcmp(argv[1], "load") == 0)
		return run_load(argv[2], (unsigned)atoi(argv[3]));
	if (argc != 6) {
		fprintf(stderr, "usage: %s after|before FILE CONTAINERS CYCLES MAX | load FILE MAX | read FILE\n", argv[0]);
		return 2;
	}
	size_t n = (size_t)atol(argv[3]);
	unsigned cycles = (unsigned)atoi(argv[4]), max = (unsigned)atoi(argv[5]);
	if (n == 0 || n > 100000 || cycles == 0 || max == 0) {
		fprintf(stderr, "bad sizes\n");
		return 2;
	}
	if (strcmp(argv[1], "after") == 0)
		return run_after(argv[2], n, cycles, max);
	if (strcmp(argv[1], "before") == 0)
		return run_before(argv[2], n, cycles, max);
	return 2;
}

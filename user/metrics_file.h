/*
 * metrics_file.h — the reference system's metrics history, `/var/log/lxc_metrics.json`.
 *
 * Format (reference-system.md §3.3), kept exactly so the reference's tools still read it:
 * a JSON array, one element per collection cycle; each element an object whose keys are the
 * container ids as strings plus "summary"; 4-space indent, sorted keys (as Python's
 * json.dump(indent=4, sort_keys=True)); floats as Python prints them (shortest repr, always
 * with a "." or an exponent); timestamps naive local ISO with microseconds. The file keeps
 * the last `max_entries` cycles and is written through `<file>.tmp` + rename.
 *
 * One addition: a value we could not read is written as 0 (the reference's own fallback, so
 * its tools parse it) and its name is listed in an "unknown" array of that container; our
 * reader honours the list, so a failed read never comes back as a measured 0.
 *
 * The writer keeps each cycle already serialised, so a rewrite is one pass of writes and
 * no JSON work; it is meant to run on a worker thread (a big history is tens of MB).
 * The reader is defensive: size bound, a clear error with line and column for malformed
 * JSON, records with a missing or wrong-typed field skipped and counted, never a crash.
 */
#ifndef LXCSCALE_METRICS_FILE_H
#define LXCSCALE_METRICS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MF_DEFAULT_PATH "/var/log/lxc_metrics.json"
#define MF_DEFAULT_MAX_ENTRIES 1000
#define MF_MAX_FILE_BYTES (1024u * 1024u * 1024u)   /* reader refuses larger files */
#define MF_TIMESTAMP_LEN 40

/* Bits of mf_container.unknown, one per reference field. */
enum mf_field {
	MF_CPU = 0, MF_MEMORY, MF_SWAP_USAGE, MF_SWAP_TOTAL, MF_PROCESSES, MF_IO,
	MF_NETWORK, MF_FS_USAGE, MF_FS_TOTAL, MF_FS_FREE, MF_FIELD_COUNT
};
#define MF_BIT(f) (1u << (f))

struct mf_container {
	uint32_t vmid;
	char timestamp[MF_TIMESTAMP_LEN];   /* "2025-12-24T13:33:20.628660" */
	double cpu_usage_percent;           /* 0..100 */
	double memory_usage_mb;
	double swap_usage_mb, swap_total_mb;
	uint64_t process_count;
	uint64_t io_reads, io_writes;       /* cumulative 512-byte sectors */
	uint64_t rx_bytes, tx_bytes;        /* cumulative bytes */
	double filesystem_usage_gb, filesystem_total_gb, filesystem_free_gb;
	uint32_t unknown;                   /* MF_BIT(field): written as 0, listed as unknown */
};

struct mf_summary {
	char collection_start_time[MF_TIMESTAMP_LEN];
	char collection_end_time[MF_TIMESTAMP_LEN];
	unsigned total_containers, collected_containers;
	double total_duration_seconds;
	double monitor_cpu_percent;
	double monitor_memory_usage_mb;
};

/* Naive local ISO time with microseconds, as Python's datetime.now().isoformat(). */
void mf_format_timestamp(int64_t wall_us, char out[MF_TIMESTAMP_LEN]);
/* Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|±HH:MM]" (naive = local time) into µs since the
 * epoch. Returns false for anything else. */
bool mf_parse_timestamp(const char *s, int64_t *wall_us);

/* ---- writer ------------------------------------------------------------------------------ */

struct metrics_file;

struct metrics_file *metrics_file_new(const char *path, unsigned max_entries);
void metrics_file_free(struct metrics_file *mf);
unsigned metrics_file_count(const struct metrics_file *mf);

/* Adds one cycle (containers in any order; written sorted as strings, like Python).
 * The oldest cycle drops out beyond max_entries. An empty cycle is not added (the reference
 * writes nothing when no container was collected). Returns 0 or -1 (out of memory). */
int metrics_file_append(struct metrics_file *mf, const struct mf_container *c, size_t n,
			const struct mf_summary *summary);

/* Continues an existing history: reads `mf`'s own path (a missing file is fine) and keeps
 * its last max_entries cycles. Returns 0, or -1 with a message (the history is then empty). */
int metrics_file_load(struct metrics_file *mf, char *err, size_t errlen);

/* Writes the whole history atomically (.tmp, fdatasync, rename). Returns 0 or -1 + message. */
int metrics_file_write(struct metrics_file *mf, char *err, size_t errlen);

/* ---- reader ------------------------------------------------------------------------------ */

struct mf_snapshot {
	size_t index;                       /* position in the file's array */
	const struct mf_container *containers;
	size_t n;
	bool has_summary;
	struct mf_summary summary;
};

struct mf_read_stats {
	size_t snapshots, records;          /* accepted */
	size_t skipped_snapshots;           /* not an object */
	size_t skipped_records;             /* bad id, missing or wrong-typed field */
};

/* Returns 0 to go on, non-zero to stop the read (metrics_file_read then returns it). */
typedef int (*mf_snapshot_cb)(void *ctx, const struct mf_snapshot *s);

/* Reads a metrics file, calling `cb` once per accepted snapshot in file order. Returns 0,
 * -1 with a message (I/O error, too big, malformed JSON with line:column, not an array),
 * or the callback's non-zero value. `stats` may be NULL. */
int metrics_file_read(const char *path, mf_snapshot_cb cb, void *ctx, struct mf_read_stats *stats,
		      char *err, size_t errlen);

#endif

/*
 * compat/metrics_file.h — the reference system's metrics history, `/var/log/lxc_metrics.json`.
 *
 * Format (docs/reference-compat.md, "The metrics file"), kept exactly so the reference's tools
 * still read it: a JSON array, one element per collection cycle; each element an object whose
 * keys are the container ids as strings plus "summary"; 4-space indent, sorted keys (as Python's
 * json.dump(indent=4, sort_keys=True)); floats as Python prints them (shortest repr, always with
 * a "." or an exponent); timestamps naive local ISO with microseconds. The file keeps its last
 * cycles: between max_entries and max_entries + slack of them (below).
 *
 * The history lives on disk, not in memory (compat/metrics_file_append.c): the writer keeps only
 * the byte offset of each cycle in the file (8 bytes a cycle; the loader rebuilds them at
 * start) and appends a cycle in place: the new element goes where the closing "]" was,
 * then the "]" again, so the file stays byte for byte what json.dump would write for the
 * same list, and a cycle costs one cycle's bytes of I/O. When the file holds more than
 * max_entries + slack cycles (slack = max_entries / 8, at least 1) it is rewritten once:
 * `<file>.tmp` gets "[", the newest max_entries cycles copied from the old file (in the
 * kernel, copy_file_range, never through memory) and "]", then fsync and rename. The
 * file thus holds between max_entries and max_entries + slack cycles, and the rewrite's
 * cost, spread over the slack cycles between two rewrites, is 8 cycles' bytes a cycle.
 *
 * A crash in the middle of an append leaves a cut-off last element (and no "]"): the
 * loader keeps every complete cycle, rewrites the file without the partial one and warns
 * how many it kept. A file someone else changed (deleted, replaced, edited: its inode,
 * size or mtime is not what we left) is loaded again before the next append, never
 * appended to blindly. A valid file in another layout (compact JSON, indent 2) is
 * rewritten once in ours, one cycle at a time.
 *
 * One addition: a value we could not read is written as 0 (the reference's own fallback, so
 * its tools parse it) and its name is listed in an "unknown" array of that container; our
 * reader honours the list, so a failed read never comes back as a measured 0.
 *
 * The writer blocks on disk I/O (and an fdatasync a cycle), so it runs on a worker thread
 * (compat/metrics_writer.h). The reader streams the file too (a cycle at a time, whatever its
 * size) and is defensive: a clear error with line and column for malformed JSON (strict
 * JSON, plus the NaN and Infinity Python writes), records with a missing or wrong-typed
 * field skipped and counted, never a crash.
 *
 * Folder: compat/ owns what exists for users of LXC AutoScale ML: its metrics history (this
 * format, compat/metrics_writer.h, compat/metrics_import.h), the suggestions log
 * (compat/suggestions.h), the migration of its configuration (compat/migrate.h).
 * May include: types/ base/ config/ features/ (the table in user/README.md).
 */
#ifndef LXCSCALE_METRICS_FILE_H
#define LXCSCALE_METRICS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MF_DEFAULT_PATH "/var/log/lxc_metrics.json"
#define MF_DEFAULT_MAX_ENTRIES 1000
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

/* Cycles allowed above max_entries before the file is trimmed back: max_entries / 8, >= 1. */
unsigned metrics_file_slack(unsigned max_entries);

/* Nothing is read or written yet; max_entries is 1 .. 1 000 000. NULL on a bad argument. */
struct metrics_file *metrics_file_new(const char *path, unsigned max_entries);
void metrics_file_free(struct metrics_file *mf);
/* Cycles in the file as far as we know (0 before a load). */
unsigned metrics_file_count(const struct metrics_file *mf);

/* Called with a one-line message for what is worth a warning but not an error: a cut-off
 * tail recovered, a file changed behind our back, a foreign layout rewritten. */
typedef void (*mf_warn_fn)(void *ctx, const char *msg);
void metrics_file_on_warning(struct metrics_file *mf, mf_warn_fn fn, void *ctx);

/* Continues the history in `mf`'s path: indexes its cycles without holding them, keeping
 * all of them when the file is in our layout and not longer than max_entries + slack.
 * A missing file is an empty history. A cut-off tail, a longer or foreign-layout file is
 * rewritten right away (complete cycles kept, newest max_entries of them; a warning).
 * Returns 0, or -1 with a message: then the next append loads again, or, when the file
 * could not be read at all or is not a JSON array, starts a new file in its place. */
int metrics_file_load(struct metrics_file *mf, char *err, size_t errlen);

/* Adds one cycle to the file (containers in any order; written sorted as strings, like
 * Python): appended in place, or with the amortised trim rewrite. Loads first when nothing
 * is loaded yet or the file changed behind our back. An empty cycle is not written (the
 * reference writes nothing when no container was collected). Returns 0, or -1 with a
 * message (out of memory, an I/O error: the file is left as it was before the call). */
int metrics_file_append(struct metrics_file *mf, const struct mf_container *c, size_t n,
			const struct mf_summary *summary, char *err, size_t errlen);

struct mf_io_stats {
	uint64_t appends;                   /* cycles written in place */
	uint64_t rewrites;                  /* whole-file rewrites (trim, repair, new file) */
	uint64_t bytes_written;             /* every byte we wrote or copied into a file */
	uint64_t loads;                     /* scans of the file (start, changed behind us) */
};
void metrics_file_io_stats(const struct metrics_file *mf, struct mf_io_stats *st);

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

/* Reads a metrics file, calling `cb` once per accepted snapshot in file order; the whole
 * file is checked first, so a bad one is refused before any callback. Memory: one cycle,
 * not the file. Returns 0, -1 with a message (I/O error, malformed JSON with line:column,
 * not an array), or the callback's non-zero value. `stats` may be NULL. */
int metrics_file_read(const char *path, mf_snapshot_cb cb, void *ctx, struct mf_read_stats *stats,
		      char *err, size_t errlen);

#endif

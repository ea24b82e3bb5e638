/*
 * features/features.h — per-container history and the feature vector the model and the policy see.
 * (Named features/features.h, not features.h: glibc owns <features.h> and -Iuser would shadow it.)
 *
 * Three steps, each a pure function of its inputs:
 *
 *   raw sample (cumulative counters read on the host: cpu.stat, memory.*, io.stat,
 *   veth counters, *.pressure totals, BPF aggregates)
 *        │  features_row_from_raw(prev, cur)       deltas → rates, unknown stays unknown
 *        ▼
 *   row (one value per column: CPU %, memory MiB, I/O sectors/s, stall ms/s, ...)
 *        │  features_push(history, row)            what the features need of the last
 *        │                                         `capacity` rows (not the rows themselves)
 *        ▼
 *   vector (the reference system's 26 features in its alphabetical order, then ours)
 *
 * The reference definitions (docs/reference-compat.md, "Features") are kept exactly: a rolling
 * window of W rows with min_periods 1, sample std (ddof 1, a single value gives 0), rolling
 * max/min, per-process ratios with division by zero giving 0, `time_diff` in seconds since the
 * container's previous row (0 for the first). Two deliberate differences, both from the
 * reference's own defects (docs/reference-compat.md): the trend is the least-squares slope of the
 * rolling-mean series over the newest history_length rows (the reference fitted the container's
 * whole lifetime; once the history is full, the window slides by whole buckets of
 * ceil(history_length / 16) rows, see features/features.c), and I/O and network are rates per
 * second rather than counters since boot.
 *
 * Every value carries a known bit. A column whose input could not be read (a missing file, a
 * counter that went backwards, the first sample of a rate) is unknown, never 0; a feature is
 * known only when everything it is computed from is known. features_project() refuses a
 * vector in which a selected feature is unknown, so such a sample never reaches the model.
 *
 * Folder: features/ owns each container's sample history and its feature vector.
 * May include: types/ base/ config/ (the table in user/README.md).
 */
#ifndef LXCSCALE_FEATURES_H
#define LXCSCALE_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- raw samples ------------------------------------------------------------------------ */

enum feat_raw_field {
	RAW_CPU_USAGE = 0,  /* cpu.stat usage_usec */
	RAW_CPU_CORES,      /* allowed CPUs: cpu.max quota/period, else cpuset size */
	RAW_MEM,            /* memory.current and memory.stat file */
	RAW_SWAP,           /* memory.swap.current */
	RAW_SWAP_TOTAL,     /* memory.swap.max (or the assumed total when "max") */
	RAW_IO,             /* io.stat rbytes/wbytes summed over devices */
	RAW_NET,            /* host-side veth rx/tx bytes */
	RAW_FS,             /* statvfs of the container's root */
	RAW_PIDS,           /* pids.current */
	RAW_PSI_CPU,        /* cpu.pressure some/full total= */
	RAW_PSI_MEM,
	RAW_PSI_IO,
	RAW_RUNQ,           /* BPF run-queue latency percentiles of the last interval */
	RAW_RECLAIM,        /* BPF cumulative reclaim stall */
	RAW_THROTTLE,       /* cpu.stat nr_periods / nr_throttled */
	RAW_OOM,            /* cumulative OOM kills (memory.events oom_kill, BPF) */
	RAW_FIELD_COUNT
};

#define RAW_BIT(f) (1u << (f))

struct feat_raw {
	int64_t mono_ms;          /* CLOCK_MONOTONIC: every rate and time_diff uses it */
	int64_t wall_ms;          /* CLOCK_REALTIME: only carried along for the metrics file */
	uint32_t known;           /* RAW_BIT(field) for every field that was read */

	uint64_t cpu_usage_usec;
	double cpu_cores;
	uint64_t mem_current, mem_file;           /* bytes */
	uint64_t swap_current, swap_total;        /* bytes */
	uint64_t io_rbytes, io_wbytes;
	uint64_t net_rx_bytes, net_tx_bytes;
	uint64_t fs_total_bytes, fs_free_bytes, fs_used_bytes;
	uint64_t pids;
	uint64_t psi_total_us[3][2];              /* [cpu, memory, io][some, full] */
	double runq_p50_us, runq_p99_us;
	uint64_t reclaim_stall_us;
	uint64_t nr_periods, nr_throttled;
	uint64_t oom_kills;
};

/* ---- rows: one sample's values after the deltas -------------------------------------------- */

enum feat_col {
	COL_CPU = 0,        /* cpu_usage_percent: % of the allowed CPUs, 0..100 */
	COL_MEM,            /* memory_usage_mb: (current - file) MiB */
	COL_SWAP,           /* swap_usage_mb */
	COL_SWAP_TOTAL,     /* swap_total_mb */
	COL_PROCS,          /* process_count */
	COL_IO_READS,       /* io_reads: 512-byte sectors read per second */
	COL_IO_WRITES,      /* io_writes: sectors written per second */
	COL_NET_RX,         /* network_rx_bytes: bytes received per second */
	COL_NET_TX,         /* network_tx_bytes: bytes sent per second */
	COL_FS_USED,        /* filesystem_usage_gb (GiB) */
	COL_FS_TOTAL,
	COL_FS_FREE,
	COL_PSI_CPU_SOME,   /* stall ms per second of wall time */
	COL_PSI_CPU_FULL,
	COL_PSI_MEM_SOME,
	COL_PSI_MEM_FULL,
	COL_PSI_IO_SOME,
	COL_PSI_IO_FULL,
	COL_RUNQ_P50,       /* µs */
	COL_RUNQ_P99,
	COL_RECLAIM,        /* reclaim stall ms per second */
	COL_THROTTLED,      /* Δnr_throttled / Δnr_periods, 0..1 */
	COL_OOM,            /* OOM kills since the previous row */
	COL_COUNT
};

#define COL_BIT(c) (1u << (c))

struct feat_row {
	int64_t mono_ms, wall_ms;
	uint32_t known;              /* COL_BIT(c) */
	double v[COL_COUNT];
};

/*
 * Turns two consecutive raw samples of one container into a row. Returns false (and leaves
 * `out` untouched) when there is no usable previous sample (prev NULL, or time not moving
 * forward): the first sample of a container only sets the baseline for its rates.
 */
bool features_row_from_raw(const struct feat_raw *prev, const struct feat_raw *cur,
			   struct feat_row *out);

/* A row's value of one column into *v. False (v untouched) when the row is NULL or does not
 * know that column. */
bool features_row_col(const struct feat_row *r, enum feat_col c, double *v);

/* ---- the feature vector ------------------------------------------------------------------ */

enum feat_index {
	/* the reference's 26, in its order (pandas Index.difference sorts them) */
	F_CPU_MEMORY_RATIO = 0, F_CPU_PER_PROCESS, F_CPU_TREND, F_CPU_USAGE_PERCENT,
	F_FS_FREE_GB, F_FS_TOTAL_GB, F_FS_USAGE_GB, F_IO_READS, F_IO_WRITES,
	F_MAX_CPU, F_MAX_MEMORY, F_MEMORY_PER_PROCESS, F_MEMORY_TREND, F_MEMORY_USAGE_MB,
	F_MIN_CPU, F_MIN_MEMORY, F_NET_RX_BYTES, F_NET_TX_BYTES, F_PROCESS_COUNT,
	F_ROLLING_MEAN_CPU, F_ROLLING_MEAN_MEMORY, F_ROLLING_STD_CPU, F_ROLLING_STD_MEMORY,
	F_SWAP_TOTAL_MB, F_SWAP_USAGE_MB, F_TIME_DIFF,
	/* pressure features (ours) */
	F_PSI_CPU_SOME_MS, F_PSI_CPU_FULL_MS, F_PSI_MEMORY_SOME_MS, F_PSI_MEMORY_FULL_MS,
	F_PSI_IO_SOME_MS, F_PSI_IO_FULL_MS, F_RUNQ_P50_US, F_RUNQ_P99_US,
	F_RECLAIM_STALL_MS, F_THROTTLED_RATIO, F_OOM_KILLS,
	FEAT_COUNT
};

#define FEAT_REFERENCE_COUNT 26

struct feat_vector {
	uint64_t known;              /* 1ull << feat_index */
	double v[FEAT_COUNT];
};

const char *features_name(unsigned index);     /* NULL when out of range */
int features_index(const char *name);           /* -1 when unknown */

/* ---- history ---------------------------------------------------------------------------- */

struct feat_history;

/* capacity: rows the trend looks back over (history_length, ≥ 2); window: the reference's
 * rolling_window W (1..capacity). Memory is about 2 KB + 24 bytes × W, whatever the
 * capacity. Returns NULL on a bad argument or out of memory. */
struct feat_history *features_history_new(unsigned capacity, unsigned window);
void features_history_free(struct feat_history *h);
void features_history_clear(struct feat_history *h);
/* Rows the trend currently covers: every row pushed until `capacity`, then between
 * capacity - ceil(capacity / 16) + 1 and capacity. */
unsigned features_history_count(const struct feat_history *h);
const struct feat_row *features_history_last(const struct feat_history *h); /* NULL if empty */
/* The newest raw sample fed (the baseline of the next row's rates); NULL before the first. */
const struct feat_raw *features_history_raw(const struct feat_history *h);

/* Appends a row (the oldest rows drop out of the trend when full). O(W). */
void features_push(struct feat_history *h, const struct feat_row *row);

/*
 * Convenience for the sampler: keeps the previous raw sample inside the history, makes a
 * row from it and pushes it. Returns true when a row was pushed.
 */
bool features_feed_raw(struct feat_history *h, const struct feat_raw *raw);

/* The vector for the newest row; all unknown when the history is empty. */
void features_compute(const struct feat_history *h, struct feat_vector *out);

/* ---- which features feed the model ------------------------------------------------------ */

struct feat_select {
	unsigned n;
	uint8_t index[FEAT_COUNT];   /* ascending, i.e. the canonical order */
};

/* The default model input: the reference's 26 but time_diff (25), so a model can be seeded
 * from a reference metrics file (which has no pressure data). time_diff stays computed (the
 * replay's reference policy and model.features can use it) but is the sampler's cadence here,
 * not the workload's. The pressure features feed the policy always and the model when
 * configured. */
void features_select_default(struct feat_select *s);

/* From names (any order, duplicates ignored). Returns 0, or -1 with a message naming the
 * first unknown feature. */
int features_select_names(struct feat_select *s, const char *const *names, size_t n,
			  char *err, size_t errlen);

/* Copies the selected features into out[s->n]. Returns false (out partly written) when one
 * of them is unknown; then the sample must not be fed to the model. */
bool features_project(const struct feat_vector *v, const struct feat_select *s, double *out);

/* Name of the first selected feature that is unknown in v, or NULL. For log lines. */
const char *features_first_unknown(const struct feat_vector *v, const struct feat_select *s);

#endif

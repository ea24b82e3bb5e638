/*
 * sim/reference_loop.h — one cycle of the reference system's model loop, as it runs.
 *
 * The "reference" column of `lxcscale replay` must decide what LXC AutoScale ML itself
 * decides on the same history, defects included, since that is what its users got. Its loop
 * (docs/reference-compat.md, "Features", "Model and confidence", "The decision rule") does,
 * once per `interval_seconds`:
 *
 *   1. read the metrics file as it is now: every record of its last max_metrics_entries
 *      snapshots, in file order, one row each (ids as strings, swap defaulting to 0);
 *   2. turn the rows into its 26 features, per container in file order: the per-process and
 *      cpu/memory ratios (0 where the divisor is 0), time_diff, rolling mean / sample std /
 *      max / min over W rows with a partial window (computed as pandas does: online, with
 *      Kahan sums and its "same value W times gives exactly that value" rule), and the
 *      cpu/memory trend = ONE least-squares slope of the rolling mean over the container's
 *      whole retained history, put on every one of its rows; I/O and network stay raw
 *      cumulative counters, memory is memory_usage_mb (swap is a feature of its own,
 *      never part of memory);
 *   3. stop when the newest timestamp is older than max_metrics_age_seconds (and when a
 *      figure is NaN or infinite, which sklearn refuses to train on);
 *   4. train ONE StandardScaler + IsolationForest on the rows of all containers together
 *      (its contamination, n_estimators, max_samples, random_state) and keep the training
 *      rows' |decision_function|;
 *   5. evaluate only the containers whose row carries the newest timestamp of the whole
 *      frame. The monitor stamps each container when its own collection ends, so with real
 *      timestamps that is one container per cycle: a defect of the reference, reproduced
 *      (ignore_lxc is not applied: a replay shows every container, in both columns);
 *   6. for each: skip it when its allocation is unknown; score its last row (in file
 *      order): confidence = 100 · mean(training |decision| <= its |decision|); the rule:
 *      CPU % and memory % (memory_usage_mb / allocated MB) against the thresholds, the new
 *      value cur + step clamped to max (Scale Up) or cur - step clamped to min (Scale Down),
 *      so a container below min_cpu_cores is RAISED by "Scale Down" and one above the max
 *      LOWERED by "Scale Up"; a new value equal to the current one is no action; then
 *      nothing when neither resource acts, nothing when confidence < min_confidence.
 *
 * The model is sim/sklearn_forest.h: scikit-learn's own trees for the same seed, not the
 * iforest library's (which draws its own random streams, so its trees are sklearn's only in
 * distribution), because a confidence is a rank among the training rows and only the same
 * trees give the same ranks. The confidence is computed here from every training row.
 *
 * What a cycle reads is a struct ref_history: the snapshots a metrics file holds (or that a
 * replay makes up from its container model), each with its records. Pure and single-threaded:
 * the same history gives the same verdicts, byte for byte.
 *
 * Folder: sim/ owns the replay simulator: scenarios, demand traces, the container model, the
 * replay of a policy, the reference's loop (here), the scorecard; it never touches a real
 * cgroup or Proxmox.
 * May include: types/ base/ config/ features/ score/ decide/ record/ compat/ and iforest/ (the
 * table in user/README.md).
 */
#ifndef LXCSCALE_REFERENCE_LOOP_H
#define LXCSCALE_REFERENCE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "features/features.h"
#include "iforest.h"
#include "types/decision.h"

/* A record's 12 numbers, in the order the reference's loader lists them. */
enum ref_field {
	REF_CPU_PCT = 0,       /* cpu_usage_percent */
	REF_MEMORY_MB,         /* memory_usage_mb: MemTotal - MemAvailable, no swap */
	REF_SWAP_MB,           /* swap_usage_mb */
	REF_SWAP_TOTAL_MB,     /* swap_total_mb */
	REF_PROCESSES,         /* process_count */
	REF_IO_READS,          /* io_stats.reads: cumulative sectors */
	REF_IO_WRITES,
	REF_NET_RX,            /* network_usage.rx_bytes: cumulative */
	REF_NET_TX,
	REF_FS_USAGE_GB,
	REF_FS_TOTAL_GB,
	REF_FS_FREE_GB,
	REF_FIELD_COUNT
};

/* One container's entry in one snapshot: one row of the reference's frame. */
struct ref_record {
	uint32_t vmid;
	int64_t t_us;          /* its own timestamp, µs since the epoch */
	double v[REF_FIELD_COUNT];
};

struct ref_snapshot {
	size_t first, n;       /* its records: rec[first .. first + n) */
	int64_t written_us;    /* when the monitor had it in the file: its newest record's stamp */
};

/* The snapshots of a metrics file in file order. */
struct ref_history {
	struct ref_record *rec;
	size_t n_rec, cap_rec;
	struct ref_snapshot *snap;
	size_t n_snap, cap_snap;
	size_t dropped;        /* snapshots ref_history_keep_last() let go (not counted in n_snap) */
};

void ref_history_init(struct ref_history *h);
void ref_history_free(struct ref_history *h);
/* Appends one snapshot of n records (n may be 0: nothing is added). 0, or -1 out of memory. */
int ref_history_append(struct ref_history *h, const struct ref_record *r, size_t n);
/* Forgets all but the newest `keep` snapshots (a long replay keeps only what a file would). */
void ref_history_keep_last(struct ref_history *h, size_t keep);
/* How many snapshots, from the first, were in the file at `now_us`: the prefix whose
 * written_us are all <= now_us. */
size_t ref_history_visible(const struct ref_history *h, int64_t now_us);

/* The reference's keys, as its loop reads them. */
struct ref_loop_params {
	double cpu_up_pct, cpu_down_pct, ram_up_pct, ram_down_pct;  /* *_scale_{up,down}_threshold */
	double cpu_step, ram_step_mb;                               /* cpu_scale_step, ram_scale_step_mb */
	double min_cores, max_cores, min_ram_mb, max_ram_mb;        /* min/max_cpu_cores, min/max_ram_mb */
	double min_confidence;                                      /* 0..100 */
	unsigned rolling_window;                                    /* spike_detection.rolling_window */
	int n_trees, max_samples;                                   /* model.n_estimators, max_samples */
	double contamination;                                       /* model.contamination */
	uint64_t seed;                                              /* model.random_state */
	unsigned max_snapshots;        /* the monitor's max_metrics_entries: the file's last ones */
	int64_t max_age_us;            /* max_metrics_age_seconds; <= 0: never stale */
};

/* The reference's defaults (the shipped lxc_autoscale_ml.yaml, 600 s cycle). */
void ref_loop_params_default(struct ref_loop_params *p);

/* What the reference's API would say a container holds: false when it does not know
 * (the config has no `cores:` or `memory:`), and the container is skipped. */
typedef bool (*ref_allocation_fn)(void *ctx, uint32_t vmid, double *cores, double *ram_mb);

/* The loop's view of one evaluated container. */
struct ref_verdict {
	uint32_t vmid;
	bool allocation_known;          /* false: skipped before scoring, nothing below is set */
	double cores, ram_mb;           /* the allocation it decided from */
	double cpu_pct, mem_pct;        /* the rule's inputs */
	iforest_result model;           /* score (score_samples), decision, predict; confidence the
	                                   reference's way */
	struct decision_feature top[DECISION_TOP_FEATURES];
	enum decision_change cpu, ram;  /* Scale Up / Scale Down / none, after "equal is no action" */
	double new_cores, new_ram_mb;   /* the targets (the current values when none) */
	bool held_by_confidence;        /* it wanted to act, confidence < min_confidence */
	bool acts;                      /* the reference would POST its targets */
};

enum ref_cycle_status {
	REF_CYCLE_DONE = 0,             /* trained, the newest containers evaluated */
	REF_CYCLE_NO_DATA,              /* nothing in the file yet */
	REF_CYCLE_STALE,                /* the newest row is older than max_age_us */
	REF_CYCLE_UNTRAINABLE,          /* a NaN or infinite figure: sklearn refuses the frame, and
	                                   the reference skips the cycle */
};

struct ref_cycle {
	enum ref_cycle_status status;
	size_t rows;                    /* rows of the frame the model trained on */
	const struct ref_verdict *v;    /* evaluated containers, in the reference's order; valid
	                                   until the next cycle or ref_loop_free */
	size_t n;
};

struct ref_loop;

/* NULL when out of memory or the params are unusable (no window, no trees). */
struct ref_loop *ref_loop_new(const struct ref_loop_params *p);
void ref_loop_free(struct ref_loop *L);

/* One cycle at now_us over the first n_visible snapshots of h (ref_history_visible). 0 with
 * *out filled, or -1 with a message (out of memory, the model refused the frame). */
int ref_loop_cycle(struct ref_loop *L, const struct ref_history *h, size_t n_visible, int64_t now_us,
                   ref_allocation_fn allocation, void *ctx, struct ref_cycle *out,
                   char *err, size_t errlen);

/* The frame the last cycle trained on: rows × FEAT_REFERENCE_COUNT features in the
 * reference's (alphabetical) order, row-major (for tests and the differential check against
 * the reference's own code). NULL before a cycle. */
const double *ref_loop_frame(const struct ref_loop *L, size_t *rows);

/* A verdict that acts as a decision record (types/decision.h) for the replay's output:
 * reason threshold, the reference's actions and targets, its confidence and score. */
void ref_verdict_decision(const struct ref_verdict *v, const struct ref_loop_params *p,
                          int64_t time_ms, struct decision *d);

#endif

/*
 * iforest.h — the one public header of the lxcscale isolation-forest library.
 *
 * An isolation forest with scikit-learn's exact semantics (IsolationForest 1.2.1 behind a
 * StandardScaler), a scalar reference scorer and an AVX2 scorer chosen at run time, per-sample
 * explanations, a streaming model that rebuilds a group of trees at a time from a sliding
 * window and publishes each new model by an atomic pointer swap, a versioned zlib-compressed
 * file format with a checksum, and an importer for forests exported from scikit-learn.
 *
 * Depends on libc, libm, zlib and pthreads only; knows nothing about the daemon.
 *
 * Conventions
 *   - Functions return an `int`: IFOREST_OK (0) or a negative `enum iforest_error`;
 *     functions that count return the count (>= 0) or a negative error.
 *     iforest_strerror() turns any code into a sentence.
 *   - Feature vectors are `double` rows of exactly the model's feature count
 *     (1..IFOREST_MAX_FEATURES). NaN, +-inf, a wrong feature count or zero rows are rejected
 *     with an error; no score is ever produced for them.
 *   - A model is immutable once built: any number of threads may score one model at once.
 *     Scoring never allocates.
 *   - Scores follow scikit-learn exactly:
 *       score_samples = -2^(-E[h(x)] / c(psi))       (lower = more abnormal, in [-1, 0))
 *       decision      = score_samples - offset        (offset -0.5 for contamination "auto")
 *       predict       = decision < 0 ? -1 : +1
 *     where h is the path length with sklearn's c(n) correction and the input is standardised
 *     (z = (x - mean) / scale in double, then rounded to float32) before it meets a threshold.
 *   - confidence = 100 * (fraction of the reference training rows whose |decision| <= this
 *     sample's |decision|): how far from the boundary this sample is compared with training
 *     data (0..100). It measures certainty, not abnormality (the reference system's latest
 *     definition).
 */
#ifndef IFOREST_H
#define IFOREST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IFOREST_MAX_FEATURES 64
#define IFOREST_MAX_TREES    4096
#define IFOREST_GROUP_TREES  8      /* trees per SIMD group and per streaming rebuild */

enum iforest_error {
	IFOREST_OK           =  0,
	IFOREST_E_INVAL      = -1,  /* a parameter is out of range or a pointer is NULL */
	IFOREST_E_NOMEM      = -2,  /* out of memory */
	IFOREST_E_NONFINITE  = -3,  /* the input holds NaN or +-inf */
	IFOREST_E_FEATURES   = -4,  /* feature count does not match the model (or is 0 / > 64) */
	IFOREST_E_EMPTY      = -5,  /* zero rows */
	IFOREST_E_IO         = -6,  /* open/read/write/rename failed (errno is kept) */
	IFOREST_E_TRUNCATED  = -7,  /* model file is shorter than its header says */
	IFOREST_E_MAGIC      = -8,  /* not an lxcscale iforest model file */
	IFOREST_E_VERSION    = -9,  /* model file format version not supported */
	IFOREST_E_CHECKSUM   = -10, /* model file checksum mismatch: corrupted */
	IFOREST_E_CORRUPT    = -11, /* model file decompresses but its content is inconsistent */
	IFOREST_E_PARSE      = -12, /* text input (CSV, sklearn export) is malformed */
	IFOREST_E_NOMODEL    = -13, /* streaming model has no published model yet */
	IFOREST_E_UNSUPPORTED= -14, /* requested kernel not available on this CPU */
};

/* A sentence for any code returned by this library ("unknown error" for others). */
const char *iforest_strerror(int code);

/* ---- training -------------------------------------------------------------------------- */

typedef struct iforest_model iforest_model;

typedef struct {
	int      n_trees;        /* n_estimators; default 100 */
	/* max_samples: "auto" = min(256, n) when both fields are 0;
	 * max_samples > 0: that many rows (capped at n, like sklearn after its warning);
	 * max_samples_fraction in (0, 1]: int(fraction * n) rows (takes precedence).
	 * At most 2^24 rows per tree. */
	int      max_samples;
	double   max_samples_fraction;
	/* contamination: 0 = "auto" (offset -0.5); in (0, 0.5]: offset = numpy's linear
	 * percentile of the training score_samples at 100 * contamination. */
	double   contamination;
	uint64_t seed;           /* random_state: same seed + same data -> byte-identical model */
	/* rows of the training set kept (as sorted |decision|) for confidence: 0 = default 1024,
	 * -1 = every training row; when fewer than n, an evenly spaced subset is used. */
	int      confidence_rows;
} iforest_params;

/* Fill *p with the defaults above (100 trees, auto, auto, seed 0, confidence_rows 0). */
void iforest_params_init(iforest_params *p);

/* Train on a row-major matrix (n_rows x n_features, rows contiguous). The scaler is fitted on
 * all rows; every tree draws psi rows without replacement. *out gets a new model (free it with
 * iforest_model_free). */
int iforest_train(const double *X, size_t n_rows, size_t n_features,
                  const iforest_params *p, iforest_model **out);
int iforest_train_f32(const float *X, size_t n_rows, size_t n_features,
                      const iforest_params *p, iforest_model **out);

/* Models are reference counted: ref adds one reference, free drops one (and frees at zero).
 * NULL is accepted by free. */
const iforest_model *iforest_model_ref(const iforest_model *m);
void iforest_model_free(const iforest_model *m);

typedef struct {
	int      n_features;
	int      n_trees;
	int      max_samples;     /* psi actually used (max_samples_) */
	int      max_depth;       /* ceil(log2(max(psi, 2))) */
	double   offset;          /* offset_ */
	double   contamination;   /* 0 = auto */
	uint64_t seed;
	uint64_t generation;      /* streaming: number of rebuilds published before this model */
	size_t   n_nodes;         /* total nodes of all trees */
	size_t   bytes;           /* heap bytes held by the model (all layouts) */
	size_t   confidence_rows; /* size of the confidence reference table */
	int      simd_layout;     /* 1 when the complete-tree SIMD layout exists (depth <= 10) */
	int      packed_layout;   /* 1: natively trained, thresholds carry the feature index in
	                             their low ceil(log2(n_features)) mantissa bits (one load per
	                             tree level); 0: exact layout (imported sklearn, v1 files) */
} iforest_info;

void iforest_model_info(const iforest_model *m, iforest_info *info);

/* Per-feature importance of the whole model, summing to 1 (all 0 when no tree splits):
 * every split adds (share of the tree's training rows reaching it) x (entropy of its split,
 * in bits) to its feature, i.e. iforest_explain()'s credit averaged over the training rows. */
int iforest_feature_importances(const iforest_model *m, double *out, size_t n_features);

/* ---- scoring --------------------------------------------------------------------------- */

typedef struct {
	double score;       /* score_samples */
	double decision;    /* decision_function */
	int    predict;     /* -1 anomaly, +1 normal */
	double confidence;  /* 0..100 */
} iforest_result;

enum iforest_kernel {
	IFOREST_KERNEL_AUTO   = 0,   /* best available: AVX2 when the CPU has it, else scalar */
	IFOREST_KERNEL_SCALAR = 1,   /* portable reference path */
	IFOREST_KERNEL_AVX2   = 2,   /* single-sample AVX2 kernel, one row at a time */
	IFOREST_KERNEL_AVX2_BATCH = 3, /* 8 rows per vector over blocks of 64 rows; packed
	                                  (natively trained) models only */
	IFOREST_KERNEL_AVX512VL = 4, /* packed models: the single-sample kernel with AVX-512VL
	                                two-source permutes on 256-bit registers */
};

/* One sample -> all four outputs. Never allocates. */
int iforest_score(const iforest_model *m, const double *x, size_t n_features,
                  iforest_result *out);

/* n_rows samples (row-major). All rows are validated first; on error nothing is written. */
int iforest_score_batch(const iforest_model *m, const double *X, size_t n_rows,
                        size_t n_features, iforest_result *out);

/* score_samples only, with an explicit kernel (tests and benchmarks compare kernels).
 * IFOREST_E_UNSUPPORTED when the kernel is not available on this CPU or for this model.
 * AUTO and iforest_score_batch() pick the fastest measured path for the model and CPU (the
 * batch kernel only for packed models with > 32 features on CPUs without AVX-512VL; else the
 * single-sample kernel row by row). Every path agrees with the scalar one to <= 1e-6, and
 * the SIMD paths of one model are bit-identical to each other. */
int iforest_score_samples(const iforest_model *m, enum iforest_kernel k, const double *X,
                          size_t n_rows, size_t n_features, double *scores);

/* The kernel IFOREST_KERNEL_AUTO resolves to on this CPU ("avx2+avx512", "avx2+avx512vl",
 * "avx2" or "scalar"). On Intel, 512-bit AVX-512 is deliberately not used: older Intel
 * servers lower the clock of the whole core (the containers' core) for 512-bit code, so
 * there AVX-512VL's permutes on 256-bit registers look z[feature] up (one instruction per
 * 16 features). On AMD, whose 512-bit units never change the clock, "avx2+avx512" looks z
 * up with one 512-bit permute per 32 features (~9 % more rows/s on the Zen 4 host); the walk
 * itself stays 256-bit. All of them give bit-identical scores. */
const char *iforest_kernel_name(void);

/* ---- explanation ----------------------------------------------------------------------- */

typedef struct {
	int    feature;   /* column index */
	double share;     /* in (0, 1]; shares of all features sum to 1 */
} iforest_contrib;

/* Which features isolated x: along x's path in every tree each split credits its feature
 * with the bits of isolation it gave, log2(training rows in the node / rows in the child x
 * went to) — the depth-weighted split count of the path, weighted by how much each cut
 * narrowed x's neighbourhood. Totals are normalised to shares summing to 1. Writes the top
 * max_out features (largest share first, ties by lower index) and returns how many were
 * written (0 when no tree splits at all). */
int iforest_explain(const iforest_model *m, const double *x, size_t n_features,
                    iforest_contrib *out, size_t max_out);

/* ---- save / load ----------------------------------------------------------------------- */

/* File format v2 (v1 files are still read, as exact-layout models; flag bit 0 of v2 marks
 * the packed layout): a 32-byte little-endian header (magic "LXIF", version, flags, payload
 * sizes, CRC-32 over header and compressed payload) followed by a zlib-compressed payload.
 * Loading validates every size, index and tree link; any failure returns a distinct error
 * (TRUNCATED, MAGIC, VERSION, CHECKSUM, CORRUPT), never a crash or a different model.
 * iforest_save writes PATH.tmp, fsyncs and renames it over PATH. */
int iforest_save(const iforest_model *m, const char *path);
int iforest_load(const char *path, iforest_model **out);
/* In-memory variants: *buf is malloc'ed (free() it). Same model -> same bytes. */
int iforest_save_buffer(const iforest_model *m, void **buf, size_t *len);
int iforest_load_buffer(const void *buf, size_t len, iforest_model **out);

/* ---- scikit-learn import (parity checks) ----------------------------------------------- */

/* Load a forest written by tests/iforest_export_sklearn.py (text: scaler, offset_,
 * max_samples_, and every tree's children/feature/threshold/n_node_samples). Thresholds are
 * rounded down to float32 so that (float)z <= thr32 exactly when z <= the float64 threshold. */
int iforest_import_sklearn(const char *path, iforest_model **out);

/* ---- streaming model ------------------------------------------------------------------- */

typedef struct iforest_stream iforest_stream;

typedef struct {
	iforest_params forest;   /* n_trees, max_samples (int or auto=256; no fraction),
	                            contamination (offset from the confidence rows of the
	                            window), seed; confidence_rows default 256 here. The
	                            scaler is fitted on the first build and kept. */
	int    window;           /* W: rows kept (sliding); default 4096 */
	int    rebuild_every;    /* delta: rows pushed between group rebuilds; default
	                            W / number of groups (the forest turns over once per W) */
	int    warmup;           /* rows needed before the first model; default 256 */
	int    exclude_anomalies;/* 1: rows whose decision < exclude_below are kept out of the
	                            window (an incident must not become "normal") */
	double exclude_below;    /* default -0.1 (score_samples below -0.6 with auto) */
	double drift_rate;       /* when at least this fraction of the last delta rows is
	                            predicted anomalous, the shift is a new regime: exclusion
	                            pauses and the next groups are rebuilt from rows pushed
	                            since then, at 4x the rate; default 0.5 */
} iforest_stream_params;

void iforest_stream_params_init(iforest_stream_params *p);

int  iforest_stream_create(const iforest_stream_params *p, size_t n_features,
                           iforest_stream **out);
/* Frees the stream and its reference to the published model; models still acquired by
 * readers stay valid until they release them. No push/rebuild may run concurrently.
 * Thread use: push from any thread(s), maybe_rebuild from a worker, acquire/release from
 * any number of readers. */
void iforest_stream_free(iforest_stream *s);

enum {
	IFOREST_PUSH_SCORED   = 1,  /* *res was filled from the current model */
	IFOREST_PUSH_STORED   = 2,  /* the row entered the window */
	IFOREST_PUSH_EXCLUDED = 4,  /* kept out as strongly anomalous */
	IFOREST_PUSH_DRIFT    = 8,  /* a regime change is being followed */
};

/* Score x against the current model (when one exists) and add it to the window. Cheap and
 * safe to call from the hot path (one short mutex section, no allocation). Returns a
 * non-negative mask of IFOREST_PUSH_* flags, or a negative error for bad input. */
int iforest_stream_push(iforest_stream *s, const double *x, size_t n_features,
                        iforest_result *res);

/* Do the work that is due: the first full build after warmup, or one group rebuild after
 * every delta rows. Meant for a worker thread; never blocks push for long (rows are copied
 * under the mutex, trees are built outside it). Returns 1 when a new model was published,
 * 0 when nothing was due, or a negative error. */
int iforest_stream_maybe_rebuild(iforest_stream *s);

/* Continue from a saved model (e.g. after a daemon restart): m (same feature count and tree
 * count as the stream, psi no larger than the stream's) is published at once and its scaler
 * adopted; group rebuilds resume once the window holds psi rows. Takes its own reference. */
int  iforest_stream_adopt(iforest_stream *s, const iforest_model *m);

/* Readers: take the current model (NULL before the first build) and give it back when done.
 * Lock-free; a model acquired before a publish stays valid until it is released. */
const iforest_model *iforest_stream_acquire(iforest_stream *s);
void iforest_stream_release(iforest_stream *s, const iforest_model *m);

typedef struct {
	uint64_t pushed, stored, excluded, rebuilds, generation;
	size_t   window_rows;
	int      drift;          /* 1 while a regime change is being followed */
} iforest_stream_stats;

void iforest_stream_get_stats(iforest_stream *s, iforest_stream_stats *st);

/* ---- small tools: CSV tables and AUC --------------------------------------------------- */

typedef struct {
	size_t  rows, cols;
	char  **names;      /* cols header names */
	double *data;       /* rows x cols, row-major */
} iforest_table;

/* Read a CSV file with a header row and numeric cells (plain or gzip, via zlib's gzopen).
 * Lines are bounded (1 MiB), cells must parse completely; on error err gets "line N: why". */
int  iforest_table_read(const char *path, iforest_table *t, char *err, size_t errlen);
void iforest_table_free(iforest_table *t);

/* ROC AUC of `anomaly` (higher = more anomalous) against labels (non-zero = anomaly), with
 * ties counted half (Mann-Whitney). NaN when one class is missing. */
double iforest_auc(const double *anomaly, const int *label, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* IFOREST_H */

/*
 * score/model.h — the daemon's anomaly model: a host-wide streaming isolation forest over every
 * container's feature vectors (as the reference pooled all containers), optional
 * per-container forests, and a worker thread that rebuilds them off the event loop.
 *
 * The loop calls model_score() every tick for every container: scoring is lock-free
 * against the published models (iforest's atomic publication). With train=true the vector
 * also enters the training windows (the daemon does that about once a second per
 * container, so a window spans minutes, not seconds). The worker wakes every 200 ms, does
 * the rebuild work that is due (iforest_stream_maybe_rebuild) and publishes new models; the
 * loop never waits for it.
 *
 * Which model scores a container: its own forest once that has been built, else the
 * host-wide one, else the model loaded from `model_file` at start (so a restart, or a
 * model seeded by `lxcscale import-metrics`, scores from the first tick), else none
 * (confidence 0, no anomaly — the policy's thresholds still work).
 *
 * Persistence: the host-wide model is written to `model_file` at stop, and after every
 * rebuild when `force_save` is set (the reference's --force-save), by iforest_save
 * (tmp + fsync + rename).
 *
 * Folder: score/ owns the anomaly model around the iforest/ library: forests, their rebuild
 * thread, the model file.
 * May include: types/ base/ config/ features/ and iforest/ (the table in user/README.md).
 */
#ifndef LXCSCALE_MODEL_H
#define LXCSCALE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "features/features.h"
#include "iforest.h"
#include "types/decision.h"

/* A container's vector enters the training windows at most this often (about once a
 * second): the daemon and the replay train on the same cadence. */
#define MODEL_TRAIN_EVERY_MS 1000

struct model_opts {
	struct feat_select features;     /* the model's input columns */
	iforest_stream_params host;      /* host-wide stream */
	iforest_stream_params per_ct;    /* per-container streams */
	bool per_container;
	const char *model_file;          /* "" or NULL: not persisted */
	bool force_save;
};

/* From the configuration's model.* keys (see the .c for the mapping). */
void model_opts_from(struct model_opts *o, int n_estimators, int max_samples, double contamination,
		     int random_state, int window, int rebuild_every);

struct model;
struct model_ct;

/* Loads model_file when it exists and has the same feature count (otherwise says why in
 * `note` and starts empty). Returns NULL only on a bad option or out of memory. */
struct model *model_new(const struct model_opts *o, char *note, size_t notelen);
/* Starts the worker thread. Returns 0 or an errno. */
int model_start(struct model *m);
/* Does the rebuild work that is due in the caller's thread (what the worker does every
 * 200 ms), for a caller without a worker: `lxcscale replay` calls it after every sample so
 * a replay is deterministic. Returns the number of models published. */
int model_rebuild_due(struct model *m);
/* Stops the worker, saves the host model when model_file is set, frees everything. */
void model_free(struct model *m);

/* Per-container forest (NULL when per_container is off or out of memory: the host-wide
 * model is used). Remove before the container's state is freed. */
struct model_ct *model_ct_add(struct model *m, uint32_t vmid);
void model_ct_remove(struct model *m, struct model_ct *c);

/* Scores x (features.n values). train: also add it to the training windows.
 * Returns 1 and fills *res when a model scored it, 0 when no model exists yet, or a
 * negative iforest error (bad input). */
int model_score(struct model *m, struct model_ct *c, const double *x, bool train, iforest_result *res);

/* The top features that isolated x under the model that scores c (names from the feature
 * table); fills `top` (unused entries empty). Returns how many were written. */
int model_explain(struct model *m, struct model_ct *c, const double *x,
		  struct decision_feature top[DECISION_TOP_FEATURES]);

struct model_status {
	bool host_built, loaded;
	uint64_t host_generation, host_rows, rebuilds, saves, save_errors;
	size_t per_ct;
};
void model_status(struct model *m, struct model_status *st);

/* What /api/v1/model shows: the host-wide model (or the loaded one before the first
 * build), its shape and feature importances. Any thread. */
struct model_info {
	bool trained, loaded_only;
	unsigned n_features;
	char names[FEAT_COUNT][DECISION_FEATURE_NAME_MAX];
	double importance[FEAT_COUNT];
	unsigned trees, sample_size, window;
	double contamination, threshold;
	uint64_t samples_seen, rebuilds;
	int64_t last_rebuild_ms;          /* wall clock; 0 = never in this run */
	double last_rebuild_duration_ms;
};
void model_info(struct model *m, struct model_info *out);

/* Saves the host model now (worker thread or shutdown); 0, or an iforest error. */
int model_save(struct model *m);

#endif

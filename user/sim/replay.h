/*
 * sim/replay.h — run one policy over one container's demand trace, the way the daemon would.
 *
 * Each step: the container model serves the demand under the limits in force and produces
 * the raw sample the sampler would have read; when the policy samples (every step for
 * lxcscale, every 60 s for the reference's monitor) the sample becomes the policy's row, and
 * when the policy decides (every sample for lxcscale, every interval_seconds for the
 * reference) it decides on its rows. A decision's new limits reach the container model after
 * the policy's lag. The scorecard sees every step.
 *
 * lxcscale goes through the daemon's modules: features/features.c, decide/policy.c with the
 * configuration's values, and the daemon's model module (score/model.c: host-wide +
 * per-container streaming forests), scoring every sample and training on one sample per
 * second as the daemon does; its rebuilds run in line (model_rebuild_due) instead of on the
 * worker thread.
 * The reference is the reference's own loop (sim/reference_loop.h: its features, one forest
 * over all rows, its confidence, its newest-timestamp selection, its rule with its clamps),
 * with the configuration's scaling and model keys. It sees what its monitor would have
 * written, two ways:
 *   - on a history (the reference's lxc_metrics.json) it reads that history itself, every
 *     container's rows together, exactly as its loop would read the file: its decisions are
 *     worked out beforehand over the whole history (sim/reference_plan.h, set as `plan`)
 *     and played here through the container model, which only scores them;
 *   - on a generated scenario or a recording (no plan) its monitor samples the container
 *     model every 60 s (CPU % of the allocation, memory without page cache and without swap,
 *     swap on its own), and it decides on that container's rows alone, closed loop.
 *
 * Everything is single-threaded and seeded: the same trace and configuration give the same
 * decisions, byte for byte.
 *
 * Folder: sim/ owns the replay simulator: scenarios, demand traces, the container model, this
 * replay, the scorecard; it never touches a real cgroup or Proxmox.
 * May include: types/ base/ config/ features/ score/ decide/ record/ compat/ and iforest/ (the
 * table in user/README.md).
 */
#ifndef LXCSCALE_REPLAY_H
#define LXCSCALE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "decide/policy.h"
#include "features/features.h"
#include "score/model.h"
#include "sim/reference_loop.h"
#include "sim/scenarios.h"
#include "sim/scorecard.h"
#include "sim/timeline.h"

enum replay_policy {
	REPLAY_LXCSCALE = 0,
	REPLAY_REFERENCE,
};

struct reference_plan;

struct replay_config {
	enum replay_policy policy;
	struct policy_params params;   /* the policy's parameters in this mode */
	int64_t sample_ms;             /* 0: every step of the trace */
	int64_t cycle_ms;              /* 0: at every sample */
	int64_t lag_ms;                /* decision → limit in force; 0: the next step */
	unsigned history, window;      /* feature history rows, the reference's rolling_window */
	/* lxcscale: the daemon's model */
	struct model_opts model;
	int64_t train_every_ms;        /* a sample enters the training windows this often */
	/* reference: its loop's keys, and on a history the decisions it made there */
	struct ref_loop_params loop;
	const struct reference_plan *plan; /* NULL: decide in the run (closed loop) */
};

const char *replay_policy_name(enum replay_policy p);
int replay_policy_parse(const char *s, enum replay_policy *out); /* 0 or -1 */

/* The two standard set-ups from one configuration (NULL: the built-in defaults, what
 * lxcscaled runs with and no file): both policies get its scaling keys (thresholds, steps,
 * min/max) and model keys, as an admin switching from the reference would configure them;
 * lxcscale also its own keys (cooldowns, smoothing, history, model window).
 * Returns 0, or -1 when cfg is NULL and the defaults cannot be built (out of memory). */
int replay_config_lxcscale(struct replay_config *c, const struct lxcscale_config *cfg);
int replay_config_reference(struct replay_config *c, const struct lxcscale_config *cfg);

/* Runs the trace. Decisions are printed to `decisions` (NULL: not printed), one line each,
 * prefixed with the scenario name and the time since the trace's start. Steps go into
 * `sc` (NULL: not scored). Returns 0, or -1 with a message in err. `n_decisions` (may be
 * NULL) gets the number of decisions made. */
int replay_run(const struct scenario *s, const struct replay_config *c, FILE *decisions,
               struct scorecard *sc, uint64_t *n_decisions, char *err, size_t errlen);

/* replay_run, and every step's demand and limits into tl as well (sim/timeline.h; NULL:
 * none): tl is begun for this trace with at most max_points points per series. An empty tl
 * (out of memory) makes this return -1 with a message, like the scorecard. */
int replay_run_traced(const struct scenario *s, const struct replay_config *c, FILE *decisions,
                      struct scorecard *sc, struct timeline *tl, size_t max_points,
                      uint64_t *n_decisions, char *err, size_t errlen);

#endif

/*
 * decide/params.h — the configuration (config/config.h) turned into what the daemon's parts take:
 * the policy's parameters and tiers, the model's options, the feature selection.
 *
 * Mapping of the keys that are not one-to-one:
 *  - PSI pressure thresholds of the policy are the trigger levels, as stall per second:
 *    psi.memory_stall_ms per psi.window_ms → psi_memory_some_ms (50 ms / 500 ms = 100 ms/s);
 *    psi.cpu_stall_ms likewise for CPU `some` and `full`. So "pressure" means the same thing
 *    whether it woke the daemon through a trigger or showed in a sample.
 *  - scaling.ram_chunk_size / ram_upper_limit (the reference prototype's smallest and largest
 *    memory step) bound ram_scale_step_mb.
 *  - Tier priority for the host budget: tiers listed first in the file win (the first tier
 *    has the highest priority, containers without a tier the lowest).
 *  - spike_detection.rolling_window is the features' rolling window W; history_length the
 *    per-container history; model.features the model's input (empty: the reference's 26).
 *  - bpf.events_per_second is the BPF programs' notify interval: at most that many ring
 *    events per second for one container, event type and CPU (interval = 1 s / value);
 *    bpf.runq_threshold_us / reclaim_threshold_us are the event thresholds.
 */
#ifndef LXCSCALE_DAEMON_CONFIG_H
#define LXCSCALE_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "decide/policy.h"
#include "features/features.h"
#include "score/model.h"

/* Policy parameters for one cfg_scaling block (global or a tier's effective one). */
void policy_params_from_config(const struct lxcscale_config *c, const struct cfg_scaling *s,
			  double priority, struct policy_params *p);

/* The whole policy configuration. `tiers` must hold CFG_TIERS_MAX entries; the result
 * points into `c` (vmid lists) and `tiers`, so both must outlive it. */
void policy_config_from_config(const struct lxcscale_config *c, struct policy_tier *tiers,
			  struct policy_config *pc);

/* Feature selection from model.features. Returns 0, or -1 with a message. */
int features_select_from_config(const struct lxcscale_config *c, struct feat_select *s, char *err, size_t errlen);

/* Model options (the feature selection must be valid). */
void model_opts_from_config(const struct lxcscale_config *c, const struct feat_select *s, struct model_opts *o);

#endif

/*
 * decide/policy.h — from one container's signals to a decision (types/decision.h).
 *
 * The base is the reference rule in its latest form (docs/reference-compat.md, "The decision
 * rule"): CPU % and RAM % of the *current allocation* against up/down thresholds, a fixed step,
 * min/max clamps, `ignore_lxc`, a `min_confidence` gate, an unknown allocation skipped, and no
 * decision whose target equals the current value. Around it, what the reference never did:
 *
 *  - pressure: memory PSI `some`, or CPU throttling by the container's own cpu.max, asks
 *    for more even below the threshold; CPU `some`/`full` stalls count only while the
 *    container uses its allocation (a cgroup's CPU stalls include time lost to neighbours,
 *    which more quota would not give back: docs/kernel-interfaces.md, PSI);
 *  - an OOM kill asks for more memory at once, with a bigger step and no cooldown;
 *  - an anomaly together with pressure raises urgency the same way;
 *  - asymmetric control (Senpai/Autopilot priors): up after `cooldown_up`, down only after
 *    the signal stayed low for `cooldown_down` and no change happened for as long; at most
 *    one change per container per cooldown;
 *  - `smoothing_factor`: an EWMA over the signals, weight of the newest sample (1 = none);
 *  - a host budget: increases are granted by urgency, then tier priority, while they fit;
 *  - tiers: per-container overrides of any key of struct policy_params;
 *  - `target_cpu_load_percent` (the reference prototype's, never used there): a CPU
 *    scale-up sized so the current load would sit at that percentage.
 *
 * Two deliberate differences from the reference: the unknown-allocation skip is per
 * resource (a container whose memory limit is unknown can still get a CPU decision), and a
 * step never moves against its signal (a container above max_cpu_cores under load is left
 * alone rather than "scaled up" to the lower max). The `min_confidence` gate applies to
 * threshold decisions; PSI and OOM decisions rest on measured stalls, not on the model.
 *
 * Everything here is pure: time comes in the input, nothing is read or written.
 *
 * Folder: decide/ owns the policy (here), its parameters from the configuration
 * (decide/params.h) and the one evaluation of a feature row that the daemon and replay share
 * (decide/evaluate.h).
 * May include: types/ base/ config/ features/ collect/ (a container's sampled limits)
 * score/ iforest/ (the model's verdict) (the table in user/README.md).
 */
#ifndef LXCSCALE_POLICY_H
#define LXCSCALE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types/decision.h"

struct policy_params {
	/* the reference's `scaling` keys */
	double cpu_up_pct, cpu_down_pct;        /* cpu_scale_{up,down}_threshold: 75, 30 */
	double ram_up_pct, ram_down_pct;        /* ram_scale_{up,down}_threshold: 75, 30 */
	double cpu_step;                        /* cpu_scale_step: 1 core */
	double ram_step_mb;                     /* ram_scale_step_mb: 512 */
	double min_cores, max_cores;            /* min_cpu_cores 2, max_cpu_cores 4 */
	double min_ram_mb, max_ram_mb;          /* min_ram_mb 1024, max_ram_mb 8192 */
	double min_confidence;                  /* 0..100, 0 */
	/* ours */
	double smoothing_factor;                /* (0, 1]: EWMA weight of the newest sample */
	double cooldown_up_s, cooldown_down_s;  /* 10, 300 */
	double urgent_step_factor;              /* step multiplier when urgent: 2 */
	double psi_cpu_some_ms;                 /* stall ms per second counted as pressure: 100 */
	double psi_cpu_full_ms;                 /* 50 */
	double psi_memory_some_ms;              /* 10 */
	double throttled_ratio;                 /* share of throttled periods: 0.2 */
	double priority;                        /* budget order among equal urgency: 0 */
	double target_cpu_pct;                  /* > 0: a CPU scale-up adds enough cores to bring
	                                           usage to this % (the reference's
	                                           target_cpu_load_percent); 0: the fixed step */
};

/* The reference's defaults plus ours (values above). */
void policy_params_default(struct policy_params *p);

/* Sets one key by its configuration name (the reference's names, e.g.
 * "cpu_scale_up_threshold", and ours, e.g. "cooldown_down"). Returns 0, or -1 with a
 * message for an unknown key or a value outside its range. */
int policy_params_set(struct policy_params *p, const char *key, double value, char *err, size_t errlen);

/* The key names policy_params_set() knows, NULL-terminated (for the config schema). */
extern const char *const policy_param_keys[];

/* Cross-key rules of the reference's start-up validation (down < up, min <= max, ...). */
int policy_params_validate(const struct policy_params *p, char *err, size_t errlen);

struct policy_tier {
	char name[32];
	struct policy_params params;
	const uint32_t *vmids;
	size_t n_vmids;
};

struct policy_config {
	struct policy_params defaults;
	const struct policy_tier *tiers;
	size_t n_tiers;
	const uint32_t *ignore;                 /* ignore_lxc */
	size_t n_ignore;
};

bool policy_ignored(const struct policy_config *c, uint32_t vmid);
/* The tier's params for a member (the first tier listing it), else the defaults. */
const struct policy_params *policy_params_for(const struct policy_config *c, uint32_t vmid);

/* What the policy remembers per container. Zero-initialise, then policy_state_init(). */
struct policy_state {
	bool primed;
	double cpu_pct, mem_mb;                      /* EWMA (memory in MiB) */
	double cpu_some_ms, cpu_full_ms, mem_some_ms, throttled;
	int64_t last_change_ms;                      /* INT64_MIN: never */
	int64_t cpu_low_since_ms, mem_low_since_ms;  /* -1: not low now */
};

void policy_state_init(struct policy_state *s);

struct policy_input {
	uint32_t vmid;
	int64_t now_ms;                 /* monotonic */
	/* Set by a caller that knows more than the config's lists (the daemon: the container's
	 * Proxmox tags): its params (NULL: policy_params_for(vmid)), and left alone even when
	 * ignore_lxc does not name it. */
	const struct policy_params *params;
	bool ignored;

	bool cores_known, ram_known;    /* the current allocation */
	double cores;
	double ram_mb;

	bool cpu_known, mem_known;
	double cpu_pct;                 /* % of the allowed CPUs */
	double mem_mb;                  /* used, page cache excluded */

	bool psi_known;
	double cpu_some_ms, cpu_full_ms, mem_some_ms; /* stall ms per second */
	bool throttle_known;
	double throttled_ratio;
	uint64_t oom_kills;             /* new kills since the previous evaluation */

	bool model_known;               /* a model scored this sample */
	bool anomaly;
	double anomaly_score, confidence;
	struct decision_feature top[DECISION_TOP_FEATURES];
};

/*
 * Updates the container's smoothed signals and decides. Returns true when `out` holds a
 * change (at least one resource UP or DOWN); `out` is always filled with the signals. The
 * caller sets seq, time_ms and dry_run, passes increases through the budget, and calls
 * policy_commit() for a decision it emits.
 */
bool policy_evaluate(const struct policy_config *c, struct policy_state *s,
		     const struct policy_input *in, struct decision *out);

/* Records that `d` was emitted at now_ms: starts the cooldown. */
void policy_commit(struct policy_state *s, const struct decision *d, int64_t now_ms);

/* ---- host budget ------------------------------------------------------------------------ */

struct policy_budget {
	double cores_total, cores_used;     /* total <= 0: unlimited */
	double ram_total_mb, ram_used_mb;
};

/* Configured totals win; a 0 total takes the host's own minus the reserves. */
void policy_budget_init(struct policy_budget *b, double cfg_total_cores, double cfg_total_ram_mb,
			double host_cpus, double host_ram_mb, double reserve_cores,
			double reserve_ram_mb);
/* Adds one container's current allocation (unknown ones are not counted). */
void policy_budget_account(struct policy_budget *b, bool cores_known, double cores,
			   bool ram_known, double ram_mb);
/*
 * Fits a decision's increases into what is left, shrinking an increase to what remains
 * (whole cores, whole MiB) or dropping it; decreases always pass and give back. Returns
 * true when something still changes.
 */
bool policy_grant(struct policy_budget *b, struct decision *d);
/* Grants a tick's decisions: decreases first, then increases by urgency, then priority,
 * then vmid. Reorders `d`; returns how many still change: they come first, in grant
 * order; the refused ones follow (with nothing left to change). */
size_t policy_grant_all(struct policy_budget *b, struct decision *d, size_t n);

#endif

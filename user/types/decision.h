/*
 * types/decision.h — the one record that flows from the policy (or the API) to the actuator,
 * the persister, the logs and the API's /api/v1/decisions.
 *
 * A decision is about one container and carries both resources: a field that does not
 * change is left at its current value with the matching `*_change` set to DECISION_NONE.
 * Every decision says why (reason), how sure the model was (confidence, anomaly score)
 * and which features isolated the sample, so an admin can read what happened and replay it.
 *
 * Folder: types/ owns the plain records that cross folders and threads (this decision; the
 * container snapshot, history point and event in types/snapshot.h), no logic beyond naming
 * values.
 * May include: nothing (the table in user/README.md).
 */
#ifndef LXCSCALE_DECISION_H
#define LXCSCALE_DECISION_H

#include <stdbool.h>
#include <stdint.h>

enum decision_change {
	DECISION_NONE = 0,
	DECISION_UP,
	DECISION_DOWN,
	DECISION_SET, /* manual: an absolute value from the API */
};

enum decision_reason {
	REASON_THRESHOLD = 0, /* the reference rule: usage above/below a threshold */
	REASON_ANOMALY,       /* anomaly together with pressure raised urgency */
	REASON_PSI,           /* a PSI trigger fired */
	REASON_OOM,           /* an OOM kill or memory.events max/oom */
	REASON_MANUAL,        /* a person or a tool through the API / CLI */
	REASON_RECONCILE,     /* start-up: journal replay or config baseline */
};

/* What started the evaluation that made a policy decision: an event that came within
 * DECISION_WAKE_HOLD_MS before it (the first since the container's last decision), else the
 * periodic tick. Manual and reconcile decisions have none. */
enum decision_wake {
	WAKE_NONE = 0,     /* not a policy decision */
	WAKE_TICK,         /* the periodic reading, no event before it */
	WAKE_CPU_PSI,      /* the cpu.pressure trigger */
	WAKE_MEMORY_PSI,   /* the memory.pressure trigger */
	WAKE_MEMORY_EVENTS,/* memory.events changed (high, max, oom) */
	WAKE_BPF_RUNQ,     /* a run-queue delay event from the BPF ring */
	WAKE_BPF_RECLAIM,  /* a reclaim stall event from the BPF ring */
	WAKE_BPF_OOM,      /* an OOM kill seen by BPF */
};
#define DECISION_WAKE_HOLD_MS 1000

#define DECISION_TOP_FEATURES 3
#define DECISION_FEATURE_NAME_MAX 32

struct decision_feature {
	char name[DECISION_FEATURE_NAME_MAX];
	double share; /* share of this feature in isolating the sample, 0..1 */
};

struct decision {
	uint64_t seq;            /* monotonically increasing per daemon run */
	int64_t time_ms;         /* wall clock, ms since the epoch */
	uint32_t vmid;

	enum decision_change cpu_change;
	double cpu_from, cpu_to;         /* cores (may be fractional for cpu.max) */
	enum decision_change mem_change;
	uint64_t mem_from_mb, mem_to_mb; /* MiB */

	enum decision_reason reason;
	double confidence;     /* 0..100, the reference's latest definition */
	double anomaly_score;  /* score_samples: lower = more abnormal */
	bool anomaly;          /* predict() == -1 */
	int urgency;           /* 0 normal, higher = more urgent (bigger step, no cooldown) */
	int priority;          /* the container's tier priority: the host budget's tie-break */
	struct decision_feature top[DECISION_TOP_FEATURES];

	/* the signal values the decision was made on */
	double cpu_pct;        /* CPU % of the current allocation */
	double mem_pct;        /* memory % of the current allocation */
	double cpu_psi_some_ms, mem_psi_some_ms; /* stall ms during the last interval */

	enum decision_wake woken_by;
	int64_t wake_us;       /* from the wake event to the decision's stamp, µs; -1 if none */

	char detail[128];      /* one human line: which signal crossed what, e.g. "cpu 91% > 75%" */

	bool dry_run;          /* logged and written, nothing changed */
	bool persist;          /* persist with pct / REST after the cgroup write */
	char outcome[16];      /* set on emission: what the actuator did ("applied", "failed",
	                          "persist-only", "shrinking", "refused", "dry-run") */
	bool enforced;         /* the running container's cgroup holds the change now (applied,
	                          or shrinking: its CPU part at once, memory as the shrink ends) */
	bool applies_at_start; /* persist-only because the container is stopped: its config
	                          holds the change, which takes effect at its next start */
};

const char *decision_reason_name(enum decision_reason r);
const char *decision_change_name(enum decision_change c);
const char *decision_wake_name(enum decision_wake w);

#endif

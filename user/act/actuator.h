/*
 * act/actuator.h — turns a decision into cgroup limits now and a Proxmox config change soon.
 *
 * For each decision, in this order:
 *   1. journal the change (PENDING, fsync'd); if that fails the decision is refused and
 *      nothing is touched;
 *   2. write the cgroup through cgroup/: CPU as cpu.max, and cpuset.cpus widened (parent
 *      first) when the container needs more CPUs than its set holds; memory growing as
 *      memory.max then memory.high (Proxmox's formula);
 *   3. read the limits back and journal them (APPLIED);
 *   4. hand the values to the persister (one coalesced `pct set` later).
 * A memory shrink is not one write: it becomes a small state machine that the event loop
 * advances with actuator_tick(). Each tick lowers memory.high by one step toward the target
 * while watching memory PSI (some, the stall time of the last tick) and memory.current.
 * When the stall share rises above `shrink_abort_stall` the shrink is abandoned: the old
 * memory.high is restored and the change keeps its old memory size. memory.max follows only
 * once memory.current + headroom fits under the target, so a shrink can never OOM-kill.
 * A container without a cgroup (stopped) gets its change persisted only, like `pct set`
 * on a stopped container; the same holds when it stops between the decision and the write.
 *
 * The actuator runs on the event loop's thread; it never waits for the persister.
 */
#ifndef LXCSCALE_ACTUATOR_H
#define LXCSCALE_ACTUATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "act/journal.h"
#include "cgroup.h"
#include "pve/persister.h"
#include "types/decision.h"

struct actuator_settings {
	uint64_t mem_headroom_bytes;   /* memory.max >= memory.current + this; default 64 MiB */
	uint64_t shrink_step_bytes;    /* memory.high step per tick; default 32 MiB */
	double shrink_abort_stall;     /* abandon when memory "some" stall / wall time of a
	                                  tick exceeds this (0..1); default 0.10 */
	int shrink_max_ticks;          /* give up (restore) after this many ticks; default 600 */
	bool widen_cpuset;             /* default true: the cpuset follows the cores, up and down */
};

void actuator_settings_default(struct actuator_settings *s);

enum actuator_status {
	ACT_APPLIED = 0,   /* cgroup written and read back; persisting queued */
	ACT_SHRINKING,     /* CPU (if any) applied; memory shrink in progress */
	ACT_PERSIST_ONLY,  /* no cgroup (stopped container): persisting queued */
	ACT_DRY_RUN,       /* nothing done on purpose */
	ACT_REFUSED,       /* not journalled (disk full, I/O error) or invalid: nothing done */
	ACT_FAILED,        /* the cgroup write failed; the change is cancelled */
};

struct actuator_outcome {
	enum actuator_status status;
	uint64_t seq;            /* journal seq, 0 when not journalled */
	double cpu_applied;      /* cores as read back (cpu.max); 0 = unknown / unchanged */
	uint64_t mem_applied_mb; /* memory.max as read back; 0 = unknown / unchanged */
	int error;               /* -errno or cg_err of the failure */
	char detail[200];
};

/* What a finished shrink (or any asynchronous end) reports, through actuator_take_events. */
enum actuator_event_kind {
	ACT_EV_SHRINK_DONE = 0,
	ACT_EV_SHRINK_ABANDONED,
	ACT_EV_PERSISTED,
	ACT_EV_PERSIST_FAILED,
	ACT_EV_PERSIST_LOCKED,
	ACT_EV_PERSIST_GONE,     /* its Proxmox config is gone (destroyed): changes dropped */
};

struct actuator_event {
	enum actuator_event_kind kind;
	uint32_t vmid;
	uint64_t seq;
	uint64_t mem_mb;      /* the memory size now in force */
	unsigned cores;
	char detail[256];
};

struct actuator;

/* `persister` may be NULL (nothing is persisted: dry setups and tests of the write path). */
int actuator_new(const struct actuator_settings *s, const cg_hier *h, struct journal *j,
                 struct persister *p, struct actuator **out);
void actuator_free(struct actuator *a);
/* Says whether the container's Proxmox config has a cpulimit (from each config read): a CPU
 * change is then persisted as cores and cpulimit together. */
void actuator_config_has_cpulimit(struct actuator *a, uint32_t vmid, bool has);

/* Applies one decision (see above). Returns 0 when something was done or queued
 * (ACT_APPLIED / ACT_SHRINKING / ACT_PERSIST_ONLY / ACT_DRY_RUN), else a -errno. */
int actuator_apply(struct actuator *a, const struct decision *d, struct actuator_outcome *out);

/* Advances every shrink in progress by one step. Call once per loop tick. */
void actuator_tick(struct actuator *a);

/* Feeds a persister result back: marks the journal (PERSISTED, or CANCELLED for a vanished
 * container) and queues an event. */
void actuator_persisted(struct actuator *a, const struct persist_result *r);

/* Drains persister results (call when persister_eventfd is readable). Returns how many. */
size_t actuator_drain_persister(struct actuator *a);

size_t actuator_take_events(struct actuator *a, struct actuator_event *out, size_t max);
size_t actuator_shrinks(const struct actuator *a);

/* Cores as Proxmox stores them (`cores` is an integer): fractional cpu.max rounds up. */
unsigned actuator_pct_cores(double cores);

const char *actuator_status_name(enum actuator_status s);

#endif

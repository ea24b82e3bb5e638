/*
 * daemon/daemon.h — the daemon's brain on the event loop: sample → features → model → policy →
 * decision, for every container at its own cadence, and at once when the kernel reports
 * pressure.
 *
 * One struct daemon owns all per-container state and is touched only from the loop
 * thread. What it puts in the loop (base/loop.h):
 *   - a timerfd tick every sample_interval_ms: sample the containers due — a hot one (an
 *     event, pressure, usage near a threshold, a decision in the last 5 s) every tick, a
 *     quiet one every cgroup.quiet_sample_interval_ms, an idle one (no use, no stalls)
 *     every cgroup.idle_sample_interval_ms; a quiet reading skips the limit files but every
 *     10th (daemon/tick.c) — update their features, score them, run the policy, grant the
 *     tick's wishes against the host budget (running totals), emit the decisions; a tick
 *     visits only the containers due; every metrics_interval_seconds hand a cycle to the
 *     metrics writer;
 *     every 5 s a systemd STATUS= line (WATCHDOG=1 comes from daemon/main.c's loop timer);
 *   - the container set's inotify fd (cgroup.h): containers come and go;
 *   - per container a memory-pressure and a CPU-pressure PSI trigger and a memory.events
 *     fd: on a wake-up that container is sampled and evaluated at once, off the tick;
 *   - the BPF ring buffer (when the programs load; the daemon runs without them): OOM
 *     kills and long stalls evaluate the container at once, and every tick drains the
 *     per-container run-queue and reclaim aggregates;
 *   - an eventfd for commands from other threads (base/cmdq.h): API, persister, CLI.
 * Threads besides the loop: the model worker (score/model.h) and the metrics writer
 * (compat/metrics_writer.h). Nothing on the loop sleeps or waits for them.
 *
 * Emission (daemon_apply, daemon/emit.c): every decision is logged in the reference's words, appended to
 * the suggestions file, kept as the container's last decision, and — unless dry_run — passed
 * to the apply hook (the actuator). Without a hook nothing can change, so decisions are
 * marked dry_run.
 *
 * Folder: daemon/ owns lxcscaled: main, the wiring of every stage onto the event loop, the
 * tick, actuation hooks, publishing for the REST API.
 * May include: every folder to its left but sim/, and the api/ cgroup/ iforest/ libraries (the
 * table in user/README.md).
 */
#ifndef LXCSCALE_DAEMON_H
#define LXCSCALE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cmdq.h"
#include "base/loop.h"
#include "config/config.h"
#include "types/decision.h"

struct daemon;

struct daemon_opts {
	bool no_bpf;            /* do not try to load the BPF programs (tests, bench) */
	bool no_threads;        /* no model worker / metrics writer (bench of the loop alone) */
	bool no_timer;          /* no tick timer: the caller calls daemon_tick() (bench) */
};

/* Builds everything from the configuration and registers with the loop. Returns NULL with
 * a sentence in err (no cgroup v2, bad feature list, ...). */
struct daemon *daemon_new(const struct lxcscale_config *cfg, struct loop *loop,
			  const struct daemon_opts *opts, char *err, size_t errlen);
/* Unregisters, stops the threads (the model is saved, the metrics history written). */
void daemon_free(struct daemon *d);

/* SIGHUP: takes the new configuration's scaling, policy and output settings. Settings that
 * need a restart (cgroup root, model shape) are reported and kept. The configuration must
 * outlive the daemon or the next reconfigure. */
void daemon_reconfigure(struct daemon *d, const struct lxcscale_config *cfg);

/* The actuator's hook: called on the loop thread for every decision that is not dry-run.
 * Returns 0 when applied (or queued), non-zero when refused. */
typedef int (*daemon_apply_fn)(void *ctx, const struct decision *d);
void daemon_set_apply(struct daemon *d, daemon_apply_fn fn, void *ctx);

/* The single way a decision leaves the daemon (policy or manual): numbers it, logs it,
 * writes the suggestion, records it, and hands it to the apply hook unless dry-run.
 * Returns the hook's result, or 0 for a dry-run decision. */
int daemon_apply(struct daemon *d, struct decision *dec);

/* Not in dry run: open the journal, replay and reconcile it (logged, synchronously, so
 * call it before the loop runs), start the persister and install the actuator as the
 * apply hook. 0, or -errno with a sentence in err (the daemon then only decides). */
int daemon_start_actuation(struct daemon *d, char *err, size_t errlen);
bool daemon_actuating(const struct daemon *d);

/* The REST API's view of the daemon (api.h): thread-safe functions over snapshots the
 * loop publishes each tick; manual limits go through the command queue to the loop. */
struct api_backend;
void daemon_api_backend(struct daemon *d, struct api_backend *b);

/* At shutdown, before the API stops and again in daemon_free(): answers every command still
 * queued with -ECANCELED ("the daemon is stopping") and lets CMD_CALLs free their state
 * (their drop function), so no caller waits for a loop that will not run again. */
void daemon_cancel_commands(struct daemon *d);

/* For other threads: push commands here (CMD_DECISION, CMD_EVALUATE, CMD_CALL, ...). */
struct cmdq *daemon_cmdq(struct daemon *d);

/* One tick, as the timer runs it (bench, tests). */
void daemon_tick(struct daemon *d);

struct daemon_stats {
	uint64_t ticks, samples, rows, fed, scored, decisions, events, event_evaluations;
	uint64_t psi_carried;                        /* samples that carried pressure over */
	uint64_t cpu_from_bpf;                       /* ... and cpu.stat, BPF showing no task ran */
	uint64_t tick_wall_ns, tick_cpu_ns;          /* totals over all ticks */
	uint64_t tick_wall_max_ns;
	size_t containers;
	bool bpf;
};
void daemon_get_stats(struct daemon *d, struct daemon_stats *st);

/* The one-line summary used for systemd's STATUS=. */
void daemon_status_line(struct daemon *d, char *buf, size_t len);

#endif

/*
 * act/act.h — the actuation side as the daemon sees it: five calls.
 *
 *     struct actuate *act;
 *     actuate_start(cfg, hier, &act);          // journal open + replay, reconcile, threads
 *     loop_add_fd(l, actuate_fd(act), EPOLLIN, on_persist, act);   // -> actuate_on_fd(act)
 *     every tick:       actuate_tick(act);     // memory shrinks advance
 *     every decision:   actuate_decision(act, &d, &out);
 *     at exit:          actuate_stop(act);     // one last persist try for queued work
 *
 * It owns the journal (journal_file), the persister (persist.*, circuit_breaker.*,
 * proxmox_api.*), the notifier (notifications.*) and the actuator, logs what they do
 * (base/log.h; API token secrets are registered for redaction), and turns events into
 * notifications: every applied change (NOTIFY_SCALE), every persist that failed a whole
 * round or opened the breaker, and shrinks that were abandoned (NOTIFY_FAILURE).
 * Everything runs on the loop thread except the persister's and notifier's own threads.
 *
 * Folder: act/ owns changing things: journal, actuator, reconcile, notifications, and the
 * settings they take from the configuration (act/options.h).
 * May include: types/ base/ config/ pve/ and the cgroup/ library (the table in user/README.md).
 */
#ifndef LXCSCALE_ACTUATE_H
#define LXCSCALE_ACTUATE_H

#include "act/actuator.h"
#include "act/reconcile.h"
#include "cgroup.h"
#include "config/config.h"
#include "types/decision.h"

struct actuate;

/* 0, or -errno (a journal that cannot be opened: the daemon must not scale without it). */
int actuate_start(const struct lxcscale_config *c, const cg_hier *h, struct actuate **out);
void actuate_stop(struct actuate *a);

int actuate_fd(const struct actuate *a);
void actuate_on_fd(struct actuate *a);
void actuate_tick(struct actuate *a);
int actuate_decision(struct actuate *a, const struct decision *d, struct actuator_outcome *out);
/* actuator_config_has_cpulimit() for the running actuator */
void actuate_config_has_cpulimit(struct actuate *a, uint32_t vmid, bool has);

/* Reload: when notifications.* changed, a new notifier takes the events from now on and
 * the old one sends what was already queued (its own thread, bounded), then stops.
 * Returns 1 restarted, 0 unchanged, or -errno (bad settings: the running notifier stays).
 * The journal, the persister and the actuator keep their settings until the next start. */
int actuate_reconfigure(struct actuate *a, const struct lxcscale_config *c);

/* Called on the loop thread for every actuator event after it is logged (the daemon
 * updates a container's allocation when a shrink ends, re-reads a config once persisted). */
typedef void (*actuate_event_fn)(void *ctx, const struct actuator_event *e);
void actuate_set_event_hook(struct actuate *a, actuate_event_fn fn, void *ctx);

/* Queue depths for metrics (loop thread). */
struct actuate_stats {
	size_t persist_pending;   /* containers queued for pct set / REST */
	size_t shrinks;           /* memory shrinks in progress */
	size_t journal_open;      /* journal changes not yet terminal */
};
void actuate_get_stats(const struct actuate *a, struct actuate_stats *st);

/* What start-up reconciliation did (for the start-up log line and tests). */
const struct reconcile_report *actuate_reconcile_report(const struct actuate *a);
/* The journal's largest seq: the daemon numbers its next decisions after it. */
uint64_t actuate_last_seq(const struct actuate *a);

#endif

/*
 * act/reconcile.h — start-up: make every container's cgroup and Proxmox config agree again.
 *
 * Two passes, before the event loop starts:
 *
 * 1. Journal replay. For each container with open journal changes (a previous run was
 *    killed between the cgroup write and the persist, or during a write):
 *    - the APPLIED changes' latest values are persisted again (one synchronous call);
 *    - a PENDING change (the cgroup may be half-written) is rolled back: the cgroup is set
 *      to the config's values (after the persist above, so those include what was applied);
 *    - when persisting is impossible (locked, failing), the cgroup is set back to the
 *      config's values instead, and the changes are cancelled: the config wins;
 *    - a container without a cgroup (stopped) only needs the persist.
 *    Every change ends PERSISTED or CANCELLED unless neither the persist nor the restore
 *    worked (then it stays open and the report counts it as failed).
 *
 * 2. Baseline. For running containers without open changes: when the cgroup's cpu.max or
 *    memory.max differs from the config (someone ran `pct set` by hand, or edited a file
 *    while the daemon was down), the config is the baseline: the cgroup is set to it.
 *
 * Memory is never set below usage: a restore that would need that (CG_EUNSAFE) leaves
 * memory.max alone and is reported. Every action is logged through the callback.
 */
#ifndef LXCSCALE_RECONCILE_H
#define LXCSCALE_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "act/journal.h"
#include "cgroup.h"
#include "pve/ctconfig.h"
#include "pve/persister.h"

enum reconcile_level { RECONCILE_INFO = 0, RECONCILE_WARN, RECONCILE_ERROR };
typedef void (*reconcile_log_fn)(void *ud, enum reconcile_level level, const char *msg);

struct reconcile_report {
	size_t containers;   /* containers looked at */
	size_t persisted;    /* journal changes persisted now */
	size_t restored;     /* cgroups set back to their config */
	size_t cancelled;    /* journal changes closed without persisting */
	size_t failed;       /* journal changes left open (neither persist nor restore worked) */
	size_t drift;        /* containers whose cgroup differed from their config */
};

struct reconcile_baseline {
	uint32_t vmid;
	struct pve_limits config; /* the config now in force */
	int status;               /* 0, or -errno when the config could not be read */
};

int reconcile_journal(struct journal *j, const cg_hier *h, const struct persist_settings *s,
                      uint64_t mem_headroom, reconcile_log_fn log, void *ud,
                      struct reconcile_report *r);

/* Pass 2 over `vmids` (out may be NULL, else n entries are filled). A container whose
 * config carries `skip_tag` (tags.ignore; NULL or "": none) is left alone, as the caller
 * leaves out those in ignore_lxc. */
int reconcile_baseline(const cg_hier *h, const struct persist_settings *s, const uint32_t *vmids,
                       size_t n, uint64_t mem_headroom, const char *skip_tag, reconcile_log_fn log,
                       void *ud, struct reconcile_report *r, struct reconcile_baseline *out);

#endif

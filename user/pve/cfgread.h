/*
 * pve/cfgread.h — reads containers' Proxmox configs (pve/ctconfig.h: `pct config <vmid>
 * --current` or the REST API) on a worker thread, so the event loop never waits on pct.
 *
 * The loop asks with cfgread_request() (at a container's discovery and after each persist;
 * a vmid already queued is not queued twice) and collects answers with cfgread_take() once
 * per tick. A request carries the caller's tag (the daemon's count of changes applied to
 * the container) and its answer returns it: a read asked before the latest change may
 * have run before that change was persisted, and the caller can tell and drop it. A tag
 * asked again for a vmid still queued replaces the older one (the read has not begun). Requests are bounded: when the queue is full a request is dropped and counted,
 * and the container keeps the allocation it has (cgroup limits or the assumed values).
 */
#ifndef LXCSCALE_CFGREAD_H
#define LXCSCALE_CFGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "pve/pve.h"

struct cfgread;

struct cfgread_result {
	uint32_t vmid;
	uint64_t tag;             /* the request's, as given to cfgread_request() */
	int status;               /* pve_config_read(): 0, -ENOENT, -EIO, -EBADMSG */
	struct pve_limits limits;
	char detail[200];
};

/* Copies the settings. 0 or -errno. */
int cfgread_start(const struct persist_settings *s, size_t max_queued, struct cfgread **out);
/* Stops the worker (waits for a call in progress, bounded by the call timeout). */
void cfgread_stop(struct cfgread *r);
/* 0, or -ENOSPC when the queue is full. */
int cfgread_request(struct cfgread *r, uint32_t vmid, uint64_t tag);
size_t cfgread_take(struct cfgread *r, struct cfgread_result *out, size_t max);

#endif

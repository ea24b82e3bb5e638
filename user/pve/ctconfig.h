/*
 * pve/ctconfig.h — reads a container's limits from its Proxmox config (the baseline).
 *
 * The config is the truth that the cgroup must end up agreeing with: `pct config <vmid>
 * --current` (argv, no shell) or GET /api2/json/nodes/{node}/lxc/{vmid}/config?current=1,
 * whichever backend the persister uses. Only the keys that decide limits are kept, and
 * the hostname, which names the container in the API. Parsing
 * is defensive: an unparsable or out-of-range value is an error, never a guess. The limits
 * struct and the two text parsers are in pve/pve.h, which the persister shares.
 */
#ifndef LXCSCALE_PVE_CONFIG_H
#define LXCSCALE_PVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "pve/pve.h"

/* 0, -ENOENT (no such container), -EIO (pct/HTTP failed), -EBADMSG (unparsable). */
int pve_config_read(const struct persist_settings *s, uint32_t vmid, struct pve_limits *out,
                    char *detail, size_t len);

#endif

/*
 * pve/ctconfig.h — reads a container's limits from its Proxmox config (the baseline).
 *
 * The config is the truth that the cgroup must end up agreeing with: `pct config <vmid>
 * --current` (argv, no shell) or GET /api2/json/nodes/{node}/lxc/{vmid}/config?current=1,
 * whichever backend the persister uses. Only the keys that decide limits are kept, and
 * the hostname, which names the container in the API. Parsing
 * is defensive: an unparsable or out-of-range value is an error, never a guess.
 */
#ifndef LXCSCALE_PVE_CONFIG_H
#define LXCSCALE_PVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "pve/persister.h"

struct pve_limits {
	unsigned cores;     /* 0 = not set (all host CPUs) */
	double cpulimit;    /* 0 = not set (no cpu.max limit) */
	uint64_t memory_mb; /* Proxmox's default 512 when not set */
	char hostname[64];  /* the container's name for people (API, CLI); "" when not set
	                       or not a valid DNS name (not a limit: never an error) */
};

/* 0, -ENOENT (no such container), -EIO (pct/HTTP failed), -EBADMSG (unparsable). */
int pve_config_read(const struct persist_settings *s, uint32_t vmid, struct pve_limits *out,
                    char *detail, size_t len);

/* The parsers, for callers with text in hand (and tests). 0 or -EBADMSG. */
int pve_limits_from_pct_text(const char *text, struct pve_limits *out);
int pve_limits_from_json(const char *text, struct pve_limits *out);

/* The CPU limit the config implies, in cores: cpulimit when set, else cores, else 0 (none). */
double pve_limits_cpu(const struct pve_limits *l);

#endif

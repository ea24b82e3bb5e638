/*
 * pve/pve.h — the words pve/ speaks, shared by every file of the folder and its callers.
 *
 * pve/ owns everything that talks to Proxmox: making a container's config follow its
 * cgroup (pve/persister.h, one coalesced `pct set` or REST PUT per container on a worker
 * thread), reading a container's config back (pve/ctconfig.h, pve/cfgread.h) and the two
 * backends that make one call each (pve/backend.h: pct.c, rest.c). This header holds what
 * those parts have in common: how to reach Proxmox (persist_settings), what a write asks
 * for (persist_target), how a call ended (persist_status) and the limits a config holds
 * (pve_limits) with their parsers. The other pve headers include this one and no sibling,
 * so the folder's headers cannot include each other in a cycle.
 *
 * May include: types/ and base/ (user/README.md has the table for every folder).
 *
 * Defined in: persist_settings_* and persist_status_name in pve/persister.c; the
 * pve_limits parsers in pve/ctconfig.c.
 */
#ifndef LXCSCALE_PVE_H
#define LXCSCALE_PVE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- reaching Proxmox, and how a call ended ----------------------------------------- */

enum persist_backend {
	PERSIST_BACKEND_PCT = 0,
	PERSIST_BACKEND_API,
};

enum persist_status {
	PERSIST_OK = 0,
	PERSIST_LOCKED,
	PERSIST_FAILED,
	PERSIST_GONE,
};

struct persist_settings {
	enum persist_backend backend;
	char pct_path[PATH_MAX];      /* persist.pct_path; "" = "pct" found on PATH */
	int call_timeout_ms;          /* one pct run / one HTTP request; default 30000 */
	int debounce_ms;              /* default 2000 */
	int lock_retry_ms;            /* default 30000 */
	int max_retries;              /* persist.max_retries, default 3 */
	int retry_delay_ms;           /* persist.retry_base_ms (doubled each retry), default 2000 */
	bool breaker_enabled;         /* circuit_breaker.enabled, default true */
	int breaker_failure_threshold;/* circuit_breaker.failure_threshold, default 3 */
	int breaker_timeout_ms;       /* circuit_breaker.timeout_seconds × 1000, default 1800 s */

	/* proxmox_api.* */
	char api_url[512];            /* e.g. https://127.0.0.1:8006 */
	char api_node[512];            /* node name as in /nodes/{node} */
	char api_token_id[512];       /* USER@REALM!TOKENID */
	char api_token_secret[512];
	bool api_verify_tls;          /* default true */
	char api_ca_file[PATH_MAX];   /* "" = the system store */
};

/* Fills the defaults above (API fields empty, verify_tls on). */
void persist_settings_default(struct persist_settings *s);
/* 0, or -EINVAL with a reason in `why` (bad numbers, API backend without url/node/token,
 * characters in the node or token that do not belong there). */
int persist_settings_check(const struct persist_settings *s, char *why, size_t len);

struct persist_target {
	uint32_t vmid;
	bool set_cores;
	unsigned cores;               /* 1..8192 */
	double cpulimit;              /* with set_cores: > 0 also persists cpulimit (0..8192) */
	bool set_memory;
	uint64_t memory_mb;           /* 16..(1 << 30) */
	uint64_t upto_seq;            /* highest journal seq these values include */
};

const char *persist_status_name(enum persist_status st);

/* ---- the limits a container's config holds ------------------------------------------ */

struct pve_limits {
	unsigned cores;     /* 0 = not set (all host CPUs) */
	double cpulimit;    /* 0 = not set (no cpu.max limit) */
	uint64_t memory_mb; /* Proxmox's default 512 when not set */
	char hostname[64];  /* the container's name for people (API, CLI); "" when not set
	                       or not a valid DNS name (not a limit: never an error) */
	char tags[512];     /* Proxmox's `tags:` as given ("a;b"); "" when not set; a longer
	                       list is cut at the last whole tag that fits */
};

/* The parsers, for callers with text in hand (and tests). 0 or -EBADMSG. */
int pve_limits_from_pct_text(const char *text, struct pve_limits *out);
int pve_limits_from_json(const char *text, struct pve_limits *out);

/* Whether a tag list ("a;b c,d": Proxmox splits on ';', ',' and spaces) holds `tag`,
 * compared as Proxmox does, ignoring case. An empty `tag` is never found. */
bool pve_tags_has(const char *tags, const char *tag);
/* The first tag starting with `prefix` (ignoring case) and longer than it: what follows
 * the prefix goes to `out`. false when none fits, or `prefix` is empty. */
bool pve_tags_suffix(const char *tags, const char *prefix, char *out, size_t len);
/* Proxmox's rule for one tag: [A-Za-z0-9_][A-Za-z0-9_+.-]*, at most 127 characters. */
bool pve_tag_valid(const char *tag);

/* The CPU limit the config implies, in cores: cpulimit when set, else cores, else 0 (none). */
double pve_limits_cpu(const struct pve_limits *l);

#endif

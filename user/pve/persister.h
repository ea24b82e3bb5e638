/*
 * pve/persister.h — makes the Proxmox config follow the cgroup: one coalesced
 * `pct set <vmid> --cores N --memory M` (or one REST PUT) per container, on its own thread.
 *
 * The event loop hands over "container X should now be cores N / memory M, covering journal
 * changes up to seq S" with persister_submit(); it never waits. Submissions for the same
 * container are merged (the latest values win, S grows), and a container's call is made
 * `debounce_ms` after its first pending submission, so a burst of decisions costs one call.
 *
 * A call can end four ways:
 *   PERSIST_OK      the config holds the values → the loop marks the journal PERSISTED <= S;
 *   PERSIST_LOCKED  "CT is locked (backup)" or the config flock timed out → retried after
 *                   lock_retry_ms, for as long as it takes; never dropped, never a breaker failure;
 *   PERSIST_FAILED  still failing after max_retries retries with exponential backoff
 *                   (retry_delay_ms × 2^n) → counted by the container's circuit breaker; the
 *                   request stays queued and is tried again one backoff round later, or when
 *                   the breaker's timeout has passed once it opened (failure_threshold in a row);
 *   PERSIST_GONE    the container no longer exists → dropped (the loop cancels its changes).
 * Every outcome is queued as a persist_result and signalled on an eventfd the loop polls
 * (persister_eventfd / persister_take_results). LOCKED and FAILED are reported once per episode.
 *
 * Backends: PERSIST_BACKEND_PCT runs `pct` through proc_run (argv, never a shell, with a
 * timeout that kills the whole process group); PERSIST_BACKEND_API sends
 * PUT {url}/api2/json/nodes/{node}/lxc/{vmid}/config with
 * "Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET" through libcurl, TLS verified
 * unless verify_tls is false, against ca_file when given.
 */
#ifndef LXCSCALE_PERSISTER_H
#define LXCSCALE_PERSISTER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	bool set_memory;
	uint64_t memory_mb;           /* 16..(1 << 30) */
	uint64_t upto_seq;            /* highest journal seq these values include */
};

struct persist_result {
	uint32_t vmid;
	enum persist_status status;
	uint64_t upto_seq;            /* for OK: journal changes <= this are persisted */
	unsigned cores;               /* the values of the call */
	uint64_t memory_mb;
	int attempts;                 /* calls made for this outcome */
	bool breaker_open;            /* FAILED: the breaker is open now */
	char detail[256];             /* what the backend said, one line */
};

struct persister;

int persister_start(const struct persist_settings *s, struct persister **out);
/* Stops the thread. Entries still queued are tried once more first when flush is true
 * (bounded by each call's timeout); whatever is left is lost from memory but not from
 * the journal, which replays it on the next start. */
void persister_stop(struct persister *p, bool flush);

/* Queues (merges) a target. 0, or -EINVAL for bad values, -ENOMEM. Never blocks on I/O. */
int persister_submit(struct persister *p, const struct persist_target *t);

/* Readable when results are waiting (EFD_NONBLOCK eventfd). */
int persister_eventfd(const struct persister *p);
/* Moves up to `max` results into `out` (oldest first); returns how many. */
size_t persister_take_results(struct persister *p, struct persist_result *out, size_t max);

/* Queued containers (including one in flight). */
size_t persister_pending(struct persister *p);
/* Whether vmid's circuit breaker is open now. */
bool persister_breaker_open(struct persister *p, uint32_t vmid);

/* One call, synchronously, on the caller's thread: what the worker does for each entry.
 * Used by reconcile at start-up and by tests. */
enum persist_status persist_call(const struct persist_settings *s, const struct persist_target *t,
                                 char *detail, size_t detail_len);

const char *persist_status_name(enum persist_status st);

#endif

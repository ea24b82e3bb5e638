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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pve/pve.h"

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

#endif

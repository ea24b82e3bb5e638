/*
 * ratelimit.h — the reference's per-client-IP sliding window (N requests per W seconds),
 * with the fixes its latest version made: only the bookkeeping is locked, idle clients
 * are evicted, and the client table is bounded (when it is full of active clients the
 * least recently seen one is dropped, so memory stays fixed under an address-spraying
 * flood). The local client is exempt (the reference's fix for its issue #3): exactly the
 * addresses the reference exempts, 127.0.0.1 and ::1 (and ::ffff:127.0.0.1, the form
 * 127.0.0.1 takes on a dual-stack socket), not the rest of 127.0.0.0/8.
 */
#ifndef LXCSCALE_API_RATELIMIT_H
#define LXCSCALE_API_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

struct rl_verdict {
	bool allowed;
	unsigned limit;
	unsigned remaining;        /* after this request */
	int64_t reset_epoch_s;     /* X-RateLimit-Reset: when the oldest counted request leaves */
	unsigned retry_after_s;    /* when refused: int(window - (now - oldest)) + 1 */
};

/* max: requests per window (1..1000000); window_s: 1..86400; max_clients: table bound. */
struct ratelimit *ratelimit_new(unsigned max, unsigned window_s, size_t max_clients);
void ratelimit_free(struct ratelimit *rl);

/* Count one request from `ip` at monotonic time mono_ms (wall_ms only feeds the Reset
 * header). A refused request is not counted. */
void ratelimit_check(struct ratelimit *rl, const char *ip, int64_t mono_ms, int64_t wall_ms,
		     struct rl_verdict *v);

size_t ratelimit_clients(struct ratelimit *rl);

/* 127.0.0.1, ::1 and ::ffff:127.0.0.1 (the name keeps its history: it is the exemption) */
bool ratelimit_is_loopback(const char *ip);

#endif

/*
 * daemon/publish.h — what the event loop publishes for other threads (the REST API's
 * libmicrohttpd threads): the containers as of the last tick, each container's recent
 * history, the last decisions, counters, and a subscription list for live events.
 *
 * The loop owns all daemon state and never shares it. Instead it copies what readers may
 * see into this store, under one short mutex per part; readers copy out under the same
 * mutex and never see loop state. Writers: the loop thread only. Readers: any thread.
 * Subscribers' callbacks run on the loop thread while the subscriber list is locked, so
 * pub_unsubscribe() returns only once no callback for that handle is running or can start.
 */
#ifndef LXCSCALE_DAEMON_PUB_H
#define LXCSCALE_DAEMON_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "types/decision.h"
#include "types/snapshot.h"

struct daemon_pub;

/* history_points per container (a ring that grows to it; points stored compactly, see
 * daemon/publish.c), decisions kept (ring). NULL on ENOMEM. */
struct daemon_pub *pub_new(size_t history_points, size_t decisions_max);
void pub_free(struct daemon_pub *p);

/* Loop-wide figures for /metrics, replaced as a whole each tick. */
struct pub_stats {
	uint64_t ticks, samples, decisions, events;
	double tick_avg_ms, tick_max_ms;
	bool bpf;
	uint64_t bpf_drops;
	bool actuation;               /* journal + actuator + persister running */
	size_t persist_pending;       /* containers queued for pct set / REST */
	size_t shrinks;               /* memory shrinks in progress */
	size_t journal_open;          /* journal changes not yet persisted */
	struct api_host host;         /* GET /api/v1/host */
};

/* ---- loop thread ---- */
/* The container list, built in place: begin (room for n; -ENOMEM keeps the previous list),
 * put each container at 0 <= i < n, commit (readers see the new list from then on). */
int pub_list_begin(struct daemon_pub *p, size_t n);
void pub_list_put(struct daemon_pub *p, size_t i, const struct ct_snapshot *c);
void pub_list_commit(struct daemon_pub *p, size_t n, const struct pub_stats *st);
/* The same from an array. */
void pub_containers(struct daemon_pub *p, const struct ct_snapshot *list, size_t n,
		    const struct pub_stats *st);
/* The daemon's health checks (replaced as a whole) and a copy of them for any thread. */
void pub_set_health(struct daemon_pub *p, const struct api_health *h);
void pub_get_health(struct daemon_pub *p, struct api_health *out);
/* Only the loop-wide figures, between two container lists. */
void pub_set_stats(struct daemon_pub *p, const struct pub_stats *st);
void pub_get_stats(struct daemon_pub *p, struct pub_stats *out);
void pub_history(struct daemon_pub *p, uint32_t vmid, const struct history_point *pt);
/* A container left: its history and last decision go. */
void pub_forget(struct daemon_pub *p, uint32_t vmid);
/* A decision left the daemon: kept for /api/v1/decisions and sent to subscribers.
 * `outcome` names what the actuator did ("applied", "failed", "dry-run", ...). */
void pub_decision(struct daemon_pub *p, const struct decision *d, const char *outcome);
/* A past decision (the last run's, read back at start): kept for /api/v1/decisions only. */
void pub_decision_history(struct daemon_pub *p, const struct decision *d);
void pub_event(struct daemon_pub *p, const struct ct_event *ev);

/* ---- any thread ---- */
uint64_t pub_generation(struct daemon_pub *p);
int pub_list(struct daemon_pub *p, struct ct_snapshot **out, size_t *n);
/* -ENOENT when the container is not in the last snapshot. */
int pub_get(struct daemon_pub *p, uint32_t vmid, struct ct_snapshot *out,
	    struct history_point **hist, size_t *n_hist);
int pub_decisions(struct daemon_pub *p, uint64_t since, size_t max, struct decision **out, size_t *n);
int pub_subscribe(struct daemon_pub *p, api_event_fn fn, void *arg, uint64_t *handle);
void pub_unsubscribe(struct daemon_pub *p, uint64_t handle);
/* lxcscale_* metrics in Prometheus text format. */
void pub_write_metrics(struct daemon_pub *p, FILE *out);

#endif

/*
 * metrics.h — the API's Prometheus metrics, with every label bounded: `method` is one of a
 * fixed verb list (else "other"), `endpoint` one of the routes (else "unmatched"), `status`
 * one of the codes the API can answer (else "other"), and `container_id` one of at most
 * METRICS_MAX_CONTAINERS ids (later ids share "other"), so a client cannot grow the
 * exposition without bound.
 *
 * One set of counters per route is written twice:
 *   - the reference's series as its metrics.py writes them (same names, HELP texts, label
 *     names in its order, `endpoint` the matched rule's path: "/scale/cores",
 *     "/resource/vm/status", "unmatched"), for the reference's routes and unmatched requests
 *     only: a dashboard built on the reference sees what it saw;
 *   - lxcscale's own, lxcscale_api_requests_total and lxcscale_api_request_duration_seconds,
 *     for every route (/api/v1 and /ui too), `endpoint` the route's stable name
 *     ("scale_cores", "v1_limits").
 */
#ifndef LXCSCALE_API_METRICS_H
#define LXCSCALE_API_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_ROUTES 48
#define METRICS_N_METHODS 8
#define METRICS_N_STATUS 16
#define METRICS_N_BUCKETS 14
#define METRICS_MAX_CONTAINERS 1024

enum metrics_resource { RES_CPU = 0, RES_RAM, RES_STORAGE, RES_N };
enum metrics_action { ACT_SET = 0, ACT_INCREASE, ACT_N };
enum metrics_reason {
	REASON_INVALID_REQUEST = 0, REASON_UNAUTHENTICATED, REASON_FORBIDDEN, REASON_NOT_FOUND,
	REASON_RATE_LIMITED, REASON_COMMAND_FAILED, REASON_N
};

struct metrics_container {
	uint32_t vmid;           /* 0 = the shared "other" row */
	uint64_t actions[RES_N][ACT_N];
	uint64_t failures[RES_N][REASON_N];
	bool has_cores, has_memory;
	double cores;
	double memory_mb;
};

/* A route as the metrics see it: its stable name and, for the reference's routes, the path
 * its metrics label it with (NULL: lxcscale's own route, not in the reference's series). */
struct metrics_route {
	const char *name;
	const char *ref_path;
};

struct api_metrics {
	size_t n_routes;
	const char *route_names[METRICS_MAX_ROUTES]; /* index = route index; last = unmatched */
	const char *ref_paths[METRICS_MAX_ROUTES];   /* NULL: not a reference route */
	_Atomic uint64_t requests[METRICS_N_METHODS][METRICS_MAX_ROUTES + 1][METRICS_N_STATUS];
	_Atomic uint64_t dur_bucket[METRICS_N_METHODS][METRICS_MAX_ROUTES + 1][METRICS_N_BUCKETS];
	_Atomic uint64_t dur_count[METRICS_N_METHODS][METRICS_MAX_ROUTES + 1];
	_Atomic uint64_t dur_sum_ns[METRICS_N_METHODS][METRICS_MAX_ROUTES + 1];

	pthread_mutex_t lock;    /* the container table */
	struct metrics_container containers[METRICS_MAX_CONTAINERS + 1];
	size_t n_containers;
};

void metrics_init(struct api_metrics *m, const struct metrics_route routes[], size_t n_routes);
void metrics_destroy(struct api_metrics *m);

/* route < 0: unmatched */
void metrics_request(struct api_metrics *m, const char *method, int route, int status,
		     int64_t duration_ns);
void metrics_scaling_action(struct api_metrics *m, uint32_t vmid, enum metrics_resource r,
			    enum metrics_action a);
/* vmid 0: the request had no valid id */
void metrics_scaling_failure(struct api_metrics *m, uint32_t vmid, enum metrics_resource r,
			     enum metrics_reason why);
void metrics_container_gauges(struct api_metrics *m, uint32_t vmid, bool has_cores, double cores,
			      bool has_memory, double memory_mb);

/* Prometheus text format 0.0.4. */
void metrics_write(struct api_metrics *m, FILE *out);

#endif

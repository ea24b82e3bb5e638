/*
 * api.h — the REST API server: the reference system's routes (/scale/cores, /snapshot/...,
 * /health/check, /metrics, ...) with its bodies, aliases, envelope and error texts, and
 * lxcscale's own /api/v1 routes, served by libmicrohttpd on its own threads.
 *
 * The server knows nothing about the daemon. Everything it needs from the daemon comes
 * through `struct api_backend`, a table of functions plus an opaque context the daemon
 * fills in. Without a backend the reference routes still work (they run `pct` directly,
 * which is what the reference did) and /api/v1 answers 503.
 *
 * Owns: the HTTP server, its routes, auth, rate limits and JSON. May include: types/ and
 * base/ only (user/README.md), never the daemon's headers.
 *
 * Settings arrive as a plain struct; the daemon maps its configuration (server.*,
 * authentication.*, rate_limiting.*, lxc.*, error_handling.*, api.*) into it
 * (user/daemon/api_settings.c): the server never sees the daemon's configuration.
 *
 * Threads: each connection runs on its own thread (libmicrohttpd thread-per-connection),
 * so a slow `pct` call or a long-lived /api/v1/events stream never stalls other clients.
 * Backend functions are therefore called from several threads at once and must be
 * thread-safe. Connection count, per-IP connections, body size and idle time are bounded.
 */
#ifndef LXCSCALE_API_H
#define LXCSCALE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "types/decision.h"
#include "types/snapshot.h"

/* ---- settings -------------------------------------------------------------------------- */

enum api_log_level { API_LOG_ERROR = 0, API_LOG_WARNING, API_LOG_INFO, API_LOG_DEBUG };

typedef void (*api_log_fn)(void *arg, enum api_log_level level, const char *msg);

struct api_settings {
	const char *host;            /* server.host, default "127.0.0.1" ("::" / "0.0.0.0" allowed) */
	uint16_t port;               /* server.port, default 5000; 0 picks a free port (tests) */

	bool auth_enabled;           /* authentication.enabled */
	const char *const *api_keys; /* authentication.api_keys */
	size_t n_api_keys;

	bool rate_limit_enabled;          /* rate_limiting.enabled, default true */
	unsigned rate_limit_max;          /* rate_limiting.max_requests_per_minute, default 120 */
	unsigned rate_limit_window_s;     /* rate_limiting.time_window_seconds, default 60 */
	size_t rate_limit_max_clients;    /* bounded client table, default 4096 */

	unsigned lxc_timeout_s;      /* lxc.timeout_seconds, default 30 (reference code default) */
	const char *lxc_node;        /* lxc.node: the health check's configuration part */
	bool lxc_node_is_host;       /* lxc.node was empty: lxc_node is this host's name */
	const char *pct_path;        /* NULL: "pct" looked up on PATH at each call */
	const char *pvesh_path;      /* NULL: "pvesh" on PATH */
	const char *pvecm_path;      /* NULL: "pvecm" on PATH */

	bool show_stack_traces;      /* error_handling.show_stack_traces: detailed 500 messages */
	size_t max_body_bytes;       /* api.max_body_bytes, default 65536 */
	const char *tls_cert_file;   /* api.tls_cert_file: PEM; both set => HTTPS */
	const char *tls_key_file;    /* api.tls_key_file */
	bool ui_enabled;             /* api.ui: serve the dashboard under /ui/ (default true) */

	unsigned host_cpus;          /* /api/v1 cores at most this (the reference routes: 1..128); 0: online CPUs */
	unsigned max_connections;    /* default 256 */
	unsigned per_ip_connections; /* default 64; 0 = unlimited */
	unsigned connection_timeout_s; /* idle connection timeout, default 30 */
	unsigned health_cache_s;     /* how long a /health/check probe result is reused, default 10 */

	api_log_fn log;              /* NULL: stderr */
	void *log_arg;
};

/* Fill the defaults listed above. */
void api_settings_defaults(struct api_settings *s);

/* ---- what the daemon provides --------------------------------------------------------- */

/* The records it hands over (struct ct_snapshot, history_point, ct_event) are in
 * types/snapshot.h, shared with the daemon; the requests and the table are here. */

struct api_limits_request {
	uint32_t vmid;
	bool set_cores;
	double cores;
	bool set_memory;
	uint64_t memory_mb;
	bool persist;                /* also `pct set` (through the persister) */
	const char *source;          /* e.g. "POST /scale/cores" for logs and the journal */
	char note[72];               /* the caller's words for the decision's detail ("undo of 42") */
	bool force;                  /* also for a container in ignore_lxc */
	/* cores beyond this host's CPUs (the reference's /scale/cores takes up to 128, Proxmox's
	 * `cores` up to 8192): the cgroup gets the host's CPUs, nothing is persisted, and the
	 * caller writes what was asked to the config itself (`applied` says what the cgroup got:
	 * cpu.to below the asked cores means it was clamped). Without it, such cores are refused. */
	bool clamp_to_host;
};

#define API_MODEL_MAX_FEATURES 64

struct api_model_info {
	bool trained;
	unsigned n_features;
	char feature_names[API_MODEL_MAX_FEATURES][DECISION_FEATURE_NAME_MAX];
	double feature_importance[API_MODEL_MAX_FEATURES]; /* share 0..1, same order */
	unsigned trees;
	unsigned sample_size;        /* max_samples per tree */
	unsigned window;             /* samples the model trains on */
	unsigned config_window;      /* model.window: per container; one host-wide model has 8x */
	bool per_container;          /* model.per_container: a model per container */
	double contamination;
	double threshold;            /* decision threshold on the score */
	uint64_t samples_seen;
	int64_t last_rebuild_ms;     /* wall clock; 0 = never */
	double last_rebuild_duration_ms;
	uint64_t rebuilds;
};

/* Called by the backend from any thread; the API copies the event and returns at once. */
typedef void (*api_event_fn)(void *arg, const struct ct_event *ev);

/*
 * Every function may be NULL (the route then answers 503). Return 0 on success or a
 * negative errno: -ENOENT (no such container), -EINVAL (refused: message in err),
 * -EBUSY (locked / in progress), anything else is an internal error.
 * Arrays returned through out-pointers are malloc()ed by the backend and free()d by the API.
 */
/* One part of GET /health/check as the daemon sees it. "unavailable" is what this host
 * cannot do (no cpu controller delegated, a kernel without BPF): the daemon works around
 * it and stays healthy; "failed" is something broken that an admin must fix. */
enum api_health_state { API_HEALTH_OK = 0, API_HEALTH_OFF, API_HEALTH_UNAVAILABLE, API_HEALTH_FAILED };
#define API_HEALTH_MAX 6
struct api_health {
	unsigned n;
	struct {
		char name[24];       /* "cgroup", "bpf", "journal" */
		enum api_health_state state;
		char detail[200];
	} c[API_HEALTH_MAX];
};
const char *api_health_state_name(enum api_health_state s);

/* The host as the daemon's policy sees it (GET /api/v1/host): its size and the budget
 * the policy grants from (scaling.total_cores / total_ram_mb, else the host less the
 * reserves), with what the containers have now. */
struct api_host {
	double cpus, memory_mb;               /* this host's */
	double cores_total, cores_allocated;  /* the budget; total <= 0: unlimited */
	double memory_total_mb, memory_allocated_mb;
	double reserve_cores, reserve_memory_mb;
	size_t containers;
	bool dry_run;                         /* every decision only logged (no tier is live) */
	bool actuation;                       /* journal + actuator + persister running */
	bool bpf;
	uint64_t ticks;
};

struct api_backend {
	void *ctx;
	int (*list_containers)(void *ctx, struct ct_snapshot **out, size_t *n);
	/* Optional: a number that changes whenever anything list_containers reports changes
	 * (e.g. incremented once per sampling tick). When set, GET /api/v1/containers
	 * re-encodes only when it moved and serves a copy of the last answer otherwise. */
	uint64_t (*containers_generation)(void *ctx);
	int (*get_container)(void *ctx, uint32_t vmid, struct ct_snapshot *out,
			     struct history_point **history, size_t *n_history);
	/* Goes through decision -> actuator -> persister; returns once the cgroup limits are
	 * written (persisting may still be pending). `applied` describes what was done. */
	int (*apply_limits)(void *ctx, const struct api_limits_request *req,
			    struct decision *applied, char *err, size_t errlen);
	/* Decisions with seq > since, oldest first, at most max. */
	int (*list_decisions)(void *ctx, uint64_t since, size_t max, struct decision **out,
			      size_t *n);
	int (*model_info)(void *ctx, struct api_model_info *out);
	/* Events until unsubscribe(handle). fn must not block (it only copies and wakes).
	 * unsubscribe must wait for a call of fn in progress: once it returns, fn is never
	 * called again for that handle (its arg is freed right after). */
	int (*subscribe)(void *ctx, api_event_fn fn, void *arg, uint64_t *handle);
	void (*unsubscribe)(void *ctx, uint64_t handle);
	/* Append lxcscale_* metrics in Prometheus text format (with # HELP / # TYPE). */
	void (*write_metrics)(void *ctx, FILE *out);
	/* The daemon's own checks for /health/check (cgroup writes, BPF, journal). */
	int (*health)(void *ctx, struct api_health *out);
	/* Optional: GET /api/v1/host. */
	int (*host_info)(void *ctx, struct api_host *out);
};

/* ---- the server ------------------------------------------------------------------------ */

struct api_server;

/* Start listening. `backend` may be NULL; both structs are copied (strings are not: they
 * must outlive the server). Returns NULL and a message in err on failure. */
struct api_server *api_start(const struct api_settings *settings, const struct api_backend *backend,
			     char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
uint16_t api_port(const struct api_server *srv);

/* Ends event streams, stops accepting, waits for the connection threads, frees. */
void api_stop(struct api_server *srv);

/* Does `host` name a loopback address ("127.0.0.0/8", "::1", "localhost")? */
bool api_host_is_loopback(const char *host);

#endif

/*
 * types/snapshot.h — what the daemon tells its readers about a container: the latest
 * snapshot of its limits, use and verdict, the points of its recent history, and the events
 * (decisions, OOM kills, PSI stalls) as they happen.
 *
 * The daemon fills these (daemon/publish.c, daemon/histring.c) and the API server turns them
 * into JSON (api/routes_v1.c). They live here, below both, so that neither side includes
 * the other's headers: the API sees only these plain records and `struct api_backend`.
 */
#ifndef LXCSCALE_SNAPSHOT_H
#define LXCSCALE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "types/decision.h"

struct ct_snapshot {
	uint32_t vmid;
	char name[64];               /* hostname from the config, may be empty */
	bool running;
	bool ignored;                /* watched, never scaled by the policy: ... */
	char ignored_by[16];         /* ... "ignore_lxc" or "tag" (tags.ignore); "" when not */
	char tier[64];               /* the tier it is in (its list or its tag); "" for none */
	int64_t updated_ms;          /* wall-clock ms of the sample below */

	double cores;                /* current CPU limit in cores (cpu.max / cores) */
	uint64_t memory_mb;          /* current memory limit, MiB */
	uint64_t memory_high_mb;     /* memory.high, MiB; 0 when "max" or not known */

	double cpu_pct;              /* CPU use, % of the limit */
	uint64_t memory_used_mb;     /* anon + kernel, page cache excluded */
	double mem_pct;              /* % of the memory limit */
	double cpu_psi_some_avg10;   /* PSI some avg10 (%) */
	double mem_psi_some_avg10;
	double io_psi_some_avg10;
	double cpu_psi_full_avg10, mem_psi_full_avg10; /* PSI full avg10 (%) */
	double runq_p99_us;          /* BPF: worst run-queue wait p99 since the last history point */

	double anomaly_score;        /* lower = more abnormal */
	bool anomaly;

	bool has_last_decision;
	struct decision last_decision;
};

/* One sample of a container's history (GET /api/v1/containers/{vmid}). */
struct history_point {
	int64_t time_ms;
	double cores;
	uint64_t memory_mb;
	double cpu_pct, mem_pct;
	double cpu_psi_some_avg10, mem_psi_some_avg10;
	double anomaly_score;
	double cpu_psi_full_avg10, mem_psi_full_avg10;
	double runq_p99_us;          /* BPF's run-queue wait p99 of the interval; 0 without BPF */
	uint64_t memory_high_mb;     /* 0: "max" or not known */
};

enum ct_event_type { CT_EVENT_DECISION = 0, CT_EVENT_OOM, CT_EVENT_PSI };

struct ct_event {
	enum ct_event_type type;
	int64_t time_ms;
	uint32_t vmid;
	struct decision decision;    /* CT_EVENT_DECISION */
	char resource[16];           /* "cpu", "memory", "io" (PSI/OOM) */
	double value;                /* e.g. PSI stall ms, OOM kill count */
	char detail[128];
};

#endif

/*
 * sim/scenarios.h — labelled demand traces to score policies on.
 *
 * A scenario is one container's demand over time (struct cm_demand per step), its initial
 * allocation, and the labelled incidents in it (kind, start, end). Generated scenarios are
 * a pure function of (name, seed): the same pair gives byte-identical traces on any run.
 * The NAB scenarios take a real EC2 CPU-utilisation series (5-minute points, linearly
 * interpolated to the step) as the container's CPU demand, scaled so 100 % = NAB_REF_CORES,
 * with NAB's own labelled anomaly windows as incidents.
 *
 * An incident is "relievable" when more allocation would end it (a burst, a leak); the
 * noisy-neighbour incidents are not: pressure comes from outside and a resize cannot help.
 */
#ifndef LXCSCALE_SCENARIOS_H
#define LXCSCALE_SCENARIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/container_model.h"

#define SCENARIO_NAME_MAX 64
#define SCENARIO_START_MS 1767225600000LL /* 2026-01-01T00:00:00Z: generated traces start here */
#define NAB_REF_CORES 4.0                 /* NAB's 100 % CPU = this many cores of demand */
#define NAB_STEP_MS 10000                 /* NAB traces are replayed on 10 s steps */

enum incident_kind {
	INCIDENT_CPU_BURST = 0,
	INCIDENT_DIURNAL_PEAK,
	INCIDENT_MEM_LEAK,
	INCIDENT_FORK_STORM,
	INCIDENT_NEIGHBOUR,
	INCIDENT_NAB_ANOMALY,
};

struct scenario_incident {
	enum incident_kind kind;
	int64_t start_ms, end_ms; /* [start, end) */
	bool relievable;
};

struct scenario {
	char name[SCENARIO_NAME_MAX];
	uint32_t vmid;
	int64_t start_ms, step_ms;
	size_t n_steps;
	struct cm_demand *demand;          /* n_steps points; step i covers start + i·step */
	struct scenario_incident *incidents;
	size_t n_incidents;
	double init_cpu_cores, init_mem_mb;
	/* A history's container whose Proxmox config sets no `cores:` or no `memory:`: the
	 * replay assumes init_* for it, the reference's API reports it unknown and its loop
	 * skips the container. Generated scenarios know both. */
	bool alloc_cores_unset, alloc_memory_unset;
	char alloc_from[560];              /* where init_* came from ("" for generated ones) */
	struct cm_params params;
};

const char *incident_kind_name(enum incident_kind k);

/* The generated scenario names, in the standard order. */
size_t scenario_generated_count(void);
const char *scenario_generated_name(size_t i);

/* Generate a named scenario. Returns 0, or -1 with a message in err (unknown name, no memory). */
int scenario_generate(const char *name, uint64_t seed, struct scenario *out, char *err, size_t errlen);

/* Load one NAB series (csv_path: "timestamp,value" rows) with its windows from windows_json
 * (the key is the CSV's file name). Returns 0, or -1 with a message in err. */
int scenario_load_nab(const char *csv_path, const char *windows_json, uint32_t vmid,
                      struct scenario *out, char *err, size_t errlen);

/* The NAB series files (ec2_cpu_utilization_*.csv) in nab_dir, sorted by name. Returns how
 * many were written to names (at most max), or -1 when the directory cannot be read. */
#define NAB_FILE_MAX 128
int scenario_nab_files(const char *nab_dir, char (*names)[NAB_FILE_MAX], size_t max);

/* The shared data directory: $LXCSCALE_SHARED, else $LXCSCALE_TOP/../shared, else
 * /work/shared. Writes the path into buf; returns 0, or -1 when none exists. */
int scenario_shared_dir(char *buf, size_t len);

/* Index of the incident covering time t (the first one if several), or -1. */
int scenario_incident_at(const struct scenario *s, int64_t t_ms);

void scenario_free(struct scenario *s);

#endif

/*
 * sim/replay_input.h — real histories turned into demand traces the replay can score.
 *
 * A recording (lxcscaled --record) holds what each container *got* under the limits of the
 * time; replay needs what it *wanted*. Per container and per interval between two samples:
 *   CPU demand   = used cores (Δusage_usec / Δt); when the container was at its limit and
 *                  throttled, used / (1 - throttled share), the share being the CPU `full`
 *                  stall (psi.c counts cpu.max throttling as full) — the inverse of the
 *                  container model's rule, so a model-made recording comes back unchanged;
 *   neighbour    = CPU `some` stall while below the limit (contention from outside);
 *   memory       = (memory.current - file cache + swap) MiB;
 *   processes    = pids.current.
 * A container capped hard enough may have wanted more than that; nothing measured says how
 * much, so the replay does not invent it. Real histories have no labels: their scorecards
 * have OOM kills, throttling, slack and churn, and no incident figures.
 *
 * A container's allocation (the trace's initial limits, and what the reference's API would
 * report) comes from, per resource, the first of: the history itself (a recording carries
 * it; lxc_metrics.json never does), the container's Proxmox config when the caller read one
 * (`--pve-configs DIR`), the caller's assumption (`--cores`, `--memory`). A config that sets
 * no `cores:` or no `memory:` leaves the assumption in the trace and marks it unset: the
 * reference's API then reports it unknown and its loop skips the container.
 *
 * A reference metrics file also comes back whole, as a struct ref_history (every record of
 * every snapshot, in file order, as the reference's own loader reads them), for the
 * reference column to read as its loop would (sim/reference_plan.h).
 */
#ifndef LXCSCALE_REPLAY_INPUT_H
#define LXCSCALE_REPLAY_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/reference_loop.h"
#include "sim/scenarios.h"

#define REPLAY_INPUT_MAX_CONTAINERS 4096
#define REPLAY_INPUT_MAX_STEPS 20000000 /* per container */

/* One container's allocation as its Proxmox config holds it. */
struct replay_allocation {
	uint32_t vmid;
	double cores;        /* `cores:`; 0 when the config sets none (all host CPUs) */
	double memory_mb;    /* `memory:`; 0 when it sets none */
	char from[256];      /* where it was read, for the messages ("from DIR/104.conf") */
};

struct replay_input_opts {
	double cores, memory_mb;                   /* assumed when nothing else says */
	const struct replay_allocation *configs;   /* any order; NULL with n_configs 0 */
	size_t n_configs;
};

struct replay_input {
	struct scenario *traces;   /* one per container with two samples, sorted by vmid */
	size_t n;
	bool has_history;          /* a reference metrics file: `history` holds it */
	struct ref_history history;
	struct replay_input_opts opts; /* as given (configs is the caller's) */
};

/* Load FILE (a recording, or the reference system's lxc_metrics.json). Returns 0 with *in
 * filled (replay_input_free it); or -1 with a message. A recording cut short (no end marker)
 * is replayed up to its last complete chunk; `warn` then says so ("" otherwise). */
int replay_input_read(const char *path, const struct replay_input_opts *o, struct replay_input *in,
                      char *warn, size_t warnlen, char *err, size_t errlen);
void replay_input_free(struct replay_input *in);

/* The allocation a container of the input starts with, as the reference's API would report
 * it (a ref_allocation_fn, ctx = the struct replay_input): its trace's, else its config's,
 * else the assumption. false when its config leaves cores or memory unset. */
bool replay_input_allocation(void *input, uint32_t vmid, double *cores, double *ram_mb);

/* replay_input_read with only an assumed allocation, its traces only: *out (malloc'ed;
 * scenario_free each, then free) and *n. */
int replay_input_load(const char *path, double cores, double memory_mb, struct scenario **out,
                      size_t *n, char *warn, size_t warnlen, char *err, size_t errlen);

#endif

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
 * much, so the replay does not invent it. The first sample's allocation is the initial one.
 * Real histories have no labels: their scorecards have OOM kills, throttling, slack and
 * churn, and no incident figures.
 */
#ifndef LXCSCALE_REPLAY_INPUT_H
#define LXCSCALE_REPLAY_INPUT_H

#include <stddef.h>

#include "sim/scenarios.h"

#define REPLAY_INPUT_MAX_CONTAINERS 4096
#define REPLAY_INPUT_MAX_STEPS 20000000 /* per container */

/* Load FILE (a recording, or the reference system's lxc_metrics.json) as one trace per
 * container, sorted by vmid. cores/memory_mb: the allocation assumed when the file does
 * not say (lxc_metrics.json never does). Returns 0 with *out (malloc'ed; scenario_free each,
 * then free) and *n; or -1 with a message. A recording cut short (no end marker) is
 * replayed up to its last complete chunk; `warn` then says so ("" otherwise). */
int replay_input_load(const char *path, double cores, double memory_mb, struct scenario **out,
                      size_t *n, char *warn, size_t warnlen, char *err, size_t errlen);

#endif

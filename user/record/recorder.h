/*
 * record/recorder.h — the daemon's side of `record_file` / `lxcscaled --record FILE`.
 *
 * The daemon hands over each raw sample as it reads it (ticks and event-driven samples
 * alike) and each decision as it emits it; at the end of every tick the recorder writes
 * them as one tick of the recording (record/recording.h) and starts over. Buffers are reused, so
 * a steady tick allocates nothing. A write error is reported once and the recorder stops:
 * a diagnostics file must never stop the daemon.
 */
#ifndef LXCSCALE_RECORDER_H
#define LXCSCALE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "features/features.h"
#include "types/decision.h"

struct recorder;

/* Creates (truncates) path. tick_ms goes into the header (the replay's step). Returns NULL
 * with a message. */
struct recorder *recorder_open(const char *path, uint32_t tick_ms, int64_t now_wall_ms,
                               char *err, size_t errlen);
/* ram_mb: the container's memory allocation, 0 when unknown. */
void recorder_sample(struct recorder *r, uint32_t vmid, double ram_mb, const struct feat_raw *raw);
void recorder_decision(struct recorder *r, const struct decision *d);
/* Writes what was handed over since the last tick. Returns 0, or -1 the first time writing
 * fails (message in err; later calls do nothing and return 0). */
int recorder_tick(struct recorder *r, int64_t now_wall_ms, char *err, size_t errlen);
/* Writes the last tick and the end marker. Returns 0 or -1 with a message. */
int recorder_close(struct recorder *r, char *err, size_t errlen);

#endif

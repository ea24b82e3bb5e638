/*
 * daemon/histring.h — one container's recent API history (GET /api/v1/containers/{vmid}), kept
 * small: a thousand containers × 300 points (5 minutes, a point a second) as plain
 * struct history_point would be 19 MB.
 *
 * Each field is first made an integer at the precision the API can show:
 *   time_ms, memory_mb,
 *   memory_high_mb               exact;
 *   cores, anomaly_score         millionths (the JSON prints 6 decimals: the same text);
 *   runq_p99_us                  whole microseconds;
 *   cpu_pct, mem_pct, PSI avg10  hundredths of a percent (the kernel prints avg10 with two
 *                                decimals; a hundredth of a percent of CPU or memory is
 *                                below anything that can be measured at 1 Hz);
 *                                non-finite values read back as 0, and beyond ±1e15 units
 *                                (10^9 cores, 10^13 %) as that bound.
 * The oldest point is kept whole; every later point is stored as the differences from the
 * point before it: two bytes flagging the fields that changed, then each change as a zigzag
 * varint (LEB128), in a ring of bytes that grows as needed. A steady container costs about
 * 9 bytes a point (the flags 2, time +1000 ms 2, CPU and memory % 1-2 each, score 1-3;
 * unchanged limits and PSI nothing), any change of any size
 * still fits (differences wrap in 64 bits and decode exactly), and the ring needs no timing
 * assumption: clock steps are differences like any other. Dropping the oldest point decodes
 * one record into the kept-whole point; reading decodes forward. Not thread-safe: the
 * caller (daemon/publish.c) locks.
 */
#ifndef LXCSCALE_HISTRING_H
#define LXCSCALE_HISTRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types/snapshot.h"

#define HISTRING_FIELDS 12

struct histring {
	uint8_t *buf;                       /* ring of bytes: the records after the oldest point */
	uint32_t cap, head, used;           /* bytes allocated, start of the first record, in use */
	uint32_t count;                     /* points, the oldest included */
	bool full;                          /* has held max_points: trimmed, grows slowly */
	int64_t first[HISTRING_FIELDS];     /* the oldest point, as integers */
	int64_t last[HISTRING_FIELDS];      /* the newest point, as integers */
};

void histring_init(struct histring *r);
void histring_free(struct histring *r);

/* Appends a point, dropping the oldest once there are max_points (≥ 1). Returns 0, or
 * -ENOMEM (then the ring is as before). */
int histring_push(struct histring *r, size_t max_points, const struct history_point *pt);

size_t histring_count(const struct histring *r);

/* Writes histring_count() points into out, oldest first. */
void histring_read(const struct histring *r, struct history_point *out);

/* Bytes the ring holds on the heap. */
size_t histring_heap_bytes(const struct histring *r);

#endif

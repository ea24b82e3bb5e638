/*
 * record/recording.h — the recorder's file: every tick's raw per-container samples and decisions.
 *
 * Layout (all integers little-endian):
 *   header  32 bytes: "LXSCREC\0", u32 version, u32 flags, i64 created_ms, u32 tick_ms,
 *                     u32 crc32 of the 28 bytes before it
 *   chunk*  16 bytes: "CHNK", u32 raw_len, u32 zlib_len, u32 crc32(raw), then zlib_len bytes
 *   end     a chunk with raw_len = 0 and zlib_len = 0, written by a clean close
 * A chunk holds whole ticks, never part of one: a tick is u8 type (1), i64 time_ms,
 * u32 n_samples, u32 n_decisions, the samples and the decisions in a fixed field order.
 * A sample is the daemon's raw reading (struct feat_raw, cumulative counters as the kernel
 * gives them) plus the container's id and memory allocation, so a recording can be replayed
 * through any later version of the features, the model and the policy.
 * Chunks are independent zlib streams, so a file cut short by a crash still replays up to
 * its last complete chunk, and the reader says exactly where and why it stopped.
 *
 * Folder: record/ owns the recording file (here) and the daemon's recorder that writes it
 * (record/recorder.h).
 * May include: types/ base/ config/ features/ (the table in user/README.md).
 */
#ifndef LXCSCALE_RECORDING_H
#define LXCSCALE_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include "features/features.h"
#include "types/decision.h"

#define RECORDING_VERSION 1
#define RECORDING_MAX_SAMPLES 65536   /* per tick */
#define RECORDING_MAX_DECISIONS 65536 /* per tick */
#define RECORDING_MAX_CHUNK (64u << 20)

enum recording_status {
	REC_OK = 0,
	REC_END = 1,            /* clean end of the recording */
	REC_ERR_IO = -1,        /* open/read/write failed (errno in the message) */
	REC_ERR_FORMAT = -2,    /* not a recording, or a field out of range */
	REC_ERR_VERSION = -3,   /* a version this build does not read */
	REC_ERR_TRUNCATED = -4, /* the file stops early (crash, copy cut short) */
	REC_ERR_CORRUPT = -5,   /* a checksum or the zlib stream does not match */
	REC_ERR_NOMEM = -6,
	REC_ERR_LIMIT = -7,     /* more samples/decisions in a tick than the format allows */
};

const char *recording_status_name(enum recording_status s);

struct recording_sample {
	uint32_t vmid;
	double ram_mb;        /* memory allocation (memory.max) in MiB, 0 = unknown */
	struct feat_raw raw;  /* raw.cpu_cores is the CPU allocation */
};

/* ---- writing ---- */
struct recording_writer;

/* Create (truncate) path. flush_ticks: ticks buffered before a chunk is written (0 = 64).
 * Returns NULL with a message in err. */
struct recording_writer *recording_writer_open(const char *path, uint32_t tick_ms, int64_t created_ms,
                                               unsigned flush_ticks, char *err, size_t errlen);
int recording_write_tick(struct recording_writer *w, int64_t time_ms,
                         const struct recording_sample *samples, size_t n_samples,
                         const struct decision *decisions, size_t n_decisions);
int recording_flush(struct recording_writer *w);
/* Flush, write the end marker, fsync and close. Frees w even on error. */
int recording_writer_close(struct recording_writer *w);
const char *recording_writer_error(const struct recording_writer *w);

/* ---- reading ---- */
struct recording_reader;

struct recording_tick {
	int64_t time_ms;
	size_t n_samples;
	const struct recording_sample *samples; /* owned by the reader, valid until the next call */
	size_t n_decisions;
	const struct decision *decisions;
};

struct recording_info {
	uint32_t version, flags, tick_ms;
	int64_t created_ms;
};

struct recording_reader *recording_reader_open(const char *path, int *status, char *err, size_t errlen);
const struct recording_info *recording_reader_info(const struct recording_reader *r);
/* REC_OK with *tick filled, REC_END at a clean end, or an error (see recording_reader_error). */
int recording_read_tick(struct recording_reader *r, struct recording_tick *tick);
const char *recording_reader_error(const struct recording_reader *r);
uint64_t recording_reader_ticks(const struct recording_reader *r); /* ticks returned so far */
void recording_reader_close(struct recording_reader *r);

/* Is this file a recording (by its magic)? 1 yes, 0 no, -1 cannot read. */
int recording_probe(const char *path);

#endif

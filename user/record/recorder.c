/*
 * record/recorder.c — buffers one tick's samples and decisions, then writes them (record/recorder.h).
 */
#include "record/recorder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/recording.h"

struct recorder {
	struct recording_writer *w;
	struct recording_sample *s;
	size_t n_s, cap_s;
	struct decision *d;
	size_t n_d, cap_d;
	bool failed, dropped;
};

struct recorder *recorder_open(const char *path, uint32_t tick_ms, int64_t now_wall_ms,
                               char *err, size_t errlen)
{
	struct recorder *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* about a second of ticks per chunk: a crash loses at most that */
	unsigned flush = tick_ms > 0 && tick_ms < 1000 ? 1000 / tick_ms : 1;
	r->w = recording_writer_open(path, tick_ms, now_wall_ms, flush, err, errlen);
	if (!r->w) {
		free(r);
		return NULL;
	}
	return r;
}

/* grow to hold one more; false (and the item is dropped) when memory is short */
static bool grow(void **p, size_t *cap, size_t n, size_t size, size_t limit)
{
	if (n < *cap)
		return true;
	if (n >= limit)
		return false;
	size_t ncap = *cap ? *cap * 2 : 64;
	if (ncap > limit)
		ncap = limit;
	void *np = realloc(*p, ncap * size);
	if (!np)
		return false;
	*p = np;
	*cap = ncap;
	return true;
}

void recorder_sample(struct recorder *r, uint32_t vmid, double ram_mb, const struct feat_raw *raw)
{
	if (r->failed)
		return;
	if (!grow((void **)&r->s, &r->cap_s, r->n_s, sizeof *r->s, RECORDING_MAX_SAMPLES)) {
		r->dropped = true;
		return;
	}
	r->s[r->n_s++] = (struct recording_sample){ .vmid = vmid, .ram_mb = ram_mb > 0 ? ram_mb : 0,
	                                            .raw = *raw };
}

void recorder_decision(struct recorder *r, const struct decision *d)
{
	if (r->failed)
		return;
	if (!grow((void **)&r->d, &r->cap_d, r->n_d, sizeof *r->d, RECORDING_MAX_DECISIONS)) {
		r->dropped = true;
		return;
	}
	r->d[r->n_d++] = *d;
}

int recorder_tick(struct recorder *r, int64_t now_wall_ms, char *err, size_t errlen)
{
	if (r->failed)
		return 0;
	int rc = recording_write_tick(r->w, now_wall_ms, r->s, r->n_s, r->d, r->n_d);
	r->n_s = r->n_d = 0;
	if (rc == REC_OK && !r->dropped)
		return 0;
	if (rc == REC_OK) {
		snprintf(err, errlen, "samples or decisions dropped (over %d per tick, or out of memory)",
		         RECORDING_MAX_SAMPLES);
		r->dropped = false;
		return -1;
	}
	r->failed = true;
	snprintf(err, errlen, "%s; recording stopped", recording_writer_error(r->w)[0]
	                                                   ? recording_writer_error(r->w)
	                                                   : recording_status_name(rc));
	return -1;
}

int recorder_close(struct recorder *r, char *err, size_t errlen)
{
	if (!r)
		return 0;
	int rc = 0;
	if (!r->failed && (r->n_s || r->n_d) && recorder_tick(r, r->n_s ? r->s[r->n_s - 1].raw.wall_ms : 0,
	                                                      err, errlen) != 0)
		rc = -1;
	if (recording_writer_close(r->w) != REC_OK && rc == 0) {
		snprintf(err, errlen, "closing the recording failed");
		rc = -1;
	}
	free(r->s);
	free(r->d);
	free(r);
	return rc;
}

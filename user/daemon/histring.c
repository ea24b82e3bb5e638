/*
 * daemon/histring.c — delta-encoded history ring of API points (design in daemon/histring.h).
 *
 * A record is one byte with a bit per field that changed since the previous point, then
 * for each of those, in the order of enum field, a zigzag varint of the field's integer
 * minus the previous point's, computed in uint64 so that any change wraps and unwraps
 * exactly. Limits and PSI rarely change, so they usually cost nothing. While the ring fills, its bytes grow by half when a record does
 * not fit (rewritten from offset 0); when it first holds max_points it is trimmed to what it
 * uses plus an eighth (it has not wrapped yet: nothing was dropped), and from then on grows
 * by an eighth at a time. It never shrinks after that: a busy minute sets its size.
 */
#include "daemon/histring.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum field {
	F_TIME, F_CORES, F_MEM_MB, F_CPU_PCT, F_MEM_PCT, F_CPU_PSI, F_MEM_PSI, F_SCORE,
	F_CPU_PSI_FULL, F_MEM_PSI_FULL, F_RUNQ_P99, F_MEM_HIGH_MB,
};

#define MASK_BYTES 2
#define RECORD_MAX (MASK_BYTES + HISTRING_FIELDS * 10) /* the mask, varints of at most 10 bytes */

_Static_assert(HISTRING_FIELDS <= 8 * MASK_BYTES, "a mask bit per field");
_Static_assert(F_MEM_HIGH_MB + 1 == HISTRING_FIELDS, "every field has a name");
#define QUANT_MAX 1e15                       /* beyond any real value; keeps llround defined */

static int64_t quantize(double v, double scale)
{
	if (!isfinite(v))
		return 0;
	double q = v * scale;
	if (q > QUANT_MAX)
		q = QUANT_MAX;
	if (q < -QUANT_MAX)
		q = -QUANT_MAX;
	return llround(q);
}

static void to_ints(const struct history_point *p, int64_t q[HISTRING_FIELDS])
{
	q[F_TIME] = p->time_ms;
	q[F_CORES] = quantize(p->cores, 1e6);
	q[F_MEM_MB] = (int64_t)p->memory_mb;   /* converted back to uint64_t unchanged */
	q[F_CPU_PCT] = quantize(p->cpu_pct, 100);
	q[F_MEM_PCT] = quantize(p->mem_pct, 100);
	q[F_CPU_PSI] = quantize(p->cpu_psi_some_avg10, 100);
	q[F_MEM_PSI] = quantize(p->mem_psi_some_avg10, 100);
	q[F_SCORE] = quantize(p->anomaly_score, 1e6);
	q[F_CPU_PSI_FULL] = quantize(p->cpu_psi_full_avg10, 100);
	q[F_MEM_PSI_FULL] = quantize(p->mem_psi_full_avg10, 100);
	q[F_RUNQ_P99] = quantize(p->runq_p99_us, 1); /* whole microseconds */
	q[F_MEM_HIGH_MB] = (int64_t)p->memory_high_mb;
}

static void from_ints(const int64_t q[HISTRING_FIELDS], struct history_point *p)
{
	*p = (struct history_point){
		.time_ms = q[F_TIME],
		.cores = (double)q[F_CORES] / 1e6,
		.memory_mb = (uint64_t)q[F_MEM_MB],
		.cpu_pct = (double)q[F_CPU_PCT] / 100,
		.mem_pct = (double)q[F_MEM_PCT] / 100,
		.cpu_psi_some_avg10 = (double)q[F_CPU_PSI] / 100,
		.mem_psi_some_avg10 = (double)q[F_MEM_PSI] / 100,
		.anomaly_score = (double)q[F_SCORE] / 1e6,
		.cpu_psi_full_avg10 = (double)q[F_CPU_PSI_FULL] / 100,
		.mem_psi_full_avg10 = (double)q[F_MEM_PSI_FULL] / 100,
		.runq_p99_us = (double)q[F_RUNQ_P99],
		.memory_high_mb = (uint64_t)q[F_MEM_HIGH_MB],
	};
}

/* A difference (mod 2^64) as a zigzag varint into out: small either way, few bytes.
 * Returns its length. */
static size_t put_varint(uint8_t *out, uint64_t d)
{
	int64_t sd = (int64_t)d;
	uint64_t z = (d << 1) ^ (uint64_t)(sd >> 63);
	size_t n = 0;
	while (z >= 0x80) {
		out[n++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	out[n++] = (uint8_t)z;
	return n;
}

static size_t put_record(uint8_t *out, const int64_t prev[HISTRING_FIELDS],
			 const int64_t next[HISTRING_FIELDS])
{
	size_t n = MASK_BYTES;
	unsigned mask = 0;
	for (int f = 0; f < HISTRING_FIELDS; f++) {
		uint64_t d = (uint64_t)next[f] - (uint64_t)prev[f];
		if (d) {
			mask |= 1u << f;
			n += put_varint(out + n, d);
		}
	}
	out[0] = (uint8_t)mask;
	out[1] = (uint8_t)(mask >> 8);
	return n;
}

static uint8_t next_byte(const struct histring *r, uint32_t *pos)
{
	uint8_t b = r->buf[*pos];
	*pos = *pos + 1 == r->cap ? 0 : *pos + 1;
	return b;
}

/* Decodes one record at *pos into cur (adding the deltas); advances *pos. */
static void read_record(const struct histring *r, uint32_t *pos, int64_t cur[HISTRING_FIELDS])
{
	unsigned mask = next_byte(r, pos);
	mask |= (unsigned)next_byte(r, pos) << 8;
	for (int f = 0; f < HISTRING_FIELDS; f++) {
		if (!(mask & (1u << f)))
			continue;
		uint64_t z = 0;
		unsigned shift = 0;
		uint8_t b;
		do {
			b = next_byte(r, pos);
			if (shift < 64)
				z |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
		} while (b & 0x80);
		uint64_t d = (z >> 1) ^ (0 - (z & 1));
		cur[f] = (int64_t)((uint64_t)cur[f] + d);
	}
}

void histring_init(struct histring *r)
{
	memset(r, 0, sizeof(*r));
}

void histring_free(struct histring *r)
{
	free(r->buf);
	histring_init(r);
}

size_t histring_count(const struct histring *r)
{
	return r->count;
}

size_t histring_heap_bytes(const struct histring *r)
{
	return r->cap;
}

/* Room for `need` more bytes, the ring rewritten from offset 0 into a larger buffer. */
static int grow(struct histring *r, size_t need)
{
	size_t cap = (size_t)r->cap + (r->full ? r->cap / 8 : r->cap / 2);
	if (cap < 64)
		cap = 64;
	if (cap < (size_t)r->used + need)
		cap = (size_t)r->used + need;
	if (cap > UINT32_MAX)
		return -ENOMEM;
	uint8_t *nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	uint32_t tail = r->cap - r->head; /* bytes from head to the end of the old buffer */
	if (r->used <= tail) {
		if (r->used)
			memcpy(nb, r->buf + r->head, r->used);
	} else {
		memcpy(nb, r->buf + r->head, tail);
		memcpy(nb + tail, r->buf, r->used - tail);
	}
	free(r->buf);
	r->buf = nb;
	r->cap = (uint32_t)cap;
	r->head = 0;
	return 0;
}

int histring_push(struct histring *r, size_t max_points, const struct history_point *pt)
{
	int64_t q[HISTRING_FIELDS];
	to_ints(pt, q);
	if (max_points < 1)
		max_points = 1;
	if (r->count == 0 || max_points == 1) {
		memcpy(r->first, q, sizeof(q));
		memcpy(r->last, q, sizeof(q));
		r->count = 1;
		r->head = r->used = 0;
		return 0;
	}
	uint8_t rec[RECORD_MAX];
	size_t len = put_record(rec, r->last, q);

	/* the oldest point leaves once the ring is full: its successor becomes `first` */
	bool evict = r->count >= max_points;
	int64_t next_first[HISTRING_FIELDS];
	uint32_t next_head = r->head;
	if (evict) {
		memcpy(next_first, r->first, sizeof(next_first));
		read_record(r, &next_head, next_first);
	}
	uint32_t freed = evict ? (next_head - r->head + r->cap) % r->cap : 0;
	if (evict && freed == 0)
		freed = r->used; /* the only record filled the whole buffer */
	if ((size_t)r->cap - r->used + freed < len) {
		if (grow(r, len) != 0)
			return -ENOMEM;
		if (evict) { /* the buffer was rewritten from 0: decode the oldest again */
			next_head = 0;
			memcpy(next_first, r->first, sizeof(next_first));
			read_record(r, &next_head, next_first);
			freed = next_head;
		}
	}
	if (evict) {
		memcpy(r->first, next_first, sizeof(next_first));
		r->head = r->used - freed ? next_head % r->cap : 0;
		r->used -= freed;
		r->count--;
	}
	uint32_t pos = (r->head + r->used) % r->cap;
	for (size_t i = 0; i < len; i++) {
		r->buf[pos] = rec[i];
		pos = pos + 1 == r->cap ? 0 : pos + 1;
	}
	r->used += (uint32_t)len;
	memcpy(r->last, q, sizeof(q));
	r->count++;
	if (!r->full && r->count >= max_points) {
		r->full = true;
		size_t fit = (size_t)r->used + r->used / 8 + RECORD_MAX;
		if (fit < r->cap && r->head == 0) {
			uint8_t *nb = realloc(r->buf, fit);
			if (nb) {
				r->buf = nb;
				r->cap = (uint32_t)fit;
			}
		}
	}
	return 0;
}

void histring_read(const struct histring *r, struct history_point *out)
{
	if (r->count == 0)
		return;
	int64_t cur[HISTRING_FIELDS];
	memcpy(cur, r->first, sizeof(cur));
	from_ints(cur, &out[0]);
	uint32_t pos = r->head;
	for (uint32_t k = 1; k < r->count; k++) {
		read_record(r, &pos, cur);
		from_ints(cur, &out[k]);
	}
}

/*
 * record/recording.c — writer and reader of the recording format described in record/recording.h.
 *
 * The writer appends encoded ticks to a memory buffer and compresses the buffer into one
 * chunk every flush_ticks ticks (or 1 MiB), so the daemon pays one compress2() and one
 * write() per chunk, not per tick. The reader never trusts a length: every count is checked
 * against the format's limits and against the bytes actually left before it is used.
 */
#include "record/recording.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char file_magic[8] = { 'L', 'X', 'S', 'C', 'R', 'E', 'C', '\0' };
static const char chunk_magic[4] = { 'C', 'H', 'N', 'K' };
#define HEADER_LEN 32
#define CHUNK_HDR_LEN 16
#define TICK_TYPE 1
#define SAMPLE_LEN (4 + 8 + 8 + 8 + 4 + 8 + 8 + 12 * 8 + 6 * 8 + 2 * 8 + 4 * 8)
#define DECISION_LEN (8 + 8 + 4 + 1 + 8 + 8 + 1 + 8 + 8 + 1 + 8 + 8 + 1 + 4 + 4 + \
                      DECISION_TOP_FEATURES * (DECISION_FEATURE_NAME_MAX + 8) + 8 * 4 + \
                      sizeof(((struct decision *)0)->detail) + 1 + 1)
#define TICK_HDR_LEN (1 + 8 + 4 + 4)
#define FLUSH_BYTES (1u << 20)

const char *recording_status_name(enum recording_status s)
{
	switch (s) {
	case REC_OK: return "ok";
	case REC_END: return "end";
	case REC_ERR_IO: return "I/O error";
	case REC_ERR_FORMAT: return "bad format";
	case REC_ERR_VERSION: return "unsupported version";
	case REC_ERR_TRUNCATED: return "truncated";
	case REC_ERR_CORRUPT: return "corrupt";
	case REC_ERR_NOMEM: return "out of memory";
	case REC_ERR_LIMIT: return "over a format limit";
	}
	return "unknown";
}

/* ---- little-endian encoding ------------------------------------------------------------ */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void buf_need(struct buf *b, size_t n)
{
	if (b->oom || b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return;
	}
	b->p = np;
	b->cap = cap;
}

static void put_bytes(struct buf *b, const void *src, size_t n)
{
	buf_need(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put_bytes(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_f64(struct buf *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_u64(b, v);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* a bounded read cursor: once it runs out every get returns 0 and ok turns false */
struct cur {
	const uint8_t *p;
	size_t len, off;
	bool ok;
};

static const uint8_t *get_bytes(struct cur *c, size_t n)
{
	if (!c->ok || c->len - c->off < n) {
		c->ok = false;
		return NULL;
	}
	const uint8_t *p = c->p + c->off;
	c->off += n;
	return p;
}

static uint8_t get_u8(struct cur *c)
{
	const uint8_t *p = get_bytes(c, 1);
	return p ? p[0] : 0;
}

static uint32_t get_u32(struct cur *c)
{
	const uint8_t *p = get_bytes(c, 4);
	return p ? le32(p) : 0;
}

static uint64_t get_u64(struct cur *c)
{
	uint64_t lo = get_u32(c);
	uint64_t hi = get_u32(c);
	return lo | hi << 32;
}

static double get_f64(struct cur *c)
{
	uint64_t v = get_u64(c);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

/* ---- records ---------------------------------------------------------------------------- */

static void put_sample(struct buf *b, const struct recording_sample *rs)
{
	const struct feat_raw *s = &rs->raw;
	put_u32(b, rs->vmid);
	put_f64(b, rs->ram_mb);
	put_u64(b, (uint64_t)s->mono_ms);
	put_u64(b, (uint64_t)s->wall_ms);
	put_u32(b, s->known);
	put_u64(b, s->cpu_usage_usec);
	put_f64(b, s->cpu_cores);
	put_u64(b, s->mem_current);
	put_u64(b, s->mem_file);
	put_u64(b, s->swap_current);
	put_u64(b, s->swap_total);
	put_u64(b, s->io_rbytes);
	put_u64(b, s->io_wbytes);
	put_u64(b, s->net_rx_bytes);
	put_u64(b, s->net_tx_bytes);
	put_u64(b, s->fs_total_bytes);
	put_u64(b, s->fs_free_bytes);
	put_u64(b, s->fs_used_bytes);
	put_u64(b, s->pids);
	for (int r = 0; r < 3; r++)
		for (int k = 0; k < 2; k++)
			put_u64(b, s->psi_total_us[r][k]);
	put_f64(b, s->runq_p50_us);
	put_f64(b, s->runq_p99_us);
	put_u64(b, s->reclaim_stall_us);
	put_u64(b, s->nr_periods);
	put_u64(b, s->nr_throttled);
	put_u64(b, s->oom_kills);
}

/* returns false when the known mask names fields this build does not have */
static bool get_sample(struct cur *c, struct recording_sample *rs)
{
	memset(rs, 0, sizeof *rs);
	struct feat_raw *s = &rs->raw;
	rs->vmid = get_u32(c);
	rs->ram_mb = get_f64(c);
	s->mono_ms = (int64_t)get_u64(c);
	s->wall_ms = (int64_t)get_u64(c);
	s->known = get_u32(c);
	s->cpu_usage_usec = get_u64(c);
	s->cpu_cores = get_f64(c);
	s->mem_current = get_u64(c);
	s->mem_file = get_u64(c);
	s->swap_current = get_u64(c);
	s->swap_total = get_u64(c);
	s->io_rbytes = get_u64(c);
	s->io_wbytes = get_u64(c);
	s->net_rx_bytes = get_u64(c);
	s->net_tx_bytes = get_u64(c);
	s->fs_total_bytes = get_u64(c);
	s->fs_free_bytes = get_u64(c);
	s->fs_used_bytes = get_u64(c);
	s->pids = get_u64(c);
	for (int r = 0; r < 3; r++)
		for (int k = 0; k < 2; k++)
			s->psi_total_us[r][k] = get_u64(c);
	s->runq_p50_us = get_f64(c);
	s->runq_p99_us = get_f64(c);
	s->reclaim_stall_us = get_u64(c);
	s->nr_periods = get_u64(c);
	s->nr_throttled = get_u64(c);
	s->oom_kills = get_u64(c);
	if (s->known >> RAW_FIELD_COUNT)
		return false;
	if (!isfinite(rs->ram_mb) || rs->ram_mb < 0 || !isfinite(s->cpu_cores) || s->cpu_cores < 0)
		return false;
	return true;
}

static void put_decision(struct buf *b, const struct decision *d)
{
	put_u64(b, d->seq);
	put_u64(b, (uint64_t)d->time_ms);
	put_u32(b, d->vmid);
	put_u8(b, (uint8_t)d->cpu_change);
	put_f64(b, d->cpu_from);
	put_f64(b, d->cpu_to);
	put_u8(b, (uint8_t)d->mem_change);
	put_u64(b, d->mem_from_mb);
	put_u64(b, d->mem_to_mb);
	put_u8(b, (uint8_t)d->reason);
	put_f64(b, d->confidence);
	put_f64(b, d->anomaly_score);
	put_u8(b, d->anomaly ? 1 : 0);
	put_u32(b, (uint32_t)d->urgency);
	put_u32(b, (uint32_t)d->priority);
	for (int i = 0; i < DECISION_TOP_FEATURES; i++) {
		char name[DECISION_FEATURE_NAME_MAX] = { 0 };
		/* bounded copy; the field is NUL-terminated on disk whatever the caller left */
		size_t n = strnlen(d->top[i].name, DECISION_FEATURE_NAME_MAX - 1);
		memcpy(name, d->top[i].name, n);
		put_bytes(b, name, sizeof name);
		put_f64(b, d->top[i].share);
	}
	put_f64(b, d->cpu_pct);
	put_f64(b, d->mem_pct);
	put_f64(b, d->cpu_psi_some_ms);
	put_f64(b, d->mem_psi_some_ms);
	char detail[sizeof d->detail] = { 0 };
	memcpy(detail, d->detail, strnlen(d->detail, sizeof detail - 1));
	put_bytes(b, detail, sizeof detail);
	put_u8(b, d->dry_run ? 1 : 0);
	put_u8(b, d->persist ? 1 : 0);
}

/* returns false when an enum or flag is out of range */
static bool get_decision(struct cur *c, struct decision *d)
{
	memset(d, 0, sizeof *d);
	d->seq = get_u64(c);
	d->time_ms = (int64_t)get_u64(c);
	d->vmid = get_u32(c);
	uint8_t cc = get_u8(c);
	d->cpu_from = get_f64(c);
	d->cpu_to = get_f64(c);
	uint8_t mc = get_u8(c);
	d->mem_from_mb = get_u64(c);
	d->mem_to_mb = get_u64(c);
	uint8_t reason = get_u8(c);
	d->confidence = get_f64(c);
	d->anomaly_score = get_f64(c);
	uint8_t anomaly = get_u8(c);
	d->urgency = (int)get_u32(c);
	d->priority = (int)get_u32(c);
	for (int i = 0; i < DECISION_TOP_FEATURES; i++) {
		const uint8_t *name = get_bytes(c, DECISION_FEATURE_NAME_MAX);
		if (name) {
			memcpy(d->top[i].name, name, DECISION_FEATURE_NAME_MAX);
			if (d->top[i].name[DECISION_FEATURE_NAME_MAX - 1] != '\0')
				return false;
		}
		d->top[i].share = get_f64(c);
	}
	d->cpu_pct = get_f64(c);
	d->mem_pct = get_f64(c);
	d->cpu_psi_some_ms = get_f64(c);
	d->mem_psi_some_ms = get_f64(c);
	const uint8_t *detail = get_bytes(c, sizeof d->detail);
	if (detail) {
		memcpy(d->detail, detail, sizeof d->detail);
		if (d->detail[sizeof d->detail - 1] != '\0')
			return false;
	}
	uint8_t dry = get_u8(c);
	uint8_t persist = get_u8(c);
	if (cc > DECISION_SET || mc > DECISION_SET || reason > REASON_RECONCILE || anomaly > 1 ||
	    dry > 1 || persist > 1)
		return false;
	d->cpu_change = (enum decision_change)cc;
	d->mem_change = (enum decision_change)mc;
	d->reason = (enum decision_reason)reason;
	d->anomaly = anomaly;
	d->dry_run = dry;
	d->persist = persist;
	return true;
}

/* ---- writer ----------------------------------------------------------------------------- */

struct recording_writer {
	int fd;
	unsigned flush_ticks, pending_ticks;
	struct buf raw;
	uint8_t *zbuf;
	size_t zcap;
	char err[256];
	bool failed;
};

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int wfail(struct recording_writer *w, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	w->failed = true;
	return status;
}

struct recording_writer *recording_writer_open(const char *path, uint32_t tick_ms, int64_t created_ms,
                                               unsigned flush_ticks, char *err, size_t errlen)
{
	struct recording_writer *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->flush_ticks = flush_ticks ? flush_ticks : 64;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (w->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(w);
		return NULL;
	}
	uint8_t h[HEADER_LEN];
	memcpy(h, file_magic, 8);
	store32(h + 8, RECORDING_VERSION);
	store32(h + 12, 0);
	store32(h + 16, (uint32_t)(uint64_t)created_ms);
	store32(h + 20, (uint32_t)((uint64_t)created_ms >> 32));
	store32(h + 24, tick_ms);
	store32(h + 28, (uint32_t)crc32(0L, h, 28));
	if (write_all(w->fd, h, sizeof h) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(w->fd);
		free(w);
		return NULL;
	}
	return w;
}

int recording_flush(struct recording_writer *w)
{
	if (w->failed)
		return REC_ERR_IO;
	if (w->raw.oom)
		return wfail(w, REC_ERR_NOMEM, "out of memory buffering ticks");
	if (w->raw.len == 0)
		return REC_OK;
	uLongf zlen = compressBound((uLong)w->raw.len);
	if (zlen > w->zcap) {
		uint8_t *nz = realloc(w->zbuf, zlen);
		if (!nz)
			return wfail(w, REC_ERR_NOMEM, "out of memory compressing a chunk");
		w->zbuf = nz;
		w->zcap = zlen;
	}
	if (compress2(w->zbuf, &zlen, w->raw.p, (uLong)w->raw.len, 6) != Z_OK)
		return wfail(w, REC_ERR_NOMEM, "zlib could not compress a chunk");
	uint8_t h[CHUNK_HDR_LEN];
	memcpy(h, chunk_magic, 4);
	store32(h + 4, (uint32_t)w->raw.len);
	store32(h + 8, (uint32_t)zlen);
	store32(h + 12, (uint32_t)crc32(0L, w->raw.p, (uInt)w->raw.len));
	if (write_all(w->fd, h, sizeof h) != 0 || write_all(w->fd, w->zbuf, zlen) != 0)
		return wfail(w, REC_ERR_IO, "write: %s", strerror(errno));
	w->raw.len = 0;
	w->pending_ticks = 0;
	return REC_OK;
}

int recording_write_tick(struct recording_writer *w, int64_t time_ms,
                         const struct recording_sample *samples, size_t n_samples,
                         const struct decision *decisions, size_t n_decisions)
{
	if (w->failed)
		return REC_ERR_IO;
	if (n_samples > RECORDING_MAX_SAMPLES || n_decisions > RECORDING_MAX_DECISIONS)
		return REC_ERR_LIMIT; /* refused, the writer stays usable */
	size_t need = TICK_HDR_LEN + n_samples * SAMPLE_LEN + n_decisions * DECISION_LEN;
	if (w->raw.len > 0 && w->raw.len + need > RECORDING_MAX_CHUNK) {
		int rc = recording_flush(w);
		if (rc != REC_OK)
			return rc;
	}
	size_t before = w->raw.len;
	put_u8(&w->raw, TICK_TYPE);
	put_u64(&w->raw, (uint64_t)time_ms);
	put_u32(&w->raw, (uint32_t)n_samples);
	put_u32(&w->raw, (uint32_t)n_decisions);
	for (size_t i = 0; i < n_samples; i++)
		put_sample(&w->raw, &samples[i]);
	for (size_t i = 0; i < n_decisions; i++)
		put_decision(&w->raw, &decisions[i]);
	if (w->raw.oom)
		return wfail(w, REC_ERR_NOMEM, "out of memory buffering ticks");
	if (w->raw.len - before != need) /* the encoders and the *_LEN constants disagree */
		return wfail(w, REC_ERR_FORMAT, "internal: tick encoded to %zu bytes, expected %zu",
		             w->raw.len - before, need);
	w->pending_ticks++;
	if (w->pending_ticks >= w->flush_ticks || w->raw.len >= FLUSH_BYTES)
		return recording_flush(w);
	return REC_OK;
}

int recording_writer_close(struct recording_writer *w)
{
	int rc = recording_flush(w);
	if (rc == REC_OK) {
		uint8_t h[CHUNK_HDR_LEN] = { 0 };
		memcpy(h, chunk_magic, 4);
		store32(h + 12, (uint32_t)crc32(0L, Z_NULL, 0));
		if (write_all(w->fd, h, sizeof h) != 0 || fsync(w->fd) != 0)
			rc = REC_ERR_IO;
	}
	if (close(w->fd) != 0 && rc == REC_OK)
		rc = REC_ERR_IO;
	free(w->raw.p);
	free(w->zbuf);
	free(w);
	return rc;
}

const char *recording_writer_error(const struct recording_writer *w)
{
	return w->err;
}

/* ---- reader ----------------------------------------------------------------------------- */

struct recording_reader {
	FILE *f;
	struct recording_info info;
	uint64_t offset;      /* file offset of the next unread byte */
	uint64_t chunk_off;   /* file offset of the current chunk */
	uint64_t ticks;
	uint8_t *raw, *zbuf;
	size_t raw_cap, zcap;
	struct cur c;         /* over the current chunk's raw bytes */
	struct recording_sample *samples;
	size_t samples_cap;
	struct decision *decisions;
	size_t decisions_cap;
	int sticky;           /* a status once the reader has stopped */
	char err[256];
};

static int rfail(struct recording_reader *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	r->sticky = status;
	return status;
}

/* read exactly n bytes: returns n, or the short count (0..n-1) at end of file, or -1 */
static long read_exact(struct recording_reader *r, void *p, size_t n)
{
	size_t got = fread(p, 1, n, r->f);
	if (got < n && ferror(r->f))
		return -1;
	r->offset += got;
	return (long)got;
}

int recording_probe(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char m[8];
	size_t n = fread(m, 1, sizeof m, f);
	fclose(f);
	return n == sizeof m && memcmp(m, file_magic, sizeof m) == 0;
}

struct recording_reader *recording_reader_open(const char *path, int *status, char *err, size_t errlen)
{
	struct recording_reader *r = calloc(1, sizeof *r);
	if (!r) {
		*status = REC_ERR_NOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->f = fopen(path, "rb");
	if (!r->f) {
		*status = REC_ERR_IO;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	uint8_t h[HEADER_LEN];
	long got = read_exact(r, h, sizeof h);
	int st = REC_OK;
	if (got < 0) {
		st = REC_ERR_IO;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (got >= 8 && memcmp(h, file_magic, 8) != 0) {
		st = REC_ERR_FORMAT;
		snprintf(err, errlen, "%s: not an lxcscale recording (bad magic)", path);
	} else if (got < (long)sizeof h) {
		st = got < 8 ? REC_ERR_FORMAT : REC_ERR_TRUNCATED;
		snprintf(err, errlen, "%s: %s (%ld of %d header bytes)", path,
		         got < 8 ? "not an lxcscale recording" : "truncated header", got, HEADER_LEN);
	} else if (le32(h + 28) != (uint32_t)crc32(0L, h, 28)) {
		st = REC_ERR_CORRUPT;
		snprintf(err, errlen, "%s: header checksum mismatch", path);
	} else if (le32(h + 8) != RECORDING_VERSION) {
		st = REC_ERR_VERSION;
		snprintf(err, errlen, "%s: recording version %u, this build reads version %d", path,
		         le32(h + 8), RECORDING_VERSION);
	}
	if (st != REC_OK) {
		*status = st;
		fclose(r->f);
		free(r);
		return NULL;
	}
	r->info.version = le32(h + 8);
	r->info.flags = le32(h + 12);
	r->info.created_ms = (int64_t)((uint64_t)le32(h + 16) | (uint64_t)le32(h + 20) << 32);
	r->info.tick_ms = le32(h + 24);
	r->c.ok = true; /* empty cursor: the first read loads a chunk */
	*status = REC_OK;
	return r;
}

const struct recording_info *recording_reader_info(const struct recording_reader *r)
{
	return &r->info;
}

static int load_chunk(struct recording_reader *r)
{
	uint8_t h[CHUNK_HDR_LEN];
	r->chunk_off = r->offset;
	long got = read_exact(r, h, sizeof h);
	if (got < 0)
		return rfail(r, REC_ERR_IO, "read at byte %llu: %s", (unsigned long long)r->chunk_off,
		             strerror(errno));
	if (got == 0)
		return rfail(r, REC_ERR_TRUNCATED,
		             "truncated: no end marker after %llu ticks at byte %llu (the writer did not "
		             "close the file: crashed or still running)",
		             (unsigned long long)r->ticks, (unsigned long long)r->chunk_off);
	if (got < (long)sizeof h)
		return rfail(r, REC_ERR_TRUNCATED, "truncated chunk header at byte %llu after %llu ticks",
		             (unsigned long long)r->chunk_off, (unsigned long long)r->ticks);
	if (memcmp(h, chunk_magic, 4) != 0)
		return rfail(r, REC_ERR_CORRUPT, "bad chunk magic at byte %llu",
		             (unsigned long long)r->chunk_off);
	uint32_t raw_len = le32(h + 4), zlen = le32(h + 8), crc = le32(h + 12);
	if (raw_len == 0 && zlen == 0) {
		if (crc != (uint32_t)crc32(0L, Z_NULL, 0))
			return rfail(r, REC_ERR_CORRUPT, "bad end marker at byte %llu",
			             (unsigned long long)r->chunk_off);
		uint8_t extra;
		if (fread(&extra, 1, 1, r->f) == 1)
			return rfail(r, REC_ERR_FORMAT, "data after the end marker at byte %llu",
			             (unsigned long long)r->offset);
		r->sticky = REC_END;
		return REC_END;
	}
	if (raw_len == 0 || raw_len > RECORDING_MAX_CHUNK || zlen == 0 || zlen > compressBound(raw_len))
		return rfail(r, REC_ERR_CORRUPT, "chunk at byte %llu has impossible sizes (%u raw, %u zlib)",
		             (unsigned long long)r->chunk_off, raw_len, zlen);
	if (zlen > r->zcap) {
		uint8_t *nz = realloc(r->zbuf, zlen);
		if (!nz)
			return rfail(r, REC_ERR_NOMEM, "out of memory");
		r->zbuf = nz;
		r->zcap = zlen;
	}
	if (raw_len > r->raw_cap) {
		uint8_t *nr = realloc(r->raw, raw_len);
		if (!nr)
			return rfail(r, REC_ERR_NOMEM, "out of memory");
		r->raw = nr;
		r->raw_cap = raw_len;
	}
	got = read_exact(r, r->zbuf, zlen);
	if (got < 0)
		return rfail(r, REC_ERR_IO, "read: %s", strerror(errno));
	if ((uint32_t)got < zlen)
		return rfail(r, REC_ERR_TRUNCATED,
		             "truncated chunk at byte %llu: %ld of %u bytes present, %llu ticks read",
		             (unsigned long long)r->chunk_off, got, zlen, (unsigned long long)r->ticks);
	uLongf out_len = raw_len;
	int zrc = uncompress(r->raw, &out_len, r->zbuf, zlen);
	if (zrc != Z_OK || out_len != raw_len)
		return rfail(r, REC_ERR_CORRUPT, "chunk at byte %llu does not decompress (%s)",
		             (unsigned long long)r->chunk_off, zrc == Z_OK ? "wrong length" : zError(zrc));
	if ((uint32_t)crc32(0L, r->raw, raw_len) != crc)
		return rfail(r, REC_ERR_CORRUPT, "chunk at byte %llu: checksum mismatch",
		             (unsigned long long)r->chunk_off);
	r->c = (struct cur){ .p = r->raw, .len = raw_len, .off = 0, .ok = true };
	return REC_OK;
}

int recording_read_tick(struct recording_reader *r, struct recording_tick *tick)
{
	if (r->sticky)
		return r->sticky;
	if (r->c.off >= r->c.len) {
		int rc = load_chunk(r);
		if (rc != REC_OK)
			return rc;
	}
	struct cur *c = &r->c;
	uint8_t type = get_u8(c);
	int64_t time_ms = (int64_t)get_u64(c);
	uint32_t ns = get_u32(c), nd = get_u32(c);
	if (!c->ok || type != TICK_TYPE)
		return rfail(r, REC_ERR_FORMAT, "chunk at byte %llu: bad tick record at offset %zu",
		             (unsigned long long)r->chunk_off, c->off);
	if (ns > RECORDING_MAX_SAMPLES || nd > RECORDING_MAX_DECISIONS)
		return rfail(r, REC_ERR_FORMAT, "chunk at byte %llu: tick with %u samples, %u decisions",
		             (unsigned long long)r->chunk_off, ns, nd);
	if ((size_t)ns * SAMPLE_LEN + (size_t)nd * DECISION_LEN > c->len - c->off)
		return rfail(r, REC_ERR_FORMAT, "chunk at byte %llu: tick runs past the chunk",
		             (unsigned long long)r->chunk_off);
	if (ns > r->samples_cap) {
		struct recording_sample *p = realloc(r->samples, ns * sizeof *p);
		if (!p)
			return rfail(r, REC_ERR_NOMEM, "out of memory");
		r->samples = p;
		r->samples_cap = ns;
	}
	if (nd > r->decisions_cap) {
		struct decision *p = realloc(r->decisions, nd * sizeof *p);
		if (!p)
			return rfail(r, REC_ERR_NOMEM, "out of memory");
		r->decisions = p;
		r->decisions_cap = nd;
	}
	for (uint32_t i = 0; i < ns; i++)
		if (!get_sample(c, &r->samples[i]))
			return rfail(r, REC_ERR_FORMAT, "chunk at byte %llu: sample %u of tick %llu out of range",
			             (unsigned long long)r->chunk_off, i, (unsigned long long)r->ticks);
	for (uint32_t i = 0; i < nd; i++)
		if (!get_decision(c, &r->decisions[i]))
			return rfail(r, REC_ERR_FORMAT, "chunk at byte %llu: decision %u of tick %llu out of range",
			             (unsigned long long)r->chunk_off, i, (unsigned long long)r->ticks);
	if (!c->ok)
		return rfail(r, REC_ERR_FORMAT, "chunk at byte %llu: tick runs past the chunk",
		             (unsigned long long)r->chunk_off);
	tick->time_ms = time_ms;
	tick->n_samples = ns;
	tick->samples = r->samples;
	tick->n_decisions = nd;
	tick->decisions = r->decisions;
	r->ticks++;
	return REC_OK;
}

const char *recording_reader_error(const struct recording_reader *r)
{
	return r->err;
}

uint64_t recording_reader_ticks(const struct recording_reader *r)
{
	return r->ticks;
}

void recording_reader_close(struct recording_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->raw);
	free(r->zbuf);
	free(r->samples);
	free(r->decisions);
	free(r);
}

/*
 * compat/metrics_file.c — reference-format metrics history: the format, serialiser and reader (see
 * compat/metrics_file.h; the file on disk, appends and trims are compat/metrics_file_append.c).
 *
 * Serialising is done by hand rather than with json-c because the format is fixed and must
 * look like Python's output (4-space indent, sorted keys, float repr). Reading uses json-c's
 * tokener, which reports where a malformed file goes wrong.
 */
#include "compat/metrics_file.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/errbuf.h"
#include "compat/metrics_file_int.h"

static const char *const field_names[MF_FIELD_COUNT] = {
	[MF_CPU] = "cpu_usage_percent", [MF_MEMORY] = "memory_usage_mb",
	[MF_SWAP_USAGE] = "swap_usage_mb", [MF_SWAP_TOTAL] = "swap_total_mb",
	[MF_PROCESSES] = "process_count", [MF_IO] = "io_stats", [MF_NETWORK] = "network_usage",
	[MF_FS_USAGE] = "filesystem_usage_gb", [MF_FS_TOTAL] = "filesystem_total_gb",
	[MF_FS_FREE] = "filesystem_free_gb",
};

/* ---- timestamps ------------------------------------------------------------------------- */

void mf_format_timestamp(int64_t wall_us, char out[MF_TIMESTAMP_LEN])
{
	time_t secs = (time_t)(wall_us / 1000000);
	long usec = (long)(wall_us % 1000000);
	if (usec < 0) {
		usec += 1000000;
		secs--;
	}
	struct tm tm;
	if (!localtime_r(&secs, &tm)) {
		snprintf(out, MF_TIMESTAMP_LEN, "1970-01-01T00:00:00.000000");
		return;
	}
	size_t n = strftime(out, MF_TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, MF_TIMESTAMP_LEN - n, ".%06ld", usec);
}

static bool digits(const char *s, int n, int *val)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*val = v;
	return true;
}

bool mf_parse_timestamp(const char *s, int64_t *wall_us)
{
	int Y, M, D, h, m, sec;
	if (!s || strlen(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return false;
	if (!digits(s, 4, &Y) || !digits(s + 5, 2, &M) || !digits(s + 8, 2, &D) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &m) || !digits(s + 17, 2, &sec))
		return false;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || Y < 1970)
		return false;
	const char *p = s + 19;
	long frac_us = 0;
	if (*p == '.') {
		int nd = 0;
		long scale = 100000;
		for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
			if (nd < 6) {
				frac_us += (*p - '0') * scale;
				scale /= 10;
			}
			if (nd >= 9)
				return false;
		}
		if (nd == 0)
			return false;
	}
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
			 .tm_hour = h, .tm_min = m, .tm_sec = sec, .tm_isdst = -1 };
	time_t t;
	if (*p == '\0') {
		t = mktime(&tm); /* naive: local time, as the reference wrote it */
	} else {
		long off = 0;
		if (*p == 'Z' && p[1] == '\0') {
			off = 0;
		} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
			int oh, om;
			if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
				return false;
			off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		} else {
			return false;
		}
		t = timegm(&tm) - off;
	}
	if (t == (time_t)-1 && !(Y == 1969))
		return false;
	*wall_us = (int64_t)t * 1000000 + frac_us;
	return true;
}

/* ---- serialisation ------------------------------------------------------------------------- */

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_puts(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* JSON string with the escapes JSON requires (control characters as \u00XX). */
static void sb_json_string(struct strbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			sb_add(b, e, 2);
		} else if (c < 0x20) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_add(b, (const char *)&c, 1);
		}
	}
	sb_add(b, "\"", 1);
}

/* A float as Python's repr: the shortest text that reads back to the same double, always
 * with a '.' or an exponent so Python loads it as float. Non-finite values become 0.0. */
static void sb_float(struct strbuf *b, double x)
{
	char tmp[40];
	if (!isfinite(x))
		x = 0;
	/* Python's repr: the shortest digits that read back as x. Any double written with
	 * 15 significant digits or fewer is printed by %.15g as exactly those digits (DBL_DIG is
	 * 15 and %g drops trailing zeros), so only 15, 16 and 17 need trying: the same string
	 * as trying every precision from 1, in a sixth of the snprintf/strtod calls. Subnormals
	 * carry fewer digits than DBL_DIG, so they still try every precision. */
	for (int prec = x != 0 && fabs(x) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, x);
		if (prec == 17 || strtod(tmp, NULL) == x)
			break;
	}
	/* Python switches to exponent form from 1e16 up, %g from 10^prec up: keep digits. */
	if (strchr(tmp, 'e') && fabs(x) >= 1e-4 && fabs(x) < 1e16)
		snprintf(tmp, sizeof(tmp), "%.1f", x);
	/* ... and the other way: 16 or 17 digits from 1e16 up are still plain under %g. */
	if (!strchr(tmp, 'e') && fabs(x) >= 1e16) {
		int digits = 0, last = 0;
		for (const char *p = tmp; *p && *p != '.'; p++)
			if (*p >= '0' && *p <= '9' && (++digits, *p != '0'))
				last = digits;
		snprintf(tmp, sizeof(tmp), "%.*e", last - 1, x);
	}
	if (!strpbrk(tmp, ".en"))
		strcat(tmp, ".0");
	sb_puts(b, tmp);
}

static int cmp_container_id(const void *a, const void *b)
{
	char x[16], y[16];
	snprintf(x, sizeof(x), "%u", (*(const struct mf_container *const *)a)->vmid);
	snprintf(y, sizeof(y), "%u", (*(const struct mf_container *const *)b)->vmid);
	return strcmp(x, y); /* Python sorts the keys as strings: "1000" < "104" */
}

static void serialise_container(struct strbuf *b, const struct mf_container *c)
{
	const char *ind = "            ";   /* 12 spaces: depth 3 */
	sb_printf(b, "        \"%u\": {\n", c->vmid);
	sb_printf(b, "%s\"cpu_usage_percent\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_CPU) ? 0 : c->cpu_usage_percent);
	sb_printf(b, ",\n%s\"filesystem_free_gb\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_FS_FREE) ? 0 : c->filesystem_free_gb);
	sb_printf(b, ",\n%s\"filesystem_total_gb\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_FS_TOTAL) ? 0 : c->filesystem_total_gb);
	sb_printf(b, ",\n%s\"filesystem_usage_gb\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_FS_USAGE) ? 0 : c->filesystem_usage_gb);
	bool io = !(c->unknown & MF_BIT(MF_IO)), net = !(c->unknown & MF_BIT(MF_NETWORK));
	sb_printf(b, ",\n%s\"io_stats\": {\n%s    \"reads\": %llu,\n%s    \"writes\": %llu\n%s}", ind,
		  ind, io ? (unsigned long long)c->io_reads : 0ull, ind,
		  io ? (unsigned long long)c->io_writes : 0ull, ind);
	sb_printf(b, ",\n%s\"memory_usage_mb\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_MEMORY) ? 0 : c->memory_usage_mb);
	sb_printf(b, ",\n%s\"network_usage\": {\n%s    \"rx_bytes\": %llu,\n%s    \"tx_bytes\": %llu\n%s}",
		  ind, ind, net ? (unsigned long long)c->rx_bytes : 0ull, ind,
		  net ? (unsigned long long)c->tx_bytes : 0ull, ind);
	sb_printf(b, ",\n%s\"process_count\": %llu", ind,
		  c->unknown & MF_BIT(MF_PROCESSES) ? 0ull : (unsigned long long)c->process_count);
	sb_printf(b, ",\n%s\"swap_total_mb\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_SWAP_TOTAL) ? 0 : c->swap_total_mb);
	sb_printf(b, ",\n%s\"swap_usage_mb\": ", ind);
	sb_float(b, c->unknown & MF_BIT(MF_SWAP_USAGE) ? 0 : c->swap_usage_mb);
	sb_printf(b, ",\n%s\"timestamp\": ", ind);
	sb_json_string(b, c->timestamp);
	if (c->unknown & ((1u << MF_FIELD_COUNT) - 1)) {
		sb_printf(b, ",\n%s\"unknown\": [", ind);
		bool first = true;
		for (int f = 0; f < MF_FIELD_COUNT; f++) {
			if (!(c->unknown & MF_BIT(f)))
				continue;
			sb_printf(b, "%s\n%s    \"%s\"", first ? "" : ",", ind, field_names[f]);
			first = false;
		}
		sb_printf(b, "\n%s]", ind);
	}
	sb_puts(b, "\n        }");
}

static void serialise_summary(struct strbuf *b, const struct mf_summary *s)
{
	const char *ind = "            ";
	sb_puts(b, "        \"summary\": {\n");
	sb_printf(b, "%s\"collected_containers\": %u,\n", ind, s->collected_containers);
	sb_printf(b, "%s\"collection_end_time\": ", ind);
	sb_json_string(b, s->collection_end_time);
	sb_printf(b, ",\n%s\"collection_start_time\": ", ind);
	sb_json_string(b, s->collection_start_time);
	sb_printf(b, ",\n%s\"monitor_cpu_percent\": ", ind);
	sb_float(b, s->monitor_cpu_percent);
	sb_printf(b, ",\n%s\"monitor_memory_usage_mb\": ", ind);
	sb_float(b, s->monitor_memory_usage_mb);
	sb_printf(b, ",\n%s\"total_containers\": %u", ind, s->total_containers);
	sb_printf(b, ",\n%s\"total_duration_seconds\": ", ind);
	sb_float(b, s->total_duration_seconds);
	sb_puts(b, "\n        }");
}

char *mf_serialise_snapshot(const struct mf_container *c, size_t n, const struct mf_summary *s,
			    size_t *len)
{
	const struct mf_container **order = malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return NULL;
	for (size_t i = 0; i < n; i++)
		order[i] = &c[i];
	qsort(order, n, sizeof(*order), cmp_container_id);

	struct strbuf b = { 0 };
	sb_puts(&b, "    {\n");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_puts(&b, ",\n");
		serialise_container(&b, order[i]);
	}
	if (s) {
		if (n)
			sb_puts(&b, ",\n");
		serialise_summary(&b, s);
	}
	sb_puts(&b, "\n    }");
	free(order);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	*len = b.len;
	return b.s;
}

/* ---- reader -------------------------------------------------------------------------------- */

static bool get_number(json_object *o, const char *key, double *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return false;
	json_type t = json_object_get_type(v);
	if (t != json_type_double && t != json_type_int)
		return false;
	double d = json_object_get_double(v);
	if (!isfinite(d) || d < 0)
		return false;
	*out = d;
	return true;
}

static bool get_count(json_object *o, const char *key, uint64_t *out)
{
	double d;
	if (!get_number(o, key, &d) || d > 1.8e19)
		return false;
	json_object *v;
	json_object_object_get_ex(o, key, &v);
	if (json_object_get_type(v) == json_type_int) {
		int64_t i = json_object_get_int64(v);
		/* json-c saturates at INT64_MAX; above it take the unsigned reading */
		*out = i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i;
	} else {
		*out = (uint64_t)d;
	}
	return true;
}

static bool parse_vmid(const char *key, uint32_t *vmid)
{
	size_t n = strlen(key);
	if (n == 0 || n > 9 || key[0] == '0')
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (key[i] < '0' || key[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(key[i] - '0');
	}
	*vmid = v;
	return true;
}

/* One container record; false when it must be skipped (the reference skips such rows). */
static bool parse_record(const char *key, json_object *o, struct mf_container *c)
{
	memset(c, 0, sizeof(*c));
	if (!parse_vmid(key, &c->vmid) || !json_object_is_type(o, json_type_object))
		return false;
	json_object *v, *io, *net;
	if (!json_object_object_get_ex(o, "timestamp", &v) || !json_object_is_type(v, json_type_string))
		return false;
	const char *ts = json_object_get_string(v);
	int64_t us;
	if (strlen(ts) >= MF_TIMESTAMP_LEN || !mf_parse_timestamp(ts, &us))
		return false;
	strcpy(c->timestamp, ts);
	if (!get_number(o, "cpu_usage_percent", &c->cpu_usage_percent) || c->cpu_usage_percent > 100 ||
	    !get_number(o, "memory_usage_mb", &c->memory_usage_mb) ||
	    !get_count(o, "process_count", &c->process_count) ||
	    !get_number(o, "filesystem_usage_gb", &c->filesystem_usage_gb) ||
	    !get_number(o, "filesystem_total_gb", &c->filesystem_total_gb) ||
	    !get_number(o, "filesystem_free_gb", &c->filesystem_free_gb))
		return false;
	if (!json_object_object_get_ex(o, "io_stats", &io) || !json_object_is_type(io, json_type_object) ||
	    !get_count(io, "reads", &c->io_reads) || !get_count(io, "writes", &c->io_writes))
		return false;
	if (!json_object_object_get_ex(o, "network_usage", &net) ||
	    !json_object_is_type(net, json_type_object) ||
	    !get_count(net, "rx_bytes", &c->rx_bytes) || !get_count(net, "tx_bytes", &c->tx_bytes))
		return false;
	/* Swap defaults to 0 (the reference's loader), but a wrong type is still an error. */
	if (json_object_object_get_ex(o, "swap_usage_mb", &v) && !get_number(o, "swap_usage_mb", &c->swap_usage_mb))
		return false;
	if (json_object_object_get_ex(o, "swap_total_mb", &v) && !get_number(o, "swap_total_mb", &c->swap_total_mb))
		return false;
	if (json_object_object_get_ex(o, "unknown", &v) && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (!json_object_is_type(e, json_type_string))
				continue;
			for (int f = 0; f < MF_FIELD_COUNT; f++)
				if (strcmp(json_object_get_string(e), field_names[f]) == 0)
					c->unknown |= MF_BIT(f);
		}
	}
	return true;
}

static void copy_ts(char dst[MF_TIMESTAMP_LEN], json_object *o, const char *key)
{
	json_object *v;
	dst[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(dst, MF_TIMESTAMP_LEN, "%s", json_object_get_string(v));
}

static void parse_summary(json_object *o, struct mf_summary *s)
{
	memset(s, 0, sizeof(*s));
	copy_ts(s->collection_start_time, o, "collection_start_time");
	copy_ts(s->collection_end_time, o, "collection_end_time");
	double d;
	if (get_number(o, "total_containers", &d) && d < 1e9)
		s->total_containers = (unsigned)d;
	if (get_number(o, "collected_containers", &d) && d < 1e9)
		s->collected_containers = (unsigned)d;
	get_number(o, "total_duration_seconds", &s->total_duration_seconds);
	get_number(o, "monitor_cpu_percent", &s->monitor_cpu_percent);
	get_number(o, "monitor_memory_usage_mb", &s->monitor_memory_usage_mb);
}

int mf_snapshot_from_json(json_object *snap, size_t index, struct mf_recbuf *rb,
			  struct mf_snapshot *s, struct mf_read_stats *st)
{
	if (!json_object_is_type(snap, json_type_object)) {
		st->skipped_snapshots++;
		return 0;
	}
	memset(s, 0, sizeof(*s));
	s->index = index;
	size_t count = 0;
	size_t keys = (size_t)json_object_object_length(snap);
	if (keys > rb->cap) {
		struct mf_container *nr = realloc(rb->recs, keys * sizeof(*nr));
		if (!nr)
			return -1;
		rb->recs = nr;
		rb->cap = keys;
	}
	json_object_object_foreach(snap, key, val) {
		if (strcmp(key, "summary") == 0) {
			if (json_object_is_type(val, json_type_object)) {
				parse_summary(val, &s->summary);
				s->has_summary = true;
			}
			continue;
		}
		if (parse_record(key, val, &rb->recs[count]))
			count++;
		else
			st->skipped_records++;
	}
	if (count == 0 && !s->has_summary) {
		st->skipped_snapshots++;
		return 0;
	}
	s->containers = rb->recs;
	s->n = count;
	st->snapshots++;
	st->records += count;
	return 1;
}

/* The second pass: each element parsed, converted, handed to the caller. */
struct reader {
	mf_snapshot_cb cb;
	void *ctx;
	struct mf_read_stats *stats;
	struct mf_recbuf rb;
	size_t index;
	int rc;                      /* the callback's non-zero value */
	bool oom;
};

static int read_elem(void *ctx, json_object *o, bool is_object, uint64_t start, uint64_t end)
{
	(void)start;
	(void)end;
	struct reader *x = ctx;
	size_t index = x->index++;
	if (!is_object) {
		x->stats->skipped_snapshots++;
		return 0;
	}
	struct mf_snapshot s;
	int got = mf_snapshot_from_json(o, index, &x->rb, &s, x->stats);
	if (got < 0) {
		x->oom = true;
		return 1;
	}
	if (got > 0 && x->cb && (x->rc = x->cb(x->ctx, &s)) != 0)
		return 1;
	return 0;
}

static int no_elem(void *ctx, json_object *o, bool is_object, uint64_t start, uint64_t end)
{
	(void)ctx;
	(void)o;
	(void)is_object;
	(void)start;
	(void)end;
	return 0;
}

/* The message for a file the first pass found unreadable as a whole. */
static void scan_error(int fd, const char *path, const struct mf_scan *r, char *err, size_t errlen)
{
	unsigned line = 0, col = 0;
	mf_scan_position(fd, r->stop_off, &line, &col);
	char first = 0;
	switch (r->stop) {
	case MF_SCAN_IOERR:
		errbuf_set(err, errlen, "%s: %s", path, strerror(r->ioerr));
		break;
	case MF_SCAN_CUT:
		errbuf_set(err, errlen, "%s:%u:%u: unexpected end of file (truncated JSON)", path, line, col);
		break;
	case MF_SCAN_TRAILING:
		errbuf_set(err, errlen, "%s:%u:%u: trailing data after the JSON array", path, line, col);
		break;
	case MF_SCAN_NOT_ARRAY:
		/* a JSON value, but not an array; or not JSON at all */
		if (pread(fd, &first, 1, (off_t)r->stop_off) == 1 && strchr("{\"-0123456789tfnNI", first) && first) {
			errbuf_set(err, errlen, "%s: expected a JSON array of snapshots at the top level", path);
			break;
		}
		/* fall through */
	default:
		errbuf_set(err, errlen, "%s:%u:%u: malformed JSON", path, line, col);
		break;
	}
}

int metrics_file_read(const char *path, mf_snapshot_cb cb, void *ctx, struct mf_read_stats *stats,
		      char *err, size_t errlen)
{
	struct mf_read_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	struct mf_scanner *sc = mf_scanner_new(fd);
	if (!sc) {
		errbuf_set(err, errlen, "out of memory");
		close(fd);
		return -1;
	}
	/* first the whole file is checked, so a bad file is refused before any callback */
	struct mf_scan r;
	int rc = -1;
	mf_scan_file(sc, false, &r, no_elem, NULL);
	if (r.stop != MF_SCAN_COMPLETE) {
		scan_error(fd, path, &r, err, errlen);
		goto out;
	}
	struct reader x = { .cb = cb, .ctx = ctx, .stats = stats };
	mf_scan_file(sc, true, &r, read_elem, &x);
	free(x.rb.recs);
	if (x.oom) {
		errbuf_set(err, errlen, "out of memory");
	} else if (x.rc) {
		rc = x.rc;
	} else if (r.stop != MF_SCAN_COMPLETE) {
		errbuf_set(err, errlen, "%s: changed while it was read", path);
	} else {
		rc = 0;
	}
out:
	mf_scanner_free(sc);
	close(fd);
	return rc;
}

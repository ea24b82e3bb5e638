/*
 * compat/suggestions.c — the JSON-lines suggestions log (see compat/suggestions.h).
 */
#include "compat/suggestions.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/errbuf.h"
#include "base/fsutil.h"

struct suggestions {
	char *path;
	int fd;
	uint64_t max_bytes;
	dev_t dev;
	ino_t ino;
};

void suggestions_timestamp(int64_t wall_ms, char out[40])
{
	time_t secs = (time_t)(wall_ms / 1000);
	int ms = (int)(wall_ms % 1000);
	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	struct tm tm;
	if (!localtime_r(&secs, &tm)) {
		snprintf(out, 40, "1970-01-01T00:00:00.000+00:00");
		return;
	}
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(out + n, 40 - n, ".%03d%c%02ld:%02ld", ms, sign, off / 3600, (off % 3600) / 60);
}

/* ---- formatting ------------------------------------------------------------------------- */

struct line {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
	if (l->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= l->cap - l->len)
		l->overflow = true;
	else
		l->len += (size_t)n;
}

static void add_string(struct line *l, const char *s, size_t max)
{
	add(l, "\"");
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			add(l, "\\%c", c);
		else if (c < 0x20)
			add(l, "\\u%04x", c);
		else
			add(l, "%c", c);
	}
	add(l, "\"");
}

/* Numbers: finite, shortest sensible form; non-finite values cannot be JSON. */
static void add_num(struct line *l, double x)
{
	if (!isfinite(x))
		x = 0;
	if (x == floor(x) && fabs(x) < 1e15)
		add(l, "%.0f", x);
	else
		add(l, "%.6g", x);
}

int suggestions_format(const struct decision *d, char *buf, size_t len)
{
	if (!buf || len == 0)
		return -1;
	struct line l = { buf, 0, len, false };
	char ts[40];
	suggestions_timestamp(d->time_ms, ts);
	double cpu_amount = d->cpu_change == DECISION_NONE ? 0 : fabs(d->cpu_to - d->cpu_from);
	double ram_amount = d->mem_change == DECISION_NONE ? 0
			    : (double)(d->mem_to_mb > d->mem_from_mb ? d->mem_to_mb - d->mem_from_mb
								     : d->mem_from_mb - d->mem_to_mb);
	add(&l, "{\"timestamp\":\"%s\",\"container_id\":\"%u\",\"cpu_action\":\"%s\",\"cpu_amount\":", ts,
	    d->vmid, decision_change_name(d->cpu_change));
	add_num(&l, cpu_amount);
	add(&l, ",\"ram_action\":\"%s\",\"ram_amount\":", decision_change_name(d->mem_change));
	add_num(&l, ram_amount);
	add(&l, ",\"confidence\":");
	add_num(&l, d->confidence);
	add(&l, ",\"reason\":\"%s\",\"detail\":", decision_reason_name(d->reason));
	add_string(&l, d->detail, sizeof(d->detail));
	add(&l, ",\"seq\":%llu,\"cpu_from\":", (unsigned long long)d->seq);
	add_num(&l, d->cpu_from);
	add(&l, ",\"cpu_to\":");
	add_num(&l, d->cpu_to);
	add(&l, ",\"ram_from_mb\":%llu,\"ram_to_mb\":%llu,\"urgency\":%d,\"priority\":%d,\"anomaly\":%s,"
	    "\"anomaly_score\":", (unsigned long long)d->mem_from_mb, (unsigned long long)d->mem_to_mb,
	    d->urgency, d->priority, d->anomaly ? "true" : "false");
	add_num(&l, d->anomaly_score);
	add(&l, ",\"top_features\":[");
	bool first = true;
	for (int i = 0; i < DECISION_TOP_FEATURES; i++) {
		if (!d->top[i].name[0])
			continue;
		add(&l, "%s{\"name\":", first ? "" : ",");
		add_string(&l, d->top[i].name, sizeof(d->top[i].name));
		add(&l, ",\"share\":");
		add_num(&l, d->top[i].share);
		add(&l, "}");
		first = false;
	}
	add(&l, "],\"signals\":{\"cpu_pct\":");
	add_num(&l, d->cpu_pct);
	add(&l, ",\"mem_pct\":");
	add_num(&l, d->mem_pct);
	add(&l, ",\"cpu_psi_some_ms\":");
	add_num(&l, d->cpu_psi_some_ms);
	add(&l, ",\"mem_psi_some_ms\":");
	add_num(&l, d->mem_psi_some_ms);
	add(&l, "},\"outcome\":");
	add_string(&l, d->outcome, sizeof(d->outcome));
	add(&l, ",\"enforced\":%s,\"applies_at_start\":%s,\"woken_by\":\"%s\"", d->enforced ? "true" : "false",
	    d->applies_at_start ? "true" : "false", decision_wake_name(d->woken_by));
	add(&l, ",\"dry_run\":%s}\n", d->dry_run ? "true" : "false");
	return l.overflow ? -1 : (int)l.len;
}

/* ---- the file ------------------------------------------------------------------------------- */

static int reopen(struct suggestions *s, char *err, size_t errlen)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (s->fd < 0) {
		errbuf_set(err, errlen, "%s: %s", s->path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(s->fd, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	return 0;
}

struct suggestions *suggestions_open(const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
	if (!path || !*path) {
		errbuf_set(err, errlen, "no suggestions file path");
		return NULL;
	}
	struct suggestions *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = -1;
	s->max_bytes = max_bytes;
	if (fs_mkdir_parent(path) != 0) {
		errbuf_set(err, errlen, "%s: cannot create its directory: %s", path, strerror(errno));
		suggestions_close(s);
		return NULL;
	}
	if (reopen(s, err, errlen) != 0) {
		suggestions_close(s);
		return NULL;
	}
	return s;
}

void suggestions_close(struct suggestions *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
}

int suggestions_write(struct suggestions *s, const struct decision *d, char *err, size_t errlen)
{
	char line[SUGGESTIONS_LINE_MAX];
	int n = suggestions_format(d, line, sizeof(line));
	if (n < 0) {
		errbuf_set(err, errlen, "suggestion line longer than %d bytes", SUGGESTIONS_LINE_MAX);
		return -1;
	}
	/* Renamed or removed from outside (logrotate): start a new file at the path. */
	struct stat at_path, open_st;
	if (stat(s->path, &at_path) != 0 || fstat(s->fd, &open_st) != 0 ||
	    at_path.st_ino != s->ino || at_path.st_dev != s->dev) {
		if (reopen(s, err, errlen) != 0)
			return -1;
		fstat(s->fd, &open_st);
	}
	if (s->max_bytes && (uint64_t)open_st.st_size + (uint64_t)n > s->max_bytes && open_st.st_size > 0) {
		size_t plen = strlen(s->path);
		char *old = malloc(plen + 3);
		if (old) {
			memcpy(old, s->path, plen);
			memcpy(old + plen, ".1", 3);
			if (rename(s->path, old) != 0) {
				errbuf_set(err, errlen, "%s: rotate: %s", s->path, strerror(errno));
				free(old);
				return -1;
			}
			free(old);
		}
		if (reopen(s, err, errlen) != 0)
			return -1;
	}
	ssize_t w;
	do {
		w = write(s->fd, line, (size_t)n);
	} while (w < 0 && errno == EINTR);
	if (w != n) {
		errbuf_set(err, errlen, "%s: %s", s->path, w < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/* The last "seq": N in the file's final 8 KiB (lines are at most SUGGESTIONS_LINE_MAX). */
static uint64_t last_seq_in(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[4 * SUGGESTIONS_LINE_MAX + 1];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)(sizeof(buf) - 1) ? end - (off_t)(sizeof(buf) - 1) : 0;
	ssize_t n = end > 0 ? pread(fd, buf, (size_t)(end - from), from) : 0;
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	uint64_t last = 0;
	for (const char *p = buf; (p = strstr(p, "\"seq\":")) != NULL; p += 6) {
		char *e;
		unsigned long long v = strtoull(p + 6, &e, 10);
		if (e != p + 6 && (*e == ',' || *e == '}') && v > last)
			last = v;
	}
	return last;
}

uint64_t suggestions_last_seq(const char *path)
{
	if (!path || !*path)
		return 0;
	uint64_t s = last_seq_in(path);
	if (s == 0) {
		char old[4200];
		snprintf(old, sizeof(old), "%s.1", path);
		s = last_seq_in(old);
	}
	return s;
}

/* ---- reading back ------------------------------------------------------------------------ */

static double jd(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

static const char *js(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : "";
}

static bool jb(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static enum decision_change change_of(const char *a)
{
	for (int c = DECISION_NONE; c <= DECISION_SET; c++)
		if (!strcmp(a, decision_change_name((enum decision_change)c)))
			return (enum decision_change)c;
	return DECISION_NONE;
}

/* "2026-01-02T03:04:05.678+01:00" -> Unix ms; false when it is not one of ours. */
static bool parse_timestamp(const char *ts, int64_t *ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int frac = 0, oh = 0, om = 0;
	char sign = 0;
	if (sscanf(ts, "%d-%d-%dT%d:%d:%d.%3d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &frac, &sign, &oh, &om) != 10 || (sign != '+' && sign != '-'))
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	int off = (oh * 60 + om) * 60 * (sign == '-' ? -1 : 1);
	*ms = ((int64_t)t - off) * 1000 + frac;
	return true;
}

static bool decision_from_line(const char *line, struct decision *d)
{
	json_object *o = json_tokener_parse(line);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return false;
	}
	memset(d, 0, sizeof(*d));
	d->seq = (uint64_t)jd(o, "seq");
	d->vmid = (uint32_t)strtoul(js(o, "container_id"), NULL, 10);
	bool ok = d->seq > 0 && d->vmid >= 100 && parse_timestamp(js(o, "timestamp"), &d->time_ms);
	d->cpu_change = change_of(js(o, "cpu_action"));
	d->mem_change = change_of(js(o, "ram_action"));
	d->cpu_from = jd(o, "cpu_from");
	d->cpu_to = jd(o, "cpu_to");
	d->mem_from_mb = (uint64_t)jd(o, "ram_from_mb");
	d->mem_to_mb = (uint64_t)jd(o, "ram_to_mb");
	d->confidence = jd(o, "confidence");
	d->urgency = (int)jd(o, "urgency");
	d->priority = (int)jd(o, "priority");
	d->anomaly = jb(o, "anomaly");
	d->anomaly_score = jd(o, "anomaly_score");
	d->dry_run = jb(o, "dry_run");
	d->enforced = jb(o, "enforced");
	d->applies_at_start = jb(o, "applies_at_start");
	d->wake_us = -1;
	const char *reason = js(o, "reason");
	for (int r = 0; r <= REASON_RECONCILE; r++)
		if (!strcmp(reason, decision_reason_name((enum decision_reason)r)))
			d->reason = (enum decision_reason)r;
	snprintf(d->detail, sizeof(d->detail), "%s", js(o, "detail"));
	snprintf(d->outcome, sizeof(d->outcome), "%s", *js(o, "outcome") ? js(o, "outcome") : "unknown");
	json_object *sig;
	if (json_object_object_get_ex(o, "signals", &sig)) {
		d->cpu_pct = jd(sig, "cpu_pct");
		d->mem_pct = jd(sig, "mem_pct");
		d->cpu_psi_some_ms = jd(sig, "cpu_psi_some_ms");
		d->mem_psi_some_ms = jd(sig, "mem_psi_some_ms");
	}
	json_object_put(o);
	return ok;
}

size_t suggestions_read_last(const char *path, struct decision *out, size_t max)
{
	if (!path || !*path || max == 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	off_t end = lseek(fd, 0, SEEK_END);
	size_t want = max * 1024; /* a line is ~600 bytes: enough for max of them, bounded */
	if (want > (size_t)SUGGESTIONS_READ_MAX)
		want = SUGGESTIONS_READ_MAX;
	off_t from = end > (off_t)want ? end - (off_t)want : 0;
	size_t len = end > from ? (size_t)(end - from) : 0;
	char *buf = malloc(len + 1);
	ssize_t n = buf && len ? pread(fd, buf, len, from) : 0;
	close(fd);
	if (!buf || n <= 0) {
		free(buf);
		return 0;
	}
	buf[n] = '\0';
	/* whole lines only: skip a partial first line when the read did not start the file */
	char *p = buf;
	if (from > 0) {
		char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : buf + n;
	}
	size_t k = 0, seen = 0;
	for (char *save = NULL, *line = strtok_r(p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct decision d;
		if (!decision_from_line(line, &d))
			continue;
		out[seen % max] = d; /* a ring: the newest max stay */
		seen++;
	}
	free(buf);
	k = seen < max ? seen : max;
	if (seen > max) { /* rotate the ring so out[] is oldest first */
		size_t start = seen % max;
		struct decision *tmp = malloc(max * sizeof(*tmp));
		if (!tmp)
			return 0;
		for (size_t i = 0; i < max; i++)
			tmp[i] = out[(start + i) % max];
		memcpy(out, tmp, max * sizeof(*tmp));
		free(tmp);
	}
	return k;
}

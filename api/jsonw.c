/*
 * jsonw.c — see jsonw.h. The buffer doubles as needed; after an allocation failure every
 * call is a no-op and jw_finish() returns NULL, so callers check once at the end.
 */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jsonw *w, size_t initial)
{
	memset(w, 0, sizeof(*w));
	w->cap = initial < 64 ? 64 : initial;
	w->buf = malloc(w->cap);
	if (!w->buf)
		w->oom = true;
}

void jw_free(struct jsonw *w)
{
	free(w->buf);
	w->buf = NULL;
}

char *jw_finish(struct jsonw *w, size_t *len)
{
	if (w->oom) {
		jw_free(w);
		return NULL;
	}
	w->buf[w->len] = '\0';
	if (len)
		*len = w->len;
	char *b = w->buf;
	w->buf = NULL;
	return b;
}

static bool grow(struct jsonw *w, size_t n);

/* Room for n more bytes plus the final NUL. */
static inline bool reserve(struct jsonw *w, size_t n)
{
	if (__builtin_expect(w->len + n + 1 <= w->cap && !w->oom, 1))
		return true;
	return grow(w, n);
}

static bool grow(struct jsonw *w, size_t n)
{
	if (w->oom)
		return false;
	size_t cap = w->cap;
	while (w->len + n + 1 > cap)
		cap *= 2;
	char *nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

static inline void put(struct jsonw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void putc1(struct jsonw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/* Before a value (or a key): the comma between siblings. A value right after its key
 * needs none: jw_key leaves need_comma false for that one value. */
static inline void before_value(struct jsonw *w)
{
	if (w->depth > 0 && w->need_comma[w->depth - 1])
		putc1(w, ',');
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = true;
}

static void open_(struct jsonw *w, char c)
{
	before_value(w);
	putc1(w, c);
	if (w->depth < JSONW_MAX_DEPTH)
		w->need_comma[w->depth] = false;
	w->depth++;
}

static void close_(struct jsonw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	putc1(w, c);
}

void jw_obj_begin(struct jsonw *w) { open_(w, '{'); }
void jw_obj_end(struct jsonw *w) { close_(w, '}'); }
void jw_arr_begin(struct jsonw *w) { open_(w, '['); }
void jw_arr_end(struct jsonw *w) { close_(w, ']'); }

static void write_string(struct jsonw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (!reserve(w, n * 6 + 2)) /* worst case: every byte escaped as \u00XX */
		return;
	char *o = w->buf + w->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (c == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

/* Keys are literals chosen by us: plain ASCII, copied without escaping. */
void jw_key(struct jsonw *w, const char *key)
{
	size_t n = strlen(key);
	if (!reserve(w, n + 4))
		return;
	char *o = w->buf + w->len;
	if (w->depth > 0 && w->need_comma[w->depth - 1])
		*o++ = ',';
	*o++ = '"';
	memcpy(o, key, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	w->len = (size_t)(o - w->buf);
	/* the value that follows must not add a comma; the one after it must */
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = false;
}

void jw_strn(struct jsonw *w, const char *s, size_t n)
{
	before_value(w);
	write_string(w, s, n);
}

void jw_str(struct jsonw *w, const char *s)
{
	jw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

static void write_u64(struct jsonw *w, uint64_t v, bool neg)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	put(w, tmp + i, sizeof(tmp) - (size_t)i);
}

void jw_int(struct jsonw *w, int64_t v)
{
	before_value(w);
	if (v < 0)
		write_u64(w, (uint64_t)0 - (uint64_t)v, true);
	else
		write_u64(w, (uint64_t)v, false);
}

void jw_uint(struct jsonw *w, uint64_t v)
{
	before_value(w);
	write_u64(w, v, false);
}

void jw_num(struct jsonw *w, double v)
{
	before_value(w);
	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	double a = fabs(v);
	if (a >= 1e12) {
		char tmp[40];
		int n = snprintf(tmp, sizeof(tmp), "%.17g", v);
		put(w, tmp, (size_t)n);
		return;
	}
	/* fixed point, 6 decimals, rounded, trailing zeros trimmed */
	uint64_t scaled = (uint64_t)(a * 1e6 + 0.5); /* a < 1e12: fits, rounds half up */
	uint64_t ip = scaled / 1000000, fp = scaled % 1000000;
	write_u64(w, ip, v < 0 && scaled != 0);
	if (fp) {
		char frac[8];
		int k = 6;
		frac[0] = '.';
		for (int i = 6; i >= 1; i--) {
			frac[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		while (frac[k] == '0')
			k--;
		put(w, frac, (size_t)k + 1);
	}
}

void jw_bool(struct jsonw *w, bool v)
{
	before_value(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jsonw *w)
{
	before_value(w);
	put(w, "null", 4);
}

void jw_raw(struct jsonw *w, const char *json, size_t n)
{
	before_value(w);
	put(w, json, n);
}

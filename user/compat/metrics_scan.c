/*
 * compat/metrics_scan.c — reads a metrics history file one cycle at a time (see compat/metrics_file_int.h),
 * for the writer's loader (compat/metrics_file_append.c) and the reader (metrics_file_read).
 *
 * The file goes through a 64 KiB buffer; every element of the top-level array is checked
 * as its bytes stream by (base/json_check.h: no allocation), and, when the caller asks, parsed
 * by json-c's incremental tokener fed the same bytes, so only one cycle's objects are alive
 * at a time: a 600 MB history (1 000 containers, 1 000 cycles) costs a buffer, not 600 MB
 * and a json-c tree several times that. The scan also notes whether the top level is
 * json.dump(indent=4)'s, the layout the writer can append to, and where and why a file
 * stops making sense (cut off, malformed, trailing data).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_check.h"
#include "compat/metrics_file_int.h"

#define SCAN_CHUNK (64u * 1024u)
#define MF_MAX_CYCLE_BYTES (64ull << 20)   /* a parsed element larger than this is refused */
#define ELEMENT_INDENT "    "              /* an element's first line, before its "{" */

struct mf_scanner {
	int fd;
	uint64_t base;               /* file offset of buf[0] */
	size_t pos, len;
	int err;                     /* errno of a failed read */
	json_tokener *tok;           /* the second pass, over a foreign layout, parses */
	struct json_check check;
	char buf[SCAN_CHUNK];
};

/* 1: bytes at pos, 0: end of file, -1: read error. */
static int sc_more(struct mf_scanner *sc)
{
	if (sc->pos < sc->len)
		return 1;
	sc->base += sc->len;
	sc->pos = sc->len = 0;
	for (;;) {
		ssize_t r = read(sc->fd, sc->buf, sizeof(sc->buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sc->err = errno;
			return -1;
		}
		sc->len = (size_t)r;
		return r > 0;
	}
}

static uint64_t sc_off(const struct mf_scanner *sc)
{
	return sc->base + sc->pos;
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
}

#define SC_EOF (-1)
#define SC_IOERR (-2)

/* Skips whitespace; *exact tells whether exactly `want` was skipped. Returns the next byte
 * (not consumed), SC_EOF or SC_IOERR. */
static int sc_skip_ws(struct mf_scanner *sc, const char *want, bool *exact)
{
	size_t i = 0, wl = strlen(want);
	bool same = true;
	for (;;) {
		int m = sc_more(sc);
		if (m <= 0) {
			*exact = same && i == wl;
			return m == 0 ? SC_EOF : SC_IOERR;
		}
		char ch = sc->buf[sc->pos];
		if (!is_ws(ch)) {
			*exact = same && i == wl;
			return (unsigned char)ch;
		}
		if (i >= wl || want[i] != ch)
			same = false;
		i++;
		sc->pos++;
	}
}

enum value_end { VALUE_OK, VALUE_CUT, VALUE_BAD, VALUE_IOERR };

/* One JSON value from the stream, checked by json_check (no memory); when `parse` and the
 * value is an object, the same bytes also go to json-c, which returns it in *o (json-c
 * accepts whatever json_check does, so both end at the same byte). */
static enum value_end sc_value(struct mf_scanner *sc, bool parse, bool *is_object, json_object **o)
{
	*o = NULL;
	*is_object = sc->buf[sc->pos] == '{'; /* the caller saw a byte there */
	parse = parse && *is_object;
	json_check_init(&sc->check);
	if (parse)
		json_tokener_reset(sc->tok);
	uint64_t fed = 0;
	for (;;) {
		int m = sc_more(sc);
		if (m < 0)
			return VALUE_IOERR;
		if (m == 0) /* a number at the very end is whole; anything else is cut off */
			return !parse && json_check_end(&sc->check) == JSON_CHECK_DONE ? VALUE_OK : VALUE_CUT;
		size_t used;
		enum json_check_result r = json_check_feed(&sc->check, sc->buf + sc->pos, sc->len - sc->pos, &used);
		if (r == JSON_CHECK_BAD) {
			sc->pos += used; /* at the offending byte, for the error's line and column */
			return VALUE_BAD;
		}
		if (parse) {
			*o = json_tokener_parse_ex(sc->tok, sc->buf + sc->pos, (int)used);
			enum json_tokener_error e = json_tokener_get_error(sc->tok);
			fed += used;
			if (r == JSON_CHECK_DONE ? e != json_tokener_success || !*o
						 : e != json_tokener_continue || fed > MF_MAX_CYCLE_BYTES) {
				json_object_put(*o);
				*o = NULL;
				return VALUE_BAD;
			}
		}
		sc->pos += used;
		if (r == JSON_CHECK_DONE)
			return VALUE_OK;
	}
}

static int stop(struct mf_scan *r, enum mf_scan_stop why, uint64_t off)
{
	r->stop = why;
	r->stop_off = off;
	return 0;
}

static int stop_io(const struct mf_scanner *sc, struct mf_scan *r)
{
	r->ioerr = sc->err ? sc->err : EIO;
	return stop(r, MF_SCAN_IOERR, sc->base + sc->pos);
}

static bool ends_like_element(int fd, uint64_t end)
{
	char tail[6];
	return end >= 6 && pread(fd, tail, 6, (off_t)(end - 6)) == 6 && memcmp(tail, "\n    }", 6) == 0;
}

int mf_scan_file(struct mf_scanner *sc, bool parse, struct mf_scan *r, mf_elem_fn fn, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->exact = true;
	sc->base = 0;
	sc->pos = sc->len = 0;
	sc->err = 0;
	if (lseek(sc->fd, 0, SEEK_SET) != 0) {
		sc->err = errno;
		return stop_io(sc, r);
	}
	bool ws_exact;
	int c = sc_skip_ws(sc, "", &ws_exact);
	if (c == SC_IOERR)
		return stop_io(sc, r);
	if (c == SC_EOF)
		return stop(r, MF_SCAN_CUT, sc_off(sc)); /* an empty file: cut off before the "[" */
	if (c != '[')
		return stop(r, MF_SCAN_NOT_ARRAY, sc_off(sc));
	r->exact = ws_exact;
	sc->pos++;
	uint64_t before = sc_off(sc);
	c = sc_skip_ws(sc, "\n" ELEMENT_INDENT, &ws_exact);
	if (c == ']') {
		r->exact = r->exact && sc_off(sc) == before; /* "[]" */
		sc->pos++;
		goto trailer;
	}
	for (;;) {
		if (c == SC_IOERR)
			return stop_io(sc, r);
		uint64_t start = sc_off(sc);
		json_object *o = NULL;
		bool is_object = false;
		enum value_end ve = c == SC_EOF ? VALUE_CUT : sc_value(sc, parse, &is_object, &o);
		if (ve == VALUE_IOERR)
			return stop_io(sc, r);
		if (ve != VALUE_OK) {
			return stop(r, ve == VALUE_CUT ? MF_SCAN_CUT : MF_SCAN_BAD, sc_off(sc));
		}
		/* judged only now: bytes cut off or damaged in "\n    " are damage, not layout */
		r->exact = r->exact && ws_exact;
		uint64_t end = sc_off(sc);
		if (is_object) {
			r->exact = r->exact && ends_like_element(sc->fd, end);
			r->cycles++;
		} else {
			r->exact = false; /* a number or a list where a cycle should be: rewrite without it */
			r->others++;
		}
		int rc = fn(ctx, o, is_object, start - (r->exact ? strlen(ELEMENT_INDENT) : 0), end);
		json_object_put(o);
		if (rc)
			return rc;
		c = sc_skip_ws(sc, "\n", &ws_exact);
		if (c == ']') {
			r->exact = r->exact && ws_exact;
			sc->pos++;
			break;
		}
		if (c != ',') {
			if (c == SC_IOERR)
				return stop_io(sc, r);
			/* cut off after a cycle, or garbage between cycles */
			return stop(r, c == SC_EOF ? MF_SCAN_CUT : MF_SCAN_BAD, sc_off(sc));
		}
		r->exact = r->exact && sc_off(sc) == end;
		sc->pos++;
		c = sc_skip_ws(sc, "\n" ELEMENT_INDENT, &ws_exact);
	}
trailer:
	c = sc_skip_ws(sc, "", &ws_exact);
	if (c == SC_IOERR)
		return stop_io(sc, r);
	if (c != SC_EOF) /* data after the array: json.load refuses the file */
		return stop(r, MF_SCAN_TRAILING, sc_off(sc));
	return 0;
}


struct mf_scanner *mf_scanner_new(int fd)
{
	struct mf_scanner *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	/* one level less than json-c's default, which a whole-file parse spends on the array */
	sc->tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH - 1);
	if (!sc->tok) {
		free(sc);
		return NULL;
	}
	sc->fd = fd;
	return sc;
}

void mf_scanner_free(struct mf_scanner *sc)
{
	if (!sc)
		return;
	json_tokener_free(sc->tok);
	free(sc);
}

int mf_scan_position(int fd, uint64_t off, unsigned *line, unsigned *col)
{
	char buf[4096];
	*line = *col = 1;
	for (uint64_t at = 0; at < off;) {
		size_t want = off - at < sizeof(buf) ? (size_t)(off - at) : sizeof(buf);
		ssize_t r = pread(fd, buf, want, (off_t)at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == '\n') {
				(*line)++;
				*col = 1;
			} else {
				(*col)++;
			}
		}
		at += (uint64_t)r;
	}
	return 0;
}

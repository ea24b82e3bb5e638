/*
 * jsonw.h — a small append-only JSON writer for the API's large answers
 * (/api/v1/containers, decisions, events). Building json-c object trees for 100 containers
 * costs thousands of mallocs and printf("%.17g") calls per request; this writes text
 * straight into one growing buffer. Commas are placed automatically.
 *
 * Numbers: integers exactly; other finite doubles in fixed notation with up to 6 decimals
 * (limits, percentages, scores and shares need no more), very large ones with %.17g;
 * NaN and infinities become null. Keys must be plain ASCII literals (copied as they are).
 * Strings are escaped; bytes outside printable ASCII in
 * names (which Proxmox limits to ASCII) are written as \u00XX escapes of the byte.
 */
#ifndef LXCSCALE_API_JSONW_H
#define LXCSCALE_API_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
	char *buf;
	size_t len, cap;
	bool oom;
	int depth;
	bool need_comma[JSONW_MAX_DEPTH];
};

void jw_init(struct jsonw *w, size_t initial);
/* Hands the NUL-terminated text to the caller (NULL after an allocation failure). */
char *jw_finish(struct jsonw *w, size_t *len);
void jw_free(struct jsonw *w);

void jw_obj_begin(struct jsonw *w);
void jw_obj_end(struct jsonw *w);
void jw_arr_begin(struct jsonw *w);
void jw_arr_end(struct jsonw *w);
/* A key inside an object; the next value call writes its value. */
void jw_key(struct jsonw *w, const char *key);

void jw_str(struct jsonw *w, const char *s);
void jw_strn(struct jsonw *w, const char *s, size_t n);
void jw_int(struct jsonw *w, int64_t v);
void jw_uint(struct jsonw *w, uint64_t v);
void jw_num(struct jsonw *w, double v);
void jw_bool(struct jsonw *w, bool v);
void jw_null(struct jsonw *w);
/* Already-encoded JSON text as one value. */
void jw_raw(struct jsonw *w, const char *json, size_t n);

/* key + value shorthands */
#define jw_kstr(w, k, v) (jw_key(w, k), jw_str(w, v))
#define jw_kint(w, k, v) (jw_key(w, k), jw_int(w, v))
#define jw_kuint(w, k, v) (jw_key(w, k), jw_uint(w, v))
#define jw_knum(w, k, v) (jw_key(w, k), jw_num(w, v))
#define jw_kbool(w, k, v) (jw_key(w, k), jw_bool(w, v))

#endif

/*
 * base/json_check.h — checks that bytes are one JSON value, as they stream by, without building
 * anything: constant memory, no allocation, resumable at any byte.
 *
 * The grammar is RFC 8259's, strictly (no comments, trailing commas, single quotes, leading
 * zeros or raw control characters in strings), plus the NaN, Infinity and -Infinity that
 * Python's json module writes and reads. Every value it accepts json-c's tokener accepts as
 * well (json-c is laxer), so a file checked here reads back through metrics_file_read.
 * Nesting deeper than JSON_CHECK_MAX_DEPTH is refused (json-c's own limit, with one level
 * left for the array around a metrics history's cycles).
 */
#ifndef LXCSCALE_JSON_CHECK_H
#define LXCSCALE_JSON_CHECK_H

#include <stddef.h>

#define JSON_CHECK_MAX_DEPTH 31

struct json_check {
	int state;
	unsigned depth;
	unsigned char in_object[JSON_CHECK_MAX_DEPTH + 1]; /* per open level: object or array */
	unsigned char aux;                                  /* \u digits seen, literal position */
	const char *literal;                                /* the literal being matched */
	unsigned char key;                                  /* the open string is a key */
};

enum json_check_result {
	JSON_CHECK_MORE,     /* all bytes consumed, the value is not complete yet */
	JSON_CHECK_DONE,     /* the value ended; *used bytes of this call belong to it */
	JSON_CHECK_BAD,      /* not JSON: *used is the offset of the offending byte */
};

void json_check_init(struct json_check *jc);
enum json_check_result json_check_feed(struct json_check *jc, const char *buf, size_t len, size_t *used);
/* At the end of the input: DONE when a number was waiting for its end, else BAD (cut off). */
enum json_check_result json_check_end(struct json_check *jc);

#endif

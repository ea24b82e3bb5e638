/*
 * compat/metrics_file_int.h — what compat/metrics_file.c (the format: serialiser and reader) shares with
 * compat/metrics_file_append.c (the history on disk). Not for use outside those two files.
 */
#ifndef LXCSCALE_METRICS_FILE_INT_H
#define LXCSCALE_METRICS_FILE_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "compat/metrics_file.h"

/* One cycle as an element at depth 1 of the array: starts with its 4-space indent ("    {"),
 * ends with "\n    }", no separator. Malloc'd, *len set; NULL when out of memory. */
char *mf_serialise_snapshot(const struct mf_container *c, size_t n, const struct mf_summary *s,
			    size_t *len);

/* Record buffer reused from one snapshot to the next. */
struct mf_recbuf {
	struct mf_container *recs;
	size_t cap;
};

/* One parsed array element into `s` (containers point into `rb`). Returns 1 accepted, 0
 * skipped (not an object, or nothing usable; counted in `st`), -1 out of memory. */
int mf_snapshot_from_json(json_object *snap, size_t index, struct mf_recbuf *rb,
			  struct mf_snapshot *s, struct mf_read_stats *st);

/* ---- reading a history file one cycle at a time (compat/metrics_scan.c) ------------------------ */

struct mf_scanner;
struct mf_scanner *mf_scanner_new(int fd);   /* the fd stays the caller's */
void mf_scanner_free(struct mf_scanner *sc);

enum mf_scan_stop {
	MF_SCAN_COMPLETE = 0,    /* a whole array, only whitespace after it */
	MF_SCAN_CUT,             /* the file ends inside the array (an interrupted write) */
	MF_SCAN_BAD,             /* not JSON from stop_off on */
	MF_SCAN_TRAILING,        /* something after the array's "]" */
	MF_SCAN_NOT_ARRAY,       /* the first thing in the file is not "[" */
	MF_SCAN_IOERR,           /* read error: ioerr */
};

struct mf_scan {
	bool exact;              /* json.dump(indent=4)'s top level and every element an object */
	enum mf_scan_stop stop;
	int ioerr;
	uint64_t cycles;         /* complete elements that are objects */
	uint64_t others;         /* complete elements that are not */
	uint64_t stop_off;       /* where the file stops making sense */
};

/* Called for each complete element, in file order: `o` is the parsed element when the scan
 * parses and it is an object, else NULL; [start, end) its bytes (with the indent before
 * its "{" when the layout is exact so far). Non-zero stops the scan, which returns it. */
typedef int (*mf_elem_fn)(void *ctx, json_object *o, bool is_object, uint64_t start, uint64_t end);

/* Scans the whole file from its start. Returns 0 (what was found is in *r) or fn's value. */
int mf_scan_file(struct mf_scanner *sc, bool parse, struct mf_scan *r, mf_elem_fn fn, void *ctx);

/* Line and column (1-based) of byte `off` of the file, for messages. 0 or -1. */
int mf_scan_position(int fd, uint64_t off, unsigned *line, unsigned *col);

#endif

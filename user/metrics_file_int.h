/*
 * metrics_file_int.h — what metrics_file.c (the format: serialiser and reader) shares with
 * metrics_file_append.c (the history on disk). Not for use outside those two files.
 */
#ifndef LXCSCALE_METRICS_FILE_INT_H
#define LXCSCALE_METRICS_FILE_INT_H

#include <json-c/json.h>

#include "metrics_file.h"

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

#endif

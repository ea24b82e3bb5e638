/*
 * compat/metrics_import.h — feature vectors from a reference-format metrics history.
 *
 * `lxcscale import-metrics FILE` seeds the model from what the reference system collected:
 * each container's records, in file order, become rows (CPU % and memory as recorded, I/O
 * and network counters turned into rates between consecutive records, the timestamps giving
 * time_diff), run through the same history and feature code as live samples, and every
 * vector whose selected features are all known is handed to the caller (normally to train
 * a forest). A container's first record only sets the baseline of its rates.
 */
#ifndef LXCSCALE_METRICS_IMPORT_H
#define LXCSCALE_METRICS_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "compat/metrics_file.h"
#include "features/features.h"

struct metrics_import_stats {
	struct mf_read_stats read;
	size_t containers;      /* distinct container ids */
	size_t vectors;         /* handed to the callback */
	size_t not_fed;         /* rows with a selected feature unknown */
	int64_t newest_ms;      /* the newest record's timestamp, ms since the epoch; 0: none */
};

/* Returns 0 to go on; non-zero stops the import and is returned. */
typedef int (*metrics_import_cb)(void *ctx, uint32_t vmid, const double *x, unsigned n);

/* history/window: as features_history_new(). Returns 0, -1 with a message, or the
 * callback's value. */
int metrics_import(const char *path, const struct feat_select *sel, unsigned history,
		   unsigned window, metrics_import_cb cb, void *ctx,
		   struct metrics_import_stats *stats, char *err, size_t errlen);

/* The row for one record given the container's previous record (NULL for its first). */
void metrics_import_row(const struct mf_container *prev, const struct mf_container *cur,
			struct feat_row *row);

#endif

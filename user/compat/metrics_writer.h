/*
 * compat/metrics_writer.h — writes the reference-format metrics history off the event loop.
 *
 * Writing a cycle means disk I/O and an fdatasync (and, every max_entries/8 cycles, a
 * rewrite of the whole file, hundreds of MB with 1 000 containers), which must not happen
 * on the loop. The loop hands over one cycle (copied) with metrics_writer_submit(); a
 * thread appends it to the file (metrics_file_append: in place, or the amortised trim). If the thread is still busy
 * when the next cycle comes, the newer cycle replaces the waiting one (counted as
 * dropped), so a slow disk never grows memory. The existing file is loaded first, so a
 * restart continues the history as the reference monitor did.
 */
#ifndef LXCSCALE_METRICS_WRITER_H
#define LXCSCALE_METRICS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "compat/metrics_file.h"

struct metrics_writer;

struct metrics_writer *metrics_writer_start(const char *path, unsigned max_entries);
/* Writes what is waiting, stops the thread, frees. */
void metrics_writer_stop(struct metrics_writer *w);
/* Loop thread: hand over one cycle (copied). */
void metrics_writer_submit(struct metrics_writer *w, const struct mf_container *c, size_t n,
			   const struct mf_summary *s);

struct metrics_writer_stats {
	uint64_t written, dropped, errors;
};
void metrics_writer_stats(struct metrics_writer *w, struct metrics_writer_stats *st);

#endif

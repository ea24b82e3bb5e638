/*
 * compat/metrics_writer.c — the metrics history writer thread (see compat/metrics_writer.h). The history
 * itself stays on disk (compat/metrics_file.h): the thread holds one cycle at a time.
 */
#include "compat/metrics_writer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/worker.h"

struct metrics_writer {
	struct metrics_file *mf;
	struct worker worker;        /* its lock guards everything below */
	bool pending;
	struct mf_container *c;      /* the waiting cycle */
	size_t n, cap;
	struct mf_summary summary;
	struct metrics_writer_stats st;
};

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	log_warning("metrics history: %s", msg);
}

static void writer_main(void *arg)
{
	struct metrics_writer *w = arg;
	char err[512];
	metrics_file_on_warning(w->mf, warn_cb, NULL);
	if (metrics_file_load(w->mf, err, sizeof(err)) != 0)
		log_warning("metrics history: %s (tried again at the next cycle)", err);
	struct mf_container *mine = NULL;
	size_t mine_cap = 0;
	for (;;) {
		worker_lock(&w->worker);
		while (!w->pending && !worker_stopping(&w->worker))
			worker_wait(&w->worker, WORKER_FOREVER);
		if (!w->pending && worker_stopping(&w->worker)) {
			worker_unlock(&w->worker);
			break;
		}
		/* take the cycle: swap buffers so the loop never waits on the write */
		struct mf_container *t = mine;
		size_t tc = mine_cap;
		mine = w->c;
		mine_cap = w->cap;
		w->c = t;
		w->cap = tc;
		size_t n = w->n;
		struct mf_summary s = w->summary;
		w->pending = false;
		worker_unlock(&w->worker);

		int rc = metrics_file_append(w->mf, mine, n, &s, err, sizeof(err));
		worker_lock(&w->worker);
		if (rc == 0)
			w->st.written++;
		else
			w->st.errors++;
		uint64_t errors = w->st.errors;
		worker_unlock(&w->worker);
		if (rc != 0 && (errors & (errors - 1)) == 0) /* 1st, 2nd, 4th, ... failure */
			log_error("metrics history: %s (%llu failures)", err, (unsigned long long)errors);
	}
	free(mine);
}

struct metrics_writer *metrics_writer_start(const char *path, unsigned max_entries)
{
	struct metrics_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->mf = metrics_file_new(path, max_entries);
	if (!w->mf) {
		free(w);
		return NULL;
	}
	if (worker_start(&w->worker, writer_main, w) != 0) {
		metrics_file_free(w->mf);
		free(w);
		return NULL;
	}
	return w;
}

void metrics_writer_stop(struct metrics_writer *w)
{
	if (!w)
		return;
	worker_stop(&w->worker);
	metrics_file_free(w->mf);
	free(w->c);
	free(w);
}

void metrics_writer_submit(struct metrics_writer *w, const struct mf_container *c, size_t n,
			   const struct mf_summary *s)
{
	if (n == 0)
		return; /* the reference writes nothing for an empty cycle */
	worker_lock(&w->worker);
	if (w->cap < n) {
		struct mf_container *nc = realloc(w->c, n * sizeof(*nc));
		if (!nc) {
			w->st.dropped++;
			worker_unlock(&w->worker);
			return;
		}
		w->c = nc;
		w->cap = n;
	}
	if (w->pending)
		w->st.dropped++;
	memcpy(w->c, c, n * sizeof(*c));
	w->n = n;
	w->summary = *s;
	w->pending = true;
	worker_wake(&w->worker);
	worker_unlock(&w->worker);
}

void metrics_writer_stats(struct metrics_writer *w, struct metrics_writer_stats *st)
{
	worker_lock(&w->worker);
	*st = w->st;
	worker_unlock(&w->worker);
}

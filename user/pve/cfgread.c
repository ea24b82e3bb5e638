/*
 * pve/cfgread.c — the Proxmox config reader thread (see pve/cfgread.h).
 *
 * The worker's mutex (base/worker.h) guards both queues (vmids asked, results answered); the worker takes one
 * vmid, drops the lock for the pct call, and appends the result. Results are bounded by
 * the request queue's size, since each request yields one result.
 */
#include "pve/cfgread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/worker.h"
#include "pve/ctconfig.h"

struct ask {
	uint32_t vmid;
	uint64_t tag;
};

struct cfgread {
	struct persist_settings s;
	struct worker w;
	struct ask *asked;
	size_t n_asked, max;
	struct cfgread_result *done;
	size_t n_done;
	uint32_t in_flight;
};

static void run(void *arg)
{
	struct cfgread *r = arg;
	worker_lock(&r->w);
	for (;;) {
		while (!worker_stopping(&r->w) && r->n_asked == 0)
			worker_wait(&r->w, WORKER_FOREVER);
		if (worker_stopping(&r->w))
			break;
		struct ask a = r->asked[0];
		memmove(r->asked, r->asked + 1, --r->n_asked * sizeof(*r->asked));
		r->in_flight = a.vmid;
		worker_unlock(&r->w);

		struct cfgread_result res;
		memset(&res, 0, sizeof(res));
		res.vmid = a.vmid;
		res.tag = a.tag;
		res.status = pve_config_read(&r->s, a.vmid, &res.limits, res.detail, sizeof(res.detail));

		worker_lock(&r->w);
		r->in_flight = 0;
		if (r->n_done < r->max)
			r->done[r->n_done++] = res;
	}
	worker_unlock(&r->w);
}

int cfgread_start(const struct persist_settings *s, size_t max_queued, struct cfgread **out)
{
	*out = NULL;
	if (!max_queued)
		return -EINVAL;
	struct cfgread *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = *s;
	r->max = max_queued;
	r->asked = calloc(max_queued, sizeof(*r->asked));
	r->done = calloc(max_queued, sizeof(*r->done));
	if (!r->asked || !r->done) {
		free(r->asked);
		free(r->done);
		free(r);
		return -ENOMEM;
	}
	int rc = worker_start(&r->w, run, r);
	if (rc < 0) {
		free(r->asked);
		free(r->done);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void cfgread_stop(struct cfgread *r)
{
	if (!r)
		return;
	worker_stop(&r->w);
	free(r->asked);
	free(r->done);
	free(r);
}

int cfgread_request(struct cfgread *r, uint32_t vmid, uint64_t tag)
{
	int rc = 0;
	worker_lock(&r->w);
	bool queued = false;
	for (size_t i = 0; i < r->n_asked && !queued; i++) {
		queued = r->asked[i].vmid == vmid;
		if (queued)
			r->asked[i].tag = tag;
	}
	if (!queued) {
		if (r->n_asked + r->n_done >= r->max) {
			rc = -ENOSPC;
		} else {
			r->asked[r->n_asked++] = (struct ask){ vmid, tag };
			worker_wake(&r->w);
		}
	}
	worker_unlock(&r->w);
	return rc;
}

size_t cfgread_take(struct cfgread *r, struct cfgread_result *out, size_t max)
{
	worker_lock(&r->w);
	size_t n = r->n_done < max ? r->n_done : max;
	memcpy(out, r->done, n * sizeof(*out));
	memmove(r->done, r->done + n, (r->n_done - n) * sizeof(*r->done));
	r->n_done -= n;
	worker_unlock(&r->w);
	return n;
}

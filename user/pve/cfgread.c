/*
 * pve/cfgread.c — the Proxmox config reader thread (see pve/cfgread.h).
 *
 * One mutex guards both queues (vmids asked, results answered); the worker takes one
 * vmid, drops the lock for the pct call, and appends the result. Results are bounded by
 * the request queue's size, since each request yields one result.
 */
#include "pve/cfgread.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pve/ctconfig.h"

struct cfgread {
	struct persist_settings s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	uint32_t *asked;
	size_t n_asked, max;
	struct cfgread_result *done;
	size_t n_done;
	uint32_t in_flight;
};

static void *worker(void *arg)
{
	struct cfgread *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stop && r->n_asked == 0)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		uint32_t vmid = r->asked[0];
		memmove(r->asked, r->asked + 1, --r->n_asked * sizeof(*r->asked));
		r->in_flight = vmid;
		pthread_mutex_unlock(&r->mu);

		struct cfgread_result res;
		memset(&res, 0, sizeof(res));
		res.vmid = vmid;
		res.status = pve_config_read(&r->s, vmid, &res.limits, res.detail, sizeof(res.detail));

		pthread_mutex_lock(&r->mu);
		r->in_flight = 0;
		if (r->n_done < r->max)
			r->done[r->n_done++] = res;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
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
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	int rc = pthread_create(&r->thread, NULL, worker, r);
	if (rc) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r->asked);
		free(r->done);
		free(r);
		return -rc;
	}
	*out = r;
	return 0;
}

void cfgread_stop(struct cfgread *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->asked);
	free(r->done);
	free(r);
}

int cfgread_request(struct cfgread *r, uint32_t vmid)
{
	int rc = 0;
	pthread_mutex_lock(&r->mu);
	bool queued = false;
	for (size_t i = 0; i < r->n_asked && !queued; i++)
		queued = r->asked[i] == vmid;
	if (!queued) {
		if (r->n_asked + r->n_done >= r->max) {
			rc = -ENOSPC;
		} else {
			r->asked[r->n_asked++] = vmid;
			pthread_cond_signal(&r->cv);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

size_t cfgread_take(struct cfgread *r, struct cfgread_result *out, size_t max)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n_done < max ? r->n_done : max;
	memcpy(out, r->done, n * sizeof(*out));
	memmove(r->done, r->done + n, (r->n_done - n) * sizeof(*r->done));
	r->n_done -= n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

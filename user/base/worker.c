/*
 * base/worker.c — one background thread, its lock, its wake-up and its stop (see
 * base/worker.h). Nothing here knows what the thread does: the owner's function runs the
 * loop and the owner's queue decides what counts as work.
 */
#include "base/worker.h"

#include <time.h>

int64_t worker_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *trampoline(void *arg)
{
	struct worker *w = arg;
	w->fn(w->arg);
	return NULL;
}

int worker_start(struct worker *w, void (*fn)(void *arg), void *arg)
{
	w->stop = false;
	w->running = false;
	w->fn = fn;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&w->thread, NULL, trampoline, w);
	if (rc != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return -rc;
	}
	w->running = true;
	return 0;
}

void worker_stop(struct worker *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->running = false;
}

void worker_lock(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
}

void worker_unlock(struct worker *w)
{
	pthread_mutex_unlock(&w->mu);
}

void worker_wake(struct worker *w)
{
	pthread_cond_signal(&w->cv);
}

bool worker_stopping(const struct worker *w)
{
	return w->stop;
}

void worker_wait(struct worker *w, int64_t deadline_ms)
{
	if (deadline_ms == WORKER_FOREVER) {
		pthread_cond_wait(&w->cv, &w->mu);
		return;
	}
	struct timespec ts = {.tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000};
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

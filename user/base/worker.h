/*
 * base/worker.h — one background thread with the mutex, condition variable and stop flag that
 * go with it: the start/stop/wake pattern the persister, the config reader, the metrics
 * writer, the notifier and the model rebuild share.
 *
 * The owner keeps its own queue (bounded, coalescing, whatever it needs) and guards it with
 * the worker's lock. The thread function takes the lock, waits for work or for stop, takes
 * one item, drops the lock while it works, and decides on its own what to drain once
 * worker_stopping() says so. Producers queue under the lock and call worker_wake().
 *
 *     static void run(void *arg) {
 *         struct owner *o = arg;
 *         worker_lock(&o->w);
 *         while (!worker_stopping(&o->w)) {
 *             if (!o->n) { worker_wait(&o->w, WORKER_FOREVER); continue; }
 *             ... take one, worker_unlock(), do it, worker_lock() ...
 *         }
 *         worker_unlock(&o->w);
 *     }
 *     worker_start(&o->w, run, o);   ...   worker_stop(&o->w);
 *
 * The condition variable runs on CLOCK_MONOTONIC, so a clock set back cannot stretch a
 * timed wait. An owner that needs a second condition (the notifier's "idle") uses the
 * worker's mutex, `w->mu`, with a condition variable of its own.
 */
#ifndef LXCSCALE_WORKER_H
#define LXCSCALE_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define WORKER_FOREVER INT64_MAX /* a deadline that never comes */

struct worker {
	pthread_mutex_t mu;  /* guards stop and the owner's queue */
	pthread_cond_t cv;   /* worker_wake() -> worker_wait() */
	pthread_t thread;
	bool stop;
	bool running;        /* started and not yet stopped: worker_stop() has work to do */
	void (*fn)(void *arg);
	void *arg;
};

/* Milliseconds on CLOCK_MONOTONIC, the clock worker_wait() deadlines are on. */
int64_t worker_now_ms(void);

/* Initialises w (which may be zeroed memory) and starts fn(arg) on a new thread. 0, or
 * -errno with nothing left to clean up. */
int worker_start(struct worker *w, void (*fn)(void *arg), void *arg);
/* Sets the stop flag, wakes the thread, waits for fn to return, destroys the lock. A worker
 * that was never started (zeroed) or failed to start is left alone. */
void worker_stop(struct worker *w);

void worker_lock(struct worker *w);
void worker_unlock(struct worker *w);
/* Under the lock: work was queued (or anything else the thread waits for changed). */
void worker_wake(struct worker *w);
/* Under the lock: worker_stop() has been called. */
bool worker_stopping(const struct worker *w);
/* Under the lock, on the worker thread: sleeps until worker_wake(), worker_stop() or the
 * deadline (worker_now_ms() milliseconds; WORKER_FOREVER for none). May wake early, as any
 * condition wait: the caller checks its queue again. */
void worker_wait(struct worker *w, int64_t deadline_ms);

#endif

/*
 * test_worker.c — the background thread helper (user/base/worker.c) with a real thread: work
 * queued under the lock and woken is all taken, a stop wakes a thread that waits forever, a
 * timed wait ends at its deadline on the monotonic clock, and stopping a worker that never
 * started does nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "base/worker.h"

#define ITEMS 1000

struct counter {
	struct worker w;
	int queued, taken;
	bool saw_stop;
};

static void take_all(void *arg)
{
	struct counter *c = arg;
	worker_lock(&c->w);
	for (;;) {
		while (!worker_stopping(&c->w) && c->queued == 0)
			worker_wait(&c->w, WORKER_FOREVER);
		if (c->queued == 0)
			break; /* stopping, and the queue is drained */
		c->queued--;
		worker_unlock(&c->w); /* the work itself runs without the lock */
		worker_lock(&c->w);
		c->taken++;
	}
	c->saw_stop = worker_stopping(&c->w);
	worker_unlock(&c->w);
}

static void test_wake_delivers_every_item(void **state)
{
	(void)state;
	struct counter c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(worker_start(&c.w, take_all, &c), 0);
	for (int i = 0; i < ITEMS; i++) {
		worker_lock(&c.w);
		c.queued++;
		worker_wake(&c.w);
		worker_unlock(&c.w);
	}
	worker_stop(&c.w); /* the thread drains what is left before it returns */
	assert_int_equal(c.taken, ITEMS);
	assert_int_equal(c.queued, 0);
	assert_true(c.saw_stop);
	worker_stop(&c.w); /* a second stop is a no-op */
}

static void test_stop_wakes_an_idle_thread(void **state)
{
	(void)state;
	struct counter c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(worker_start(&c.w, take_all, &c), 0);
	worker_stop(&c.w); /* returns: the forever wait was woken */
	assert_true(c.saw_stop);
	assert_int_equal(c.taken, 0);
}

struct timed {
	struct worker w;
	int64_t waited_ms;
};

static void wait_once(void *arg)
{
	struct timed *t = arg;
	worker_lock(&t->w);
	int64_t t0 = worker_now_ms();
	while (!worker_stopping(&t->w) && worker_now_ms() < t0 + 50)
		worker_wait(&t->w, t0 + 50);
	t->waited_ms = worker_now_ms() - t0;
	worker_unlock(&t->w);
}

static void test_timed_wait_ends_at_deadline(void **state)
{
	(void)state;
	struct timed t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(worker_start(&t.w, wait_once, &t), 0);
	/* the thread returns by itself after its deadline; stop only joins it */
	for (int64_t done = 0; !done; usleep(1000)) {
		worker_lock(&t.w);
		done = t.waited_ms;
		worker_unlock(&t.w);
	}
	worker_stop(&t.w);
	assert_true(t.waited_ms >= 50);
	assert_true(t.waited_ms < 5000);
}

static void test_stop_without_start(void **state)
{
	(void)state;
	struct worker w;
	memset(&w, 0, sizeof(w));
	worker_stop(&w); /* zeroed, never started: nothing to join, nothing to destroy */
	assert_false(w.running);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wake_delivers_every_item),
		cmocka_unit_test(test_stop_wakes_an_idle_thread),
		cmocka_unit_test(test_timed_wait_ends_at_deadline),
		cmocka_unit_test(test_stop_without_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_loop.c — the event loop with real descriptors: eventfd, timerfd, signalfd, and
 * registrations removed from inside callbacks (including by an earlier event of the same
 * batch). No timing thresholds: timers are checked by count and order only.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/loop.h"

struct counts {
	int fd_calls, timer_calls, signals, last_signal;
	uint64_t expirations;
	int other_fd;
};

static void on_event(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct counts *c = arg;
	uint64_t v;
	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	c->fd_calls++;
	if (c->fd_calls == 3)
		loop_stop(l);
}

static void test_fd_callbacks(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct counts c = { 0 };
	assert_int_equal(loop_add_fd(l, efd, EPOLLIN, on_event, &c), 0);
	assert_int_equal(loop_add_fd(l, efd, EPOLLIN, on_event, &c), -1);
	assert_int_equal(errno, EEXIST);
	uint64_t one = 1;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
		assert_int_equal(loop_run_once(l, 1000), 1);
	}
	assert_int_equal(c.fd_calls, 3);
	/* nothing pending: a zero timeout returns at once with no events */
	assert_int_equal(loop_run_once(l, 0), 0);
	assert_int_equal(loop_del_fd(l, efd), 0);
	assert_int_equal(loop_del_fd(l, efd), -1);
	assert_int_equal(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(loop_run_once(l, 0), 0);
	loop_free(l);
	close(efd); /* the caller's fd stayed open */
}

static void on_timer(struct loop *l, int id, uint64_t n, void *arg)
{
	struct counts *c = arg;
	c->timer_calls++;
	c->expirations += n;
	if (c->expirations >= 5) {
		loop_del_timer(l, id);
		loop_stop(l);
	}
}

static void on_oneshot(struct loop *l, int id, uint64_t n, void *arg)
{
	(void)l;
	(void)id;
	struct counts *c = arg;
	c->other_fd += (int)n;
}

static void test_timers(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct counts c = { 0 };
	int t = loop_add_timer(l, 1, 1, on_timer, &c);
	assert_true(t >= 0);
	int once = loop_add_timer(l, 1, 0, on_oneshot, &c);
	assert_true(once >= 0);
	assert_int_equal(loop_add_timer(l, 0, 5, on_timer, &c), -1);
	assert_int_equal(loop_run(l), 0);
	assert_true(c.expirations >= 5);
	assert_true(c.timer_calls >= 1 && c.timer_calls <= 5);
	/* the periodic timer removed itself; the one-shot fired exactly once */
	assert_int_equal(loop_del_timer(l, t), -1);
	while (loop_run_once(l, 0) > 0)
		;
	assert_int_equal(c.other_fd, 1);
	assert_int_equal(loop_set_timer(l, once, 1, 0), 0); /* re-arm */
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(c.other_fd, 2);
	loop_free(l);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct counts *c = arg;
	c->signals++;
	c->last_signal = signo;
	loop_stop(l);
}

static void test_signals(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct counts c = { 0 };
	int sigs[] = { SIGUSR1, SIGUSR2 };
	assert_int_equal(loop_add_signals(l, sigs, 2, on_signal, &c), 0);
	/* blocked now: raising it queues it instead of killing the test */
	raise(SIGUSR2);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.signals, 1);
	assert_int_equal(c.last_signal, SIGUSR2);
	loop_free(l);
}

/* Two fds ready in one batch; the first callback removes the second registration. */
struct pair {
	int a, b, calls_a, calls_b;
};

static void on_a(struct loop *l, int fd, uint32_t ev, void *arg)
{
	(void)ev;
	struct pair *p = arg;
	uint64_t v;
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	p->calls_a++;
	loop_del_fd(l, p->b);
	loop_del_fd(l, p->a);
}

static void on_b(struct loop *l, int fd, uint32_t ev, void *arg)
{
	(void)ev;
	struct pair *p = arg;
	uint64_t v;
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	p->calls_b++;
	loop_del_fd(l, p->a);
	loop_del_fd(l, p->b);
}

static void test_delete_during_dispatch(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct pair p = { eventfd(0, EFD_NONBLOCK), eventfd(0, EFD_NONBLOCK), 0, 0 };
	assert_int_equal(loop_add_fd(l, p.a, EPOLLIN, on_a, &p), 0);
	assert_int_equal(loop_add_fd(l, p.b, EPOLLIN, on_b, &p), 0);
	uint64_t one = 1;
	assert_int_equal(write(p.a, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(write(p.b, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(loop_run_once(l, 1000), 2); /* both in one batch */
	/* whichever ran first removed the other: exactly one callback ran (ASan would catch a use after free) */
	assert_int_equal(p.calls_a + p.calls_b, 1);
	loop_free(l);
	close(p.a);
	close(p.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_callbacks),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_delete_during_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

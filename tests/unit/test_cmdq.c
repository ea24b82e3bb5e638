/*
 * test_cmdq.c — the loop's command queue (user/base/cmdq.c) with real threads and a real
 * eventfd: nothing lost or reordered per producer, a full queue refuses, the eventfd wakes
 * a poll()ing consumer, replies complete across threads and time out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "base/cmdq.h"

#define PRODUCERS 4
#define PER_PRODUCER 2000

struct producer {
	struct cmdq *q;
	uint32_t id;
	unsigned refused;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		struct cmd c = { .type = CMD_EVALUATE, .vmid = p->id * 100000 + i };
		while (cmdq_push(p->q, &c) != 0) {
			assert_int_equal(errno, EAGAIN);
			p->refused++;
			sched_yield();
		}
	}
	return NULL;
}

static void test_threads_nothing_lost(void **state)
{
	(void)state;
	struct cmdq *q = cmdq_new(64);
	assert_non_null(q);
	pthread_t t[PRODUCERS];
	struct producer p[PRODUCERS];
	for (int i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){ q, (uint32_t)i + 1, 0 };
		pthread_create(&t[i], NULL, produce, &p[i]);
	}
	uint32_t next[PRODUCERS] = { 0 };
	size_t got = 0;
	struct cmd buf[16];
	while (got < PRODUCERS * PER_PRODUCER) {
		struct pollfd pfd = { .fd = cmdq_fd(q), .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 5000), 1); /* woken by the eventfd */
		size_t n = cmdq_drain(q, buf, 16);
		for (size_t i = 0; i < n; i++) {
			uint32_t prod = buf[i].vmid / 100000 - 1, seq = buf[i].vmid % 100000;
			assert_int_equal(seq, next[prod]); /* per-producer order kept */
			next[prod]++;
		}
		got += n;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(cmdq_pending(q), 0);
	cmdq_free(q);
}

static void test_full_queue_refuses(void **state)
{
	(void)state;
	struct cmdq *q = cmdq_new(2);
	struct cmd c = { .type = CMD_RELOAD };
	assert_int_equal(cmdq_push(q, &c), 0);
	assert_int_equal(cmdq_push(q, &c), 0);
	errno = 0;
	assert_int_equal(cmdq_push(q, &c), -1);
	assert_int_equal(errno, EAGAIN);
	struct cmd out[1];
	assert_int_equal(cmdq_drain(q, out, 1), 1);
	/* one left: the eventfd must still be readable so the loop comes back */
	struct pollfd pfd = { .fd = cmdq_fd(q), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(cmdq_drain(q, out, 1), 1);
	assert_int_equal(cmdq_drain(q, out, 1), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	cmdq_free(q);
	assert_null(cmdq_new(0));
	cmdq_free(NULL);
}

static void *complete_later(void *arg)
{
	usleep(20000);
	cmdq_reply(arg, 7, "done");
	return NULL;
}

static void test_reply(void **state)
{
	(void)state;
	struct cmd_reply r;
	cmd_reply_init(&r);
	assert_int_equal(cmd_reply_wait(&r, 0), -1); /* nothing yet: times out */
	pthread_t t;
	pthread_create(&t, NULL, complete_later, &r);
	assert_int_equal(cmd_reply_wait(&r, -1), 0);
	assert_int_equal(r.rc, 7);
	assert_string_equal(r.text, "done");
	pthread_join(t, NULL);
	cmd_reply_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_nothing_lost),
		cmocka_unit_test(test_full_queue_refuses),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * base/cmdq.c — bounded command queue with an eventfd wake-up (see base/cmdq.h).
 *
 * A ring of struct cmd under one mutex. The eventfd is written after the push (outside the
 * lock) and read before the drain, so a push that races with a drain is either taken by
 * this drain or wakes the loop again: no command is ever left behind without a wake-up.
 */
#include "base/cmdq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct cmdq {
	pthread_mutex_t mu;
	int efd;
	size_t cap, head, count;
	struct cmd ring[];
};

struct cmdq *cmdq_new(size_t capacity)
{
	if (capacity == 0 || capacity > 65536)
		return NULL;
	struct cmdq *q = calloc(1, sizeof(*q) + capacity * sizeof(struct cmd));
	if (!q)
		return NULL;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		int e = errno; /* EMFILE when fds run out: the caller reports it */
		free(q);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&q->mu, NULL);
	q->cap = capacity;
	return q;
}

void cmdq_free(struct cmdq *q)
{
	if (!q)
		return;
	close(q->efd);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

int cmdq_fd(const struct cmdq *q)
{
	return q->efd;
}

int cmdq_push(struct cmdq *q, const struct cmd *c)
{
	pthread_mutex_lock(&q->mu);
	if (q->count == q->cap) {
		pthread_mutex_unlock(&q->mu);
		errno = EAGAIN;
		return -1;
	}
	q->ring[(q->head + q->count) % q->cap] = *c;
	q->count++;
	pthread_mutex_unlock(&q->mu);
	uint64_t one = 1;
	/* Only fails when the counter would overflow, and then the loop is awake anyway. */
	if (write(q->efd, &one, sizeof(one)) < 0) {
	}
	return 0;
}

size_t cmdq_drain(struct cmdq *q, struct cmd *out, size_t max)
{
	uint64_t n;
	if (read(q->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled; still look, a push may be in flight */
	}
	pthread_mutex_lock(&q->mu);
	size_t take = q->count < max ? q->count : max;
	for (size_t i = 0; i < take; i++)
		out[i] = q->ring[(q->head + i) % q->cap];
	q->head = (q->head + take) % q->cap;
	q->count -= take;
	bool more = q->count > 0;
	pthread_mutex_unlock(&q->mu);
	if (more) { /* keep the loop coming back for the rest */
		uint64_t one = 1;
		if (write(q->efd, &one, sizeof(one)) < 0) {
		}
	}
	return take;
}

size_t cmdq_pending(struct cmdq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->count;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void cmd_reply_init(struct cmd_reply *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &a);
	pthread_condattr_destroy(&a);
}

void cmd_reply_destroy(struct cmd_reply *r)
{
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

void cmdq_reply(struct cmd_reply *r, int rc, const char *text)
{
	pthread_mutex_lock(&r->mu);
	r->rc = rc;
	snprintf(r->text, sizeof(r->text), "%s", text ? text : "");
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

int cmd_reply_wait(struct cmd_reply *r, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (timeout_ms >= 0) {
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&r->mu);
	while (!r->done) {
		int e = timeout_ms < 0 ? pthread_cond_wait(&r->cv, &r->mu)
				       : pthread_cond_timedwait(&r->cv, &r->mu, &until);
		if (e == ETIMEDOUT)
			break;
	}
	bool done = r->done;
	pthread_mutex_unlock(&r->mu);
	return done ? 0 : -1;
}

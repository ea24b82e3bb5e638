/*
 * base/loop.c — see base/loop.h.
 *
 * Each registration is a heap entry whose pointer is the epoll data; the kind says how to
 * dispatch it (plain fd, timerfd, signalfd). Deleting marks the entry dead and moves it
 * to a graveyard list freed after the batch, because later events of the same
 * epoll_wait batch may still point at it. Timer ids are the timerfd numbers, unique
 * while the timer lives.
 */
#include "base/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOOP_BATCH 64

enum entry_kind { ENTRY_FD, ENTRY_TIMER, ENTRY_SIGNAL };

struct entry {
	enum entry_kind kind;
	int fd;
	bool dead;
	void *arg;
	union {
		loop_fd_fn fd_fn;
		loop_timer_fn timer_fn;
		loop_signal_fn signal_fn;
	} cb;
	struct entry *next; /* live list or graveyard */
};

struct loop {
	int epfd;
	bool stop;
	struct entry *live;
	struct entry *graveyard;
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void bury(struct loop *l)
{
	while (l->graveyard) {
		struct entry *e = l->graveyard;
		l->graveyard = e->next;
		free(e);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->live) {
		struct entry *e = l->live;
		l->live = e->next;
		if (e->kind != ENTRY_FD)
			close(e->fd);
		free(e);
	}
	bury(l);
	close(l->epfd);
	free(l);
}

static struct entry *find(struct loop *l, int fd)
{
	for (struct entry *e = l->live; e; e = e->next)
		if (e->fd == fd)
			return e;
	return NULL;
}

static int add_entry(struct loop *l, struct entry *e, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, e->fd, &ev) != 0)
		return -1;
	e->next = l->live;
	l->live = e;
	return 0;
}

/* Registers a copy of PROTO for EVENTS. On failure (-1, errno kept) nothing is registered
 * and, when the loop was to own PROTO.fd (timers, signals), that fd is closed. */
static int add_new_entry(struct loop *l, struct entry proto, uint32_t events, bool owns_fd)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (e) {
		*e = proto;
		if (add_entry(l, e, events) == 0)
			return 0;
	}
	int err = errno;
	if (owns_fd)
		close(proto.fd);
	free(e);
	errno = err;
	return -1;
}

static int del_entry(struct loop *l, int fd, bool close_it)
{
	struct entry **pp = &l->live;
	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	if (!*pp) {
		errno = ENOENT;
		return -1;
	}
	struct entry *e = *pp;
	*pp = e->next;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (close_it)
		close(fd);
	e->dead = true;
	e->next = l->graveyard;
	l->graveyard = e;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	if (fd < 0 || !fn || find(l, fd)) {
		errno = fd < 0 || !fn ? EINVAL : EEXIST;
		return -1;
	}
	struct entry user = { .kind = ENTRY_FD, .fd = fd, .arg = arg, .cb.fd_fn = fn };
	return add_new_entry(l, user, events, false);
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct entry *e = find(l, fd);
	if (!e) {
		errno = ENOENT;
		return -1;
	}
	struct epoll_event ev = { .events = events, .data.ptr = e };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int loop_del_fd(struct loop *l, int fd)
{
	struct entry *e = find(l, fd);
	if (!e || e->kind != ENTRY_FD) {
		errno = ENOENT;
		return -1;
	}
	return del_entry(l, fd, false);
}

static void ms_to_ts(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

int loop_set_timer(struct loop *l, int timer_id, uint64_t first_ms, uint64_t period_ms)
{
	struct entry *e = find(l, timer_id);
	if (!e || e->kind != ENTRY_TIMER) {
		errno = ENOENT;
		return -1;
	}
	struct itimerspec its = { 0 };
	ms_to_ts(first_ms, &its.it_value);
	ms_to_ts(period_ms, &its.it_interval);
	return timerfd_settime(e->fd, 0, &its, NULL);
}

int loop_add_timer(struct loop *l, uint64_t first_ms, uint64_t period_ms, loop_timer_fn fn, void *arg)
{
	if (!fn || first_ms == 0) {
		errno = EINVAL;
		return -1;
	}
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -1;
	struct entry timer = { .kind = ENTRY_TIMER, .fd = fd, .arg = arg, .cb.timer_fn = fn };
	if (add_new_entry(l, timer, EPOLLIN, true) != 0)
		return -1;
	if (loop_set_timer(l, fd, first_ms, period_ms) != 0) {
		int err = errno;
		del_entry(l, fd, true);
		errno = err;
		return -1;
	}
	return fd;
}

int loop_del_timer(struct loop *l, int timer_id)
{
	struct entry *e = find(l, timer_id);
	if (!e || e->kind != ENTRY_TIMER) {
		errno = ENOENT;
		return -1;
	}
	return del_entry(l, timer_id, true);
}

int loop_add_signals(struct loop *l, const int *signals, int n, loop_signal_fn fn, void *arg)
{
	sigset_t set;
	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	struct entry sig = { .kind = ENTRY_SIGNAL, .fd = fd, .arg = arg, .cb.signal_fn = fn };
	return add_new_entry(l, sig, EPOLLIN, true);
}

static void dispatch(struct loop *l, struct entry *e, uint32_t events)
{
	switch (e->kind) {
	case ENTRY_FD:
		e->cb.fd_fn(l, e->fd, events, e->arg);
		break;
	case ENTRY_TIMER: {
		uint64_t n = 0;
		if (read(e->fd, &n, sizeof(n)) == (ssize_t)sizeof(n) && n > 0)
			e->cb.timer_fn(l, e->fd, n, e->arg);
		break;
	}
	case ENTRY_SIGNAL: {
		struct signalfd_siginfo si;
		/* drain: several signals may be pending; stop if the callback removed us */
		while (!e->dead && read(e->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			e->cb.signal_fn(l, (int)si.ssi_signo, e->arg);
		break;
	}
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[LOOP_BATCH];
	int n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct entry *e = ev[i].data.ptr;
		if (!e->dead)
			dispatch(l, e, ev[i].events);
	}
	bury(l);
	return n;
}

int loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop)
		if (loop_run_once(l, -1) < 0)
			return -1;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/*
 * base/loop.h — the daemon's event loop: one epoll instance, callbacks per file descriptor,
 * timers (timerfd) and signals (signalfd), all dispatched on one thread.
 *
 * Everything the daemon reacts to is a descriptor: BPF ring buffers, PSI trigger fds
 * (EPOLLPRI), memory.events (EPOLLPRI), timers, signals, and eventfds that other threads
 * (API, persister) write to after queueing work. Callbacks run on the loop thread, one at
 * a time, so daemon state needs no locks as long as only callbacks touch it.
 *
 *     struct loop *l = loop_new();
 *     loop_add_fd(l, fd, EPOLLIN, on_ready, ctx);
 *     int t = loop_add_timer(l, 100, 100, on_tick, ctx);       // first after 100 ms, then every 100 ms
 *     loop_add_signals(l, (int[]){SIGTERM, SIGINT, SIGHUP}, 3, on_signal, ctx);
 *     loop_run(l);                                              // returns after loop_stop()
 *     loop_free(l);
 *
 * A callback may add or remove any registration, its own included: removed entries are
 * freed only after the current batch of events has been dispatched.
 */
#ifndef LXCSCALE_LOOP_H
#define LXCSCALE_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;

/* fd ready: events is the epoll mask that fired (EPOLLIN, EPOLLPRI, EPOLLERR, ...) */
typedef void (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *arg);
/* timer fired: expirations since the last call (>1 when the loop was late) */
typedef void (*loop_timer_fn)(struct loop *l, int timer_id, uint64_t expirations, void *arg);
/* a signal arrived (blocked for the process and read from a signalfd) */
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *arg);

struct loop *loop_new(void);
/* Closes the timer and signal descriptors the loop created; fds added with loop_add_fd
 * belong to the caller and stay open. */
void loop_free(struct loop *l);

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
int loop_del_fd(struct loop *l, int fd);

/* first_ms > 0; period_ms 0 = one-shot. Returns a timer id (>= 0) or -1. */
int loop_add_timer(struct loop *l, uint64_t first_ms, uint64_t period_ms, loop_timer_fn fn, void *arg);
int loop_set_timer(struct loop *l, int timer_id, uint64_t first_ms, uint64_t period_ms);
int loop_del_timer(struct loop *l, int timer_id);

/* Blocks the signals for the calling thread (do this before starting other threads, so
 * they inherit the mask) and delivers them through a signalfd. */
int loop_add_signals(struct loop *l, const int *signals, int n, loop_signal_fn fn, void *arg);

/* Dispatch until loop_stop(); returns 0, or -1 if epoll_wait failed. */
int loop_run(struct loop *l);
/* Dispatch one batch, waiting at most timeout_ms (-1 forever). Returns events handled. */
int loop_run_once(struct loop *l, int timeout_ms);
void loop_stop(struct loop *l);

#endif

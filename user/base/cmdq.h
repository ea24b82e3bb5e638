/*
 * base/cmdq.h — commands from other threads to the event loop: a bounded, mutex-protected queue
 * plus an eventfd.
 *
 * The loop owns all daemon state, so the API thread, the persister thread and the model
 * worker never touch it: they push a command (a fixed-size value, copied) and the eventfd
 * wakes the loop, which drains the queue and runs each command on its own thread. The
 * queue is bounded: a full queue refuses the push (the caller answers "busy") rather than
 * growing without limit. A command may carry a reply slot the caller waits on; the loop
 * completes it (cmdq_reply) after running the command.
 */
#ifndef LXCSCALE_CMDQ_H
#define LXCSCALE_CMDQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types/decision.h"

enum cmd_type {
	CMD_NONE = 0,
	CMD_DECISION,       /* a manual decision (API / CLI): goes through budget and actuator */
	CMD_EVALUATE,       /* evaluate one container now, off the tick */
	CMD_MODEL_READY,    /* the model worker published a new model */
	CMD_RELOAD,         /* re-read the configuration */
	CMD_CALL,           /* run fn(arg) on the loop thread */
};

/* Completion for a caller that waits: the loop fills `rc` and `text`, then signals. */
struct cmd_reply {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int rc;
	char text[256];
};

struct cmd {
	enum cmd_type type;
	uint32_t vmid;
	struct decision decision;
	void (*fn)(void *arg);
	void (*drop)(void *arg);   /* CMD_CALL: run instead of fn when the command is discarded
	                              unrun (the daemon stopped); frees what arg owns */
	void *arg;
	struct cmd_reply *reply;   /* NULL: fire and forget */
};

struct cmdq;

struct cmdq *cmdq_new(size_t capacity);   /* NULL on a bad capacity or out of memory */
void cmdq_free(struct cmdq *q);
int cmdq_fd(const struct cmdq *q);         /* the eventfd, for epoll (EPOLLIN) */

/* Any thread. Returns 0, or -1 when the queue is full (errno EAGAIN). */
int cmdq_push(struct cmdq *q, const struct cmd *c);
/* Loop thread: clears the eventfd and takes up to `max` commands (oldest first). */
size_t cmdq_drain(struct cmdq *q, struct cmd *out, size_t max);
size_t cmdq_pending(struct cmdq *q);

void cmd_reply_init(struct cmd_reply *r);
void cmd_reply_destroy(struct cmd_reply *r);
/* Loop thread: complete a reply. */
void cmdq_reply(struct cmd_reply *r, int rc, const char *text);
/* Caller: wait at most timeout_ms (< 0: forever). Returns 0 when completed, -1 on timeout. */
int cmd_reply_wait(struct cmd_reply *r, int timeout_ms);

#endif

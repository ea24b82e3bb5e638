/*
 * base/proc.h — run one external program (pct, pvesh, ...) safely and wait for it.
 *
 * The daemon runs as root, so a program is always started from an argv array through
 * posix_spawn (never a shell): an argument such as "a; rm -rf /" reaches the program as
 * one literal argument. The child gets its own process group, an empty signal mask and
 * default dispositions (the daemon blocks signals for its signalfd), stdin from /dev/null,
 * and no descriptors of ours (every fd we open is O_CLOEXEC).
 *
 * proc_run() waits at most `timeout_ms`. On expiry the whole process group receives
 * SIGTERM, then SIGKILL after `kill_grace_ms`, so a hung `pct` and anything it forked
 * are gone before proc_run() returns. stdout and stderr are captured up to `max_capture`
 * bytes each (the rest is read and thrown away so the child never blocks on a full pipe;
 * `*_truncated` says so). Buffers are NUL-terminated.
 *
 * proc_run() is safe to call from several threads at once: it keeps no global state and
 * waits on the child's pidfd (falling back to a short poll when pidfd_open is missing).
 * It does not reap children it did not start.
 */
#ifndef LXCSCALE_PROC_H
#define LXCSCALE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum proc_err {
	PROC_OK = 0,        /* the program ran and was reaped; look at exit_code / signal */
	PROC_EINVAL,        /* bad arguments (NULL argv, empty argv[0]) */
	PROC_ENOTFOUND,     /* the program does not exist (or is not on PATH) */
	PROC_EEXEC,         /* it exists but could not be executed (permission, format) */
	PROC_ESPAWN,        /* pipe/posix_spawn failed for another reason (errno in sys_errno) */
	PROC_ETIMEOUT,      /* killed after timeout_ms; the result is still filled in */
	PROC_ENOMEM,
};

#define PROC_DEFAULT_TIMEOUT_MS 30000
#define PROC_DEFAULT_CAPTURE (64 * 1024)
#define PROC_DEFAULT_KILL_GRACE_MS 500

struct proc_opts {
	int timeout_ms;           /* <= 0: PROC_DEFAULT_TIMEOUT_MS */
	int kill_grace_ms;        /* SIGTERM→SIGKILL delay; <= 0: PROC_DEFAULT_KILL_GRACE_MS */
	size_t max_capture;       /* per stream; 0: PROC_DEFAULT_CAPTURE */
	char *const *envp;        /* NULL: inherit the caller's environment */
	bool search_path;         /* argv[0] without '/' is looked up on PATH */
};

struct proc_result {
	bool exited;              /* the program exited normally ... */
	int exit_code;            /* ... with this status */
	int term_signal;          /* or was killed by this signal (0 when exited) */
	bool timed_out;           /* we killed it because of timeout_ms */
	int sys_errno;            /* errno behind PROC_ESPAWN / PROC_EEXEC / PROC_ENOTFOUND */
	pid_t pid;
	int64_t elapsed_ms;

	char *out;                /* NUL-terminated, never NULL after proc_run() returned */
	size_t out_len;
	bool out_truncated;
	char *err;
	size_t err_len;
	bool err_truncated;
};

/* Run argv[0] with argv (NULL-terminated). `opts` may be NULL for defaults. The result
 * must be released with proc_result_free() whatever the return value. */
enum proc_err proc_run(const char *const argv[], const struct proc_opts *opts,
		       struct proc_result *res);

void proc_result_free(struct proc_result *res);

/* True when the program ran to completion with exit status 0. */
bool proc_succeeded(enum proc_err rc, const struct proc_result *res);

const char *proc_strerror(enum proc_err rc);

/* One line describing what happened, for logs and error messages, e.g.
 * "exit status 2: CT is locked (backup)" or "timed out after 10000 ms". Uses the first
 * line of stderr (or stdout when stderr is empty). Always NUL-terminates `buf`. */
void proc_describe(enum proc_err rc, const struct proc_result *res, char *buf, size_t len);

#endif

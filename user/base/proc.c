/*
 * base/proc.c — posix_spawn an argv, capture bounded stdout/stderr, enforce a timeout.
 *
 * One poll() loop watches three descriptors: the stdout pipe, the stderr pipe and the
 * child's pidfd. It ends when the child has been reaped and both pipes reached EOF, or
 * when the deadline passes. At the deadline the child's process group is sent SIGTERM,
 * given kill_grace_ms, then SIGKILL; a grandchild that kept a pipe open after the child
 * exited is killed the same way (it is in the same group). Reading never stops before
 * EOF, so a chatty child is never blocked on a full pipe: bytes past max_capture are
 * discarded and the stream is flagged truncated.
 */
#include "base/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct capture {
	int fd;
	char *buf;
	size_t len, cap, max;
	bool truncated;
};

static int capture_init(struct capture *c, size_t max)
{
	c->fd = -1;
	c->len = 0;
	c->max = max;
	c->truncated = false;
	c->cap = max < 4096 ? max + 1 : 4096;
	c->buf = malloc(c->cap);
	if (!c->buf)
		return -1;
	c->buf[0] = '\0';
	return 0;
}

/* Read what is available. Returns 1 at EOF (fd closed), 0 otherwise. */
static int capture_read(struct capture *c)
{
	char chunk[16384];
	ssize_t n = read(c->fd, chunk, sizeof(chunk));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		n = 0; /* treat a read error as EOF: nothing more will come */
	}
	if (n == 0) {
		close(c->fd);
		c->fd = -1;
		return 1;
	}
	size_t keep = (size_t)n;
	if (c->len + keep > c->max) {
		keep = c->max - c->len;
		c->truncated = true;
	}
	if (keep) {
		if (c->len + keep + 1 > c->cap) {
			size_t ncap = c->cap;
			while (c->len + keep + 1 > ncap)
				ncap *= 2;
			if (ncap > c->max + 1)
				ncap = c->max + 1;
			char *nb = realloc(c->buf, ncap);
			if (!nb) {
				c->truncated = true; /* keep what we have; never fail the run for it */
				return 0;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		memcpy(c->buf + c->len, chunk, keep);
		c->len += keep;
		c->buf[c->len] = '\0';
	}
	return 0;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	(void)pid;
	return -1;
#endif
}

static void record_status(struct proc_result *res, int status)
{
	if (WIFEXITED(status)) {
		res->exited = true;
		res->exit_code = WEXITSTATUS(status);
		res->term_signal = 0;
	} else if (WIFSIGNALED(status)) {
		res->exited = false;
		res->exit_code = -1;
		res->term_signal = WTERMSIG(status);
	}
}

/* Reap without blocking; returns true once the child is gone. */
static bool try_reap(pid_t pid, struct proc_result *res)
{
	int status;
	pid_t r;
	do
		r = waitpid(pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == pid) {
		record_status(res, status);
		return true;
	}
	if (r < 0 && errno == ECHILD) /* someone else reaped it (SIGCHLD ignored?) */
		return true;
	return false;
}

static void reap_blocking(pid_t pid, struct proc_result *res)
{
	int status;
	pid_t r;
	do
		r = waitpid(pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r == pid)
		record_status(res, status);
}

static enum proc_err spawn_child(const char *const argv[], const struct proc_opts *o,
				 int out_w, int err_w, pid_t *pid, int *err_out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t empty, all;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return PROC_ENOMEM;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return PROC_ENOMEM;
	}
	sigemptyset(&empty);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);

	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						  POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &empty);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (!rc) {
		char *const *envp = o->envp ? o->envp : environ;
		char *const *av = (char *const *)argv;
		if (o->search_path && !strchr(argv[0], '/'))
			rc = posix_spawnp(pid, argv[0], &fa, &at, av, envp);
		else
			rc = posix_spawn(pid, argv[0], &fa, &at, av, envp);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);

	*err_out = rc;
	if (rc == 0)
		return PROC_OK;
	if (rc == ENOENT || rc == ENOTDIR)
		return PROC_ENOTFOUND;
	if (rc == EACCES || rc == ENOEXEC || rc == EPERM || rc == EISDIR)
		return PROC_EEXEC;
	if (rc == ENOMEM)
		return PROC_ENOMEM;
	return PROC_ESPAWN;
}

/* Can `prog` be executed (looked up on PATH when search is set)? 0, or the errno. */
static int exec_check(const char *prog, bool search)
{
	if (!search || strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? 0 : errno;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int err = ENOENT;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char full[4096];
		if (n && n + 1 + strlen(prog) < sizeof(full)) {
			snprintf(full, sizeof(full), "%.*s/%s", (int)n, p, prog);
			if (access(full, X_OK) == 0)
				return 0;
			if (errno == EACCES)
				err = EACCES;
		}
		p += n + (p[n] == ':');
	}
	return err;
}

static void kill_group(pid_t pid, int sig)
{
	/* The child leads its own group (setpgroup 0), so -pid reaches its descendants. */
	if (kill(-pid, sig) < 0)
		kill(pid, sig);
}

/* opts (NULL: all defaults), with the default for every limit left at zero. */
static struct proc_opts opts_or_defaults(const struct proc_opts *opts)
{
	struct proc_opts o = {0};
	if (opts)
		o = *opts;
	if (o.timeout_ms <= 0)
		o.timeout_ms = PROC_DEFAULT_TIMEOUT_MS;
	if (o.kill_grace_ms <= 0)
		o.kill_grace_ms = PROC_DEFAULT_KILL_GRACE_MS;
	if (o.max_capture == 0)
		o.max_capture = PROC_DEFAULT_CAPTURE;
	return o;
}

/* The child being watched: what it wrote so far, how to wait for it, and the timeout. */
struct child {
	pid_t pid;
	int pidfd;                   /* -1: none, the child is polled instead */
	bool reaped;
	int64_t deadline;            /* SIGTERM then */
	int64_t kill_at;             /* when SIGKILL is due after SIGTERM; -1 none */
	struct capture out, err;     /* fd -1 once the pipe is closed */
};

/* Pipes for stdout and stderr, then the child. PROC_OK with c->pid and the pipes' read ends
 * (non-blocking) in c->out.fd and c->err.fd; otherwise no descriptor is left open. */
static enum proc_err start_child(const char *const argv[], const struct proc_opts *o, struct child *c,
				 struct proc_result *res, int64_t start)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		res->sys_errno = errno;
		if (outp[0] >= 0) {
			close(outp[0]);
			close(outp[1]);
		}
		return PROC_ESPAWN;
	}

	int spawn_errno = 0;
	enum proc_err rc = spawn_child(argv, o, outp[1], errp[1], &c->pid, &spawn_errno);
	close(outp[1]);
	close(errp[1]);
	if (rc != PROC_OK) {
		close(outp[0]);
		close(errp[0]);
		res->sys_errno = spawn_errno;
		res->elapsed_ms = now_ms() - start;
		return rc;
	}
	res->pid = c->pid;
	c->out.fd = outp[0];
	c->err.fd = errp[0];
	fcntl(c->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err.fd, F_SETFL, O_NONBLOCK);
	return PROC_OK;
}

/* SIGTERM to the group at the deadline, SIGKILL kill_grace_ms later. True when the watch
 * is over: killed and reaped, whatever still holds the pipes is not ours. */
static bool enforce_timeout(struct child *c, const struct proc_opts *o, struct proc_result *res,
			    int64_t now)
{
	if (!res->timed_out && now >= c->deadline) {
		res->timed_out = true;
		kill_group(c->pid, SIGTERM);
		c->kill_at = now + o->kill_grace_ms;
	}
	if (res->timed_out && c->kill_at >= 0 && now >= c->kill_at) {
		kill_group(c->pid, SIGKILL);
		c->kill_at = -1;
		/* Whatever still holds the pipes is dead or not ours: stop reading. */
		if (c->reaped)
			return true;
	}
	return false;
}

/* Sleeps until output, the child's exit or the next deadline, and takes what came. False
 * when the watch is over: nothing left to wait for, or poll() failed for good (the caller
 * then kills and reaps). */
static bool wait_and_read(struct child *c, struct proc_result *res, int64_t now)
{
	struct pollfd pfd[3];
	int n = 0, i_out = -1, i_err = -1, i_pid = -1;
	if (c->out.fd >= 0) {
		pfd[n] = (struct pollfd){.fd = c->out.fd, .events = POLLIN};
		i_out = n++;
	}
	if (c->err.fd >= 0) {
		pfd[n] = (struct pollfd){.fd = c->err.fd, .events = POLLIN};
		i_err = n++;
	}
	if (!c->reaped && c->pidfd >= 0) {
		pfd[n] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
		i_pid = n++;
	}
	int64_t wait_until = res->timed_out ? (c->kill_at >= 0 ? c->kill_at : now + 50) : c->deadline;
	int64_t wait = wait_until - now;
	if (wait < 0)
		wait = 0;
	/* Without a pidfd (or after all pipes closed) we poll the child every 20 ms. */
	if ((c->pidfd < 0 || n == 0) && !c->reaped && wait > 20)
		wait = 20;
	if (n == 0) {
		if (c->reaped)
			return false;
		struct timespec ts = {0, (long)wait * 1000000L};
		nanosleep(&ts, NULL);
		return true;
	}
	int pr = poll(pfd, (nfds_t)n, (int)wait);
	if (pr < 0)
		return errno == EINTR; /* cannot wait any more: fall through to kill + reap */
	if (i_out >= 0 && (pfd[i_out].revents & (POLLIN | POLLHUP | POLLERR)))
		capture_read(&c->out);
	if (i_err >= 0 && (pfd[i_err].revents & (POLLIN | POLLHUP | POLLERR)))
		capture_read(&c->err);
	if (i_pid >= 0 && (pfd[i_pid].revents & POLLIN))
		c->reaped = try_reap(c->pid, res);
	return true;
}

/* Reads both pipes until the child has exited and closed them, or the timeout ends it. */
static void watch_child(struct child *c, const struct proc_opts *o, struct proc_result *res)
{
	for (;;) {
		if (!c->reaped && (c->pidfd < 0 || c->out.fd < 0 || c->err.fd < 0))
			c->reaped = try_reap(c->pid, res);
		if (c->reaped && c->out.fd < 0 && c->err.fd < 0)
			break;
		int64_t now = now_ms();
		if (enforce_timeout(c, o, res, now) || !wait_and_read(c, res, now))
			break;
	}
}

/* The child reaped (killed first if it is still there), grandchildren that kept our pipes
 * killed, every descriptor closed. */
static void end_child(struct child *c, struct proc_result *res)
{
	if (!c->reaped) {
		kill_group(c->pid, SIGKILL);
		reap_blocking(c->pid, res);
	} else if (res->timed_out || c->out.fd >= 0 || c->err.fd >= 0) {
		kill_group(c->pid, SIGKILL); /* leftover grandchildren holding our pipes */
	}
	if (c->out.fd >= 0)
		close(c->out.fd);
	if (c->err.fd >= 0)
		close(c->err.fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
}

/* What was captured into res, and the verdict. */
static enum proc_err finish_result(const char *prog, const struct proc_opts *o, const struct child *c,
				   struct proc_result *res, int64_t start)
{
	res->out = c->out.buf;
	res->out_len = c->out.len;
	res->out_truncated = c->out.truncated;
	res->err = c->err.buf;
	res->err_len = c->err.len;
	res->err_truncated = c->err.truncated;
	res->elapsed_ms = now_ms() - start;
	if (res->timed_out)
		return PROC_ETIMEOUT;
	/* Where posix_spawn cannot report a failed exec (it then forks, e.g. under valgrind),
	 * the child exits 127: if the program cannot be executed now, that is what happened. */
	if (res->exited && res->exit_code == 127) {
		int e = exec_check(prog, o->search_path);
		if (e) {
			res->sys_errno = e;
			return e == ENOENT || e == ENOTDIR ? PROC_ENOTFOUND : PROC_EEXEC;
		}
	}
	return PROC_OK;
}

enum proc_err proc_run(const char *const argv[], const struct proc_opts *opts,
		       struct proc_result *res)
{
	if (!res)
		return PROC_EINVAL;
	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	res->pid = -1;
	struct proc_opts o = opts_or_defaults(opts);

	struct child c = {.pid = -1, .pidfd = -1, .kill_at = -1};
	if (capture_init(&c.out, o.max_capture) < 0 || capture_init(&c.err, o.max_capture) < 0) {
		free(c.out.buf);
		res->out = strdup("");
		res->err = strdup("");
		return PROC_ENOMEM;
	}
	res->out = c.out.buf;
	res->err = c.err.buf;

	if (!argv || !argv[0] || !argv[0][0])
		return PROC_EINVAL;

	int64_t start = now_ms();
	enum proc_err rc = start_child(argv, &o, &c, res, start);
	if (rc != PROC_OK)
		return rc;
	c.pidfd = open_pidfd(c.pid);
	c.deadline = start + o.timeout_ms;
	watch_child(&c, &o, res);
	end_child(&c, res);
	return finish_result(argv[0], &o, &c, res, start);
}

void proc_result_free(struct proc_result *res)
{
	if (!res)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}

bool proc_succeeded(enum proc_err rc, const struct proc_result *res)
{
	return rc == PROC_OK && res && res->exited && res->exit_code == 0;
}

const char *proc_strerror(enum proc_err rc)
{
	switch (rc) {
	case PROC_OK: return "ok";
	case PROC_EINVAL: return "invalid arguments";
	case PROC_ENOTFOUND: return "program not found";
	case PROC_EEXEC: return "program cannot be executed";
	case PROC_ESPAWN: return "cannot start program";
	case PROC_ETIMEOUT: return "timed out";
	case PROC_ENOMEM: return "out of memory";
	}
	return "unknown error";
}

/* Copy the first non-empty line of s (at most len-1 bytes) into buf. */
static void first_line(const char *s, char *buf, size_t len)
{
	while (*s == '\n' || *s == '\r' || *s == ' ')
		s++;
	size_t n = strcspn(s, "\r\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

void proc_describe(enum proc_err rc, const struct proc_result *res, char *buf, size_t len)
{
	char line[256] = "";
	if (!buf || len == 0)
		return;
	if (res) {
		if (res->err && res->err[0])
			first_line(res->err, line, sizeof(line));
		if (!line[0] && res->out && res->out[0])
			first_line(res->out, line, sizeof(line));
	}
	switch (rc) {
	case PROC_OK:
		if (res && res->exited)
			snprintf(buf, len, "exit status %d%s%s", res->exit_code, line[0] ? ": " : "",
				 line);
		else if (res)
			snprintf(buf, len, "killed by signal %d%s%s", res->term_signal,
				 line[0] ? ": " : "", line);
		else
			snprintf(buf, len, "ok");
		break;
	case PROC_ETIMEOUT:
		snprintf(buf, len, "timed out after %lld ms", res ? (long long)res->elapsed_ms : 0LL);
		break;
	case PROC_ENOTFOUND:
	case PROC_EEXEC:
	case PROC_ESPAWN:
		snprintf(buf, len, "%s: %s", proc_strerror(rc),
			 res && res->sys_errno ? strerror(res->sys_errno) : "?");
		break;
	default:
		snprintf(buf, len, "%s", proc_strerror(rc));
	}
}

/*
 * cg_events.c — PSI triggers and memory.events notifications: fds for an epoll loop.
 *
 * PSI trigger: open the pressure file read-write and write "<some|full> <stall> <window>"
 * (with its NUL: /proc/pressure's writer overwrites the last byte it copies). The kernel
 * then wakes EPOLLPRI at most once per window while stall time in any window exceeds the
 * threshold, and EPOLLERR when the cgroup goes away. Openers without CAP_SYS_RESOURCE may
 * only use 2 s multiples (kernel >= 6.5; EINVAL otherwise), which is the case on hosts
 * where the daemon runs confined: we then retry once with the nearest 2 s multiple and the
 * stall scaled by the same factor, and tell the caller which window it got.
 *
 * memory.events: kernfs marks the file changed on every counter change (>= 10 ms apart)
 * and wakes pollers with EPOLLPRI|EPOLLERR until the file is read again through that same
 * fd. So the watch fd is separate from the sample fd (a sample read must not swallow the
 * wakeup) and "ack" is a pread on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cg_internal.h"

#define TWO_S 2000000ull

static const char *const res_names[CG_RES__COUNT] = { "cpu", "memory", "io" };

static cg_err write_trigger(int fd, enum cg_psi_kind kind, uint64_t stall, uint64_t window)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%s %llu %llu", kind == CG_PSI_FULL ? "full" : "some",
	                 (unsigned long long)stall, (unsigned long long)window);
	if (n < 0 || n >= 32) /* /proc/pressure accepts at most 32 bytes */
		return CG_EINVAL;
	if (write(fd, buf, (size_t)n + 1) == n + 1)
		return CG_OK;
	return cg_err_from_errno(errno);
}

/* The 2 s multiple nearest to window, in [2 s, 10 s]. */
static uint64_t nearest_two_s(uint64_t window)
{
	uint64_t w = (window + TWO_S / 2) / TWO_S * TWO_S;
	if (w < TWO_S)
		w = TWO_S;
	if (w > CG_PSI_WINDOW_MAX_US)
		w = CG_PSI_WINDOW_MAX_US;
	return w;
}

static cg_err trigger_at(int dirfd, const char *name, enum cg_psi_kind kind, uint64_t stall,
                         uint64_t window, int *fdp, uint64_t *window_used, uint64_t *stall_used,
                         bool gone_on_enoent)
{
	cg_err err;
	int fd;

	*fdp = -1;
	if ((kind != CG_PSI_SOME && kind != CG_PSI_FULL) || stall == 0 || window == 0 ||
	    stall > window || window > CG_PSI_WINDOW_MAX_US)
		return CG_EINVAL;
	fd = openat(dirfd, name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = cg_err_from_errno(errno);
		if (err == CG_GONE && !gone_on_enoent)
			err = CG_ENOTSUP;
		return err;
	}
	err = write_trigger(fd, kind, stall, window);
	if (err == CG_EINVAL && window % TWO_S != 0) {
		uint64_t w2 = nearest_two_s(window);
		uint64_t s2 = (uint64_t)((double)stall * (double)w2 / (double)window);
		if (s2 == 0)
			s2 = 1;
		if (s2 > w2)
			s2 = w2;
		err = write_trigger(fd, kind, s2, w2);
		if (err == CG_OK) {
			window = w2;
			stall = s2;
		}
	}
	if (err != CG_OK) {
		close(fd);
		return err;
	}
	*fdp = fd;
	if (window_used)
		*window_used = window;
	if (stall_used)
		*stall_used = stall;
	return CG_OK;
}

cg_err cg_psi_trigger_open(cg_ct *ct, enum cg_resource res, enum cg_psi_kind kind,
                           uint64_t stall_us, uint64_t window_us, int *fd,
                           uint64_t *window_used_us, uint64_t *stall_used_us)
{
	char name[32];
	cg_err err;
	if ((unsigned)res >= CG_RES__COUNT) {
		*fd = -1;
		return CG_EINVAL;
	}
	snprintf(name, sizeof name, "%s.pressure", res_names[res]);
	err = trigger_at(ct->dirfd, name, kind, stall_us, window_us, fd, window_used_us,
	                 stall_used_us, true);
	if (err == CG_GONE) {
		/* ENOENT on openat: the file was never there, or the directory went away */
		if (cg_ct_refresh(ct) == CG_OK)
			err = CG_ENOTSUP;
	}
	return err;
}

cg_err cg_psi_trigger_path(const char *path, enum cg_psi_kind kind, uint64_t stall_us,
                           uint64_t window_us, int *fd, uint64_t *window_used_us,
                           uint64_t *stall_used_us)
{
	if (!path) {
		*fd = -1;
		return CG_EINVAL;
	}
	return trigger_at(AT_FDCWD, path, kind, stall_us, window_us, fd, window_used_us,
	                  stall_used_us, true);
}

cg_err cg_psi_host_trigger(enum cg_resource res, enum cg_psi_kind kind, uint64_t stall_us,
                           uint64_t window_us, int *fd, uint64_t *window_used_us,
                           uint64_t *stall_used_us)
{
	char path[64];
	if ((unsigned)res >= CG_RES__COUNT) {
		*fd = -1;
		return CG_EINVAL;
	}
	snprintf(path, sizeof path, "/proc/pressure/%s", res_names[res]);
	return trigger_at(AT_FDCWD, path, kind, stall_us, window_us, fd, window_used_us,
	                  stall_used_us, false);
}

enum cg_fd_event cg_psi_event_classify(uint32_t ev)
{
	if (ev & (EPOLLERR | EPOLLHUP))
		return CG_FD_GONE;
	if (ev & EPOLLPRI)
		return CG_FD_EVENT;
	return CG_FD_NONE;
}

cg_err cg_mem_events_watch(cg_ct *ct, int *fd)
{
	*fd = -1;
	if (ct->events_watch_fd < 0) {
		int w = openat(ct->dirfd, "memory.events", O_RDONLY | O_CLOEXEC);
		if (w < 0) {
			if (errno == ENOENT)
				return cg_ct_refresh(ct) == CG_GONE ? CG_GONE : CG_ENOTSUP;
			return cg_err_from_errno(errno);
		}
		ct->events_watch_fd = w;
		/* read once so that only changes from now on wake the caller */
		cg_err err = cg_mem_events_ack(ct, NULL);
		if (err != CG_OK)
			return err;
	}
	*fd = ct->events_watch_fd;
	return CG_OK;
}

cg_err cg_mem_events_ack(cg_ct *ct, struct cg_mem_events *out)
{
	char buf[512];
	ssize_t n;
	if (out)
		memset(out, 0, sizeof *out);
	if (ct->events_watch_fd < 0)
		return CG_EINVAL;
	n = cg_pread_file(ct->events_watch_fd, buf, sizeof buf);
	if (n < 0)
		return cg_err_from_errno(errno) == CG_GONE ? CG_GONE : CG_EIO;
	if (out)
		cg_parse_mem_events(buf, (size_t)n, out);
	return CG_OK;
}

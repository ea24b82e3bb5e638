/*
 * base/lockfile.c — see base/lockfile.h. flock + PID inside; nothing to clean up after a crash.
 */
#include "base/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > 4194304 || (*end && *end != '\n'))
		return 0;
	return (pid_t)v;
}

int lockfile_write_pid(int fd, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	if (ftruncate(fd, 0) != 0)
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int lockfile_acquire(const char *path, pid_t *holder, char *err, size_t errlen)
{
	if (holder)
		*holder = 0;
	/* O_NOFOLLOW: a root daemon must not be steered into truncating another file */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "lock file %s is not a regular file", path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			/* the owner writes its PID right after locking: give it a moment */
			pid_t pid = 0;
			for (int i = 0; i < 20 && (pid = read_pid(fd)) == 0; i++)
				usleep(10000);
			if (holder)
				*holder = pid;
			if (pid)
				snprintf(err, errlen, "another lxcscaled is running (PID %ld holds %s)", (long)pid, path);
			else
				snprintf(err, errlen, "another lxcscaled is running (it holds %s)", path);
		} else {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
		}
		close(fd);
		errno = e;
		return -1;
	}
	if (lockfile_write_pid(fd, getpid()) != 0) {
		int e = errno;
		snprintf(err, errlen, "cannot write PID to %s: %s", path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void lockfile_release(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) != 0) {
		/* nothing to do: the lock goes with the descriptor anyway */
	}
	close(fd);
}

/*
 * test_lockfile.c — single instance with real processes: a second holder is refused and
 * named, a SIGKILLed holder's file never blocks, and unsafe paths are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/lockfile.h"
#include "testlib.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	if (tl_tempdir(dir, sizeof(dir), "lock") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/lxcscale.lock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tl_rm_rf(dir);
}

static long file_pid(void)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* A child that takes the lock, reports through the pipe, then waits to be killed. */
static pid_t spawn_holder(void)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char err[256];
		int fd = lockfile_acquire(path, NULL, err, sizeof(err));
		char ok = fd >= 0 ? 'y' : 'n';
		if (write(p[1], &ok, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	char ok = 0;
	assert_int_equal(read(p[0], &ok, 1), 1);
	close(p[0]);
	assert_int_equal(ok, 'y');
	return pid;
}

static void reap(pid_t pid, int sig)
{
	kill(pid, sig);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), sig);
}

static void test_acquire_writes_pid(void **state)
{
	(void)state;
	char err[256];
	int fd = lockfile_acquire(path, NULL, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(file_pid(), (long)getpid());
	lockfile_release(fd);
	assert_int_equal(file_pid(), 0); /* emptied, not unlinked */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
}

static void test_second_instance_refused_naming_pid(void **state)
{
	(void)state;
	pid_t holder = spawn_holder();
	char err[256];
	pid_t who = 0;
	errno = 0;
	int fd = lockfile_acquire(path, &who, err, sizeof(err));
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(who, holder);
	char want[256];
	snprintf(want, sizeof(want), "another lxcscaled is running (PID %ld holds %s)", (long)holder, path);
	assert_string_equal(err, want);
	/* the refused attempt did not disturb the holder's PID */
	assert_int_equal(file_pid(), (long)holder);
	reap(holder, SIGTERM);
}

static void test_sigkilled_holder_never_blocks(void **state)
{
	(void)state;
	pid_t holder = spawn_holder();
	reap(holder, SIGKILL);
	/* the dead holder's PID is still in the file ... */
	assert_int_equal(file_pid(), (long)holder);
	/* ... and does not matter */
	char err[256];
	pid_t who = -1;
	int fd = lockfile_acquire(path, &who, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(who, 0);
	assert_int_equal(file_pid(), (long)getpid());
	assert_int_equal(lockfile_write_pid(fd, 4242), 0);
	assert_int_equal(file_pid(), 4242);
	lockfile_release(fd);
}

static void test_unsafe_paths_refused(void **state)
{
	(void)state;
	char err[256], link[160], target[160];
	/* a symlink (someone steering root into truncating another file) */
	snprintf(target, sizeof(target), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/link.lock", dir);
	int t = open(target, O_WRONLY | O_CREAT, 0600);
	assert_true(t >= 0);
	assert_int_equal(write(t, "precious\n", 9), 9);
	close(t);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(lockfile_acquire(link, NULL, err, sizeof(err)), -1);
	assert_int_equal(errno, ELOOP);
	assert_non_null(strstr(err, "cannot open lock file"));
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 9);
	/* a directory, a FIFO, a missing directory */
	assert_int_equal(lockfile_acquire(dir, NULL, err, sizeof(err)), -1);
	char fifo[160];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* O_RDWR on a FIFO does not block; it must still be refused as not a regular file */
	assert_int_equal(lockfile_acquire(fifo, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a regular file"));
	assert_int_equal(lockfile_acquire("/nonexistent-dir/x.lock", NULL, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_writes_pid),
		cmocka_unit_test(test_second_instance_refused_naming_pid),
		cmocka_unit_test(test_sigkilled_holder_never_blocks),
		cmocka_unit_test(test_unsafe_paths_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

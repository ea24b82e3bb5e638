/*
 * test_sdnotify.c — the systemd notification protocol (user/base/sdnotify.c) against real
 * AF_UNIX datagram sockets: a path socket and an abstract one receive the exact bytes;
 * no $NOTIFY_SOCKET is "not under systemd"; malformed or unreachable sockets are errors,
 * never a crash or a signal; $WATCHDOG_USEC counts only for our own pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/sdnotify.h"

/* A datagram socket bound to `name` ("/path" or "@abstract"). */
static int listener(const char *name)
{
	struct sockaddr_un sa;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t r = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_int_equal(r, (ssize_t)strlen(want));
	buf[r] = '\0';
	assert_string_equal(buf, want);
}

static void test_path_socket(void **state)
{
	(void)state;
	char dir[] = "/tmp/lxcscale-test-sdnotify-XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	int fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdnotify_send("READY=1\nSTATUS=running"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=running");
	assert_int_equal(sdnotify_send("WATCHDOG=1"), 1);
	expect_datagram(fd, "WATCHDOG=1");
	close(fd);
	/* the manager went away: an error, no SIGPIPE */
	assert_int_equal(sdnotify_send("STOPPING=1"), -ECONNREFUSED);
	unlink(path);
	assert_int_equal(sdnotify_send("STOPPING=1"), -ENOENT);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract_socket(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "@lxcscale-test-sdnotify-%d", (int)getpid());
	int fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_send("RELOADING=1"), 1);
	expect_datagram(fd, "RELOADING=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_not_under_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	/* malformed: relative, a bare "@", longer than sun_path */
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdnotify_send("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(sdnotify_send("READY=1"), -EINVAL);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	assert_int_equal(sdnotify_send("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void **state)
{
	(void)state;
	uint64_t us = 0;
	char pid[32];
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdnotify_watchdog_usec(&us), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(sdnotify_watchdog_usec(&us), 1);
	assert_true(us == 30000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_usec(&us), 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1); /* meant for another process */
	assert_int_equal(sdnotify_watchdog_usec(&us), 0);
	setenv("WATCHDOG_PID", "12x", 1);
	assert_int_equal(sdnotify_watchdog_usec(&us), 0);
	unsetenv("WATCHDOG_PID");
	static const char *const bad[] = { "0", "-5", "abc", "12abc", " 12", "99999999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		us = 7;
		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_int_equal(sdnotify_watchdog_usec(&us), 0);
		assert_true(us == 7);
	}
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_not_under_systemd),
		cmocka_unit_test(test_watchdog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

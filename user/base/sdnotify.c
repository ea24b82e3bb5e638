/*
 * base/sdnotify.c — sends systemd notifications over $NOTIFY_SOCKET (see base/sdnotify.h).
 *
 * One SOCK_DGRAM socket per message, as libsystemd does: notifications are rare (start,
 * reload, stop, a watchdog ping and a status line every few seconds), and a socket kept
 * open would outlive a systemd re-exec. MSG_NOSIGNAL: a vanished manager is an error
 * return, never a SIGPIPE.
 */
#include "base/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	size_t n;
	int fd, rc = 1;

	if (!path || !path[0])
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path) || (path[0] == '@' && n < 2))
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: no terminating NUL counted */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int sdnotify_watchdog_usec(uint64_t *usec)
{
	uint64_t v, pid;
	const char *p = getenv("WATCHDOG_PID");

	if (p && (parse_u64(p, &pid) != 0 || pid != (uint64_t)getpid()))
		return 0;
	if (parse_u64(getenv("WATCHDOG_USEC"), &v) != 0 || v == 0)
		return 0;
	*usec = v;
	return 1;
}

/*
 * base/sdnotify.h — systemd's readiness protocol, without libsystemd.
 *
 * The protocol is one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), and the watchdog period
 * in $WATCHDOG_USEC (for $WATCHDOG_PID when set). systemd documents it as a stable
 * interface (sd_notify(3), "Notes"). Doing it here spares the daemon libsystemd and the
 * compression and crypto libraries it pulls in: about 1 MB of resident pages.
 */
#ifndef LXCSCALE_SDNOTIFY_H
#define LXCSCALE_SDNOTIFY_H

#include <stdint.h>

/* Sends `state` (e.g. "READY=1\nSTATUS=running"). 1 sent, 0 not under systemd (no
 * $NOTIFY_SOCKET), -errno on failure (-EINVAL: a malformed $NOTIFY_SOCKET). */
int sdnotify_send(const char *state);

/* The watchdog period asked of this process: 1 with *usec set, 0 when none (unset, for
 * another pid, or not a positive number). */
int sdnotify_watchdog_usec(uint64_t *usec);

#endif

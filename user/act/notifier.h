/*
 * act/notifier.h — scaling events and persistent failures to a webhook, Gotify and Uptime Kuma.
 *
 * Off by default: a channel is used only when its URL is set (notifications.*). The loop
 * calls notify_send(), which only copies the event into a bounded queue (the oldest event
 * is dropped when it is full) and wakes the notifier's own thread; the HTTP requests (libcurl,
 * timeout per request) run there, so a slow or dead endpoint never blocks scaling.
 *
 *   webhook      POST {url}           JSON {"title","message","priority","kind","vmid","time"}
 *   Gotify       POST {url}/message   JSON {"title","message","priority"}, header X-Gotify-Key
 *   Uptime Kuma  POST {push_url}?status=up|down&msg=...  (the same JSON body, as the
 *                reference does; Kuma reads the query)
 *
 * Backoff as in the reference family: after 3 consecutive failures a channel is paused for
 * the next 10 events, then tried again (one success resets it).
 */
#ifndef LXCSCALE_NOTIFY_H
#define LXCSCALE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum notify_channel { NOTIFY_WEBHOOK = 0, NOTIFY_GOTIFY, NOTIFY_KUMA, NOTIFY__COUNT };

struct notify_settings {
	char webhook_url[512];
	char gotify_url[512];
	char gotify_token[512];
	char kuma_push_url[512];
	int timeout_ms;           /* per request; default 10000 */
	int priority;             /* Gotify priority of normal events; default 5 */
	bool verify_tls;          /* default true */
	char ca_file[4096];
	int fail_threshold;       /* default 3 */
	int pause_events;         /* default 10 */
	size_t queue_max;         /* default 256 */
};

void notify_settings_default(struct notify_settings *s);
/* 0 or -EINVAL with a reason (a URL that is not http(s), a token with odd characters). */
int notify_settings_check(const struct notify_settings *s, char *why, size_t len);

enum notify_kind {
	NOTIFY_SCALE = 0,      /* a limit changed */
	NOTIFY_FAILURE,        /* a persistent failure (breaker open, persisting failed) */
	NOTIFY_INFO,
};

struct notify_stats {
	uint64_t sent[NOTIFY__COUNT], failed[NOTIFY__COUNT], paused[NOTIFY__COUNT];
	uint64_t dropped;          /* queue overflow */
};

struct notifier;

/* Starts the thread even when no channel is set (then notify_send just returns). */
int notify_start(const struct notify_settings *s, struct notifier **out);
void notify_stop(struct notifier *n);
bool notify_enabled(const struct notifier *n);

/* Never blocks on I/O. vmid 0 = not about one container. */
void notify_send(struct notifier *n, enum notify_kind kind, uint32_t vmid, const char *title,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Waits until the queue is empty and no request runs, at most timeout_ms. 0 or -ETIMEDOUT. */
int notify_flush(struct notifier *n, int timeout_ms);
void notify_get_stats(struct notifier *n, struct notify_stats *out);

#endif

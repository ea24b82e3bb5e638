/*
 * act/notifier.c — the notifier thread: a bounded event queue, one libcurl request per channel
 * and event, and the per-channel pause after repeated failures (see act/notifier.h).
 *
 * JSON bodies are built with json-c so titles and messages are escaped properly. The
 * Gotify token only ever goes into its header (validated: no CR/LF) and is wiped at stop.
 */
#include "act/notifier.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/libcurl.h"
#include "base/worker.h"

struct event {
	enum notify_kind kind;
	uint32_t vmid;
	int64_t time;
	char title[128];
	char message[512];
};

struct chan_state {
	int consecutive_failures;
	int pause_left; /* events still to skip */
};

struct notifier {
	struct notify_settings s;
	bool enabled[NOTIFY__COUNT];
	struct worker w;             /* its lock guards the queue, the channel states and stats */
	pthread_cond_t idle_cv;      /* on w.mu: the queue ran empty (notify_flush) */
	bool busy;
	struct event *q;
	size_t head, count;
	struct chan_state ch[NOTIFY__COUNT];
	struct notify_stats st;
};

void notify_settings_default(struct notify_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->timeout_ms = 10000;
	s->priority = 5;
	s->verify_tls = true;
	s->fail_threshold = 3;
	s->pause_events = 10;
	s->queue_max = 256;
}

static bool url_ok(const char *u)
{
	if (!u[0])
		return true; /* unset: channel off */
	if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int notify_settings_check(const struct notify_settings *s, char *why, size_t len)
{
	if (!url_ok(s->webhook_url) || !url_ok(s->gotify_url) || !url_ok(s->kuma_push_url)) {
		snprintf(why, len, "notification URLs must be http:// or https:// without spaces");
		return -EINVAL;
	}
	if (s->gotify_url[0] && !s->gotify_token[0]) {
		snprintf(why, len, "notifications.gotify_token is required with gotify_url");
		return -EINVAL;
	}
	for (const char *p = s->gotify_token; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_')) {
			snprintf(why, len, "notifications.gotify_token has characters a token does not have");
			return -EINVAL;
		}
	if (s->timeout_ms < 100 || s->timeout_ms > 120000 || s->fail_threshold < 1 ||
	    s->pause_events < 0 || s->queue_max < 1 || s->queue_max > 65536) {
		snprintf(why, len, "notification timeout/backoff/queue settings out of range");
		return -EINVAL;
	}
	return 0;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

static const char *kind_name(enum notify_kind k)
{
	return k == NOTIFY_SCALE ? "scale" : k == NOTIFY_FAILURE ? "failure" : "info";
}

/* One request; true on a 2xx answer. */
static bool post(struct notifier *n, enum notify_channel ch, const struct event *e)
{
	char url[1200], hdr_key[560];
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "title", json_object_new_string(e->title));
	json_object_object_add(o, "message", json_object_new_string(e->message));
	json_object_object_add(o, "priority",
	                       json_object_new_int(e->kind == NOTIFY_FAILURE ? n->s.priority + 3
	                                                                     : n->s.priority));
	if (ch == NOTIFY_WEBHOOK) {
		json_object_object_add(o, "kind", json_object_new_string(kind_name(e->kind)));
		json_object_object_add(o, "vmid", json_object_new_int64(e->vmid));
		json_object_object_add(o, "time", json_object_new_int64(e->time));
	}
	const char *body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	const struct curl_api *cu = curl_api();
	CURL *c = cu ? cu->easy_init() : NULL; /* no libcurl: a failed delivery */
	if (!c) {
		json_object_put(o);
		return false;
	}
	struct curl_slist *hdr = cu->slist_append(NULL, "Content-Type: application/json");
	switch (ch) {
	case NOTIFY_WEBHOOK:
		snprintf(url, sizeof(url), "%s", n->s.webhook_url);
		break;
	case NOTIFY_GOTIFY: {
		size_t l = strlen(n->s.gotify_url);
		while (l && n->s.gotify_url[l - 1] == '/')
			l--;
		snprintf(url, sizeof(url), "%.*s/message", (int)l, n->s.gotify_url);
		snprintf(hdr_key, sizeof(hdr_key), "X-Gotify-Key: %s", n->s.gotify_token);
		hdr = cu->slist_append(hdr, hdr_key);
		explicit_bzero(hdr_key, sizeof(hdr_key));
		break;
	}
	default: {
		char *msg = cu->easy_escape(c, e->title, 0);
		snprintf(url, sizeof(url), "%s%sstatus=%s&msg=%s", n->s.kuma_push_url,
		         strchr(n->s.kuma_push_url, '?') ? "&" : "?",
		         e->kind == NOTIFY_FAILURE ? "down" : "up", msg ? msg : "");
		cu->free(msg);
		break;
	}
	}
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_POSTFIELDS, body);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->s.timeout_ms);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, n->s.verify_tls ? 1L : 0L);
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, n->s.verify_tls ? 2L : 0L);
	if (n->s.ca_file[0])
		cu->easy_setopt(c, CURLOPT_CAINFO, n->s.ca_file);
	CURLcode rc = cu->easy_perform(c);
	long status = 0;
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cu->slist_free_all(hdr);
	cu->easy_cleanup(c);
	json_object_put(o);
	return rc == CURLE_OK && status >= 200 && status < 300;
}

static void deliver(struct notifier *n, const struct event *e)
{
	for (int ch = 0; ch < NOTIFY__COUNT; ch++) {
		if (!n->enabled[ch])
			continue;
		worker_lock(&n->w);
		struct chan_state *cs = &n->ch[ch];
		bool skip = cs->pause_left > 0;
		if (skip) {
			cs->pause_left--;
			n->st.paused[ch]++;
		}
		worker_unlock(&n->w);
		if (skip)
			continue;
		bool ok = post(n, (enum notify_channel)ch, e);
		worker_lock(&n->w);
		if (ok) {
			n->st.sent[ch]++;
			cs->consecutive_failures = 0;
		} else {
			n->st.failed[ch]++;
			if (++cs->consecutive_failures >= n->s.fail_threshold) {
				cs->pause_left = n->s.pause_events;
				cs->consecutive_failures = 0;
			}
		}
		worker_unlock(&n->w);
	}
}

static void run(void *arg)
{
	struct notifier *n = arg;
	worker_lock(&n->w);
	for (;;) {
		while (!worker_stopping(&n->w) && n->count == 0) {
			n->busy = false;
			pthread_cond_broadcast(&n->idle_cv);
			worker_wait(&n->w, WORKER_FOREVER);
		}
		if (worker_stopping(&n->w))
			break;
		struct event e = n->q[n->head];
		n->head = (n->head + 1) % n->s.queue_max;
		n->count--;
		n->busy = true;
		worker_unlock(&n->w);
		deliver(n, &e);
		worker_lock(&n->w);
	}
	n->busy = false;
	pthread_cond_broadcast(&n->idle_cv);
	worker_unlock(&n->w);
}

int notify_start(const struct notify_settings *s, struct notifier **out)
{
	char why[200];
	*out = NULL;
	if (notify_settings_check(s, why, sizeof(why)) < 0)
		return -EINVAL;
	struct notifier *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->s = *s;
	n->q = calloc(s->queue_max, sizeof(*n->q));
	if (!n->q) {
		free(n);
		return -ENOMEM;
	}
	n->enabled[NOTIFY_WEBHOOK] = s->webhook_url[0] != '\0';
	n->enabled[NOTIFY_GOTIFY] = s->gotify_url[0] != '\0';
	n->enabled[NOTIFY_KUMA] = s->kuma_push_url[0] != '\0';
	if (n->enabled[NOTIFY_WEBHOOK] || n->enabled[NOTIFY_GOTIFY] || n->enabled[NOTIFY_KUMA])
		(void)curl_api(); /* loaded (and initialised) before our thread uses it */
	/* notify_flush waits a bounded time: on the monotonic clock, so a clock set back
	 * during shutdown cannot stretch the wait */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->idle_cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = worker_start(&n->w, run, n);
	if (rc < 0) {
		pthread_cond_destroy(&n->idle_cv);
		free(n->q);
		free(n);
		return rc;
	}
	*out = n;
	return 0;
}

void notify_stop(struct notifier *n)
{
	if (!n)
		return;
	worker_stop(&n->w);
	pthread_cond_destroy(&n->idle_cv);
	explicit_bzero(n->s.gotify_token, sizeof(n->s.gotify_token));
	free(n->q);
	free(n);
}

bool notify_enabled(const struct notifier *n)
{
	return n && (n->enabled[0] || n->enabled[1] || n->enabled[2]);
}

void notify_send(struct notifier *n, enum notify_kind kind, uint32_t vmid, const char *title,
                 const char *fmt, ...)
{
	if (!notify_enabled(n))
		return;
	struct event e = {.kind = kind, .vmid = vmid, .time = (int64_t)time(NULL)};
	snprintf(e.title, sizeof(e.title), "%s", title ? title : "lxcscale");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	worker_lock(&n->w);
	if (n->count == n->s.queue_max) { /* full: the oldest goes */
		n->head = (n->head + 1) % n->s.queue_max;
		n->count--;
		n->st.dropped++;
	}
	n->q[(n->head + n->count) % n->s.queue_max] = e;
	n->count++;
	worker_wake(&n->w);
	worker_unlock(&n->w);
}

int notify_flush(struct notifier *n, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* idle_cv runs on CLOCK_MONOTONIC */
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	int rc = 0;
	worker_lock(&n->w);
	while ((n->count || n->busy) && rc == 0)
		rc = pthread_cond_timedwait(&n->idle_cv, &n->w.mu, &ts);
	worker_unlock(&n->w);
	return rc ? -ETIMEDOUT : 0;
}

void notify_get_stats(struct notifier *n, struct notify_stats *out)
{
	worker_lock(&n->w);
	*out = n->st;
	worker_unlock(&n->w);
}

/*
 * test_notify.c — notifications against a real HTTP server on loopback (python3's
 * http.server, started by the test): webhook, Gotify and Uptime Kuma requests as sent,
 * the pause after 3 failures, a hanging endpoint, queue overflow, and off-by-default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "act/notifier.h"
#include "testlib.h"

struct fx {
	char dir[64], log[128];
	pid_t server;
	int port;
	struct notifier *n;
	struct notify_settings s;
};

static const char *server_py =
	"import http.server, sys, time, os\n"
	"portfile, log = sys.argv[1], sys.argv[2]\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def log_message(self, *a): pass\n"
	"    def do_POST(self):\n"
	"        n = int(self.headers.get('Content-Length', 0))\n"
	"        body = self.rfile.read(n).decode()\n"
	"        if self.path.startswith('/slow'): time.sleep(3)\n"
	"        key = self.headers.get('X-Gotify-Key', '-')\n"
	"        with open(log, 'a') as f: f.write('%s key=%s %s\\n' % (self.path, key, body))\n"
	"        code = 500 if self.path.startswith('/fail') else 200\n"
	"        if self.path.startswith('/gotify') and key != 'AbC.123_x': code = 401\n"
	"        try:\n"
	"            self.send_response(code); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'{}')\n"
	"        except Exception: pass\n"
	"class S(http.server.ThreadingHTTPServer): daemon_threads = True\n"
	"s = S(('127.0.0.1', 0), H)\n"
	"open(portfile + '.t', 'w').write(str(s.server_address[1]))\n"
	"os.rename(portfile + '.t', portfile)\n"
	"s.serve_forever()\n";

static int count(const char *path, const char *needle)
{
	int n = 0;
	for (const char *p = tl_slurp(path); (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (tl_tempdir(f->dir, sizeof(f->dir), "notify") != 0)
		return -1;
	snprintf(f->log, sizeof(f->log), "%s/http.log", f->dir);
	f->server = tl_http_server(f->dir, server_py, (const char *const[]){f->log, NULL}, &f->port);
	if (f->server < 0)
		return -1;
	notify_settings_default(&f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	notify_stop(f->n);
	tl_http_server_stop(f->server);
	if (tl_rm_rf(f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

static void url(struct fx *f, char *dst, size_t len, const char *path)
{
	snprintf(dst, len, "http://127.0.0.1:%d%s", f->port, path);
}

static void test_off_by_default(void **state)
{
	struct fx *f = *state;
	assert_int_equal(notify_start(&f->s, &f->n), 0);
	assert_false(notify_enabled(f->n));
	notify_send(f->n, NOTIFY_SCALE, 101, "x", "y");
	assert_int_equal(notify_flush(f->n, 10000), 0);
	struct notify_stats st;
	notify_get_stats(f->n, &st);
	assert_int_equal(st.sent[NOTIFY_WEBHOOK] + st.sent[NOTIFY_GOTIFY] + st.sent[NOTIFY_KUMA], 0);
	assert_int_equal(count(f->log, "/"), 0);
}

static void test_three_channels(void **state)
{
	struct fx *f = *state;
	url(f, f->s.webhook_url, sizeof(f->s.webhook_url), "/hook");
	url(f, f->s.gotify_url, sizeof(f->s.gotify_url), "/gotify/");
	snprintf(f->s.gotify_token, sizeof(f->s.gotify_token), "AbC.123_x");
	url(f, f->s.kuma_push_url, sizeof(f->s.kuma_push_url), "/api/push/Xy12");
	assert_int_equal(notify_start(&f->s, &f->n), 0);
	notify_send(f->n, NOTIFY_SCALE, 101, "CT 101 CPU increased",
	            "cores 2 -> 4 (\"psi\" urgency 1)");
	notify_send(f->n, NOTIFY_FAILURE, 102, "CT 102 persist failed", "breaker open");
	assert_int_equal(notify_flush(f->n, 30000), 0);
	struct notify_stats st;
	notify_get_stats(f->n, &st);
	for (int ch = 0; ch < NOTIFY__COUNT; ch++) {
		assert_int_equal(st.sent[ch], 2);
		assert_int_equal(st.failed[ch], 0);
	}
	const char *log = f->log;
	assert_int_equal(count(log, "/hook key=- {\"title\":\"CT 101 CPU increased\","
	                            "\"message\":\"cores 2 -> 4 (\\\"psi\\\" urgency 1)\","
	                            "\"priority\":5,\"kind\":\"scale\",\"vmid\":101,"), 1);
	assert_int_equal(count(log, "/gotify/message key=AbC.123_x {\"title\":\"CT 101 CPU increased\""), 1);
	assert_int_equal(count(log, "/gotify/message key=AbC.123_x {\"title\":\"CT 102 persist failed\","
	                            "\"message\":\"breaker open\",\"priority\":8}"), 1);
	assert_int_equal(count(log, "/api/push/Xy12?status=up&msg=CT%20101%20CPU%20increased key=-"), 1);
	assert_int_equal(count(log, "/api/push/Xy12?status=down&msg=CT%20102%20persist%20failed"), 1);
}

/* 3 failures in a row pause the channel for 10 events; the 14th is tried again. */
static void test_failing_channel_is_paused(void **state)
{
	struct fx *f = *state;
	url(f, f->s.webhook_url, sizeof(f->s.webhook_url), "/fail");
	url(f, f->s.gotify_url, sizeof(f->s.gotify_url), "/gotify");
	snprintf(f->s.gotify_token, sizeof(f->s.gotify_token), "AbC.123_x");
	assert_int_equal(notify_start(&f->s, &f->n), 0);
	for (int i = 0; i < 14; i++)
		notify_send(f->n, NOTIFY_SCALE, 101, "t", "event %d", i);
	assert_int_equal(notify_flush(f->n, 60000), 0);
	struct notify_stats st;
	notify_get_stats(f->n, &st);
	assert_int_equal(st.failed[NOTIFY_WEBHOOK], 4);
	assert_int_equal(st.paused[NOTIFY_WEBHOOK], 10);
	assert_int_equal(count(f->log, "/fail "), 4);
	assert_int_equal(count(f->log, "\"message\":\"event 13\""), 2); /* webhook tried again */
	/* the healthy channel is not affected by the other one's pause */
	assert_int_equal(st.sent[NOTIFY_GOTIFY], 14);
	assert_int_equal(st.paused[NOTIFY_GOTIFY], 0);
}

/* A hanging endpoint costs the notifier thread its timeout, never the caller; events that
 * do not fit the queue meanwhile are dropped (oldest first) and counted. */
static void test_hanging_endpoint_and_overflow(void **state)
{
	struct fx *f = *state;
	url(f, f->s.webhook_url, sizeof(f->s.webhook_url), "/slow");
	f->s.timeout_ms = 300;
	f->s.queue_max = 4;
	f->s.pause_events = 0;
	assert_int_equal(notify_start(&f->s, &f->n), 0);
	notify_send(f->n, NOTIFY_SCALE, 101, "t", "first");
	for (int i = 0; i < 200 && notify_flush(f->n, 0) == 0; i++)
		usleep(1000); /* until the worker holds "first" */
	for (int i = 0; i < 20; i++)
		notify_send(f->n, NOTIFY_SCALE, 101, "t", "event %d", i);
	assert_int_equal(notify_flush(f->n, 60000), 0);
	struct notify_stats st;
	notify_get_stats(f->n, &st);
	assert_true(st.dropped >= 16 && st.dropped <= 17);
	assert_int_equal(st.sent[NOTIFY_WEBHOOK], 0);
	assert_true(st.failed[NOTIFY_WEBHOOK] >= 4); /* timeouts */
}

static void test_bad_settings(void **state)
{
	struct fx *f = *state;
	char why[200];
	struct notify_settings s = f->s;
	snprintf(s.webhook_url, sizeof(s.webhook_url), "file:///etc/shadow");
	assert_int_equal(notify_settings_check(&s, why, sizeof(why)), -EINVAL);
	s = f->s;
	snprintf(s.gotify_url, sizeof(s.gotify_url), "https://gotify.example");
	assert_int_equal(notify_settings_check(&s, why, sizeof(why)), -EINVAL); /* no token */
	snprintf(s.gotify_token, sizeof(s.gotify_token), "abc\r\nX-Other: 1");
	assert_int_equal(notify_settings_check(&s, why, sizeof(why)), -EINVAL);
	snprintf(s.gotify_token, sizeof(s.gotify_token), "abc");
	assert_int_equal(notify_settings_check(&s, why, sizeof(why)), 0);
	snprintf(s.kuma_push_url, sizeof(s.kuma_push_url), "http://x/push?a b");
	assert_int_equal(notify_settings_check(&s, why, sizeof(why)), -EINVAL);
	struct notifier *n;
	assert_int_equal(notify_start(&s, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_off_by_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_channel_is_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hanging_endpoint_and_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_settings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

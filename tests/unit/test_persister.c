/*
 * test_persister.c — the persister thread against the real stand-in `pct` (a separate
 * process that edits <vmid>.conf files and can be locked, slow, failing or hung) and the
 * REST backend against a real HTTP/HTTPS server on loopback (python3's http.server, with a
 * self-signed certificate made by openssl for the TLS cases).
 *
 * Waits are bounded by generous deadlines that only guard against a hang; no test asserts
 * how long something took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "act/options.h"
#include "base/proc.h"
#include "config/config.h"
#include "pve/persister.h"
#include "testlib.h"

#define HANG_GUARD_MS 30000

static char g_pct[PATH_MAX];

struct fx {
	char dir[64];
	char log[128];
	struct persist_settings s;
	struct persister *p;
	pid_t server;
	int port;
};

static int count_lines(const char *path, const char *needle)
{
	char *s = tl_slurp(path);
	int n = 0;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
		if (!needle || strstr(line, needle))
			n++;
	return n;
}

static void put_ct(struct fx *f, unsigned vmid, const char *extra)
{
	char path[256], text[512];
	snprintf(path, sizeof(path), "%s/%u.conf", f->dir, vmid);
	snprintf(text, sizeof(text), "arch: amd64\ncores: 2\nhostname: ct%u\nmemory: 1024\n%sswap: 512\n",
	         vmid, extra ? extra : "");
	tl_write_atomic(path, text);
	snprintf(path, sizeof(path), "%s/%u.state", f->dir, vmid);
	tl_write_atomic(path, "running\n");
}

static char *ct_conf(struct fx *f, unsigned vmid)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%u.conf", f->dir, vmid);
	return tl_slurp(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (tl_tempdir(f->dir, sizeof(f->dir), "persister") != 0)
		return -1;
	snprintf(f->log, sizeof(f->log), "%s/pct.log", f->dir);
	tl_pct_env(f->dir, f->log);
	persist_settings_default(&f->s);
	snprintf(f->s.pct_path, sizeof(f->s.pct_path), "%s", g_pct);
	f->s.debounce_ms = 150;
	f->s.retry_delay_ms = 20;
	f->s.lock_retry_ms = 50;
	f->s.call_timeout_ms = 10000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->p)
		persister_stop(f->p, false);
	tl_http_server_stop(f->server);
	if (tl_rm_rf(f->dir) != 0)
		return -1;
	tl_pct_env_clear();
	free(f);
	return 0;
}

/* Waits for the next result (the eventfd as the loop would poll it). */
static struct persist_result next_result(struct persister *p)
{
	struct persist_result r;
	for (;;) {
		if (persister_take_results(p, &r, 1) == 1)
			return r;
		struct pollfd pfd = {.fd = persister_eventfd(p), .events = POLLIN};
		int rc = poll(&pfd, 1, HANG_GUARD_MS);
		assert_true(rc == 1); /* 0 = nothing within the guard: the persister hangs */
	}
}

static struct persist_target target(uint32_t vmid, unsigned cores, uint64_t mem, uint64_t seq)
{
	struct persist_target t = {.vmid = vmid, .set_cores = true, .cores = cores,
				   .set_memory = true, .memory_mb = mem, .upto_seq = seq};
	return t;
}

static void test_burst_makes_one_coalesced_call(void **state)
{
	struct fx *f = *state;
	put_ct(f, 101, NULL);
	put_ct(f, 102, NULL);
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	for (unsigned i = 1; i <= 6; i++) {
		struct persist_target t = target(101, 2 + i % 3, 1024 + 256 * i, i);
		assert_int_equal(persister_submit(f->p, &t), 0);
	}
	struct persist_target cpu_only = {.vmid = 102, .set_cores = true, .cores = 3, .upto_seq = 9};
	assert_int_equal(persister_submit(f->p, &cpu_only), 0);

	struct persist_result r[2] = {next_result(f->p), next_result(f->p)};
	if (r[0].vmid != 101) {
		struct persist_result t = r[0];
		r[0] = r[1];
		r[1] = t;
	}
	assert_int_equal(r[0].status, PERSIST_OK);
	assert_int_equal(r[0].upto_seq, 6);
	assert_int_equal(r[0].attempts, 1);
	assert_int_equal(r[1].status, PERSIST_OK);
	assert_int_equal(r[1].upto_seq, 9);

	/* one call per container, with the last values and the exact argv */
	assert_int_equal(count_lines(f->log, NULL), 2);
	assert_int_equal(count_lines(f->log, "pct\tset\t101\t--cores\t2\t--memory\t2560"), 1);
	assert_int_equal(count_lines(f->log, "pct\tset\t102\t--cores\t3"), 1);
	assert_int_equal(count_lines(f->log, "--memory\t"), 1); /* 102's call left memory alone */
	assert_non_null(strstr(ct_conf(f, 101), "cores: 2\n"));
	assert_non_null(strstr(ct_conf(f, 101), "memory: 2560\n"));
	assert_non_null(strstr(ct_conf(f, 102), "cores: 3\n"));
	assert_non_null(strstr(ct_conf(f, 102), "memory: 1024\n"));
	assert_int_equal(persister_pending(f->p), 0);
}

/* "CT is locked (backup)": retried every lock_retry_ms, reported once, never dropped; it
 * goes through as soon as the backup ends. */
static void test_locked_container_is_retried_later(void **state)
{
	struct fx *f = *state;
	put_ct(f, 103, "lock: backup\n");
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(103, 4, 4096, 17);
	assert_int_equal(persister_submit(f->p, &t), 0);

	struct persist_result r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_LOCKED);
	assert_non_null(strstr(r.detail, "CT is locked (backup)"));
	while (count_lines(f->log, "set\t103") < 4)
		usleep(20000);
	assert_int_equal(persister_pending(f->p), 1);
	assert_false(persister_breaker_open(f->p, 103)); /* a lock is not a failure */

	put_ct(f, 103, NULL); /* the backup finished */
	r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_OK);
	assert_int_equal(r.upto_seq, 17);
	assert_true(r.attempts >= 4);
	assert_non_null(strstr(ct_conf(f, 103), "cores: 4\n"));
	assert_non_null(strstr(ct_conf(f, 103), "memory: 4096\n"));
	assert_int_equal(persister_pending(f->p), 0);
}

/* A failing pct: retried max_retries times with backoff, each failed round counted; the
 * breaker opens at the threshold and no call is made until its timeout has passed; then one
 * call goes through and closes it. */
static void test_failing_pct_opens_the_breaker(void **state)
{
	struct fx *f = *state;
	put_ct(f, 104, NULL);
	setenv("PCT_STAND_IN_FAIL", "2", 1);
	setenv("PCT_STAND_IN_FAIL_MESSAGE", "unable to hotplug memory: no quorum", 1);
	f->s.max_retries = 2;
	f->s.breaker_failure_threshold = 2;
	f->s.breaker_timeout_ms = 1000;
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(104, 3, 2048, 5);
	assert_int_equal(persister_submit(f->p, &t), 0);

	struct persist_result r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_FAILED);
	assert_int_equal(r.attempts, 3);
	assert_false(r.breaker_open);
	assert_non_null(strstr(r.detail, "no quorum"));
	r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_FAILED);
	assert_int_equal(r.attempts, 3);
	assert_true(r.breaker_open);
	assert_true(persister_breaker_open(f->p, 104));
	assert_int_equal(count_lines(f->log, "set\t104"), 6);
	assert_int_equal(persister_pending(f->p), 1); /* kept, not dropped */

	/* the worker sleeps until the breaker's timeout: changing its environment is safe now */
	unsetenv("PCT_STAND_IN_FAIL");
	r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_OK);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(count_lines(f->log, "set\t104"), 7); /* nothing ran while it was open */
	assert_false(persister_breaker_open(f->p, 104));
	assert_non_null(strstr(ct_conf(f, 104), "memory: 2048\n"));
}

static bool stand_in_running(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;
	while (d && (de = readdir(d)) && !found) {
		char path[300], exe[PATH_MAX];
		snprintf(path, sizeof(path), "/proc/%s/exe", de->d_name);
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			found = strcmp(exe, g_pct) == 0;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* A hung pct is killed at the timeout (with its process group) and counted as a failure. */
static void test_hanging_pct_is_killed(void **state)
{
	struct fx *f = *state;
	put_ct(f, 105, NULL);
	setenv("PCT_STAND_IN_HANG", "1", 1);
	f->s.call_timeout_ms = 300;
	f->s.max_retries = 1;
	f->s.breaker_failure_threshold = 1;
	f->s.breaker_timeout_ms = 600000;
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(105, 2, 512, 1);
	assert_int_equal(persister_submit(f->p, &t), 0);
	struct persist_result r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_FAILED);
	assert_int_equal(r.attempts, 2);
	assert_true(r.breaker_open);
	assert_non_null(strstr(r.detail, "timed out"));
	assert_false(stand_in_running());
	assert_non_null(strstr(ct_conf(f, 105), "memory: 1024\n")); /* untouched */
}

/* A slow pct: a change that arrives while the call runs is merged and sent by a second
 * call once the first one has finished. */
static void test_slow_pct_and_change_during_the_call(void **state)
{
	struct fx *f = *state;
	put_ct(f, 106, NULL);
	setenv("PCT_STAND_IN_DELAY_MS", "400", 1);
	f->s.debounce_ms = 0;
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(106, 2, 2048, 1);
	assert_int_equal(persister_submit(f->p, &t), 0);
	while (count_lines(f->log, "set\t106") < 1) /* the stand-in logs, then sleeps */
		usleep(5000);
	t = target(106, 5, 3072, 2);
	assert_int_equal(persister_submit(f->p, &t), 0);

	struct persist_result r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_OK);
	assert_int_equal(r.upto_seq, 1);
	r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_OK);
	assert_int_equal(r.upto_seq, 2);
	assert_int_equal(r.cores, 5);
	assert_non_null(strstr(ct_conf(f, 106), "cores: 5\n"));
	assert_non_null(strstr(ct_conf(f, 106), "memory: 3072\n"));
	assert_int_equal(count_lines(f->log, "set\t106"), 2);
}

static void test_vanished_container_is_dropped(void **state)
{
	struct fx *f = *state;
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(107, 2, 2048, 3);
	assert_int_equal(persister_submit(f->p, &t), 0);
	struct persist_result r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_GONE);
	assert_non_null(strstr(r.detail, "does not exist"));
	assert_int_equal(persister_pending(f->p), 0);
}

static void test_missing_pct_fails(void **state)
{
	struct fx *f = *state;
	struct persist_target t = target(108, 2, 2048, 3);
	char detail[256];
	snprintf(f->s.pct_path, sizeof(f->s.pct_path), "%s/no-such-pct", f->dir);
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_FAILED);
	/* on PATH: found there, and only there */
	f->s.pct_path[0] = '\0';
	char path[PATH_MAX + 16], *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
	snprintf(path, sizeof(path), "%s", g_pct);
	setenv("PATH", dirname(path), 1);
	put_ct(f, 108, NULL);
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_OK);
	setenv("PATH", f->dir, 1);
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_FAILED);
	setenv("PATH", saved, 1);
	free(saved);
}

static void test_stop_flushes_queued_work(void **state)
{
	struct fx *f = *state;
	put_ct(f, 109, NULL);
	f->s.debounce_ms = 600000;
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(109, 6, 6144, 3);
	assert_int_equal(persister_submit(f->p, &t), 0);
	persister_stop(f->p, true);
	f->p = NULL;
	assert_non_null(strstr(ct_conf(f, 109), "cores: 6\n"));
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	struct persist_target t = target(99, 2, 2048, 1);
	assert_int_equal(persister_submit(f->p, &t), -EINVAL);
	t = target(101, 0, 2048, 1);
	assert_int_equal(persister_submit(f->p, &t), -EINVAL);
	t = target(101, 8193, 2048, 1);
	assert_int_equal(persister_submit(f->p, &t), -EINVAL);
	t = target(101, 2, 15, 1);
	assert_int_equal(persister_submit(f->p, &t), -EINVAL);
	t.set_cores = t.set_memory = false;
	assert_int_equal(persister_submit(f->p, &t), -EINVAL);

	char why[200];
	struct persist_settings s = f->s;
	snprintf(s.pct_path, sizeof(s.pct_path), "pct");
	assert_int_equal(persist_settings_check(&s, why, sizeof(why)), -EINVAL);
	s = f->s;
	s.max_retries = -1;
	assert_int_equal(persist_settings_check(&s, why, sizeof(why)), -EINVAL);
	s = f->s;
	s.backend = PERSIST_BACKEND_API;
	snprintf(s.api_url, sizeof(s.api_url), "https://127.0.0.1:8006");
	snprintf(s.api_node, sizeof(s.api_node), "pve");
	snprintf(s.api_token_id, sizeof(s.api_token_id), "root@pam!lxcscale");
	snprintf(s.api_token_secret, sizeof(s.api_token_secret), "0b5c6f3e-0e3d-4f7c-9d7e-1a2b3c4d5e6f");
	assert_int_equal(persist_settings_check(&s, why, sizeof(why)), 0);
	snprintf(s.api_token_secret, sizeof(s.api_token_secret), "x\r\nX-Evil: 1");
	assert_int_equal(persist_settings_check(&s, why, sizeof(why)), -EINVAL);
	snprintf(s.api_token_secret, sizeof(s.api_token_secret), "abc");
	snprintf(s.api_node, sizeof(s.api_node), "../../access");
	assert_int_equal(persist_settings_check(&s, why, sizeof(why)), -EINVAL);
	snprintf(s.api_node, sizeof(s.api_node), "pve");
	snprintf(s.api_url, sizeof(s.api_url), "file:///etc/passwd");
	assert_int_equal(persist_settings_check(&s, why, sizeof(why)), -EINVAL);
	struct persister *p2;
	assert_int_equal(persister_start(&s, &p2), -EINVAL);
}

/* The daemon's config keys land in the persister's and notifier's settings, and the
 * defaults pass their checks. */
static void test_settings_from_config(void **state)
{
	(void)state;
	struct lxcscale_config *c = config_new();
	assert_non_null(c);
	struct persist_settings ps;
	struct notify_settings ns;
	char why[200];
	persist_settings_from_config(c, &ps);
	assert_int_equal(persist_settings_check(&ps, why, sizeof(why)), 0);
	assert_string_equal(ps.pct_path, "/usr/sbin/pct");
	assert_int_equal(ps.backend, PERSIST_BACKEND_PCT);
	assert_int_equal(ps.breaker_failure_threshold, 3);
	assert_int_equal(ps.breaker_timeout_ms, 1800 * 1000);
	assert_true(ps.api_verify_tls);
	assert_true(ps.api_node[0] != '\0'); /* this host's name */
	notify_settings_from_config(c, &ns);
	assert_int_equal(notify_settings_check(&ns, why, sizeof(why)), 0);
	assert_string_equal(ns.webhook_url, ""); /* off by default */
	config_free(c);
}

/* ---- REST backend against a real server ---------------------------------------------- */

static const char *server_py =
	"import http.server, ssl, sys, json, re\n"
	"portfile, mode, log = sys.argv[1], sys.argv[2], sys.argv[3]\n"
	"TOKEN = 'PVEAPIToken=root@pam!lxcscale=0b5c6f3e-0e3d-4f7c-9d7e-1a2b3c4d5e6f'\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def log_message(self, *a): pass\n"
	"    def do_PUT(self):\n"
	"        n = int(self.headers.get('Content-Length', 0))\n"
	"        body = self.rfile.read(n).decode()\n"
	"        auth = self.headers.get('Authorization', '')\n"
	"        with open(log, 'a') as f: f.write('%s %s %s\\n' % (self.path, body, auth == TOKEN))\n"
	"        m = re.fullmatch(r'/api2/json/nodes/pve/lxc/(\\d+)/config', self.path)\n"
	"        if auth != TOKEN: return self.reply(401, 'authentication failure', None)\n"
	"        if not m: return self.reply(501, 'Method not implemented', None)\n"
	"        vmid = int(m.group(1))\n"
	"        if vmid == 102: return self.reply(500, 'CT is locked (backup)', None)\n"
	"        if vmid == 103: return self.reply(500, \"Configuration file 'nodes/pve/lxc/103.conf' does not exist\", None)\n"
	"        if vmid == 104: return self.reply(500, 'unable to hotplug memory', None)\n"
	"        self.reply(200, 'OK', None)\n"
	"    def reply(self, code, reason, data):\n"
	"        b = json.dumps({'data': data, 'message': reason + '\\n'}).encode()\n"
	"        self.send_response(code, reason)\n"
	"        self.send_header('Content-Type', 'application/json')\n"
	"        self.send_header('Content-Length', str(len(b)))\n"
	"        self.end_headers(); self.wfile.write(b)\n"
	"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	"if mode == 'https':\n"
	"    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"    ctx.load_cert_chain(sys.argv[4], sys.argv[5])\n"
	"    s.socket = ctx.wrap_socket(s.socket, server_side=True)\n"
	"open(portfile + '.t', 'w').write(str(s.server_address[1]))\n"
	"import os; os.rename(portfile + '.t', portfile)\n"
	"s.serve_forever()\n";

static void start_server(struct fx *f, const char *mode, const char *cert, const char *key)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/http.log", f->dir);
	f->server = tl_http_server(f->dir, server_py, (const char *const[]){mode, log, cert, key, NULL},
	                           &f->port);
	assert_true(f->server > 0); /* started, and did not die before it said its port */
}

static void api_settings(struct fx *f, const char *scheme)
{
	f->s.backend = PERSIST_BACKEND_API;
	snprintf(f->s.api_url, sizeof(f->s.api_url), "%s://127.0.0.1:%d/", scheme, f->port);
	snprintf(f->s.api_node, sizeof(f->s.api_node), "pve");
	snprintf(f->s.api_token_id, sizeof(f->s.api_token_id), "root@pam!lxcscale");
	snprintf(f->s.api_token_secret, sizeof(f->s.api_token_secret),
	         "0b5c6f3e-0e3d-4f7c-9d7e-1a2b3c4d5e6f");
	char why[200];
	assert_int_equal(persist_settings_check(&f->s, why, sizeof(why)), 0);
}

static void test_api_backend_http(void **state)
{
	struct fx *f = *state;
	start_server(f, "http", "", "");
	api_settings(f, "http");
	char detail[256], log[128];
	snprintf(log, sizeof(log), "%s/http.log", f->dir);
	struct persist_target t = target(101, 4, 4096, 1);
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_OK);
	assert_int_equal(count_lines(log, "/api2/json/nodes/pve/lxc/101/config cores=4&memory=4096 True"), 1);
	t.vmid = 102;
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_LOCKED);
	assert_non_null(strstr(detail, "CT is locked (backup)"));
	t.vmid = 103;
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_GONE);
	t.vmid = 104;
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_FAILED);
	assert_non_null(strstr(detail, "500"));
	t.vmid = 101;
	t.set_cores = false;
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_OK);
	assert_int_equal(count_lines(log, "101/config memory=4096 True"), 1);
	/* a wrong token is a failure, and the secret never shows up in the detail */
	snprintf(f->s.api_token_secret, sizeof(f->s.api_token_secret), "wrong");
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_FAILED);
	assert_non_null(strstr(detail, "401"));
	assert_null(strstr(detail, "wrong"));

	/* and through the thread, like the daemon */
	snprintf(f->s.api_token_secret, sizeof(f->s.api_token_secret),
	         "0b5c6f3e-0e3d-4f7c-9d7e-1a2b3c4d5e6f");
	assert_int_equal(persister_start(&f->s, &f->p), 0);
	t = target(105, 3, 3072, 44);
	assert_int_equal(persister_submit(f->p, &t), 0);
	struct persist_result r = next_result(f->p);
	assert_int_equal(r.status, PERSIST_OK);
	assert_int_equal(r.upto_seq, 44);
	assert_int_equal(count_lines(log, "105/config cores=3&memory=3072 True"), 1);
}

static void run_ok(const char *const argv[])
{
	struct proc_result res;
	enum proc_err rc = proc_run(argv, NULL, &res);
	assert_true(proc_succeeded(rc, &res));
	proc_result_free(&res);
}

static void test_api_backend_https_verifies(void **state)
{
	struct fx *f = *state;
	char cert[128], key[128];
	snprintf(cert, sizeof(cert), "%s/cert.pem", f->dir);
	snprintf(key, sizeof(key), "%s/key.pem", f->dir);
	const char *argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
			      "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
			      "-addext", "subjectAltName=IP:127.0.0.1", NULL};
	if (access(argv[0], X_OK) != 0)
		skip();
	run_ok(argv);
	start_server(f, "https", cert, key);
	api_settings(f, "https");
	char detail[256];
	struct persist_target t = target(101, 2, 2048, 1);
	/* verification is on by default: a self-signed pveproxy certificate is refused ... */
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_FAILED);
	assert_non_null(strstr(detail, "certificate"));
	/* ... unless its CA file is configured ... */
	snprintf(f->s.api_ca_file, sizeof(f->s.api_ca_file), "%s", cert);
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_OK);
	/* ... or verification is switched off on purpose */
	f->s.api_ca_file[0] = '\0';
	f->s.api_verify_tls = false;
	assert_int_equal(persist_call(&f->s, &t, detail, sizeof(detail)), PERSIST_OK);
}

int main(int argc, char **argv)
{
	(void)argc;
	/* the stand-in pct is built next to this binary: $BUILD/tests/tools/pct */
	if (tl_tool_path(argv[0], "pct", g_pct, sizeof(g_pct)) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_burst_makes_one_coalesced_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_container_is_retried_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_pct_opens_the_breaker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hanging_pct_is_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_pct_and_change_during_the_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanished_container_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_pct_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_flushes_queued_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test(test_settings_from_config),
		cmocka_unit_test_setup_teardown(test_api_backend_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_backend_https_verifies, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

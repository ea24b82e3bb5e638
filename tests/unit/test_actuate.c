/*
 * test_actuate.c — the facade the daemon calls, end to end on the host: a config (real
 * schema, config_set), a cgroup tree of plain files, the stand-in pct, a webhook on a real
 * loopback HTTP server. Start-up replays a journal left by a "previous run", decisions are
 * applied, persisted and notified, and a journal that cannot be opened stops start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
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
#include <unistd.h>

#include "act/act.h"
#include "act/journal.h"
#include "config/config.h"
#include "testlib.h"

#define MIB (1ull << 20)
static char g_pct[PATH_MAX];

struct fx {
	char dir[64], cg[128], pve[128], jpath[160], http_log[160];
	pid_t server;
	int port;
	struct lxcscale_config *c;
	cg_hier *h;
	struct actuate *a;
};

static void make_ct(struct fx *f, unsigned vmid)
{
	char d[256], ns[300], name[32], conf[256];
	snprintf(d, sizeof(d), "%s/lxc/%u", f->cg, vmid);
	snprintf(ns, sizeof(ns), "%s/ns", d);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(mkdir(ns, 0755), 0);
	tl_put(d, "cpu.max", "200000 100000\n");
	tl_put(d, "cpuset.cpus", "0-1\n");
	tl_put(ns, "cpuset.cpus", "0-1\n");
	tl_put(d, "memory.max", "1073741824\n");
	tl_put(d, "memory.high", "1065353216\n");
	tl_put(d, "memory.current", "104857600\n");
	tl_put(d, "cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
	tl_put(d, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	                          "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	snprintf(conf, sizeof(conf), "arch: amd64\ncores: 2\nhostname: ct%u\nmemory: 1024\nswap: 512\n", vmid);
	snprintf(name, sizeof(name), "%u.conf", vmid);
	tl_put(f->pve, name, conf);
	snprintf(name, sizeof(name), "%u.state", vmid);
	tl_put(f->pve, name, "running\n");
}

static const char *server_py =
	"import http.server, sys, os\n"
	"portfile, log = sys.argv[1], sys.argv[2]\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def log_message(self, *a): pass\n"
	"    def do_POST(self):\n"
	"        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()\n"
	"        with open(log, 'a') as f: f.write(self.path + ' ' + body + '\\n')\n"
	"        self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()\n"
	"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	"open(portfile + '.t', 'w').write(str(s.server_address[1]))\n"
	"os.rename(portfile + '.t', portfile)\n"
	"s.serve_forever()\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (tl_tempdir(f->dir, sizeof(f->dir), "actuate") != 0)
		return -1;
	snprintf(f->jpath, sizeof(f->jpath), "%s/state/journal", f->dir);
	snprintf(f->http_log, sizeof(f->http_log), "%s/http.log", f->dir);
	if (tl_fake_host(f->dir, f->cg, sizeof(f->cg), f->pve, sizeof(f->pve), "0-3") != 0)
		return -1;
	tl_pct_env(f->pve, NULL);
	f->server = tl_http_server(f->dir, server_py, (const char *const[]){f->http_log, NULL}, &f->port);
	if (f->server < 0)
		return -1;

	f->c = config_new();
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", f->port);
	struct config_diag d = {0};
	if (config_set(f->c, "journal_file", f->jpath, NULL, &d) ||
	    config_set(f->c, "persist.pct_path", g_pct, NULL, &d) ||
	    config_set(f->c, "persist.debounce_ms", "0", NULL, &d) ||
	    config_set(f->c, "persist.retry_base_ms", "10", NULL, &d) ||
	    config_set(f->c, "persist.max_retries", "0", NULL, &d) ||
	    config_set(f->c, "notifications.webhook_url", url, NULL, &d))
		return -1;
	struct cg_config cfg = {.mount = f->cg, .root = "lxc", .inner = "ns"};
	if (cg_hier_open(&cfg, &f->h) != CG_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	actuate_stop(f->a);
	cg_hier_close(f->h);
	config_free(f->c);
	tl_http_server_stop(f->server);
	if (tl_rm_rf(f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

static void wait_fd(struct fx *f)
{
	struct pollfd p = {.fd = actuate_fd(f->a), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 30000), 1);
	actuate_on_fd(f->a);
}

static bool wait_log(struct fx *f, const char *needle)
{
	for (int i = 0; i < 3000; i++) {
		if (strstr(tl_read(f->dir, "http.log"), needle))
			return true;
		usleep(10000);
	}
	return false;
}

static void test_start_replays_then_scales(void **state)
{
	struct fx *f = *state;
	make_ct(f, 101);
	/* a previous run wrote cpu.max for 3 cores and died before `pct set` */
	char state_dir[200];
	snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
	assert_int_equal(mkdir(state_dir, 0700), 0);
	struct journal *j;
	assert_int_equal(journal_open(f->jpath, &j, NULL), 0);
	struct journal_change c = {.vmid = 101, .what = JOURNAL_CPU, .cpu_before_milli = 2000,
				   .cpu_after_milli = 3000};
	assert_int_equal(journal_begin(j, &c), 0);
	assert_int_equal(journal_mark(j, c.seq, JOURNAL_APPLIED, NULL), 0);
	journal_close(j);
	char d101[256];
	snprintf(d101, sizeof(d101), "%s/lxc/101", f->cg);
	tl_put(d101, "cpu.max", "300000 100000\n");

	assert_int_equal(actuate_start(f->c, f->h, &f->a), 0);
	const struct reconcile_report *r = actuate_reconcile_report(f->a);
	assert_int_equal(r->persisted, 1);
	assert_int_equal(r->failed, 0);
	assert_int_equal(r->drift, 0);
	assert_non_null(strstr(tl_read(f->pve, "101.conf"), "cores: 3\n"));

	struct decision d = {.vmid = 101, .cpu_change = DECISION_UP, .cpu_from = 3, .cpu_to = 4,
			     .mem_change = DECISION_UP, .mem_from_mb = 1024, .mem_to_mb = 1536,
			     .reason = REASON_PSI, .persist = true};
	struct actuator_outcome o;
	assert_int_equal(actuate_decision(f->a, &d, &o), 0);
	assert_int_equal(o.status, ACT_APPLIED);
	wait_fd(f);
	assert_non_null(strstr(tl_read(f->pve, "101.conf"), "cores: 4\n"));
	assert_non_null(strstr(tl_read(f->pve, "101.conf"), "memory: 1536\n"));
	assert_true(wait_log(f, "\"title\":\"CPU increased\",\"message\":\"CT 101: cores 3.00 -> 4.00 (psi)\""));
	assert_true(wait_log(f, "\"title\":\"Memory increased\""));

	/* a container that disappeared from Proxmox: the failure is notified */
	make_ct(f, 102);
	char conf[160];
	snprintf(conf, sizeof(conf), "%s/102.conf", f->pve);
	unlink(conf);
	d.vmid = 102;
	d.cpu_from = 2;
	d.mem_from_mb = 1024;
	assert_int_equal(actuate_decision(f->a, &d, &o), 0);
	wait_fd(f);
	assert_true(wait_log(f, "\"title\":\"Persisting a scaling change failed\""));
	assert_true(wait_log(f, "\"kind\":\"failure\",\"vmid\":102"));
}

/* A reload with new notifications.* settings: the events already queued still go to the old
 * endpoint, the next ones to the new; bad new settings keep the running notifier. */
static void test_reload_restarts_notifier(void **state)
{
	struct fx *f = *state;
	make_ct(f, 101);
	assert_int_equal(actuate_start(f->c, f->h, &f->a), 0);
	assert_int_equal(actuate_reconfigure(f->a, f->c), 0); /* nothing changed */

	struct decision d = {.vmid = 101, .cpu_change = DECISION_UP, .cpu_from = 2, .cpu_to = 3,
			     .reason = REASON_PSI, .persist = true};
	struct actuator_outcome o;
	assert_int_equal(actuate_decision(f->a, &d, &o), 0); /* queued for /hook */
	struct lxcscale_config *n = config_new();
	*n = *f->c;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook2", f->port);
	struct config_diag dg = {0};
	assert_int_equal(config_set(n, "notifications.webhook_url", url, NULL, &dg), 0);
	assert_int_equal(actuate_reconfigure(f->a, n), 1); /* at once: the event may still be queued */
	assert_true(wait_log(f, "/hook {\"title\":\"CPU increased\",\"message\":\"CT 101: cores 2.00 -> 3.00"));

	d.cpu_from = 3;
	d.cpu_to = 4;
	assert_int_equal(actuate_decision(f->a, &d, &o), 0);
	assert_true(wait_log(f, "/hook2 {\"title\":\"CPU increased\",\"message\":\"CT 101: cores 3.00 -> 4.00"));
	assert_null(strstr(tl_read(f->dir, "http.log"), "/hook {\"title\":\"CPU increased\",\"message\":\"CT 101: cores 3.00"));

	struct lxcscale_config *bad = config_new();
	*bad = *n;
	snprintf(bad->notifications.webhook_url, sizeof(bad->notifications.webhook_url), "ftp://x/");
	assert_int_equal(actuate_reconfigure(f->a, bad), -EINVAL); /* the running one stays */
	d.cpu_from = 4;
	d.cpu_to = 3;
	d.cpu_change = DECISION_DOWN;
	assert_int_equal(actuate_decision(f->a, &d, &o), 0);
	assert_true(wait_log(f, "/hook2 {\"title\":\"CPU decreased\""));
	config_free(bad);
	config_free(n);
}

static void test_no_journal_no_scaling(void **state)
{
	struct fx *f = *state;
	struct config_diag d = {0};
	assert_int_equal(config_set(f->c, "journal_file", f->dir, NULL, &d), 0); /* a directory */
	assert_int_equal(actuate_start(f->c, f->h, &f->a), -EISDIR);
	assert_null(f->a);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (tl_tool_path(argv[0], "pct", g_pct, sizeof(g_pct)) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_replays_then_scales, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_journal_no_scaling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_restarts_notifier, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

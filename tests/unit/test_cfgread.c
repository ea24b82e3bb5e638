/*
 * test_cfgread.c — the Proxmox config reader thread (user/pve/cfgread.c) against the real
 * stand-in pct (a separate process, $BUILD/tests/tools/pct): answers for a container that
 * exists, one that does not, an unparsable config, a missing pct; requests de-duplicated,
 * a bounded queue, a stop while a slow call is in flight, and each answer carrying its
 * request's tag (the newest one asked while it waited).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pve/cfgread.h"

static char g_pct[PATH_MAX];
static char g_dir[64];

static void write_conf(uint32_t vmid, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%u.conf", g_dir, vmid);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/lxcscale-test-cfgread-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	setenv("PCT_STAND_IN_DIR", g_dir, 1);
	unsetenv("PCT_STAND_IN_DELAY_MS");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void settings(struct persist_settings *s, const char *pct)
{
	persist_settings_default(s);
	snprintf(s->pct_path, sizeof(s->pct_path), "%s", pct);
	s->call_timeout_ms = 10000;
}

/* Collects n answers (waits up to 10 s). */
static size_t collect(struct cfgread *r, struct cfgread_result *out, size_t n)
{
	size_t got = 0;
	for (int i = 0; i < 1000 && got < n; i++) {
		got += cfgread_take(r, out + got, n - got);
		if (got < n) {
			struct timespec ts = { 0, 10 * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	return got;
}

static const struct cfgread_result *find(const struct cfgread_result *r, size_t n, uint32_t vmid)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].vmid == vmid)
			return &r[i];
	return NULL;
}

static void test_answers(void **state)
{
	(void)state;
	write_conf(101, "arch: amd64\ncores: 3\nhostname: a\nmemory: 2048\n");
	write_conf(102, "arch: amd64\ncores: 2\ncpulimit: 1.5\nmemory: 512\n");
	write_conf(103, "arch: amd64\ncores: lots\nmemory: 512\n");
	struct persist_settings s;
	settings(&s, g_pct);
	struct cfgread *r;
	assert_int_equal(cfgread_start(&s, 16, &r), 0);
	assert_int_equal(cfgread_request(r, 101, 0), 0);
	assert_int_equal(cfgread_request(r, 102, 0), 0);
	assert_int_equal(cfgread_request(r, 103, 0), 0);
	assert_int_equal(cfgread_request(r, 104, 0), 0);
	struct cfgread_result res[8];
	size_t n = collect(r, res, 4);
	assert_int_equal(n, 4);
	const struct cfgread_result *x = find(res, n, 101);
	assert_non_null(x);
	assert_int_equal(x->status, 0);
	assert_int_equal(x->limits.cores, 3);
	assert_int_equal(x->limits.memory_mb, 2048);
	assert_string_equal(x->limits.hostname, "a");
	x = find(res, n, 102);
	assert_int_equal(x->status, 0);
	assert_string_equal(x->limits.hostname, ""); /* none in its config */
	assert_true(pve_limits_cpu(&x->limits) == 1.5);
	x = find(res, n, 103);
	assert_int_equal(x->status, -EBADMSG);
	x = find(res, n, 104);
	assert_int_equal(x->status, -ENOENT);
	assert_non_null(strstr(x->detail, "pct config 104"));
	assert_int_equal(cfgread_take(r, res, 8), 0);
	cfgread_stop(r);
}

/* The hostname is kept when it is a DNS name, dropped (not an error) otherwise. */
static void test_hostname_parsing(void **state)
{
	(void)state;
	struct pve_limits l;
	assert_int_equal(pve_limits_from_pct_text("cores: 2\nhostname: web-1.example\nmemory: 512\n", &l), 0);
	assert_string_equal(l.hostname, "web-1.example");
	assert_int_equal(pve_limits_from_pct_text("cores: 2\nhostname: -rf /\n", &l), 0);
	assert_string_equal(l.hostname, "");
	assert_int_equal(l.cores, 2);
	assert_int_equal(pve_limits_from_json("{\"data\":{\"cores\":4,\"hostname\":\"db\"}}", &l), 0);
	assert_string_equal(l.hostname, "db");
	assert_int_equal(l.cores, 4);
	char big[400];
	int at = snprintf(big, sizeof(big), "{\"data\":{\"cores\":1,\"hostname\":\"");
	memset(big + at, 'a', 300);
	snprintf(big + at + 300, sizeof(big) - (size_t)at - 300, "\"}}");
	assert_int_equal(pve_limits_from_json(big, &l), 0); /* too long to be a name */
	assert_string_equal(l.hostname, "");
	assert_int_equal(pve_limits_from_json("{\"data\":{\"hostname\":\"a\\u001b[2J\"}}", &l), 0);
	assert_string_equal(l.hostname, "");
	assert_int_equal(pve_limits_from_json("{\"data\":{\"hostname\":7}}", &l), 0);
	assert_string_equal(l.hostname, "");
}

static void test_missing_pct(void **state)
{
	(void)state;
	struct persist_settings s;
	settings(&s, "/nonexistent/pct");
	struct cfgread *r;
	assert_int_equal(cfgread_start(&s, 4, &r), 0);
	assert_int_equal(cfgread_request(r, 101, 0), 0);
	struct cfgread_result res;
	assert_int_equal(collect(r, &res, 1), 1);
	assert_int_equal(res.status, -EIO);
	cfgread_stop(r);
}

static void test_dedup_bound_and_slow_stop(void **state)
{
	(void)state;
	write_conf(101, "cores: 1\nmemory: 256\n");
	setenv("PCT_STAND_IN_DELAY_MS", "300", 1);
	struct persist_settings s;
	settings(&s, g_pct);
	struct cfgread *r;
	assert_int_equal(cfgread_start(&s, 3, &r), 0);
	assert_int_equal(cfgread_request(r, 101, 0), 0);
	struct timespec ts = { 0, 50 * 1000000 }; /* the worker takes 101: in flight */
	nanosleep(&ts, NULL);
	assert_int_equal(cfgread_request(r, 102, 0), 0);
	assert_int_equal(cfgread_request(r, 102, 0), 0); /* queued already: not twice */
	int accepted = 1, refused = 0;            /* 102 */
	for (uint32_t id = 103; id < 110; id++) {
		int rc = cfgread_request(r, id, 0);
		assert_true(rc == 0 || rc == -ENOSPC);
		rc == 0 ? accepted++ : refused++;
	}
	/* 3 slots: 102 plus one or two more, depending on whether 101 left the queue yet */
	assert_true(accepted >= 2 && accepted <= 3);
	assert_true(refused >= 5);
	cfgread_stop(r); /* waits for the slow call in flight, drops the rest */
	unsetenv("PCT_STAND_IN_DELAY_MS");
	assert_int_equal(cfgread_start(&s, 0, &r), -EINVAL);
}

/* Each answer carries the tag asked with it; asking again for a vmid still waiting replaces
 * its tag, while a vmid whose read is in flight is queued again (its answer may be older). */
static void test_tags(void **state)
{
	(void)state;
	write_conf(101, "cores: 1\nmemory: 256\n");
	write_conf(102, "cores: 2\nmemory: 512\n");
	setenv("PCT_STAND_IN_DELAY_MS", "200", 1);
	struct persist_settings s;
	settings(&s, g_pct);
	struct cfgread *r;
	assert_int_equal(cfgread_start(&s, 8, &r), 0);
	assert_int_equal(cfgread_request(r, 101, 1), 0);
	struct timespec ts = { 0, 50 * 1000000 }; /* the worker takes 101: in flight */
	nanosleep(&ts, NULL);
	assert_int_equal(cfgread_request(r, 102, 5), 0);
	assert_int_equal(cfgread_request(r, 102, 6), 0); /* still waiting: the tag is replaced */
	assert_int_equal(cfgread_request(r, 101, 2), 0); /* in flight: asked again */
	struct cfgread_result res[4];
	assert_int_equal(collect(r, res, 3), 3);
	assert_int_equal(res[0].vmid, 101);
	assert_int_equal(res[0].tag, 1);
	assert_int_equal(res[1].vmid, 102);
	assert_int_equal(res[1].tag, 6);
	assert_int_equal(res[1].limits.cores, 2);
	assert_int_equal(res[2].vmid, 101);
	assert_int_equal(res[2].tag, 2);
	assert_int_equal(cfgread_take(r, res, 4), 0);
	unsetenv("PCT_STAND_IN_DELAY_MS");
	cfgread_stop(r);
}

int main(int argc, char **argv)
{
	(void)argc;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	snprintf(g_pct, sizeof(g_pct), "%s/tools/pct", dirname(self));
	if (access(g_pct, X_OK) != 0) {
		fprintf(stderr, "%s: the stand-in pct is missing (%s): make tests\n", argv[0], g_pct);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
		cmocka_unit_test(test_hostname_parsing),
		cmocka_unit_test_setup_teardown(test_missing_pct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_bound_and_slow_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

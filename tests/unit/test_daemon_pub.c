/*
 * test_daemon_pub.c — the loop's published snapshot (user/daemon_pub.c): copies out, rings
 * that wrap, decisions after a seq, per-container history and forgetting it, subscribers
 * (including unsubscribe racing a publisher thread), and the lxcscale_* metrics text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_pub.h"

static struct decision mkdec(uint64_t seq, uint32_t vmid, enum decision_reason r)
{
	struct decision d;
	memset(&d, 0, sizeof(d));
	d.seq = seq;
	d.vmid = vmid;
	d.reason = r;
	d.time_ms = (int64_t)seq * 10;
	return d;
}

static void test_list_and_get(void **state)
{
	(void)state;
	struct daemon_pub *p = pub_new(4, 8);
	assert_non_null(p);
	struct api_container *out = NULL;
	size_t n = 99;
	assert_int_equal(pub_list(p, &out, &n), 0);
	assert_null(out);
	assert_int_equal(n, 0);
	uint64_t g0 = pub_generation(p);

	struct api_container c[2];
	memset(c, 0, sizeof(c));
	c[0].vmid = 101;
	c[0].cores = 2;
	c[1].vmid = 102;
	c[1].memory_mb = 512;
	pub_containers(p, c, 2, NULL);
	assert_true(pub_generation(p) > g0);
	c[0].cores = 7; /* the store keeps its own copy */
	assert_int_equal(pub_list(p, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].vmid, 101);
	assert_true(out[0].cores == 2);
	free(out);

	struct api_container one;
	struct api_history_point *h = NULL;
	size_t nh = 9;
	assert_int_equal(pub_get(p, 102, &one, &h, &nh), 0);
	assert_int_equal(one.memory_mb, 512);
	assert_null(h);
	assert_int_equal(nh, 0);
	assert_int_equal(pub_get(p, 4242, &one, &h, &nh), -ENOENT);

	/* history: a ring of 4, oldest first */
	for (int i = 1; i <= 6; i++) {
		struct api_history_point pt = { .time_ms = i };
		pub_history(p, 102, &pt);
	}
	assert_int_equal(pub_get(p, 102, &one, &h, &nh), 0);
	assert_int_equal(nh, 4);
	assert_int_equal(h[0].time_ms, 3);
	assert_int_equal(h[3].time_ms, 6);
	free(h);
	pub_forget(p, 102);
	assert_int_equal(pub_get(p, 102, &one, &h, &nh), 0);
	assert_int_equal(nh, 0);
	pub_forget(p, 555); /* unknown: nothing happens */

	pub_containers(p, NULL, 0, NULL); /* every container gone */
	assert_int_equal(pub_list(p, &out, &n), 0);
	assert_int_equal(n, 0);
	pub_free(p);
}

static void test_decisions_since(void **state)
{
	(void)state;
	struct daemon_pub *p = pub_new(1, 4);
	struct decision *out = NULL;
	size_t n = 7;
	assert_int_equal(pub_decisions(p, 0, 100, &out, &n), 0);
	assert_int_equal(n, 0);
	for (uint64_t s = 1; s <= 6; s++) {
		struct decision d = mkdec(s, 101, REASON_THRESHOLD);
		pub_decision(p, &d, "applied");
	}
	/* a ring of 4: 3..6 kept */
	assert_int_equal(pub_decisions(p, 0, 100, &out, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(out[0].seq, 3);
	assert_int_equal(out[3].seq, 6);
	free(out);
	assert_int_equal(pub_decisions(p, 4, 100, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].seq, 5);
	free(out);
	assert_int_equal(pub_decisions(p, 3, 1, &out, &n), 0); /* max */
	assert_int_equal(n, 1);
	assert_int_equal(out[0].seq, 4);
	free(out);
	assert_int_equal(pub_decisions(p, 6, 100, &out, &n), 0);
	assert_int_equal(n, 0);
	assert_null(out);
	pub_free(p);
}

struct sink {
	atomic_int calls;
	int last_type;
	uint32_t last_vmid;
	char detail[128];
};

static void on_event(void *arg, const struct api_event *ev)
{
	struct sink *s = arg;
	s->last_type = ev->type;
	s->last_vmid = ev->vmid;
	snprintf(s->detail, sizeof(s->detail), "%s", ev->detail);
	atomic_fetch_add(&s->calls, 1);
}

static void test_subscribers(void **state)
{
	(void)state;
	struct daemon_pub *p = pub_new(1, 4);
	struct sink a = {0}, b = {0};
	uint64_t ha, hb;
	assert_int_equal(pub_subscribe(p, on_event, &a, &ha), 0);
	assert_int_equal(pub_subscribe(p, on_event, &b, &hb), 0);
	assert_true(ha != hb);
	struct decision d = mkdec(1, 101, REASON_MANUAL);
	pub_decision(p, &d, "persist-only");
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.last_type, API_EVENT_DECISION);
	assert_string_equal(a.detail, "persist-only");
	pub_unsubscribe(p, ha);
	struct api_event ev = { .type = API_EVENT_OOM, .vmid = 102 };
	pub_event(p, &ev);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 2);
	assert_int_equal(b.last_vmid, 102);
	pub_unsubscribe(p, 9999); /* unknown handle: nothing */
	pub_unsubscribe(p, hb);
	/* the list is bounded */
	uint64_t h;
	int ok = 0;
	while (pub_subscribe(p, on_event, &a, &h) == 0 && ok < 1000)
		ok++;
	assert_true(ok > 0 && ok < 1000);
	assert_int_equal(pub_subscribe(p, on_event, &a, &h), -EBUSY);
	pub_free(p);
}

struct racer {
	struct daemon_pub *p;
	atomic_bool stop;
};

static void *publisher(void *arg)
{
	struct racer *r = arg;
	struct api_event ev = { .type = API_EVENT_PSI, .vmid = 101 };
	while (!atomic_load(&r->stop))
		pub_event(r->p, &ev);
	return NULL;
}

/* After unsubscribe returns, the callback never runs again: its arg may be freed at once. */
static void test_unsubscribe_races_publisher(void **state)
{
	(void)state;
	struct racer r = { .p = pub_new(1, 4) };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, publisher, &r), 0);
	for (int i = 0; i < 2000; i++) {
		struct sink *s = calloc(1, sizeof(*s));
		uint64_t h;
		assert_int_equal(pub_subscribe(r.p, on_event, s, &h), 0);
		pub_unsubscribe(r.p, h);
		free(s); /* ASan: a late callback would write here */
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	pub_free(r.p);
}

static void test_metrics_text(void **state)
{
	(void)state;
	struct daemon_pub *p = pub_new(1, 4);
	struct api_container c;
	memset(&c, 0, sizeof(c));
	c.vmid = 101;
	c.cores = 2;
	c.memory_mb = 1024;
	struct pub_stats st = { .ticks = 5, .actuation = true, .persist_pending = 3, .journal_open = 1 };
	pub_containers(p, &c, 1, &st);
	struct decision d = mkdec(1, 101, REASON_PSI);
	pub_decision(p, &d, "applied");
	pub_decision(p, &d, "failed");
	pub_decision(p, &d, "failed");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pub_write_metrics(p, f);
	fclose(f);
	assert_non_null(strstr(buf, "lxcscale_containers 1\n"));
	assert_non_null(strstr(buf, "lxcscale_container_cpu_limit_cores{vmid=\"101\"} 2\n"));
	assert_non_null(strstr(buf, "lxcscale_container_memory_limit_bytes{vmid=\"101\"} 1073741824\n"));
	assert_non_null(strstr(buf, "lxcscale_decisions_total{reason=\"psi\",outcome=\"applied\"} 1\n"));
	assert_non_null(strstr(buf, "lxcscale_decisions_total{reason=\"psi\",outcome=\"failed\"} 2\n"));
	assert_non_null(strstr(buf, "lxcscale_persist_queue 3\n"));
	assert_non_null(strstr(buf, "lxcscale_journal_open_changes 1\n"));
	assert_non_null(strstr(buf, "lxcscale_actuation_enabled 1\n"));
	assert_non_null(strstr(buf, "# TYPE lxcscale_decisions_total counter\n"));
	free(buf);
	pub_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_and_get),
		cmocka_unit_test(test_decisions_since),
		cmocka_unit_test(test_subscribers),
		cmocka_unit_test(test_unsubscribe_races_publisher),
		cmocka_unit_test(test_metrics_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_daemon_pub.c — the loop's published snapshot (user/daemon/publish.c): copies out (the list
 * built in place, last decisions stored once per container), rings that wrap, decisions
 * after a seq, per-container history and forgetting it (300-point rings through growth and
 * sliding, the precision points keep),
 * subscribers (including unsubscribe racing a publisher thread), and the lxcscale_* metrics
 * text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/publish.h"

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
	struct ct_snapshot *out = NULL;
	size_t n = 99;
	assert_int_equal(pub_list(p, &out, &n), 0);
	assert_null(out);
	assert_int_equal(n, 0);
	uint64_t g0 = pub_generation(p);

	struct ct_snapshot c[2];
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

	struct ct_snapshot one;
	struct history_point *h = NULL;
	size_t nh = 9;
	assert_int_equal(pub_get(p, 102, &one, &h, &nh), 0);
	assert_int_equal(one.memory_mb, 512);
	assert_null(h);
	assert_int_equal(nh, 0);
	assert_int_equal(pub_get(p, 4242, &one, &h, &nh), -ENOENT);

	/* history: a ring of 4, oldest first */
	for (int i = 1; i <= 6; i++) {
		struct history_point pt = { .time_ms = i };
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

static struct history_point mkpoint(int64_t t, unsigned i)
{
	return (struct history_point){
		.time_ms = t, .cores = 0.25 * (i % 9 + 1), .memory_mb = 512 + i,
		.cpu_pct = (i % 1000) / 10.0, .mem_pct = 12.34, .cpu_psi_some_avg10 = 1.23,
		.mem_psi_some_avg10 = 45.67, .anomaly_score = -0.4 - i * 1e-4,
	};
}

static void test_history_grows_to_its_cap(void **state)
{
	(void)state;
	/* 300 points, the daemon's ring: it grows and then slides, oldest first, every field
	 * coming back at its stored precision */
	struct daemon_pub *p = pub_new(300, 1);
	struct ct_snapshot c;
	memset(&c, 0, sizeof(c));
	c.vmid = 7;
	pub_containers(p, &c, 1, NULL);
	const int64_t t0 = 1700000000123;
	struct history_point *h = NULL;
	size_t nh = 0;
	for (unsigned i = 0; i < 1000; i++) {
		struct history_point pt = mkpoint(t0 + i * 1000, i);
		pub_history(p, 7, &pt);
		if (i == 2 || i == 8 || i == 9 || i == 299 || i == 300 || i == 999) {
			assert_int_equal(pub_get(p, 7, &c, &h, &nh), 0);
			unsigned first = i < 300 ? 0 : i - 299;
			assert_int_equal(nh, i + 1 - first);
			for (size_t k = 0; k < nh; k++) {
				struct history_point want = mkpoint(t0 + (first + k) * 1000, first + (unsigned)k);
				assert_int_equal(h[k].time_ms, want.time_ms);
				assert_true(h[k].cores == want.cores);         /* quarters: exact in a float */
				assert_int_equal(h[k].memory_mb, want.memory_mb);
				assert_true(h[k].cpu_pct == want.cpu_pct);     /* tenths: exact in hundredths */
				assert_true(h[k].mem_pct == 12.34);
				assert_true(h[k].cpu_psi_some_avg10 == 1.23);  /* the kernel's two decimals */
				assert_true(h[k].mem_psi_some_avg10 == 45.67);
				assert_true(fabs(h[k].anomaly_score - want.anomaly_score) < 1e-7);
			}
			free(h);
		}
	}
	pub_free(p);
}

static void test_history_precision(void **state)
{
	(void)state;
	/* what the API can print (6 decimals) survives; percentages keep hundredths; clock
	 * steps either way are kept as given (daemon/histring.c has the exhaustive tests) */
	struct daemon_pub *p = pub_new(4, 1);
	struct ct_snapshot c;
	memset(&c, 0, sizeof(c));
	c.vmid = 1;
	pub_containers(p, &c, 1, NULL);
	struct history_point pt = {
		.time_ms = 1700000000000, .cores = 1.0 / 3, .memory_mb = (uint64_t)1 << 40,
		.cpu_pct = 37.123456, .mem_pct = 1e6, .cpu_psi_some_avg10 = 0.07,
		.mem_psi_some_avg10 = NAN, .anomaly_score = -0.123456789,
	};
	pub_history(p, 1, &pt);
	pt.time_ms -= 86400000LL * 365; /* the clock stepped back a year */
	pub_history(p, 1, &pt);
	struct history_point *h = NULL;
	size_t nh = 0;
	assert_int_equal(pub_get(p, 1, &c, &h, &nh), 0);
	assert_int_equal(nh, 2);
	assert_int_equal(h[0].time_ms, 1700000000000);
	assert_int_equal(h[1].time_ms, 1700000000000 - 86400000LL * 365);
	assert_true(h[0].cores == 0.333333);
	assert_int_equal(h[0].memory_mb, (uint64_t)1 << 40);
	assert_true(h[0].cpu_pct == 37.12);
	assert_true(h[0].mem_pct == 1e6);
	assert_true(h[0].cpu_psi_some_avg10 == 0.07);
	assert_true(h[0].mem_psi_some_avg10 == 0); /* NaN reads as 0 */
	assert_true(h[0].anomaly_score == -0.123457);
	free(h);
	pub_free(p);
}

static void test_last_decisions_kept_once(void **state)
{
	(void)state;
	struct daemon_pub *p = pub_new(4, 4);
	struct ct_snapshot c[3];
	memset(c, 0, sizeof(c));
	for (int i = 0; i < 3; i++) {
		c[i].vmid = 300 + i;
		snprintf(c[i].name, sizeof(c[i].name), "ct%d", i);
		c[i].cores = 1.5;
		c[i].memory_mb = 2048;
		c[i].anomaly = i == 1;
	}
	c[1].has_last_decision = true;
	c[1].last_decision = mkdec(9, 301, REASON_PSI);
	snprintf(c[1].last_decision.detail, sizeof(c[1].last_decision.detail), "cpu 91%% > 75%%");
	/* built in place, the way the loop does it */
	assert_int_equal(pub_list_begin(p, 3), 0);
	for (size_t i = 0; i < 3; i++)
		pub_list_put(p, i, &c[i]);
	pub_list_commit(p, 3, NULL);
	struct ct_snapshot *out = NULL;
	size_t n = 0;
	assert_int_equal(pub_list(p, &out, &n), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i].vmid, 300 + i);
		assert_string_equal(out[i].name, c[i].name);
		assert_true(out[i].cores == 1.5 && out[i].memory_mb == 2048);
		assert_int_equal(out[i].anomaly, i == 1);
		assert_int_equal(out[i].has_last_decision, i == 1);
	}
	assert_int_equal(out[1].last_decision.seq, 9);
	assert_string_equal(out[1].last_decision.detail, "cpu 91% > 75%");
	free(out);

	/* a newer decision replaces it; the same one again changes nothing */
	c[1].last_decision = mkdec(12, 301, REASON_OOM);
	pub_containers(p, c, 3, NULL);
	pub_containers(p, c, 3, NULL);
	struct ct_snapshot one;
	struct history_point *h = NULL;
	size_t nh = 0;
	assert_int_equal(pub_get(p, 301, &one, &h, &nh), 0);
	assert_true(one.has_last_decision);
	assert_int_equal(one.last_decision.seq, 12);
	assert_int_equal(one.last_decision.reason, REASON_OOM);
	assert_int_equal(pub_get(p, 300, &one, &h, &nh), 0);
	assert_false(one.has_last_decision);

	/* the container leaves: its decision goes with it, even from a list not yet replaced */
	pub_forget(p, 301);
	assert_int_equal(pub_get(p, 301, &one, &h, &nh), 0);
	assert_false(one.has_last_decision);
	pub_containers(p, c, 3, NULL); /* it came back with a decision: kept again */
	assert_int_equal(pub_get(p, 301, &one, &h, &nh), 0);
	assert_int_equal(one.last_decision.seq, 12);
	/* more containers than the back buffer had room for: it grows */
	struct ct_snapshot many[100];
	memset(many, 0, sizeof(many));
	for (int i = 0; i < 100; i++) {
		many[i].vmid = 1000 + i;
		many[i].has_last_decision = i % 3 == 0;
		many[i].last_decision = mkdec(100 + i, 1000 + i, REASON_THRESHOLD);
	}
	pub_containers(p, many, 100, NULL);
	assert_int_equal(pub_list(p, &out, &n), 0);
	assert_int_equal(n, 100);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(out[i].vmid, 1000 + i);
		assert_int_equal(out[i].has_last_decision, i % 3 == 0);
		if (i % 3 == 0)
			assert_int_equal(out[i].last_decision.seq, 100 + i);
	}
	free(out);
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

static void on_event(void *arg, const struct ct_event *ev)
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
	assert_int_equal(a.last_type, CT_EVENT_DECISION);
	assert_string_equal(a.detail, "persist-only");
	pub_unsubscribe(p, ha);
	struct ct_event ev = { .type = CT_EVENT_OOM, .vmid = 102 };
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
	struct ct_event ev = { .type = CT_EVENT_PSI, .vmid = 101 };
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
	struct ct_snapshot c;
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
		cmocka_unit_test(test_history_grows_to_its_cap),
		cmocka_unit_test(test_history_precision),
		cmocka_unit_test(test_last_decisions_kept_once),
		cmocka_unit_test(test_decisions_since),
		cmocka_unit_test(test_subscribers),
		cmocka_unit_test(test_unsubscribe_races_publisher),
		cmocka_unit_test(test_metrics_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

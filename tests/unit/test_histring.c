/*
 * test_histring.c — the delta-encoded API history ring (user/daemon/histring.c) against a plain
 * array of the points pushed: after every push the ring must give back the newest
 * min(pushes, max) points, oldest first, each field at its documented precision (time and
 * memory exact, cores and score to millionths, percentages to hundredths). Random series of
 * every kind: steady, noisy, huge jumps both ways (clock steps of years, memory 0 <-> 2^64-1),
 * non-finite values; ring sizes 1..300 so eviction meets growth and wrap-around; and the size
 * a steady container's 300 points take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/histring.h"

static uint64_t rng_state;

static uint64_t rnd64(void) /* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static double rnd(void) /* [0, 1) */
{
	return (double)(rnd64() >> 11) / 9007199254740992.0;
}

/* What the ring promises to give back for p: 0 for non-finite values, ±1e15 units at most. */
static double at(double v, double scale)
{
	if (!isfinite(v))
		return 0;
	double q = v * scale;
	q = q > 1e15 ? 1e15 : q < -1e15 ? -1e15 : q;
	return (double)llround(q) / scale;
}

static void assert_point(const struct history_point *got, const struct history_point *in,
			 size_t idx)
{
	struct history_point want = {
		.time_ms = in->time_ms,
		.cores = at(in->cores, 1e6),
		.memory_mb = in->memory_mb,
		.cpu_pct = at(in->cpu_pct, 100),
		.mem_pct = at(in->mem_pct, 100),
		.cpu_psi_some_avg10 = at(in->cpu_psi_some_avg10, 100),
		.mem_psi_some_avg10 = at(in->mem_psi_some_avg10, 100),
		.anomaly_score = at(in->anomaly_score, 1e6),
		.cpu_psi_full_avg10 = at(in->cpu_psi_full_avg10, 100),
		.mem_psi_full_avg10 = at(in->mem_psi_full_avg10, 100),
		.runq_p99_us = at(in->runq_p99_us, 1),
		.memory_high_mb = in->memory_high_mb,
	};
	if (got->memory_high_mb != want.memory_high_mb)
		fail_msg("point %zu: memory_high_mb %llu, want %llu", idx, (unsigned long long)got->memory_high_mb,
			 (unsigned long long)want.memory_high_mb);
	if (got->cpu_psi_full_avg10 != want.cpu_psi_full_avg10 || got->mem_psi_full_avg10 != want.mem_psi_full_avg10 ||
	    got->runq_p99_us != want.runq_p99_us)
		fail_msg("point %zu: got full %.17g/%.17g runq %.17g, want %.17g/%.17g %.17g", idx,
			 got->cpu_psi_full_avg10, got->mem_psi_full_avg10, got->runq_p99_us,
			 want.cpu_psi_full_avg10, want.mem_psi_full_avg10, want.runq_p99_us);
	if (got->time_ms != want.time_ms || got->memory_mb != want.memory_mb ||
	    got->cores != want.cores || got->cpu_pct != want.cpu_pct || got->mem_pct != want.mem_pct ||
	    got->cpu_psi_some_avg10 != want.cpu_psi_some_avg10 ||
	    got->mem_psi_some_avg10 != want.mem_psi_some_avg10 || got->anomaly_score != want.anomaly_score)
		fail_msg("point %zu: got t=%lld cores=%.17g mem=%llu cpu=%.17g memp=%.17g psi=%.17g/%.17g "
			 "score=%.17g, want t=%lld cores=%.17g mem=%llu cpu=%.17g memp=%.17g psi=%.17g/%.17g "
			 "score=%.17g",
			 idx, (long long)got->time_ms, got->cores, (unsigned long long)got->memory_mb,
			 got->cpu_pct, got->mem_pct, got->cpu_psi_some_avg10, got->mem_psi_some_avg10,
			 got->anomaly_score, (long long)want.time_ms, want.cores,
			 (unsigned long long)want.memory_mb, want.cpu_pct, want.mem_pct,
			 want.cpu_psi_some_avg10, want.mem_psi_some_avg10, want.anomaly_score);
}

enum kind { STEADY, NOISY, WILD };

static struct history_point next_point(const struct history_point *prev, enum kind k)
{
	struct history_point p = *prev;
	p.time_ms += 900 + (int64_t)(rnd() * 300);
	p.cpu_pct = 100 * rnd();
	p.mem_pct = 40 + rnd();
	p.anomaly_score = -0.5 + 0.1 * rnd();
	if (k == STEADY)
		return p;
	if (rnd() < 0.1)
		p.cores = 0.01 * (double)(1 + rnd64() % 12800);
	if (rnd() < 0.1)
		p.memory_mb = 64 + rnd64() % 1048576;
	p.cpu_psi_some_avg10 = rnd() < 0.5 ? 0 : 0.01 * (double)(rnd64() % 10001);
	p.mem_psi_some_avg10 = rnd() < 0.5 ? 0 : 0.01 * (double)(rnd64() % 10001);
	p.cpu_psi_full_avg10 = rnd() < 0.7 ? 0 : 0.01 * (double)(rnd64() % 10001);
	p.mem_psi_full_avg10 = rnd() < 0.7 ? 0 : 0.01 * (double)(rnd64() % 10001);
	p.runq_p99_us = rnd() < 0.3 ? 0 : (double)(rnd64() % 200000);
	if (rnd() < 0.1)
		p.memory_high_mb = rnd() < 0.3 ? 0 : 64 + rnd64() % 1048576;
	if (k == NOISY)
		return p;
	switch (rnd64() % 9) {
	case 0: p.time_ms += (int64_t)(rnd64() % 2) ? 86400000LL * 3650 : -86400000LL * 3650; break;
	case 1: p.time_ms = (int64_t)rnd64(); break;                      /* anything at all */
	case 2: p.memory_mb = rnd64() % 2 ? UINT64_MAX : 0; break;
	case 3: p.cores = rnd() < 0.5 ? NAN : INFINITY; break;
	case 4: p.cpu_pct = -1e300; break;                                 /* clamped, not UB */
	case 5: p.anomaly_score = rnd() < 0.5 ? -1e9 : 1e9; break;
	case 6: p.mem_pct = 1e12 * rnd(); break;
	case 7: p.cores = 1e8 * rnd(); break;
	default: break;
	}
	return p;
}

static void ring_case(size_t max, unsigned pushes, enum kind k, uint64_t seed)
{
	rng_state = seed;
	struct histring r;
	histring_init(&r);
	struct history_point *all = calloc(pushes, sizeof(*all));
	struct history_point *out = calloc(max, sizeof(*out));
	assert_non_null(all);
	assert_non_null(out);
	struct history_point p = {
		.time_ms = 1700000000000, .cores = 2, .memory_mb = 2048, .cpu_pct = 3, .mem_pct = 40,
		.anomaly_score = -0.45,
	};
	for (unsigned i = 0; i < pushes; i++) {
		p = next_point(&p, k);
		all[i] = p;
		assert_int_equal(histring_push(&r, max, &p), 0);
		size_t want_n = i + 1 < max ? i + 1 : max;
		assert_int_equal(histring_count(&r), want_n);
		/* every push for small rings, often enough for large ones to meet every wrap */
		if (max > 16 && i % 7 != 0 && i + 1 != pushes)
			continue;
		histring_read(&r, out);
		for (size_t j = 0; j < want_n; j++)
			assert_point(&out[j], &all[i + 1 - want_n + j], j);
	}
	histring_free(&r);
	assert_int_equal(histring_count(&r), 0);
	free(all);
	free(out);
}

static void test_round_trip_steady(void **state)
{
	(void)state;
	ring_case(300, 1500, STEADY, 1);
	ring_case(5, 100, STEADY, 2);
}

static void test_round_trip_noisy(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 2, 3, 4, 7, 16, 31, 64, 300 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		ring_case(sizes[i], (unsigned)sizes[i] * 4 + 50, NOISY, 10 + i);
}

static void test_round_trip_wild(void **state)
{
	(void)state;
	/* records from 8 to 80 bytes: eviction, growth and wrap-around in every order */
	static const size_t sizes[] = { 1, 2, 3, 5, 8, 13, 40, 300 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (uint64_t seed = 0; seed < 4; seed++)
			ring_case(sizes[i], (unsigned)sizes[i] * 5 + 60, WILD, 100 + i * 10 + seed);
}

static void test_steady_size(void **state)
{
	(void)state;
	/* a container a point a second with its limits and PSI unchanged: 300 points in a few
	 * KB (64 bytes each as struct history_point) */
	rng_state = 7;
	struct histring r;
	histring_init(&r);
	struct history_point p = {
		.time_ms = 1700000000000, .cores = 2, .memory_mb = 2048, .cpu_pct = 3, .mem_pct = 40,
		.anomaly_score = -0.45,
	};
	for (int i = 0; i < 900; i++) {
		p = next_point(&p, STEADY);
		assert_int_equal(histring_push(&r, 300, &p), 0);
	}
	assert_int_equal(histring_count(&r), 300);
	size_t bytes = histring_heap_bytes(&r);
	print_message("300 steady points: %zu bytes on the heap (%.1f per point)\n", bytes, bytes / 300.0);
	assert_true(bytes <= 300 * 16);
	histring_free(&r);
}

static void test_one_point_ring(void **state)
{
	(void)state;
	struct histring r;
	histring_init(&r);
	struct history_point p = { .time_ms = 5, .memory_mb = 9 };
	assert_int_equal(histring_push(&r, 0, &p), 0); /* 0 means 1 */
	p.time_ms = 6;
	assert_int_equal(histring_push(&r, 1, &p), 0);
	struct history_point out;
	assert_int_equal(histring_count(&r), 1);
	histring_read(&r, &out);
	assert_int_equal(out.time_ms, 6);
	assert_int_equal(histring_heap_bytes(&r), 0); /* nothing beyond the point kept whole */
	histring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_steady),
		cmocka_unit_test(test_round_trip_noisy),
		cmocka_unit_test(test_round_trip_wild),
		cmocka_unit_test(test_steady_size),
		cmocka_unit_test(test_one_point_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

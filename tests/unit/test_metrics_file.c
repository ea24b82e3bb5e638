/*
 * test_metrics_file.c — the reference-format metrics history (user/metrics_file.c) and the
 * import that seeds the model from it (user/metrics_import.c).
 *
 * tests/data/lxc_metrics_reference.json was written by Python's json.dump(indent=4,
 * sort_keys=True), exactly as the reference monitor writes it; reading it and writing it
 * back must give the same bytes. Malformed files must give a clear error, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics_file.h"
#include "metrics_import.h"

static char tmpdir[256];
static char sample[512];

static int setup(void **state)
{
	(void)state;
	const char *top = getenv("LXCSCALE_TOP");
	snprintf(sample, sizeof(sample), "%s/tests/data/lxc_metrics_reference.json", top ? top : ".");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lxcscale-test-mf-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s", tmpdir);
	/* remove what the tests created, one known name at a time */
	const char *names[] = { "out.json", "out.json.tmp", "bad.json", "h.json", "e.json" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, names[i]);
		unlink(cmd);
	}
	rmdir(tmpdir);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

struct collected {
	struct mf_container c[16];
	size_t n;
	struct mf_summary last_summary;
	size_t snapshots;
};

static int collect(void *ctx, const struct mf_snapshot *s)
{
	struct collected *col = ctx;
	for (size_t i = 0; i < s->n && col->n < 16; i++)
		col->c[col->n++] = s->containers[i];
	if (s->has_summary)
		col->last_summary = s->summary;
	col->snapshots++;
	return 0;
}

static const struct mf_container *find(const struct collected *col, uint32_t vmid, size_t nth)
{
	for (size_t i = 0; i < col->n; i++)
		if (col->c[i].vmid == vmid && nth-- == 0)
			return &col->c[i];
	return NULL;
}

static void test_read_reference_sample(void **state)
{
	(void)state;
	struct collected col = { 0 };
	struct mf_read_stats st;
	char err[256];
	assert_int_equal(metrics_file_read(sample, collect, &col, &st, err, sizeof(err)), 0);
	assert_int_equal(st.snapshots, 3);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.skipped_records, 0);
	const struct mf_container *c = find(&col, 104, 0);
	assert_non_null(c);
	assert_string_equal(c->timestamp, "2025-12-24T13:33:20.628660");
	assert_true(c->cpu_usage_percent == 5.7);
	assert_true(c->memory_usage_mb == 497.24);
	assert_true(c->swap_usage_mb == 346.58 && c->swap_total_mb == 512.0);
	assert_int_equal(c->process_count, 102);
	assert_int_equal(c->io_reads, 4405620829ull);
	assert_int_equal(c->io_writes, 842586379ull);
	assert_true(c->filesystem_total_gb == 30.0);
	assert_int_equal(c->unknown, 0);
	c = find(&col, 105, 2);
	assert_non_null(c);
	assert_int_equal(c->process_count, 0);
	assert_int_equal(c->rx_bytes, 123456989ull);
	assert_int_equal(col.last_summary.total_containers, 2);
	assert_string_equal(col.last_summary.collection_end_time, "2025-12-24T13:35:21.250000");
	assert_true(col.last_summary.monitor_memory_usage_mb == 45.6);
}

static int append_cb(void *ctx, const struct mf_snapshot *s)
{
	return metrics_file_append(ctx, s->containers, s->n, s->has_summary ? &s->summary : NULL);
}

static void test_roundtrip_is_byte_identical(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	struct metrics_file *mf = metrics_file_new(out, 1000);
	assert_non_null(mf);
	assert_int_equal(metrics_file_read(sample, append_cb, mf, NULL, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 3);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), 0);
	metrics_file_free(mf);

	size_t la, lb;
	char *a = slurp(sample, &la), *b = slurp(out, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away, nothing left behind */
}

static struct mf_container rec(uint32_t vmid, const char *ts, double cpu)
{
	struct mf_container c;
	memset(&c, 0, sizeof(c));
	c.vmid = vmid;
	snprintf(c.timestamp, sizeof(c.timestamp), "%s", ts);
	c.cpu_usage_percent = cpu;
	c.memory_usage_mb = 256;
	c.process_count = 3;
	return c;
}

static void test_keeps_last_entries_and_sorts_ids_as_strings(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	struct metrics_file *mf = metrics_file_new(out, 2);
	const char *ts[] = { "2026-01-01T00:00:01.000000", "2026-01-01T00:00:02.000000",
			     "2026-01-01T00:00:03.000000" };
	for (int i = 0; i < 3; i++) {
		struct mf_container c[2] = { rec(104, ts[i], i), rec(1000, ts[i], 10 + i) };
		assert_int_equal(metrics_file_append(mf, c, 2, NULL), 0);
	}
	assert_int_equal(metrics_file_count(mf), 2);
	assert_int_equal(metrics_file_append(mf, NULL, 0, NULL), 0); /* empty cycle: not kept */
	assert_int_equal(metrics_file_count(mf), 2);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), 0);
	metrics_file_free(mf);

	size_t len;
	char *text = slurp(out, &len);
	assert_null(strstr(text, ts[0]));           /* the oldest cycle dropped out */
	assert_non_null(strstr(text, ts[2]));
	assert_true(strstr(text, "\"1000\"") < strstr(text, "\"104\"")); /* Python's str sort */
	assert_non_null(strstr(text, "\"cpu_usage_percent\": 12.0"));  /* floats keep ".0" */
	free(text);

	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(out, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, 2);
	assert_true(find(&col, 1000, 1)->cpu_usage_percent == 12);
}

static void test_unknown_fields_roundtrip(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	struct metrics_file *mf = metrics_file_new(out, 10);
	struct mf_container c = rec(200, "2026-01-01T00:00:01.500000", 40);
	c.memory_usage_mb = 999; /* a stale value must not leak out as if measured */
	c.unknown = MF_BIT(MF_MEMORY) | MF_BIT(MF_NETWORK);
	c.rx_bytes = 5;
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL), 0);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), 0);
	metrics_file_free(mf);
	size_t len;
	char *text = slurp(out, &len);
	assert_non_null(strstr(text, "\"memory_usage_mb\": 0.0"));
	assert_non_null(strstr(text, "\"rx_bytes\": 0"));
	assert_non_null(strstr(text, "\"unknown\": [\n                \"memory_usage_mb\",\n                \"network_usage\"\n            ]"));
	free(text);
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(out, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.c[0].unknown, MF_BIT(MF_MEMORY) | MF_BIT(MF_NETWORK));
}

static void test_python_float_repr(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	struct metrics_file *mf = metrics_file_new(out, 10);
	struct mf_summary s;
	memset(&s, 0, sizeof(s));
	s.total_duration_seconds = 0.1 + 0.2;       /* repr: 0.30000000000000004 */
	s.monitor_cpu_percent = 1e15;               /* repr: 1000000000000000.0 */
	s.monitor_memory_usage_mb = 1.5e-05;        /* repr: 1.5e-05 */
	struct mf_container c = rec(300, "2026-01-01T00:00:01.000000", 1.0 / 3);
	c.filesystem_total_gb = 1e16;               /* repr: 1e+16 */
	assert_int_equal(metrics_file_append(mf, &c, 1, &s), 0);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), 0);
	metrics_file_free(mf);
	size_t len;
	char *text = slurp(out, &len);
	assert_non_null(strstr(text, "\"total_duration_seconds\": 0.30000000000000004"));
	assert_non_null(strstr(text, "\"monitor_cpu_percent\": 1000000000000000.0"));
	assert_non_null(strstr(text, "\"monitor_memory_usage_mb\": 1.5e-05"));
	assert_non_null(strstr(text, "\"cpu_usage_percent\": 0.3333333333333333"));
	assert_non_null(strstr(text, "\"filesystem_total_gb\": 1e+16"));
	free(text);
}

static void expect_error(const char *text, const char *needle)
{
	char bad[512], err[256] = "";
	path_in(bad, sizeof(bad), "bad.json");
	put(bad, text);
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(bad, collect, &col, NULL, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void test_malformed_files(void **state)
{
	(void)state;
	expect_error("[\n    {\n        \"104\": {\n", "bad.json:4:1: unexpected end of file");
	expect_error("[\n  {\"104\": }\n]", "bad.json:2:11: malformed JSON");
	expect_error("{\"104\": {}}", "expected a JSON array");
	expect_error("[] trailing", "bad.json:1:4: trailing data");
	expect_error("", "unexpected end of file");
	expect_error("\x01\x02garbage", "malformed JSON");

	char err[256];
	char missing[512];
	path_in(missing, sizeof(missing), "does-not-exist.json");
	assert_int_equal(metrics_file_read(missing, NULL, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(metrics_file_read(tmpdir, NULL, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_bad_records_skipped(void **state)
{
	(void)state;
	const char *good = "{\"timestamp\": \"2026-01-01T00:00:00\", \"cpu_usage_percent\": 5,"
			   " \"memory_usage_mb\": 10.5, \"process_count\": 2,"
			   " \"io_stats\": {\"reads\": 1, \"writes\": 2},"
			   " \"network_usage\": {\"rx_bytes\": 3, \"tx_bytes\": 4},"
			   " \"filesystem_usage_gb\": 1, \"filesystem_total_gb\": 2, \"filesystem_free_gb\": 1}";
	char text[8192];
	snprintf(text, sizeof(text),
		 "[42, \"x\", {}, {\"101\": %s,"
		 " \"abc\": %s, \"0104\": %s, \"-5\": %s, \"1234567890\": %s,"
		 " \"102\": {\"timestamp\": \"2026-01-01T00:00:00\"},"
		 " \"103\": {\"timestamp\": \"2026-01-01T00:00:00\", \"cpu_usage_percent\": \"5\","
		 "   \"memory_usage_mb\": 1, \"process_count\": 2, \"io_stats\": {\"reads\": 1, \"writes\": 2},"
		 "   \"network_usage\": {\"rx_bytes\": 3, \"tx_bytes\": 4}, \"filesystem_usage_gb\": 1,"
		 "   \"filesystem_total_gb\": 2, \"filesystem_free_gb\": 1},"
		 " \"106\": {\"timestamp\": \"yesterday\"},"
		 " \"107\": [], \"summary\": 5}]",
		 good, good, good, good, good);
	char bad[512], err[256];
	path_in(bad, sizeof(bad), "bad.json");
	put(bad, text);
	struct collected col = { 0 };
	struct mf_read_stats st;
	assert_int_equal(metrics_file_read(bad, collect, &col, &st, err, sizeof(err)), 0);
	assert_int_equal(st.records, 1);
	assert_int_equal(col.c[0].vmid, 101);
	assert_true(col.c[0].swap_usage_mb == 0); /* swap defaults to 0 */
	assert_int_equal(st.skipped_records, 8); /* abc, 0104, -5, 10 digits, 102, 103, 106, 107 */
	assert_int_equal(st.skipped_snapshots, 3); /* 42, "x", {} */

	/* cpu above 100 %, negative memory, wrong-typed swap: skipped too */
	snprintf(text, sizeof(text),
		 "[{\"1\": {\"timestamp\": \"2026-01-01T00:00:00\", \"cpu_usage_percent\": 150,"
		 " \"memory_usage_mb\": 1, \"process_count\": 2, \"io_stats\": {\"reads\": 1, \"writes\": 2},"
		 " \"network_usage\": {\"rx_bytes\": 3, \"tx_bytes\": 4}, \"filesystem_usage_gb\": 1,"
		 " \"filesystem_total_gb\": 2, \"filesystem_free_gb\": 1},"
		 " \"2\": {\"timestamp\": \"2026-01-01T00:00:00\", \"cpu_usage_percent\": 1,"
		 " \"memory_usage_mb\": -1, \"process_count\": 2, \"io_stats\": {\"reads\": 1, \"writes\": 2},"
		 " \"network_usage\": {\"rx_bytes\": 3, \"tx_bytes\": 4}, \"filesystem_usage_gb\": 1,"
		 " \"filesystem_total_gb\": 2, \"filesystem_free_gb\": 1},"
		 " \"3\": {\"timestamp\": \"2026-01-01T00:00:00\", \"cpu_usage_percent\": 1, \"swap_usage_mb\": null,"
		 " \"memory_usage_mb\": 1, \"process_count\": 2, \"io_stats\": {\"reads\": 1, \"writes\": 2},"
		 " \"network_usage\": {\"rx_bytes\": 3, \"tx_bytes\": 4}, \"filesystem_usage_gb\": 1,"
		 " \"filesystem_total_gb\": 2, \"filesystem_free_gb\": 1}}]");
	put(bad, text);
	assert_int_equal(metrics_file_read(bad, NULL, NULL, &st, err, sizeof(err)), 0);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.skipped_records, 3);
}

static void test_timestamps(void **state)
{
	(void)state;
	char ts[MF_TIMESTAMP_LEN];
	int64_t us = 1766583200628660; /* 2025-12-24T13:33:20.628660 UTC */
	mf_format_timestamp(us, ts);
	assert_string_equal(ts, "2025-12-24T13:33:20.628660");
	int64_t back;
	assert_true(mf_parse_timestamp(ts, &back));
	assert_true(back == us);
	assert_true(mf_parse_timestamp("2025-12-24T13:33:20", &back));
	assert_true(back == 1766583200000000);
	assert_true(mf_parse_timestamp("2025-12-24T13:33:20.5Z", &back));
	assert_true(back == 1766583200500000);
	assert_true(mf_parse_timestamp("2025-12-24T14:33:20+01:00", &back));
	assert_true(back == 1766583200000000);
	assert_true(mf_parse_timestamp("2025-12-24 13:33:20", &back));
	const char *bad[] = { "", "yesterday", "2025-13-24T13:33:20", "2025-12-24T13:33:20.",
			      "2025-12-24T13:33:20.1234567890", "2025-12-24T13:33:20+0100",
			      "2025-12-24T25:00:00", "2025-12-24T13:33:20 junk", "20x5-12-24T13:33:20" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mf_parse_timestamp(bad[i], &back))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(mf_parse_timestamp(NULL, &back));
}

static void test_write_errors_and_bad_arguments(void **state)
{
	(void)state;
	char err[256];
	struct metrics_file *mf = metrics_file_new("/nonexistent-lxcscale-dir/x.json", 10);
	assert_non_null(mf);
	struct mf_container c = rec(1, "2026-01-01T00:00:00.000000", 1);
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL), 0);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x.json.tmp: No such file or directory"));
	metrics_file_free(mf);
	assert_null(metrics_file_new("", 10));
	assert_null(metrics_file_new(NULL, 10));
	assert_null(metrics_file_new("/tmp/x", 0));
	metrics_file_free(NULL);
}

static void test_load_continues_history(void **state)
{
	(void)state;
	char h[512], err[256];
	path_in(h, sizeof(h), "h.json");
	struct metrics_file *mf = metrics_file_new(h, 3);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0); /* missing file: empty */
	assert_int_equal(metrics_file_count(mf), 0);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), 0);
	size_t len;
	char *text = slurp(h, &len);
	assert_string_equal(text, "[]");
	free(text);
	metrics_file_free(mf);

	mf = metrics_file_new(h, 2); /* the sample has 3 cycles; keep the last 2 */
	char cmd_src[600];
	snprintf(cmd_src, sizeof(cmd_src), "%s", sample);
	char *data = slurp(cmd_src, &len);
	put(h, data);
	free(data);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 2);
	struct mf_container c = rec(104, "2025-12-24T13:36:20.000000", 50);
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL), 0);
	assert_int_equal(metrics_file_write(mf, err, sizeof(err)), 0);
	metrics_file_free(mf);
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(h, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, 2);
	assert_string_equal(col.c[col.n - 1].timestamp, "2025-12-24T13:36:20.000000");

	put(h, "[{\"1\": "); /* a corrupt history: an error, and an empty start */
	mf = metrics_file_new(h, 2);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "h.json:1:8"));
	assert_int_equal(metrics_file_count(mf), 0);
	metrics_file_free(mf);
}

struct vecs {
	uint32_t vmid[16];
	double x[16][FEAT_COUNT];
	unsigned n, dim;
	int stop_after;
};

static int take(void *ctx, uint32_t vmid, const double *x, unsigned n)
{
	struct vecs *v = ctx;
	if (v->n < 16) {
		v->vmid[v->n] = vmid;
		memcpy(v->x[v->n], x, n * sizeof(double));
		v->n++;
	}
	v->dim = n;
	return v->stop_after && (int)v->n >= v->stop_after ? 7 : 0;
}

static void test_import_seeds_vectors(void **state)
{
	(void)state;
	/* All of the reference's 26 (time_diff included, which the default leaves out), so
	 * every formula of the import is checked. */
	struct feat_select sel = { .n = FEAT_REFERENCE_COUNT };
	for (unsigned i = 0; i < FEAT_REFERENCE_COUNT; i++)
		sel.index[i] = (uint8_t)i;
	struct vecs v = { 0 };
	struct metrics_import_stats st;
	char err[256];
	assert_int_equal(metrics_import(sample, &sel, 100, 5, take, &v, &st, err, sizeof(err)), 0);
	assert_int_equal(st.containers, 2);
	assert_int_equal(st.read.records, 6);
	/* A container's first record has no I/O or network rate yet: not fed. */
	assert_int_equal(st.not_fed, 2);
	assert_int_equal(st.vectors, 4);
	assert_int_equal(v.n, 4);
	assert_int_equal(v.dim, FEAT_REFERENCE_COUNT);

	/* 104's second record: 59.47134 s after the first, at the ms resolution of rows. */
	assert_int_equal(v.vmid[0], 104);
	const double *x = v.x[0];
	const double dt = 59.472;
	assert_true(fabs(x[F_TIME_DIFF] - dt) < 1e-6);
	assert_true(x[F_CPU_USAGE_PERCENT] == 35.25);
	assert_true(fabs(x[F_ROLLING_MEAN_CPU] - (5.7 + 35.25) / 2) < 1e-12);
	assert_true(fabs(x[F_IO_READS] - 20000 / dt) < 1e-9);
	assert_true(fabs(x[F_NET_TX_BYTES] - 2000 / dt) < 1e-9);
	assert_true(fabs(x[F_MEMORY_PER_PROCESS] - 512.0 / 104) < 1e-12);
	assert_true(fabs(x[F_CPU_TREND] - ((5.7 + 35.25) / 2 - 5.7)) < 1e-12);

	/* 105's third record has zero processes: ratios are 0, not inf. */
	assert_int_equal(v.vmid[3], 105);
	assert_true(v.x[3][F_CPU_PER_PROCESS] == 0);
	assert_true(v.x[3][F_PROCESS_COUNT] == 0);

	struct vecs stop = { .stop_after = 1 };
	assert_int_equal(metrics_import(sample, &sel, 100, 5, take, &stop, NULL, err, sizeof(err)), 7);

	char bad[512];
	path_in(bad, sizeof(bad), "bad.json");
	put(bad, "[{\"104\": {\"cpu_usage_percent\": 1}");
	assert_int_equal(metrics_import(bad, &sel, 100, 5, take, &v, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad.json:1:34"));
	assert_int_equal(metrics_import(sample, &sel, 1, 5, take, &v, &st, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_reference_sample),
		cmocka_unit_test(test_roundtrip_is_byte_identical),
		cmocka_unit_test(test_keeps_last_entries_and_sorts_ids_as_strings),
		cmocka_unit_test(test_unknown_fields_roundtrip),
		cmocka_unit_test(test_python_float_repr),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_bad_records_skipped),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_write_errors_and_bad_arguments),
		cmocka_unit_test(test_load_continues_history),
		cmocka_unit_test(test_import_seeds_vectors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_metrics_file.c — the reference-format metrics history (user/compat/metrics_file.c) and the
 * import that seeds the model from it (user/compat/metrics_import.c).
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
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat/metrics_file.h"
#include "compat/metrics_import.h"

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
	const char *names[] = { "out.json", "out.json.tmp", "bad.json", "h.json", "e.json",
				"ref.json", "cut.json", "cut.json.tmp", "new.json", "small/m.json",
				"small/m.json.tmp" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, names[i]);
		unlink(cmd);
	}
	snprintf(cmd, sizeof(cmd), "%s/small", tmpdir);
	umount2(cmd, MNT_DETACH); /* a failed I/O-error test may leave its tmpfs mounted */
	rmdir(cmd);
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
	char err[256];
	int rc = metrics_file_append(ctx, s->containers, s->n, s->has_summary ? &s->summary : NULL,
				     err, sizeof(err));
	if (rc)
		fail_msg("append: %s", err);
	return rc;
}

static void test_roundtrip_is_byte_identical(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	struct metrics_file *mf = metrics_file_new(out, 1000);
	assert_non_null(mf);
	unlink(out);
	/* three in-place appends give what json.dump writes for the three-cycle list */
	assert_int_equal(metrics_file_read(sample, append_cb, mf, NULL, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 3);
	struct mf_io_stats io;
	metrics_file_io_stats(mf, &io);
	assert_int_equal(io.rewrites, 1); /* the file's creation */
	assert_int_equal(io.appends, 2);
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
	unlink(out);
	struct metrics_file *mf = metrics_file_new(out, 2); /* slack 1: 2 or 3 cycles in the file */
	const char *ts[] = { "2026-01-01T00:00:01.000000", "2026-01-01T00:00:02.000000",
			     "2026-01-01T00:00:03.000000", "2026-01-01T00:00:04.000000" };
	for (int i = 0; i < 4; i++) {
		struct mf_container c[2] = { rec(104, ts[i], i), rec(1000, ts[i], 10 + i) };
		assert_int_equal(metrics_file_append(mf, c, 2, NULL, err, sizeof(err)), 0);
		assert_int_equal(metrics_file_count(mf), i < 3 ? i + 1 : 2);
	}
	assert_int_equal(metrics_file_append(mf, NULL, 0, NULL, err, sizeof(err)), 0); /* empty: not kept */
	assert_int_equal(metrics_file_count(mf), 2);
	metrics_file_free(mf);

	size_t len;
	char *text = slurp(out, &len);
	assert_null(strstr(text, ts[0]));           /* the oldest cycles dropped out */
	assert_null(strstr(text, ts[1]));
	assert_non_null(strstr(text, ts[2]));
	assert_non_null(strstr(text, "\"cpu_usage_percent\": 13.0"));
	assert_true(strstr(text, "\"1000\"") < strstr(text, "\"104\"")); /* Python's str sort */
	assert_non_null(strstr(text, "\"cpu_usage_percent\": 12.0"));  /* floats keep ".0" */
	free(text);

	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(out, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, 2);
	assert_true(find(&col, 1000, 1)->cpu_usage_percent == 13);
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
	unlink(out);
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL, err, sizeof(err)), 0);
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
	unlink(out);
	assert_int_equal(metrics_file_append(mf, &c, 1, &s, err, sizeof(err)), 0);
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
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x.json.tmp: No such file or directory"));
	assert_int_equal(metrics_file_count(mf), 0);
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
	unlink(h);
	struct metrics_file *mf = metrics_file_new(h, 3);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0); /* missing file: empty */
	assert_int_equal(metrics_file_count(mf), 0);
	metrics_file_free(mf);

	mf = metrics_file_new(h, 2); /* the sample's 3 cycles fit in 2 + slack 1: all kept */
	size_t len;
	char *data = slurp(sample, &len);
	put(h, data);
	free(data);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 3);
	struct mf_container c = rec(104, "2025-12-24T13:36:20.000000", 50);
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL, err, sizeof(err)), 0); /* 4 > 3: trim */
	assert_int_equal(metrics_file_count(mf), 2);
	metrics_file_free(mf);
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(h, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, 2);
	assert_string_equal(col.c[col.n - 1].timestamp, "2025-12-24T13:36:20.000000");
}

/* ---- the history on disk: appends, recovery, trims, files changed behind our back -------- */

struct warnings {
	unsigned n;
	char last[512];
};

static void on_warning(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

/* Python's own json module must accept the file (as the reference's tools read it). */
static void python_loads(const char *path)
{
	const char *py = "/usr/bin/python3";
	if (access(py, X_OK) != 0)
		return; /* checked by the integration tests where Python is a requirement */
	char *argv[] = { (char *)py, "-c", "import json,sys; json.load(open(sys.argv[1]))", (char *)path, NULL };
	extern char **environ;
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, py, NULL, NULL, argv, environ), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("python3 json.load(%s) failed", path);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = slurp(from, &len);
	put(to, data);
	free(data);
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = slurp(a, &la), *y = slurp(b, &lb);
	if (la != lb || memcmp(x, y, la) != 0)
		fail_msg("%s (%zu bytes) and %s (%zu bytes) differ", a, la, b, lb);
	free(x);
	free(y);
}

/* Appends the sample's snapshots with index in [from, to). */
struct sample_range {
	struct metrics_file *mf;
	size_t from, to;
};

static int append_range(void *ctx, const struct mf_snapshot *s)
{
	struct sample_range *r = ctx;
	if (s->index < r->from || s->index >= r->to)
		return 0;
	return append_cb(r->mf, s);
}

static void test_append_after_load_is_byte_identical(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	unlink(out);
	struct sample_range r = { metrics_file_new(out, 1000), 0, 2 };
	assert_int_equal(metrics_file_read(sample, append_range, &r, NULL, err, sizeof(err)), 0);
	metrics_file_free(r.mf);

	/* a restart: the loader indexes the two cycles, the third goes in place */
	struct warnings w = { 0 };
	r = (struct sample_range){ metrics_file_new(out, 1000), 2, 3 };
	metrics_file_on_warning(r.mf, on_warning, &w);
	assert_int_equal(metrics_file_load(r.mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(r.mf), 2);
	assert_int_equal(metrics_file_read(sample, append_range, &r, NULL, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(r.mf), 3);
	struct mf_io_stats io;
	metrics_file_io_stats(r.mf, &io);
	assert_int_equal(io.appends, 1);
	assert_int_equal(io.rewrites, 0);
	assert_int_equal(io.loads, 1);
	assert_int_equal(w.n, 0);
	metrics_file_free(r.mf);
	assert_same_file(out, sample);
	python_loads(out);

	/* whitespace after the "]" (an editor's newline) is fine and goes away on append */
	size_t len;
	char *text = slurp(sample, &len);
	text[len - 2] = '\0'; /* drop "\n]" */
	char buf[8192];
	snprintf(buf, sizeof(buf), "%s\n]\n\n", text);
	put(out, buf);
	free(text);
	r = (struct sample_range){ metrics_file_new(out, 1000), 0, 1 };
	assert_int_equal(metrics_file_load(r.mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(r.mf), 3);
	assert_int_equal(metrics_file_read(sample, append_range, &r, NULL, err, sizeof(err)), 0);
	metrics_file_io_stats(r.mf, &io);
	assert_int_equal(io.appends, 1);
	metrics_file_free(r.mf);
	text = slurp(out, &len);
	assert_int_equal(text[len - 1], ']');
	assert_int_equal(text[len - 2], '\n');
	free(text);
	python_loads(out);
}

/* Offsets just past each cycle of the sample ("\n    }" followed by ",\n" or "\n]"). */
static size_t cycle_ends(const char *text, size_t len, size_t *ends, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i + 8 <= len && n < max; i++)
		if (memcmp(text + i, "\n    }", 6) == 0 &&
		    (memcmp(text + i + 6, ",\n", 2) == 0 || memcmp(text + i + 6, "\n]", 2) == 0))
			ends[n++] = i + 6;
	return n;
}

static void test_cut_off_tail_recovered(void **state)
{
	(void)state;
	char cut[512], err[256];
	path_in(cut, sizeof(cut), "cut.json");
	size_t len, ends[8];
	char *text = slurp(sample, &len);
	assert_int_equal(cycle_ends(text, len, ends, 8), 3);
	char *buf = malloc(len + 1024);
	/* every 7th cut point, the bytes around each cycle's end, and with a zero-filled tail (a
	 * crash after the file grew but before its data reached the disk) */
	for (size_t cut_at = 1; cut_at < len; cut_at++) {
		bool near_end = false;
		for (int k = 0; k < 3; k++)
			near_end |= cut_at + 3 >= ends[k] && cut_at <= ends[k] + 3;
		if (cut_at % 7 && !near_end && cut_at != len - 1)
			continue;
		for (int zeros = 0; zeros < 2; zeros++) {
			memcpy(buf, text, cut_at);
			size_t n = cut_at;
			if (zeros) {
				memset(buf + n, 0, 700);
				n += 700;
			}
			FILE *f = fopen(cut, "wb");
			assert_non_null(f);
			assert_int_equal(fwrite(buf, 1, n, f), n);
			fclose(f);
			size_t kept = 0;
			while (kept < 3 && ends[kept] <= cut_at)
				kept++;
			struct warnings w = { 0 };
			struct metrics_file *mf = metrics_file_new(cut, 1000);
			metrics_file_on_warning(mf, on_warning, &w);
			assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
			if (metrics_file_count(mf) != kept)
				fail_msg("cut at %zu%s: %u cycles kept, %zu complete", cut_at,
					 zeros ? " + zeros" : "", metrics_file_count(mf), kept);
			if (w.n != 1)
				fail_msg("cut at %zu%s: %u warnings, last \"%s\"", cut_at, zeros ? " + zeros" : "", w.n, w.last);
			char want[64];
			snprintf(want, sizeof(want), "keeping the %zu complete cycles", kept);
			if (!strstr(w.last, want))
				fail_msg("warning \"%s\" lacks \"%s\"", w.last, want);
			/* the file is what json.dump writes for the complete cycles */
			size_t got_len;
			char *got = slurp(cut, &got_len);
			if (kept == 0) {
				assert_string_equal(got, "[]");
			} else {
				assert_int_equal(got_len, ends[kept - 1] + 2);
				assert_memory_equal(got, text, ends[kept - 1]);
				assert_memory_equal(got + ends[kept - 1], "\n]", 2);
			}
			free(got);
			/* and the history goes on from there */
			struct mf_container c = rec(104, "2025-12-24T13:36:20.000000", 50);
			assert_int_equal(metrics_file_append(mf, &c, 1, NULL, err, sizeof(err)), 0);
			assert_int_equal(metrics_file_count(mf), kept + 1);
			metrics_file_free(mf);
			struct collected col = { 0 };
			assert_int_equal(metrics_file_read(cut, collect, &col, NULL, err, sizeof(err)), 0);
			assert_int_equal(col.snapshots, kept + 1);
			if (cut_at % 91 == 0)
				python_loads(cut);
		}
	}
	free(buf);
	free(text);

	/* no "]" at all after three complete cycles: all three kept */
	put(cut, "[");
	struct metrics_file *mf = metrics_file_new(cut, 10);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 0);
	metrics_file_free(mf);

	/* not an array at all: an error, and the next append starts a new file in its place */
	put(cut, "{\"104\": {}}");
	mf = metrics_file_new(cut, 10);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON array"));
	struct mf_container c = rec(7, "2026-01-01T00:00:00.000000", 1);
	assert_int_equal(metrics_file_append(mf, &c, 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 1);
	metrics_file_free(mf);
	python_loads(cut);
}

static void append_cycle(struct metrics_file *mf, int i)
{
	char ts[MF_TIMESTAMP_LEN], err[256];
	snprintf(ts, sizeof(ts), "2026-01-01T00:%02d:%02d.000000", i / 60, i % 60);
	struct mf_container c[2] = { rec(101, ts, i), rec(102, ts, i / 2.0) };
	struct mf_summary s;
	memset(&s, 0, sizeof(s));
	snprintf(s.collection_start_time, sizeof(s.collection_start_time), "%s", ts);
	snprintf(s.collection_end_time, sizeof(s.collection_end_time), "%s", ts);
	s.total_containers = s.collected_containers = 2;
	s.total_duration_seconds = 0.25 * i;
	if (metrics_file_append(mf, c, 2, &s, err, sizeof(err)) != 0)
		fail_msg("append %d: %s", i, err);
}

/* The file a fresh writer makes from cycles [from, to): what json.dump gives for them. */
static void expected_file(const char *path, int from, int to)
{
	unlink(path);
	struct metrics_file *mf = metrics_file_new(path, 1000);
	for (int i = from; i < to; i++)
		append_cycle(mf, i);
	metrics_file_free(mf);
}

static void test_trim_boundary(void **state)
{
	(void)state;
	assert_int_equal(metrics_file_slack(1), 1);
	assert_int_equal(metrics_file_slack(8), 1);
	assert_int_equal(metrics_file_slack(16), 2);
	assert_int_equal(metrics_file_slack(1000), 125);

	char out[512], ref[512], err[256];
	path_in(out, sizeof(out), "out.json");
	path_in(ref, sizeof(ref), "ref.json");
	const unsigned maxes[] = { 1, 8, 16 };
	for (size_t m = 0; m < 3; m++) {
		unsigned max = maxes[m], slack = metrics_file_slack(max);
		unlink(out);
		struct metrics_file *mf = metrics_file_new(out, max);
		int i = 0;
		for (; i < (int)(max + slack); i++) {
			append_cycle(mf, i);
			assert_int_equal(metrics_file_count(mf), i + 1); /* up to max + slack: in place */
		}
		struct mf_io_stats io;
		metrics_file_io_stats(mf, &io);
		assert_int_equal(io.rewrites, 1); /* creating the file */
		expected_file(ref, 0, i);
		assert_same_file(out, ref);
		append_cycle(mf, i++); /* one more: trimmed back to max */
		assert_int_equal(metrics_file_count(mf), max);
		metrics_file_io_stats(mf, &io);
		assert_int_equal(io.rewrites, 2);
		assert_int_equal(io.appends, max + slack - 1);
		expected_file(ref, i - (int)max, i);
		assert_same_file(out, ref);
		python_loads(out);
		/* a second round: max -> max + slack in place, then the trim again */
		for (unsigned k = 0; k < slack; k++)
			append_cycle(mf, i++);
		assert_int_equal(metrics_file_count(mf), max + slack);
		append_cycle(mf, i++);
		assert_int_equal(metrics_file_count(mf), max);
		expected_file(ref, i - (int)max, i);
		assert_same_file(out, ref);
		metrics_file_free(mf);
	}

	/* a file longer than max + slack (max_entries lowered) is trimmed at load */
	expected_file(out, 0, 12);
	struct metrics_file *mf = metrics_file_new(out, 4);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 4);
	metrics_file_free(mf);
	expected_file(ref, 8, 12);
	assert_same_file(out, ref);
}

static void test_foreign_layout_rewritten(void **state)
{
	(void)state;
	const char *good = "{\"timestamp\": \"2026-01-01T00:00:00.000000\", \"cpu_usage_percent\": 5,"
			   " \"memory_usage_mb\": 10.5, \"process_count\": 2,"
			   " \"io_stats\": {\"reads\": 1, \"writes\": 2},"
			   " \"network_usage\": {\"rx_bytes\": 3, \"tx_bytes\": 4},"
			   " \"filesystem_usage_gb\": 1, \"filesystem_total_gb\": 2, \"filesystem_free_gb\": 1}";
	char text[4096], out[512], ref[512], err[256];
	path_in(out, sizeof(out), "out.json");
	path_in(ref, sizeof(ref), "ref.json");
	/* compact, a number where a cycle should be, an empty cycle, three cycles for max 2 */
	snprintf(text, sizeof(text), "[{\"1\": %s}, 42, {}, {\"2\": %s},{\"3\": %s}]", good, good, good);
	put(out, text);
	struct warnings w = { 0 };
	struct metrics_file *mf = metrics_file_new(out, 2);
	metrics_file_on_warning(mf, on_warning, &w);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "not in the json.dump(indent=4) layout"));
	assert_int_equal(metrics_file_count(mf), 2);
	metrics_file_free(mf);
	python_loads(out);

	/* the same two cycles written by the writer: the same bytes */
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(out, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.n, 2);
	assert_int_equal(col.c[0].vmid, 2);
	assert_int_equal(col.c[1].vmid, 3);
	unlink(ref);
	mf = metrics_file_new(ref, 10);
	assert_int_equal(metrics_file_append(mf, &col.c[0], 1, NULL, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_append(mf, &col.c[1], 1, NULL, err, sizeof(err)), 0);
	metrics_file_free(mf);
	assert_same_file(out, ref);

	/* indent 2 (json.dump(indent=2)): also rewritten, nothing lost */
	put(out, "[\n  {\n    \"summary\": {\n      \"total_containers\": 0\n    }\n  }\n]");
	mf = metrics_file_new(out, 10);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 0); /* a cycle with no container: not kept */
	metrics_file_free(mf);
	size_t len;
	char *got = slurp(out, &len);
	assert_string_equal(got, "[]");
	free(got);
}

static void replace_file(const char *path, const char *from)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.admin", path);
	copy_file(from, tmp);
	assert_int_equal(rename(tmp, path), 0);
}

static void test_changed_behind_our_back(void **state)
{
	(void)state;
	char out[512], err[256];
	path_in(out, sizeof(out), "out.json");
	unlink(out);
	struct warnings w = { 0 };
	struct metrics_file *mf = metrics_file_new(out, 100);
	metrics_file_on_warning(mf, on_warning, &w);
	append_cycle(mf, 0);
	append_cycle(mf, 1);
	assert_int_equal(w.n, 0);

	/* removed: a new history, not an append at a stale offset */
	unlink(out);
	append_cycle(mf, 2);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.last, "removed by someone else"));
	assert_int_equal(metrics_file_count(mf), 1);
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(out, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, 1);

	/* replaced by the sample (a new inode): loaded, then appended to */
	replace_file(out, sample);
	append_cycle(mf, 3);
	assert_int_equal(w.n, 2);
	assert_int_equal(metrics_file_count(mf), 4);
	size_t la, lb;
	char *a = slurp(sample, &la), *b = slurp(out, &lb);
	assert_memory_equal(a, b, la - 2); /* the sample, then our cycle where its "\n]" was */
	free(a);
	free(b);
	python_loads(out);

	/* edited in place, same size: the mtime tells */
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	int fd = open(out, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "[", 1, 0), 1);
	close(fd);
	append_cycle(mf, 4);
	assert_int_equal(w.n, 3);
	assert_int_equal(metrics_file_count(mf), 5);

	/* emptied (`: > file`): an empty file is a cut-off one; a new history */
	fd = open(out, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	append_cycle(mf, 5);
	assert_int_equal(metrics_file_count(mf), 1);
	memset(&col, 0, sizeof(col));
	assert_int_equal(metrics_file_read(out, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, 1);
	metrics_file_free(mf);
	python_loads(out);
}

/* Cycles of `per` containers (about 650 bytes each). */
static int append_big(struct metrics_file *mf, int i, size_t per, char *err, size_t errlen)
{
	struct mf_container c[64];
	char ts[MF_TIMESTAMP_LEN];
	snprintf(ts, sizeof(ts), "2026-01-01T01:%02d:%02d.000000", i / 60, i % 60);
	for (size_t k = 0; k < per && k < 64; k++)
		c[k] = rec(1000 + (uint32_t)k, ts, (double)k / 7);
	return metrics_file_append(mf, c, per, NULL, err, errlen);
}

static void test_io_errors_on_a_tiny_tmpfs(void **state)
{
	(void)state;
	char dir[400], path[500], tmp[600], err[256];
	path_in(dir, sizeof(dir), "small");
	snprintf(path, sizeof(path), "%s/m.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	mkdir(dir, 0700);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0) {
		print_message("skip: cannot mount a tmpfs here (%s)\n", strerror(errno));
		rmdir(dir);
		skip();
	}

	/* ENOSPC in the middle of an in-place append: the call fails, the file is as before */
	struct metrics_file *mf = metrics_file_new(path, 1000);
	size_t before_len = 0;
	char *before = NULL;
	int i, rc = 0;
	for (i = 0; i < 100; i++) {
		free(before);
		before = access(path, F_OK) == 0 ? slurp(path, &before_len) : NULL;
		if ((rc = append_big(mf, i, 10, err, sizeof(err))) != 0)
			break;
	}
	assert_int_equal(rc, -1);
	assert_true(i > 2);
	assert_non_null(strstr(err, "No space left"));
	assert_int_equal(metrics_file_count(mf), i);
	size_t after_len;
	char *after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	free(before);
	struct collected col = { 0 };
	assert_int_equal(metrics_file_read(path, collect, &col, NULL, err, sizeof(err)), 0);
	assert_int_equal(col.snapshots, i);
	python_loads(path);
	metrics_file_free(mf);
	unlink(path);

	/* ENOSPC in the trim: the old file stays whole, no .tmp is left behind */
	mf = metrics_file_new(path, 4); /* slack 1: 5 cycles, then the rewrite needs 4 more */
	for (i = 0; i < 5; i++)
		assert_int_equal(append_big(mf, i, 18, err, sizeof(err)), 0);
	before = slurp(path, &before_len);
	assert_int_equal(append_big(mf, i, 18, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No space left"));
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(metrics_file_count(mf), 5);
	after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	free(before);
	metrics_file_free(mf);

	/* read-only: appends fail cleanly; a repair needed at load fails, then works once the
	 * file system is writable again */
	unlink(path);
	mf = metrics_file_new(path, 100);
	for (i = 0; i < 3; i++)
		assert_int_equal(append_big(mf, i, 2, err, sizeof(err)), 0);
	metrics_file_free(mf);
	before = slurp(path, &before_len);
	before[before_len - 40] = '\0'; /* cut into the third cycle */
	put(path, before);
	assert_int_equal(mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=64k"), 0);
	mf = metrics_file_new(path, 100);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Read-only file system"));
	assert_int_equal(append_big(mf, 3, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Read-only file system"));
	assert_int_equal(mount("tmpfs", dir, "tmpfs", MS_REMOUNT, "size=64k"), 0);
	assert_int_equal(append_big(mf, 3, 2, err, sizeof(err)), 0);
	assert_int_equal(metrics_file_count(mf), 3); /* two complete + the new one */
	metrics_file_free(mf);
	free(before);
	python_loads(path);

	/* read-only with a clean file: the load is fine, the append fails, nothing changes */
	before = slurp(path, &before_len);
	assert_int_equal(mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=64k"), 0);
	mf = metrics_file_new(path, 100);
	assert_int_equal(metrics_file_load(mf, err, sizeof(err)), 0);
	assert_int_equal(append_big(mf, 4, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Read-only file system"));
	metrics_file_free(mf);
	after = slurp(path, &after_len);
	assert_int_equal(after_len, before_len);
	free(after);
	free(before);

	assert_int_equal(umount2(dir, 0), 0);
	rmdir(dir);
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

/* Every float the writer prints must be Python's repr of the value it stands for: Python
 * itself checks each number of a file full of random, tricky and subnormal values. */
static void test_float_repr_matches_python(void **state)
{
	(void)state;
	const char *py = "/usr/bin/python3";
	if (access(py, X_OK) != 0)
		skip();
	char out[512], err[256];
	path_in(out, sizeof(out), "repr.json");
	unlink(out);
	enum { N = 1500 };
	struct mf_container *c = calloc(N, sizeof(*c));
	assert_non_null(c);
	uint64_t r = 0x9e3779b97f4a7c15ull;
	static const double tricky[] = { 0.1 + 0.2, 1e15, 1e16, 999999999999999.9, 1.5e-05, 1e-4,
					 5e-324, 2.5e-310, 1.0 / 3, 123456.789, 0.0, 4096.0 };
	for (size_t i = 0; i < N; i++) {
		c[i] = rec((uint32_t)(100 + i), "2026-01-01T00:00:01.000000", 0);
		double *f[] = { &c[i].cpu_usage_percent, &c[i].memory_usage_mb, &c[i].swap_usage_mb,
				&c[i].swap_total_mb, &c[i].filesystem_usage_gb, &c[i].filesystem_total_gb,
				&c[i].filesystem_free_gb };
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			double x;
			switch ((i * 7 + k) % 4) {
			case 0: x = tricky[r % (sizeof(tricky) / sizeof(tricky[0]))]; break;
			case 1: x = (double)(r % 10000000) / 100.0; break;
			case 2: x = ldexp((double)(r >> 11), (int)(r % 140) - 110); break;
			default: memcpy(&x, &r, sizeof(x)); if (!isfinite(x) || x < 0) x = 1.0 / (double)(r | 1);
			}
			*f[k] = x;
		}
	}
	struct mf_summary s;
	memset(&s, 0, sizeof(s));
	struct metrics_file *mf = metrics_file_new(out, 10);
	assert_int_equal(metrics_file_append(mf, c, N, &s, err, sizeof(err)), 0);
	metrics_file_free(mf);
	free(c);
	char *argv[] = { (char *)py, "-c",
			 "import re,sys\n"
			 "t=open(sys.argv[1]).read()\n"
			 "n=0\n"
			 "for m in re.finditer(r'\": (-?[0-9][0-9.e+-]*[.e][0-9.e+-]*)[,\\n]',t):\n"
			 "  n+=1\n"
			 "  if repr(float(m.group(1)))!=m.group(1): sys.exit('not repr: '+m.group(1))\n"
			 "sys.exit(0 if n>=7000 else 'only %d floats' % n)\n",
			 out, NULL };
	extern char **environ;
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, py, NULL, NULL, argv, environ), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("a float in %s is not Python's repr of its value (see stderr)", out);
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
		cmocka_unit_test(test_float_repr_matches_python),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_bad_records_skipped),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_write_errors_and_bad_arguments),
		cmocka_unit_test(test_load_continues_history),
		cmocka_unit_test(test_append_after_load_is_byte_identical),
		cmocka_unit_test(test_cut_off_tail_recovered),
		cmocka_unit_test(test_trim_boundary),
		cmocka_unit_test(test_foreign_layout_rewritten),
		cmocka_unit_test(test_changed_behind_our_back),
		cmocka_unit_test(test_io_errors_on_a_tiny_tmpfs),
		cmocka_unit_test(test_import_seeds_vectors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

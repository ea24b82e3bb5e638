/*
 * test_report.c — the pieces of `lxcscale replay --html`: the JSON escaping that keeps the
 * data inside its <script> element (every character that could end it, every JSON escape,
 * bytes that are not UTF-8), the number format, the timeline's buckets (a one-step spike
 * survives, the order of the low and the high is kept, ranges merge and are capped, kill
 * times are capped but counted), the whole data object (json-c reads it back), and the page
 * writer (atomic: no temporary file left; a folder that does not exist is reported).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "cli/replay_html.h"
#include "sim/report_data.h"
#include "sim/scorecard.h"
#include "sim/timeline.h"

/* The whole file, malloc'ed and NUL-terminated (the page is larger than testlib's buffer). */
static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(fwrite(chunk, 1, n, m), n);
	fclose(f);
	assert_int_equal(fclose(m), 0);
	return buf;
}

/* What fn writes, as a malloc'ed string. */
static char *json_of_string(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	report_json_string(f, s);
	assert_int_equal(fclose(f), 0);
	return out;
}

static char *json_of_number(double v, int decimals)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	report_json_number(f, v, decimals);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void expect_escaped(const char *in, const char *want)
{
	char *got = json_of_string(in);
	assert_string_equal(got, want);
	free(got);
}

static void expect_formatted(double v, int decimals, const char *want)
{
	char *got = json_of_number(v, decimals);
	assert_string_equal(got, want);
	free(got);
}

/* ---- escaping ------------------------------------------------------------------------ */

static void test_escape_script_end(void **state)
{
	(void)state;
	expect_escaped("</script>", "\"\\u003c/script\\u003e\"");
	expect_escaped("a<!--b-->&c", "\"a\\u003c!--b--\\u003e\\u0026c\"");
	expect_escaped("</SCRIPT", "\"\\u003c/SCRIPT\"");
	/* nothing an HTML parser looks for is left, whatever the input */
	char *got = json_of_string("x</script><script>alert(1)</script>");
	assert_null(strchr(got, '<'));
	assert_null(strchr(got, '>'));
	free(got);
}

static void test_escape_json(void **state)
{
	(void)state;
	expect_escaped("", "\"\"");
	expect_escaped(NULL, "\"\"");
	expect_escaped("plain ct104", "\"plain ct104\"");
	expect_escaped("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect_escaped("l1\nl2\r\t", "\"l1\\nl2\\r\\t\"");
	expect_escaped("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	expect_escaped("/", "\"/\"");
}

static void test_escape_utf8(void **state)
{
	(void)state;
	expect_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	expect_escaped("\xe2\x80\xa8|\xe2\x80\xa9", "\"\\u2028|\\u2029\"");
	/* not UTF-8: each bad byte becomes U+FFFD, the rest is kept */
	expect_escaped("a\xff\x62", "\"a\\ufffdb\"");
	expect_escaped("\xc3", "\"\\ufffd\"");                 /* cut short */
	expect_escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"");      /* overlong '/' */
	expect_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
	expect_escaped("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
	/* and json-c reads every one of them back */
	const char *inputs[] = { "</script>\xe2\x80\xa8", "a\xff\x62\x01", "\"\\" };
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char *got = json_of_string(inputs[i]);
		json_object *o = json_tokener_parse(got);
		assert_non_null(o);
		assert_true(json_object_is_type(o, json_type_string));
		json_object_put(o);
		free(got);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	expect_formatted(2, 3, "2");
	expect_formatted(0.25, 3, "0.25");
	expect_formatted(-1.5, 1, "-1.5");
	expect_formatted(2048.04, 1, "2048");
	expect_formatted(1767225600.0, 3, "1767225600");
	expect_formatted(1e-9, 3, "0");
	expect_formatted(-1e-9, 3, "0"); /* never "-0" */
	expect_formatted(NAN, 3, "null");
	expect_formatted(INFINITY, 3, "null");
	expect_formatted(-INFINITY, 0, "null");
	char *big = json_of_number(-1e300, 9); /* the longest there is: every digit, no decimals left */
	assert_int_equal(strlen(big), 302);
	assert_true(strncmp(big, "-1000000000000000052504760255204420248704468581108", 50) == 0);
	assert_null(strchr(big, '.'));
	free(big);
}

/* ---- the timeline -------------------------------------------------------------------- */

static struct cm_step step_of(double cpu, double cpu_limit, double mem, double mem_limit)
{
	struct cm_step s;
	memset(&s, 0, sizeof s);
	s.cpu_demand_cores = cpu;
	s.cpu_limit_cores = cpu_limit;
	s.mem_demand_mb = mem;
	s.mem_limit_mb = mem_limit;
	if (cpu > cpu_limit)
		s.cpu_throttled_s = cpu - cpu_limit;
	return s;
}

static void test_timeline_short_trace_unchanged(void **state)
{
	(void)state;
	struct timeline tl = { 0 };
	assert_int_equal(timeline_begin(&tl, 1000, 10, 2000), 0);
	assert_int_equal(tl.bucket_steps, 1);
	for (int i = 0; i < 10; i++) {
		struct cm_step s = step_of(i * 0.5, 2, 100 + i, 2048);
		timeline_add_step(&tl, i * 1000, &s);
	}
	struct cm_step extra = step_of(9, 2, 9, 9);
	timeline_add_step(&tl, 10000, &extra); /* past n_steps: ignored */
	assert_int_equal(timeline_points(&tl), 10);
	for (size_t i = 0; i < 10; i++) {
		int64_t t;
		double v[TL_N_SERIES];
		timeline_point(&tl, i, &t, v);
		assert_int_equal(t, (int64_t)i * 1000);
		assert_true(fabs(v[TL_CPU_DEMAND] - (double)i * 0.5) < 1e-6);
		assert_true(fabs(v[TL_MEM_DEMAND] - (100.0 + (double)i)) < 1e-6);
		assert_true(v[TL_CPU_LIMIT] == 2 && v[TL_MEM_LIMIT] == 2048);
	}
	/* demand above 2 cores from step 5 on: one range [5 s, 10 s) */
	assert_int_equal(tl.n_ranges[TL_CPU_THROTTLED], 1);
	assert_int_equal(tl.ranges[TL_CPU_THROTTLED][0].start_ms, 5000);
	assert_int_equal(tl.ranges[TL_CPU_THROTTLED][0].end_ms, 10000);
	assert_int_equal(tl.n_ranges[TL_MEM_PRESSURE], 0);
	timeline_free(&tl);
}

static void test_timeline_spike_kept(void **state)
{
	(void)state;
	const size_t n = 1000000;
	struct timeline tl = { 0 };
	assert_int_equal(timeline_begin(&tl, 1000, n, 2000), 0);
	assert_int_equal(tl.bucket_steps, 1000); /* 1000 buckets of two points */
	for (size_t i = 0; i < n; i++) {
		double cpu = 1.0;
		if (i == 123456)
			cpu = 7.5;  /* a one-step spike */
		if (i == 123999)
			cpu = 0.25; /* and, later in the same bucket, a dip */
		struct cm_step s = step_of(cpu, 8, 500, 1024);
		timeline_add_step(&tl, (int64_t)i * 1000, &s);
	}
	assert_int_equal(timeline_points(&tl), 2000);
	double max = 0, min = 100;
	size_t at_max = 0, at_min = 0;
	int64_t last = -1;
	for (size_t i = 0; i < timeline_points(&tl); i++) {
		int64_t t;
		double v[TL_N_SERIES];
		timeline_point(&tl, i, &t, v);
		assert_true(t > last); /* strictly increasing: a chart's x */
		last = t;
		if (v[TL_CPU_DEMAND] > max)
			max = v[TL_CPU_DEMAND], at_max = i;
		if (v[TL_CPU_DEMAND] < min)
			min = v[TL_CPU_DEMAND], at_min = i;
	}
	assert_true(fabs(max - 7.5) < 1e-6);
	assert_true(fabs(min - 0.25) < 1e-6);
	/* bucket 123 holds both: the spike came first, so it is the bucket's first point */
	assert_int_equal(at_max, 246);
	assert_int_equal(at_min, 247);
	int64_t t;
	double v[TL_N_SERIES];
	timeline_point(&tl, 247, &t, v);
	assert_int_equal(t, 123000000 + 500000); /* the middle of the bucket */
	timeline_free(&tl);
}

static void test_timeline_ranges_and_kills(void **state)
{
	(void)state;
	struct timeline tl = { 0 };
	const size_t n = 100000;
	assert_int_equal(timeline_begin(&tl, 1000, n, 200), 0); /* 100 buckets of 1000 steps */
	assert_int_equal(tl.bucket_steps, 1000);
	for (size_t i = 0; i < n; i++) {
		struct cm_step s = step_of(1, 2, 100, 1024);
		/* memory: hurt every 500th step (closer than a bucket: merged into one range) */
		if (i % 500 == 0)
			s.mem_some = 0.5;
		/* CPU: hurt on every 3000th step (further apart than a bucket: each its own) */
		if (i % 3000 == 0)
			s.cpu_throttled_s = 1, s.cpu_demand_cores = 3;
		if (i % 50 == 0)
			s.oom_kill = true;
		timeline_add_step(&tl, (int64_t)i * 1000, &s);
	}
	assert_int_equal(tl.n_ranges[TL_MEM_PRESSURE], 1);
	assert_int_equal(tl.ranges[TL_MEM_PRESSURE][0].start_ms, 0);
	assert_int_equal(tl.n_ranges[TL_CPU_THROTTLED], (n + 2999) / 3000);
	assert_int_equal(tl.ranges[TL_CPU_THROTTLED][1].start_ms, 3000000);
	assert_int_equal(tl.ranges[TL_CPU_THROTTLED][1].end_ms, 3001000);
	assert_int_equal(tl.n_oom, TIMELINE_MAX_OOM);
	assert_int_equal(tl.oom_total, n / 50);
	timeline_free(&tl);

	/* more ranges than the cap: the last one runs on to the last step that hurt */
	const size_t m = 3 * TIMELINE_MAX_RANGES;
	assert_int_equal(timeline_begin(&tl, 1000, m, 2000 * 100), 0);
	assert_true(tl.bucket_steps > 1);
	size_t hurt_every = tl.bucket_steps + 1;
	int64_t last_hurt = 0;
	for (size_t i = 0; i < m * hurt_every && i < tl.n_steps; i++) {
		struct cm_step s = step_of(1, 2, 100, 1024);
		if (i % hurt_every == 0) {
			s.mem_some = 1;
			last_hurt = (int64_t)i * 1000;
		}
		timeline_add_step(&tl, (int64_t)i * 1000, &s);
	}
	assert_true(tl.n_ranges[TL_MEM_PRESSURE] <= TIMELINE_MAX_RANGES);
	assert_int_equal(tl.ranges[TL_MEM_PRESSURE][tl.n_ranges[TL_MEM_PRESSURE] - 1].end_ms, last_hurt + 1000);
	timeline_free(&tl);
}

static void test_timeline_budget(void **state)
{
	(void)state;
	assert_int_equal(timeline_points_for(0), TIMELINE_MAX_POINTS);
	assert_int_equal(timeline_points_for(1), TIMELINE_MAX_POINTS);
	assert_int_equal(timeline_points_for(32), TIMELINE_MAX_POINTS);
	assert_int_equal(timeline_points_for(64), 1000);
	assert_int_equal(timeline_points_for(4096), TIMELINE_MIN_POINTS);
	/* a budget out of range is clamped */
	struct timeline tl = { 0 };
	assert_int_equal(timeline_begin(&tl, 1000, 100000, 1), 0);
	assert_int_equal(tl.bucket_steps, 1000); /* TIMELINE_MIN_POINTS: 100 buckets */
	assert_int_equal(timeline_begin(&tl, 1000, 100000, 1u << 30), 0);
	assert_int_equal(tl.bucket_steps, 100); /* TIMELINE_MAX_POINTS: 1000 buckets */
	timeline_free(&tl);
}

/* ---- the data and the page ----------------------------------------------------------- */

struct fixture {
	struct scenario s;
	struct scenario_incident inc[1];
	struct timeline tl[2];
	struct scorecard_summary sum[2], total[2];
	struct report_trace rt;
	const char *names[2];
	struct report r;
};

static void fixture_make(struct fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->s.name, sizeof fx->s.name, "ct</script><b>&\"101");
	fx->s.vmid = 101;
	fx->s.start_ms = 1767225600000LL;
	fx->s.step_ms = 1000;
	fx->s.n_steps = 50;
	fx->s.init_cpu_cores = 2;
	fx->s.init_mem_mb = 2048;
	fx->inc[0] = (struct scenario_incident){ INCIDENT_CPU_BURST, fx->s.start_ms + 10000, fx->s.start_ms + 20000, true };
	fx->s.incidents = fx->inc;
	fx->s.n_incidents = 1;
	for (int k = 0; k < 2; k++) {
		assert_int_equal(timeline_begin(&fx->tl[k], 1000, 50, 2000), 0);
		for (int i = 0; i < 50; i++) {
			struct cm_step st = step_of(i >= 10 && i < 20 ? 3 : 0.5, k ? 2 : 4, 700, 2048);
			if (k == 1 && i == 30)
				st.oom_kill = true;
			timeline_add_step(&fx->tl[k], i * 1000, &st);
		}
		fx->sum[k].relieved_pct = k ? NAN : 100;
		fx->sum[k].oom_kills = (uint64_t)k;
		fx->total[k] = fx->sum[k];
		fx->rt.runs[k] = &fx->tl[k];
		fx->rt.summary[k] = &fx->sum[k];
	}
	fx->rt.trace = &fx->s;
	fx->names[0] = "lxcscale";
	fx->names[1] = "reference";
	fx->r = (struct report){
		.input = "--scenario <x>", .version = "test", .policies = fx->names, .n_policies = 2,
		.traces = &fx->rt, .n_traces = 1, .max_points = 2000, .total_title = "total: 1 trace",
		.total = fx->total,
	};
}

static void fixture_free(struct fixture *fx)
{
	timeline_free(&fx->tl[0]);
	timeline_free(&fx->tl[1]);
}

static char *data_of(const struct report *r, int want_rc)
{
	char *out = NULL, err[256] = "";
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	int rc = report_data_write(f, r, err, sizeof err);
	assert_int_equal(fclose(f), 0);
	if (rc != want_rc)
		fail_msg("report_data_write: %d (%s)", rc, err);
	return out;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\"", key);
	return v;
}

static void test_data_object(void **state)
{
	(void)state;
	struct fixture fx;
	fixture_make(&fx);
	char *out = data_of(&fx.r, 0);
	assert_null(strchr(out, '<')); /* the name and the input had some */
	assert_null(strchr(out, '>'));
	json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(member(o, "input")), "--scenario <x>");
	assert_int_equal(json_object_array_length(member(o, "policies")), 2);
	json_object *rows = member(o, "rows");
	assert_int_equal(json_object_array_length(rows), scorecard_row_count());
	assert_string_equal(json_object_get_string(json_object_array_get_idx(rows, 6)), "OOM kills");
	json_object *traces = member(o, "traces");
	assert_int_equal(json_object_array_length(traces), 1);
	json_object *tr = json_object_array_get_idx(traces, 0);
	assert_string_equal(json_object_get_string(member(tr, "name")), "ct</script><b>&\"101");
	assert_int_equal(json_object_get_int64(member(tr, "start")), 1767225600);
	assert_int_equal(json_object_array_length(member(tr, "t")), 50);
	assert_int_equal(json_object_array_length(member(tr, "cpu_demand")), 50);
	json_object *inc = json_object_array_get_idx(member(tr, "incidents"), 0);
	assert_string_equal(json_object_get_string(member(inc, "kind")), "cpu_burst");
	assert_int_equal(json_object_get_int(member(inc, "start")), 10);
	json_object *runs = member(tr, "runs");
	assert_int_equal(json_object_array_length(runs), 2);
	json_object *ref = json_object_array_get_idx(runs, 1);
	assert_string_equal(json_object_get_string(member(ref, "policy")), "reference");
	assert_int_equal(json_object_array_length(member(ref, "cpu_throttled")), 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(member(ref, "oom"), 0)), 30);
	assert_int_equal(json_object_get_int(member(ref, "oom_total")), 1);
	assert_int_equal(json_object_array_length(member(json_object_array_get_idx(runs, 0), "cpu_throttled")), 0);
	/* the scorecard's cells as the text prints them */
	json_object *cells = member(tr, "cells");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_array_get_idx(cells, 0), 2)), "100.0");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_array_get_idx(cells, 1), 2)), "-");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_array_get_idx(cells, 1), 6)), "1");
	json_object_put(o);
	free(out);

	/* an inconsistent report is refused before a byte is written */
	fx.tl[1].bucket_steps = 2;
	out = data_of(&fx.r, -1);
	assert_string_equal(out, "");
	free(out);
	fx.tl[1].bucket_steps = 1;
	fx.r.n_policies = 0;
	out = data_of(&fx.r, -1);
	free(out);
	fixture_free(&fx);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_page(void **state)
{
	(void)state;
	char dir[] = "/tmp/lxcscale-test-report-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], err[512];
	snprintf(path, sizeof path, "%s/r.html", dir);
	struct fixture fx;
	fixture_make(&fx);
	assert_int_equal(replay_html_write(path, &fx.r, err, sizeof err), 0);
	assert_int_equal(count_entries(dir), 1); /* no temporary file left */
	char *page = read_whole(path);
	assert_non_null(page);
	assert_true(strncmp(page, "<!doctype html>", 15) == 0);
	assert_non_null(strstr(page, "<title>lxcscale replay: --scenario &lt;x&gt;</title>"));
	const char *data = strstr(page, "<script type=\"application/json\" id=\"data\">");
	assert_non_null(data);
	data += strlen("<script type=\"application/json\" id=\"data\">");
	const char *end = strstr(data, "</script>");
	assert_non_null(end);
	char *json = strndup(data, (size_t)(end - data));
	json_object *o = json_tokener_parse(json);
	assert_non_null(o); /* the element ends exactly where the data does */
	json_object_put(o);
	free(json);
	/* nothing fetched from anywhere (uPlot's banner comment names its home page: not a fetch) */
	const char *fetches[] = { "src=", "href=", "<link", "@import", "url(", "srcset" };
	for (size_t i = 0; i < sizeof fetches / sizeof fetches[0]; i++)
		if (strstr(page, fetches[i]))
			fail_msg("the page has %s", fetches[i]);
	assert_non_null(strstr(page, "</script></body></html>"));
	free(page);

	/* written again over the old one: replaced whole */
	assert_int_equal(replay_html_write(path, &fx.r, err, sizeof err), 0);
	assert_int_equal(count_entries(dir), 1);

	/* a folder that does not exist: the OS's reason, and nothing written */
	assert_int_equal(replay_html_write("/nonexistent-lxcscale/dir/x.html", &fx.r, err, sizeof err), -1);
	assert_string_equal(err, "cannot write /nonexistent-lxcscale/dir/x.html: No such file or directory");
	/* a bad report: the reason, and the old page untouched, no temporary file */
	fx.r.n_policies = 0;
	assert_int_equal(replay_html_write(path, &fx.r, err, sizeof err), -1);
	assert_non_null(strstr(err, "policies"));
	assert_int_equal(count_entries(dir), 1);
	/* a folder in the way of the file */
	fx.r.n_policies = 2;
	assert_int_equal(replay_html_write(dir, &fx.r, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot write"));

	fixture_free(&fx);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_script_end),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_timeline_short_trace_unchanged),
		cmocka_unit_test(test_timeline_spike_kept),
		cmocka_unit_test(test_timeline_ranges_and_kills),
		cmocka_unit_test(test_timeline_budget),
		cmocka_unit_test(test_data_object),
		cmocka_unit_test(test_page),
	};
	return cmocka_run_group_tests_name("replay --html: escaping, timeline, data, page", tests, NULL, NULL);
}

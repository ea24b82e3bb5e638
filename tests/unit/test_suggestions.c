/*
 * test_suggestions.c — the suggestions JSON-lines log (user/compat/suggestions.c): the reference's
 * documented fields and ours, parsed back with json-c; directory creation, rotation, a file
 * removed from outside, and the error paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat/suggestions.h"

static char dir[256], path[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/lxcscale-test-sugg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/suggestions.jsonl", dir);
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[400];
	snprintf(p, sizeof(p), "%s.1", path);
	unlink(p);
	unlink(path);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
	return 0;
}

static struct decision sample(void)
{
	struct decision d;
	memset(&d, 0, sizeof(d));
	d.seq = 42;
	d.time_ms = 1766583200628;
	d.vmid = 104;
	d.cpu_change = DECISION_UP;
	d.cpu_from = 2;
	d.cpu_to = 3;
	d.mem_change = DECISION_DOWN;
	d.mem_from_mb = 2048;
	d.mem_to_mb = 1536;
	d.reason = REASON_ANOMALY;
	d.confidence = 87.41;
	d.anomaly_score = -0.125;
	d.anomaly = true;
	d.urgency = 2;
	d.priority = 3;
	strcpy(d.top[0].name, "cpu_usage_percent");
	d.top[0].share = 0.5;
	strcpy(d.top[1].name, "rolling_std_cpu");
	d.top[1].share = 0.25;
	d.cpu_pct = 91.5;
	d.mem_pct = 12;
	d.cpu_psi_some_ms = 3.5;
	strcpy(d.detail, "cpu 91.5% > 75% \"quoted\"\n");
	d.dry_run = true;
	return d;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("missing key %s", k);
	return v;
}

static void test_format_fields(void **state)
{
	(void)state;
	struct decision d = sample();
	char line[SUGGESTIONS_LINE_MAX];
	int n = suggestions_format(&d, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', (size_t)n - 1)); /* exactly one line */
	json_object *o = json_tokener_parse(line);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(get(o, "timestamp")), "2025-12-24T13:33:20.628+00:00");
	assert_string_equal(json_object_get_string(get(o, "container_id")), "104");
	assert_string_equal(json_object_get_string(get(o, "cpu_action")), "increase");
	assert_int_equal(json_object_get_int(get(o, "cpu_amount")), 1);
	assert_string_equal(json_object_get_string(get(o, "ram_action")), "decrease");
	assert_int_equal(json_object_get_int(get(o, "ram_amount")), 512);
	assert_true(json_object_get_double(get(o, "confidence")) == 87.41);
	assert_string_equal(json_object_get_string(get(o, "reason")), "anomaly");
	assert_string_equal(json_object_get_string(get(o, "detail")), "cpu 91.5% > 75% \"quoted\"\n");
	assert_int_equal(json_object_get_int(get(o, "seq")), 42);
	assert_int_equal(json_object_get_int(get(o, "cpu_from")), 2);
	assert_int_equal(json_object_get_int(get(o, "cpu_to")), 3);
	assert_int_equal(json_object_get_int(get(o, "ram_from_mb")), 2048);
	assert_int_equal(json_object_get_int(get(o, "ram_to_mb")), 1536);
	assert_int_equal(json_object_get_int(get(o, "urgency")), 2);
	assert_int_equal(json_object_get_int(get(o, "priority")), 3);
	assert_true(json_object_get_boolean(get(o, "anomaly")));
	assert_true(json_object_get_double(get(o, "anomaly_score")) == -0.125);
	json_object *top = get(o, "top_features");
	assert_int_equal(json_object_array_length(top), 2);
	assert_string_equal(json_object_get_string(get(json_object_array_get_idx(top, 1), "name")), "rolling_std_cpu");
	json_object *sig = get(o, "signals");
	assert_true(json_object_get_double(get(sig, "cpu_pct")) == 91.5);
	assert_true(json_object_get_double(get(sig, "cpu_psi_some_ms")) == 3.5);
	assert_true(json_object_get_boolean(get(o, "dry_run")));
	json_object_put(o);

	d.cpu_change = DECISION_NONE; /* an unchanged resource: "none", amount 0 */
	n = suggestions_format(&d, line, sizeof(line));
	o = json_tokener_parse(line);
	assert_string_equal(json_object_get_string(get(o, "cpu_action")), "none");
	assert_int_equal(json_object_get_int(get(o, "cpu_amount")), 0);
	json_object_put(o);

	assert_int_equal(suggestions_format(&d, line, 40), -1); /* too small: refused, not cut */
	assert_int_equal(suggestions_format(&d, NULL, 0), -1);
}

static size_t count_lines(const char *p)
{
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t n = 0;
	int c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_write_rotate_reopen(void **state)
{
	(void)state;
	char err[256];
	struct decision d = sample();
	char line[SUGGESTIONS_LINE_MAX];
	int len = suggestions_format(&d, line, sizeof(line));
	/* room for two lines per file */
	struct suggestions *s = suggestions_open(path, (uint64_t)len * 2, err, sizeof(err));
	assert_non_null(s);
	struct stat st;
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	for (int i = 0; i < 3; i++)
		assert_int_equal(suggestions_write(s, &d, err, sizeof(err)), 0);
	char old[400];
	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(count_lines(old), 2);
	assert_int_equal(count_lines(path), 1);

	unlink(path); /* removed from outside: the next line starts a new file */
	assert_int_equal(suggestions_write(s, &d, err, sizeof(err)), 0);
	assert_int_equal(count_lines(path), 1);
	suggestions_close(s);

	s = suggestions_open(path, 0, err, sizeof(err)); /* 0: never rotate; appends */
	for (int i = 0; i < 5; i++)
		assert_int_equal(suggestions_write(s, &d, err, sizeof(err)), 0);
	assert_int_equal(count_lines(path), 6);
	suggestions_close(s);
	suggestions_close(NULL);
}

/* What a restarted daemon reads back: the newest decisions, oldest first, as written (its
 * outcome too), lines that are not ours skipped; the last seq, also after a rotation. */
static void test_read_back(void **state)
{
	(void)state;
	char err[256];
	struct suggestions *s = suggestions_open(path, 0, err, sizeof(err));
	assert_non_null(s);
	struct decision d = sample();
	strcpy(d.outcome, "persist-only");
	d.applies_at_start = true;
	for (int i = 0; i < 3; i++) {
		d.seq = 40 + (uint64_t)i;
		d.time_ms = 1766583200628 + i * 1000;
		assert_int_equal(suggestions_write(s, &d, err, sizeof(err)), 0);
	}
	suggestions_close(s);
	FILE *f = fopen(path, "a");
	fputs("{\"not\":\"ours\"}\nnot json at all\n", f);
	fclose(f);
	struct decision out[2];
	assert_int_equal(suggestions_read_last(path, out, 2), 2);
	assert_int_equal(out[0].seq, 41);
	assert_int_equal(out[1].seq, 42);
	assert_int_equal(out[1].time_ms, 1766583202628);
	assert_int_equal(out[1].vmid, 104);
	assert_int_equal(out[1].cpu_change, DECISION_UP);
	assert_int_equal(out[1].mem_to_mb, 1536);
	assert_int_equal(out[1].reason, REASON_ANOMALY);
	assert_string_equal(out[1].outcome, "persist-only");
	assert_true(out[1].applies_at_start);
	assert_false(out[1].enforced);
	assert_string_equal(out[1].detail, d.detail);
	assert_int_equal(suggestions_last_seq(path), 42);
	char old[400];
	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(rename(path, old), 0); /* just rotated: the new file is not there yet */
	assert_int_equal(suggestions_last_seq(path), 42);
	unlink(old);
	assert_int_equal(suggestions_last_seq(path), 0);
	assert_int_equal(suggestions_read_last(path, out, 2), 0);
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[256];
	assert_null(suggestions_open("/proc/lxcscale-no/x.jsonl", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/lxcscale-no/x.jsonl"));
	assert_null(suggestions_open("", 0, err, sizeof(err)));
	assert_null(suggestions_open(dir, 0, err, sizeof(err))); /* a directory */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_write_rotate_reopen),
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

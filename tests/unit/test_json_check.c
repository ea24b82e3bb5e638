/*
 * test_json_check.c — the streaming JSON validator (user/base/json_check.c).
 *
 * Each case is checked fed at once and fed one byte at a time (the two must agree: the
 * validator resumes at any byte), and every value it accepts must also parse with json-c
 * (metrics_file_read reads what the history's loader accepted). The expected verdicts are
 * Python's json.loads's (the reference's tools read the file with it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_check.h"

/* 1: one whole value (and only whitespace after it), 0: not. */
static int check_whole(const char *s, size_t len, bool bytewise)
{
	struct json_check jc;
	json_check_init(&jc);
	size_t off = 0, used;
	enum json_check_result r = JSON_CHECK_MORE;
	while (off < len && r == JSON_CHECK_MORE) {
		size_t n = bytewise ? 1 : len - off;
		r = json_check_feed(&jc, s + off, n, &used);
		off += used;
	}
	if (r == JSON_CHECK_BAD)
		return 0;
	if (r == JSON_CHECK_MORE && json_check_end(&jc) != JSON_CHECK_DONE)
		return 0;
	for (; off < len; off++)
		if (!strchr(" \n\t\r", s[off]) || s[off] == '\0')
			return 0;
	return 1;
}

/* As an element of an array, where the history's cycles are (a bare number at the end of
 * the input is "continue" to json-c's incremental tokener). */
static bool json_c_accepts(const char *s, size_t len)
{
	char *wrapped = malloc(len + 2);
	assert_non_null(wrapped);
	wrapped[0] = '[';
	memcpy(wrapped + 1, s, len);
	wrapped[len + 1] = ']';
	json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, wrapped, (int)len + 2);
	free(wrapped);
	bool ok = json_tokener_get_error(tok) == json_tokener_success;
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

struct jcase {
	const char *text;
	int valid;   /* as Python's json.loads decides */
};

static const struct jcase cases[] = {
	{ "{}", 1 }, { "[]", 1 }, { "0", 1 }, { "-0", 1 }, { "12", 1 }, { "1.5", 1 }, { "-1.5e-07", 1 },
	{ "1E+5", 1 }, { "1e400", 1 }, { "99999999999999999999999", 1 }, { "\"\"", 1 },
	{ "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\uD800\"", 1 }, { "true", 1 }, { "false", 1 },
	{ "null", 1 }, { "NaN", 1 }, { "Infinity", 1 }, { "-Infinity", 1 },
	{ " {\"a\": [1, 2, {\"b\": null}], \"c\": \"d\"} ", 1 },
	{ "{\n    \"104\": {\n        \"x\": 0.1\n    }\n}", 1 }, { "[[[[[[[[[[]]]]]]]]]]", 1 },
	{ "\"\xc3\xa9\xff\"", 0 /* Python's loads of bytes refuses \xff: a str cannot hold it */ },
	{ "", 0 }, { "   ", 0 }, { "{", 0 }, { "[1,]", 0 }, { "{\"a\":1,}", 0 }, { "[1 2]", 0 },
	{ "{\"a\" 1}", 0 }, { "{a:1}", 0 }, { "'a'", 0 }, { "01", 0 }, { "1.", 0 }, { ".5", 0 },
	{ "+1", 0 }, { "-", 0 }, { "1e", 0 }, { "1e+", 0 }, { "0x10", 0 }, { "-NaN", 0 },
	{ "nan", 0 }, { "True", 0 }, { "tru", 0 }, { "nul", 0 }, { "\"a\x01\"", 0 }, { "\"\\x\"", 0 },
	{ "\"\\u12g4\"", 0 }, { "\"abc", 0 }, { "/*c*/1", 0 }, { "[1]]", 0 }, { "{}{}", 0 },
	{ "[\"a\"}", 0 }, { "{\"a\"]", 0 }, { "-Inf", 0 }, { "Infinit", 0 }, { "1 2", 0 },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = cases[i].text;
		size_t len = strlen(t);
		int whole = check_whole(t, len, false), bytewise = check_whole(t, len, true);
		if (whole != bytewise)
			fail_msg("\"%s\": %d fed at once, %d fed byte by byte", t, whole, bytewise);
		/* non-ASCII bytes are not checked as UTF-8 (json-c does not either): accepted */
		int want = cases[i].valid || (strchr(t, '\xff') != NULL);
		if (whole != want)
			fail_msg("\"%s\": %s, expected %s", t, whole ? "accepted" : "refused", want ? "accepted" : "refused");
		if (whole && !json_c_accepts(t, len))
			fail_msg("\"%s\": accepted here but json-c refuses it", t);
	}
}

static void test_depth_limit(void **state)
{
	(void)state;
	char buf[2 * (JSON_CHECK_MAX_DEPTH + 2)];
	for (int n = JSON_CHECK_MAX_DEPTH; n <= JSON_CHECK_MAX_DEPTH + 1; n++) {
		memset(buf, '[', (size_t)n);
		memset(buf + n, ']', (size_t)n);
		assert_int_equal(check_whole(buf, 2 * (size_t)n, false), n <= JSON_CHECK_MAX_DEPTH);
	}
	/* one level left for the history's array: json-c takes the limit inside an array, and
	 * refuses one more */
	int n = JSON_CHECK_MAX_DEPTH;
	memset(buf, '[', (size_t)n);
	memset(buf + n, ']', (size_t)n);
	assert_true(json_c_accepts(buf, 2 * (size_t)n));
	memset(buf, '[', (size_t)n + 1);
	memset(buf + n + 1, ']', (size_t)n + 1);
	assert_false(json_c_accepts(buf, 2 * (size_t)n + 2));
}

static void test_value_end_and_what_follows(void **state)
{
	(void)state;
	struct json_check jc;
	size_t used;
	/* an object ends at its '}': the ",\n" after it is left for the caller */
	json_check_init(&jc);
	assert_int_equal(json_check_feed(&jc, "{\"a\": 1},\n", 10, &used), JSON_CHECK_DONE);
	assert_int_equal(used, 8);
	/* a number ends before the first byte that cannot continue it */
	json_check_init(&jc);
	assert_int_equal(json_check_feed(&jc, "-12.5e3]", 8, &used), JSON_CHECK_DONE);
	assert_int_equal(used, 7);
	/* across calls: "12" then "3," */
	json_check_init(&jc);
	assert_int_equal(json_check_feed(&jc, "12", 2, &used), JSON_CHECK_MORE);
	assert_int_equal(json_check_feed(&jc, "3,", 2, &used), JSON_CHECK_DONE);
	assert_int_equal(used, 1);
	/* the offending byte's offset */
	json_check_init(&jc);
	assert_int_equal(json_check_feed(&jc, "{\"a\": tx}", 9, &used), JSON_CHECK_BAD);
	assert_int_equal(used, 7);
	json_check_init(&jc);
	assert_int_equal(json_check_feed(&jc, "{\"a\": \"\0\"}", 10, &used), JSON_CHECK_BAD);
	assert_int_equal(used, 7);
	/* cut off */
	json_check_init(&jc);
	assert_int_equal(json_check_feed(&jc, "{\"a\": [1", 8, &used), JSON_CHECK_MORE);
	assert_int_equal(json_check_end(&jc), JSON_CHECK_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_value_end_and_what_follows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_pve_config.c — the Proxmox config parsers (user/pve/ctconfig.c) on the text `pct
 * config` prints and the JSON the REST API answers, including what the fuzz target
 * (tests/fuzz/pve_config.c) and real configs throw at them: a description longer than the
 * line buffer, snapshot sections, values out of range or not numbers at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pve/ctconfig.h"

static void test_pct_text(void **state)
{
	(void)state;
	struct pve_limits l;
	assert_int_equal(pve_limits_from_pct_text("arch: amd64\ncores: 4\ncpulimit: 1.5\nhostname: web\n"
						  "memory: 2048\nswap: 512\n", &l), 0);
	assert_int_equal(l.cores, 4);
	assert_true(l.cpulimit == 1.5);
	assert_true(l.memory_mb == 2048);
	assert_true(pve_limits_cpu(&l) == 1.5);
	/* defaults: memory 512, no CPU limit */
	assert_int_equal(pve_limits_from_pct_text("hostname: tiny\n", &l), 0);
	assert_true(l.memory_mb == 512 && l.cores == 0 && pve_limits_cpu(&l) == 0);
	/* a snapshot section is not the current config */
	assert_int_equal(pve_limits_from_pct_text("cores: 2\nmemory: 1024\n\n[snap1]\ncores: 8\nmemory: 64\n", &l), 0);
	assert_true(l.cores == 2 && l.memory_mb == 1024);
}

/* A description of a few paragraphs is one long line in `pct config` output (URL-encoded
 * newlines); it must not make the whole config unreadable. */
static void test_pct_text_long_description(void **state)
{
	(void)state;
	size_t big = 8192;
	char *text = malloc(big + 128);
	assert_non_null(text);
	char *p = text + sprintf(text, "arch: amd64\ncores: 3\ndescription: ");
	for (size_t i = 0; i < big; i++)
		*p++ = "Shop%20frontend%0A"[i % 18];
	sprintf(p, "\nhostname: web\nmemory: 3072\n");
	struct pve_limits l;
	assert_int_equal(pve_limits_from_pct_text(text, &l), 0);
	assert_int_equal(l.cores, 3);
	assert_true(l.memory_mb == 3072);
	/* but a long line that claims to be one of ours is garbage, not skipped */
	p = text + sprintf(text, "cores: 2\nmemory: ");
	memset(p, '0', big);
	sprintf(p + big, "1024\n");
	assert_int_equal(pve_limits_from_pct_text(text, &l), -EBADMSG);
	free(text);
}

static void test_pct_text_garbage(void **state)
{
	(void)state;
	struct pve_limits l;
	static const char *const bad[] = {
		"cores: -1\n", "cores: 0\n", "cores: 9000\n", "cores: 2x\n", "cores: \n",
		"memory: 8\n", "memory: lots\n", "memory: 18446744073709551617\n",
		"cpulimit: nan\n", "cpulimit: -0.5\n", "cpulimit: 1e99\n", "", "no colon here\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pve_limits_from_pct_text(bad[i], &l) != -EBADMSG) {
			print_message("accepted: '%s'\n", bad[i]);
			fail();
		}
	}
}

static void test_json(void **state)
{
	(void)state;
	struct pve_limits l;
	assert_int_equal(pve_limits_from_json("{\"data\":{\"cores\":2,\"memory\":\"4096\",\"cpulimit\":0.5}}", &l), 0);
	assert_true(l.cores == 2 && l.memory_mb == 4096 && l.cpulimit == 0.5);
	assert_int_equal(pve_limits_from_json("{\"data\":{\"cores\":true}}", &l), -EBADMSG);
	assert_int_equal(pve_limits_from_json("{\"data\":{\"memory\":-5}}", &l), -EBADMSG);
	assert_int_equal(pve_limits_from_json("{\"data\":[]}", &l), -EBADMSG);
	assert_int_equal(pve_limits_from_json("not json", &l), -EBADMSG);
	assert_int_equal(pve_limits_from_json("{\"data\":{\"cpulimit\":1e300}}", &l), -EBADMSG);
}

/* Tags as Proxmox writes them (`tags: a;b`) and as people type them (commas, spaces, case). */
static void test_tags(void **state)
{
	(void)state;
	struct pve_limits l;
	assert_int_equal(pve_limits_from_pct_text("cores: 2\ntags: db;LXCScale-Ignore\n", &l), 0);
	assert_string_equal(l.tags, "db;LXCScale-Ignore");
	assert_true(pve_tags_has(l.tags, "lxcscale-ignore"));
	assert_true(pve_tags_has(l.tags, "db"));
	assert_false(pve_tags_has(l.tags, "d"));
	assert_false(pve_tags_has(l.tags, "lxcscale"));
	assert_false(pve_tags_has(l.tags, ""));
	assert_true(pve_tags_has(" a, b ;c", "b") && pve_tags_has(" a, b ;c", "c") && pve_tags_has(" a, b ;c", "a"));
	assert_false(pve_tags_has("", "a"));

	char tier[32];
	assert_true(pve_tags_suffix("web;lxcscale-tier-Gold", "lxcscale-tier-", tier, sizeof(tier)));
	assert_string_equal(tier, "Gold");
	assert_false(pve_tags_suffix("lxcscale-tier-", "lxcscale-tier-", tier, sizeof(tier))); /* no name */
	assert_false(pve_tags_suffix("web", "lxcscale-tier-", tier, sizeof(tier)));
	assert_false(pve_tags_suffix("web", "", tier, sizeof(tier)));
	/* a name longer than a tier name can be is not cut into another tier's name */
	assert_false(pve_tags_suffix("t-abcdefghij", "t-", tier, 8));
	/* the first tier tag wins */
	assert_true(pve_tags_suffix("t-a;t-b", "t-", tier, sizeof(tier)) && !strcmp(tier, "a"));

	assert_true(pve_tag_valid("lxcscale-ignore") && pve_tag_valid("_x+y.z"));
	assert_false(pve_tag_valid("-x") || pve_tag_valid("a b") || pve_tag_valid("") || pve_tag_valid("a;b"));

	/* the REST API's string; a non-string is dropped, not an error */
	assert_int_equal(pve_limits_from_json("{\"data\":{\"cores\":1,\"tags\":\"x;lxcscale-ignore\"}}", &l), 0);
	assert_true(pve_tags_has(l.tags, "lxcscale-ignore"));
	assert_int_equal(pve_limits_from_json("{\"data\":{\"cores\":1,\"tags\":7}}", &l), 0);
	assert_string_equal(l.tags, "");

	/* a list longer than kept is cut at a whole tag */
	char text[1100], json[1200];
	char *p = text + sprintf(text, "tags: ");
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "tag%02d;", i);
	sprintf(p, "\n");
	assert_int_equal(pve_limits_from_pct_text(text, &l), 0);
	size_t n = strlen(l.tags);
	assert_true(n > 400 && n < sizeof(l.tags));
	assert_true(pve_tags_has(l.tags, "tag00") && !pve_tags_has(l.tags, "tag99"));
	const char *last = strrchr(l.tags, ';') + 1; /* whole "tagNN" tokens only */
	assert_true(strlen(last) == 0 || strlen(last) == 5);
	snprintf(json, sizeof(json), "{\"data\":{\"tags\":\"%.*s\"}}", (int)(strlen(text) - 7), text + 6);
	assert_int_equal(pve_limits_from_json(json, &l), 0);
	assert_true(pve_tags_has(l.tags, "tag00") && !pve_tags_has(l.tags, "tag99"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_text),
		cmocka_unit_test(test_pct_text_long_description),
		cmocka_unit_test(test_pct_text_garbage),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

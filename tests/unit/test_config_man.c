/*
 * test_config_man.c — the lxcscale.yaml(5) manual page is generated from the schema
 * (lxcscaled --print-config-man, `make readme`): the checked-in man/lxcscale.yaml.5 must be
 * exactly what the generator prints now, every key must have an entry, and groff must
 * format it (and the hand-written lxcscaled.8 and lxcscale.1) without a warning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

static const char *top(void)
{
	const char *t = getenv("LXCSCALE_TOP");
	return t && *t ? t : ".";
}

static char *generated(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print_man(f);
	fclose(f);
	return buf;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_checked_in_page_matches_schema(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof(path), "%s/man/lxcscale.yaml.5", top());
	char *file = read_file(path);
	assert_non_null(file);
	char *gen = generated();
	if (strcmp(file, gen) != 0) {
		print_message("man/lxcscale.yaml.5 differs from the schema: run `make readme`\n");
		fail();
	}
	free(file);
	free(gen);
}

/* The key as roff writes it after ".B " ('-' as "\-"). */
static void roff_key(const char *key, char *out, size_t len)
{
	size_t o = 0;
	for (; *key && o + 3 < len; key++) {
		if (*key == '-')
			out[o++] = '\\';
		out[o++] = *key;
	}
	out[o] = '\0';
}

static void test_every_key_has_an_entry(void **state)
{
	(void)state;
	char *gen = generated();
	for (size_t i = 0; i < config_schema_len; i++) {
		char want[300], k[200];
		roff_key(config_schema[i].key, k, sizeof(k));
		snprintf(want, sizeof(want), ".TP\n.B %s%s\n", k, (config_schema[i].flags & CFG_F_PREFIX) ? ".*" : "");
		if (!strstr(gen, want)) {
			print_message("no entry for %s\n", config_schema[i].key);
			fail();
		}
	}
	/* no roff request is started by accident: every line starting with '.' is a known macro */
	static const char *const macros[] = { ".\\\"", ".TH ", ".SH ", ".SS ", ".TP", ".B ", ".I ", ".BR ", ".PP",
	                                      ".nf", ".fi", ".RS", ".RE" };
	for (char *line = gen; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (*line != '.')
			continue;
		bool known = false;
		for (size_t m = 0; m < sizeof(macros) / sizeof(macros[0]) && !known; m++)
			known = !strncmp(line, macros[m], strlen(macros[m]));
		if (!known) {
			print_message("unexpected roff request: %.40s\n", line);
			fail();
		}
	}
	free(gen);
}

static void test_groff_formats_it_cleanly(void **state)
{
	(void)state;
	if (access("/usr/bin/groff", X_OK) != 0) {
		skip();
		return;
	}
	/* the generated page and the two written by hand beside it */
	static const char *const pages[] = { "lxcscale.yaml.5", "lxcscaled.8", "lxcscale.1" };
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char cmd[1200];
		snprintf(cmd, sizeof(cmd),
		         "LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z '%s/man/%s' 2>&1 | grep . >&2; test $? -eq 1", top(),
		         pages[i]);
		if (system(cmd) != 0) {
			print_message("groff warns about man/%s\n", pages[i]);
			fail();
		}
	}
}

/* The hand-written pages name every flag and command the programs' own help lists. */
static void test_hand_written_pages_cover_the_help(void **state)
{
	(void)state;
	const char *b = getenv("BUILD");
	char build[512];
	snprintf(build, sizeof(build), "%s", b && *b ? b : "build");
	if (build[0] != '/') {
		char tmp[1024];
		snprintf(tmp, sizeof(tmp), "%s/%s", top(), build);
		snprintf(build, sizeof(build), "%.511s", tmp);
	}
	char cmd[4096];
	/* lxcscaled --help: each --flag must appear as \-\-flag in lxcscaled.8 */
	snprintf(cmd, sizeof(cmd),
	         "set -e; test -x '%s/lxcscaled'; for f in $('%s/lxcscaled' --help | grep -oE -- '--[a-z][a-z0-9_-]*' | sort -u); do "
	         "r=$(printf '%%s' \"$f\" | sed 's/-/\\\\-/g'); grep -qF -- \"$r\" '%s/man/lxcscaled.8' || "
	         "{ echo \"lxcscaled.8 does not mention $f\" >&2; exit 1; }; done",
	         build, build, top());
	assert_int_equal(system(cmd), 0);
	/* lxcscale help: each command must have an entry in lxcscale.1 */
	snprintf(cmd, sizeof(cmd),
	         "set -e; for c in $('%s/lxcscale' help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do "
	         "r=$(printf '%%s' \"$c\" | sed 's/-/\\\\-/g'); grep -qF -- \".B $r\" '%s/man/lxcscale.1' || "
	         "{ echo \"lxcscale.1 has no entry for $c\" >&2; exit 1; }; done",
	         build, top());
	assert_int_equal(system(cmd), 0);
	/* lxcscale <command> --help: each option is described in that command's entry */
	snprintf(cmd, sizeof(cmd), "bash '%s/tests/tools/man_covers_help.sh' '%s' '%s/man/lxcscale.1'", top(), build,
		 top());
	assert_int_equal(system(cmd), 0);
	/* lxcscale help: the descriptions form one column, however long the longest name */
	snprintf(cmd, sizeof(cmd),
	         "'%s/lxcscale' help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { "
	         "if (!match($0, /^  [a-z-]+  +/)) { print \"no gap after \" $1 > \"/dev/stderr\"; bad = 1 } "
	         "else if (col && RLENGTH != col) { print \"misaligned: \" $1 > \"/dev/stderr\"; bad = 1 } "
	         "else col = RLENGTH; n++ } END { exit bad || n < 2 }'",
	         build);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checked_in_page_matches_schema),
		cmocka_unit_test(test_every_key_has_an_entry),
		cmocka_unit_test(test_groff_formats_it_cleanly),
		cmocka_unit_test(test_hand_written_pages_cover_the_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

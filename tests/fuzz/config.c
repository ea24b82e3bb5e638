/*
 * config.c — libFuzzer target for the configuration loader (the .c files in user/config/).
 *
 * The input is YAML text, as an admin (or a hostile file) would write it: ours, the
 * reference ML file or the reference API file. It goes through config_load_string() and,
 * when that reports no error, config_finalize(). A configuration that loads and finalizes
 * cleanly is then printed (secrets included) and loaded back: the printed text must load
 * without errors and give the same configuration (config_diff() == 0), because
 * `lxcscaled --print-config > f; lxcscaled --config f` must mean the same thing.
 * Anything else than a clean error message (a crash, a sanitizer report, a round trip
 * that changes a value) is a finding.
 *
 * The two configurations are static and reset with config_defaults(): a fresh 220 KB
 * allocation per input made ASan map new pages every time, and page faults were most of
 * the time an input took.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static void show_diff(const char *key, const char *from, const char *to, void *arg)
{
	(void)arg;
	fprintf(stderr, "round trip changed %s: %s -> %s\n", key, from, to);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256 * 1024)
		return 0;
	static struct config_diag d; /* large: keep them off the stack */
	static struct lxcscale_config loaded, back;
	struct lxcscale_config *c = &loaded;
	config_defaults(c);
	config_diag_clear(&d);
	int rc = config_load_string(c, "fuzz.yaml", (const char *)data, size, &d);
	if (rc == 0 && d.errors == 0 && config_finalize(c, &d) == 0 && d.errors == 0) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (f) {
			config_print(c, f, CONFIG_PRINT_SECRETS);
			fclose(f);
			config_defaults(&back);
			config_diag_clear(&d);
			if (config_load_string(&back, "printed.yaml", text, len, &d) != 0 ||
			    config_finalize(&back, &d) != 0 || d.errors) {
				config_diag_print(&d, stderr);
				fprintf(stderr, "printed configuration:\n%s\n", text);
				abort();
			}
			if (config_diff(c, &back, show_diff, NULL) != 0) {
				fprintf(stderr, "printed configuration:\n%s\n", text);
				abort();
			}
			free(text);
		}
	}
	return 0;
}

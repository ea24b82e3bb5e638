/*
 * cli/cmd_migrate.c — `lxcscale migrate-config [FILE] [--api-config FILE|--no-api] [--output OUT [--force]]`.
 *
 * Reads LXC AutoScale ML's configuration (compat/migrate.c does the work) and writes lxcscale's.
 * Without --output the new YAML goes to stdout and the report to stderr, so
 * `lxcscale migrate-config > new.yaml` works; with --output the report goes to stdout.
 *
 * The output file is written the careful way: a temporary file in the same directory,
 * fsync, then rename, so an existing configuration is never left half written; it is
 * replaced only with --force, and it is created 0600 when it holds secret values.
 * Exit status: 0 written, 1 the old files have errors or the output cannot be written, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "compat/migrate.h"

#define API_FILE_NAME "lxc_autoscale_api.yaml"

static void migrate_usage(FILE *to)
{
	fprintf(to,
	        "usage: lxcscale migrate-config [FILE] [--api-config FILE | --no-api] [--output OUT [--force]]\n"
	        "Convert LXC AutoScale ML's configuration into lxcscale's and say what happened to each key.\n"
	        "\n"
	        "  FILE               the reference lxc_autoscale_ml.yaml (default %s)\n"
	        "  --api-config FILE  also read the reference API file (default: %s beside FILE, if present)\n"
	        "  --no-api           do not read the API file\n"
	        "  --output OUT       write the new configuration to OUT (default: stdout); the report goes\n"
	        "                     to stdout then, to stderr otherwise\n"
	        "  --force            replace OUT if it exists (e.g. the packaged %s)\n",
	        CONFIG_REFERENCE_PATH, API_FILE_NAME, CONFIG_DEFAULT_PATH);
}

/* FILE's directory + API_FILE_NAME when that exists, else NULL. Caller frees. */
static char *sibling_api_file(const char *ml_path)
{
	char *copy = strdup(ml_path);
	if (!copy)
		return NULL;
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dirname(copy), API_FILE_NAME) < 0)
		path = NULL;
	free(copy);
	if (path && access(path, R_OK) != 0) {
		free(path);
		path = NULL;
	}
	return path;
}

/* Write the YAML to out_path via a temporary file + rename. Returns 0 or -1 (message printed). */
static int write_output(const struct migrate *m, const char *out_path, bool force)
{
	struct stat st;
	if (!force && lstat(out_path, &st) == 0) {
		fprintf(stderr, "lxcscale: %s exists; add --force to replace it\n", out_path);
		return -1;
	}
	char *copy = strdup(out_path), *tmp = NULL;
	if (!copy || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(copy), basename((char *)out_path)) < 0) {
		free(copy);
		fprintf(stderr, "lxcscale: out of memory\n");
		return -1;
	}
	free(copy);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "lxcscale: cannot create a file beside %s: %s\n", out_path, strerror(errno));
		free(tmp);
		return -1;
	}
	int rc = fchmod(fd, m->has_secrets ? 0600 : 0644);
	FILE *f = rc == 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "lxcscale: %s: %s\n", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	migrate_print_yaml(m, f);
	rc = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0 ? 0 : -1;
	int e = errno;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, out_path) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		fprintf(stderr, "lxcscale: cannot write %s: %s\n", out_path, strerror(e));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

int cli_migrate_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "api-config", required_argument, NULL, 'a' },
		{ "no-api", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *api = NULL, *out = NULL;
	bool no_api = false, force = false;
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': api = optarg; break;
		case 'n': no_api = true; break;
		case 'o': out = optarg; break;
		case 'f': force = true; break;
		case 'h': migrate_usage(stdout); return 0;
		default:
			fprintf(stderr, "lxcscale migrate-config: unknown option or missing value: %s\n", argv[optind - 1]);
			migrate_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1 || (api && no_api)) {
		migrate_usage(stderr);
		return 2;
	}
	const char *ml = optind < argc ? argv[optind] : CONFIG_REFERENCE_PATH;
	char *found_api = NULL;
	if (!api && !no_api)
		api = found_api = sibling_api_file(ml);

	struct migrate *m = migrate_new();
	if (!m) {
		fprintf(stderr, "lxcscale: out of memory\n");
		free(found_api);
		return 1;
	}
	FILE *report = out ? stdout : stderr;
	int rc = 0;
	if (migrate_load(m, ml, api) != 0) {
		migrate_print_diag(m, stderr);
		fprintf(stderr, "lxcscale: %s%s%s has %d error%s; nothing written\n", ml, api ? " + " : "",
		        api ? api : "", m->diag.errors, m->diag.errors == 1 ? "" : "s");
		rc = 1;
		goto out;
	}
	fprintf(report, "migrating %s%s%s\n", ml, api ? " + " : "", api ? api : "");
	migrate_print_report(m, report);
	migrate_print_diag(m, report);
	if (out) {
		if (write_output(m, out, force) != 0) {
			rc = 1;
			goto out;
		}
		fprintf(report, "wrote %s%s; check it with: lxcscaled --check-config %s\n", out,
		        m->has_secrets ? " (mode 0600: it holds secrets)" : "", out);
	} else {
		migrate_print_yaml(m, stdout);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "lxcscale: cannot write to stdout: %s\n", strerror(errno));
			rc = 1;
		}
	}
out:
	migrate_free(m);
	free(found_api);
	return rc;
}

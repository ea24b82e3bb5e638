/*
 * cli/cmd_import.c — `lxcscale import-metrics FILE`: seed the model from the reference system's
 * metrics history (/var/log/lxc_metrics.json of LXC AutoScale ML).
 *
 * The file's records become feature vectors exactly as live samples do (compat/metrics_import.h),
 * a forest is trained on them with the configuration's model.* settings, and it is saved to
 * model_file (or --output). lxcscaled loads model_file at start and scores with it until
 * its own streaming model has warmed up, so a host switching from the reference system
 * starts with a model of its own containers' history instead of an empty one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/fsutil.h"
#include "cli/cli.h"
#include "compat/metrics_import.h"
#include "config/config.h"
#include "decide/params.h"
#include "iforest.h"

struct rows {
	double *x;
	size_t n, cap, dim;
};

static int collect(void *ctx, uint32_t vmid, const double *x, unsigned n)
{
	(void)vmid;
	struct rows *r = ctx;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		double *nx = realloc(r->x, cap * n * sizeof(double));
		if (!nx)
			return -3;
		r->x = nx;
		r->cap = cap;
	}
	memcpy(r->x + r->n * n, x, n * sizeof(double));
	r->n++;
	r->dim = n;
	return 0;
}

/* The reference's staleness check (max_metrics_age_seconds, 0: 3 x interval_seconds): it
 * would not act on such a file. Training on it is still what was asked, so only a warning. */
static void warn_if_stale(const struct lxcscale_config *c, const char *path, int64_t newest_ms)
{
	int64_t limit_s = c->max_metrics_age_seconds > 0 ? c->max_metrics_age_seconds : 3ll * c->interval_seconds;
	int64_t age_s = newest_ms > 0 ? ((int64_t)time(NULL) * 1000 - newest_ms) / 1000 : 0;
	if (newest_ms > 0 && age_s > limit_s)
		fprintf(stderr, "lxcscale: warning: %s: the newest record is %lld s old, older than "
			"max_metrics_age_seconds (%lld s): the model learns how the containers behaved then\n",
			path, (long long)age_s, (long long)limit_s);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: lxcscale import-metrics [--config FILE] [--output MODEL] METRICS_FILE\n"
		    "Trains the model on a reference-format metrics history (lxc_metrics.json) and saves it\n"
		    "to model_file (or MODEL); lxcscaled loads it at its next start. Warns when the newest\n"
		    "record is older than max_metrics_age_seconds.\n");
}

int cli_import_metrics(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *output = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'o': output = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];

	struct lxcscale_config *c = config_new();
	struct config_diag *d = calloc(1, sizeof(*d));
	if (!c || !d) {
		fprintf(stderr, "lxcscale: out of memory\n");
		return 1;
	}
	struct stat st;
	const char *cfgfile = config ? config : stat(CONFIG_DEFAULT_PATH, &st) == 0 ? CONFIG_DEFAULT_PATH
					    : stat(CONFIG_REFERENCE_PATH, &st) == 0 ? CONFIG_REFERENCE_PATH : NULL;
	if (cfgfile)
		config_load_file(c, cfgfile, d);
	int rc = 1;
	if (config_finalize(c, d) != 0) {
		config_diag_print(d, stderr);
		fprintf(stderr, "lxcscale: the configuration has errors\n");
		goto out;
	}
	char err[512];
	struct feat_select sel;
	if (features_select_from_config(c, &sel, err, sizeof(err)) != 0) {
		fprintf(stderr, "lxcscale: model.features: %s\n", err);
		goto out;
	}
	unsigned window = (unsigned)c->spike_detection.rolling_window;
	unsigned hist = (unsigned)c->history_length;
	struct rows rows = { 0 };
	struct metrics_import_stats ist;
	int irc = metrics_import(path, &sel, hist, window > hist ? hist : window, collect, &rows, &ist, err,
				 sizeof(err));
	if (irc != 0) {
		fprintf(stderr, "lxcscale: %s\n", irc == -3 ? "out of memory" : err);
		free(rows.x);
		goto out;
	}
	printf("%s: %zu snapshots, %zu records of %zu containers (%zu records and %zu snapshots skipped)\n",
	       path, ist.read.snapshots, ist.read.records, ist.containers, ist.read.skipped_records,
	       ist.read.skipped_snapshots);
	printf("feature vectors: %zu usable, %zu with an unknown selected feature (a container's first "
	       "record has no rates yet)\n", ist.vectors, ist.not_fed);
	warn_if_stale(c, path, ist.newest_ms);
	if (rows.n < 2) {
		fprintf(stderr, "lxcscale: too few usable rows to train a model\n");
		free(rows.x);
		goto out;
	}
	iforest_params p;
	iforest_params_init(&p);
	p.n_trees = c->model.n_estimators;
	p.max_samples = c->model.max_samples;
	p.contamination = c->model.contamination;
	p.seed = (uint64_t)c->model.random_state;
	iforest_model *m = NULL;
	int trc = iforest_train(rows.x, rows.n, rows.dim, &p, &m);
	free(rows.x);
	if (trc != IFOREST_OK) {
		fprintf(stderr, "lxcscale: training failed: %s\n", iforest_strerror(trc));
		goto out;
	}
	const char *out_path = output ? output : c->model_file;
	if (!out_path[0]) {
		fprintf(stderr, "lxcscale: no model_file configured and no --output given\n");
		iforest_model_free(m);
		goto out;
	}
	int src = fs_mkdir_parent(out_path) == 0 ? iforest_save(m, out_path) : IFOREST_E_IO;
	if (src != IFOREST_OK) {
		fprintf(stderr, "lxcscale: %s: %s\n", out_path, iforest_strerror(src));
		iforest_model_free(m);
		goto out;
	}
	iforest_info info;
	iforest_model_info(m, &info);
	printf("model: %d trees, %d features, %d samples per tree, trained on %zu rows; saved to %s\n"
	       "lxcscaled loads it at its next start\n",
	       info.n_trees, info.n_features, info.max_samples, rows.n, out_path);
	iforest_model_free(m);
	rc = 0;
out:
	config_free(c);
	free(d);
	return rc;
}

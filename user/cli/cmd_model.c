/*
 * cli/cmd_model.c — `lxcscale model eval`: validate the anomaly model on the admin's own data.
 *
 *   lxcscale model eval --input FILE.csv[.gz] [--label-column NAME] [--trees N]
 *                       [--max-samples N|auto|FRACTION] [--contamination X|auto] [--seed N]
 *
 * Reads a CSV (header row, numeric cells; gzip is detected), trains the same forest the
 * daemon uses on every column except the label column, scores every row and prints one JSON
 * object: rows, features, anomalies flagged, AUC when labelled, the most important features
 * and timings. The label column (given, or a column named "label") is never used for
 * training. Exit status: 0 done, 1 the input or training failed, 2 usage error.
 */
#include "cli/cli.h"
#include "iforest.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void usage(FILE *f)
{
	fputs("usage: lxcscale model eval --input FILE.csv[.gz] [--label-column NAME] [--trees N]\n"
	      "                           [--max-samples N|auto|FRACTION] [--contamination X|auto]\n"
	      "                           [--seed N]\n"
	      "  Trains the anomaly model on FILE (header row, numeric columns) and prints one JSON\n"
	      "  object: rows, features, anomalies flagged, auc (when a 0/1 label column exists:\n"
	      "  --label-column, default a column named \"label\"), top features and timings.\n"
	      "  Defaults: 100 trees, max-samples auto (min(256, rows)), contamination auto, seed 0.\n"
	      "usage: lxcscale model show [--url URL] [--api-key KEY] [--json]\n"
	      "  The running daemon's model, from its REST API: trees, window, features with their\n"
	      "  importances, and the last rebuild (lxcscale model show --help).\n",
	      f);
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* JSON string with every control character, quote and backslash escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* One evaluation: the options, the table, the training matrix and what came out. */
struct eval {
	const char *input, *label;
	iforest_params p;
	iforest_table t;
	size_t lc;                   /* the label column; t.cols when there is none */
	size_t d, n;                 /* feature columns, rows */
	double *X;                   /* n x d, the table without the label column */
	int *y;                      /* n labels, NULL without a label column */
	double *anom;                /* n anomaly scores, higher = more anomalous (for the AUC) */
	iforest_result *res;
	iforest_model *m;
	size_t flagged;
	double t_read, t_train, t_score;
};

/* One option and its value into ev. 0, or 1 for a bad value, 2 for an unknown option. */
static int set_option(struct eval *ev, const char *a, const char *v)
{
	iforest_params *p = &ev->p;
	uint64_t u;
	double d;
	if (!strcmp(a, "--input")) {
		ev->input = v;
	} else if (!strcmp(a, "--label-column")) {
		ev->label = v;
	} else if (!strcmp(a, "--trees")) {
		if (parse_u64(v, 1, IFOREST_MAX_TREES, &u))
			return 1;
		p->n_trees = (int)u;
	} else if (!strcmp(a, "--max-samples")) {
		if (!strcmp(v, "auto")) {
			p->max_samples = 0;
			p->max_samples_fraction = 0;
		} else if (strchr(v, '.')) {
			if (parse_double(v, &d) || !(d > 0 && d <= 1))
				return 1;
			p->max_samples_fraction = d;
		} else {
			if (parse_u64(v, 1, 1u << 30, &u))
				return 1;
			p->max_samples = (int)u;
		}
	} else if (!strcmp(a, "--contamination")) {
		if (!strcmp(v, "auto"))
			p->contamination = 0;
		else if (parse_double(v, &d) || !(d > 0 && d <= 0.5))
			return 1;
		else
			p->contamination = d;
	} else if (!strcmp(a, "--seed")) {
		if (parse_u64(v, 0, UINT64_MAX, &u))
			return 1;
		p->seed = u;
	} else {
		return 2;
	}
	return 0;
}

/* Returns -1 to go on, else the exit code: 0 after --help, 2 on a usage error (reported). */
static int parse_options(int argc, char **argv, struct eval *ev)
{
	iforest_params_init(&ev->p);
	for (int i = 0; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "lxcscale model eval: %s needs a value\n", a);
			return 2;
		}
		switch (set_option(ev, a, v)) {
		case 1:
			fprintf(stderr, "lxcscale model eval: invalid value for %s: \"%s\"\n", a, v);
			return 2;
		case 2:
			fprintf(stderr, "lxcscale model eval: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!ev->input) {
		fputs("lxcscale model eval: --input is required\n", stderr);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The label column and the feature count: 0, or -1 (reported). */
static int find_columns(struct eval *ev)
{
	const iforest_table *t = &ev->t;
	ev->lc = t->cols;
	for (size_t c = 0; c < t->cols; c++)
		if (!strcmp(t->names[c], ev->label ? ev->label : "label"))
			ev->lc = c;
	if (ev->label && ev->lc == t->cols) {
		fprintf(stderr, "lxcscale model eval: %s: no column named \"%s\"\n", ev->input, ev->label);
		return -1;
	}
	ev->d = t->cols - (ev->lc < t->cols);
	ev->n = t->rows;
	if (ev->d == 0 || ev->d > IFOREST_MAX_FEATURES) {
		fprintf(stderr, "lxcscale model eval: %s: %zu feature columns (1..%d supported)\n", ev->input,
		        ev->d, IFOREST_MAX_FEATURES);
		return -1;
	}
	return 0;
}

/* The table split into the training matrix X and the labels y (each 0 or 1). 0, or -1
 * (reported). */
static int split_columns(struct eval *ev)
{
	const iforest_table *t = &ev->t;
	size_t n = ev->n, d = ev->d, lc = ev->lc;
	ev->X = malloc(n * d * sizeof(double));
	ev->y = lc < t->cols ? malloc(n * sizeof(int)) : NULL;
	ev->anom = malloc(n * sizeof(double));
	ev->res = malloc(n * sizeof(*ev->res));
	if (!ev->X || !ev->anom || !ev->res || (lc < t->cols && !ev->y)) {
		fputs("lxcscale model eval: out of memory\n", stderr);
		return -1;
	}
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0, k = 0; c < t->cols; c++)
			if (c != lc)
				ev->X[r * d + k++] = t->data[r * t->cols + c];
		if (ev->y) {
			double v = t->data[r * t->cols + lc];
			if (v != 0 && v != 1) {
				fprintf(stderr, "lxcscale model eval: %s: row %zu: label %g is not 0 or 1\n", ev->input,
				        r + 1, v);
				return -1;
			}
			ev->y[r] = v != 0;
		}
	}
	return 0;
}

/* Trains on X, scores every row of X, counts the rows flagged. 0, or -1 (reported). */
static int train_and_score(struct eval *ev)
{
	double t1 = now_ms();
	int rc = iforest_train(ev->X, ev->n, ev->d, &ev->p, &ev->m);
	ev->t_train = now_ms() - t1;
	if (rc != IFOREST_OK) {
		fprintf(stderr, "lxcscale model eval: training failed: %s\n", iforest_strerror(rc));
		return -1;
	}
	double t2 = now_ms();
	rc = iforest_score_batch(ev->m, ev->X, ev->n, ev->d, ev->res);
	ev->t_score = now_ms() - t2;
	if (rc != IFOREST_OK) {
		fprintf(stderr, "lxcscale model eval: scoring failed: %s\n", iforest_strerror(rc));
		return -1;
	}
	ev->flagged = 0;
	for (size_t r = 0; r < ev->n; r++) {
		ev->flagged += ev->res[r].predict < 0;
		ev->anom[r] = -ev->res[r].score;
	}
	return 0;
}

/* The five most important features, most important first. */
static void print_top_features(const struct eval *ev)
{
	double imp[IFOREST_MAX_FEATURES];
	iforest_feature_importances(ev->m, imp, ev->d);
	int used[IFOREST_MAX_FEATURES] = {0};
	for (int k = 0; k < 5 && k < (int)ev->d; k++) {
		int best = -1;
		for (size_t f = 0; f < ev->d; f++)
			if (!used[f] && (best < 0 || imp[f] > imp[best]))
				best = (int)f;
		used[best] = 1;
		size_t col = (size_t)best + (ev->lc <= (size_t)best);   /* skip the label column */
		printf("%s{\"name\":", k ? "," : "");
		json_str(ev->t.names[col]);
		printf(",\"importance\":%.4f}", imp[best]);
	}
}

/* The report, one JSON object on stdout. The exit code: 1 when stdout cannot take it. */
static int print_report(const struct eval *ev)
{
	size_t n = ev->n;
	double auc = ev->y ? iforest_auc(ev->anom, ev->y, n) : NAN;
	iforest_info info;
	iforest_model_info(ev->m, &info);

	printf("{\"input\":");
	json_str(ev->input);
	printf(",\"rows\":%zu,\"features\":%zu,\"label_column\":", n, ev->d);
	if (ev->lc < ev->t.cols)
		json_str(ev->t.names[ev->lc]);
	else
		printf("null");
	printf(",\"trees\":%d,\"max_samples\":%d,\"contamination\":", info.n_trees, info.max_samples);
	if (ev->p.contamination > 0)
		printf("%.6g", ev->p.contamination);
	else
		printf("\"auto\"");
	printf(",\"seed\":%" PRIu64 ",\"offset\":%.9g,\"anomalies\":%zu,\"anomaly_rate\":%.6g",
	       ev->p.seed, info.offset, ev->flagged, (double)ev->flagged / (double)n);
	if (ev->y && !isnan(auc))
		printf(",\"auc\":%.6f", auc);
	else if (ev->y)
		printf(",\"auc\":null");
	printf(",\"top_features\":[");
	print_top_features(ev);
	printf("],\"kernel\":\"%s\",\"model_bytes\":%zu,\"timings_ms\":{\"read\":%.3f,\"train\":%.3f,"
	       "\"score\":%.3f,\"score_per_row_us\":%.4f}}\n",
	       iforest_kernel_name(), info.bytes, ev->t_read, ev->t_train, ev->t_score,
	       ev->t_score * 1e3 / (double)n);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int eval(int argc, char **argv)
{
	struct eval ev = { 0 };
	int rc = parse_options(argc, argv, &ev);
	if (rc >= 0)
		return rc;

	double t0 = now_ms();
	char err[256] = "";
	rc = iforest_table_read(ev.input, &ev.t, err, sizeof(err));
	if (rc != IFOREST_OK) {
		fprintf(stderr, "lxcscale model eval: %s: %s\n", ev.input, err[0] ? err : iforest_strerror(rc));
		return 1;
	}
	ev.t_read = now_ms() - t0;

	int status = 1;
	if (find_columns(&ev) == 0 && split_columns(&ev) == 0 && train_and_score(&ev) == 0)
		status = print_report(&ev);
	iforest_model_free(ev.m);
	free(ev.X);
	free(ev.y);
	free(ev.anom);
	free(ev.res);
	iforest_table_free(&ev.t);
	return status;
}

int cli_model(int argc, char **argv)
{
	/* argv[0] is "model" */
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "eval"))
		return eval(argc - 2, argv + 2);
	if (!strcmp(argv[1], "show")) /* the running daemon's model, over the API (cli/cmd_daemon.c) */
		return cli_model_show(argc - 1, argv + 1);
	fprintf(stderr, "lxcscale model: unknown command \"%s\" (try: lxcscale model eval --help, lxcscale model show)\n", argv[1]);
	return 2;
}

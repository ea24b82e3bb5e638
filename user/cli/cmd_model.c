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
	      "  Defaults: 100 trees, max-samples auto (min(256, rows)), contamination auto, seed 0.\n",
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

static int eval(int argc, char **argv)
{
	const char *input = NULL, *label = NULL;
	iforest_params p;
	iforest_params_init(&p);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t u;
		double d;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "lxcscale model eval: %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "--input")) {
			input = v;
		} else if (!strcmp(a, "--label-column")) {
			label = v;
		} else if (!strcmp(a, "--trees")) {
			if (parse_u64(v, 1, IFOREST_MAX_TREES, &u))
				goto bad;
			p.n_trees = (int)u;
		} else if (!strcmp(a, "--max-samples")) {
			if (!strcmp(v, "auto")) {
				p.max_samples = 0;
				p.max_samples_fraction = 0;
			} else if (strchr(v, '.')) {
				if (parse_double(v, &d) || !(d > 0 && d <= 1))
					goto bad;
				p.max_samples_fraction = d;
			} else {
				if (parse_u64(v, 1, 1u << 30, &u))
					goto bad;
				p.max_samples = (int)u;
			}
		} else if (!strcmp(a, "--contamination")) {
			if (!strcmp(v, "auto"))
				p.contamination = 0;
			else if (parse_double(v, &d) || !(d > 0 && d <= 0.5))
				goto bad;
			else
				p.contamination = d;
		} else if (!strcmp(a, "--seed")) {
			if (parse_u64(v, 0, UINT64_MAX, &u))
				goto bad;
			p.seed = u;
		} else {
			fprintf(stderr, "lxcscale model eval: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
		i++;
		continue;
bad:
		fprintf(stderr, "lxcscale model eval: invalid value for %s: \"%s\"\n", a, v);
		return 2;
	}
	if (!input) {
		fputs("lxcscale model eval: --input is required\n", stderr);
		usage(stderr);
		return 2;
	}

	double t0 = now_ms();
	iforest_table t;
	char err[256] = "";
	int rc = iforest_table_read(input, &t, err, sizeof(err));
	if (rc != IFOREST_OK) {
		fprintf(stderr, "lxcscale model eval: %s: %s\n", input, err[0] ? err : iforest_strerror(rc));
		return 1;
	}
	double t_read = now_ms() - t0;

	size_t lc = t.cols;
	for (size_t c = 0; c < t.cols; c++)
		if (!strcmp(t.names[c], label ? label : "label"))
			lc = c;
	if (label && lc == t.cols) {
		fprintf(stderr, "lxcscale model eval: %s: no column named \"%s\"\n", input, label);
		iforest_table_free(&t);
		return 1;
	}
	const size_t d = t.cols - (lc < t.cols), n = t.rows;
	if (d == 0 || d > IFOREST_MAX_FEATURES) {
		fprintf(stderr, "lxcscale model eval: %s: %zu feature columns (1..%d supported)\n", input, d,
		        IFOREST_MAX_FEATURES);
		iforest_table_free(&t);
		return 1;
	}
	double *X = malloc(n * d * sizeof(double));
	int *y = lc < t.cols ? malloc(n * sizeof(int)) : NULL;
	double *anom = malloc(n * sizeof(double));
	iforest_result *res = malloc(n * sizeof(*res));
	iforest_model *m = NULL;
	int status = 1;
	if (!X || !anom || !res || (lc < t.cols && !y)) {
		fputs("lxcscale model eval: out of memory\n", stderr);
		goto out;
	}
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0, k = 0; c < t.cols; c++)
			if (c != lc)
				X[r * d + k++] = t.data[r * t.cols + c];
		if (y) {
			double v = t.data[r * t.cols + lc];
			if (v != 0 && v != 1) {
				fprintf(stderr, "lxcscale model eval: %s: row %zu: label %g is not 0 or 1\n", input,
				        r + 1, v);
				goto out;
			}
			y[r] = v != 0;
		}
	}

	double t1 = now_ms();
	rc = iforest_train(X, n, d, &p, &m);
	double t_train = now_ms() - t1;
	if (rc != IFOREST_OK) {
		fprintf(stderr, "lxcscale model eval: training failed: %s\n", iforest_strerror(rc));
		goto out;
	}
	double t2 = now_ms();
	rc = iforest_score_batch(m, X, n, d, res);
	double t_score = now_ms() - t2;
	if (rc != IFOREST_OK) {
		fprintf(stderr, "lxcscale model eval: scoring failed: %s\n", iforest_strerror(rc));
		goto out;
	}
	size_t flagged = 0;
	for (size_t r = 0; r < n; r++) {
		flagged += res[r].predict < 0;
		anom[r] = -res[r].score;
	}
	double auc = y ? iforest_auc(anom, y, n) : NAN;
	iforest_info info;
	iforest_model_info(m, &info);
	double imp[IFOREST_MAX_FEATURES];
	iforest_feature_importances(m, imp, d);

	printf("{\"input\":");
	json_str(input);
	printf(",\"rows\":%zu,\"features\":%zu,\"label_column\":", n, d);
	if (lc < t.cols)
		json_str(t.names[lc]);
	else
		printf("null");
	printf(",\"trees\":%d,\"max_samples\":%d,\"contamination\":", info.n_trees, info.max_samples);
	if (p.contamination > 0)
		printf("%.6g", p.contamination);
	else
		printf("\"auto\"");
	printf(",\"seed\":%" PRIu64 ",\"offset\":%.9g,\"anomalies\":%zu,\"anomaly_rate\":%.6g",
	       p.seed, info.offset, flagged, (double)flagged / (double)n);
	if (y && !isnan(auc))
		printf(",\"auc\":%.6f", auc);
	else if (y)
		printf(",\"auc\":null");
	printf(",\"top_features\":[");
	int used[IFOREST_MAX_FEATURES] = {0};
	for (int k = 0; k < 5 && k < (int)d; k++) {
		int best = -1;
		for (size_t f = 0; f < d; f++)
			if (!used[f] && (best < 0 || imp[f] > imp[best]))
				best = (int)f;
		used[best] = 1;
		size_t col = (size_t)best + (lc <= (size_t)best);   /* skip the label column */
		printf("%s{\"name\":", k ? "," : "");
		json_str(t.names[col]);
		printf(",\"importance\":%.4f}", imp[best]);
	}
	printf("],\"kernel\":\"%s\",\"model_bytes\":%zu,\"timings_ms\":{\"read\":%.3f,\"train\":%.3f,"
	       "\"score\":%.3f,\"score_per_row_us\":%.4f}}\n",
	       iforest_kernel_name(), info.bytes, t_read, t_train, t_score, t_score * 1e3 / (double)n);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	iforest_model_free(m);
	free(X);
	free(y);
	free(anom);
	free(res);
	iforest_table_free(&t);
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

/*
 * test_iforest.c — the iforest library against scikit-learn and against itself.
 *
 * scikit-learn (Debian's python3-sklearn 1.2.1, via /usr/bin/python3 and
 * tests/iforest_export_sklearn.py) is run inside the test: its exported forest must score
 * 100 k rows within 1e-6 of sklearn, and natively trained forests must match its mean AUC on
 * every ADBench set in the shared data folder. The rest checks the library's own promises:
 * AVX2 == scalar, save/load round trips and refusals, determinism, input validation,
 * contamination and confidence semantics, explanations, and the streaming model (recovery
 * after a distribution shift, exclusion, concurrent readers during rebuilds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "iforest.h"
#include "iforest_int.h"   /* white-box: the numpy percentile and the AVX2 probe */

extern char **environ;

/* ---- helpers -------------------------------------------------------------------------- */

typedef struct { uint64_t s; } trng;

static double trng_u(trng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return (double)(r->s >> 11) * 0x1.0p-53;
}

static double trng_n(trng *r)
{
	double u1 = trng_u(r), u2 = trng_u(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* n rows of d N(0,1) features with column scales, first n/50 rows uniform outliers. */
static double *make_data(size_t n, size_t d, uint64_t seed, int **labels)
{
	trng r = {seed * 2654435761u + 88172645463325252ull};
	double *X = malloc(n * d * sizeof(double));
	int *y = calloc(n, sizeof(int));
	assert_non_null(X);
	assert_non_null(y);
	for (size_t i = 0; i < n; i++)
		for (size_t f = 0; f < d; f++) {
			double v = i < n / 50 ? (trng_u(&r) * 12 - 6) : trng_n(&r);
			X[i * d + f] = v * (1.0 + (double)f) + 10.0 * (double)f;
		}
	for (size_t i = 0; i < n / 50; i++)
		y[i] = 1;
	if (labels)
		*labels = y;
	else
		free(y);
	return X;
}

static const char *top_dir(void)
{
	const char *t = getenv("LXCSCALE_TOP");
	return t && *t ? t : ".";
}

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static char *shared_dir(void)
{
	const char *e = getenv("LXCSCALE_SHARED");
	if (e && *e)
		return strdup(e);
	char *p = path_join(top_dir(), "../shared/data/adbench");
	struct stat st;
	if (stat(p, &st) == 0) {
		free(p);
		return path_join(top_dir(), "../shared");
	}
	free(p);
	return strdup("/work/shared");
}

/* Run /usr/bin/python3 SCRIPT args... ; stdout collected into *out (malloc'ed). */
static int run_python(char **out, const char *a1, const char *a2, const char *a3)
{
	char *script = path_join(top_dir(), "tests/iforest_export_sklearn.py");
	char *argv[] = {"/usr/bin/python3", script, (char *)a1, (char *)a2, (char *)a3, NULL};
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		free(script);
		fail_msg("cannot run /usr/bin/python3 (%s): install python3-sklearn (tools/deps.sh)", strerror(rc));
	}
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1024 > cap)
			buf = realloc(buf, cap *= 2);
		ssize_t r = read(pfd[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	free(script);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(buf);
		fail_msg("%s %s failed (exit %d): scikit-learn reference unavailable — is python3-sklearn "
		         "installed? (tools/deps.sh)", argv[1], a1, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	if (out)
		*out = buf;
	else
		free(buf);
	return 0;
}

static void *read_file(const char *dir, const char *name, size_t want)
{
	char *p = path_join(dir, name);
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	void *b = malloc(want);
	assert_int_equal(fread(b, 1, want, f), want);
	fclose(f);
	free(p);
	return b;
}

static void rm_tree(const char *dir)
{
	const char *names[] = {"model.txt", "X.f64", "score.f64", "decision.f64", "meta.txt", "m.lxif",
	                       "m.lxif.tmp", "t.csv", "t.csv.gz"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = path_join(dir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

static iforest_model *train(const double *X, size_t n, size_t d, int trees, int psi, uint64_t seed)
{
	iforest_params p;
	iforest_params_init(&p);
	p.n_trees = trees;
	p.max_samples = psi;
	p.seed = seed;
	iforest_model *m = NULL;
	int rc = iforest_train(X, n, d, &p, &m);
	assert_int_equal(rc, IFOREST_OK);
	assert_non_null(m);
	return m;
}

/* ---- scikit-learn parity -------------------------------------------------------------- */

static void test_sklearn_import_parity(void **state)
{
	(void)state;
	char dir[] = "/tmp/iforest-parity-XXXXXX";
	assert_non_null(mkdtemp(dir));
	run_python(NULL, "parity", dir, NULL);

	char *mp = path_join(dir, "meta.txt");
	FILE *f = fopen(mp, "r");
	size_t rows = 0, feats = 0;
	double offset001 = 0;
	assert_int_equal(fscanf(f, "rows %zu features %zu offset001 %lf", &rows, &feats, &offset001), 3);
	fclose(f);
	free(mp);
	assert_int_equal(rows, 100000);

	double *X = read_file(dir, "X.f64", rows * feats * 8);
	double *S = read_file(dir, "score.f64", rows * 8);
	double *Dc = read_file(dir, "decision.f64", rows * 8);
	char *model_path = path_join(dir, "model.txt");
	iforest_model *m = NULL;
	int rc = iforest_import_sklearn(model_path, &m);
	assert_int_equal(rc, IFOREST_OK);

	double *a = malloc(rows * 8);
	iforest_result *res = malloc(rows * sizeof(iforest_result));
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, X, rows, feats, a), IFOREST_OK);
	double worst = 0;
	for (size_t i = 0; i < rows; i++)
		worst = fmax(worst, fabs(a[i] - S[i]));
	print_message("sklearn parity, scalar: max |d score_samples| = %.3g over %zu rows\n", worst, rows);
	assert_true(worst <= 1e-6);

	const struct { enum iforest_kernel k; const char *name; int have; } kern[] = {
		{IFOREST_KERNEL_AVX2, "avx2", if_have_avx2()},
	};
	for (size_t j = 0; j < 1; j++) {
		if (!kern[j].have) {
			print_message("sklearn parity, %s: not available on this CPU\n", kern[j].name);
			continue;
		}
		assert_int_equal(iforest_score_samples(m, kern[j].k, X, rows, feats, a), IFOREST_OK);
		worst = 0;
		for (size_t i = 0; i < rows; i++)
			worst = fmax(worst, fabs(a[i] - S[i]));
		print_message("sklearn parity, %s: max |d score_samples| = %.3g\n", kern[j].name, worst);
		assert_true(worst <= 1e-6);
	}

	assert_int_equal(iforest_score_batch(m, X, rows, feats, res), IFOREST_OK);
	size_t differ = 0, near = 0;
	for (size_t i = 0; i < rows; i++) {
		int sk = Dc[i] < 0 ? -1 : 1;
		assert_true(fabs(res[i].decision - Dc[i]) <= 1e-6);
		if (res[i].predict != sk) {
			if (fabs(Dc[i]) < 1e-6)
				near++;
			else
				differ++;
		}
	}
	print_message("predict: %zu differ (%zu within 1e-6 of the boundary)\n", differ + near, near);
	assert_int_equal(differ, 0);

	/* contamination=0.01: numpy's linear percentile over our own scores gives sklearn's offset_ */
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, X, rows, feats, a), IFOREST_OK);
	double off = if_percentile_linear(a, rows, 100.0 * 0.01);
	print_message("offset at contamination 0.01: ours %.12f sklearn %.12f\n", off, offset001);
	assert_true(fabs(off - offset001) <= 1e-9);

	/* the constant column (scale 1) is never split, and explanations add up */
	double imp[64];
	assert_int_equal(iforest_feature_importances(m, imp, feats), IFOREST_OK);
	assert_true(imp[feats / 2] == 0.0);
	iforest_contrib c[64];
	int k = iforest_explain(m, X, feats, c, 64);
	assert_true(k > 0);
	double sum = 0;
	for (int i = 0; i < k; i++)
		sum += c[i].share;
	assert_true(fabs(sum - 1) < 1e-9);

	iforest_model_free(m);
	free(model_path);
	free(X);
	free(S);
	free(Dc);
	free(a);
	free(res);
	rm_tree(dir);
}

static void test_sklearn_import_rejects_bad_text(void **state)
{
	(void)state;
	char dir[] = "/tmp/iforest-imp-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *p = path_join(dir, "model.txt");
	const char *bad[] = {
		"",
		"lxcscale-sklearn-iforest 2\n",
		"lxcscale-sklearn-iforest 1\nn_features 2\nn_estimators 1\nmax_samples 4\noffset -0.5\n"
		"contamination 0\nmean 0 0\nscale 1 1\ntree 3\n1 2 0 0.5 4\n-1 -1 -2 -2 2\n-1 -1 -2 -2 2\n",
		/* a cycle: node 1's left child is node 0 */
		"lxcscale-sklearn-iforest 1\nn_features 2\nn_estimators 1\nmax_samples 4\noffset -0.5\n"
		"contamination 0\nmean 0 0\nscale 1 1\ntree 3\n1 2 0 0.5 4\n0 2 1 0.5 2\n-1 -1 -2 -2 2\nend\n",
		/* feature out of range */
		"lxcscale-sklearn-iforest 1\nn_features 2\nn_estimators 1\nmax_samples 4\noffset -0.5\n"
		"contamination 0\nmean 0 0\nscale 1 1\ntree 3\n1 2 7 0.5 4\n-1 -1 -2 -2 2\n-1 -1 -2 -2 2\nend\n",
		/* zero scale */
		"lxcscale-sklearn-iforest 1\nn_features 2\nn_estimators 1\nmax_samples 4\noffset -0.5\n"
		"contamination 0\nmean 0 0\nscale 1 0\ntree 1\n-1 -1 -2 -2 4\nend\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(p, "w");
		fputs(bad[i], f);
		fclose(f);
		iforest_model *m = (iforest_model *)1;
		assert_int_equal(iforest_import_sklearn(p, &m), IFOREST_E_PARSE);
		assert_null(m);
	}
	FILE *f = fopen(p, "w");
	fputs("lxcscale-sklearn-iforest 1\nn_features 2\nn_estimators 1\nmax_samples 4\noffset -0.5\n"
	      "contamination 0\nmean 0 0\nscale 1 1\ntree 3\n1 2 1 0.5 4\n-1 -1 -2 -2 2\n-1 -1 -2 -2 2\nend\n", f);
	fclose(f);
	iforest_model *m = NULL;
	assert_int_equal(iforest_import_sklearn(p, &m), IFOREST_OK);
	double lo[2] = {0, 0.5}, hi[2] = {0, 0.6};
	double s1, s2;
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, lo, 1, 2, &s1), 0);
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, hi, 1, 2, &s2), 0);
	/* both leaves: depth 1 + c(2) = 2; c(4) = 2(ln 3 + g) - 1.5 */
	double c4 = 2 * (log(3.0) + 0.5772156649015329) - 1.5;
	assert_true(fabs(s1 + pow(2, -2 / c4)) < 1e-12);
	assert_true(fabs(s2 - s1) < 1e-15);
	iforest_model_free(m);
	assert_int_equal(iforest_import_sklearn("/nonexistent/x", &m), IFOREST_E_IO);
	unlink(p);
	free(p);
	rmdir(dir);
}

static void test_adbench_auc_vs_sklearn(void **state)
{
	(void)state;
	char *shared = shared_dir();
	char *data = path_join(shared, "data/adbench");
	char *out = NULL;
	struct stat st;
	if (stat(data, &st) != 0) { /* the shared data sets are not on this machine */
		print_message("skip: %s not found (set LXCSCALE_SHARED)\n", data);
		free(data);
		free(shared);
		skip();
	}
	run_python(&out, "auc", data, "5");
	int sets = 0;
	char *save = NULL;
	print_message("%-12s %8s %8s | %8s %8s | %s\n", "dataset", "sk mean", "sk sd", "ours", "ours sd", "bound");
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		double sk_mean, sk_sd;
		assert_int_equal(sscanf(line, "%63s %lf %lf", name, &sk_mean, &sk_sd), 3);
		char file[128];
		snprintf(file, sizeof(file), "%s.csv.gz", name);
		char *path = path_join(data, file);
		iforest_table t;
		char err[256] = "";
		int rc = iforest_table_read(path, &t, err, sizeof(err));
		if (rc != IFOREST_OK)
			fail_msg("%s: %s", path, err);
		size_t lc = t.cols;
		for (size_t c = 0; c < t.cols; c++)
			if (!strcmp(t.names[c], "label"))
				lc = c;
		assert_true(lc < t.cols);
		size_t d = t.cols - 1, n = t.rows;
		double *X = malloc(n * d * sizeof(double));
		int *y = malloc(n * sizeof(int));
		for (size_t r = 0; r < n; r++) {
			for (size_t c = 0, k = 0; c < t.cols; c++)
				if (c != lc)
					X[r * d + k++] = t.data[r * t.cols + c];
			y[r] = t.data[r * t.cols + lc] != 0;
		}
		double *s = malloc(n * sizeof(double)), aucs[5], mean = 0, sd = 0;
		for (int seed = 0; seed < 5; seed++) {
			iforest_model *m = train(X, n, d, 100, 256, (uint64_t)seed);
			assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AUTO, X, n, d, s), IFOREST_OK);
			for (size_t r = 0; r < n; r++)
				s[r] = -s[r];
			aucs[seed] = iforest_auc(s, y, n);
			mean += aucs[seed] / 5;
			iforest_model_free(m);
		}
		for (int i = 0; i < 5; i++)
			sd += (aucs[i] - mean) * (aucs[i] - mean) / 5;
		sd = sqrt(sd);
		double bound = fmax(0.01, 2 * sk_sd);
		print_message("%-12s %8.4f %8.4f | %8.4f %8.4f | %.4f %s\n", name, sk_mean, sk_sd, mean, sd,
		              bound, fabs(mean - sk_mean) <= bound ? "ok" : "FAIL");
		assert_true(fabs(mean - sk_mean) <= bound);
		sets++;
		free(X);
		free(y);
		free(s);
		free(path);
		iforest_table_free(&t);
	}
	assert_true(sets >= 6);
	free(out);
	free(data);
	free(shared);
}

/* ---- kernels, determinism, save/load -------------------------------------------------- */

static void test_avx2_equals_scalar(void **state)
{
	(void)state;
	if (!if_have_avx2())
		skip();
	/* feature counts around the 32 boundary and at the limit, odd tree counts, deep trees */
	const struct { size_t d; int trees, psi; } cases[] = {
		{26, 100, 256}, {36, 13, 256}, {64, 9, 128}, {5, 20, 1024}, {3, 1, 2}, {17, 24, 64},
		{33, 8, 256}, {48, 17, 512},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t n = 3000, d = cases[c].d;
		double *X = make_data(n, d, 7 + c, NULL);
		iforest_model *m = train(X, n, d, cases[c].trees, cases[c].psi, 3);
		double *a = malloc(n * 8), *b = malloc(n * 8);
		assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, X, n, d, a), 0);
		assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX2, X, n, d, b), 0);
		double worst = 0;
		for (size_t i = 0; i < n; i++)
			worst = fmax(worst, fabs(a[i] - b[i]));
		print_message("d=%zu trees=%d psi=%d: max |avx2 - scalar| = %.3g\n", d, cases[c].trees,
		              cases[c].psi, worst);
		assert_true(worst <= 1e-6);
		/* natively trained = packed: the packed layout's own scalar walk agrees with the
		 * preorder walk, and the batch kernel (8 rows per vector, a tail block of 56 rows)
		 * gives bit-identical scores to the single-sample AVX2 kernel */
		iforest_info info;
		iforest_model_info(m, &info);
		assert_int_equal(info.packed_layout, 1);
		double *e = malloc(n * 8), pw = 0;
		assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX2_BATCH, X, n, d, e), 0);
		assert_memory_equal(b, e, n * 8);
		for (size_t i = 0; i < n; i++) {
			float z[IFOREST_MAX_FEATURES];
			if_standardize(m, X + i * d, z);
			pw = fmax(pw, fabs(if_score_from_sum(m, if_path_sum_packed_scalar(m, z)) - a[i]));
		}
		print_message("   packed scalar walk vs preorder walk: %.3g; batch == single AVX2\n", pw);
		assert_true(pw <= 1e-6);
		/* the AVX-512VL lookups walk the same slots and sum in the same order */
		if (if_have_avx512vl()) {
			assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX512VL, X, n, d, e), 0);
			assert_memory_equal(b, e, n * 8);
		} else {
			assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX512VL, X, 1, d, e),
			                 IFOREST_E_UNSUPPORTED);
		}
		free(e);
		iforest_model_free(m);
		free(X);
		free(a);
		free(b);
	}
}

/* The zmm-lookup kernel (picked on AMD) and the batch API's per-block path (kernel chosen
 * once, confidences searched four rows at a time, the next block prefetched) give exactly
 * what the single-sample kernels and iforest_score give, row by row: every output bit. */
static void test_zmm_kernel_and_batch_equal_single(void **state)
{
	(void)state;
	if (!if_have_avx2())
		skip();
	/* 1, 2, 4 and 8 z registers; row counts with a short last block and a tail of 1-3 rows
	 * after the groups of four; trees deep enough for the permuted level 3 and shallower */
	const struct { size_t d, n; int trees, psi; } cases[] = {
		{26, 1000, 100, 256}, {7, 67, 20, 64}, {16, 130, 9, 128}, {48, 193, 17, 512},
		{33, 1, 8, 256}, {64, 66, 13, 256},
		{5, 70, 11, 8}, {9, 35, 10, 16}, {3, 9, 4, 2},   /* depth 3, 4 (level 3 is a leaf), 1 */
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const size_t n = cases[c].n, d = cases[c].d;
		double *X = make_data(2000, d, 40 + c, NULL);   /* trained on 2000, n of them scored */
		iforest_model *m = train(X, 2000, d, cases[c].trees, cases[c].psi, 5);
		iforest_result *batch = malloc(n * sizeof(*batch));
		assert_int_equal(iforest_score_batch(m, X, n, d, batch), IFOREST_OK);
		for (size_t i = 0; i < n; i++) {
			iforest_result one;
			assert_int_equal(iforest_score(m, X + i * d, d, &one), IFOREST_OK);
			assert_memory_equal(&one.score, &batch[i].score, sizeof(double));
			assert_memory_equal(&one.decision, &batch[i].decision, sizeof(double));
			assert_memory_equal(&one.confidence, &batch[i].confidence, sizeof(double));
			assert_int_equal(one.predict, batch[i].predict);
			float z[IFOREST_MAX_FEATURES];
			if_standardize(m, X + i * d, z);
			double s2 = if_path_sum_packed_avx2(m, z);
			if (if_have_avx512vl()) {
				double vl = if_path_sum_packed_avx512vl(m, z), zmm = if_path_sum_packed_avx512(m, z);
				assert_memory_equal(&s2, &vl, sizeof(double));
				assert_memory_equal(&s2, &zmm, sizeof(double));
			}
			double best = if_path_sum_best(m, z);
			assert_memory_equal(&s2, &best, sizeof(double));
		}
		free(batch);
		iforest_model_free(m);
		free(X);
	}
	print_message("kernel in use: %s\n", iforest_kernel_name());
}

/* The packed threshold: nearest float in [lo, hi) whose low bits spell the feature. */
static void test_pack_threshold(void **state)
{
	(void)state;
	float out;
	const struct { float thr, lo, hi; int f, bits; } ok[] = {
		{0.3f, -1.0f, 1.0f, 5, 5}, {-0.7f, -1.0f, 1.0f, 35, 6}, {0.0f, -1.0f, 1.0f, 0, 6},
		{-1.0f, -1.0f, -0.5f, 63, 6}, {1e-30f, -1e-3f, 1e-3f, 17, 5}, {5.0f, 1.0f, 100.0f, 0, 0},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(if_pack_threshold(ok[i].thr, ok[i].lo, ok[i].hi, ok[i].f, ok[i].bits, &out), -1);
		assert_true(out >= ok[i].lo && out < ok[i].hi);
		assert_int_equal(if_f32_bits(out) & ((1u << ok[i].bits) - 1), (uint32_t)ok[i].f);
		/* within 2^bits ulp of the drawn threshold */
		float up = ok[i].thr, dn = ok[i].thr;
		for (int k = 0; k < (1 << ok[i].bits); k++) {
			up = nextafterf(up, INFINITY);
			dn = nextafterf(dn, -INFINITY);
		}
		if (fabsf(ok[i].thr) > 1e-20f)
			assert_true(out >= dn && out <= up);
	}
	/* a range of 3 floats cannot hold low bits 40 of 6: no packed value */
	float lo = 1.0f, hi = nextafterf(nextafterf(nextafterf(lo, 2), 2), 2);
	assert_int_equal(if_pack_threshold(lo, lo, hi, 40, 6, &out), 0);
	/* the result is never +-inf or NaN, even at the top of the float range */
	assert_int_equal(if_pack_threshold(FLT_MAX, FLT_MAX / 2, FLT_MAX, 3, 6, &out), -1);
	assert_true(isfinite(out) && out < FLT_MAX);
}

static void test_deep_model_falls_back_to_scalar(void **state)
{
	(void)state;
	size_t n = 3000, d = 4;
	double *X = make_data(n, d, 31, NULL);
	iforest_model *m = train(X, n, d, 10, 2048, 1);
	iforest_info info;
	iforest_model_info(m, &info);
	assert_int_equal(info.max_depth, 11);
	assert_int_equal(info.simd_layout, 0);
	double a[4], b[4];
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX2, X, 4, d, a), IFOREST_E_UNSUPPORTED);
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX2_BATCH, X, 4, d, a), IFOREST_E_UNSUPPORTED);
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AVX512VL, X, 4, d, a), IFOREST_E_UNSUPPORTED);
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AUTO, X, 4, d, a), 0);
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, X, 4, d, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	iforest_model_free(m);
	free(X);
}

static void test_save_load_identical(void **state)
{
	(void)state;
	char dir[] = "/tmp/iforest-io-XXXXXX";
	assert_non_null(mkdtemp(dir));
	size_t n = 5000, d = 26;
	double *X = make_data(n, d, 11, NULL);
	iforest_params p;
	iforest_params_init(&p);
	p.contamination = 0.05;
	p.seed = 9;
	iforest_model *m;
	assert_int_equal(iforest_train(X, n, d, &p, &m), 0);
	char *path = path_join(dir, "m.lxif");
	assert_int_equal(iforest_save(m, path), IFOREST_OK);
	iforest_model *l = NULL;
	assert_int_equal(iforest_load(path, &l), IFOREST_OK);
	iforest_result *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	assert_int_equal(iforest_score_batch(m, X, n, d, a), 0);
	assert_int_equal(iforest_score_batch(l, X, n, d, b), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(a[i].score == b[i].score && a[i].decision == b[i].decision &&
		            a[i].predict == b[i].predict && a[i].confidence == b[i].confidence);
	iforest_info ia, ib;
	iforest_model_info(m, &ia);
	iforest_model_info(l, &ib);
	assert_true(ia.offset == ib.offset && ia.n_nodes == ib.n_nodes && ia.max_samples == ib.max_samples &&
	            ia.confidence_rows == ib.confidence_rows && ib.contamination == 0.05);
	void *b1, *b2;
	size_t l1, l2;
	assert_int_equal(iforest_save_buffer(m, &b1, &l1), 0);
	assert_int_equal(iforest_save_buffer(l, &b2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);  /* a loaded model saves to the same bytes */
	print_message("model file: %zu bytes (%zu nodes)\n", l1, ia.n_nodes);
	free(b1);
	free(b2);
	iforest_model_free(m);
	iforest_model_free(l);
	free(a);
	free(b);
	free(X);
	free(path);
	rm_tree(dir);
}

static void test_same_seed_same_bytes(void **state)
{
	(void)state;
	size_t n = 4000, d = 10;
	double *X = make_data(n, d, 5, NULL);
	iforest_model *a = train(X, n, d, 50, 256, 42), *b = train(X, n, d, 50, 256, 42);
	iforest_model *c = train(X, n, d, 50, 256, 43);
	void *ba, *bb, *bc;
	size_t la, lb, lc;
	assert_int_equal(iforest_save_buffer(a, &ba, &la), 0);
	assert_int_equal(iforest_save_buffer(b, &bb, &lb), 0);
	assert_int_equal(iforest_save_buffer(c, &bc, &lc), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	assert_true(la != lc || memcmp(ba, bc, la) != 0);
	/* float input trains the same forest as the same values in double */
	float *Xf = malloc(n * d * sizeof(float));
	double *Xd = malloc(n * d * sizeof(double));
	for (size_t i = 0; i < n * d; i++) {
		Xf[i] = (float)X[i];
		Xd[i] = Xf[i];
	}
	iforest_params p;
	iforest_params_init(&p);
	p.n_trees = 50;
	p.seed = 42;
	iforest_model *e, *f;
	assert_int_equal(iforest_train_f32(Xf, n, d, &p, &e), 0);
	assert_int_equal(iforest_train(Xd, n, d, &p, &f), 0);
	void *be, *bf;
	size_t le, lf;
	assert_int_equal(iforest_save_buffer(e, &be, &le), 0);
	assert_int_equal(iforest_save_buffer(f, &bf, &lf), 0);
	assert_int_equal(le, lf);
	assert_memory_equal(be, bf, le);
	free(be);
	free(bf);
	free(Xf);
	free(Xd);
	iforest_model_free(e);
	iforest_model_free(f);
	free(ba);
	free(bb);
	free(bc);
	iforest_model_free(a);
	iforest_model_free(b);
	iforest_model_free(c);
	free(X);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Re-pack a modified payload into a file with a valid header and checksum. */
static unsigned char *repack_as(const unsigned char *raw, size_t raw_len, size_t *len,
                                uint32_t version, uint32_t flags)
{
	uLongf cl = compressBound(raw_len);
	unsigned char *out = malloc(32 + cl);
	assert_int_equal(compress2(out + 32, &cl, raw, raw_len, 6), Z_OK);
	memcpy(out, "LXIF", 4);
	put32(out + 4, version);
	put32(out + 8, flags);
	put32(out + 12, 0);
	put64(out + 16, raw_len);
	put64(out + 24, cl);
	uLong crc = crc32(crc32(0, Z_NULL, 0), out, 32);
	crc = crc32(crc, out + 32, (uInt)cl);
	put32(out + 12, (uint32_t)crc);
	*len = 32 + cl;
	return out;
}

/* the current format: version 2, natively trained models are packed (flag bit 0) */
static unsigned char *repack(const unsigned char *raw, size_t raw_len, size_t *len)
{
	return repack_as(raw, raw_len, len, 2, 1);
}

static void expect_load(const void *buf, size_t len, int want)
{
	iforest_model *m = (iforest_model *)1;
	int rc = iforest_load_buffer(buf, len, &m);
	if (rc != want)
		fail_msg("load: got %d (%s), want %d (%s)", rc, iforest_strerror(rc), want, iforest_strerror(want));
	assert_null(m);
}

static void test_corrupt_files_rejected(void **state)
{
	(void)state;
	size_t n = 2000, d = 6;
	double *X = make_data(n, d, 13, NULL);
	iforest_model *m = train(X, n, d, 20, 128, 1);
	unsigned char *buf;
	size_t len;
	assert_int_equal(iforest_save_buffer(m, (void **)&buf, &len), 0);
	unsigned char *c = malloc(len + 1);

	/* truncated anywhere */
	const size_t cuts[] = {0, 3, 4, 20, 31, 32, 33, len / 2, len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_load(buf, cuts[i], IFOREST_E_TRUNCATED);
	/* wrong magic, wrong version */
	memcpy(c, buf, len);
	c[0] = 'X';
	expect_load(c, len, IFOREST_E_MAGIC);
	memcpy(c, buf, len);
	put32(c + 4, 3);
	expect_load(c, len, IFOREST_E_VERSION);
	memcpy(c, buf, len);
	put32(c + 4, 0);
	expect_load(c, len, IFOREST_E_VERSION);
	/* any flipped bit of the payload or of the header's sizes/crc: checksum */
	for (size_t pos = 8; pos < len; pos += (pos < 64 ? 1 : 97)) {
		memcpy(c, buf, len);
		c[pos] ^= 0x10;
		iforest_model *l = NULL;
		int rc = iforest_load_buffer(c, len, &l);
		assert_true(rc == IFOREST_E_CHECKSUM || rc == IFOREST_E_TRUNCATED || rc == IFOREST_E_CORRUPT);
		assert_null(l);
	}
	memcpy(c, buf, len);
	c[len - 5] ^= 0x01;
	expect_load(c, len, IFOREST_E_CHECKSUM);
	/* trailing garbage */
	memcpy(c, buf, len);
	c[len] = 0;
	expect_load(c, len + 1, IFOREST_E_CORRUPT);

	/* valid checksum, inconsistent content: each is CORRUPT */
	uLongf raw_len = 0;
	for (int i = 0; i < 8; i++)
		raw_len |= (uLongf)buf[16 + i] << (8 * i);
	unsigned char *raw = malloc(raw_len), *mod = malloc(raw_len + 8);
	uLongf got = raw_len;
	assert_int_equal(uncompress(raw, &got, buf + 32, len - 32), Z_OK);
	size_t hdr = 16 + 8 * 4 + 16 * d;              /* counts, params, scaler */
	size_t conf_n = 0;
	memcpy(&conf_n, raw + hdr, 8);
	size_t tree0 = hdr + 8 + 8 * conf_n;            /* first tree: u32 count, then nodes */
	struct { size_t off; uint32_t val; size_t width; const char *what; } edits[] = {
		{0, 0, 4, "zero features"},
		{0, 65, 4, "too many features"},
		{12, 3, 4, "depth does not match psi"},
		{tree0, 0, 4, "empty tree"},
		{tree0 + 4 + 4, 0x7fffffff, 4, "right child out of range"},
		{tree0 + 4 + 8, 60, 2, "feature out of range"},
		{tree0 + 4 + 10, 5, 4, "root count does not add up"},
		{tree0 + 4 + 8, 0, 2, "root feature not the one its packed threshold spells"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		memcpy(mod, raw, raw_len);
		for (size_t b = 0; b < edits[i].width; b++)
			mod[edits[i].off + b] = (unsigned char)(edits[i].val >> (8 * b));
		size_t l2;
		unsigned char *f = repack(mod, raw_len, &l2);
		iforest_model *l = NULL;
		int rc = iforest_load_buffer(f, l2, &l);
		if (rc != IFOREST_E_CORRUPT)
			fail_msg("%s: got %d (%s)", edits[i].what, rc, iforest_strerror(rc));
		free(f);
	}
	/* extra payload bytes behind valid content */
	memcpy(mod, raw, raw_len);
	memset(mod + raw_len, 0, 8);
	size_t l3;
	unsigned char *f3 = repack(mod, raw_len + 8, &l3);
	expect_load(f3, l3, IFOREST_E_CORRUPT);
	free(f3);
	/* the unmodified payload repacks to a loadable model (the edits above were the cause) */
	f3 = repack(raw, raw_len, &l3);
	iforest_model *ok = NULL;
	assert_int_equal(iforest_load_buffer(f3, l3, &ok), IFOREST_OK);
	iforest_model_free(ok);
	free(f3);
	/* unknown flag bits, and the packed flag in a version 1 file: CORRUPT */
	f3 = repack_as(raw, raw_len, &l3, 2, 3);
	expect_load(f3, l3, IFOREST_E_CORRUPT);
	free(f3);
	f3 = repack_as(raw, raw_len, &l3, 1, 1);
	expect_load(f3, l3, IFOREST_E_CORRUPT);
	free(f3);
	/* a version 1 file (same payload, flags 0: written before the packed layout) loads as an
	 * exact-layout model that walks the same nodes: identical scalar scores, AVX2 within 1e-6 */
	f3 = repack_as(raw, raw_len, &l3, 1, 0);
	assert_int_equal(iforest_load_buffer(f3, l3, &ok), IFOREST_OK);
	{
		iforest_info oi, mi;
		iforest_model_info(ok, &oi);
		iforest_model_info(m, &mi);
		assert_int_equal(oi.packed_layout, 0);
		assert_int_equal(mi.packed_layout, 1);
		double s1[64], s2[64];
		assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_SCALAR, X, 64, d, s1), 0);
		assert_int_equal(iforest_score_samples(ok, IFOREST_KERNEL_SCALAR, X, 64, d, s2), 0);
		assert_memory_equal(s1, s2, sizeof(s1));
		assert_int_equal(iforest_score_samples(ok, IFOREST_KERNEL_AUTO, X, 64, d, s2), 0);
		for (int i = 0; i < 64; i++)
			assert_true(fabs(s1[i] - s2[i]) <= 1e-6);
	}
	iforest_model_free(ok);
	free(f3);

	/* files: missing, directory, and a truncated file on disk */
	iforest_model *l = NULL;
	assert_int_equal(iforest_load("/nonexistent/model", &l), IFOREST_E_IO);
	assert_int_equal(iforest_load("/tmp", &l), IFOREST_E_IO);
	char dir[] = "/tmp/iforest-bad-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = path_join(dir, "m.lxif");
	FILE *fp = fopen(path, "wb");
	fwrite(buf, 1, len - 10, fp);
	fclose(fp);
	assert_int_equal(iforest_load(path, &l), IFOREST_E_TRUNCATED);
	assert_int_equal(iforest_save(m, "/nonexistent/dir/m"), IFOREST_E_IO);

	/* every code has its own message */
	for (int a = 0; a >= IFOREST_E_UNSUPPORTED; a--)
		for (int b = a - 1; b >= IFOREST_E_UNSUPPORTED; b--)
			assert_string_not_equal(iforest_strerror(a), iforest_strerror(b));
	assert_string_equal(iforest_strerror(12345), "unknown error");

	free(path);
	rm_tree(dir);
	free(raw);
	free(mod);
	free(c);
	free(buf);
	iforest_model_free(m);
	free(X);
}

/* ---- input validation and semantics --------------------------------------------------- */

static void test_bad_input(void **state)
{
	(void)state;
	size_t n = 500, d = 4;
	double *X = make_data(n, d, 17, NULL);
	iforest_model *m = train(X, n, d, 10, 64, 0);
	iforest_result r;
	iforest_contrib c[4];
	double x[5] = {1, 2, 3, 4, 5};
	const double bad[] = {NAN, INFINITY, -INFINITY};
	for (size_t i = 0; i < 3; i++) {
		double y[4] = {1, 2, 3, 4};
		y[2] = bad[i];
		r.score = 12345;
		assert_int_equal(iforest_score(m, y, 4, &r), IFOREST_E_NONFINITE);
		assert_true(r.score == 12345);
		assert_int_equal(iforest_explain(m, y, 4, c, 4), IFOREST_E_NONFINITE);
		double *Xb = malloc(n * d * sizeof(double));
		memcpy(Xb, X, n * d * sizeof(double));
		Xb[(n - 1) * d + 1] = bad[i];
		iforest_result *out = calloc(n, sizeof(*out));
		assert_int_equal(iforest_score_batch(m, Xb, n, d, out), IFOREST_E_NONFINITE);
		assert_true(out[0].score == 0);   /* nothing written */
		/* first value, middle, and the last values of batches whose size is not a multiple
		 * of the vector width (the flat check's scalar tail) */
		const size_t pos[] = {0, n * d / 2 + 3};
		for (size_t k = 0; k < 2; k++) {
			memcpy(Xb, X, n * d * sizeof(double));
			Xb[pos[k]] = bad[i];
			assert_int_equal(iforest_score_batch(m, Xb, n, d, out), IFOREST_E_NONFINITE);
			assert_true(out[n - 1].score == 0);
		}
		memcpy(Xb, X, n * d * sizeof(double));
		Xb[(n - 2) * d + 3] = bad[i];
		double sc[64];
		assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AUTO, Xb + (n - 19) * d, 18, d, sc),
		                 IFOREST_E_NONFINITE);
		assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AUTO, Xb + (n - 19) * d, 17, d, sc),
		                 IFOREST_OK);
		iforest_model *t = (iforest_model *)1;
		iforest_params p;
		iforest_params_init(&p);
		assert_int_equal(iforest_train(Xb, n, d, &p, &t), IFOREST_E_NONFINITE);
		assert_null(t);
		free(out);
		free(Xb);
	}
	assert_int_equal(iforest_score(m, x, 5, &r), IFOREST_E_FEATURES);
	assert_int_equal(iforest_score(m, x, 3, &r), IFOREST_E_FEATURES);
	assert_int_equal(iforest_score_batch(m, X, 0, d, &r), IFOREST_E_EMPTY);
	assert_int_equal(iforest_score(NULL, x, 4, &r), IFOREST_E_INVAL);
	assert_int_equal(iforest_score(m, x, 4, NULL), IFOREST_E_INVAL);
	assert_int_equal(iforest_explain(m, x, 5, c, 4), IFOREST_E_FEATURES);
	assert_int_equal(iforest_score_samples(m, (enum iforest_kernel)9, x, 1, 4, &r.score), IFOREST_E_INVAL);

	iforest_params p;
	iforest_params_init(&p);
	iforest_model *t = NULL;
	assert_int_equal(iforest_train(X, 0, d, &p, &t), IFOREST_E_EMPTY);
	assert_int_equal(iforest_train(X, n, 0, &p, &t), IFOREST_E_FEATURES);
	assert_int_equal(iforest_train(X, n, 65, &p, &t), IFOREST_E_FEATURES);
	p.n_trees = 0;
	assert_int_equal(iforest_train(X, n, d, &p, &t), IFOREST_E_INVAL);
	iforest_params_init(&p);
	p.contamination = 0.6;
	assert_int_equal(iforest_train(X, n, d, &p, &t), IFOREST_E_INVAL);
	iforest_params_init(&p);
	p.max_samples_fraction = 1.5;
	assert_int_equal(iforest_train(X, n, d, &p, &t), IFOREST_E_INVAL);
	p.max_samples_fraction = 0.001;   /* int(0.001 * 500) = 0 rows */
	assert_int_equal(iforest_train(X, n, d, &p, &t), IFOREST_E_INVAL);
	iforest_params_init(&p);
	p.max_samples = -3;
	assert_int_equal(iforest_train(X, n, d, &p, &t), IFOREST_E_INVAL);
	assert_null(t);
	iforest_model_free(m);
	free(X);
}

static void test_max_samples_and_depth(void **state)
{
	(void)state;
	size_t n = 1000, d = 3;
	double *X = make_data(n, d, 19, NULL);
	iforest_params p;
	iforest_model *m;
	iforest_info info;
	struct { int ms; double frac; size_t rows; int psi, depth; } cases[] = {
		{0, 0, 1000, 256, 8}, {0, 0, 100, 100, 7}, {2000, 0, 1000, 1000, 10},
		{300, 0, 1000, 300, 9}, {0, 0.5, 1000, 500, 9}, {0, 1.0, 3, 3, 2}, {0, 0, 1, 1, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		iforest_params_init(&p);
		p.max_samples = cases[i].ms;
		p.max_samples_fraction = cases[i].frac;
		assert_int_equal(iforest_train(X, cases[i].rows, d, &p, &m), 0);
		iforest_model_info(m, &info);
		assert_int_equal(info.max_samples, cases[i].psi);
		assert_int_equal(info.max_depth, cases[i].depth);
		/* no tree deeper than the limit: the explain weights would show a deeper node */
		iforest_model_free(m);
	}
	/* one training row: n_trees * c(1) = 0 and sklearn's exponent is -1 -> score -0.5 */
	iforest_params_init(&p);
	assert_int_equal(iforest_train(X, 1, d, &p, &m), 0);
	iforest_result r;
	assert_int_equal(iforest_score(m, X + 3, d, &r), 0);
	assert_true(r.score == -0.5 && r.decision == 0 && r.predict == 1);
	iforest_model_free(m);
	/* a constant data set never splits: every path is 0 + c(psi) */
	double *C = malloc(300 * d * sizeof(double));
	for (size_t i = 0; i < 300 * d; i++)
		C[i] = 7.0;
	assert_int_equal(iforest_train(C, 300, d, &p, &m), 0);
	iforest_model_info(m, &info);
	assert_int_equal(info.n_nodes, 100);
	assert_int_equal(iforest_score(m, X, d, &r), 0);
	assert_true(fabs(r.score + 0.5) < 1e-7);    /* 2^(-c/c); AVX2 leaves are float */
	assert_int_equal(iforest_explain(m, X, d, NULL, 0), 0);
	double imp[3];
	assert_int_equal(iforest_feature_importances(m, imp, 3), 0);
	assert_true(imp[0] == 0 && imp[1] == 0 && imp[2] == 0);
	iforest_model_free(m);
	free(C);
	free(X);
}

static void test_contamination_and_confidence(void **state)
{
	(void)state;
	size_t n = 10000, d = 8;
	double *X = make_data(n, d, 23, NULL);
	iforest_params p;
	iforest_params_init(&p);
	p.contamination = 0.1;
	p.confidence_rows = -1;
	iforest_model *m;
	assert_int_equal(iforest_train(X, n, d, &p, &m), 0);
	iforest_result *r = malloc(n * sizeof(*r));
	assert_int_equal(iforest_score_batch(m, X, n, d, r), 0);
	size_t flagged = 0;
	for (size_t i = 0; i < n; i++)
		flagged += r[i].predict < 0;
	print_message("contamination 0.1: %zu of %zu training rows flagged\n", flagged, n);
	assert_true(flagged >= 990 && flagged <= 1010);
	/* confidence = 100 * mean(T <= |decision|) over all training rows */
	for (size_t i = 0; i < n; i += 997) {
		size_t le = 0;
		for (size_t j = 0; j < n; j++)
			le += fabs(r[j].decision) <= fabs(r[i].decision);
		assert_true(fabs(r[i].confidence - 100.0 * (double)le / (double)n) < 1e-9);
		assert_true(r[i].confidence >= 0 && r[i].confidence <= 100);
	}
	iforest_model_free(m);

	/* default: auto offset, 1024-row confidence table */
	iforest_params_init(&p);
	assert_int_equal(iforest_train(X, n, d, &p, &m), 0);
	iforest_info info;
	iforest_model_info(m, &info);
	assert_true(info.offset == -0.5);
	assert_int_equal(info.confidence_rows, 1024);
	iforest_model_free(m);
	free(r);
	free(X);
}

static void test_explain_names_the_feature(void **state)
{
	(void)state;
	size_t n = 4000, d = 10;
	trng g = {99};
	double *X = malloc(n * d * sizeof(double));
	for (size_t i = 0; i < n * d; i++)
		X[i] = trng_n(&g);
	iforest_model *m = train(X, n, d, 100, 256, 5);
	double x[10] = {0};
	x[3] = 9.0;   /* ordinary everywhere except feature 3 */
	iforest_contrib c[10];
	int k = iforest_explain(m, x, d, c, 10);
	assert_true(k > 0);
	double sum = 0;
	for (int i = 0; i < k; i++) {
		sum += c[i].share;
		if (i)
			assert_true(c[i].share <= c[i - 1].share);
	}
	assert_true(fabs(sum - 1) < 1e-9);
	print_message("explain: top feature %d share %.2f\n", c[0].feature, c[0].share);
	assert_int_equal(c[0].feature, 3);
	assert_true(c[0].share > 0.3);
	assert_int_equal(iforest_explain(m, x, d, c, 2), 2);
	double imp[10], isum = 0;
	assert_int_equal(iforest_feature_importances(m, imp, d), 0);
	for (size_t f = 0; f < d; f++)
		isum += imp[f];
	assert_true(fabs(isum - 1) < 1e-9);
	assert_int_equal(iforest_feature_importances(m, imp, 9), IFOREST_E_FEATURES);
	iforest_model_free(m);
	free(X);
}

/* ---- streaming ------------------------------------------------------------------------ */

static void regime(trng *g, int shifted, double *x, size_t d)
{
	for (size_t f = 0; f < d; f++)
		x[f] = shifted ? 6.0 + 2.0 * trng_n(g) + (f % 2 ? 3.0 : 0.0) : trng_n(g);
}

static double auc_of(const iforest_model *m, const double *T, const int *y, size_t n, size_t d)
{
	double *s = malloc(n * sizeof(double));
	assert_int_equal(iforest_score_samples(m, IFOREST_KERNEL_AUTO, T, n, d, s), 0);
	for (size_t i = 0; i < n; i++)
		s[i] = -s[i];
	double a = iforest_auc(s, y, n);
	free(s);
	return a;
}

static void test_stream_recovers_after_shift(void **state)
{
	(void)state;
	const size_t d = 6, W = 2048;
	iforest_stream_params sp;
	iforest_stream_params_init(&sp);
	sp.window = (int)W;
	sp.forest.seed = 4;
	sp.exclude_anomalies = 1;
	iforest_stream *s;
	assert_int_equal(iforest_stream_create(&sp, d, &s), 0);
	assert_null(iforest_stream_acquire(s));
	trng g = {1234};
	double x[6];

	/* test set for the new regime: its normal rows, plus the old regime and far outliers */
	const size_t nt = 3000;
	double *T = malloc(nt * d * sizeof(double));
	int *y = calloc(nt, sizeof(int));
	for (size_t i = 0; i < nt; i++) {
		if (i < 2700) {
			regime(&g, 1, T + i * d, d);
		} else if (i < 2850) {
			regime(&g, 0, T + i * d, d);
			y[i] = 1;
		} else {
			regime(&g, 1, T + i * d, d);
			T[i * d + i % d] += (i % 2 ? 12.0 : -12.0);
			y[i] = 1;
		}
	}
	for (size_t i = 0; i < 3 * W; i++) {
		regime(&g, 0, x, d);
		assert_true(iforest_stream_push(s, x, d, NULL) >= 0);
		assert_true(iforest_stream_maybe_rebuild(s) >= 0);
	}
	iforest_stream_stats st;
	iforest_stream_get_stats(s, &st);
	assert_int_equal(st.drift, 0);
	assert_true(st.rebuilds > 30);
	const iforest_model *before = iforest_stream_acquire(s);
	double auc_before = auc_of(before, T, y, nt, d);

	/* the shift, then one window length of new-regime rows */
	double *recent = malloc(W * d * sizeof(double));
	int saw_drift = 0;
	for (size_t i = 0; i < W; i++) {
		regime(&g, 1, x, d);
		memcpy(recent + i * d, x, sizeof(x));
		int fl = iforest_stream_push(s, x, d, NULL);
		assert_true(fl >= 0);
		saw_drift |= (fl & IFOREST_PUSH_DRIFT) != 0;
		assert_true(iforest_stream_maybe_rebuild(s) >= 0);
	}
	const iforest_model *after = iforest_stream_acquire(s);
	double auc_after = auc_of(after, T, y, nt, d);
	iforest_model *batch = train(recent, W, d, 100, 256, 4);
	double auc_batch = auc_of(batch, T, y, nt, d);
	iforest_stream_get_stats(s, &st);
	print_message("stream shift: AUC stale %.4f -> after one window %.4f; batch on new window %.4f "
	              "(drift seen %d, rebuilds %llu, excluded %llu)\n", auc_before, auc_after, auc_batch,
	              saw_drift, (unsigned long long)st.rebuilds, (unsigned long long)st.excluded);
	assert_true(saw_drift);
	assert_true(auc_after >= auc_batch - 0.02);
	/* a model acquired before the shift is still valid and unchanged */
	double s0;
	assert_int_equal(iforest_score_samples(before, IFOREST_KERNEL_AUTO, T, 1, d, &s0), 0);
	iforest_info ib, ia;
	iforest_model_info(before, &ib);
	iforest_model_info(after, &ia);
	assert_true(ia.generation > ib.generation);
	iforest_stream_release(s, before);
	iforest_stream_release(s, after);
	iforest_model_free(batch);
	iforest_stream_free(s);
	free(T);
	free(y);
	free(recent);
}

static void test_stream_excludes_incident(void **state)
{
	(void)state;
	const size_t d = 4;
	iforest_stream_params sp;
	iforest_stream_params_init(&sp);
	sp.window = 1024;
	sp.exclude_anomalies = 1;
	iforest_stream *s;
	assert_int_equal(iforest_stream_create(&sp, d, &s), 0);
	trng g = {77};
	double x[4];
	iforest_result r;
	for (int i = 0; i < 2000; i++) {
		regime(&g, 0, x, d);
		assert_true(iforest_stream_push(s, x, d, &r) >= 0);
		iforest_stream_maybe_rebuild(s);
	}
	/* a short incident: a few far rows among normal ones are scored and kept out */
	iforest_stream_stats st0;
	iforest_stream_get_stats(s, &st0);
	int excluded = 0;
	for (int i = 0; i < 40; i++) {
		regime(&g, 0, x, d);
		if (i % 4 == 0) {
			x[0] = 25.0;
			x[2] = -30.0;
		}
		int fl = iforest_stream_push(s, x, d, &r);
		assert_true(fl & IFOREST_PUSH_SCORED);
		if (i % 4 == 0) {
			assert_true(r.decision < sp.exclude_below);
			excluded += (fl & IFOREST_PUSH_EXCLUDED) != 0;
			assert_false(fl & IFOREST_PUSH_STORED);
		}
	}
	assert_int_equal(excluded, 10);
	assert_int_equal(iforest_stream_push(s, x, 3, &r), IFOREST_E_FEATURES);
	x[1] = NAN;
	assert_int_equal(iforest_stream_push(s, x, d, &r), IFOREST_E_NONFINITE);
	iforest_stream_stats st;
	iforest_stream_get_stats(s, &st);
	assert_true(st.excluded - st0.excluded >= 10);
	assert_true(st.excluded < st.pushed / 10);   /* ordinary rows are not kept out */
	assert_int_equal(st.window_rows, 1024);
	/* a saved model continues in a new stream: scores at once, rebuilds once psi rows are in */
	const iforest_model *cur = iforest_stream_acquire(s);
	void *buf;
	size_t len;
	assert_int_equal(iforest_save_buffer(cur, &buf, &len), 0);
	iforest_stream_release(s, cur);
	iforest_stream_free(s);
	iforest_model *saved;
	assert_int_equal(iforest_load_buffer(buf, len, &saved), 0);
	free(buf);
	assert_int_equal(iforest_stream_create(&sp, d, &s), 0);
	assert_int_equal(iforest_stream_adopt(s, saved), IFOREST_OK);
	iforest_model_free(saved);   /* the stream holds its own reference */
	regime(&g, 0, x, d);
	assert_true(iforest_stream_push(s, x, d, &r) & IFOREST_PUSH_SCORED);
	int rebuilt = 0;
	for (int i = 0; i < 400; i++) {
		regime(&g, 0, x, d);
		assert_true(iforest_stream_push(s, x, d, NULL) >= 0);
		int rc = iforest_stream_maybe_rebuild(s);
		assert_true(rc >= 0);
		if (rc == 1 && !rebuilt)
			rebuilt = i + 2;   /* rows in the window at the first rebuild */
	}
	assert_true(rebuilt >= 256);
	iforest_model *other = train(x, 1, d, 5, 0, 0);
	assert_int_equal(iforest_stream_adopt(s, other), IFOREST_E_INVAL);   /* 5 trees, not 100 */
	iforest_model_free(other);
	iforest_stream_free(s);

	iforest_stream_params_init(&sp);
	sp.window = 8;
	assert_int_equal(iforest_stream_create(&sp, d, &s), IFOREST_E_INVAL);
	iforest_stream_params_init(&sp);
	assert_int_equal(iforest_stream_create(&sp, 0, &s), IFOREST_E_FEATURES);
}

typedef struct {
	iforest_stream *s;
	atomic_int stop;
	long scored;
	uint64_t max_gen;
} reader_arg;

static void *reader(void *p)
{
	reader_arg *a = p;
	trng g = {(uint64_t)(uintptr_t)p | 1};
	double x[5];
	while (!atomic_load(&a->stop)) {
		const iforest_model *m = iforest_stream_acquire(a->s);
		if (!m)
			continue;
		iforest_info info;
		iforest_model_info(m, &info);
		if (info.generation > a->max_gen)
			a->max_gen = info.generation;
		for (int k = 0; k < 20; k++) {
			regime(&g, 0, x, 5);
			iforest_result r;
			if (iforest_score(m, x, 5, &r) != IFOREST_OK || !(r.score < 0))
				abort();
			a->scored++;
		}
		iforest_stream_release(a->s, m);
	}
	return NULL;
}

static void test_stream_readers_during_rebuilds(void **state)
{
	(void)state;
	iforest_stream_params sp;
	iforest_stream_params_init(&sp);
	sp.window = 512;
	sp.rebuild_every = 16;
	sp.forest.n_trees = 24;
	iforest_stream *s;
	assert_int_equal(iforest_stream_create(&sp, 5, &s), 0);
	reader_arg a[2] = {{.s = s}, {.s = s}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &a[i]), 0);
	trng g = {5};
	double x[5];
	int published = 0;
	for (int i = 0; i < 3000; i++) {
		regime(&g, i > 1500, x, 5);
		assert_true(iforest_stream_push(s, x, 5, NULL) >= 0);
		int rc = iforest_stream_maybe_rebuild(s);
		assert_true(rc >= 0);
		published += rc;
	}
	for (int i = 0; i < 2; i++) {
		atomic_store(&a[i].stop, 1);
		pthread_join(th[i], NULL);
	}
	print_message("readers scored %ld + %ld samples across %d published models\n",
	              a[0].scored, a[1].scored, published);
	assert_true(published > 100);
	iforest_stream_stats st;
	iforest_stream_get_stats(s, &st);
	assert_int_equal(st.rebuilds, (uint64_t)published);
	assert_int_equal(st.generation, (uint64_t)published - 1);
	iforest_stream_free(s);
}

/* ---- tools ---------------------------------------------------------------------------- */

static void test_table_and_auc(void **state)
{
	(void)state;
	char dir[] = "/tmp/iforest-csv-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *p = path_join(dir, "t.csv");
	char *pz = path_join(dir, "t.csv.gz");
	char err[128];
	iforest_table t;
	struct { const char *text; int rc; const char *msg; } cases[] = {
		{"a,b,label\n1,2,0\n3.5, -4e2 ,1\n\n", IFOREST_OK, ""},
		{"a,b\n1,2\n3\n", IFOREST_E_PARSE, "line 3"},
		{"a,b\n1,2,3\n", IFOREST_E_PARSE, "line 2"},
		{"a,b\n1,x\n", IFOREST_E_PARSE, "line 2: column 2 (b)"},
		{"a,b\n1,nan\n", IFOREST_E_PARSE, "not a finite number"},
		{"a,b\n1,\n", IFOREST_E_PARSE, "line 2"},
		{"a,b\n", IFOREST_E_EMPTY, "no data rows"},
		{"", IFOREST_E_PARSE, "no header"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(p, "w");
		fputs(cases[i].text, f);
		fclose(f);
		err[0] = 0;
		int rc = iforest_table_read(p, &t, err, sizeof(err));
		if (rc != cases[i].rc || !strstr(err, cases[i].msg))
			fail_msg("case %zu: rc %d err \"%s\"", i, rc, err);
		if (rc == IFOREST_OK) {
			assert_int_equal(t.rows, 2);
			assert_int_equal(t.cols, 3);
			assert_string_equal(t.names[2], "label");
			assert_true(t.data[4] == -400.0 && t.data[5] == 1.0);
		}
		iforest_table_free(&t);
	}
	gzFile gz = gzopen(pz, "wb");
	gzputs(gz, "x,y\n1,2\n3,4\n");
	gzclose(gz);
	assert_int_equal(iforest_table_read(pz, &t, err, sizeof(err)), IFOREST_OK);
	assert_int_equal(t.rows, 2);
	iforest_table_free(&t);
	assert_int_equal(iforest_table_read("/nonexistent.csv", &t, err, sizeof(err)), IFOREST_E_IO);

	double s[] = {0.1, 0.4, 0.35, 0.8, 0.8};
	int y[] = {0, 0, 1, 1, 0};
	/* positives 0.35, 0.8 vs negatives 0.1, 0.4, 0.8: 1 + 0 + 0 | 1 + 1 + 0.5 -> 3.5 / 6 */
	assert_true(fabs(iforest_auc(s, y, 5) - 3.5 / 6) < 1e-12);
	int none[] = {0, 0, 0, 0, 0};
	assert_true(isnan(iforest_auc(s, none, 5)));
	unlink(p);
	unlink(pz);
	free(p);
	free(pz);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sklearn_import_parity),
		cmocka_unit_test(test_sklearn_import_rejects_bad_text),
		cmocka_unit_test(test_adbench_auc_vs_sklearn),
		cmocka_unit_test(test_avx2_equals_scalar),
		cmocka_unit_test(test_zmm_kernel_and_batch_equal_single),
		cmocka_unit_test(test_pack_threshold),
		cmocka_unit_test(test_deep_model_falls_back_to_scalar),
		cmocka_unit_test(test_save_load_identical),
		cmocka_unit_test(test_same_seed_same_bytes),
		cmocka_unit_test(test_corrupt_files_rejected),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_max_samples_and_depth),
		cmocka_unit_test(test_contamination_and_confidence),
		cmocka_unit_test(test_explain_names_the_feature),
		cmocka_unit_test(test_stream_recovers_after_shift),
		cmocka_unit_test(test_stream_excludes_incident),
		cmocka_unit_test(test_stream_readers_during_rebuilds),
		cmocka_unit_test(test_table_and_auc),
	};
	return cmocka_run_group_tests_name("iforest", tests, NULL, NULL);
}

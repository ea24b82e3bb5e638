/*
 * score.c — the public scoring entry points: input checks, kernel dispatch, and turning a
 * sum of path lengths into sklearn's score_samples / decision_function / predict plus the
 * confidence percentile.
 *
 * The kernel is chosen per call from the CPU's features (cheap: libgcc caches cpuid), so one
 * binary runs everywhere. Nothing here allocates; the standardised sample lives on the stack.
 */
#include "iforest_int.h"

#include <math.h>

int if_have_avx2(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
	return 0;
#endif
}

const char *iforest_kernel_name(void)
{
	return if_have_avx2() ? "avx2" : "scalar";
}

double if_score_from_sum(const iforest_model *m, double sum)
{
	if (m->denom == 0)
		return -0.5;   /* sklearn: exponent -1 when n_trees * c(psi) == 0 */
	return -exp2(-sum / m->denom);
}

double if_confidence(const iforest_model *m, double decision)
{
	size_t n = m->n_conf;
	if (n == 0)
		return 0.0;
	double a = fabs(decision);
	size_t lo = 0, hi = n;                 /* first index with conf[i] > a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->conf[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 100.0 * (double)lo / (double)n;
}

double if_path_sum_best(const iforest_model *m, const float *z)
{
	if (m->simd && if_have_avx2())
		return if_path_sum_avx2(m, z);
	return if_path_sum_scalar(m, z);
}

static inline double path_sum(const iforest_model *m, const float *z)
{
	return if_path_sum_best(m, z);
}

static int check_rows(const iforest_model *m, const double *X, size_t n, size_t d)
{
	if (!m || !X)
		return IFOREST_E_INVAL;
	if (d != (size_t)m->n_features)
		return IFOREST_E_FEATURES;
	if (n == 0)
		return IFOREST_E_EMPTY;
	for (size_t r = 0; r < n; r++)
		if (if_check_finite(X + r * d, d) != IFOREST_OK)
			return IFOREST_E_NONFINITE;
	return IFOREST_OK;
}

static void fill(const iforest_model *m, double sum, iforest_result *out)
{
	out->score = if_score_from_sum(m, sum);
	out->decision = out->score - m->offset;
	out->predict = out->decision < 0 ? -1 : 1;
	out->confidence = if_confidence(m, out->decision);
}

int iforest_score(const iforest_model *m, const double *x, size_t n_features,
                  iforest_result *out)
{
	int rc = check_rows(m, x, 1, n_features);
	if (rc != IFOREST_OK)
		return rc;
	if (!out)
		return IFOREST_E_INVAL;
	float z[IFOREST_MAX_FEATURES];
	if_standardize(m, x, z);
	fill(m, path_sum(m, z), out);
	return IFOREST_OK;
}

int iforest_score_batch(const iforest_model *m, const double *X, size_t n_rows,
                        size_t n_features, iforest_result *out)
{
	int rc = check_rows(m, X, n_rows, n_features);
	if (rc != IFOREST_OK)
		return rc;
	if (!out)
		return IFOREST_E_INVAL;
	float z[IFOREST_MAX_FEATURES];
	for (size_t r = 0; r < n_rows; r++) {
		if_standardize(m, X + r * n_features, z);
		fill(m, path_sum(m, z), &out[r]);
	}
	return IFOREST_OK;
}

int iforest_score_samples(const iforest_model *m, enum iforest_kernel k, const double *X,
                          size_t n_rows, size_t n_features, double *scores)
{
	int rc = check_rows(m, X, n_rows, n_features);
	if (rc != IFOREST_OK)
		return rc;
	if (!scores)
		return IFOREST_E_INVAL;
	if (k != IFOREST_KERNEL_AUTO && k != IFOREST_KERNEL_SCALAR && k != IFOREST_KERNEL_AVX2)
		return IFOREST_E_INVAL;
	if (k == IFOREST_KERNEL_AVX2 && (!m->simd || !if_have_avx2()))
		return IFOREST_E_UNSUPPORTED;
	float z[IFOREST_MAX_FEATURES];
	for (size_t r = 0; r < n_rows; r++) {
		if_standardize(m, X + r * n_features, z);
		double s = k == IFOREST_KERNEL_AUTO ? if_path_sum_best(m, z)
		         : k == IFOREST_KERNEL_AVX2 ? if_path_sum_avx2(m, z)
		         : if_path_sum_scalar(m, z);
		scores[r] = if_score_from_sum(m, s);
	}
	return IFOREST_OK;
}

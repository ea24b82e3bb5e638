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

int if_have_avx512vl(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return if_have_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
	return 0;
#endif
}

const char *iforest_kernel_name(void)
{
	return if_have_avx512vl() ? "avx2+avx512vl" : if_have_avx2() ? "avx2" : "scalar";
}

/* the packed single-sample kernel: the AVX-512VL lookups when the CPU has them */
static double packed_single(const iforest_model *m, const float *z)
{
	return if_have_avx512vl() ? if_path_sum_packed_avx512vl(m, z) : if_path_sum_packed_avx2(m, z);
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
	/* count of conf[i] <= |decision|: a branch-free binary search (the comparisons are
	 * unpredictable; mispredicted branches cost more than the search itself) */
	const double a = fabs(decision), *base = m->conf;
	size_t len = n;
	while (len > 1) {
		size_t half = len / 2;
		base += half & -(size_t)(base[half - 1] <= a);   /* a mask, so no branch */
		len -= half;
	}
	size_t le = (size_t)(base - m->conf) + (base[0] <= a);
	return 100.0 * (double)le / (double)n;
}

double if_path_sum_best(const iforest_model *m, const float *z)
{
	if (m->simd && if_have_avx2())
		return m->packed ? packed_single(m, z) : if_path_sum_avx2(m, z);
	return if_path_sum_scalar(m, z);
}

static int have_batch(const iforest_model *m)
{
	return m->simd && m->packed && if_have_avx2();
}

/* Measured on the AMD EPYC (Zen 4) host, thread CPU time, best of 7 over 20 000 rows: with
 * <= 32 features the single-sample kernel looks z[feature] up in registers (vpermps) and
 * needs ~78 gathers per row, the batch kernel ~175 (it gathers z too), and gathers are slow
 * there: single 0.50 us/row vs batch 0.60. With more than 32 features the AVX2 single kernel
 * has to gather z as well and the batch kernel wins (0.61 vs 0.72 us/row at 36 features),
 * unless AVX-512VL keeps z in registers (then single wins again). */
static int prefer_batch(const iforest_model *m)
{
	return have_batch(m) && m->n_features > 32 && !if_have_avx512vl();
}

/* Standardise up to IF_BATCH_BLOCK rows into a zero-padded block and get their path sums:
 * from the batch kernel where it is faster, else row by row from the single-sample kernel.
 * Either way the scores are turned into results in a separate pass over the block, where
 * the out-of-order core overlaps one row's confidence search and exp2 with the next row's
 * (behind each long kernel call it cannot: ~15 % of a batch on the Zen 4 host). */
static void batch_sums(const iforest_model *m, int batch_kernel, const double *X, size_t n,
                       double *sums)
{
	const size_t d = (size_t)m->n_features, zs = (d + 7) & ~(size_t)7;
	float Z[IF_BATCH_BLOCK * IFOREST_MAX_FEATURES] __attribute__((aligned(32)));
	for (size_t r = 0; r < n; r++)
		if_standardize(m, X + r * d, Z + r * zs);
	if (batch_kernel) {
		if_path_sums_packed_batch_avx2(m, Z, n, zs, sums);
		return;
	}
	for (size_t r = 0; r < n; r++)
		sums[r] = if_path_sum_best(m, Z + r * zs);
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
	if (n * d >= 64 && if_have_avx2())   /* rows are contiguous: one flat pass */
		return if_all_finite_avx2(X, n * d) ? IFOREST_OK : IFOREST_E_NONFINITE;
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
	if (m->simd && if_have_avx2()) {
		double sums[IF_BATCH_BLOCK];
		for (size_t r0 = 0; r0 < n_rows; r0 += IF_BATCH_BLOCK) {
			size_t nb = n_rows - r0 < IF_BATCH_BLOCK ? n_rows - r0 : IF_BATCH_BLOCK;
			batch_sums(m, prefer_batch(m), X + r0 * n_features, nb, sums);
			for (size_t i = 0; i < nb; i++)
				fill(m, sums[i], &out[r0 + i]);
		}
		return IFOREST_OK;
	}
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
	if (k != IFOREST_KERNEL_AUTO && k != IFOREST_KERNEL_SCALAR && k != IFOREST_KERNEL_AVX2 &&
	    k != IFOREST_KERNEL_AVX2_BATCH && k != IFOREST_KERNEL_AVX512VL)
		return IFOREST_E_INVAL;
	if (k == IFOREST_KERNEL_AVX512VL && (!m->simd || !m->packed || !if_have_avx512vl()))
		return IFOREST_E_UNSUPPORTED;
	if (k == IFOREST_KERNEL_AVX2 && (!m->simd || !if_have_avx2()))
		return IFOREST_E_UNSUPPORTED;
	if (k == IFOREST_KERNEL_AVX2_BATCH && !have_batch(m))
		return IFOREST_E_UNSUPPORTED;
	if (k == IFOREST_KERNEL_AVX2_BATCH || (k == IFOREST_KERNEL_AUTO && prefer_batch(m) && n_rows > 1)) {
		double sums[IF_BATCH_BLOCK];
		for (size_t r0 = 0; r0 < n_rows; r0 += IF_BATCH_BLOCK) {
			size_t nb = n_rows - r0 < IF_BATCH_BLOCK ? n_rows - r0 : IF_BATCH_BLOCK;
			batch_sums(m, 1, X + r0 * n_features, nb, sums);
			for (size_t i = 0; i < nb; i++)
				scores[r0 + i] = if_score_from_sum(m, sums[i]);
		}
		return IFOREST_OK;
	}
	float z[IFOREST_MAX_FEATURES];
	for (size_t r = 0; r < n_rows; r++) {
		if_standardize(m, X + r * n_features, z);
		double s = k == IFOREST_KERNEL_AUTO ? if_path_sum_best(m, z)
		         : k == IFOREST_KERNEL_AVX2 ? (m->packed ? if_path_sum_packed_avx2(m, z)
		                                               : if_path_sum_avx2(m, z))
		         : k == IFOREST_KERNEL_AVX512VL ? if_path_sum_packed_avx512vl(m, z)
		         : if_path_sum_scalar(m, z);
		scores[r] = if_score_from_sum(m, s);
	}
	return IFOREST_OK;
}

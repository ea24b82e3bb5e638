/*
 * score.c — the public scoring entry points: input checks, kernel dispatch, and turning a
 * sum of path lengths into sklearn's score_samples / decision_function / predict plus the
 * confidence percentile.
 *
 * The kernel is chosen per call from the CPU's features (cheap: libgcc caches cpuid), so one
 * binary runs everywhere; a batch chooses it once, not per row. Nothing here allocates; the
 * standardised samples live on the stack. A batch goes in blocks of IF_BATCH_BLOCK rows:
 * standardise the block (prefetching the next), walk it, then turn the sums into results
 * with the confidence searches interleaved four rows at a time.
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

/* AMD's 512-bit instructions run as two 256-bit halves and never lower the core's clock,
 * so there (and only there) the packed kernel may look z up with zmm permutes. */
int if_have_fast_zmm(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return if_have_avx512vl() && __builtin_cpu_is("amd");
#else
	return 0;
#endif
}

const char *iforest_kernel_name(void)
{
	return if_have_fast_zmm() ? "avx2+avx512" : if_have_avx512vl() ? "avx2+avx512vl"
	     : if_have_avx2() ? "avx2" : "scalar";
}

/* the packed single-sample kernel: zmm lookups on AMD, else AVX-512VL's when the CPU has
 * them, else AVX2's */
static double packed_single(const iforest_model *m, const float *z)
{
	return if_have_fast_zmm() ? if_path_sum_packed_avx512(m, z)
	     : if_have_avx512vl() ? if_path_sum_packed_avx512vl(m, z) : if_path_sum_packed_avx2(m, z);
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

typedef double (*path_sum_fn)(const iforest_model *m, const float *z);

/* the fastest single-sample kernel for this model on this CPU */
static path_sum_fn best_kernel(const iforest_model *m)
{
	if (!m->simd || !if_have_avx2())
		return if_path_sum_scalar;
	if (!m->packed)
		return if_path_sum_avx2;
	return if_have_fast_zmm() ? if_path_sum_packed_avx512
	     : if_have_avx512vl() ? if_path_sum_packed_avx512vl : if_path_sum_packed_avx2;
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
static void batch_sums(const iforest_model *m, int batch_kernel, path_sum_fn kernel,
                       const double *X, size_t n, size_t next_rows, double *sums)
{
	const size_t d = (size_t)m->n_features, zs = (d + 7) & ~(size_t)7;
	float Z[IF_BATCH_BLOCK * IFOREST_MAX_FEATURES] __attribute__((aligned(32)));
	for (size_t r = 0; r < n; r++)
		if_standardize(m, X + r * d, Z + r * zs);
	if (next_rows) {
		/* the finiteness pass has already streamed X through the cache and out again (a
		 * 100 k-row batch is 20 MB): fetch the next block while this one is walked, so its
		 * standardisation does not wait on memory */
		const char *p = (const char *)(X + n * d), *end = (const char *)(X + (n + next_rows) * d);
		for (; p < end; p += 64)
			__builtin_prefetch(p);
	}
	if (batch_kernel) {
		if_path_sums_packed_batch_avx2(m, Z, n, zs, sums);
		return;
	}
	for (size_t r = 0; r < n; r++)
		sums[r] = kernel(m, Z + r * zs);
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

/* fill() over a block, the confidence searches four rows at a time: each search is a chain
 * of ~10 dependent loads, and interleaving four chains lets them overlap (the same
 * comparisons as if_confidence, so the same percentiles). */
static void fill_block(const iforest_model *m, const double *sums, size_t nb, iforest_result *out)
{
	for (size_t i = 0; i < nb; i++) {
		out[i].score = if_score_from_sum(m, sums[i]);
		out[i].decision = out[i].score - m->offset;
		out[i].predict = out[i].decision < 0 ? -1 : 1;
	}
	const size_t n = m->n_conf;
	size_t i = 0;
	if (n > 0) {
		for (; i + 4 <= nb; i += 4) {
			const double *b0 = m->conf, *b1 = m->conf, *b2 = m->conf, *b3 = m->conf;
			const double a0 = fabs(out[i].decision), a1 = fabs(out[i + 1].decision);
			const double a2 = fabs(out[i + 2].decision), a3 = fabs(out[i + 3].decision);
			for (size_t len = n; len > 1; len -= len / 2) {
				const size_t half = len / 2;
				b0 += half & -(size_t)(b0[half - 1] <= a0);
				b1 += half & -(size_t)(b1[half - 1] <= a1);
				b2 += half & -(size_t)(b2[half - 1] <= a2);
				b3 += half & -(size_t)(b3[half - 1] <= a3);
			}
			out[i].confidence = 100.0 * (double)((size_t)(b0 - m->conf) + (b0[0] <= a0)) / (double)n;
			out[i + 1].confidence = 100.0 * (double)((size_t)(b1 - m->conf) + (b1[0] <= a1)) / (double)n;
			out[i + 2].confidence = 100.0 * (double)((size_t)(b2 - m->conf) + (b2[0] <= a2)) / (double)n;
			out[i + 3].confidence = 100.0 * (double)((size_t)(b3 - m->conf) + (b3[0] <= a3)) / (double)n;
		}
	}
	for (; i < nb; i++)
		out[i].confidence = if_confidence(m, out[i].decision);
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
		/* the kernel is chosen once per call, not per row */
		const int batch_kernel = prefer_batch(m);
		const path_sum_fn kernel = best_kernel(m);
		double sums[IF_BATCH_BLOCK];
		for (size_t r0 = 0; r0 < n_rows; r0 += IF_BATCH_BLOCK) {
			size_t nb = n_rows - r0 < IF_BATCH_BLOCK ? n_rows - r0 : IF_BATCH_BLOCK;
			size_t next = n_rows - r0 - nb < IF_BATCH_BLOCK ? n_rows - r0 - nb : IF_BATCH_BLOCK;
			batch_sums(m, batch_kernel, kernel, X + r0 * n_features, nb, next, sums);
			fill_block(m, sums, nb, out + r0);
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
			size_t next = n_rows - r0 - nb < IF_BATCH_BLOCK ? n_rows - r0 - nb : IF_BATCH_BLOCK;
			batch_sums(m, 1, NULL, X + r0 * n_features, nb, next, sums);
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

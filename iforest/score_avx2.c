/*
 * score_avx2.c — the AVX2 scorer over the padded complete-tree layout (see iforest_int.h).
 *
 * One ymm register holds the current slot of 8 trees (one group). Per level and group:
 * gather the 8 thresholds and the 8 feature numbers at slot*8 + lane, gather z[feature]
 * from the standardised sample (so any feature count up to 64 works without a permute
 * table), and step to 2*slot+1 (left, z <= thr) or 2*slot+2. Level 0 needs no gather (all
 * lanes are at slot 0). All groups advance level by level, so up to 16 independent gather
 * chains are in flight. Leaf values (float) are accumulated in double.
 * Compiled with -mavx2 -mfma; called only after if_have_avx2() said yes.
 */
#include "iforest_int.h"

#include <immintrin.h>

#define CHUNK 16

double if_path_sum_avx2(const iforest_model *m, const float *z)
{
	const int G = m->n_groups, D = m->max_depth, S = m->slots;
	const size_t gstride = (size_t)S * 8, lstride = (size_t)(S + 1) * 8;
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256i one = _mm256_set1_epi32(1);
	__m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();

	for (int g0 = 0; g0 < G; g0 += CHUNK) {
		const int n = G - g0 < CHUNK ? G - g0 : CHUNK;
		__m256i idx[CHUNK];
		for (int k = 0; k < n; k++) {
			const float *thr = m->gthr + (size_t)(g0 + k) * gstride;
			const int32_t *ft = m->gfeat + (size_t)(g0 + k) * gstride;
			__m256 t = _mm256_loadu_ps(thr);
			__m256i f = _mm256_loadu_si256((const __m256i *)ft);
			__m256 x = _mm256_i32gather_ps(z, f, 4);
			__m256i gt = _mm256_castps_si256(_mm256_cmp_ps(x, t, _CMP_GT_OQ));
			idx[k] = _mm256_sub_epi32(one, gt);          /* 1 (left) or 2 (right) */
		}
		for (int l = 1; l < D; l++) {
			for (int k = 0; k < n; k++) {
				const float *thr = m->gthr + (size_t)(g0 + k) * gstride;
				const int *ft = m->gfeat + (size_t)(g0 + k) * gstride;
				__m256i o = _mm256_add_epi32(_mm256_slli_epi32(idx[k], 3), lane);
				__m256 t = _mm256_i32gather_ps(thr, o, 4);
				__m256i f = _mm256_i32gather_epi32(ft, o, 4);
				__m256 x = _mm256_i32gather_ps(z, f, 4);
				__m256i gt = _mm256_castps_si256(_mm256_cmp_ps(x, t, _CMP_GT_OQ));
				idx[k] = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(idx[k], idx[k]), one), gt);
			}
		}
		const __m256i first_leaf = _mm256_set1_epi32(S);
		for (int k = 0; k < n; k++) {
			const float *leaf = m->gleaf + (size_t)(g0 + k) * lstride;
			__m256i o = _mm256_add_epi32(_mm256_slli_epi32(_mm256_sub_epi32(idx[k], first_leaf), 3), lane);
			__m256 v = _mm256_i32gather_ps(leaf, o, 4);
			acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
			acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
		}
	}
	__m256d s = _mm256_add_pd(acc0, acc1);
	__m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
	return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

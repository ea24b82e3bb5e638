/*
 * score_avx512.c — the AVX-512 scorer: the AVX2 walk with 16 trees per register.
 *
 * It reads the same padded complete-tree layout (groups of 8 trees, {threshold, feature}
 * pairs): a zmm register covers two neighbouring groups, lanes 0-7 from group g and 8-15
 * from group g+1, so no second layout is needed. What AVX-512 buys:
 *   - z[feature] for up to 32 features is one vpermt2ps over two registers (two plus a mask
 *     blend for up to 64), where AVX2 needs four permutes and three blends or a gather;
 *   - comparisons land in mask registers and the step is a masked add;
 *   - each gather instruction serves 8 pairs, half as many instructions per tree level.
 * Compiled for avx512f through a target pragma (the Makefile's flags stay generic) and
 * called only after if_have_avx512() said yes. Leaf values are summed in double, so it
 * agrees with the other kernels to float rounding of the leaf values (< 1e-8).
 */
#pragma GCC target("avx512f")
#include "iforest_int.h"

#include <immintrin.h>

#define CHUNK 8   /* zmm slots (pairs of groups) in flight */

double if_path_sum_avx512(const iforest_model *m, const float *z)
{
	const int G = m->n_groups, D = m->max_depth, S = m->slots;
	const int gstride = S * 8, lstride = (S + 1) * 8;
	const int nf = m->n_features;
	const __m512i lane8 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
	const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
	const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
	const __m512i one = _mm512_set1_epi32(1), b32 = _mm512_set1_epi32(32);
	__m512 z0 = _mm512_loadu_ps(z), z1 = nf > 16 ? _mm512_loadu_ps(z + 16) : _mm512_setzero_ps();
	__m512 z2 = _mm512_setzero_ps(), z3 = _mm512_setzero_ps();
	if (nf > 32) {
		z2 = _mm512_loadu_ps(z + 32);
		z3 = nf > 48 ? _mm512_loadu_ps(z + 48) : _mm512_setzero_ps();
	}
	const int wide = nf > 32;
	__m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
	const int P = (G + 1) / 2;   /* pairs of groups */

	for (int p0 = 0; p0 < P; p0 += CHUNK) {
		const int n = P - p0 < CHUNK ? P - p0 : CHUNK;
		__m512i idx[CHUNK];
		__m512i goff[CHUNK];       /* per-lane pair offset of the lane's group */
		__mmask16 valid[CHUNK];
		for (int k = 0; k < n; k++) {
			const int g = 2 * (p0 + k);
			const int has2 = g + 1 < G;
			valid[k] = has2 ? 0xFFFF : 0x00FF;
			/* lanes 8-15 read group g+1, or group g again when there is none */
			goff[k] = _mm512_mask_blend_epi32(0xFF00, _mm512_setzero_si512(),
			                                  _mm512_set1_epi32(has2 ? gstride : 0));
			idx[k] = _mm512_setzero_si512();
		}
		/* levels 0-2 without gathers: every lane is at slot 0, then one of 2, then one of 4
		 * slots, so plain loads of those slots and mask blends on the slot's bits do */
		const int top = D < 3 ? D : 3;
		for (int k = 0; k < n; k++) {
			const float *b0 = (const float *)(m->gnode + (size_t)(2 * (p0 + k)) * gstride);
			const float *b1 = valid[k] == 0xFFFF ? b0 + 2 * gstride : b0;
			__m512 t[7];
			__m512i f[7];
			for (int sl = 0; sl < (1 << top) - 1; sl++) {
				__m512 a = _mm512_loadu_ps(b0 + 16 * sl), b = _mm512_loadu_ps(b1 + 16 * sl);
				t[sl] = _mm512_permutex2var_ps(a, even, b);
				f[sl] = _mm512_castps_si512(_mm512_permutex2var_ps(a, odd, b));
			}
			__m512i i = _mm512_setzero_si512();
			for (int l = 0; l < top; l++) {
				__m512 tt;
				__m512i ff;
				if (l == 0) {
					tt = t[0];
					ff = f[0];
				} else {
					__m512i r = _mm512_sub_epi32(i, _mm512_set1_epi32((1 << l) - 1));
					__mmask16 bit0 = _mm512_test_epi32_mask(r, one);
					if (l == 1) {
						tt = _mm512_mask_blend_ps(bit0, t[1], t[2]);
						ff = _mm512_mask_blend_epi32(bit0, f[1], f[2]);
					} else {
						__mmask16 bit1 = _mm512_test_epi32_mask(r, _mm512_set1_epi32(2));
						tt = _mm512_mask_blend_ps(bit1, _mm512_mask_blend_ps(bit0, t[3], t[4]),
						                          _mm512_mask_blend_ps(bit0, t[5], t[6]));
						ff = _mm512_mask_blend_epi32(bit1, _mm512_mask_blend_epi32(bit0, f[3], f[4]),
						                             _mm512_mask_blend_epi32(bit0, f[5], f[6]));
					}
				}
				__m512 x = _mm512_permutex2var_ps(z0, ff, z1);
				if (wide)
					x = _mm512_mask_blend_ps(_mm512_test_epi32_mask(ff, b32), x,
					                         _mm512_permutex2var_ps(z2, ff, z3));
				__mmask16 gt = _mm512_cmp_ps_mask(x, tt, _CMP_GT_OQ);
				__m512i nx = _mm512_add_epi32(_mm512_add_epi32(i, i), one);
				i = _mm512_mask_add_epi32(nx, gt, nx, one);
			}
			idx[k] = i;
		}
		for (int l = top; l < D; l++) {
			for (int k = 0; k < n; k++) {
				const long long *base = (const long long *)(m->gnode + (size_t)(2 * (p0 + k)) * gstride);
				__m512i o = _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(idx[k], 3), lane8), goff[k]);
				__m512 a = _mm512_castsi512_ps(_mm512_i32gather_epi64(_mm512_castsi512_si256(o), base, 8));
				__m512 b = _mm512_castsi512_ps(_mm512_i32gather_epi64(_mm512_extracti64x4_epi64(o, 1), base, 8));
				__m512 t = _mm512_permutex2var_ps(a, even, b);
				__m512i f = _mm512_castps_si512(_mm512_permutex2var_ps(a, odd, b));
				__m512 x = _mm512_permutex2var_ps(z0, f, z1);
				if (wide)
					x = _mm512_mask_blend_ps(_mm512_test_epi32_mask(f, b32), x,
					                         _mm512_permutex2var_ps(z2, f, z3));
				__mmask16 gt = _mm512_cmp_ps_mask(x, t, _CMP_GT_OQ);
				__m512i nx = _mm512_add_epi32(_mm512_add_epi32(idx[k], idx[k]), one);
				idx[k] = _mm512_mask_add_epi32(nx, gt, nx, one);
			}
		}
		for (int k = 0; k < n; k++) {
			const float *leaf = m->gleaf + (size_t)(2 * (p0 + k)) * lstride;
			/* leaf offset: (slot - S) * 8 + lane, plus the group's leaf block for lanes 8-15 */
			__m512i loff = _mm512_mask_blend_epi32(0xFF00, _mm512_setzero_si512(),
			                                       _mm512_set1_epi32(valid[k] == 0xFFFF ? lstride : 0));
			__m512i o = _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(
				_mm512_sub_epi32(idx[k], _mm512_set1_epi32(S)), 3), lane8), loff);
			__m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid[k], o, leaf, 4);
			acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
			acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
		}
	}
	return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
}

/*
 * packed_kernel.h — private to iforest/: the single-sample kernel over the packed layout,
 * written once and instantiated twice: score_avx2.c (z[feature] from vpermps and blends, or
 * a gather above 32 features) and score_avx512vl.c (AVX-512VL's two-source vpermt2ps on the
 * same 256-bit registers: one instruction per 16 features, up to 64 in registers).
 * The includer has the AVX2 target enabled and defines the LOOKUP function it passes.
 */
#ifndef IFOREST_PACKED_KERNEL_H
#define IFOREST_PACKED_KERNEL_H

#include "iforest_int.h"

#include <immintrin.h>

#define CHUNK 16

static inline __m256 sel(__m256 a, __m256 b, __m256i f, int bit)
{
	return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(f, 31 - bit)));
}

static inline __m256i step(__m256i idx, __m256 x, __m256 t)
{
	__m256i gt = _mm256_castps_si256(_mm256_cmp_ps(x, t, _CMP_GT_OQ));   /* -1: right */
	return _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(idx, idx), _mm256_set1_epi32(1)), gt);
}

/* the level-3 hook of kernels that fetch level 3 with gathers like the levels below it */
static inline __m256 level3_by_gather(const float *nd, __m256i slot, __m256i lane)
{
	(void)nd, (void)slot, (void)lane;
	return _mm256_setzero_ps();   /* never called: L3 = 0 */
}

static inline __m256i packed_feature(__m256 w, __m256i mask)
{
	return _mm256_and_si256(_mm256_castps_si256(w), mask);
}

/* Single sample, packed: like the exact kernel, but a level is one 8-lane word fetch (a
 * plain 256-bit load for levels 0-2, where all lanes share one of 1, 2 or 4 slots; a gather
 * below) and the feature is an AND away. With L3 = 1 the includer's LEVEL3(nd, slot, lane)
 * fetches level 3's words instead of a gather. */
#define IF_PACKED_KERNEL(NAME, LOOKUP, L3, LEVEL3) \
static inline __attribute__((always_inline)) double NAME##_body(const iforest_model *m, \
                                                               const float *z, const int nreg) \
{ \
	const int G = m->n_groups, D = m->max_depth, S = m->slots; \
	const size_t gstride = (size_t)S * 8, lstride = (size_t)(S + 1) * 8; \
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); \
	const __m256i mask = _mm256_set1_epi32((int)m->pack_mask); \
	__m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd(); \
	const int nf = m->n_features; \
	__m256 zr[8]; \
	for (int r = 0; r < 8; r++) \
		zr[r] = r * 8 < nf ? _mm256_loadu_ps(z + r * 8) : _mm256_setzero_ps(); \
 \
	for (int g0 = 0; g0 < G; g0 += CHUNK) { \
		const int n = G - g0 < CHUNK ? G - g0 : CHUNK; \
		__m256i idx[CHUNK]; \
		for (int k = 0; k < n; k++) { \
			const float *nd = m->gpack + (size_t)(g0 + k) * gstride; \
			__m256 w = _mm256_loadu_ps(nd); \
			__m256i i = step(_mm256_setzero_si256(), LOOKUP(zr, nreg, z, packed_feature(w, mask)), w); \
			if (D >= 2) { \
				__m256i r1 = _mm256_sub_epi32(i, _mm256_set1_epi32(1)); \
				w = sel(_mm256_loadu_ps(nd + 8), _mm256_loadu_ps(nd + 16), r1, 0); \
				i = step(i, LOOKUP(zr, nreg, z, packed_feature(w, mask)), w); \
			} \
			if (D >= 3) { \
				__m256i r2 = _mm256_sub_epi32(i, _mm256_set1_epi32(3)); \
				w = sel(sel(_mm256_loadu_ps(nd + 24), _mm256_loadu_ps(nd + 32), r2, 0), \
				        sel(_mm256_loadu_ps(nd + 40), _mm256_loadu_ps(nd + 48), r2, 0), r2, 1); \
				i = step(i, LOOKUP(zr, nreg, z, packed_feature(w, mask)), w); \
			} \
			if (L3 && D >= 4) { \
				w = LEVEL3(nd, i, lane); \
				i = step(i, LOOKUP(zr, nreg, z, packed_feature(w, mask)), w); \
			} \
			idx[k] = i; \
		} \
		for (int l = L3 ? 4 : 3; l < D; l++) { \
			for (int k = 0; k < n; k++) { \
				const float *nd = m->gpack + (size_t)(g0 + k) * gstride; \
				__m256i o = _mm256_add_epi32(_mm256_slli_epi32(idx[k], 3), lane); \
				__m256 w = _mm256_i32gather_ps(nd, o, 4); \
				idx[k] = step(idx[k], LOOKUP(zr, nreg, z, packed_feature(w, mask)), w); \
			} \
		} \
		const __m256i first_leaf = _mm256_set1_epi32(S); \
		for (int k = 0; k < n; k++) { \
			const float *leaf = m->gleaf + (size_t)(g0 + k) * lstride; \
			__m256i o = _mm256_add_epi32(_mm256_slli_epi32(_mm256_sub_epi32(idx[k], first_leaf), 3), lane); \
			__m256 v = _mm256_i32gather_ps(leaf, o, 4); \
			acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(v))); \
			acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))); \
		} \
	} \
	__m256d s = _mm256_add_pd(acc0, acc1); \
	__m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1)); \
	return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h))); \
} \
 \
double NAME(const iforest_model *m, const float *z) \
{ \
	const int nf = m->n_features; \
	/* one copy of the walk per register count, so no level pays a switch on it */ \
	if (nf <= 8) \
		return NAME##_body(m, z, 1); \
	if (nf <= 16) \
		return NAME##_body(m, z, 2); \
	if (nf <= 32) \
		return NAME##_body(m, z, 4); \
	return NAME##_body(m, z, 8); \
}

#endif

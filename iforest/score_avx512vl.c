/*
 * score_avx512vl.c — the packed single-sample kernel with AVX-512VL lookups, still on 256-bit
 * registers.
 *
 * On the Zen 4 host the AVX2 packed kernel spends most of its time on the shuffle port:
 * looking up z[feature] for 8 trees costs 4 vpermps + 3 blends at 26 features, and a gather
 * above 32. AVX-512VL's vpermt2ps picks from two registers (16 features) in one instruction,
 * so 26 features take 2 permutes + 1 blend and up to 64 features stay in registers (4 + 3).
 * Only 256-bit (ymm) instructions are used, so Intel cores do not lower their clock for
 * 512-bit work (the reason the library has no zmm path). Same walk, same sums as the AVX2
 * kernel: results are bit-identical. Compiled for the target below (no Makefile flags);
 * called only after if_have_avx512vl() said yes.
 *
 * A second copy, if_path_sum_packed_avx512, looks z up in one 512-bit vpermt2ps over a
 * 32-entry table (two zmm registers) instead of two 256-bit ones and a blend: 26 features
 * cost 1 shuffle instead of 3, and the walk is bound by that port and the gathers. Measured
 * on the Zen 4 host (batch of 100 k x 26, 100 trees, psi 256, thread CPU time): 0.405 us
 * per row against 0.441 for the ymm-only lookups. Only the lookup is 512-bit; the walk's
 * state stays in ymm. if_have_fast_zmm() picks it only on AMD, whose 512-bit units are
 * 256-bit ones issued twice and never lower the clock; Intel keeps the ymm-only copy.
 */
#pragma GCC target("avx2,fma,avx512f,avx512vl")

#include "packed_kernel.h"

static inline __m256 lookup_vl(const __m256 *zr, int nreg, const float *z, __m256i f)
{
	(void)z;
	switch (nreg) {
	case 1:
		return _mm256_permutevar8x32_ps(zr[0], f);
	case 2:
		return _mm256_permutex2var_ps(zr[0], f, zr[1]);
	case 4:
		return sel(_mm256_permutex2var_ps(zr[0], f, zr[1]), _mm256_permutex2var_ps(zr[2], f, zr[3]), f, 4);
	default: {
		__m256 lo = sel(_mm256_permutex2var_ps(zr[0], f, zr[1]), _mm256_permutex2var_ps(zr[2], f, zr[3]), f, 4);
		__m256 hi = sel(_mm256_permutex2var_ps(zr[4], f, zr[5]), _mm256_permutex2var_ps(zr[6], f, zr[7]), f, 4);
		return sel(lo, hi, f, 5);
	}
	}
}

IF_PACKED_KERNEL(if_path_sum_packed_avx512vl, lookup_vl, 0, level3_by_gather)

/* a:b as one zmm register */
static inline __m512 pair(__m256 a, __m256 b)
{
	return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(a)),
	                                           _mm256_castps_pd(b), 1));
}

/* z[f] with the table in zmm registers: 32 features per vpermt2ps */
static inline __m256 lookup_zmm(const __m256 *zr, int nreg, const float *z, __m256i f)
{
	if (nreg <= 2)
		return lookup_vl(zr, nreg, z, f);
	const __m512i fi = _mm512_castsi256_si512(f);
	const __m512 t0 = pair(zr[0], zr[1]);
	const __m512 t1 = pair(zr[2], zr[3]);
	const __m256 lo = _mm512_castps512_ps256(_mm512_permutex2var_ps(t0, fi, t1));
	if (nreg <= 4)
		return lo;
	const __m512 t2 = pair(zr[4], zr[5]);
	const __m512 t3 = pair(zr[6], zr[7]);
	const __m256 hi = _mm512_castps512_ps256(_mm512_permutex2var_ps(t2, fi, t3));
	return sel(lo, hi, f, 5);
}

/* Level 3's 8 slots x 8 lanes are 64 consecutive words: two 512-bit two-source permutes
 * by slot * 8 + lane and a blend pick each lane's word, instead of a gather (~3 ns each on
 * the Zen 4 host; ~2.5 % more rows/s measured). Level 4 the same way (four permutes, three
 * blends) was slower than its gather. */
static inline __m256 level3_by_permute(const float *nd, __m256i slot, __m256i lane)
{
	const __m256i o = _mm256_add_epi32(_mm256_slli_epi32(_mm256_sub_epi32(slot, _mm256_set1_epi32(7)), 3), lane);
	const __m512i oz = _mm512_castsi256_si512(o);
	const __m256 lo = _mm512_castps512_ps256(_mm512_permutex2var_ps(_mm512_loadu_ps(nd + 56), oz,
	                                                               _mm512_loadu_ps(nd + 72)));
	const __m256 hi = _mm512_castps512_ps256(_mm512_permutex2var_ps(_mm512_loadu_ps(nd + 88), oz,
	                                                               _mm512_loadu_ps(nd + 104)));
	return sel(lo, hi, o, 5);
}

IF_PACKED_KERNEL(if_path_sum_packed_avx512, lookup_zmm, 1, level3_by_permute)

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

IF_PACKED_KERNEL(if_path_sum_packed_avx512vl, lookup_vl)

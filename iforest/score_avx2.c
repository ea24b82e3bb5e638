/*
 * score_avx2.c — the AVX2 scorer over the padded complete-tree layout (see iforest_int.h).
 *
 * One ymm register holds the current slot of 8 trees (one group). Per level and group:
 * fetch the 8 {threshold, feature} pairs at slot*8 + lane (eight 64-bit loads, then a
 * deinterleave), look up z[feature], and step to 2*slot+1 (left, z <= thr) or 2*slot+2
 * (right). Plain loads, not vpgather: on the AMD Zen 4 host measured, gathers are
 * microcoded and eight loads plus inserts are ~12 % faster for the whole walk.
 *   - Levels 0-2 need no gather: all lanes sit at slot 0, then at one of 2 or 4 slots, so
 *     plain loads and blends on the bits of the slot number do.
 *   - z[feature] comes from registers, not memory, when the model has at most 32 features:
 *     the standardised sample sits in up to four ymm registers, vpermps picks by the low three
 *     bits of the feature number and blends on bits 3 and 4 pick the register. Wider models
 *     (up to 64 features) gather z[feature] from the stack copy instead.
 *   - All groups advance level by level, so up to 16 independent chains are in flight.
 * Leaf values (float, d + c(n)) are summed in double; the result differs from the
 * scalar path only by that float rounding (< 1e-8 in practice).
 * Compiled with -mavx2 -mfma; called only after if_have_avx2() said yes.
 */
#include "iforest_int.h"

#include <immintrin.h>

#define CHUNK 16

static inline __m256 sel(__m256 a, __m256 b, __m256i f, int bit)
{
	return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(f, 31 - bit)));
}

/* z[f] for 8 lanes; nreg = registers holding z (1, 2 or 4), 0 = gather from memory */
static inline __m256 lookup(const __m256 *zr, int nreg, const float *z, __m256i f)
{
	switch (nreg) {
	case 1:
		return _mm256_permutevar8x32_ps(zr[0], f);
	case 2:
		return sel(_mm256_permutevar8x32_ps(zr[0], f), _mm256_permutevar8x32_ps(zr[1], f), f, 3);
	case 4: {
		__m256 lo = sel(_mm256_permutevar8x32_ps(zr[0], f), _mm256_permutevar8x32_ps(zr[1], f), f, 3);
		__m256 hi = sel(_mm256_permutevar8x32_ps(zr[2], f), _mm256_permutevar8x32_ps(zr[3], f), f, 3);
		return sel(lo, hi, f, 4);
	}
	default:
		return _mm256_i32gather_ps(z, f, 4);
	}
}

/* a = pairs of lanes 0-3, b = lanes 4-7 -> thresholds and features in lane order */
static inline void split(__m256 a, __m256 b, __m256 *t, __m256i *f)
{
	*t = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
	*f = _mm256_castpd_si256(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

static inline void load_slot(const if_pair *nd, int slot, __m256 *t, __m256i *f)
{
	const float *p = (const float *)(nd + (size_t)slot * 8);
	split(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), t, f);
}

static inline __m256i step(__m256i idx, __m256 x, __m256 t)
{
	__m256i gt = _mm256_castps_si256(_mm256_cmp_ps(x, t, _CMP_GT_OQ));   /* -1: right */
	return _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(idx, idx), _mm256_set1_epi32(1)), gt);
}

double if_path_sum_avx2(const iforest_model *m, const float *z)
{
	const int G = m->n_groups, D = m->max_depth, S = m->slots;
	const size_t gstride = (size_t)S * 8, lstride = (size_t)(S + 1) * 8;
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
	const int nf = m->n_features;
	const int nreg = nf <= 8 ? 1 : nf <= 16 ? 2 : nf <= 32 ? 4 : 0;
	__m256 zr[4];
	for (int r = 0; r < 4; r++)
		zr[r] = r * 8 < nf ? _mm256_loadu_ps(z + r * 8) : _mm256_setzero_ps();

	for (int g0 = 0; g0 < G; g0 += CHUNK) {
		const int n = G - g0 < CHUNK ? G - g0 : CHUNK;
		__m256i idx[CHUNK];
		for (int k = 0; k < n; k++) {
			const if_pair *nd = m->gnode + (size_t)(g0 + k) * gstride;
			__m256 t0, t1, t2, ta, tb;
			__m256i f0, f1, f2, fa, fb;
			load_slot(nd, 0, &t0, &f0);
			__m256i i1 = step(_mm256_setzero_si256(), lookup(zr, nreg, z, f0), t0);
			if (D == 1) {
				idx[k] = i1;
				continue;
			}
			/* level 1: slot 1 or 2 per lane */
			__m256i r1 = _mm256_sub_epi32(i1, _mm256_set1_epi32(1));
			load_slot(nd, 1, &ta, &fa);
			load_slot(nd, 2, &tb, &fb);
			t1 = sel(ta, tb, r1, 0);
			f1 = _mm256_castps_si256(sel(_mm256_castsi256_ps(fa), _mm256_castsi256_ps(fb), r1, 0));
			__m256i i2 = step(i1, lookup(zr, nreg, z, f1), t1);
			if (D == 2) {
				idx[k] = i2;
				continue;
			}
			/* level 2: slots 3..6 — blends on the two bits of slot - 3 */
			__m256i r2 = _mm256_sub_epi32(i2, _mm256_set1_epi32(3));
			__m256 tc, td;
			__m256i fc, fd;
			load_slot(nd, 3, &ta, &fa);
			load_slot(nd, 4, &tb, &fb);
			load_slot(nd, 5, &tc, &fc);
			load_slot(nd, 6, &td, &fd);
			t2 = sel(sel(ta, tb, r2, 0), sel(tc, td, r2, 0), r2, 1);
			f2 = _mm256_castps_si256(sel(sel(_mm256_castsi256_ps(fa), _mm256_castsi256_ps(fb), r2, 0),
			                             sel(_mm256_castsi256_ps(fc), _mm256_castsi256_ps(fd), r2, 0), r2, 1));
			idx[k] = step(i2, lookup(zr, nreg, z, f2), t2);
		}
		for (int l = 3; l < D; l++) {
			for (int k = 0; k < n; k++) {
				const long long *nd = (const long long *)(m->gnode + (size_t)(g0 + k) * gstride);
				__m256i o = _mm256_add_epi32(_mm256_slli_epi32(idx[k], 3), lane);
				int32_t oi[8] __attribute__((aligned(32)));
				_mm256_store_si256((__m256i *)oi, o);
				__m128i p0 = _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(nd + oi[0])), nd[oi[1]], 1);
				__m128i p1 = _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(nd + oi[2])), nd[oi[3]], 1);
				__m128i p2 = _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(nd + oi[4])), nd[oi[5]], 1);
				__m128i p3 = _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(nd + oi[6])), nd[oi[7]], 1);
				__m256i a = _mm256_inserti128_si256(_mm256_castsi128_si256(p0), p1, 1);
				__m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(p2), p3, 1);
				__m256 t;
				__m256i f;
				split(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), &t, &f);
				idx[k] = step(idx[k], lookup(zr, nreg, z, f), t);
			}
		}
		const __m256i first_leaf = _mm256_set1_epi32(S);
		for (int k = 0; k < n; k++) {
			const float *leaf = m->gleaf + (size_t)(g0 + k) * lstride;
			__m256i o = _mm256_add_epi32(_mm256_slli_epi32(_mm256_sub_epi32(idx[k], first_leaf), 3), lane);
			int32_t oi[8] __attribute__((aligned(32)));
			_mm256_store_si256((__m256i *)oi, o);
			__m256 v = _mm256_setr_ps(leaf[oi[0]], leaf[oi[1]], leaf[oi[2]], leaf[oi[3]],
			                          leaf[oi[4]], leaf[oi[5]], leaf[oi[6]], leaf[oi[7]]);
			acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
			acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
		}
	}
	__m256d s = _mm256_add_pd(acc0, acc1);
	__m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
	return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

void if_standardize_avx2(const double *mean, const double *scale, int d, const double *x, float *z)
{
	int f = 0;
	for (; f + 4 <= d; f += 4) {
		__m256d v = _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(x + f), _mm256_loadu_pd(mean + f)),
		                          _mm256_loadu_pd(scale + f));
		_mm_storeu_ps(z + f, _mm256_cvtpd_ps(v));
	}
	for (; f < d; f++)
		z[f] = (float)((x[f] - mean[f]) / scale[f]);
	for (; f & 7; f++)
		z[f] = 0.0f;
}

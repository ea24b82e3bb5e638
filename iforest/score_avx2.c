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
 * The packed layout (natively trained models) has its own single-sample kernel
 * (packed_kernel.h: one word per slot, the feature an AND away) and a batch kernel below.
 * Compiled with -mavx2 -mfma; called only after if_have_avx2() said yes.
 */
#include "iforest_int.h"

#include <immintrin.h>
#include <string.h>

#include "packed_kernel.h"      /* sel(), step(), packed_feature() and the packed kernel */

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


/* the packed single-sample kernel with z[feature] from vpermps + blends (<= 32 features) or
 * a gather (more) */
static inline __m256 lookup_avx2(const __m256 *zr, int nreg, const float *z, __m256i f)
{
	return lookup(zr, nreg > 4 ? 0 : nreg, z, f);
}
IF_PACKED_KERNEL(if_path_sum_packed_avx2, lookup_avx2, 0, level3_by_gather)

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

/* ---- packed layout: one 32-bit word per slot, the feature in the threshold's low bits ---- */

/* Batch, packed: 8 rows per vector, one tree at a time over a block of 64 rows (the tree's
 * ~1 KB of slots and the 64 standardised rows stay in L1). Per level and vector: the tree's
 * slot word for each row (broadcast + blends for levels 0-2, a gather below), then a gather
 * of Z[row][feature]. The 8 vectors advance level by level, so 8 independent chains
 * overlap. */
void if_path_sums_packed_batch_avx2(const iforest_model *m, const float *Z, size_t n,
                                    size_t zstride, double *sums)
{
	const int T = m->n_trees, D = m->max_depth, S = m->slots;
	const size_t gstride = (size_t)S * 8, lstride = (size_t)(S + 1) * 8;
	const __m256i mask = _mm256_set1_epi32((int)m->pack_mask);
	const __m256i first_leaf = _mm256_set1_epi32(S);
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

	for (size_t r0 = 0; r0 < n; r0 += IF_BATCH_BLOCK) {
		const size_t nb = n - r0 < IF_BATCH_BLOCK ? n - r0 : IF_BATCH_BLOCK;
		const int nv = (int)((nb + 7) / 8);
		const float *Zb = Z + r0 * zstride;
		__m256i roff[IF_BATCH_BLOCK / 8];
		for (int v = 0; v < nv; v++) {
			/* rows past the end repeat the last row; their sums are not stored */
			__m256i r = _mm256_min_epi32(_mm256_add_epi32(_mm256_set1_epi32(v * 8), lane),
			                             _mm256_set1_epi32((int)nb - 1));
			roff[v] = _mm256_mullo_epi32(r, _mm256_set1_epi32((int)zstride));
		}
		/* acc[lane][row]: per tree lane, in double, in group order, then reduced across
		 * lanes exactly like if_path_sum_packed_avx2 does, so batch and single-sample sums
		 * are bit-identical (a confidence percentile never depends on the kernel). */
		double acc[IFOREST_GROUP_TREES][IF_BATCH_BLOCK] __attribute__((aligned(32)));
		memset(acc, 0, sizeof(acc));
		for (int g = 0; g * IFOREST_GROUP_TREES < T; g++) {
			const int lanes = T - g * IFOREST_GROUP_TREES < IFOREST_GROUP_TREES ?
			                  T - g * IFOREST_GROUP_TREES : IFOREST_GROUP_TREES;
			for (int t = 0; t < lanes; t++) {
				const float *nd = m->gpack + (size_t)g * gstride + t;
				const float *leaf = m->gleaf + (size_t)g * lstride + t;
				__m256i idx[IF_BATCH_BLOCK / 8];
				const __m256 w0 = _mm256_set1_ps(nd[0]);
				const __m256i f0 = packed_feature(w0, mask);
				for (int v = 0; v < nv; v++)
					idx[v] = step(_mm256_setzero_si256(),
					              _mm256_i32gather_ps(Zb, _mm256_add_epi32(roff[v], f0), 4), w0);
				if (D >= 2) {
					const __m256 a = _mm256_set1_ps(nd[8]), b = _mm256_set1_ps(nd[16]);
					for (int v = 0; v < nv; v++) {
						__m256i r1 = _mm256_sub_epi32(idx[v], _mm256_set1_epi32(1));
						__m256 w = sel(a, b, r1, 0);
						__m256 x = _mm256_i32gather_ps(Zb, _mm256_add_epi32(roff[v], packed_feature(w, mask)), 4);
						idx[v] = step(idx[v], x, w);
					}
				}
				if (D >= 3) {
					const __m256 a = _mm256_set1_ps(nd[24]), b = _mm256_set1_ps(nd[32]);
					const __m256 c = _mm256_set1_ps(nd[40]), e = _mm256_set1_ps(nd[48]);
					for (int v = 0; v < nv; v++) {
						__m256i r2 = _mm256_sub_epi32(idx[v], _mm256_set1_epi32(3));
						__m256 w = sel(sel(a, b, r2, 0), sel(c, e, r2, 0), r2, 1);
						__m256 x = _mm256_i32gather_ps(Zb, _mm256_add_epi32(roff[v], packed_feature(w, mask)), 4);
						idx[v] = step(idx[v], x, w);
					}
				}
				for (int l = 3; l < D; l++) {
					for (int v = 0; v < nv; v++) {
						__m256 w = _mm256_i32gather_ps(nd, _mm256_slli_epi32(idx[v], 3), 4);
						__m256 x = _mm256_i32gather_ps(Zb, _mm256_add_epi32(roff[v], packed_feature(w, mask)), 4);
						idx[v] = step(idx[v], x, w);
					}
				}
				double *a = acc[t];
				for (int v = 0; v < nv; v++) {
					__m256 lv = _mm256_i32gather_ps(leaf, _mm256_slli_epi32(_mm256_sub_epi32(idx[v], first_leaf), 3), 4);
					_mm256_store_pd(a + v * 8, _mm256_add_pd(_mm256_load_pd(a + v * 8),
					                _mm256_cvtps_pd(_mm256_castps256_ps128(lv))));
					_mm256_store_pd(a + v * 8 + 4, _mm256_add_pd(_mm256_load_pd(a + v * 8 + 4),
					                _mm256_cvtps_pd(_mm256_extractf128_ps(lv, 1))));
				}
			}
		}
		for (size_t i = 0; i < nb; i++)
			sums[r0 + i] = ((acc[0][i] + acc[4][i]) + (acc[2][i] + acc[6][i])) +
			               ((acc[1][i] + acc[5][i]) + (acc[3][i] + acc[7][i]));
	}
}

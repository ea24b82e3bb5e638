/*
 * scaler.c — the StandardScaler in front of the forest, as scikit-learn computes it.
 *
 * fit: mean and population variance (ddof 0) in float64, in one pass over shifted values
 * (the data is read once: it is the largest cost of a fit on 100 k rows); a feature whose
 * variance is within rounding of zero (var <= n*eps*var + (n*mean*eps)^2, sklearn's
 * _is_constant_feature) gets scale 1. The last bits of mean and scale may differ from
 * numpy's pairwise sums; imported sklearn models carry sklearn's own values. transform: z = (x - mean) / scale in float64, then rounded once to float32 — the
 * precision sklearn's trees compare in.
 */
#include "iforest_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

static inline double get(const void *X, int is_f32, size_t i)
{
	return is_f32 ? (double)((const float *)X)[i] : ((const double *)X)[i];
}

int if_check_finite(const double *x, size_t d)
{
	for (size_t f = 0; f < d; f++)
		if (!isfinite(x[f]))
			return IFOREST_E_NONFINITE;
	return IFOREST_OK;
}

/* One pass of shifted sums (shift = the first row, so the sums stay small): a NaN or inf
 * anywhere poisons its column's sums, which is checked once at the end instead of per value. */
int if_scaler_fit(const void *X, int is_f32, size_t n, size_t d, double *mean, double *scale)
{
	double k[IFOREST_MAX_FEATURES], s1[IFOREST_MAX_FEATURES] = {0}, s2[IFOREST_MAX_FEATURES] = {0};
	for (size_t f = 0; f < d; f++)
		k[f] = get(X, is_f32, f);
	if (is_f32) {
		const float *x = X;
		for (size_t r = 0; r < n; r++, x += d)
			for (size_t f = 0; f < d; f++) {
				double t = (double)x[f] - k[f];
				s1[f] += t;
				s2[f] += t * t;
			}
	} else if (d >= 4 && if_have_avx2()) {
		if_scaler_sums_avx2(X, n, d, k, s1, s2);   /* same sums, 4 features per vector */
	} else {
		const double *x = X;
		for (size_t r = 0; r < n; r++, x += d)
			for (size_t f = 0; f < d; f++) {
				double t = x[f] - k[f];
				s1[f] += t;
				s2[f] += t * t;
			}
	}
	for (size_t f = 0; f < d; f++) {
		if (!isfinite(s1[f]) || !isfinite(s2[f])) {
			for (size_t i = f; i < n * d; i += d)
				if (!isfinite(get(X, is_f32, i)))
					return IFOREST_E_NONFINITE;
			return IFOREST_E_INVAL;     /* finite values too large to square (> 1e150) */
		}
		double m1 = s1[f] / (double)n;
		double var = s2[f] / (double)n - m1 * m1;
		if (var < 0)
			var = 0;
		mean[f] = k[f] + m1;
		double bound = (double)n * DBL_EPSILON * var
		             + ((double)n * mean[f] * DBL_EPSILON) * ((double)n * mean[f] * DBL_EPSILON);
		scale[f] = (var <= bound) ? 1.0 : sqrt(var);
		if (!(scale[f] > 0) || !isfinite(scale[f]))
			scale[f] = 1.0;
	}
	return IFOREST_OK;
}

void if_standardize(const iforest_model *m, const double *x, float *z)
{
	if (m->n_features >= 8 && if_have_avx2()) {
		if_standardize_avx2(m->mean, m->scale, m->n_features, x, z);
		return;
	}
	int f = 0;
	for (; f < m->n_features; f++)
		z[f] = (float)((x[f] - m->mean[f]) / m->scale[f]);
	for (; f & 7; f++)
		z[f] = 0.0f;     /* the AVX2 kernel loads whole registers of 8 */
}

/*
 * scaler.c — the StandardScaler in front of the forest, as scikit-learn computes it.
 *
 * fit: mean and population variance in float64 with the two-pass corrected sum that
 * sklearn's _incremental_mean_and_var uses on a first fit; a feature whose variance is within
 * rounding of zero (var <= n*eps*var + (n*mean*eps)^2, sklearn's _is_constant_feature) gets
 * scale 1. transform: z = (x - mean) / scale in float64, then rounded once to float32 — the
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

int if_scaler_fit(const void *X, int is_f32, size_t n, size_t d, double *mean, double *scale)
{
	double sum[IFOREST_MAX_FEATURES] = {0}, corr[IFOREST_MAX_FEATURES] = {0};
	double sq[IFOREST_MAX_FEATURES] = {0};

	for (size_t r = 0; r < n; r++)
		for (size_t f = 0; f < d; f++) {
			double v = get(X, is_f32, r * d + f);
			if (!isfinite(v))
				return IFOREST_E_NONFINITE;
			sum[f] += v;
		}
	for (size_t f = 0; f < d; f++)
		mean[f] = sum[f] / (double)n;
	for (size_t r = 0; r < n; r++)
		for (size_t f = 0; f < d; f++) {
			double t = get(X, is_f32, r * d + f) - mean[f];
			corr[f] += t;
			sq[f] += t * t;
		}
	for (size_t f = 0; f < d; f++) {
		double var = (sq[f] - corr[f] * corr[f] / (double)n) / (double)n;
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
	for (int f = 0; f < m->n_features; f++)
		z[f] = (float)((x[f] - m->mean[f]) / m->scale[f]);
}

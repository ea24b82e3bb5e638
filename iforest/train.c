/*
 * train.c — fitting a forest with scikit-learn's IsolationForest semantics.
 *
 * Per tree (its own generator seeded from (seed, tree)): draw psi distinct rows (Floyd's
 * algorithm over a small hash set), standardise them into a row-major float32 block and
 * grow an extremely randomised tree depth-first, exactly as sklearn's RandomSplitter with
 * max_features=1 does:
 *   - a node is a leaf at depth >= ceil(log2 psi), with fewer than 2 rows, or when every
 *     feature is constant in it (max - min <= 1e-7, absolute);
 *   - the split feature is uniform among the features not constant in the node (constants
 *     found on the way are remembered for the subtree, as sklearn does);
 *   - the threshold is min + (max - min) * U[0,1) in double, set to min if it equals max,
 *     and stored as the largest float <= it, so (float)z <= thr32 iff z <= threshold;
 *   - rows with z <= threshold go left. Nodes are numbered in preorder (left = i + 1).
 * Natively trained models use the packed layout (iforest_int.h): the threshold is then moved
 * to the nearest float in [min, max) whose low ceil(log2 d) mantissa bits spell the feature
 * (<= 2^6 ulp, ~4e-6 relative: still a uniform random split), and the rows are partitioned
 * with that moved value, so leaf sizes match what every scorer sees.
 * sklearn's random regression target only keeps impurity above zero; a node whose target
 * variance falls below 2.2e-16 (two rows drawn within 3e-8 of each other) is the one case
 * not reproduced. Random streams differ from numpy's, so models match sklearn in
 * distribution (AUC), not bit for bit; imported sklearn trees match exactly.
 */
#include "iforest_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void iforest_params_init(iforest_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_trees = 100;
}

size_t if_set_size_for(int psi)
{
	size_t s = 16;
	while (s < 2 * (size_t)psi)
		s <<= 1;
	return s;
}

/* Floyd's sampling of psi distinct numbers in [0, n); set (size power of two, zeroed here)
 * stores value + 1. */
void if_sample_rows(if_rng *r, size_t n, int psi, uint32_t *rows, uint32_t *set,
                    size_t set_size)
{
	memset(set, 0, set_size * sizeof(uint32_t));
	size_t mask = set_size - 1;
	int k = 0;
	for (size_t j = n - (size_t)psi; j < n; j++) {
		uint32_t t = (uint32_t)if_rng_below(r, j + 1);
		size_t h = (t * 0x9e3779b1u) & mask;
		int found = 0;
		while (set[h]) {
			if (set[h] == t + 1) { found = 1; break; }
			h = (h + 1) & mask;
		}
		if (found) {
			t = (uint32_t)j;   /* j was never drawn before: insert it */
			h = (t * 0x9e3779b1u) & mask;
			while (set[h])
				h = (h + 1) & mask;
		}
		set[h] = t + 1;
		rows[k++] = t;
	}
}

typedef struct {
	int start, end, depth, parent;   /* parent >= 0: this frame is parent's right child */
	uint64_t constant;               /* features known constant in this subtree */
} frame;

int if_build_tree(const float *rows, int m, int d, int max_depth, int packed, if_rng *rng,
                  int32_t *idx, if_node *out)
{
	const int bits = packed ? if_pack_bits(d) : 0;
	frame stack[2 * 64 + 4];
	int sp = 0, n_out = 0;
	const uint64_t all = d == 64 ? ~0ULL : ((1ULL << d) - 1);

	for (int i = 0; i < m; i++)
		idx[i] = i;
	stack[sp++] = (frame){0, m, 0, -1, 0};
	while (sp) {
		frame fr = stack[--sp];
		int i = n_out++;
		if (fr.parent >= 0)
			out[fr.parent].right = i;
		if_node *nd = &out[i];
		nd->right = 0;
		nd->thr = 0;
		nd->feature = 0;
		nd->depth = (uint16_t)fr.depth;
		nd->n = fr.end - fr.start;
		if (fr.depth >= max_depth || nd->n < 2)
			continue;

		uint64_t cand = all & ~fr.constant;
		int f = -1;
		float thr = 0;
		while (cand) {
			int pick = (int)if_rng_below(rng, (uint64_t)__builtin_popcountll(cand));
			uint64_t c = cand;
			while (pick--)
				c &= c - 1;
			int g = __builtin_ctzll(c);
			const float *col = rows + g;
			float lo, hi;
			lo = hi = col[(size_t)idx[fr.start] * d];
			for (int k = fr.start + 1; k < fr.end; k++) {
				float v = col[(size_t)idx[k] * d];
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
			if ((double)hi <= (double)lo + IF_FEATURE_THRESHOLD) {
				fr.constant |= 1ULL << g;
				cand &= ~(1ULL << g);
				continue;
			}
			double t = ((double)hi - (double)lo) * if_rng_double(rng) + (double)lo;
			if (t == (double)hi)
				t = (double)lo;
			thr = if_float_floor(t);
			/* Packed: the nearest float in [lo, hi) carrying g in its low bits (<= 2^bits
			 * ulp away: still a uniform split). A range too narrow to hold one is treated
			 * like a constant feature, here and below (sub-ranges are narrower still). */
			if (packed && !if_pack_threshold(thr, lo, hi, g, bits, &thr)) {
				fr.constant |= 1ULL << g;
				cand &= ~(1ULL << g);
				continue;
			}
			f = g;
			break;
		}
		if (f < 0)
			continue;   /* every feature constant here: leaf */

		const float *col = rows + f;
		int a = fr.start, b = fr.end - 1;
		while (a <= b) {
			if (col[(size_t)idx[a] * d] <= thr) {
				a++;
			} else {
				int tmp = idx[a]; idx[a] = idx[b]; idx[b] = tmp;
				b--;
			}
		}
		nd->thr = thr;
		nd->feature = (uint16_t)f;
		nd->right = -1;   /* set when the right child is emitted */
		stack[sp++] = (frame){a, fr.end, fr.depth + 1, i, fr.constant};
		stack[sp++] = (frame){fr.start, a, fr.depth + 1, -1, fr.constant};
	}
	return n_out;
}

static int resolve_psi(const iforest_params *p, size_t n, int *psi)
{
	if (p->max_samples_fraction != 0) {
		if (!(p->max_samples_fraction > 0 && p->max_samples_fraction <= 1))
			return IFOREST_E_INVAL;
		double v = floor(p->max_samples_fraction * (double)n);
		if (v < 1)
			return IFOREST_E_INVAL;
		if (v > (double)(1 << 24))
			return IFOREST_E_INVAL;   /* the file format's bound: 16 M rows per tree */
		*psi = (int)v;
		return IFOREST_OK;
	}
	if (p->max_samples < 0)
		return IFOREST_E_INVAL;
	size_t want = p->max_samples ? (size_t)p->max_samples : 256;
	want = want < n ? want : n;
	if (want > (size_t)1 << 24)
		return IFOREST_E_INVAL;
	*psi = (int)want;
	return IFOREST_OK;
}

static void row_double(const void *X, int is_f32, size_t r, size_t d, double *x)
{
	if (is_f32)
		for (size_t f = 0; f < d; f++)
			x[f] = ((const float *)X)[r * d + f];
	else
		memcpy(x, (const double *)X + r * d, d * sizeof(double));
}

static double score_row(const iforest_model *m, const double *x)
{
	float z[IFOREST_MAX_FEATURES];
	if_standardize(m, x, z);
	double sum = if_path_sum_best(m, z);
	return if_score_from_sum(m, sum);
}

int if_finish_offset_conf(iforest_model *m, const void *X, int is_f32, size_t n, size_t d,
                          int conf_rows)
{
	double x[IFOREST_MAX_FEATURES];
	size_t k = conf_rows < 0 ? n : (size_t)(conf_rows ? conf_rows : IF_DEFAULT_CONF_ROWS);
	if (k > n)
		k = n;
	double *dec = malloc((k ? k : 1) * sizeof(double));
	if (!dec)
		return IFOREST_E_NOMEM;
	if (m->contamination > 0) {
		double *all = malloc(n * sizeof(double));
		if (!all) {
			free(dec);
			return IFOREST_E_NOMEM;
		}
		for (size_t r = 0; r < n; r++) {
			row_double(X, is_f32, r, d, x);
			all[r] = score_row(m, x);
		}
		for (size_t j = 0; j < k; j++)
			dec[j] = all[(size_t)((double)j * (double)n / (double)k)];
		m->offset = if_percentile_linear(all, n, 100.0 * m->contamination);
		free(all);
	} else {
		m->offset = -0.5;
		for (size_t j = 0; j < k; j++) {
			row_double(X, is_f32, (size_t)((double)j * (double)n / (double)k), d, x);
			dec[j] = score_row(m, x);
		}
	}
	for (size_t j = 0; j < k; j++)
		dec[j] -= m->offset;
	int rc = if_model_set_conf(m, dec, k);
	free(dec);
	return rc;
}

int if_train_rows(const void *X, int is_f32, size_t n, size_t d, const iforest_params *p,
                  iforest_model **out)
{
	int psi, rc;
	if (!X || !p || !out)
		return IFOREST_E_INVAL;
	*out = NULL;
	if (d == 0 || d > IFOREST_MAX_FEATURES)
		return IFOREST_E_FEATURES;
	if (n == 0)
		return IFOREST_E_EMPTY;
	if (n > UINT32_MAX || p->n_trees < 1 || p->n_trees > IFOREST_MAX_TREES ||
	    !(p->contamination >= 0 && p->contamination <= 0.5) || p->confidence_rows < -1)
		return IFOREST_E_INVAL;
	if ((rc = resolve_psi(p, n, &psi)) != IFOREST_OK)
		return rc;

	double mean[IFOREST_MAX_FEATURES], scale[IFOREST_MAX_FEATURES];
	if ((rc = if_scaler_fit(X, is_f32, n, d, mean, scale)) != IFOREST_OK)
		return rc;

	const int T = p->n_trees, D = if_depth_for(psi);
	const size_t cap = 2 * (size_t)psi - 1, set_size = if_set_size_for(psi);
	if_node *tmp = malloc((size_t)T * cap * sizeof(if_node));
	uint32_t *rows = malloc((size_t)psi * sizeof(uint32_t));
	uint32_t *set = malloc(set_size * sizeof(uint32_t));
	float *cols = malloc((size_t)psi * d * sizeof(float));
	int32_t *idx = malloc((size_t)psi * sizeof(int32_t));
	size_t *count = malloc((size_t)T * sizeof(size_t));
	iforest_model *m = NULL;
	rc = IFOREST_E_NOMEM;
	if (!tmp || !rows || !set || !cols || !idx || !count)
		goto done;

	size_t total = 0;
	const int avx2 = d >= 4 && if_have_avx2();
	float zbuf[IFOREST_MAX_FEATURES];
	for (int t = 0; t < T; t++) {
		if_rng rng;
		if_rng_seed(&rng, p->seed, (uint64_t)t, 0);
		if (psi == (int)n) {
			for (int i = 0; i < psi; i++)
				rows[i] = (uint32_t)i;
		} else {
			if_sample_rows(&rng, n, psi, rows, set, set_size);
		}
		const size_t row_bytes = d * (is_f32 ? sizeof(float) : sizeof(double));
		for (int i = 0; i < psi; i++) {
			if (i + 16 < psi) {  /* the rows are random: keep ~16 rows in flight */
				const char *next = (const char *)X + (size_t)rows[i + 16] * row_bytes;
				for (size_t b = 0; b < row_bytes; b += 64)
					__builtin_prefetch(next + b);
				__builtin_prefetch(next + row_bytes - 1);
			}
			double x[IFOREST_MAX_FEATURES];
			const double *src = x;
			if (is_f32)
				for (size_t f = 0; f < d; f++)
					x[f] = ((const float *)X)[(size_t)rows[i] * d + f];
			else
				src = (const double *)X + (size_t)rows[i] * d;
			if (avx2)
				if_standardize_avx2(mean, scale, (int)d, src, zbuf);
			else
				for (size_t f = 0; f < d; f++)
					zbuf[f] = (float)((src[f] - mean[f]) / scale[f]);
			memcpy(cols + (size_t)i * d, zbuf, d * sizeof(float));
		}
		count[t] = (size_t)if_build_tree(cols, psi, (int)d, D, 1, &rng, idx, tmp + (size_t)t * cap);
		total += count[t];
	}

	m = if_model_alloc((int)d, T, psi, total, 1);
	if (!m)
		goto done;
	memcpy(m->mean, mean, d * sizeof(double));
	memcpy(m->scale, scale, d * sizeof(double));
	m->seed = p->seed;
	m->contamination = p->contamination;
	for (int t = 0, off = 0; t < T; t++) {
		m->tree_off[t] = (size_t)off;
		memcpy(m->nodes + off, tmp + (size_t)t * cap, count[t] * sizeof(if_node));
		off += (int)count[t];
		m->tree_off[t + 1] = (size_t)off;
		if_model_compile_tree(m, t);
	}
	if_model_finish(m);
	rc = if_finish_offset_conf(m, X, is_f32, n, d, p->confidence_rows);
done:
	free(tmp);
	free(rows);
	free(set);
	free(cols);
	free(idx);
	free(count);
	if (rc != IFOREST_OK) {
		iforest_model_free(m);
		m = NULL;
	}
	*out = m;
	return rc;
}

int iforest_train(const double *X, size_t n_rows, size_t n_features, const iforest_params *p,
                  iforest_model **out)
{
	return if_train_rows(X, 0, n_rows, n_features, p, out);
}

int iforest_train_f32(const float *X, size_t n_rows, size_t n_features,
                      const iforest_params *p, iforest_model **out)
{
	return if_train_rows(X, 1, n_rows, n_features, p, out);
}

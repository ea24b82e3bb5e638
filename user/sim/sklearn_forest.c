/*
 * sim/sklearn_forest.c — scikit-learn's StandardScaler + IsolationForest, draw for draw (see
 * sim/sklearn_forest.h).
 *
 * Three layers, each named after what it reproduces: numpy's legacy RandomState (MT19937,
 * masked bounded integers, permutation), sklearn's sample_without_replacement and bagging,
 * and sklearn's tree builder with its RandomSplitter and rand_r. Comments quote the sklearn
 * names so each step can be held against its source.
 */
#include "sim/sklearn_forest.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SKL_MAX_FEATURES 64 /* a row is standardised on the stack */

/* ---- numpy.random.RandomState (legacy MT19937) ----------------------------------------- */

#define MT_N 624

struct random_state {
	uint32_t key[MT_N];
	int pos;
};

static void random_state_seed(struct random_state *r, uint32_t seed)
{
	for (int i = 0; i < MT_N; i++) {
		r->key[i] = seed;
		seed = 1812433253u * (seed ^ (seed >> 30)) + (uint32_t)i + 1;
	}
	r->pos = MT_N;
}

static uint32_t mt_twist(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t y = (a & 0x80000000u) | (b & 0x7fffffffu);
	return c ^ (y >> 1) ^ ((y & 1) ? 0x9908b0dfu : 0);
}

static void mt_generate(struct random_state *r)
{
	uint32_t *k = r->key;
	int i = 0;
	for (; i < MT_N - 397; i++)
		k[i] = mt_twist(k[i], k[i + 1], k[i + 397]);
	for (; i < MT_N - 1; i++)
		k[i] = mt_twist(k[i], k[i + 1], k[i + 397 - MT_N]);
	k[MT_N - 1] = mt_twist(k[MT_N - 1], k[0], k[396]);
	r->pos = 0;
}

static uint32_t temper(uint32_t y)
{
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= y >> 18;
	return y;
}

static uint32_t next_uint32(struct random_state *r)
{
	if (r->pos >= MT_N)
		mt_generate(r);
	return temper(r->key[r->pos++]);
}

/* The first value RandomState(seed) gives, without seeding all 624 words and generating the
 * whole block: it needs words 0, 1 and 397 of the seeded state only. (A speed-up: each tree
 * draws one value from two fresh states.) */
static uint32_t first_uint32(uint32_t seed)
{
	uint32_t k0 = seed, k1 = 0, k397 = 0;
	for (uint32_t i = 0; i < 397; i++) {
		seed = 1812433253u * (seed ^ (seed >> 30)) + i + 1;
		if (i == 0)
			k1 = seed;
	}
	k397 = seed;
	return temper(mt_twist(k0, k1, k397));
}

/* numpy's random_interval / buffered_bounded_masked_uint32: a value in [0, max] by masking
 * and rejecting (max < 2^32 in every use here). */
static uint32_t bounded(struct random_state *r, uint32_t max)
{
	if (max == 0)
		return 0;
	uint32_t mask = max;
	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	uint32_t v;
	while ((v = next_uint32(r) & mask) > max)
		;
	return v;
}

/* RandomState.randint(high): [0, high) */
static uint32_t randint(struct random_state *r, uint32_t high)
{
	return bounded(r, high - 1);
}

#define INT32_MAX_U 2147483647u /* np.iinfo(np.int32).max, and the tree's RAND_R_MAX */

/* RandomState(seed).randint(2147483647): its first value, unless that one is rejected. */
static uint32_t first_randint_int32_max(uint32_t seed)
{
	uint32_t v = first_uint32(seed) & 0x7fffffffu;
	if (v <= INT32_MAX_U - 1)
		return v;
	struct random_state r; /* rejected (once in 2^31): draw on, the long way */
	random_state_seed(&r, seed);
	return randint(&r, INT32_MAX_U);
}

/* ---- sklearn.utils.random.sample_without_replacement ----------------------------------- */

/* k of n row indices, in sklearn's order of drawing; `taken` is n bytes of scratch. */
static void sample_without_replacement(struct random_state *r, size_t n, size_t k, size_t *out,
                                       unsigned char *taken, size_t *perm)
{
	double ratio = n ? (double)k / (double)n : 1.0;
	if (ratio > 0.01 && ratio < 0.99) { /* rng.permutation(n)[:k] */
		for (size_t i = 0; i < n; i++)
			perm[i] = i;
		for (size_t i = n - 1; i >= 1; i--) {
			size_t j = bounded(r, (uint32_t)i);
			size_t t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		memcpy(out, perm, k * sizeof *out);
	} else if (ratio < 0.2) { /* tracking selection */
		memset(taken, 0, n);
		for (size_t i = 0; i < k; i++) {
			size_t j = randint(r, (uint32_t)n);
			while (taken[j])
				j = randint(r, (uint32_t)n);
			taken[j] = 1;
			out[i] = j;
		}
	} else { /* reservoir sampling */
		for (size_t i = 0; i < k; i++)
			out[i] = i;
		for (size_t i = k; i < n; i++) {
			size_t j = bounded(r, (uint32_t)i); /* randint(0, i + 1) */
			if (j < k)
				out[j] = i;
		}
	}
}

/* ---- the forest ------------------------------------------------------------------------- */

/* A node as scoring walks it: the threshold rounded down to float32, so that for a float32
 * z, z <= thr32 exactly when z <= the float64 threshold; a leaf carries its c(rows). */
struct walk_node {
	float thr32;
	int feature;                 /* -1: a leaf */
	int left, right;
	double leaf_c;
};

struct tree {
	int *feature, *left, *right, *n_node_samples;
	double *threshold;
	struct walk_node *walk;      /* built once the tree is complete */
	size_t n, cap;
};

struct skl_forest {
	size_t d;
	int n_trees, psi;
	double *mean, *scale;
	struct tree *trees;
	double offset;
	double denominator;          /* trees · c(psi) */
	double *training_scores;     /* score_samples of the rows it was fitted on */
	size_t n_rows;
};

static double average_path_length(double n)
{
	if (n <= 1)
		return 0;
	if (n == 2)
		return 1;
	return 2.0 * (log(n - 1.0) + 0.5772156649015329) - 2.0 * (n - 1.0) / n;
}

/* numpy's pairwise summation (pairwise_sum_DOUBLE) of v[0], v[stride], ... (n values) */
static double pairwise_sum(const double *v, size_t n, size_t stride)
{
	if (n < 8) {
		double res = 0.;
		for (size_t i = 0; i < n; i++)
			res += v[i * stride];
		return res;
	}
	if (n <= 128) {
		double r[8];
		for (int j = 0; j < 8; j++)
			r[j] = v[(size_t)j * stride];
		size_t i;
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += v[(i + (size_t)j) * stride];
		double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += v[i * stride];
		return res;
	}
	size_t n2 = n / 2;
	n2 -= n2 % 8;
	return pairwise_sum(v, n2, stride) + pairwise_sum(v + n2 * stride, n - n2, stride);
}

/* np.sum of one contiguous column: numpy's reduction hands the loop at most its buffer size
 * (8192) values at a time, summing each block pairwise onto the running total. */
static double column_sum(const double *v, size_t n)
{
	double total = 0;
	for (size_t i = 0; i < n; i += 8192)
		total += pairwise_sum(v + i, n - i < 8192 ? n - i : 8192, 1);
	return total;
}

/* StandardScaler.fit: _incremental_mean_and_var from nothing, then _is_constant_feature.
 * The pipeline hands sklearn a column-major frame (pandas' values), so numpy sums each
 * column as one contiguous run. */
static void fit_scaler(struct skl_forest *f, const double *X, size_t n, double *col)
{
	const size_t d = f->d;
	const double eps = 2.220446049250313e-16, count = (double)n;
	for (size_t j = 0; j < d; j++) {
		for (size_t i = 0; i < n; i++)
			col[i] = X[i * d + j];
		double sum = column_sum(col, n);
		double mean = sum / count, t = sum / count;
		for (size_t i = 0; i < n; i++)
			col[i] -= t;
		double correction = column_sum(col, n);
		for (size_t i = 0; i < n; i++)
			col[i] *= col[i];
		double unnormalized = column_sum(col, n) - correction * correction / count;
		double var = unnormalized / count;
		double bound = count * eps * var + (count * mean * eps) * (count * mean * eps);
		f->mean[j] = mean;
		f->scale[j] = var <= bound ? 1.0 : sqrt(var);
	}
}

static float standardise(const struct skl_forest *f, size_t j, double x)
{
	return (float)((x - f->mean[j]) / f->scale[j]);
}

static int tree_add_node(struct tree *t, int parent, bool is_left, bool leaf, int feature, double threshold,
                         int n_node_samples)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		int *fe = realloc(t->feature, cap * sizeof *fe);
		if (fe)
			t->feature = fe;
		int *l = realloc(t->left, cap * sizeof *l);
		if (l)
			t->left = l;
		int *r = realloc(t->right, cap * sizeof *r);
		if (r)
			t->right = r;
		int *ns = realloc(t->n_node_samples, cap * sizeof *ns);
		if (ns)
			t->n_node_samples = ns;
		double *th = realloc(t->threshold, cap * sizeof *th);
		if (th)
			t->threshold = th;
		if (!fe || !l || !r || !ns || !th)
			return -1;
		t->cap = cap;
	}
	int id = (int)t->n++;
	if (parent >= 0) {
		if (is_left)
			t->left[parent] = id;
		else
			t->right[parent] = id;
	}
	t->feature[id] = leaf ? -2 : feature;   /* _TREE_UNDEFINED */
	t->threshold[id] = leaf ? -2.0 : threshold;
	t->left[id] = t->right[id] = -1;        /* _TREE_LEAF */
	t->n_node_samples[id] = n_node_samples;
	return id;
}

/* sklearn's our_rand_r / rand_int / rand_uniform (sklearn/tree/_utils.pyx) */
static uint32_t our_rand_r(uint32_t *seed)
{
	if (*seed == 0)
		*seed = 1; /* DEFAULT_SEED */
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return *seed % (INT32_MAX_U + 1u);
}

static size_t rand_int(size_t low, size_t high, uint32_t *seed)
{
	return low + our_rand_r(seed) % (high - low);
}

static double rand_uniform(double low, double high, uint32_t *seed)
{
	return ((high - low) * (double)our_rand_r(seed) / (double)INT32_MAX_U) + low;
}

/* What the splitter keeps between nodes of one tree (RandomSplitter's fields). */
struct splitter {
	const float *Z;          /* rows × d, standardised */
	size_t d;
	size_t *samples;         /* the tree's rows, partitioned node by node */
	float *xf;               /* feature_values */
	size_t *features, *constant_features;
	uint32_t rand_r_state;
};

struct split {
	size_t pos;              /* end: no split */
	int feature;
	double threshold;
};

/* RandomSplitter.node_split with max_features = 1 on samples[start, end). */
static void node_split(struct splitter *s, size_t start, size_t end, size_t *n_constant_features,
                       struct split *best)
{
	const size_t d = s->d;
	size_t *features = s->features, *constant = s->constant_features, *samples = s->samples;
	float *xf = s->xf;
	size_t f_i = d, n_found = 0, n_drawn = 0, n_known = *n_constant_features, n_total = n_known;
	size_t n_visited = 0;
	best->pos = end;
	best->feature = 0;
	best->threshold = 0;
	while (f_i > n_total && (n_visited < 1 || n_visited <= n_found + n_drawn)) {
		n_visited++;
		size_t f_j = rand_int(n_drawn, f_i - n_found, &s->rand_r_state);
		if (f_j < n_known) {
			size_t t = features[n_drawn];
			features[n_drawn] = features[f_j];
			features[f_j] = t;
			n_drawn++;
			continue;
		}
		f_j += n_found;
		size_t feature = features[f_j];
		float lo = s->Z[samples[start] * d + feature], hi = lo;
		xf[start] = lo;
		for (size_t p = start + 1; p < end; p++) {
			float v = s->Z[samples[p] * d + feature];
			xf[p] = v;
			if (v < lo)
				lo = v;
			else if (v > hi)
				hi = v;
		}
		if ((double)hi <= (double)lo + 1e-7) { /* FEATURE_THRESHOLD: constant here */
			features[f_j] = features[n_total];
			features[n_total] = feature;
			n_found++;
			n_total++;
			continue;
		}
		f_i--;
		size_t t = features[f_i];
		features[f_i] = features[f_j];
		features[f_j] = t;
		double threshold = rand_uniform(lo, hi, &s->rand_r_state);
		if (threshold == (double)hi)
			threshold = lo;
		size_t p = start, part_end = end;
		while (p < part_end) {
			if ((double)xf[p] <= threshold) {
				p++;
			} else {
				part_end--;
				float fv = xf[p];
				xf[p] = xf[part_end];
				xf[part_end] = fv;
				size_t sv = samples[p];
				samples[p] = samples[part_end];
				samples[part_end] = sv;
			}
		}
		/* both sides hold a row (threshold in [min, max)): the split stands */
		best->pos = part_end;
		best->feature = (int)feature;
		best->threshold = threshold;
	}
	memcpy(features, constant, n_known * sizeof *features);
	memcpy(constant + n_known, features + n_known, n_found * sizeof *constant);
	*n_constant_features = n_total;
}

struct stack_record {
	size_t start, end, depth, n_constant_features;
	int parent;
	bool is_left;
};

/* DepthFirstTreeBuilder.build over the splitter's samples[0, n). */
static int build_tree(struct tree *t, struct splitter *s, size_t n, size_t max_depth,
                      struct stack_record *stack)
{
	size_t top = 0;
	stack[top++] = (struct stack_record){ .start = 0, .end = n, .depth = 0, .parent = -1 };
	while (top > 0) {
		struct stack_record r = stack[--top];
		size_t n_node = r.end - r.start;
		bool leaf = r.depth >= max_depth || n_node < 2;
		struct split sp = { .pos = r.end };
		size_t n_constant = r.n_constant_features;
		if (!leaf) {
			node_split(s, r.start, r.end, &n_constant, &sp);
			leaf = sp.pos >= r.end;
		}
		int id = tree_add_node(t, r.parent, r.is_left, leaf, sp.feature, sp.threshold, (int)n_node);
		if (id < 0)
			return -1;
		if (!leaf) {
			stack[top++] = (struct stack_record){ sp.pos, r.end, r.depth + 1, n_constant, id, false };
			stack[top++] = (struct stack_record){ r.start, sp.pos, r.depth + 1, n_constant, id, true };
		}
	}
	return 0;
}

void skl_forest_free(struct skl_forest *f)
{
	if (!f)
		return;
	for (int i = 0; f->trees && i < f->n_trees; i++) {
		free(f->trees[i].feature);
		free(f->trees[i].left);
		free(f->trees[i].right);
		free(f->trees[i].n_node_samples);
		free(f->trees[i].threshold);
		free(f->trees[i].walk);
	}
	free(f->trees);
	free(f->training_scores);
	free(f->mean);
	free(f->scale);
	free(f);
}

static int tree_make_walk(struct tree *t)
{
	t->walk = malloc(t->n * sizeof *t->walk);
	if (!t->walk)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		struct walk_node *w = &t->walk[i];
		w->left = t->left[i];
		w->right = t->right[i];
		w->feature = t->left[i] >= 0 ? t->feature[i] : -1;
		w->leaf_c = average_path_length((double)t->n_node_samples[i]);
		float thr = (float)t->threshold[i];
		if ((double)thr > t->threshold[i])
			thr = nextafterf(thr, -INFINITY);
		w->thr32 = thr;
	}
	return 0;
}

/* score_samples from the summed path lengths (sklearn's _compute_score_samples) */
static double score_from_depths(const struct skl_forest *f, double depths)
{
	double q = f->denominator != 0 ? depths / f->denominator : 1.0;
	return -pow(2.0, -q);
}

/* One tree's term for one row: nodes on its path + c(rows in its leaf) - 1. */
static double path_term(const struct walk_node *w, const float *z)
{
	const struct walk_node *node = w;
	int nodes = 1;
	while (node->feature >= 0) {
		node = &w[z[node->feature] <= node->thr32 ? node->left : node->right];
		nodes++;
	}
	return ((double)nodes + node->leaf_c) - 1.0;
}

static double score_z(const struct skl_forest *f, const float *z)
{
	double depths = 0;
	for (int k = 0; k < f->n_trees; k++)
		depths += path_term(f->trees[k].walk, z);
	return score_from_depths(f, depths);
}

/* score_z of n rows, tree by tree (each row still sums its trees in order: the same sums). */
static void score_rows(const struct skl_forest *f, const float *Z, size_t n, double *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = 0;
	for (int k = 0; k < f->n_trees; k++) {
		const struct walk_node *w = f->trees[k].walk;
		for (size_t i = 0; i < n; i++)
			out[i] += path_term(w, Z + i * f->d);
	}
	for (size_t i = 0; i < n; i++)
		out[i] = score_from_depths(f, out[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* np.percentile(v, q) with numpy's default linear method, v sorted ascending. */
static double percentile_linear(const double *v, size_t n, double q)
{
	double virtual_index = (double)(n - 1) * (q / 100.0);
	double below = floor(virtual_index);
	size_t lo = (size_t)below, hi = lo + 1;
	if (virtual_index >= (double)(n - 1)) {
		lo = hi = n - 1;
		below = virtual_index; /* gamma is then unused: a == b */
	}
	if (virtual_index < 0)
		lo = hi = 0;
	double gamma = virtual_index - below, a = v[lo], b = v[hi], diff = b - a;
	return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

struct skl_forest *skl_forest_fit(const double *X, size_t n, size_t d, const struct skl_params *p)
{
	if (n == 0 || d == 0 || d > SKL_MAX_FEATURES || p->n_estimators <= 0 || n > INT32_MAX_U)
		return NULL;
	struct skl_forest *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->d = d;
	f->n_trees = p->n_estimators;
	f->psi = p->max_samples > 0 && (size_t)p->max_samples < n ? p->max_samples : (int)n;
	size_t psi = (size_t)f->psi;
	size_t max_depth = (size_t)ceil(log2(psi > 2 ? (double)psi : 2.0));
	f->mean = malloc(d * sizeof *f->mean);
	f->scale = malloc(d * sizeof *f->scale);
	f->trees = calloc((size_t)f->n_trees, sizeof *f->trees);
	float *Z = malloc(n * d * sizeof *Z);
	double *col = malloc(n * sizeof *col);
	uint32_t *seeds = malloc((size_t)f->n_trees * sizeof *seeds);
	size_t *drawn = malloc(psi * sizeof *drawn), *perm = malloc(n * sizeof *perm);
	size_t *features = malloc(d * sizeof *features), *constant = malloc(d * sizeof *constant);
	unsigned char *taken = malloc(n);
	float *xf = malloc(n * sizeof *xf);
	size_t *samples = malloc(psi * sizeof *samples);
	struct stack_record *stack = malloc((2 * max_depth + 2) * sizeof *stack);
	int rc = -1;
	if (!f->mean || !f->scale || !f->trees || !Z || !col || !seeds || !drawn || !perm || !features ||
	    !constant || !taken || !xf || !samples || !stack)
		goto out;

	fit_scaler(f, X, n, col);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			Z[i * d + j] = standardise(f, j, X[i * d + j]);

	/* BaseBagging._fit: a fresh RandomState(random_state) draws one seed per tree */
	struct random_state bag;
	random_state_seed(&bag, p->random_state);
	for (int k = 0; k < f->n_trees; k++)
		seeds[k] = randint(&bag, INT32_MAX_U);
	f->denominator = (double)f->n_trees * average_path_length((double)psi);

	for (int k = 0; k < f->n_trees; k++) {
		/* _make_estimator: the tree's random_state from RandomState(seed) */
		uint32_t tree_random_state = first_randint_int32_max(seeds[k]);
		/* _generate_bagging_indices: RandomState(seed) again, all features (no draw), rows */
		struct random_state idx;
		random_state_seed(&idx, seeds[k]);
		sample_without_replacement(&idx, n, psi, drawn, taken, perm);
		/* the rows reach the tree as nonzero sample weights: in row order */
		memset(taken, 0, n);
		for (size_t i = 0; i < psi; i++)
			taken[drawn[i]] = 1;
		size_t m = 0;
		for (size_t i = 0; i < n && m < psi; i++)
			if (taken[i])
				samples[m++] = i;
		/* BaseDecisionTree.fit → Splitter.init: rand_r_state = randint(0, RAND_R_MAX) */
		for (size_t j = 0; j < d; j++)
			features[j] = j;
		struct splitter s = { .Z = Z, .d = d, .samples = samples, .xf = xf, .features = features,
		                      .constant_features = constant,
		                      .rand_r_state = first_randint_int32_max(tree_random_state) };
		if (build_tree(&f->trees[k], &s, m, max_depth, stack) != 0 || tree_make_walk(&f->trees[k]) != 0)
			goto out;
	}

	/* offset_ = np.percentile(score_samples(X), 100 · contamination) */
	f->training_scores = malloc(n * sizeof *f->training_scores);
	if (!f->training_scores)
		goto out;
	f->n_rows = n;
	score_rows(f, Z, n, f->training_scores);
	if (p->contamination > 0) {
		memcpy(col, f->training_scores, n * sizeof *col);
		qsort(col, n, sizeof *col, cmp_double);
		f->offset = percentile_linear(col, n, 100.0 * p->contamination);
	} else {
		f->offset = -0.5;
	}
	rc = 0;
out:
	free(Z);
	free(col);
	free(seeds);
	free(drawn);
	free(perm);
	free(features);
	free(constant);
	free(taken);
	free(xf);
	free(samples);
	free(stack);
	if (rc != 0) {
		skl_forest_free(f);
		return NULL;
	}
	return f;
}

static void standardise_row(const struct skl_forest *f, const double *x, float *z)
{
	for (size_t j = 0; j < f->d; j++)
		z[j] = standardise(f, j, x[j]);
}

void skl_forest_score(const struct skl_forest *f, const double *x, double *score_samples, double *decision)
{
	float z[SKL_MAX_FEATURES];
	standardise_row(f, x, z);
	double s = score_z(f, z);
	*score_samples = s;
	*decision = s - f->offset;
}

int skl_forest_explain(const struct skl_forest *f, const double *x, struct skl_contrib *out, size_t max_out)
{
	float z[SKL_MAX_FEATURES];
	double credit[SKL_MAX_FEATURES] = { 0 }, total = 0;
	if (f->d > SKL_MAX_FEATURES)
		return 0;
	standardise_row(f, x, z);
	for (int k = 0; k < f->n_trees; k++) {
		const struct tree *t = &f->trees[k];
		int node = 0;
		while (t->left[node] >= 0) {
			int next = (double)z[t->feature[node]] <= t->threshold[node] ? t->left[node] : t->right[node];
			double bits = log2((double)t->n_node_samples[node] / (double)t->n_node_samples[next]);
			credit[t->feature[node]] += bits;
			total += bits;
			node = next;
		}
	}
	if (!(total > 0))
		return 0;
	size_t k = 0;
	bool used[SKL_MAX_FEATURES] = { false };
	for (; k < max_out; k++) {
		int best = -1;
		for (size_t j = 0; j < f->d; j++)
			if (!used[j] && credit[j] > 0 && (best < 0 || credit[j] > credit[best]))
				best = (int)j;
		if (best < 0)
			break;
		used[best] = true;
		out[k] = (struct skl_contrib){ best, credit[best] / total };
	}
	return (int)k;
}

const double *skl_forest_training_scores(const struct skl_forest *f, size_t *n)
{
	*n = f->n_rows;
	return f->training_scores;
}

double skl_forest_offset(const struct skl_forest *f)
{
	return f->offset;
}

size_t skl_forest_tree(const struct skl_forest *f, size_t tree, const int **feature, const double **threshold,
                       const int **left, const int **right, const int **n_node_samples)
{
	const struct tree *t = &f->trees[tree];
	*feature = t->feature;
	*threshold = t->threshold;
	*left = t->left;
	*right = t->right;
	*n_node_samples = t->n_node_samples;
	return t->n;
}

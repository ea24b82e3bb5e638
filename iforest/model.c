/*
 * model.c — allocation, compilation and bookkeeping of a model.
 *
 * Trees arrive in their canonical preorder form (from training, import or a file) and
 * if_model_compile_tree() derives everything scoring needs from them: the per-node path
 * length value (depth + c(n)) and the tree's lane in the padded complete-tree SIMD layout.
 * A model is immutable once published; only its reference count changes.
 */
#include "iforest_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EULER_GAMMA 0.5772156649015329

double if_c(double n)
{
	if (n <= 1.0)
		return 0.0;
	if (n <= 2.0)
		return 1.0;
	return 2.0 * (log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n;
}

int if_depth_for(int psi)
{
	int v = psi < 2 ? 2 : psi, d = 0;
	while ((1LL << d) < v)
		d++;
	return d;
}

float if_float_floor(double t)
{
	float f = (float)t;
	if ((double)f > t)
		f = nextafterf(f, -INFINITY);
	return f;
}

static void *xcalloc(iforest_model *m, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / n)
		return NULL;
	void *p = calloc(n ? n : 1, size);
	if (p)
		m->bytes += n * size;
	return p;
}

int if_pack_bits(int n_features)
{
	int b = 0;
	while ((1 << b) < n_features)
		b++;
	return b;
}

/* Candidates share thr's sign (its magnitude with the low bits replaced, one step below,
 * at, and above) plus the two smallest magnitudes of either sign, for ranges around 0. */
int if_pack_threshold(float thr, float lo, float hi, int f, int bits, float *out)
{
	const uint32_t mask = (1u << bits) - 1, step = 1u << bits;
	const uint32_t u = if_f32_bits(thr), sign = u & 0x80000000u, mag = u & 0x7fffffffu;
	const uint32_t base = (mag & ~mask) | (uint32_t)f;
	uint32_t cand[5];
	int nc = 0;
	cand[nc++] = sign | base;
	if (base >= step)
		cand[nc++] = sign | (base - step);
	cand[nc++] = sign | (base + step);
	cand[nc++] = (uint32_t)f;
	cand[nc++] = 0x80000000u | (uint32_t)f;
	int found = 0;
	double best = INFINITY;
	for (int i = 0; i < nc; i++) {
		if ((cand[i] & 0x7fffffffu) >= 0x7f800000u)
			continue;                  /* inf or NaN */
		float v = if_bits_f32(cand[i]);
		if (!(v >= lo && v < hi))
			continue;
		double dist = fabs((double)v - (double)thr);
		if (dist < best) {
			best = dist;
			*out = v;
			found = 1;
		}
	}
	return found ? -1 : 0;
}

iforest_model *if_model_alloc(int n_features, int n_trees, int psi, size_t n_nodes, int packed)
{
	iforest_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->bytes = sizeof(*m);
	m->n_features = n_features;
	m->n_trees = n_trees;
	m->psi = psi;
	m->max_depth = if_depth_for(psi);
	m->offset = -0.5;
	m->denom = (double)n_trees * if_c(psi);
	m->n_nodes = n_nodes;
	m->mean = xcalloc(m, n_features, sizeof(double));
	m->scale = xcalloc(m, n_features, sizeof(double));
	m->importance = xcalloc(m, n_features, sizeof(double));
	m->tree_off = xcalloc(m, (size_t)n_trees + 1, sizeof(size_t));
	m->nodes = xcalloc(m, n_nodes, sizeof(if_node));
	m->value = xcalloc(m, n_nodes, sizeof(double));
	if (!m->mean || !m->scale || !m->importance || !m->tree_off || !m->nodes || !m->value)
		goto fail;
	m->n_groups = (n_trees + IFOREST_GROUP_TREES - 1) / IFOREST_GROUP_TREES;
	if (m->max_depth <= IF_SIMD_MAX_DEPTH) {
		size_t leaves = (size_t)1 << m->max_depth;
		size_t ng = (size_t)m->n_groups;
		m->slots = (int)(leaves - 1);
		m->gleaf = xcalloc(m, ng * leaves * 8, sizeof(float));
		if (packed) {
			m->gpack = xcalloc(m, ng * m->slots * 8, sizeof(float));
			if (!m->gleaf || !m->gpack)
				goto fail;
			for (size_t i = 0; i < ng * m->slots * 8; i++)
				m->gpack[i] = INFINITY;      /* pass-through everywhere until compiled */
		} else {
			m->gnode = xcalloc(m, ng * m->slots * 8, sizeof(if_pair));
			if (!m->gnode || !m->gleaf)
				goto fail;
			for (size_t i = 0; i < ng * m->slots * 8; i++)
				m->gnode[i].thr = INFINITY;  /* pass-through everywhere until compiled */
		}
		m->simd = 1;
	}
	m->packed = packed;
	m->pack_bits = packed ? if_pack_bits(n_features) : 0;
	m->pack_mask = (1u << m->pack_bits) - 1;
	return m;
fail:
	iforest_model_free(m);
	return NULL;
}

/* Place node i of tree t (at complete-tree slot s, depth k) and its subtree in lane `lane`. */
static void place(iforest_model *m, const if_node *nodes, const double *value, int i, int s,
                  int k, if_pair *node, float *pack, float *leaf)
{
	const int D = m->max_depth;
	for (;;) {
		const if_node *nd = &nodes[i];
		if (nd->right == 0) {
			int slot = s;
			for (int j = k; j < D; j++)
				slot = 2 * slot + 1;   /* pass-through nodes keep going left */
			leaf[(size_t)(slot - m->slots) * 8] = (float)value[i];
			return;
		}
		if (pack) {
			pack[(size_t)s * 8] = nd->thr;   /* its low bits are nd->feature (checked on load) */
		} else {
			node[(size_t)s * 8].thr = nd->thr;
			node[(size_t)s * 8].feat = nd->feature;
		}
		place(m, nodes, value, nd->right, 2 * s + 2, k + 1, node, pack, leaf);
		i = i + 1;
		s = 2 * s + 1;
		k++;
	}
}

void if_model_compile_tree(iforest_model *m, int t)
{
	if_node *nodes = m->nodes + m->tree_off[t];
	double *value = m->value + m->tree_off[t];
	size_t n = m->tree_off[t + 1] - m->tree_off[t];
	for (size_t i = 0; i < n; i++)
		value[i] = (double)nodes[i].depth + if_c((double)nodes[i].n);
	if (!m->simd)
		return;
	int g = t / IFOREST_GROUP_TREES, lane = t % IFOREST_GROUP_TREES;
	size_t leaves = (size_t)1 << m->max_depth;
	if_pair *node = m->packed ? NULL : m->gnode + (size_t)g * m->slots * 8 + lane;
	float *pack = m->packed ? m->gpack + (size_t)g * m->slots * 8 + lane : NULL;
	float *leaf = m->gleaf + (size_t)g * leaves * 8 + lane;
	for (int s = 0; s < m->slots; s++) {
		if (pack) {
			pack[(size_t)s * 8] = INFINITY;
		} else {
			node[(size_t)s * 8].thr = INFINITY;
			node[(size_t)s * 8].feat = 0;
		}
	}
	for (size_t l = 0; l < leaves; l++)
		leaf[l * 8] = 0.0f;
	place(m, nodes, value, 0, 0, 0, node, pack, leaf);
}

void if_model_finish(iforest_model *m)
{
	double total = 0;
	memset(m->importance, 0, sizeof(double) * m->n_features);
	for (int t = 0; t < m->n_trees; t++) {
		const if_node *nodes = m->nodes + m->tree_off[t];
		size_t n = m->tree_off[t + 1] - m->tree_off[t];
		double root = nodes[0].n > 0 ? nodes[0].n : 1;
		for (size_t i = 0; i < n; i++) {
			if (nodes[i].right == 0)
				continue;
			/* reach probability x expected bits of isolation (entropy of the split) */
			double nn = nodes[i].n, pl = nodes[i + 1].n / nn, pr = nodes[nodes[i].right].n / nn;
			double w = (nn / root) * (-pl * log2(pl) - pr * log2(pr));
			m->importance[nodes[i].feature] += w;
			total += w;
		}
	}
	if (total > 0)
		for (int f = 0; f < m->n_features; f++)
			m->importance[f] /= total;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int if_model_set_conf(iforest_model *m, const double *decisions, size_t n)
{
	double *c = n ? malloc(n * sizeof(double)) : NULL;
	if (n && !c)
		return IFOREST_E_NOMEM;
	for (size_t i = 0; i < n; i++)
		c[i] = fabs(decisions[i]);
	qsort(c, n, sizeof(double), cmp_double);
	if (m->conf)
		m->bytes -= m->n_conf * sizeof(double);
	free(m->conf);
	m->conf = c;
	m->n_conf = n;
	m->bytes += n * sizeof(double);
	return IFOREST_OK;
}

/* numpy.percentile(a, q), method "linear", reproducing numpy 1.24's arithmetic:
 * virtual index = n*q + (1 - q) - 1 with q = q_percent / 100, then _lerp. */
double if_percentile_linear(double *a, size_t n, double q_percent)
{
	qsort(a, n, sizeof(double), cmp_double);
	double q = q_percent / 100.0;
	double vi = (double)n * q + (1.0 + q * (1.0 - 1.0 - 1.0)) - 1.0;
	if (vi < 0)
		vi = 0;
	if (vi > (double)(n - 1))
		vi = (double)(n - 1);
	double lo = floor(vi);
	double gamma = vi - lo;
	size_t i = (size_t)lo, j = i + 1 < n ? i + 1 : i;
	double x = a[i], y = a[j], diff = y - x;
	return gamma >= 0.5 ? y - diff * (1.0 - gamma) : x + diff * gamma;
}

const iforest_model *iforest_model_ref(const iforest_model *m)
{
	if (m)
		atomic_fetch_add_explicit(&((iforest_model *)m)->refs, 1, memory_order_relaxed);
	return m;
}

void iforest_model_free(const iforest_model *cm)
{
	iforest_model *m = (iforest_model *)cm;
	if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(m->mean);
	free(m->scale);
	free(m->importance);
	free(m->tree_off);
	free(m->nodes);
	free(m->value);
	free(m->gnode);
	free(m->gpack);
	free(m->gleaf);
	free(m->conf);
	free(m);
}

void iforest_model_info(const iforest_model *m, iforest_info *info)
{
	memset(info, 0, sizeof(*info));
	if (!m)
		return;
	info->n_features = m->n_features;
	info->n_trees = m->n_trees;
	info->max_samples = m->psi;
	info->max_depth = m->max_depth;
	info->offset = m->offset;
	info->contamination = m->contamination;
	info->seed = m->seed;
	info->generation = m->generation;
	info->n_nodes = m->n_nodes;
	info->bytes = m->bytes;
	info->confidence_rows = m->n_conf;
	info->simd_layout = m->simd;
	info->packed_layout = m->packed;
}

int iforest_feature_importances(const iforest_model *m, double *out, size_t n_features)
{
	if (!m || !out)
		return IFOREST_E_INVAL;
	if (n_features != (size_t)m->n_features)
		return IFOREST_E_FEATURES;
	memcpy(out, m->importance, sizeof(double) * n_features);
	return IFOREST_OK;
}

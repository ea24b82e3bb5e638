/*
 * score_scalar.c — the portable reference scorer over the canonical preorder nodes.
 *
 * Four trees are walked side by side so their independent load chains overlap; each step is
 * branch-free (a leaf points to itself), and every tree takes exactly max_depth steps.
 * Path lengths are summed in double.
 */
#include "iforest_int.h"

static inline int step(const if_node *t, int i, const float *z)
{
	const if_node *nd = &t[i];
	int next = z[nd->feature] <= nd->thr ? i + 1 : nd->right;
	return nd->right ? next : i;
}

double if_path_sum_scalar(const iforest_model *m, const float *z)
{
	const int T = m->n_trees, D = m->max_depth;
	const if_node *nodes = m->nodes;
	const double *val = m->value;
	const size_t *off = m->tree_off;
	double sum = 0;
	int t = 0;

	for (; t + 4 <= T; t += 4) {
		const if_node *a = nodes + off[t], *b = nodes + off[t + 1];
		const if_node *c = nodes + off[t + 2], *e = nodes + off[t + 3];
		int ia = 0, ib = 0, ic = 0, ie = 0;
		for (int l = 0; l < D; l++) {
			ia = step(a, ia, z);
			ib = step(b, ib, z);
			ic = step(c, ic, z);
			ie = step(e, ie, z);
		}
		sum += val[off[t] + ia] + val[off[t + 1] + ib] + val[off[t + 2] + ic]
		     + val[off[t + 3] + ie];
	}
	for (; t < T; t++) {
		const if_node *a = nodes + off[t];
		int ia = 0;
		for (int l = 0; l < D; l++)
			ia = step(a, ia, z);
		sum += val[off[t] + ia];
	}
	return sum;
}

/* The packed layout's reference walk: the same complete-tree slots the AVX2 kernels read,
 * the feature decoded from each threshold's low mantissa bits, one tree at a time. It checks
 * the packed encoding itself (the preorder walk above never looks at those bits). */
double if_path_sum_packed_scalar(const iforest_model *m, const float *z)
{
	const int T = m->n_trees, D = m->max_depth, S = m->slots;
	const uint32_t mask = m->pack_mask;
	double sum = 0;
	for (int t = 0; t < T; t++) {
		const int g = t / IFOREST_GROUP_TREES, lane = t % IFOREST_GROUP_TREES;
		const float *nd = m->gpack + (size_t)g * S * 8 + lane;
		const float *leaf = m->gleaf + (size_t)g * (S + 1) * 8 + lane;
		int s = 0;
		for (int l = 0; l < D; l++) {
			float w = nd[(size_t)s * 8];
			s = z[if_f32_bits(w) & mask] <= w ? 2 * s + 1 : 2 * s + 2;
		}
		sum += leaf[(size_t)(s - S) * 8];
	}
	return sum;
}

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

/*
 * explain.c — which features isolated one sample.
 *
 * The sample is walked down every tree; each split on its path credits its feature with
 * the bits of isolation it gave: log2(rows in the node / rows in the child the sample went
 * to), counted on the training rows (n_node_samples). A cut that leaves the sample with few
 * companions weighs much; a cut through the bulk (about one bit) weighs little, so a row that
 * is ordinary in nine features and extreme in one is explained by that one, even though most
 * splits on its path used the others. Along one path the credits add up to
 * log2(psi / leaf rows). Totals are normalised to shares summing to 1 and the largest are
 * returned. The same credit, averaged over the training rows, gives the importances.
 */
#include "iforest_int.h"

#include <math.h>

int iforest_explain(const iforest_model *m, const double *x, size_t n_features,
                    iforest_contrib *out, size_t max_out)
{
	if (!m || !x || (!out && max_out))
		return IFOREST_E_INVAL;
	if (n_features != (size_t)m->n_features)
		return IFOREST_E_FEATURES;
	if (if_check_finite(x, n_features) != IFOREST_OK)
		return IFOREST_E_NONFINITE;

	float z[IFOREST_MAX_FEATURES];
	double w[IFOREST_MAX_FEATURES] = {0}, total = 0;
	if_standardize(m, x, z);
	for (int t = 0; t < m->n_trees; t++) {
		const if_node *nodes = m->nodes + m->tree_off[t];
		int i = 0;
		while (nodes[i].right) {
			int next = z[nodes[i].feature] <= nodes[i].thr ? i + 1 : nodes[i].right;
			double c = log2((double)nodes[i].n / (double)nodes[next].n);
			w[nodes[i].feature] += c;
			total += c;
			i = next;
		}
	}
	if (total <= 0)
		return 0;

	int used[IFOREST_MAX_FEATURES] = {0};
	size_t k = 0;
	for (; k < max_out; k++) {
		int best = -1;
		for (int f = 0; f < m->n_features; f++)
			if (!used[f] && w[f] > 0 && (best < 0 || w[f] > w[best]))
				best = f;
		if (best < 0)
			break;
		used[best] = 1;
		out[k].feature = best;
		out[k].share = w[best] / total;
	}
	return (int)k;
}

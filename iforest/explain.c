/*
 * explain.c — which features isolated one sample.
 *
 * The sample is walked down every tree; each split on its path adds 1/(depth+1) to the
 * split's feature, so the first cuts — the ones that separate an outlier from the bulk —
 * weigh most. Totals are normalised to shares summing to 1 and the largest are returned.
 * The same weights, averaged over the training rows, are the model's feature importances.
 */
#include "iforest_int.h"

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
			double c = 1.0 / (nodes[i].depth + 1.0);
			w[nodes[i].feature] += c;
			total += c;
			i = z[nodes[i].feature] <= nodes[i].thr ? i + 1 : nodes[i].right;
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

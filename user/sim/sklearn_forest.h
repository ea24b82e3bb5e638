/*
 * sim/sklearn_forest.h — the reference's model bit for bit: scikit-learn's
 * Pipeline(StandardScaler, IsolationForest(random_state=R)) trained on the same rows.
 *
 * The iforest library (iforest/iforest.h) scores sklearn's trees exactly, but trains its own
 * with its own random stream: its forests match sklearn's in distribution, not tree by tree.
 * The reference's confidence is a percentile of one row's |decision| among the training
 * rows', so a min_confidence gate decides on per-row ranks, and only the very same trees give
 * the very same ranks. This file therefore redoes what sklearn 1.2–1.5 does with a seed:
 *
 *   scaler   mean and population variance per column with numpy's pairwise sums (the frame
 *            is column-major there), sklearn's corrected two-pass variance, scale 1 for a
 *            column _is_constant_feature calls constant; z = (x - mean) / scale, as float32;
 *   bagging  a fresh RandomState(R) (MT19937, numpy's legacy bounded integers) draws one
 *            seed per tree; per tree RandomState(seed) draws the tree's own random_state and
 *            then its rows: permutation(n)[:psi] when 0.01 < psi/n < 0.99, else reservoir or
 *            tracking selection, as sklearn.utils.random.sample_without_replacement; the tree
 *            sees its rows in row order (sklearn passes them as nonzero sample weights);
 *   a tree   sklearn's depth-first builder with its RandomSplitter (max_features 1): the
 *            splitter's rand_r seeded from RandomState(random_state), features drawn by its
 *            Fisher-Yates over a feature array that carries over from node to node, constant
 *            features (max - min <= 1e-7) remembered for the subtree, threshold uniform in
 *            [min, max) (max gives min), x <= threshold goes left; leaves at max_depth =
 *            ceil(log2(psi)), one row, or all features constant;
 *   scores   per tree (nodes on the path + c(leaf rows) - 1.0) summed over trees in order,
 *            score_samples = -2^(-sum / (trees · c(psi))), offset_ = numpy's linear percentile
 *            of the training scores at 100 · contamination (-0.5 for 0, "auto"),
 *            decision = score - offset_, predict = decision < 0 ? -1 : +1.
 *
 * One thing is left out: sklearn also stops at a node whose random regression target has a
 * variance below 2.2e-16 (two rows whose uniform targets are within ~1e-8 of each other);
 * that happens about once in 10^7 nodes, and then only that node differs.
 *
 * Folder: sim/ (see sim/replay.h). Pure, single-threaded, no allocation while scoring.
 */
#ifndef LXCSCALE_SKLEARN_FOREST_H
#define LXCSCALE_SKLEARN_FOREST_H

#include <stddef.h>
#include <stdint.h>

struct skl_params {
	int n_estimators;       /* 100 */
	int max_samples;        /* 64; more than the rows: all rows (sklearn warns and does so) */
	double contamination;   /* 0.05; 0: "auto" */
	uint32_t random_state;  /* 42 */
};

struct skl_forest;

/* Fits on X (n rows × d features, row-major, finite). NULL when out of memory or n == 0. */
struct skl_forest *skl_forest_fit(const double *X, size_t n, size_t d, const struct skl_params *p);
void skl_forest_free(struct skl_forest *f);

/* One row: sklearn's score_samples and decision_function. */
void skl_forest_score(const struct skl_forest *f, const double *x, double *score_samples, double *decision);

/* Which features isolated x, as iforest_explain() credits them (iforest/iforest.h): along
 * x's path in every tree a split credits its feature with log2(rows in the node / rows in the
 * child x went to); shares sum to 1. Writes the top max_out (largest first, ties by lower
 * index) and returns how many. */
struct skl_contrib {
	int feature;
	double share;
};
int skl_forest_explain(const struct skl_forest *f, const double *x, struct skl_contrib *out, size_t max_out);

/* score_samples of the rows it was fitted on, in their order (*n of them): what
 * decision_function(X_train) + offset_ is, without scoring them again. */
const double *skl_forest_training_scores(const struct skl_forest *f, size_t *n);

/* For tests against sklearn: the offset and one tree's nodes in sklearn's node order. */
double skl_forest_offset(const struct skl_forest *f);
size_t skl_forest_tree(const struct skl_forest *f, size_t tree, const int **feature, const double **threshold,
                       const int **left, const int **right, const int **n_node_samples);

#endif

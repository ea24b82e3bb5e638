/*
 * iforest_int.h — private to iforest/: the model's memory layout and the helpers the
 * library's files share. Nothing outside iforest/ includes this.
 *
 * A model holds its trees twice:
 *   1. the canonical form: per tree, nodes in depth-first preorder (left child = i + 1,
 *      `right` = index of the right child, 0 for a leaf). Training, import, load, save,
 *      explain, importances and the scalar scorer use it.
 *   2. the SIMD form (when max_depth <= IF_SIMD_MAX_DEPTH): trees in groups of 8, each tree
 *      padded to a complete tree of depth D. Slot s has children 2s+1 / 2s+2; a leaf above
 *      depth D is continued by pass-through nodes (threshold +inf, feature 0: always left),
 *      and its value sits in the leftmost level-D slot. Arrays are node-major and lane-minor
 *      (`node[g][slot][lane]` = {threshold, feature}), so one 64-bit gather per 4 lanes serves
 *      a level of 4 trees. Unused lanes (the
 *      last group of a forest whose size is not a multiple of 8) are all pass-through with
 *      leaf value 0.
 * Both are derived from the same nodes by if_model_compile_tree(), so they always agree.
 */
#ifndef IFOREST_INT_H
#define IFOREST_INT_H

#include "iforest.h"
#include <stdatomic.h>
#include <stdbool.h>

#define IF_SIMD_MAX_DEPTH 10
#define IF_FEATURE_THRESHOLD 1e-7       /* sklearn's absolute constant-feature tolerance */
#define IF_DEFAULT_CONF_ROWS 1024

typedef struct {
	float    thr;      /* split: go left iff z[feature] <= thr */
	int32_t  right;    /* right child index within the tree; 0 = leaf */
	uint16_t feature;
	uint16_t depth;    /* root = 0 */
	int32_t  n;        /* training rows that reached the node (n_node_samples) */
} if_node;

typedef struct {
	float   thr;
	int32_t feat;
} if_pair;   /* one 64-bit gather fetches both halves of a SIMD node */

struct iforest_model {
	atomic_int refs;
	int      n_features, n_trees, psi, max_depth;
	double   offset, contamination;
	uint64_t seed, generation;
	double   denom;             /* n_trees * c(psi); 0 means "exponent -1" like sklearn */
	double  *mean, *scale;      /* scaler, n_features each */

	size_t   n_nodes;
	size_t  *tree_off;          /* n_trees + 1 offsets into nodes */
	if_node *nodes;
	double  *value;             /* per node: depth + c(n) (used for leaves) */

	int      simd;              /* 1 when the arrays below exist */
	int      n_groups;
	int      slots;             /* 2^D - 1 internal slots per tree */
	if_pair *gnode;             /* n_groups * slots * 8 {threshold, feature} pairs */
	float   *gleaf;             /* n_groups * 2^D * 8 */

	size_t   n_conf;
	double  *conf;              /* sorted |decision| of the reference training rows */
	double  *importance;        /* n_features, sums to 1 (or all 0) */
	size_t   bytes;
};

/* ---- rng.c: xoshiro256** seeded through splitmix64 ---- */
typedef struct { uint64_t s[4]; } if_rng;
void     if_rng_seed(if_rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t if_rng_next(if_rng *r);
double   if_rng_double(if_rng *r);                 /* [0, 1) with 53 bits */
uint64_t if_rng_below(if_rng *r, uint64_t n);      /* [0, n), unbiased; n > 0 */

/* ---- model.c ---- */
double  if_c(double n);                            /* sklearn's _average_path_length */
int     if_depth_for(int psi);                     /* ceil(log2(max(psi, 2))) */
iforest_model *if_model_alloc(int n_features, int n_trees, int psi, size_t n_nodes);
void    if_model_compile_tree(iforest_model *m, int t);   /* values + SIMD lanes of tree t */
void    if_model_finish(iforest_model *m);          /* importances + byte count */
int     if_model_set_conf(iforest_model *m, const double *scores, size_t n); /* sorts copies */
double  if_percentile_linear(double *sorted, size_t n, double q_percent);
float   if_float_floor(double t);                  /* largest float <= t */

/* ---- scaler.c ---- */
/* rows given as doubles or floats (is_f32); fills mean/scale; IFOREST_E_NONFINITE on NaN/inf */
int     if_scaler_fit(const void *X, int is_f32, size_t n, size_t d, double *mean, double *scale);
int     if_check_finite(const double *x, size_t d);
void    if_standardize(const iforest_model *m, const double *x, float *z);
/* (x - mean) / scale in double, rounded to float; zero-pads z to a multiple of 8 */
void    if_standardize_avx2(const double *mean, const double *scale, int d, const double *x,
                            float *z);

/* ---- train.c ---- */
typedef struct {
	int32_t *idx;      /* psi */
	if_node *stack_nodes;
} if_tree_scratch;
/* Build one tree on rows (m standardised rows of d floats, row-major) into out (capacity
 * 2m-1). Returns the node count. */
int     if_build_tree(const float *rows, int m, int d, int max_depth, if_rng *rng,
                      int32_t *idx, if_node *out);
/* Draw psi distinct row numbers of [0, n) (Floyd); set has room for 2 * pow2 >= 2 psi. */
void    if_sample_rows(if_rng *r, size_t n, int psi, uint32_t *rows, uint32_t *set,
                       size_t set_size);
size_t  if_set_size_for(int psi);
/* Shared by iforest_train and the streaming model's first build. */
int     if_train_rows(const void *X, int is_f32, size_t n, size_t d, const iforest_params *p,
                      iforest_model **out);
int     if_finish_offset_conf(iforest_model *m, const void *X, int is_f32, size_t n,
                              size_t stride, int conf_rows);

/* ---- scoring kernels (score_scalar.c, score_avx2.c) ---- */
double  if_path_sum_scalar(const iforest_model *m, const float *z);
double  if_path_sum_avx2(const iforest_model *m, const float *z);
double  if_score_from_sum(const iforest_model *m, double sum);
double  if_confidence(const iforest_model *m, double decision);
int     if_have_avx2(void);
double  if_path_sum_best(const iforest_model *m, const float *z);   /* fastest available */

#endif

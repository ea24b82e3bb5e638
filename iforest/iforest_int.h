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
 *   3. the packed SIMD form, for natively trained models (`packed`): the same complete trees,
 *      but one 32-bit word per slot (`gpack[g][slot][lane]`): a float32 threshold whose low
 *      pack_bits = ceil(log2(n_features)) mantissa bits ARE the feature index. Training chose
 *      that exact value as the threshold (see if_pack_threshold) and partitioned with it, so
 *      the canonical nodes hold the same packed float and every layout takes the same path.
 *      Pass-through slots are +inf (low bits 0 = feature 0). One load per level instead of
 *      two. Imported sklearn models (and v1 files) keep the exact two-array form.
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
	if_pair *gnode;             /* exact: n_groups * slots * 8 {threshold, feature} pairs */
	int      packed;            /* 1: natively trained, thresholds carry the feature */
	int      pack_bits;         /* ceil(log2(n_features)) when packed */
	uint32_t pack_mask;         /* (1 << pack_bits) - 1 */
	float   *gpack;             /* packed: n_groups * slots * 8 packed words */
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
/* packed: the model's trees were grown with packed thresholds (if_build_tree(.., packed=1)) */
iforest_model *if_model_alloc(int n_features, int n_trees, int psi, size_t n_nodes, int packed);
int     if_pack_bits(int n_features);              /* ceil(log2(n_features)), 0 for 1 */
/* The float nearest thr in [lo, hi) whose low `bits` mantissa bits equal f; 0 when none
 * (a range narrower than 2^bits floats), -1 otherwise with *out set. */
int     if_pack_threshold(float thr, float lo, float hi, int f, int bits, float *out);
static inline uint32_t if_f32_bits(float v) { uint32_t u; __builtin_memcpy(&u, &v, 4); return u; }
static inline float if_bits_f32(uint32_t u) { float v; __builtin_memcpy(&v, &u, 4); return v; }
void    if_model_compile_tree(iforest_model *m, int t);   /* values + SIMD lanes of tree t */
void    if_model_finish(iforest_model *m);          /* importances + byte count */
int     if_model_set_conf(iforest_model *m, const double *scores, size_t n); /* sorts copies */
double  if_percentile_linear(double *sorted, size_t n, double q_percent);
float   if_float_floor(double t);                  /* largest float <= t */

/* ---- scaler.c ---- */
/* rows given as doubles or floats (is_f32); fills mean/scale; IFOREST_E_NONFINITE on NaN/inf */
int     if_scaler_fit(const void *X, int is_f32, size_t n, size_t d, double *mean, double *scale);
int     if_check_finite(const double *x, size_t d);
/* scaler_avx2.c: s1[f] += x - shift, s2[f] += (x - shift)^2 over n rows, like the scalar loop */
int     if_all_finite_avx2(const double *x, size_t count);   /* 1: no NaN / +-inf */
void    if_scaler_sums_avx2(const double *X, size_t n, size_t d, const double *shift,
                            double *s1, double *s2);
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
 * 2m-1). packed: thresholds carry the feature in their low mantissa bits (the packed
 * layout); 0: exact float floor of sklearn's threshold. Returns the node count. */
int     if_build_tree(const float *rows, int m, int d, int max_depth, int packed, if_rng *rng,
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
double  if_path_sum_avx2(const iforest_model *m, const float *z);          /* exact layout */
double  if_path_sum_packed_scalar(const iforest_model *m, const float *z); /* packed layout */
double  if_path_sum_packed_avx2(const iforest_model *m, const float *z);
double  if_path_sum_packed_avx512vl(const iforest_model *m, const float *z); /* same, VL lookups */
double  if_path_sum_packed_avx512(const iforest_model *m, const float *z);  /* zmm lookups */
int     if_have_avx512vl(void);
int     if_have_fast_zmm(void);    /* AVX-512VL on AMD: 512-bit work costs no clock there */
/* Batch: n standardised rows (zstride floats apart, zero padded to a multiple of 8; any n)
 * -> path sums, bit-identical to if_path_sum_packed_avx2's; 8 rows per vector, one tree at a
 * time over blocks of 64 rows. Packed layout only. */
void    if_path_sums_packed_batch_avx2(const iforest_model *m, const float *Z, size_t n,
                                       size_t zstride, double *sums);
#define IF_BATCH_BLOCK 64
double  if_score_from_sum(const iforest_model *m, double sum);
double  if_confidence(const iforest_model *m, double decision);
int     if_have_avx2(void);
double  if_path_sum_best(const iforest_model *m, const float *z);   /* fastest available */

#endif

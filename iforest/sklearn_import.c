/*
 * sklearn_import.c — load a forest exported from scikit-learn by
 * tests/iforest_export_sklearn.py, for exact parity checks against the reference.
 *
 * Format (text, one item per line):
 *   lxcscale-sklearn-iforest 1
 *   n_features F / n_estimators T / max_samples PSI / offset O / contamination C
 *   mean m0 .. mF-1 / scale s0 .. sF-1
 *   tree N, then N lines "left right feature threshold n_node_samples" (sklearn's arrays)
 *   end
 * sklearn numbers nodes depth-first with its own stack order; the importer re-lays each tree
 * in our preorder (left = i + 1) and rounds every float64 threshold down to float32, which
 * keeps decisions identical because sklearn compares float32 inputs. Everything is
 * validated (indices, cycles, depth, finiteness); any problem is IFOREST_E_PARSE.
 */
#include "iforest_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 65536

typedef struct {
	FILE *f;
	char *buf;
} reader;

static char *next_line(reader *r)
{
	if (!fgets(r->buf, LINE_MAX_LEN, r->f))
		return NULL;
	size_t n = strlen(r->buf);
	if (n == LINE_MAX_LEN - 1 && r->buf[n - 1] != '\n')
		return NULL;     /* overlong line */
	while (n && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
		r->buf[--n] = 0;
	return r->buf;
}

static int parse_double(char **p, double *v)
{
	char *end;
	errno = 0;
	*v = strtod(*p, &end);
	if (end == *p || errno == ERANGE || !isfinite(*v))
		return -1;
	*p = end;
	return 0;
}

static int parse_long(char **p, long *v)
{
	char *end;
	errno = 0;
	*v = strtol(*p, &end, 10);
	if (end == *p || errno == ERANGE)
		return -1;
	*p = end;
	return 0;
}

static int key_long(reader *r, const char *key, long *v)
{
	char *l = next_line(r);
	size_t k = strlen(key);
	if (!l || strncmp(l, key, k) || l[k] != ' ')
		return -1;
	l += k;
	if (parse_long(&l, v) || *l)
		return -1;
	return 0;
}

static int key_doubles(reader *r, const char *key, double *v, int n)
{
	char *l = next_line(r);
	size_t k = strlen(key);
	if (!l || strncmp(l, key, k) || l[k] != ' ')
		return -1;
	l += k;
	for (int i = 0; i < n; i++)
		if (parse_double(&l, &v[i]))
			return -1;
	while (*l == ' ')
		l++;
	return *l ? -1 : 0;
}

typedef struct { long left, right, feature, n; double thr; } sk_node;

/* Re-lay one sklearn tree (validated) into preorder nodes; returns count or -1. */
static int relayout(const sk_node *sk, long count, int n_features, int max_depth, if_node *out)
{
	struct { long node; int depth; int parent; } stack[128];
	int sp = 0, n_out = 0;
	stack[sp++] = (typeof(stack[0])){0, 0, -1};
	while (sp) {
		typeof(stack[0]) fr = stack[--sp];
		if (fr.node < 0 || fr.node >= count || n_out >= count || fr.depth > max_depth)
			return -1;
		const sk_node *s = &sk[fr.node];
		int i = n_out++;
		if (fr.parent >= 0)
			out[fr.parent].right = i;
		if_node *nd = &out[i];
		nd->depth = (uint16_t)fr.depth;
		if (s->n < 1 || s->n > INT32_MAX)
			return -1;
		nd->n = (int32_t)s->n;
		if (s->left == -1 && s->right == -1) {
			nd->right = 0;
			nd->thr = 0;
			nd->feature = 0;
			continue;
		}
		if (s->left < 0 || s->right < 0 || s->feature < 0 || s->feature >= n_features ||
		    sp + 2 > (int)(sizeof(stack) / sizeof(stack[0])))
			return -1;
		nd->thr = if_float_floor(s->thr);
		nd->feature = (uint16_t)s->feature;
		nd->right = -1;
		stack[sp++] = (typeof(stack[0])){s->right, fr.depth + 1, i};
		stack[sp++] = (typeof(stack[0])){s->left, fr.depth + 1, -1};
	}
	return n_out == count ? n_out : -1;   /* every node reached exactly once */
}

int iforest_import_sklearn(const char *path, iforest_model **out)
{
	if (!path || !out)
		return IFOREST_E_INVAL;
	*out = NULL;
	reader r = {fopen(path, "r"), malloc(LINE_MAX_LEN)};
	if (!r.f) {
		free(r.buf);
		return IFOREST_E_IO;
	}
	int rc = IFOREST_E_PARSE;
	long nf, nt, psi;
	double offset, contamination, mean[IFOREST_MAX_FEATURES], scale[IFOREST_MAX_FEATURES];
	if_node *nodes = NULL;
	sk_node *sk = NULL;
	size_t *count = NULL, total = 0, cap = 0;
	iforest_model *m = NULL;
	char *l;

	if (!r.buf) {
		rc = IFOREST_E_NOMEM;
		goto done;
	}
	if (!(l = next_line(&r)) || strcmp(l, "lxcscale-sklearn-iforest 1"))
		goto done;
	if (key_long(&r, "n_features", &nf) || nf < 1 || nf > IFOREST_MAX_FEATURES ||
	    key_long(&r, "n_estimators", &nt) || nt < 1 || nt > IFOREST_MAX_TREES ||
	    key_long(&r, "max_samples", &psi) || psi < 1 || psi > (1L << 24) ||
	    key_doubles(&r, "offset", &offset, 1) ||
	    key_doubles(&r, "contamination", &contamination, 1) ||
	    !(contamination >= 0 && contamination <= 0.5) ||
	    key_doubles(&r, "mean", mean, (int)nf) || key_doubles(&r, "scale", scale, (int)nf))
		goto done;
	for (long f = 0; f < nf; f++)
		if (!(scale[f] > 0))
			goto done;

	const int D = if_depth_for((int)psi);
	const long max_nodes = 2 * psi - 1;
	count = calloc((size_t)nt, sizeof(size_t));
	sk = malloc((size_t)max_nodes * sizeof(sk_node));
	if (!count || !sk) {
		rc = IFOREST_E_NOMEM;
		goto done;
	}
	for (long t = 0; t < nt; t++) {
		long nn;
		if (key_long(&r, "tree", &nn) || nn < 1 || nn > max_nodes)
			goto done;
		for (long i = 0; i < nn; i++) {
			if (!(l = next_line(&r)) || parse_long(&l, &sk[i].left) ||
			    parse_long(&l, &sk[i].right) || parse_long(&l, &sk[i].feature) ||
			    parse_double(&l, &sk[i].thr) || parse_long(&l, &sk[i].n) || *l)
				goto done;
		}
		if (total + (size_t)nn > cap) {
			size_t ncap = (cap ? cap * 2 : 4096) + (size_t)nn;
			if_node *p = realloc(nodes, ncap * sizeof(if_node));
			if (!p) {
				rc = IFOREST_E_NOMEM;
				goto done;
			}
			nodes = p;
			cap = ncap;
		}
		if (relayout(sk, nn, (int)nf, D, nodes + total) < 0)
			goto done;
		count[t] = (size_t)nn;
		total += (size_t)nn;
	}
	if (!(l = next_line(&r)) || strcmp(l, "end") || next_line(&r))
		goto done;

	rc = IFOREST_E_NOMEM;
	if (!(m = if_model_alloc((int)nf, (int)nt, (int)psi, total, 0)))
		goto done;
	memcpy(m->mean, mean, (size_t)nf * sizeof(double));
	memcpy(m->scale, scale, (size_t)nf * sizeof(double));
	memcpy(m->nodes, nodes, total * sizeof(if_node));
	m->offset = offset;
	m->contamination = contamination;
	for (long t = 0, off = 0; t < nt; t++) {
		m->tree_off[t] = (size_t)off;
		off += (long)count[t];
		m->tree_off[t + 1] = (size_t)off;
		if_model_compile_tree(m, (int)t);
	}
	if_model_finish(m);
	rc = IFOREST_OK;
done:
	if (r.f)
		fclose(r.f);
	free(r.buf);
	free(nodes);
	free(sk);
	free(count);
	if (rc == IFOREST_OK)
		*out = m;
	else
		iforest_model_free(m);
	return rc;
}

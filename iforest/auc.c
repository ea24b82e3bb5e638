/*
 * auc.c — ROC AUC by the Mann-Whitney rank sum, ties counted half (as sklearn's
 * roc_auc_score). Used by tests, the benchmark and `lxcscale model eval`.
 */
#include "iforest.h"

#include <math.h>
#include <stdlib.h>

typedef struct { double v; int pos; } item;

static int cmp_item(const void *a, const void *b)
{
	double x = ((const item *)a)->v, y = ((const item *)b)->v;
	return (x > y) - (x < y);
}

double iforest_auc(const double *anomaly, const int *label, size_t n)
{
	if (!anomaly || !label || n == 0)
		return NAN;
	item *it = malloc(n * sizeof(item));
	if (!it)
		return NAN;
	size_t npos = 0;
	for (size_t i = 0; i < n; i++) {
		it[i].v = anomaly[i];
		it[i].pos = label[i] != 0;
		npos += (size_t)it[i].pos;
	}
	size_t nneg = n - npos;
	if (npos == 0 || nneg == 0) {
		free(it);
		return NAN;
	}
	qsort(it, n, sizeof(item), cmp_item);
	double rank_sum = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && it[j].v == it[i].v)
			j++;
		double avg = (double)(i + 1 + j) / 2.0;   /* ranks i+1 .. j */
		for (size_t k = i; k < j; k++)
			if (it[k].pos)
				rank_sum += avg;
		i = j;
	}
	free(it);
	return (rank_sum - (double)npos * (npos + 1) / 2.0) / ((double)npos * (double)nneg);
}

/*
 * compat/metrics_import.c — reference metrics history → feature vectors (see compat/metrics_import.h).
 */
#include "compat/metrics_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct import_container {
	uint32_t vmid;
	struct feat_history *hist;
	struct mf_container prev;
	bool have_prev;
};

struct import_ctx {
	const struct feat_select *sel;
	unsigned history, window;
	metrics_import_cb cb;
	void *cb_ctx;
	struct metrics_import_stats *stats;
	struct import_container *c;
	size_t n, cap;
	bool oom;
};

static int64_t record_ms(const struct mf_container *c)
{
	int64_t us = 0;
	mf_parse_timestamp(c->timestamp, &us); /* the reader only accepts parseable ones */
	return us / 1000;
}

static void set(struct feat_row *r, enum feat_col col, double v)
{
	r->v[col] = v;
	r->known |= COL_BIT(col);
}

void metrics_import_row(const struct mf_container *prev, const struct mf_container *cur,
			struct feat_row *row)
{
	memset(row, 0, sizeof(*row));
	row->mono_ms = row->wall_ms = record_ms(cur);
	uint32_t unk = cur->unknown;
	if (!(unk & MF_BIT(MF_CPU)))
		set(row, COL_CPU, cur->cpu_usage_percent);
	if (!(unk & MF_BIT(MF_MEMORY)))
		set(row, COL_MEM, cur->memory_usage_mb);
	if (!(unk & MF_BIT(MF_SWAP_USAGE)))
		set(row, COL_SWAP, cur->swap_usage_mb);
	if (!(unk & MF_BIT(MF_SWAP_TOTAL)))
		set(row, COL_SWAP_TOTAL, cur->swap_total_mb);
	if (!(unk & MF_BIT(MF_PROCESSES)))
		set(row, COL_PROCS, (double)cur->process_count);
	if (!(unk & MF_BIT(MF_FS_USAGE)))
		set(row, COL_FS_USED, cur->filesystem_usage_gb);
	if (!(unk & MF_BIT(MF_FS_TOTAL)))
		set(row, COL_FS_TOTAL, cur->filesystem_total_gb);
	if (!(unk & MF_BIT(MF_FS_FREE)))
		set(row, COL_FS_FREE, cur->filesystem_free_gb);
	if (!prev)
		return;
	double dt = (double)(row->mono_ms - record_ms(prev)) / 1000.0;
	if (dt <= 0)
		return;
	uint32_t both = unk | prev->unknown;
	if (!(both & MF_BIT(MF_IO)) && cur->io_reads >= prev->io_reads && cur->io_writes >= prev->io_writes) {
		set(row, COL_IO_READS, (double)(cur->io_reads - prev->io_reads) / dt);
		set(row, COL_IO_WRITES, (double)(cur->io_writes - prev->io_writes) / dt);
	}
	if (!(both & MF_BIT(MF_NETWORK)) && cur->rx_bytes >= prev->rx_bytes && cur->tx_bytes >= prev->tx_bytes) {
		set(row, COL_NET_RX, (double)(cur->rx_bytes - prev->rx_bytes) / dt);
		set(row, COL_NET_TX, (double)(cur->tx_bytes - prev->tx_bytes) / dt);
	}
}

static struct import_container *find_or_add(struct import_ctx *x, uint32_t vmid)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->c[i].vmid == vmid)
			return &x->c[i];
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		struct import_container *nc = realloc(x->c, cap * sizeof(*nc));
		if (!nc)
			return NULL;
		x->c = nc;
		x->cap = cap;
	}
	struct import_container *c = &x->c[x->n];
	memset(c, 0, sizeof(*c));
	c->vmid = vmid;
	c->hist = features_history_new(x->history, x->window);
	if (!c->hist)
		return NULL;
	x->n++;
	x->stats->containers++;
	return c;
}

static int on_snapshot(void *ctx, const struct mf_snapshot *s)
{
	struct import_ctx *x = ctx;
	for (size_t i = 0; i < s->n; i++) {
		const struct mf_container *rec = &s->containers[i];
		struct import_container *c = find_or_add(x, rec->vmid);
		if (!c) {
			x->oom = true;
			return -1;
		}
		int64_t ms = record_ms(rec);
		if (ms > x->stats->newest_ms)
			x->stats->newest_ms = ms;
		struct feat_row row;
		metrics_import_row(c->have_prev ? &c->prev : NULL, rec, &row);
		c->prev = *rec;
		c->have_prev = true;
		features_push(c->hist, &row);
		struct feat_vector v;
		features_compute(c->hist, &v);
		double x_sel[FEAT_COUNT];
		if (!features_project(&v, x->sel, x_sel)) {
			x->stats->not_fed++;
			continue;
		}
		x->stats->vectors++;
		if (x->cb) {
			int rc = x->cb(x->cb_ctx, rec->vmid, x_sel, x->sel->n);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int metrics_import(const char *path, const struct feat_select *sel, unsigned history,
		   unsigned window, metrics_import_cb cb, void *ctx,
		   struct metrics_import_stats *stats, char *err, size_t errlen)
{
	struct metrics_import_stats local;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	struct feat_history *probe = features_history_new(history, window);
	if (!probe) {
		if (err && errlen)
			snprintf(err, errlen, "bad history %u / window %u", history, window);
		return -1;
	}
	features_history_free(probe);

	struct import_ctx x = { .sel = sel, .history = history, .window = window, .cb = cb,
				.cb_ctx = ctx, .stats = stats };
	int rc = metrics_file_read(path, on_snapshot, &x, &stats->read, err, errlen);
	if (x.oom && err && errlen)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; i < x.n; i++)
		features_history_free(x.c[i].hist);
	free(x.c);
	return rc;
}

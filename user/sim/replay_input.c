/*
 * sim/replay_input.c — recordings (and reference metrics files) → per-container demand traces.
 *
 * Samples are gathered per container first (a recording interleaves containers tick by
 * tick), then each container's samples become a trace on the recording's tick: the demand
 * between two samples fills the steps between them, so uneven sampling still lands on a
 * regular grid. A reference metrics file is also kept whole, record by record, as the reference's
 * loader reads it (sim/reference_loop.h), for the reference column.
 */
#include "sim/replay_input.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errbuf.h"
#include "compat/metrics_file.h"
#include "record/recording.h"

#define MIB (1024.0 * 1024.0)

/* Makes room for one more element in the array *V (CAP elements of ELEM bytes, all used):
 * doubles it, starting at FIRST, never past MAX elements. 0, or -1 when it is at MAX or out
 * of memory (*V and *CAP unchanged). */
static int grow(void **v, size_t *cap, size_t elem, size_t first, size_t max)
{
	if (*cap >= max)
		return -1;
	size_t want = *cap ? *cap * 2 : first;
	if (want > max)
		want = max;
	void *p = realloc(*v, want * elem);
	if (!p)
		return -1;
	*v = p;
	*cap = want;
	return 0;
}

struct series {
	uint32_t vmid;
	struct recording_sample *s;
	size_t n, cap;
};

struct collection {
	struct series *v;
	size_t n, cap;
};

static struct series *series_for(struct collection *c, uint32_t vmid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].vmid == vmid)
			return &c->v[i];
	if (c->n == c->cap &&
	    grow((void **)&c->v, &c->cap, sizeof *c->v, 16, REPLAY_INPUT_MAX_CONTAINERS) != 0)
		return NULL;
	c->v[c->n] = (struct series){ .vmid = vmid };
	return &c->v[c->n++];
}

static int series_push(struct series *s, const struct recording_sample *x)
{
	if (s->n == s->cap && grow((void **)&s->s, &s->cap, sizeof *s->s, 256, REPLAY_INPUT_MAX_STEPS) != 0)
		return -1;
	s->s[s->n++] = *x;
	return 0;
}

static void collection_free(struct collection *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].s);
	free(c->v);
}

static int cmp_series(const void *a, const void *b)
{
	uint32_t x = ((const struct series *)a)->vmid, y = ((const struct series *)b)->vmid;
	return (x > y) - (x < y);
}

static bool has(const struct feat_raw *r, enum feat_raw_field f)
{
	return r->known & RAW_BIT(f);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The demand between samples a and b (see sim/replay_input.h). prev carries the last values
 * forward when a counter is unknown or went backwards. */
static void demand_between(const struct feat_raw *a, const struct feat_raw *b, struct cm_demand *d)
{
	double dt_us = (double)(b->mono_ms - a->mono_ms) * 1000.0;
	if (has(a, RAW_CPU_USAGE) && has(b, RAW_CPU_USAGE) && b->cpu_usage_usec >= a->cpu_usage_usec) {
		double used = (double)(b->cpu_usage_usec - a->cpu_usage_usec) / dt_us;
		double cores = has(a, RAW_CPU_CORES) ? a->cpu_cores : 0;
		double full = 0, some = 0;
		if (has(a, RAW_PSI_CPU) && has(b, RAW_PSI_CPU) &&
		    b->psi_total_us[0][1] >= a->psi_total_us[0][1] &&
		    b->psi_total_us[0][0] >= a->psi_total_us[0][0]) {
			full = clampd((double)(b->psi_total_us[0][1] - a->psi_total_us[0][1]) / dt_us, 0, 0.95);
			some = clampd((double)(b->psi_total_us[0][0] - a->psi_total_us[0][0]) / dt_us, 0, 1);
		}
		bool at_limit = cores > 0 && used >= 0.95 * cores;
		d->cpu_cores = at_limit ? used / (1.0 - full) : used;
		d->neighbour_stall = at_limit ? 0 : some;
	}
	if (has(b, RAW_MEM)) {
		double used = b->mem_current > b->mem_file ? (double)(b->mem_current - b->mem_file) : 0;
		if (has(b, RAW_SWAP))
			used += (double)b->swap_current;
		d->mem_mb = used / MIB;
	}
	if (has(b, RAW_PIDS))
		d->nr_procs = b->pids > UINT32_MAX ? UINT32_MAX : (uint32_t)b->pids;
}

/* ---- allocations ------------------------------------------------------------------------- */

static const struct replay_allocation *config_for(const struct replay_input_opts *o, uint32_t vmid)
{
	for (size_t i = 0; i < o->n_configs; i++)
		if (o->configs[i].vmid == vmid)
			return &o->configs[i];
	return NULL;
}

/* The trace's initial allocation, per resource the first of: the history's (> 0), the
 * container's config's, the assumption; and where it came from. */
static void resolve_allocation(const struct replay_input_opts *o, uint32_t vmid, double history_cores,
                               double history_mem_mb, const char *history_name, struct scenario *out)
{
	const struct replay_allocation *conf = config_for(o, vmid);
	const char *cores_from, *mem_from;
	out->init_cpu_cores = o->cores;
	out->init_mem_mb = o->memory_mb;
	cores_from = mem_from = "assumed (--cores/--memory)";
	if (history_cores > 0) {
		out->init_cpu_cores = history_cores;
		cores_from = history_name;
	} else if (conf) {
		if (conf->cores > 0) {
			out->init_cpu_cores = conf->cores;
			cores_from = conf->from;
		} else {
			out->alloc_cores_unset = true;
			cores_from = "assumed (its config sets none)";
		}
	}
	if (history_mem_mb > 0) {
		out->init_mem_mb = history_mem_mb;
		mem_from = history_name;
	} else if (conf) {
		if (conf->memory_mb > 0) {
			out->init_mem_mb = conf->memory_mb;
			mem_from = conf->from;
		} else {
			out->alloc_memory_unset = true;
			mem_from = "assumed (its config sets none)";
		}
	}
	if (strcmp(cores_from, mem_from) == 0)
		snprintf(out->alloc_from, sizeof out->alloc_from, "%s", cores_from);
	else
		snprintf(out->alloc_from, sizeof out->alloc_from, "cores %s, memory %s", cores_from, mem_from);
}

static int series_to_scenario(const struct series *se, int64_t step_ms, const struct replay_input_opts *o,
                              struct scenario *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	const struct feat_raw *first = &se->s[0].raw, *last = &se->s[se->n - 1].raw;
	int64_t span = last->mono_ms - first->mono_ms;
	if (se->n < 2 || span <= 0) {
		errbuf_set(err, errlen, "container %u: fewer than 2 samples", se->vmid);
		return -1;
	}
	size_t steps = (size_t)(span / step_ms);
	if (steps == 0 || steps > REPLAY_INPUT_MAX_STEPS) {
		errbuf_set(err, errlen, "container %u: %zu steps of %lld ms", se->vmid, steps, (long long)step_ms);
		return -1;
	}
	snprintf(out->name, sizeof out->name, "ct%u", se->vmid);
	out->vmid = se->vmid;
	out->start_ms = first->wall_ms;
	out->step_ms = step_ms;
	out->n_steps = steps;
	cm_params_default(&out->params);
	if (has(first, RAW_SWAP_TOTAL))
		out->params.swap_mb = (double)first->swap_total / MIB;
	resolve_allocation(o, se->vmid, has(first, RAW_CPU_CORES) ? first->cpu_cores : 0, se->s[0].ram_mb,
	                   "from the recording", out);
	out->demand = calloc(steps, sizeof *out->demand);
	out->incidents = calloc(1, sizeof *out->incidents);
	if (!out->demand || !out->incidents) {
		scenario_free(out);
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	struct cm_demand d = { 0 };
	size_t k = 1;
	for (size_t i = 0; i < steps; i++) {
		int64_t t = first->mono_ms + (int64_t)i * step_ms;
		/* the sample interval [s[k-1], s[k]) that covers t */
		while (k < se->n - 1 && se->s[k].raw.mono_ms <= t)
			k++;
		if (se->s[k].raw.mono_ms > se->s[k - 1].raw.mono_ms)
			demand_between(&se->s[k - 1].raw, &se->s[k].raw, &d);
		out->demand[i] = d;
	}
	return 0;
}

static int load_recording(const char *path, const struct replay_input_opts *o, struct scenario **out,
                          size_t *n, char *warn, size_t warnlen, char *err, size_t errlen)
{
	int st;
	struct recording_reader *r = recording_reader_open(path, &st, err, errlen);
	if (!r)
		return -1;
	int64_t step = recording_reader_info(r)->tick_ms > 0 ? recording_reader_info(r)->tick_ms : 1000;
	struct collection c = { 0 };
	struct recording_tick tk;
	int rc;
	while ((rc = recording_read_tick(r, &tk)) == REC_OK) {
		for (size_t i = 0; i < tk.n_samples; i++) {
			struct series *se = series_for(&c, tk.samples[i].vmid);
			if (!se || series_push(se, &tk.samples[i]) != 0) {
				errbuf_set(err, errlen, "%s: too many containers or samples (or out of memory)", path);
				collection_free(&c);
				recording_reader_close(r);
				return -1;
			}
		}
	}
	if (rc == REC_ERR_TRUNCATED && recording_reader_ticks(r) > 0) {
		errbuf_set(warn, warnlen, "%s: %s; replaying the %llu ticks before it", path,
		           recording_reader_error(r), (unsigned long long)recording_reader_ticks(r));
	} else if (rc != REC_END) {
		errbuf_set(err, errlen, "%s: %s", path, recording_reader_error(r));
		collection_free(&c);
		recording_reader_close(r);
		return -1;
	}
	recording_reader_close(r);
	qsort(c.v, c.n, sizeof *c.v, cmp_series);
	struct scenario *v = calloc(c.n ? c.n : 1, sizeof *v);
	if (!v) {
		errbuf_set(err, errlen, "out of memory");
		collection_free(&c);
		return -1;
	}
	size_t made = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (c.v[i].n < 2)
			continue; /* a container seen once has no interval to replay */
		if (series_to_scenario(&c.v[i], step, o, &v[made], err, errlen) != 0) {
			for (size_t j = 0; j < made; j++)
				scenario_free(&v[j]);
			free(v);
			collection_free(&c);
			return -1;
		}
		made++;
	}
	collection_free(&c);
	if (made == 0) {
		free(v);
		errbuf_set(err, errlen, "%s: no container has two samples to replay", path);
		return -1;
	}
	*out = v;
	*n = made;
	return 0;
}

/* ---- reference metrics file -------------------------------------------------------------- */

struct mpoint {
	int64_t t_ms;
	double cpu_pct, mem_mb, swap_mb, swap_total_mb;
	uint32_t procs, unknown;
};

struct mseries {
	uint32_t vmid;
	struct mpoint *p;
	size_t n, cap;
};

struct mcollection {
	struct mseries *v;
	size_t n, cap;
	bool failed;
	struct ref_history *history;  /* every record, as the reference's loader reads them */
	struct ref_record *snapshot;  /* one snapshot's records on their way into it */
	size_t cap_snapshot;
};

/* A record as the reference's loader takes it: the values as written (a figure our writer
 * lists as unknown was written as 0, and 0 is what the reference reads). */
static void reference_record(const struct mf_container *x, int64_t t_us, struct ref_record *r)
{
	r->vmid = x->vmid;
	r->t_us = t_us;
	r->v[REF_CPU_PCT] = x->cpu_usage_percent;
	r->v[REF_MEMORY_MB] = x->memory_usage_mb;
	r->v[REF_SWAP_MB] = x->swap_usage_mb;
	r->v[REF_SWAP_TOTAL_MB] = x->swap_total_mb;
	r->v[REF_PROCESSES] = (double)x->process_count;
	r->v[REF_IO_READS] = (double)x->io_reads;
	r->v[REF_IO_WRITES] = (double)x->io_writes;
	r->v[REF_NET_RX] = (double)x->rx_bytes;
	r->v[REF_NET_TX] = (double)x->tx_bytes;
	r->v[REF_FS_USAGE_GB] = x->filesystem_usage_gb;
	r->v[REF_FS_TOTAL_GB] = x->filesystem_total_gb;
	r->v[REF_FS_FREE_GB] = x->filesystem_free_gb;
}

static int keep_snapshot(struct mcollection *c, const struct mf_snapshot *snap)
{
	if (snap->n > c->cap_snapshot) {
		struct ref_record *r = realloc(c->snapshot, snap->n * sizeof *r);
		if (!r)
			return -1;
		c->snapshot = r;
		c->cap_snapshot = snap->n;
	}
	size_t k = 0;
	for (size_t i = 0; i < snap->n; i++) {
		int64_t us;
		if (mf_parse_timestamp(snap->containers[i].timestamp, &us))
			reference_record(&snap->containers[i], us, &c->snapshot[k++]);
	}
	return ref_history_append(c->history, c->snapshot, k);
}

static struct mseries *mseries_for(struct mcollection *c, uint32_t vmid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].vmid == vmid)
			return &c->v[i];
	if (c->n == c->cap &&
	    grow((void **)&c->v, &c->cap, sizeof *c->v, 16, REPLAY_INPUT_MAX_CONTAINERS) != 0)
		return NULL;
	c->v[c->n] = (struct mseries){ .vmid = vmid };
	return &c->v[c->n++];
}

static int on_snapshot(void *ctx, const struct mf_snapshot *snap)
{
	struct mcollection *c = ctx;
	if (c->history && keep_snapshot(c, snap) != 0) {
		c->failed = true;
		return 1;
	}
	for (size_t i = 0; i < snap->n; i++) {
		const struct mf_container *x = &snap->containers[i];
		int64_t us;
		if (!mf_parse_timestamp(x->timestamp, &us))
			continue; /* the reader accepted it, so this does not happen */
		struct mseries *se = mseries_for(c, x->vmid);
		if (!se) {
			c->failed = true;
			return 1;
		}
		/* a repeated or earlier timestamp has no interval: keep the first */
		if (se->n > 0 && us / 1000 <= se->p[se->n - 1].t_ms)
			continue;
		if (se->n == se->cap &&
		    grow((void **)&se->p, &se->cap, sizeof *se->p, 256, REPLAY_INPUT_MAX_STEPS) != 0) {
			c->failed = true;
			return 1;
		}
		se->p[se->n++] = (struct mpoint){
			.t_ms = us / 1000, .cpu_pct = x->cpu_usage_percent, .mem_mb = x->memory_usage_mb,
			.swap_mb = x->swap_usage_mb, .swap_total_mb = x->swap_total_mb,
			.procs = x->process_count > UINT32_MAX ? UINT32_MAX : (uint32_t)x->process_count,
			.unknown = x->unknown };
	}
	return 0;
}

static void mcollection_free(struct mcollection *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].p);
	free(c->v);
	free(c->snapshot);
}

static int cmp_mseries(const void *a, const void *b)
{
	uint32_t x = ((const struct mseries *)a)->vmid, y = ((const struct mseries *)b)->vmid;
	return (x > y) - (x < y);
}

/* The value at point k describes the interval that ends at it (the monitor's CPU % is the
 * average since its previous sample), so steps in [t(k-1), t(k)) take point k's values. */
static int mseries_to_scenario(const struct mseries *se, int64_t step_ms, const struct replay_input_opts *o,
                               struct scenario *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	int64_t span = se->p[se->n - 1].t_ms - se->p[0].t_ms;
	size_t steps = (size_t)(span / step_ms);
	if (steps == 0 || steps > REPLAY_INPUT_MAX_STEPS) {
		errbuf_set(err, errlen, "container %u: %zu steps of %lld ms", se->vmid, steps, (long long)step_ms);
		return -1;
	}
	snprintf(out->name, sizeof out->name, "ct%u", se->vmid);
	out->vmid = se->vmid;
	out->start_ms = se->p[0].t_ms;
	out->step_ms = step_ms;
	out->n_steps = steps;
	cm_params_default(&out->params);
	if (!(se->p[0].unknown & MF_BIT(MF_SWAP_TOTAL)))
		out->params.swap_mb = se->p[0].swap_total_mb;
	resolve_allocation(o, se->vmid, 0, 0, "", out); /* the file never says */
	const double cores = out->init_cpu_cores;     /* its CPU % is of these */
	out->demand = calloc(steps, sizeof *out->demand);
	out->incidents = calloc(1, sizeof *out->incidents);
	if (!out->demand || !out->incidents) {
		scenario_free(out);
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	struct cm_demand d = { 0 };
	size_t k = 1;
	for (size_t i = 0; i < steps; i++) {
		int64_t t = out->start_ms + (int64_t)i * step_ms;
		while (k < se->n - 1 && se->p[k].t_ms <= t)
			k++;
		const struct mpoint *p = &se->p[k];
		if (!(p->unknown & MF_BIT(MF_CPU)))
			d.cpu_cores = p->cpu_pct / 100.0 * cores;
		if (!(p->unknown & MF_BIT(MF_MEMORY)))
			d.mem_mb = p->mem_mb + (p->unknown & MF_BIT(MF_SWAP_USAGE) ? 0 : p->swap_mb);
		if (!(p->unknown & MF_BIT(MF_PROCESSES)))
			d.nr_procs = p->procs;
		out->demand[i] = d;
	}
	return 0;
}

static int load_metrics(const char *path, const struct replay_input_opts *o, struct scenario **out,
                        size_t *n, struct ref_history *history, char *err, size_t errlen)
{
	struct mcollection c = { .history = history };
	struct mf_read_stats stats;
	char why[256];
	int rc = metrics_file_read(path, on_snapshot, &c, &stats, why, sizeof why);
	if (rc != 0 || c.failed) {
		if (c.failed)
			errbuf_set(err, errlen, "%s: too many containers or samples (or out of memory)", path);
		else
			errbuf_set(err, errlen, "%s", why);
		mcollection_free(&c);
		return -1;
	}
	qsort(c.v, c.n, sizeof *c.v, cmp_mseries);
	/* the monitor's interval: the shortest gap between two samples of one container */
	int64_t step = 0;
	for (size_t i = 0; i < c.n; i++)
		for (size_t k = 1; k < c.v[i].n; k++) {
			int64_t gap = c.v[i].p[k].t_ms - c.v[i].p[k - 1].t_ms;
			if (step == 0 || gap < step)
				step = gap;
		}
	if (step < 1000)
		step = 1000; /* sub-second gaps are jitter, not the interval */
	struct scenario *v = calloc(c.n ? c.n : 1, sizeof *v);
	if (!v) {
		mcollection_free(&c);
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	size_t made = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (c.v[i].n < 2)
			continue;
		if (mseries_to_scenario(&c.v[i], step, o, &v[made], err, errlen) != 0) {
			for (size_t j = 0; j < made; j++)
				scenario_free(&v[j]);
			free(v);
			mcollection_free(&c);
			return -1;
		}
		made++;
	}
	mcollection_free(&c);
	if (made == 0) {
		free(v);
		errbuf_set(err, errlen, "%s: no container has two samples to replay (%zu snapshots, %zu records)",
		           path, stats.snapshots, stats.records);
		return -1;
	}
	*out = v;
	*n = made;
	return 0;
}

int replay_input_read(const char *path, const struct replay_input_opts *o, struct replay_input *in,
                      char *warn, size_t warnlen, char *err, size_t errlen)
{
	memset(in, 0, sizeof *in);
	in->opts = *o;
	ref_history_init(&in->history);
	if (warn && warnlen)
		warn[0] = '\0';
	int probe = recording_probe(path);
	if (probe < 0) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (probe == 1)
		return load_recording(path, o, &in->traces, &in->n, warn, warnlen, err, errlen);
	in->has_history = true;
	int rc = load_metrics(path, o, &in->traces, &in->n, &in->history, err, errlen);
	if (rc != 0)
		ref_history_free(&in->history);
	return rc;
}

void replay_input_free(struct replay_input *in)
{
	for (size_t i = 0; i < in->n; i++)
		scenario_free(&in->traces[i]);
	free(in->traces);
	ref_history_free(&in->history);
	memset(in, 0, sizeof *in);
}

bool replay_input_allocation(void *input, uint32_t vmid, double *cores, double *ram_mb)
{
	const struct replay_input *in = input;
	size_t lo = 0, hi = in->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (in->traces[mid].vmid < vmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct scenario s;
	if (lo < in->n && in->traces[lo].vmid == vmid) {
		s = in->traces[lo];
	} else {
		memset(&s, 0, sizeof s); /* a container seen once: no trace, but the reference reads it */
		resolve_allocation(&in->opts, vmid, 0, 0, "", &s);
	}
	*cores = s.init_cpu_cores;
	*ram_mb = s.init_mem_mb;
	return !s.alloc_cores_unset && !s.alloc_memory_unset;
}

int replay_input_load(const char *path, double cores, double memory_mb, struct scenario **out,
                      size_t *n, char *warn, size_t warnlen, char *err, size_t errlen)
{
	const struct replay_input_opts o = { .cores = cores, .memory_mb = memory_mb };
	struct replay_input in;
	if (replay_input_read(path, &o, &in, warn, warnlen, err, errlen) != 0)
		return -1;
	*out = in.traces;
	*n = in.n;
	in.traces = NULL;
	in.n = 0;
	replay_input_free(&in);
	return 0;
}

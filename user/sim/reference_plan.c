/*
 * sim/reference_plan.c — the reference's cycles over a history (see sim/reference_plan.h).
 *
 * The loop keeps what the reference's API would report for each container: its starting
 * allocation, then whatever the loop last POSTed. Events are gathered in cycle order and
 * grouped per container at the end, so a per-container run finds its own with one search.
 */
#include "sim/reference_plan.h"

#include <stdlib.h>
#include <string.h>

#include "base/errbuf.h"

struct allocation {
	uint32_t vmid;
	bool known;
	double cores, ram_mb;
};

struct reference_plan {
	struct reference_event *ev;   /* grouped by container, time order inside */
	size_t n_ev, cap_ev;
	uint32_t *ev_vmid;            /* the container of each event (parallel to ev) */
	struct allocation *alloc;     /* sorted by vmid */
	size_t n_alloc, cap_alloc;
	ref_allocation_fn start_allocation;
	void *ctx;
	struct reference_plan_stats stats;
	bool oom;
};

void reference_plan_free(struct reference_plan *plan)
{
	if (!plan)
		return;
	free(plan->ev);
	free(plan->ev_vmid);
	free(plan->alloc);
	free(plan);
}

/* The allocation the API reports for vmid now; the caller's starting value the first time. */
static struct allocation *allocation_of(struct reference_plan *plan, uint32_t vmid)
{
	size_t lo = 0, hi = plan->n_alloc;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (plan->alloc[mid].vmid < vmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < plan->n_alloc && plan->alloc[lo].vmid == vmid)
		return &plan->alloc[lo];
	if (plan->n_alloc == plan->cap_alloc) {
		size_t cap = plan->cap_alloc ? plan->cap_alloc * 2 : 64;
		struct allocation *a = realloc(plan->alloc, cap * sizeof *a);
		if (!a)
			return NULL;
		plan->alloc = a;
		plan->cap_alloc = cap;
	}
	memmove(plan->alloc + lo + 1, plan->alloc + lo, (plan->n_alloc - lo) * sizeof *plan->alloc);
	struct allocation *a = &plan->alloc[lo];
	*a = (struct allocation){ .vmid = vmid };
	a->known = plan->start_allocation(plan->ctx, vmid, &a->cores, &a->ram_mb);
	plan->n_alloc++;
	return a;
}

static bool current_allocation(void *ctx, uint32_t vmid, double *cores, double *ram_mb)
{
	struct reference_plan *plan = ctx;
	struct allocation *a = allocation_of(plan, vmid);
	if (!a) {
		plan->oom = true;
		return false;
	}
	*cores = a->cores;
	*ram_mb = a->ram_mb;
	return a->known;
}

static int add_event(struct reference_plan *plan, uint32_t vmid, const struct reference_event *e)
{
	if (plan->n_ev == plan->cap_ev) {
		size_t cap = plan->cap_ev ? plan->cap_ev * 2 : 256;
		struct reference_event *ev = realloc(plan->ev, cap * sizeof *ev);
		if (ev)
			plan->ev = ev;
		uint32_t *v = realloc(plan->ev_vmid, cap * sizeof *v);
		if (v)
			plan->ev_vmid = v;
		if (!ev || !v)
			return -1;
		plan->cap_ev = cap;
	}
	plan->ev[plan->n_ev] = *e;
	plan->ev_vmid[plan->n_ev] = vmid;
	plan->n_ev++;
	return 0;
}

/* Events grouped by container, keeping their order (creation order breaks ties): sorted
 * through an index; qsort has no context argument, hence the thread-local. */
static _Thread_local const struct reference_plan *sorting;

static int by_vmid_then_seq(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint32_t vx = sorting->ev_vmid[x], vy = sorting->ev_vmid[y];
	if (vx != vy)
		return vx < vy ? -1 : 1;
	return (x > y) - (x < y);
}

static int group_events(struct reference_plan *plan)
{
	size_t n = plan->n_ev;
	if (n == 0)
		return 0;
	size_t *idx = malloc(n * sizeof *idx);
	struct reference_event *ev = malloc(n * sizeof *ev);
	uint32_t *vm = malloc(n * sizeof *vm);
	if (!idx || !ev || !vm) {
		free(idx);
		free(ev);
		free(vm);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sorting = plan;
	qsort(idx, n, sizeof *idx, by_vmid_then_seq);
	for (size_t i = 0; i < n; i++) {
		ev[i] = plan->ev[idx[i]];
		vm[i] = plan->ev_vmid[idx[i]];
	}
	free(idx);
	free(plan->ev);
	free(plan->ev_vmid);
	plan->ev = ev;
	plan->ev_vmid = vm;
	return 0;
}

static int oldest_and_newest(const struct ref_history *h, int64_t *oldest_us, int64_t *newest_us)
{
	if (h->n_rec == 0)
		return -1;
	*oldest_us = *newest_us = h->rec[0].t_us;
	for (size_t i = 1; i < h->n_rec; i++) {
		if (h->rec[i].t_us < *oldest_us)
			*oldest_us = h->rec[i].t_us;
		if (h->rec[i].t_us > *newest_us)
			*newest_us = h->rec[i].t_us;
	}
	return 0;
}

/* One cycle's verdicts into events, and the targets it POSTed into the allocations. */
static int record_cycle(struct reference_plan *plan, const struct ref_loop_params *p, int64_t t_ms,
                        const struct ref_cycle *cy)
{
	for (size_t i = 0; i < cy->n; i++) {
		const struct ref_verdict *v = &cy->v[i];
		plan->stats.evaluations++;
		if (!v->allocation_known) {
			plan->stats.skipped_unknown++;
			continue;
		}
		struct reference_event e = { .t_ms = t_ms, .scored = true, .predict = v->model.predict,
		                             .acts = v->acts };
		ref_verdict_decision(v, p, t_ms, &e.d);
		if (v->held_by_confidence)
			plan->stats.held_by_confidence++;
		if (v->acts) {
			plan->stats.actions++;
			struct allocation *a = allocation_of(plan, v->vmid);
			if (!a)
				return -1;
			if (v->cpu != DECISION_NONE)
				a->cores = v->new_cores;
			if (v->ram != DECISION_NONE)
				a->ram_mb = v->new_ram_mb;
		}
		if (add_event(plan, v->vmid, &e) != 0)
			return -1;
	}
	return 0;
}

int reference_plan_build(const struct ref_history *h, const struct ref_loop_params *p, int64_t cycle_ms,
                         ref_allocation_fn start_allocation, void *ctx, struct reference_plan **out,
                         char *err, size_t errlen)
{
	*out = NULL;
	if (cycle_ms <= 0) {
		errbuf_set(err, errlen, "reference plan: a cycle of %lld ms", (long long)cycle_ms);
		return -1;
	}
	struct reference_plan *plan = calloc(1, sizeof *plan);
	struct ref_loop *L = ref_loop_new(p);
	if (!plan || !L) {
		reference_plan_free(plan);
		ref_loop_free(L);
		errbuf_set(err, errlen, "reference plan: out of memory or no rolling window / trees");
		return -1;
	}
	plan->start_allocation = start_allocation;
	plan->ctx = ctx;
	int64_t oldest_us, newest_us;
	int rc = 0;
	if (oldest_and_newest(h, &oldest_us, &newest_us) == 0) {
		const int64_t step_us = cycle_ms * 1000;
		for (int64_t t_us = oldest_us + step_us; t_us <= newest_us && rc == 0; t_us += step_us) {
			struct ref_cycle cy;
			rc = ref_loop_cycle(L, h, ref_history_visible(h, t_us), t_us, current_allocation, plan,
			                    &cy, err, errlen);
			if (rc != 0)
				break;
			plan->stats.cycles++;
			if (cy.status == REF_CYCLE_STALE)
				plan->stats.stale_cycles++;
			if (cy.status == REF_CYCLE_UNTRAINABLE)
				plan->stats.untrainable_cycles++;
			rc = record_cycle(plan, p, t_us / 1000, &cy);
			if (rc == 0 && plan->oom)
				rc = -1;
			if (rc != 0)
				errbuf_set(err, errlen, "reference plan: out of memory");
		}
	}
	ref_loop_free(L);
	if (rc == 0 && group_events(plan) != 0) {
		errbuf_set(err, errlen, "reference plan: out of memory");
		rc = -1;
	}
	if (rc != 0) {
		reference_plan_free(plan);
		return -1;
	}
	*out = plan;
	return 0;
}

const struct reference_event *reference_plan_events(const struct reference_plan *plan, uint32_t vmid,
                                                    size_t *n)
{
	*n = 0;
	if (!plan)
		return NULL;
	size_t lo = 0, hi = plan->n_ev;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (plan->ev_vmid[mid] < vmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t e = lo;
	while (e < plan->n_ev && plan->ev_vmid[e] == vmid)
		e++;
	*n = e - lo;
	return *n ? &plan->ev[lo] : NULL;
}

void reference_plan_stats(const struct reference_plan *plan, struct reference_plan_stats *out)
{
	*out = plan->stats;
}

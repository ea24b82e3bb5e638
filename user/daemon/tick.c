/*
 * daemon/tick.c — what the daemon does per container: sample, features, score, policy;
 * the tick over all containers with the host budget; the metrics cycle and systemd's
 * STATUS= line (design in daemon/daemon.h). Granted decisions leave through daemon/emit.c.
 *
 * The same two steps serve the tick and the events: daemon_sample_ct() reads a
 * container (collect_sample_ct) and pushes a row into its history, daemon_evaluate_ct()
 * scores the newest row and turns it into a decision wish (evaluate, the code replay runs). The tick collects every container's wish and grants them together
 * (urgency, then tier priority); an event grants its one wish against what is left.
 */
#include "daemon/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sdnotify.h"
#include "compat/metrics_file.h"

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool looks_hot(const struct policy_params *p, const struct policy_input *in,
		      const struct decision *out);
static bool looks_idle(const struct policy_params *p, const struct policy_input *in);

/* ---- one container ----------------------------------------------------------------------- */

/* A sample read (collect_sample_ct): the allocation (the Proxmox config's, when read,
 * wins over the cgroup's), the carry-over counts, the record file, the API's staleness. */
static void store_sample(struct daemon *d, struct ct *ct, struct sampler_result *r, int64_t now_ms)
{
	ct->psi_carried = r->pressure_carried ? ct->psi_carried + 1 : 0;
	d->st.psi_carried += r->pressure_carried;
	ct->cpu_from_bpf = r->cpu_from_bpf;
	d->st.cpu_from_bpf += r->cpu_from_bpf;
	if (!r->pressure_carried) { /* carried: ct->psi_avg10 keeps the last values read */
		memcpy(ct->psi_avg10, r->psi_avg10, sizeof(ct->psi_avg10));
		memcpy(ct->psi_full_avg10, r->psi_full_avg10, sizeof(ct->psi_full_avg10));
	}
	daemon_budget_track(d, &ct->alloc, -1);
	ct->alloc = r->alloc;
	daemon_act_alloc(ct, &ct->alloc, &r->raw);
	daemon_budget_track(d, &ct->alloc, +1);
	ct->have_raw = true;
	if (d->rec)
		recorder_sample(d->rec, ct->vmid, ct->alloc.ram_known ? ct->alloc.ram_mb : 0, &r->raw);
	ct->last_sample_ms = now_ms;
	ct->pub_stale = true;
	d->st.samples++;
}

bool daemon_sample_ct(struct daemon *d, struct ct *ct, int64_t now_ms)
{
	const struct sampler_host host = { &d->sopts, &d->roots, &d->bpf_drains };
	const struct sampler_ct c = {
		.cg = ct->cg,
		.extra = &ct->extra,
		.limits = &ct->limits,
		.bpf = &ct->bpf,
		.prev = ct->have_raw ? features_history_raw(ct->hist) : NULL,
		.hot = now_ms < ct->hot_until_ms,
		.idle = ct->idle,
		.psi_triggers = ct->psi_fd[0] >= 0 && ct->psi_fd[1] >= 0,
		.psi_carried = ct->psi_carried,
	};
	struct sampler_result r;
	cg_err e = collect_sample_ct(&host, &c, now_ms, &r);
	if (e == CG_GONE) {
		ct->gone = true;
		return false;
	}
	if (e != CG_OK) {
		log_debug("container %u: sample: %s", ct->vmid, cg_strerror(e));
		return false;
	}
	store_sample(d, ct, &r, now_ms);
	bool row = features_feed_raw(ct->hist, &r.raw);
	if (row)
		d->st.rows++;
	return row;
}

/* The model's verdict on the container's newest vector (it trains on one vector per
 * MODEL_TRAIN_EVERY_MS); false when the model did not score it. *x is the projected vector. */
static bool score_ct(struct daemon *d, struct ct *ct, int64_t now_ms, double x[FEAT_COUNT], iforest_result *r)
{
	struct feat_vector v;
	features_compute(ct->hist, &v);
	memset(r, 0, sizeof(*r));
	if (!features_project(&v, &d->sel, x))
		return false;
	d->st.fed++;
	bool train = now_ms - ct->last_train_ms >= MODEL_TRAIN_EVERY_MS;
	if (train)
		ct->last_train_ms = now_ms;
	return model_score(d->model, ct->mct, x, train, r) == 1;
}

bool daemon_evaluate_ct(struct daemon *d, struct ct *ct, int64_t now_ms, struct decision *out)
{
	const struct feat_row *row = features_history_last(ct->hist);
	if (!row)
		return false;
	double x[FEAT_COUNT];
	iforest_result r;
	ct->scored = score_ct(d, ct, now_ms, x, &r);
	ct->pub_stale = true;
	if (ct->scored) {
		ct->score = r;
		d->st.scored++;
	}

	const struct eval_request rq = {
		.vmid = ct->vmid,
		.now_ms = now_ms,
		.row = row,
		.alloc = &ct->alloc,
		.oom_kills = oom_tracker_take_raw(&ct->oom, features_history_raw(ct->hist)),
		.score = ct->scored ? &r : NULL,
		.view = EVAL_FULL,
		.params = daemon_ct_params(d, ct),
		.ignored = ct->tag_ignored,
	};
	struct policy_input in;
	bool want = evaluate(&d->pc, &ct->pol, &rq, &in, out);
	if (want && ct->scored)
		model_explain(d->model, ct->mct, x, out->top);
	const struct policy_params *p = rq.params;
	bool hot = want || looks_hot(p, &in, out);
	if (hot)
		daemon_mark_hot(ct, now_ms);
	ct->idle = !hot && looks_idle(p, &in);
	return want;
}

/* ---- sampling schedule --------------------------------------------------------------------
 * Reading a container's cgroup files is most of a tick's cost, and a quiet container's
 * files say nothing new ten times a second. Sub-second urgency does not come from them:
 * PSI triggers, memory.events and the BPF ring wake daemon_evaluate_now() at once, which
 * marks the container hot. A hot container is read every tick; a quiet one every
 * cgroup.quiet_sample_interval_ms and an idle one (no use, no stalls, nothing to change)
 * every cgroup.idle_sample_interval_ms, on the ticks its slot picks ((tick + slot) a
 * multiple of its period in ticks), so that the readings are spread evenly and each tick
 * does the same work. Features are deltas over the real time between two readings, so a
 * longer period does not bias them.
 *
 * A tick must not cost anything for a container that is not due: the containers are kept
 * on lists, the hot list and a wheel with one bucket per tick of the longest period (a
 * container sits in the bucket of the tick it is due next), so a tick visits the hot list
 * and one bucket, never the whole table. daemon_mark_hot() moves a container to the hot
 * list at once (an event, a decision); after its read a container that has cooled down
 * goes into the bucket of its next due tick. */

static struct ct **sched_head(struct daemon *d, int32_t list)
{
	return list == SCHED_HOT ? &d->hot : &d->buckets[list];
}

static void sched_unlink(struct daemon *d, struct ct *ct)
{
	if (ct->sched_list == SCHED_NONE)
		return;
	if (ct->sched_prev)
		ct->sched_prev->sched_next = ct->sched_next;
	else
		*sched_head(d, ct->sched_list) = ct->sched_next;
	if (ct->sched_next)
		ct->sched_next->sched_prev = ct->sched_prev;
	ct->sched_prev = ct->sched_next = NULL;
	ct->sched_list = SCHED_NONE;
}

static void sched_link(struct daemon *d, struct ct *ct, int32_t list)
{
	if (ct->sched_list == list)
		return;
	sched_unlink(d, ct);
	struct ct **head = sched_head(d, list);
	ct->sched_prev = NULL;
	ct->sched_next = *head;
	if (*head)
		(*head)->sched_prev = ct;
	*head = ct;
	ct->sched_list = list;
}

/* A new container is read every tick until it has its first rows. */
void daemon_sched_add(struct daemon *d, struct ct *ct)
{
	ct->sched_list = SCHED_NONE;
	sched_link(d, ct, SCHED_HOT);
}

void daemon_sched_remove(struct daemon *d, struct ct *ct)
{
	sched_unlink(d, ct);
}

void daemon_mark_hot(struct ct *ct, int64_t now_ms)
{
	ct->hot_until_ms = now_ms + HOT_HOLD_MS;
	ct->idle = false;
	if (ct->d && ct->sched_list != SCHED_NONE)
		sched_link(ct->d, ct, SCHED_HOT);
}

/* Usage near a scale-up threshold, or any sign of pressure: the next change may be due
 * soon, so the container is watched closely. Half a threshold of stalls counts. */
static bool looks_hot(const struct policy_params *p, const struct policy_input *in, const struct decision *out)
{
	if (in->oom_kills > 0)
		return true;
	if (in->cpu_known && out->cpu_pct >= p->cpu_up_pct * HOT_NEAR)
		return true;
	if (out->mem_pct > 0 && out->mem_pct >= p->ram_up_pct * HOT_NEAR)
		return true;
	if (in->psi_known && (in->cpu_some_ms >= p->psi_cpu_some_ms / 2 || in->mem_some_ms >= p->psi_memory_some_ms / 2))
		return true;
	return in->throttle_known && in->throttled_ratio >= p->throttled_ratio / 2;
}

/* Nothing going on: CPU use known and under IDLE_CPU_PCT of the allocation, stalls (when
 * known) under a tenth of the thresholds, no throttling, no OOM kill. Unknown CPU use is
 * never idle. Such a container is read every idle_sample_interval_ms. */
static bool looks_idle(const struct policy_params *p, const struct policy_input *in)
{
	if (!in->cpu_known || in->cpu_pct >= IDLE_CPU_PCT || in->oom_kills > 0)
		return false;
	if (in->psi_known && (in->cpu_some_ms >= p->psi_cpu_some_ms / 10 || in->mem_some_ms >= p->psi_memory_some_ms / 10))
		return false;
	return !(in->throttle_known && in->throttled_ratio > 0);
}

static uint32_t period_ticks(int tick_ms, int period_ms)
{
	if (tick_ms <= 0 || period_ms <= tick_ms)
		return 1;
	return (uint32_t)((period_ms + tick_ms / 2) / tick_ms);
}

static uint32_t quiet_period_ticks(const struct daemon *d)
{
	return period_ticks(d->cfg->sample_interval_ms, d->cfg->cgroup.quiet_sample_interval_ms);
}

/* Never shorter than the quiet period: 0 or a smaller value reads idle ones as quiet ones.
 * A quiet period of one tick ("every container every tick") includes the idle ones.
 * Without BPF there is no idle tier: nothing would wake an idle container whose work raises
 * no stall (one busy thread under its limit), and its first burst would wait for the idle
 * reading (5 s by default); with BPF its on-CPU time marks it hot at the next tick. */
static uint32_t idle_period_ticks(const struct daemon *d)
{
	uint32_t q = quiet_period_ticks(d), i = period_ticks(d->cfg->sample_interval_ms,
							     d->cfg->cgroup.idle_sample_interval_ms);
	if (!d->bpf)
		return q;
	return q > 1 && i > q ? i : q;
}

/* The wheel bucket of a cooled-down container: that of the first tick after this one at
 * which (tick + slot) is a multiple of its period. At most n_buckets ticks ahead, so the
 * bucket is visited exactly at that tick. */
static int32_t sched_bucket(const struct daemon *d, const struct ct *ct)
{
	uint64_t period = ct->idle ? d->idle_ticks : d->quiet_ticks;
	uint64_t next = d->tick_no + 1;
	next += (period - (next + ct->slot) % period) % period;
	return (int32_t)(next % d->n_buckets);
}

/* The periods changed (start, reload): a wheel as long as the longest, and the waiting
 * containers moved into their buckets in it. Without memory for it the old one stays. */
static void sched_resize(struct daemon *d, uint32_t quiet, uint32_t idle)
{
	struct ct **nb = calloc(idle, sizeof(*nb));
	if (!nb)
		return;
	struct ct **old = d->buckets;
	uint32_t n_old = d->n_buckets;
	d->buckets = nb;
	d->n_buckets = idle;
	d->quiet_ticks = quiet;
	d->idle_ticks = idle;
	for (uint32_t i = 0; i < n_old; i++) {
		while (old[i]) {
			struct ct *ct = old[i];
			old[i] = ct->sched_next;
			ct->sched_list = SCHED_NONE; /* taken off the old wheel by hand */
			ct->sched_prev = ct->sched_next = NULL;
			sched_link(d, ct, sched_bucket(d, ct));
		}
	}
	free(old);
}

/* After a tick's read: still hot (an event or a sign in the last HOT_HOLD_MS, no reading
 * yet, fewer than two rows) stays on the hot list, else it waits for its next due tick. */
static void sched_after_sample(struct daemon *d, struct ct *ct, int64_t now_ms)
{
	bool hot = !ct->have_raw || now_ms < ct->hot_until_ms || features_history_count(ct->hist) < 2;
	if (hot)
		ct->idle = false;
	sched_link(d, ct, hot ? SCHED_HOT : sched_bucket(d, ct));
}

static int by_vmid(const void *a, const void *b)
{
	uint32_t x = (*(struct ct *const *)a)->vmid, y = (*(struct ct *const *)b)->vmid;
	return x < y ? -1 : x > y;
}

/* The containers to read this tick into d->due, in vmid order: the hot list and the
 * wheel bucket of this tick. */
static size_t sched_due(struct daemon *d)
{
	uint32_t quiet = quiet_period_ticks(d), idle = idle_period_ticks(d);
	if (quiet != d->quiet_ticks || idle != d->idle_ticks || !d->n_buckets)
		sched_resize(d, quiet, idle);
	if (!d->n_buckets)
		return 0;
	if (d->due_cap < d->n_cts) {
		size_t cap = d->n_cts * 2;
		struct ct **n = realloc(d->due, cap * sizeof(*n));
		if (n) {
			d->due = n;
			d->due_cap = cap;
		}
	}
	size_t n = 0;
	for (struct ct *ct = d->hot; ct && n < d->due_cap; ct = ct->sched_next)
		d->due[n++] = ct;
	for (struct ct *ct = d->buckets[d->tick_no % d->n_buckets]; ct && n < d->due_cap; ct = ct->sched_next)
		d->due[n++] = ct;
	if (n > 1)
		qsort(d->due, n, sizeof(*d->due), by_vmid);
	return n;
}

/* The host budget's "used" side is the sum of the containers' known allocations. It is
 * kept as running totals, updated where an allocation changes (a sample, a removal), so
 * granting a wish never walks every container. Integers (micro-cores, KiB) so that adding
 * and taking away leave no rounding drift. */
void daemon_budget_track(struct daemon *d, const struct alloc *a, int sign)
{
	if (a->cores_known)
		d->alloc_ucores += sign * llround(a->cores * 1e6);
	if (a->ram_known)
		d->alloc_ram_kib += sign * llround(a->ram_mb * 1024.0);
}

void daemon_budget(struct daemon *d, struct policy_budget *b)
{
	const struct lxcscale_config *c = d->cfg;
	policy_budget_init(b, c->host.total_cores, c->host.total_ram_mb, d->host_cpus, d->host_ram_mb,
			   c->host.reserve_cpu_cores, c->host.reserve_memory_mb);
	policy_budget_account(b, true, (double)d->alloc_ucores / 1e6, true, (double)d->alloc_ram_kib / 1024.0);
}

/* A wish the host budget could not grant: said at most once a minute per container, so
 * an admin sees why a busy container is not growing. */
static void budget_refused(struct daemon *d, const struct decision *dec, const struct policy_budget *b,
			   int64_t now)
{
	struct ct *ct = daemon_find(d, dec->vmid);
	if (!ct || now - ct->budget_log_ms < 60000)
		return;
	ct->budget_log_ms = now;
	log_info("container %u: %s (%s) not granted: host budget full (%.2f of %.2f cores, %.0f of %.0f MiB "
		 "allocated; scaling.total_cores / total_ram_mb / reserve_*)",
		 dec->vmid, dec->detail, decision_reason_name(dec->reason), b->cores_used, b->cores_total,
		 b->ram_used_mb, b->ram_total_mb);
}

void daemon_note_wake(struct ct *ct, enum decision_wake why)
{
	uint64_t now = daemon_mono_ns();
	if (ct->wake != WAKE_NONE && now - ct->wake_ns <= (uint64_t)DECISION_WAKE_HOLD_MS * 1000000u)
		return;
	ct->wake = why;
	ct->wake_ns = now;
}

void daemon_evaluate_now(struct daemon *d, struct ct *ct, bool force)
{
	int64_t now = daemon_mono_ms();
	daemon_mark_hot(ct, now); /* an event: watch it every tick for a while */
	if (!force && now - ct->last_sample_ms < EVENT_DEBOUNCE_MS)
		return;
	d->st.event_evaluations++;
	if (!daemon_sample_ct(d, ct, now)) {
		if (ct->gone)
			daemon_remove_ct(d, ct);
		return;
	}
	struct decision dec;
	if (!daemon_evaluate_ct(d, ct, now, &dec))
		return;
	struct policy_budget b;
	daemon_budget(d, &b);
	struct decision wish = dec;
	if (!policy_grant(&b, &dec)) {
		budget_refused(d, &wish, &b, now);
		return;
	}
	daemon_apply(d, &dec);
	policy_commit(&ct->pol, &dec, now);
}

/* ---- metrics history cycle --------------------------------------------------------------- */

static double rss_mb(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long pages = 0, rss = 0;
	if (f) {
		if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return (double)rss * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void metrics_cycle(struct daemon *d, int64_t now_ms, uint64_t start_ns)
{
	if (!d->mw)
		return;
	struct mf_container *c = calloc(d->n_cts ? d->n_cts : 1, sizeof(*c));
	if (!c)
		return;
	size_t n = 0;
	for (size_t i = 0; i < d->n_cts; i++) {
		const struct ct *ct = d->cts[i];
		const struct feat_row *row = features_history_last(ct->hist);
		const struct feat_raw *raw = features_history_raw(ct->hist);
		if (!row || !raw)
			continue;
		struct mf_container *m = &c[n++];
		m->vmid = ct->vmid;
		mf_format_timestamp(raw->wall_ms * 1000, m->timestamp);
#define VAL(colname, field, bit)                                  \
	do {                                                      \
		if (row->known & COL_BIT(colname))                \
			m->field = row->v[colname];               \
		else                                              \
			m->unknown |= MF_BIT(bit);                \
	} while (0)
		VAL(COL_CPU, cpu_usage_percent, MF_CPU);
		VAL(COL_MEM, memory_usage_mb, MF_MEMORY);
		VAL(COL_SWAP, swap_usage_mb, MF_SWAP_USAGE);
		VAL(COL_SWAP_TOTAL, swap_total_mb, MF_SWAP_TOTAL);
		VAL(COL_FS_USED, filesystem_usage_gb, MF_FS_USAGE);
		VAL(COL_FS_TOTAL, filesystem_total_gb, MF_FS_TOTAL);
		VAL(COL_FS_FREE, filesystem_free_gb, MF_FS_FREE);
#undef VAL
		if (row->known & COL_BIT(COL_PROCS))
			m->process_count = (uint64_t)row->v[COL_PROCS];
		else
			m->unknown |= MF_BIT(MF_PROCESSES);
		if (raw->known & RAW_BIT(RAW_IO)) { /* the reference's cumulative sectors */
			m->io_reads = raw->io_rbytes / 512;
			m->io_writes = raw->io_wbytes / 512;
		} else {
			m->unknown |= MF_BIT(MF_IO);
		}
		if (raw->known & RAW_BIT(RAW_NET)) {
			m->rx_bytes = raw->net_rx_bytes;
			m->tx_bytes = raw->net_tx_bytes;
		} else {
			m->unknown |= MF_BIT(MF_NETWORK);
		}
	}
	struct mf_summary s;
	memset(&s, 0, sizeof(s));
	int64_t wall_us = daemon_wall_ms() * 1000;
	mf_format_timestamp(wall_us - (int64_t)((daemon_mono_ns() - start_ns) / 1000), s.collection_start_time);
	mf_format_timestamp(wall_us, s.collection_end_time);
	s.total_containers = (unsigned)d->n_cts;
	s.collected_containers = (unsigned)n;
	s.total_duration_seconds = (double)(daemon_mono_ns() - start_ns) / 1e9;
	uint64_t cpu = process_cpu_ns();
	int64_t span = now_ms - d->metrics_wall_mark_ms;
	if (span > 0 && d->metrics_cpu_ns_mark)
		s.monitor_cpu_percent = (double)(cpu - d->metrics_cpu_ns_mark) / 1e6 / (double)span * 100.0;
	d->metrics_cpu_ns_mark = cpu;
	d->metrics_wall_mark_ms = now_ms;
	s.monitor_memory_usage_mb = rss_mb();
	metrics_writer_submit(d->mw, c, n, &s);
	free(c);
}

/* ---- systemd ----------------------------------------------------------------------------- */

void daemon_status_line(struct daemon *d, char *buf, size_t len)
{
	struct model_status ms;
	model_status(d->model, &ms);
	double avg_ms = d->st.ticks ? (double)d->st.tick_wall_ns / (double)d->st.ticks / 1e6 : 0;
	snprintf(buf, len, "%zu containers, tick %.2f ms, model %s (gen %llu), %llu decisions%s%s",
		 d->n_cts, avg_ms, ms.host_built ? "built" : ms.loaded ? "loaded" : "warming up",
		 (unsigned long long)ms.host_generation, (unsigned long long)d->st.decisions,
		 d->cfg->scaling.dry_run ? ", dry run" : "", d->bpf ? ", BPF" : "");
}

/* WATCHDOG=1 comes from lxcscaled's own loop timer; the tick adds the status line. */
static void notify(struct daemon *d, int64_t now_ms)
{
	if (now_ms >= d->next_status_ms) {
		char line[256], msg[300];
		daemon_status_line(d, line, sizeof(line));
		snprintf(msg, sizeof(msg), "STATUS=%s", line);
		sdnotify_send(msg);
		d->next_status_ms = now_ms + STATUS_EVERY_MS;
	}
	/* Containers come and go and the model is rebuilt on another thread: freed memory in
	 * the middle of glibc's heaps stays resident until trimmed. A trim a minute walks a
	 * few MB of free lists, and keeps a long-running daemon's RSS at what it uses. */
	if (now_ms >= d->next_trim_ms) {
		malloc_trim(0);
		d->next_trim_ms = now_ms + TRIM_EVERY_MS;
	}
}

/* ---- the tick ---------------------------------------------------------------------------- */

/* The tick's wishes: a handful at a time, not one 408-byte slot per container up front.
 * False (the wish waits for the next tick, logged) when memory runs out. */
static bool props_reserve(struct daemon *d, size_t n)
{
	if (n <= d->props_cap)
		return true;
	size_t cap = d->props_cap ? d->props_cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	struct decision *p = realloc(d->props, cap * sizeof(*p));
	if (!p) {
		log_error("tick: out of memory for %zu wishes; the rest wait for the next tick", n);
		return false;
	}
	d->props = p;
	d->props_cap = cap;
	return true;
}

/* Hot when its tasks were on a CPU for at least HOT_NEAR of its scale-up threshold in the
 * drain's interval: a burst makes it hot at the next tick, also when its files are read
 * only once a second. */
static void mark_hot_if_busy(struct daemon *d, struct ct *ct, uint64_t oncpu_ns, int64_t dt_ms, int64_t now_ms)
{
	if (dt_ms <= 0 || !ct->alloc.cores_known || ct->alloc.cores <= 0)
		return;
	const double busy_pct = 100.0 * (double)oncpu_ns / ((double)dt_ms * 1e6 * ct->alloc.cores);
	if (busy_pct >= daemon_ct_params(d, ct)->cpu_up_pct * HOT_NEAR)
		daemon_mark_hot(ct, now_ms);
}

/* A task alone on a CPU runs without a context switch, so no drain reports its
 * container: one with a task on a CPU now counts as reported (its cpu.stat is read, not
 * taken as unchanged), and its time on that CPU within this interval counts as busy, so a
 * burst that began with one switch and went on without another still makes it hot. */
static void note_on_cpu(struct daemon *d, int64_t now_ms, int64_t dt_ms)
{
	const struct lxs_on_cpu *on;
	size_t n = 0;
	if (lxs_bpf_on_cpu(d->bpf, &on, &n) != 0)
		return;
	const uint64_t now_ns = daemon_mono_ns();
	const uint64_t from_ns = dt_ms > 0 ? now_ns - (uint64_t)dt_ms * 1000000ull : now_ns;
	for (size_t i = 0; i < n; i++) {
		struct ct *ct = daemon_find_cgid(d, on[i].cgid);
		if (!ct)
			continue;
		ct->bpf.drain_no = d->bpf_drains.drain_no;
		if (on[i].since_ns < now_ns)
			mark_hot_if_busy(d, ct, now_ns - (on[i].since_ns > from_ns ? on[i].since_ns : from_ns), dt_ms,
					 now_ms);
	}
}

static void drain_bpf(struct daemon *d)
{
	if (!d->bpf)
		return;
	size_t want = d->n_cts + 8;
	if (d->deltas_cap < want) {
		struct lxs_ct_delta *n = realloc(d->deltas, want * 2 * sizeof(*n));
		if (!n) { /* not drained: the next drain reports this interval */
			d->bpf_drains.fail_no = ++d->bpf_drains.drain_no;
			return;
		}
		d->deltas = n;
		d->deltas_cap = want * 2;
	}
	size_t n = 0;
	int rc = lxs_bpf_drain(d->bpf, d->deltas, d->deltas_cap, &n);
	d->bpf_drains.drain_no++;
	if (rc != 0) /* ENOBUFS: some reports come at the next drain; none can be relied on */
		d->bpf_drains.fail_no = d->bpf_drains.drain_no;
	if (rc != 0 && rc != -ENOBUFS)
		return;
	const int64_t now = daemon_mono_ms(), dt_ms = d->bpf_drain_ms ? now - d->bpf_drain_ms : 0;
	d->bpf_drain_ms = now;
	for (size_t i = 0; i < n; i++) {
		const struct lxs_ct_delta *x = &d->deltas[i];
		struct ct *ct = daemon_find_cgid(d, x->cgid);
		if (!ct || x->first)
			continue;
		ct->bpf.drain_no = d->bpf_drains.drain_no;
		ct->bpf.runq_p50_us = (double)x->runq_p50_ns / 1000.0;
		ct->bpf.runq_p99_us = (double)x->runq_p99_ns / 1000.0;
		if (ct->bpf.runq_p99_us > ct->runq_p99_max_us)
			ct->runq_p99_max_us = ct->bpf.runq_p99_us;
		ct->bpf.reclaim_us += (x->reclaim_ns + x->dreclaim_ns) / 1000;
		mark_hot_if_busy(d, ct, x->oncpu_ns, dt_ms, now); /* BPF's time arrives every tick */
	}
	note_on_cpu(d, now, dt_ms);
}

/* A tick that comes far later than due, or takes long, delays every reaction by as much:
 * said in the log (at most every 10 s), since nothing else would show it. */
#define LATE_TICK_NS 1000000000ull
static void warn_if_late(struct daemon *d, uint64_t start_ns, uint64_t wall_ns)
{
	const uint64_t due_ns = (uint64_t)d->cfg->sample_interval_ms * 1000000ull;
	const uint64_t gap_ns = d->last_tick_ns ? start_ns - d->last_tick_ns : 0;
	const bool late = gap_ns > due_ns + LATE_TICK_NS, slow = wall_ns > LATE_TICK_NS;
	if ((late || slow) && start_ns - d->late_warned_ns >= 10 * LATE_TICK_NS) {
		d->late_warned_ns = start_ns;
		if (late)
			log_warning("loop: a tick came %llu ms after the previous one (due every %d ms): "
				    "the loop was held up; reactions were late by as much",
				    (unsigned long long)(gap_ns / 1000000), d->cfg->sample_interval_ms);
		if (slow)
			log_warning("loop: a tick took %llu ms (%zu containers)",
				    (unsigned long long)(wall_ns / 1000000), d->n_cts);
	}
	d->last_tick_ns = start_ns;
}

void daemon_tick(struct daemon *d)
{
	const uint64_t t0 = daemon_mono_ns(), c0 = thread_cpu_ns();
	const int64_t now = daemon_mono_ms();
	daemon_free_dead(d);
	drain_bpf(d);
	daemon_act_tick(d);

	size_t n_props = 0;
	d->tick_no++;
	size_t n_due = sched_due(d);
	for (size_t i = 0; i < n_due; i++) {
		struct ct *ct = d->due[i];
		struct decision dec;
		if (daemon_sample_ct(d, ct, now) && daemon_evaluate_ct(d, ct, now, &dec) &&
		    props_reserve(d, n_props + 1))
			d->props[n_props++] = dec;
		if (!ct->gone)
			sched_after_sample(d, ct, now);
	}
	for (size_t i = 0; i < n_due; i++) /* containers found gone while sampling */
		if (d->due[i]->gone)
			daemon_remove_ct(d, d->due[i]);

	if (n_props) {
		struct policy_budget b;
		daemon_budget(d, &b);
		size_t granted = policy_grant_all(&b, d->props, n_props);
		for (size_t i = granted; i < n_props; i++)
			budget_refused(d, &d->props[i], &b, now);
		for (size_t i = 0; i < granted; i++) {
			struct ct *ct = daemon_find(d, d->props[i].vmid);
			daemon_apply(d, &d->props[i]);
			if (ct)
				policy_commit(&ct->pol, &d->props[i], now);
		}
	}

	if (d->cfg->metrics_interval_seconds > 0 && now >= d->next_metrics_ms) {
		metrics_cycle(d, now, t0);
		d->next_metrics_ms = now + (int64_t)d->cfg->metrics_interval_seconds * 1000;
	}
	notify(d, now);
	if (d->rec) {
		char re[512];
		if (recorder_tick(d->rec, daemon_wall_ms(), re, sizeof(re)) != 0)
			log_error("record_file: %s", re);
	}
	daemon_publish(d, now);

	uint64_t wall = daemon_mono_ns() - t0;
	d->st.ticks++;
	d->st.tick_wall_ns += wall;
	d->st.tick_cpu_ns += thread_cpu_ns() - c0;
	if (wall > d->st.tick_wall_max_ns)
		d->st.tick_wall_max_ns = wall;
	warn_if_late(d, t0, wall);
}

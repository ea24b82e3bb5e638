/*
 * daemon/publish.c — the loop's published snapshot for other threads (design in daemon/publish.h).
 *
 * Three independent locks so a slow reader of one part never holds up another:
 *   mu      the container list, the per-container history rings, stats and counters;
 *   dec_mu  the decision ring;
 *   sub_mu  the subscriber list (held while callbacks run, see the header).
 * The container list is double-buffered: the loop fills the back array (pub_list_begin,
 * pub_list_put), then swaps it in under `mu` (pub_list_commit), so the lock is held for a
 * pointer swap, not for building the list. An entry is struct pub_ct, the API's container
 * without its last decision (160 bytes instead of 1.1 KB): last decisions live once, in
 * `lastdecs` sorted by vmid, for the containers that have one, copied only when they change.
 * Readers get full struct ct_snapshot copies.
 *
 * History rings are what a thousand containers cost here: each is a struct histring
 * (daemon/histring.c), 6-10 bytes a point instead of the 64 of struct history_point,
 * growing as points arrive; pub_get() expands it back into struct history_point, so the
 * API's JSON keeps its fields and format.
 */
#include "daemon/histring.h"
#include "daemon/publish.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/vmid_search.h"

#define SUBS_MAX 64
#define REASONS 6
#define OUTCOMES 7

struct hist {
	uint32_t vmid;
	struct histring ring;
};

/* struct ct_snapshot but its last decision (keep the two in step: ct_pack, ct_unpack) */
struct pub_ct {
	uint32_t vmid;
	bool running, ignored, anomaly, has_last_decision;
	char name[64], ignored_by[16], tier[64];
	int64_t updated_ms;
	double cores;
	uint64_t memory_mb, memory_high_mb, memory_used_mb;
	double cpu_pct, mem_pct;
	double cpu_psi_some_avg10, mem_psi_some_avg10, io_psi_some_avg10;
	double cpu_psi_full_avg10, mem_psi_full_avg10, runq_p99_us;
	double anomaly_score;
};

struct lastdec {
	uint32_t vmid;
	struct decision d;
};

struct sub {
	uint64_t handle;
	api_event_fn fn;
	void *arg;
};

struct daemon_pub {
	pthread_mutex_t mu;
	struct pub_ct *list, *back;  /* front (readers), back (the loop fills it) */
	size_t n_list, cap_list, cap_back;
	struct lastdec *lastdecs;    /* sorted by vmid; written by the loop under mu */
	size_t n_lastdecs, cap_lastdecs;
	uint64_t generation;
	struct pub_stats st;
	struct api_health health;
	struct hist *hists;          /* sorted by vmid */
	size_t n_hists, cap_hists, hist_points;
	uint64_t outcomes[REASONS][OUTCOMES];

	pthread_mutex_t dec_mu;
	struct decision *decs;       /* ring */
	size_t dec_head, dec_count, dec_max;

	pthread_mutex_t sub_mu;
	struct sub subs[SUBS_MAX];
	size_t n_subs;
	uint64_t next_handle;

	/* /metrics' per-container series, as text, for the list of one generation: a scrape
	 * between two publications (one a second) copies them instead of writing them again */
	pthread_mutex_t mcache_mu;
	uint64_t mcache_gen;
	char *mcache;
	size_t mcache_len;
};

static const char *const outcome_names[OUTCOMES] = {
	"applied", "shrinking", "persist-only", "dry-run", "refused", "failed", "other",
};
static const char *const reason_names[REASONS] = {
	"threshold", "anomaly", "psi", "oom", "manual", "reconcile",
};

struct daemon_pub *pub_new(size_t history_points, size_t decisions_max)
{
	struct daemon_pub *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->hist_points = history_points ? history_points : 1;
	if (p->hist_points > 1000000) /* a ring counts its points and bytes in uint32 */
		p->hist_points = 1000000;
	p->dec_max = decisions_max ? decisions_max : 1;
	p->decs = calloc(p->dec_max, sizeof(*p->decs));
	if (!p->decs) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->dec_mu, NULL);
	pthread_mutex_init(&p->sub_mu, NULL);
	pthread_mutex_init(&p->mcache_mu, NULL);
	p->next_handle = 1;
	return p;
}

void pub_free(struct daemon_pub *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_hists; i++)
		histring_free(&p->hists[i].ring);
	free(p->hists);
	free(p->list);
	free(p->back);
	free(p->lastdecs);
	free(p->decs);
	free(p->mcache);
	pthread_mutex_destroy(&p->mcache_mu);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->dec_mu);
	pthread_mutex_destroy(&p->sub_mu);
	free(p);
}

/* ---- loop side ------------------------------------------------------------------------- */

static void ct_pack(struct pub_ct *o, const struct ct_snapshot *c)
{
	*o = (struct pub_ct){
		.vmid = c->vmid, .running = c->running, .ignored = c->ignored, .anomaly = c->anomaly,
		.has_last_decision = c->has_last_decision, .updated_ms = c->updated_ms,
		.cores = c->cores, .memory_mb = c->memory_mb, .memory_high_mb = c->memory_high_mb,
		.memory_used_mb = c->memory_used_mb,
		.cpu_pct = c->cpu_pct, .mem_pct = c->mem_pct,
		.cpu_psi_some_avg10 = c->cpu_psi_some_avg10, .mem_psi_some_avg10 = c->mem_psi_some_avg10,
		.io_psi_some_avg10 = c->io_psi_some_avg10, .anomaly_score = c->anomaly_score,
		.cpu_psi_full_avg10 = c->cpu_psi_full_avg10, .mem_psi_full_avg10 = c->mem_psi_full_avg10,
		.runq_p99_us = c->runq_p99_us,
	};
	memcpy(o->name, c->name, sizeof(o->name));
	memcpy(o->ignored_by, c->ignored_by, sizeof(o->ignored_by));
	memcpy(o->tier, c->tier, sizeof(o->tier));
}

static uint32_t lastdec_vmid(const void *p, size_t i)
{
	return ((const struct daemon_pub *)p)->lastdecs[i].vmid;
}

static size_t lastdec_lower_bound(const struct daemon_pub *p, uint32_t vmid)
{
	return vmid_lower_bound(p, p->n_lastdecs, lastdec_vmid, vmid);
}

/* Under mu. */
static void ct_unpack(const struct daemon_pub *p, const struct pub_ct *c, struct ct_snapshot *o)
{
	memset(o, 0, sizeof(*o));
	o->vmid = c->vmid;
	memcpy(o->name, c->name, sizeof(o->name));
	o->running = c->running;
	o->ignored = c->ignored;
	memcpy(o->ignored_by, c->ignored_by, sizeof(o->ignored_by));
	memcpy(o->tier, c->tier, sizeof(o->tier));
	o->updated_ms = c->updated_ms;
	o->cores = c->cores;
	o->memory_mb = c->memory_mb;
	o->memory_high_mb = c->memory_high_mb;
	o->cpu_pct = c->cpu_pct;
	o->memory_used_mb = c->memory_used_mb;
	o->mem_pct = c->mem_pct;
	o->cpu_psi_some_avg10 = c->cpu_psi_some_avg10;
	o->mem_psi_some_avg10 = c->mem_psi_some_avg10;
	o->io_psi_some_avg10 = c->io_psi_some_avg10;
	o->cpu_psi_full_avg10 = c->cpu_psi_full_avg10;
	o->mem_psi_full_avg10 = c->mem_psi_full_avg10;
	o->runq_p99_us = c->runq_p99_us;
	o->anomaly_score = c->anomaly_score;
	o->anomaly = c->anomaly;
	if (c->has_last_decision) {
		size_t i = lastdec_lower_bound(p, c->vmid);
		if (i < p->n_lastdecs && p->lastdecs[i].vmid == c->vmid) {
			o->has_last_decision = true;
			o->last_decision = p->lastdecs[i].d;
		}
	}
}

/* The loop's copy of a container's last decision; the loop is the only writer, so it reads
 * without the lock and takes it only to change something. False on ENOMEM. */
static bool lastdec_set(struct daemon_pub *p, uint32_t vmid, const struct decision *d)
{
	size_t i = lastdec_lower_bound(p, vmid);
	bool found = i < p->n_lastdecs && p->lastdecs[i].vmid == vmid;
	if (found && memcmp(&p->lastdecs[i].d, d, sizeof(*d)) == 0)
		return true;
	pthread_mutex_lock(&p->mu);
	if (!found) {
		if (p->n_lastdecs == p->cap_lastdecs) {
			size_t cap = p->cap_lastdecs ? p->cap_lastdecs * 2 : 16;
			struct lastdec *n = realloc(p->lastdecs, cap * sizeof(*n));
			if (!n) {
				pthread_mutex_unlock(&p->mu);
				return false;
			}
			p->lastdecs = n;
			p->cap_lastdecs = cap;
		}
		memmove(&p->lastdecs[i + 1], &p->lastdecs[i], (p->n_lastdecs - i) * sizeof(*p->lastdecs));
		p->n_lastdecs++;
		p->lastdecs[i].vmid = vmid;
	}
	p->lastdecs[i].d = *d;
	pthread_mutex_unlock(&p->mu);
	return true;
}

int pub_list_begin(struct daemon_pub *p, size_t n)
{
	if (n <= p->cap_back)
		return 0;
	size_t cap = n + n / 4 + 16;
	struct pub_ct *b = realloc(p->back, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	p->back = b;
	p->cap_back = cap;
	return 0;
}

void pub_list_put(struct daemon_pub *p, size_t i, const struct ct_snapshot *c)
{
	if (i >= p->cap_back)
		return;
	ct_pack(&p->back[i], c);
	if (c->has_last_decision && !lastdec_set(p, c->vmid, &c->last_decision))
		p->back[i].has_last_decision = false;
}

void pub_list_commit(struct daemon_pub *p, size_t n, const struct pub_stats *st)
{
	if (n > p->cap_back)
		n = p->cap_back;
	pthread_mutex_lock(&p->mu);
	struct pub_ct *front = p->list;
	size_t cap_front = p->cap_list;
	p->list = p->back;
	p->cap_list = p->cap_back;
	p->n_list = n;
	p->back = front;
	p->cap_back = cap_front;
	p->generation++;
	if (st)
		p->st = *st;
	pthread_mutex_unlock(&p->mu);
}

void pub_containers(struct daemon_pub *p, const struct ct_snapshot *list, size_t n,
		    const struct pub_stats *st)
{
	if (pub_list_begin(p, n) != 0)
		return; /* readers keep the previous snapshot */
	for (size_t i = 0; i < n; i++)
		pub_list_put(p, i, &list[i]);
	pub_list_commit(p, n, st);
}

void pub_set_health(struct daemon_pub *p, const struct api_health *h)
{
	pthread_mutex_lock(&p->mu);
	p->health = *h;
	pthread_mutex_unlock(&p->mu);
}

void pub_get_health(struct daemon_pub *p, struct api_health *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->health;
	pthread_mutex_unlock(&p->mu);
}

void pub_set_stats(struct daemon_pub *p, const struct pub_stats *st)
{
	pthread_mutex_lock(&p->mu);
	p->st = *st;
	pthread_mutex_unlock(&p->mu);
}

void pub_get_stats(struct daemon_pub *p, struct pub_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	pthread_mutex_unlock(&p->mu);
}

static uint32_t hist_vmid(const void *p, size_t i)
{
	return ((const struct daemon_pub *)p)->hists[i].vmid;
}

static size_t hist_lower_bound(const struct daemon_pub *p, uint32_t vmid)
{
	return vmid_lower_bound(p, p->n_hists, hist_vmid, vmid);
}

void pub_history(struct daemon_pub *p, uint32_t vmid, const struct history_point *pt)
{
	pthread_mutex_lock(&p->mu);
	size_t i = hist_lower_bound(p, vmid);
	if (i == p->n_hists || p->hists[i].vmid != vmid) {
		if (p->n_hists == p->cap_hists) {
			size_t cap = p->cap_hists ? p->cap_hists * 2 : 32;
			struct hist *nh = realloc(p->hists, cap * sizeof(*nh));
			if (!nh)
				goto out;
			p->hists = nh;
			p->cap_hists = cap;
		}
		memmove(&p->hists[i + 1], &p->hists[i], (p->n_hists - i) * sizeof(*p->hists));
		p->hists[i].vmid = vmid;
		histring_init(&p->hists[i].ring);
		p->n_hists++;
	}
	(void)histring_push(&p->hists[i].ring, p->hist_points, pt); /* ENOMEM: the point is lost */
out:
	pthread_mutex_unlock(&p->mu);
}

void pub_forget(struct daemon_pub *p, uint32_t vmid)
{
	pthread_mutex_lock(&p->mu);
	size_t i = hist_lower_bound(p, vmid);
	if (i < p->n_hists && p->hists[i].vmid == vmid) {
		histring_free(&p->hists[i].ring);
		memmove(&p->hists[i], &p->hists[i + 1], (p->n_hists - i - 1) * sizeof(*p->hists));
		p->n_hists--;
	}
	i = lastdec_lower_bound(p, vmid);
	if (i < p->n_lastdecs && p->lastdecs[i].vmid == vmid) {
		memmove(&p->lastdecs[i], &p->lastdecs[i + 1],
			(p->n_lastdecs - i - 1) * sizeof(*p->lastdecs));
		p->n_lastdecs--;
	}
	pthread_mutex_unlock(&p->mu);
}

void pub_event(struct daemon_pub *p, const struct ct_event *ev)
{
	pthread_mutex_lock(&p->sub_mu);
	for (size_t i = 0; i < p->n_subs; i++)
		p->subs[i].fn(p->subs[i].arg, ev);
	pthread_mutex_unlock(&p->sub_mu);
}

static int outcome_index(const char *outcome)
{
	for (int i = 0; i < OUTCOMES - 1; i++)
		if (outcome && !strcmp(outcome, outcome_names[i]))
			return i;
	return OUTCOMES - 1;
}

void pub_decision_history(struct daemon_pub *p, const struct decision *d)
{
	pthread_mutex_lock(&p->dec_mu);
	p->decs[(p->dec_head + p->dec_count) % p->dec_max] = *d;
	if (p->dec_count < p->dec_max)
		p->dec_count++;
	else
		p->dec_head = (p->dec_head + 1) % p->dec_max;
	pthread_mutex_unlock(&p->dec_mu);
}

void pub_decision(struct daemon_pub *p, const struct decision *d, const char *outcome)
{
	pub_decision_history(p, d);

	pthread_mutex_lock(&p->mu);
	if ((unsigned)d->reason < REASONS)
		p->outcomes[d->reason][outcome_index(outcome)]++;
	pthread_mutex_unlock(&p->mu);

	struct ct_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = CT_EVENT_DECISION;
	ev.time_ms = d->time_ms;
	ev.vmid = d->vmid;
	ev.decision = *d;
	snprintf(ev.detail, sizeof(ev.detail), "%s", outcome ? outcome : "");
	pub_event(p, &ev);
}

/* ---- readers --------------------------------------------------------------------------- */

uint64_t pub_generation(struct daemon_pub *p)
{
	pthread_mutex_lock(&p->mu);
	uint64_t g = p->generation;
	pthread_mutex_unlock(&p->mu);
	return g;
}

int pub_list(struct daemon_pub *p, struct ct_snapshot **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&p->mu);
	int rc = 0;
	if (p->n_list) {
		*out = malloc(p->n_list * sizeof(**out));
		if (*out) {
			for (size_t i = 0; i < p->n_list; i++)
				ct_unpack(p, &p->list[i], &(*out)[i]);
			*n = p->n_list;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int pub_get(struct daemon_pub *p, uint32_t vmid, struct ct_snapshot *out,
	    struct history_point **hist, size_t *n_hist)
{
	*hist = NULL;
	*n_hist = 0;
	int rc = -ENOENT;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->n_list; i++) {
		if (p->list[i].vmid == vmid) {
			ct_unpack(p, &p->list[i], out);
			rc = 0;
			break;
		}
	}
	size_t h = hist_lower_bound(p, vmid);
	if (rc == 0 && h < p->n_hists && p->hists[h].vmid == vmid && histring_count(&p->hists[h].ring)) {
		const struct histring *x = &p->hists[h].ring;
		*hist = malloc(histring_count(x) * sizeof(**hist));
		if (*hist) {
			histring_read(x, *hist);
			*n_hist = histring_count(x);
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int pub_decisions(struct daemon_pub *p, uint64_t since, size_t max, struct decision **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int rc = 0;
	pthread_mutex_lock(&p->dec_mu);
	size_t first = p->dec_count; /* the oldest kept decision with seq > since */
	for (size_t k = 0; k < p->dec_count; k++) {
		if (p->decs[(p->dec_head + k) % p->dec_max].seq > since) {
			first = k;
			break;
		}
	}
	size_t cnt = p->dec_count - first;
	if (cnt > max)
		cnt = max;
	if (cnt) {
		*out = malloc(cnt * sizeof(**out));
		if (*out) {
			for (size_t k = 0; k < cnt; k++)
				(*out)[k] = p->decs[(p->dec_head + first + k) % p->dec_max];
			*n = cnt;
		} else {
			rc = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&p->dec_mu);
	return rc;
}

int pub_subscribe(struct daemon_pub *p, api_event_fn fn, void *arg, uint64_t *handle)
{
	int rc = -EBUSY;
	pthread_mutex_lock(&p->sub_mu);
	if (p->n_subs < SUBS_MAX) {
		*handle = p->next_handle++;
		p->subs[p->n_subs++] = (struct sub){ *handle, fn, arg };
		rc = 0;
	}
	pthread_mutex_unlock(&p->sub_mu);
	return rc;
}

void pub_unsubscribe(struct daemon_pub *p, uint64_t handle)
{
	pthread_mutex_lock(&p->sub_mu);
	for (size_t i = 0; i < p->n_subs; i++) {
		if (p->subs[i].handle == handle) {
			p->subs[i] = p->subs[--p->n_subs];
			break;
		}
	}
	pthread_mutex_unlock(&p->sub_mu);
}

/* ---- Prometheus ------------------------------------------------------------------------ */

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

#define PER_CT(name, text, fmt, expr)                                              \
	do {                                                                       \
		help(f, name, "gauge", text);                                      \
		for (size_t i = 0; i < n; i++)                                     \
			fprintf(f, name "{vmid=\"%u\"} " fmt "\n", c[i].vmid, expr); \
	} while (0)

/* The per-container series of the list now (one pub_list copy, 9 series x n lines). */
static void write_container_series(struct daemon_pub *p, FILE *f)
{
	struct ct_snapshot *c = NULL;
	size_t n = 0;
	if (pub_list(p, &c, &n) != 0)
		n = 0;

	help(f, "lxcscale_containers", "gauge", "Containers the daemon watches.");
	fprintf(f, "lxcscale_containers %zu\n", n);
	PER_CT("lxcscale_container_cpu_limit_cores", "CPU limit in cores (the allocation the policy scales).",
	       "%.4g", c[i].cores);
	PER_CT("lxcscale_container_memory_limit_bytes", "Memory limit in bytes.", "%llu",
	       (unsigned long long)c[i].memory_mb << 20);
	PER_CT("lxcscale_container_cpu_usage_percent", "CPU use, percent of the CPU limit.", "%.4g", c[i].cpu_pct);
	PER_CT("lxcscale_container_memory_used_bytes", "Memory used (page cache excluded), bytes.", "%llu",
	       (unsigned long long)c[i].memory_used_mb << 20);
	help(f, "lxcscale_container_pressure_some_avg10", "gauge", "PSI some avg10, percent.");
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"lxcscale_container_pressure_some_avg10{vmid=\"%u\",resource=\"cpu\"} %.4g\n"
			"lxcscale_container_pressure_some_avg10{vmid=\"%u\",resource=\"memory\"} %.4g\n"
			"lxcscale_container_pressure_some_avg10{vmid=\"%u\",resource=\"io\"} %.4g\n",
			c[i].vmid, c[i].cpu_psi_some_avg10, c[i].vmid, c[i].mem_psi_some_avg10, c[i].vmid,
			c[i].io_psi_some_avg10);
	PER_CT("lxcscale_container_anomaly_score", "Isolation forest score_samples (lower = more abnormal).",
	       "%.6g", c[i].anomaly_score);
	PER_CT("lxcscale_container_anomaly", "1 when the model predicts an anomaly.", "%d", c[i].anomaly ? 1 : 0);
	free(c);
}

void pub_write_metrics(struct daemon_pub *p, FILE *f)
{
	struct pub_stats st;
	uint64_t oc[REASONS][OUTCOMES];
	pthread_mutex_lock(&p->mu);
	st = p->st;
	memcpy(oc, p->outcomes, sizeof(oc));
	uint64_t gen = p->generation;
	pthread_mutex_unlock(&p->mu);

	pthread_mutex_lock(&p->mcache_mu);
	if (!p->mcache || p->mcache_gen != gen) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (m) {
			write_container_series(p, m);
			if (fclose(m) == 0 && text) {
				free(p->mcache);
				p->mcache = text;
				p->mcache_len = len;
				p->mcache_gen = gen;
				text = NULL;
			}
			free(text);
		}
	}
	if (p->mcache && p->mcache_gen == gen)
		fwrite(p->mcache, 1, p->mcache_len, f);
	else
		write_container_series(p, f); /* no memory for the copy: write them directly */
	pthread_mutex_unlock(&p->mcache_mu);

	help(f, "lxcscale_decisions_total", "counter", "Scaling decisions by reason and actuator outcome.");
	for (int r = 0; r < REASONS; r++)
		for (int o = 0; o < OUTCOMES; o++)
			if (oc[r][o])
				fprintf(f, "lxcscale_decisions_total{reason=\"%s\",outcome=\"%s\"} %llu\n",
					reason_names[r], outcome_names[o], (unsigned long long)oc[r][o]);
	help(f, "lxcscale_loop_ticks_total", "counter", "Event loop ticks.");
	fprintf(f, "lxcscale_loop_ticks_total %llu\n", (unsigned long long)st.ticks);
	help(f, "lxcscale_loop_tick_seconds_avg", "gauge", "Mean wall time of a tick.");
	fprintf(f, "lxcscale_loop_tick_seconds_avg %.9f\n", st.tick_avg_ms / 1000.0);
	help(f, "lxcscale_loop_tick_seconds_max", "gauge", "Longest tick so far.");
	fprintf(f, "lxcscale_loop_tick_seconds_max %.9f\n", st.tick_max_ms / 1000.0);
	help(f, "lxcscale_samples_total", "counter", "Container samples read.");
	fprintf(f, "lxcscale_samples_total %llu\n", (unsigned long long)st.samples);
	help(f, "lxcscale_kernel_events_total", "counter", "PSI, memory.events and BPF wake-ups.");
	fprintf(f, "lxcscale_kernel_events_total %llu\n", (unsigned long long)st.events);
	help(f, "lxcscale_bpf_enabled", "gauge", "1 when the BPF programs are attached.");
	fprintf(f, "lxcscale_bpf_enabled %d\n", st.bpf ? 1 : 0);
	help(f, "lxcscale_bpf_ring_drops_total", "counter", "BPF ring buffer events lost.");
	fprintf(f, "lxcscale_bpf_ring_drops_total %llu\n", (unsigned long long)st.bpf_drops);
	help(f, "lxcscale_actuation_enabled", "gauge", "1 when decisions change limits (not dry run).");
	fprintf(f, "lxcscale_actuation_enabled %d\n", st.actuation ? 1 : 0);
	help(f, "lxcscale_persist_queue", "gauge", "Containers waiting for pct set / the Proxmox API.");
	fprintf(f, "lxcscale_persist_queue %zu\n", st.persist_pending);
	help(f, "lxcscale_journal_open_changes", "gauge", "Journalled changes not yet persisted.");
	fprintf(f, "lxcscale_journal_open_changes %zu\n", st.journal_open);
	help(f, "lxcscale_memory_shrinks", "gauge", "Memory shrinks in progress.");
	fprintf(f, "lxcscale_memory_shrinks %zu\n", st.shrinks);
}

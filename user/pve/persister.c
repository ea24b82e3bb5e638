/*
 * pve/persister.c — the persister thread: a per-container queue with debounce, retries with
 * exponential backoff, a per-container circuit breaker, and results back to the loop.
 *
 * One mutex (the worker's, base/worker.h) guards everything; the worker drops it while a call runs, so submissions never
 * wait for `pct`. The queue holds at most one entry per container (submissions merge into
 * it), which is what makes the call coalesced. The worker sleeps on a CLOCK_MONOTONIC
 * condvar until the earliest entry is due. An entry is only ever removed after PERSIST_OK
 * (with nothing newer merged during the call) or PERSIST_GONE: a locked or failing
 * container keeps its entry and is tried again later.
 *
 * Breaker: after `failure_threshold` failed rounds in a row (a round = the first try plus
 * max_retries retries) the container's breaker opens for `timeout`; its entry waits. When
 * the timeout has passed the breaker is half-open: one more failed round opens it again,
 * one success closes it.
 */
#include "pve/persister.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/libcurl.h"
#include "base/worker.h"
#include "pve/backend.h"

struct entry {
	struct persist_target t;
	int64_t due_ms;
	int attempts;        /* failed tries in the current round */
	int calls;           /* calls since the last reported outcome */
	bool in_flight;
	bool dirty;          /* new values merged while in flight */
	bool lock_reported;
};

struct breaker {
	uint32_t vmid;
	int failures;        /* failed rounds in a row */
	int64_t open_until;  /* 0 = closed */
};

struct persister {
	struct persist_settings s;
	struct worker w;     /* its lock guards everything below */
	bool flush;
	int efd;
	struct entry *e;
	size_t n, cap;
	struct breaker *b;
	size_t nb, capb;
	struct persist_result *r;
	size_t nr, capr;
};

const char *persist_status_name(enum persist_status st)
{
	switch (st) {
	case PERSIST_OK: return "ok";
	case PERSIST_LOCKED: return "locked";
	case PERSIST_FAILED: return "failed";
	case PERSIST_GONE: return "gone";
	}
	return "unknown";
}

/* ---- settings ------------------------------------------------------------------------- */

void persist_settings_default(struct persist_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->backend = PERSIST_BACKEND_PCT;
	s->call_timeout_ms = 30000;
	s->debounce_ms = 2000;
	s->lock_retry_ms = 30000;
	s->max_retries = 3;
	s->retry_delay_ms = 2000;
	s->breaker_enabled = true;
	s->breaker_failure_threshold = 3;
	s->breaker_timeout_ms = 1800 * 1000;
	s->api_verify_tls = true;
}

static bool only_chars(const char *v, const char *allowed)
{
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
		      strchr(allowed, *v)))
			return false;
	return true;
}

int persist_settings_check(const struct persist_settings *s, char *why, size_t len)
{
#define BAD(...) do { snprintf(why, len, __VA_ARGS__); return -EINVAL; } while (0)
	if (s->call_timeout_ms < 100 || s->call_timeout_ms > 600000)
		BAD("call timeout %d ms is outside 100..600000", s->call_timeout_ms);
	if (s->debounce_ms < 0 || s->debounce_ms > 600000)
		BAD("debounce %d ms is outside 0..600000", s->debounce_ms);
	if (s->lock_retry_ms < 10 || s->lock_retry_ms > 3600000)
		BAD("lock retry %d ms is outside 10..3600000", s->lock_retry_ms);
	if (s->max_retries < 0 || s->max_retries > 100)
		BAD("persist.max_retries %d is outside 0..100", s->max_retries);
	if (s->retry_delay_ms < 1 || s->retry_delay_ms > 600000)
		BAD("persist.retry_base_ms %d is outside 1..600000", s->retry_delay_ms);
	if (s->breaker_enabled && (s->breaker_failure_threshold < 1 || s->breaker_failure_threshold > 1000))
		BAD("circuit_breaker.failure_threshold %d is outside 1..1000", s->breaker_failure_threshold);
	if (s->breaker_enabled && (s->breaker_timeout_ms < 1 || s->breaker_timeout_ms > 604800000))
		BAD("circuit_breaker.timeout_seconds is outside 0.001..604800");
	if (s->pct_path[0] && s->pct_path[0] != '/')
		BAD("persist.pct_path must be absolute: %s", s->pct_path);
	if (s->backend == PERSIST_BACKEND_API) {
		if (strncmp(s->api_url, "https://", 8) && strncmp(s->api_url, "http://", 7))
			BAD("proxmox_api.url must start with https:// or http://");
		if (!only_chars(s->api_url + 7, ":/.-_[]"))
			BAD("proxmox_api.url has characters that do not belong in a base URL");
		if (!s->api_node[0] || !only_chars(s->api_node, ".-"))
			BAD("proxmox_api.node must be a host name");
		/* USER@REALM!TOKENID=SECRET goes into a header: no CR/LF/space, one '!' */
		if (!s->api_token_id[0] || !only_chars(s->api_token_id, "@!.-_") ||
		    !strchr(s->api_token_id, '@') || !strchr(s->api_token_id, '!'))
			BAD("proxmox_api.token_id must look like user@realm!tokenid");
		if (!s->api_token_secret[0] || !only_chars(s->api_token_secret, "-"))
			BAD("proxmox_api.token_secret must be the token's UUID");
	} else if (s->backend != PERSIST_BACKEND_PCT) {
		BAD("unknown persist backend");
	}
	return 0;
#undef BAD
}

enum persist_status persist_call(const struct persist_settings *s, const struct persist_target *t,
                                 char *detail, size_t detail_len)
{
	if (s->backend == PERSIST_BACKEND_API)
		return persist_api_call(s, t, detail, detail_len);
	return persist_pct_call(s, t, detail, detail_len);
}

/* ---- tables (caller holds mu) --------------------------------------------------------- */

static struct entry *find_entry(struct persister *p, uint32_t vmid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].t.vmid == vmid)
			return &p->e[i];
	return NULL;
}

static void remove_entry(struct persister *p, struct entry *e)
{
	*e = p->e[--p->n];
}

static struct breaker *get_breaker(struct persister *p, uint32_t vmid, bool create)
{
	for (size_t i = 0; i < p->nb; i++)
		if (p->b[i].vmid == vmid)
			return &p->b[i];
	if (!create)
		return NULL;
	if (p->nb == p->capb) {
		size_t cap = p->capb ? p->capb * 2 : 16;
		struct breaker *nb = realloc(p->b, cap * sizeof(*nb));
		if (!nb)
			return NULL;
		p->b = nb;
		p->capb = cap;
	}
	p->b[p->nb] = (struct breaker){.vmid = vmid};
	return &p->b[p->nb++];
}

static void post(struct persister *p, const struct persist_target *t, enum persist_status st,
                 int calls, bool breaker_open, const char *detail)
{
	if (p->nr == p->capr) {
		size_t cap = p->capr ? p->capr * 2 : 32;
		struct persist_result *nr = realloc(p->r, cap * sizeof(*nr));
		if (!nr)
			return; /* the journal still holds the change: reconcile finds it */
		p->r = nr;
		p->capr = cap;
	}
	struct persist_result *r = &p->r[p->nr++];
	memset(r, 0, sizeof(*r));
	r->vmid = t->vmid;
	r->status = st;
	r->upto_seq = t->upto_seq;
	r->cores = t->cores;
	r->memory_mb = t->memory_mb;
	r->attempts = calls;
	r->breaker_open = breaker_open;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	uint64_t one = 1;
	ssize_t w = write(p->efd, &one, sizeof(one));
	(void)w; /* EAGAIN only when the counter is at its maximum: the loop is already woken */
}

/* When an entry may run: its own due time, held back while its breaker is open. */
static int64_t effective_due(struct persister *p, const struct entry *e)
{
	struct breaker *b = get_breaker(p, e->t.vmid, false);
	if (b && b->open_until > e->due_ms)
		return b->open_until;
	return e->due_ms;
}

static int64_t backoff_ms(const struct persist_settings *s, int attempt)
{
	int shift = attempt < 20 ? attempt : 20;
	int64_t d = (int64_t)s->retry_delay_ms << shift;
	return d < 3600000 ? d : 3600000;
}

/* ---- the worker ----------------------------------------------------------------------- */

static void handle_outcome(struct persister *p, const struct persist_target *done,
                           enum persist_status st, const char *detail)
{
	int64_t now = worker_now_ms();
	struct entry *e = find_entry(p, done->vmid);
	if (!e)
		return;
	e->in_flight = false;
	e->calls++;
	struct breaker *b = get_breaker(p, done->vmid, st == PERSIST_FAILED);

	switch (st) {
	case PERSIST_OK:
	case PERSIST_GONE:
		if (b)
			*b = (struct breaker){.vmid = b->vmid};
		post(p, done, st, e->calls, false, detail);
		if (e->dirty && st == PERSIST_OK) {
			e->dirty = false;
			e->attempts = e->calls = 0;
			e->lock_reported = false;
			e->due_ms = now + p->s.debounce_ms;
		} else {
			remove_entry(p, e);
		}
		break;
	case PERSIST_LOCKED:
		/* a backup or snapshot holds the config: wait it out, however long */
		if (!e->lock_reported)
			post(p, done, st, e->calls, false, detail);
		e->lock_reported = true;
		e->due_ms = now + p->s.lock_retry_ms;
		break;
	case PERSIST_FAILED:
		e->dirty = false;
		e->attempts++;
		if (e->attempts <= p->s.max_retries) {
			e->due_ms = now + backoff_ms(&p->s, e->attempts - 1);
			break;
		}
		/* the round failed */
		e->attempts = 0;
		bool open = false;
		if (b && p->s.breaker_enabled) {
			b->failures++;
			if (b->failures >= p->s.breaker_failure_threshold) {
				b->open_until = now + p->s.breaker_timeout_ms;
				/* half-open afterwards: one more failed round re-opens it */
				b->failures = p->s.breaker_failure_threshold - 1;
				open = true;
			}
		}
		post(p, done, st, e->calls, open, detail);
		e->calls = 0;
		e->due_ms = now + backoff_ms(&p->s, p->s.max_retries);
		break;
	}
}

static void run_one(struct persister *p, struct entry *e)
{
	struct persist_target snap = e->t;
	e->in_flight = true;
	e->dirty = false;
	worker_unlock(&p->w);
	char detail[256];
	enum persist_status st = persist_call(&p->s, &snap, detail, sizeof(detail));
	worker_lock(&p->w);
	handle_outcome(p, &snap, st, detail);
}

static void run(void *arg)
{
	struct persister *p = arg;
	worker_lock(&p->w);
	while (!worker_stopping(&p->w)) {
		int64_t now = worker_now_ms(), best_due = INT64_MAX;
		struct entry *best = NULL;
		for (size_t i = 0; i < p->n; i++) {
			if (p->e[i].in_flight)
				continue;
			int64_t d = effective_due(p, &p->e[i]);
			if (d < best_due) {
				best_due = d;
				best = &p->e[i];
			}
		}
		if (best && best_due <= now)
			run_one(p, best);
		else
			worker_wait(&p->w, best ? best_due : WORKER_FOREVER);
	}
	if (p->flush) {
		/* one last try for each queued container, breaker or not: the daemon is going away.
		 * Bounded by one call timeout in total, so a hung pct cannot hold up a shutdown per
		 * container; what is left stays in the journal for the next start. */
		int64_t deadline = worker_now_ms() + p->s.call_timeout_ms;
		for (size_t i = 0; i < p->n && worker_now_ms() < deadline;) {
			uint32_t vmid = p->e[i].t.vmid;
			size_t before = p->n;
			run_one(p, &p->e[i]);
			struct entry *e = find_entry(p, vmid);
			if (p->n < before || !e)
				continue; /* removed: the slot now holds another entry (or none) */
			i = (size_t)(e - p->e) + 1;
		}
	}
	worker_unlock(&p->w);
}

/* ---- public --------------------------------------------------------------------------- */

int persister_start(const struct persist_settings *s, struct persister **out)
{
	char why[200];
	*out = NULL;
	if (persist_settings_check(s, why, sizeof(why)) < 0)
		return -EINVAL;
	struct persister *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->s = *s;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		int rc = -errno;
		free(p);
		return rc;
	}
	if (s->backend == PERSIST_BACKEND_API)
		(void)curl_api(); /* loaded (and initialised) before our thread uses it */
	int rc = worker_start(&p->w, run, p);
	if (rc < 0) {
		close(p->efd);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void persister_stop(struct persister *p, bool flush)
{
	if (!p)
		return;
	worker_lock(&p->w);
	p->flush = flush; /* read by the thread once it sees the stop */
	worker_unlock(&p->w);
	worker_stop(&p->w);
	close(p->efd);
	explicit_bzero(p->s.api_token_secret, sizeof(p->s.api_token_secret));
	free(p->e);
	free(p->b);
	free(p->r);
	free(p);
}

int persister_submit(struct persister *p, const struct persist_target *t)
{
	if (!t || t->vmid < 100 || t->vmid > 999999999 || (!t->set_cores && !t->set_memory))
		return -EINVAL;
	if (t->set_cores && (t->cores < 1 || t->cores > 8192))
		return -EINVAL;
	if (!(t->cpulimit >= 0 && t->cpulimit <= 8192))
		return -EINVAL;
	if (t->set_memory && (t->memory_mb < 16 || t->memory_mb > (1ull << 30)))
		return -EINVAL;

	worker_lock(&p->w);
	struct entry *e = find_entry(p, t->vmid);
	if (e) {
		if (t->set_cores) {
			e->t.set_cores = true;
			e->t.cores = t->cores;
			e->t.cpulimit = t->cpulimit;
		}
		if (t->set_memory) {
			e->t.set_memory = true;
			e->t.memory_mb = t->memory_mb;
		}
		if (t->upto_seq > e->t.upto_seq)
			e->t.upto_seq = t->upto_seq;
		if (e->in_flight)
			e->dirty = true;
		/* the due time stays: a burst is bounded by one debounce from its first change */
		worker_unlock(&p->w);
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct entry *ne = realloc(p->e, cap * sizeof(*ne));
		if (!ne) {
			worker_unlock(&p->w);
			return -ENOMEM;
		}
		p->e = ne;
		p->cap = cap;
	}
	p->e[p->n++] = (struct entry){.t = *t, .due_ms = worker_now_ms() + p->s.debounce_ms};
	worker_wake(&p->w);
	worker_unlock(&p->w);
	return 0;
}

int persister_eventfd(const struct persister *p)
{
	return p->efd;
}

size_t persister_take_results(struct persister *p, struct persist_result *out, size_t max)
{
	uint64_t cnt;
	ssize_t rd = read(p->efd, &cnt, sizeof(cnt)); /* reset; results below are the truth */
	(void)rd;
	worker_lock(&p->w);
	size_t n = p->nr < max ? p->nr : max;
	if (n) {
		memcpy(out, p->r, n * sizeof(*out));
		memmove(p->r, p->r + n, (p->nr - n) * sizeof(*out));
		p->nr -= n;
	}
	if (p->nr) {
		uint64_t one = 1; /* more left: stay readable */
		ssize_t w = write(p->efd, &one, sizeof(one));
		(void)w;
	}
	worker_unlock(&p->w);
	return n;
}

size_t persister_pending(struct persister *p)
{
	worker_lock(&p->w);
	size_t n = p->n;
	worker_unlock(&p->w);
	return n;
}

bool persister_breaker_open(struct persister *p, uint32_t vmid)
{
	worker_lock(&p->w);
	struct breaker *b = get_breaker(p, vmid, false);
	bool open = b && b->open_until > worker_now_ms();
	worker_unlock(&p->w);
	return open;
}

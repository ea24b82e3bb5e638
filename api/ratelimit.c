/*
 * ratelimit.c — sliding-window counter per client IP in a fixed-size table.
 *
 * Each tracked client keeps the times of its last `max` accepted requests in a ring; a
 * request is allowed when fewer than `max` of them fall inside the window. The table has
 * `max_clients` slots found through a small chained hash. A new client takes a free slot,
 * else an idle one (nothing inside the window), else the least recently seen one. One
 * mutex covers the bookkeeping only; handlers run outside it. ratelimit_is_loopback() is
 * the reference's exemption: 127.0.0.1 and ::1 only.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IP_MAX 64
#define NO_SLOT UINT32_MAX

struct client {
	char ip[IP_MAX];
	int64_t *times;     /* ring of accepted request times (monotonic ms) */
	unsigned head;      /* index of the oldest */
	unsigned count;
	int64_t last_ms;
	uint32_t next;      /* hash chain */
	bool used;
};

struct ratelimit {
	pthread_mutex_t lock;
	unsigned max;
	int64_t window_ms;
	struct client *slots;
	size_t n_slots, n_used;
	uint32_t *buckets;
	size_t n_buckets;   /* power of two */
};

static uint32_t hash_ip(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct ratelimit *ratelimit_new(unsigned max, unsigned window_s, size_t max_clients)
{
	if (max == 0 || max > 1000000 || window_s == 0 || window_s > 86400 || max_clients == 0 ||
	    max_clients > 1000000)
		return NULL;
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->max = max;
	rl->window_ms = (int64_t)window_s * 1000;
	rl->n_slots = max_clients;
	rl->n_buckets = 16;
	while (rl->n_buckets < max_clients * 2)
		rl->n_buckets <<= 1;
	rl->slots = calloc(rl->n_slots, sizeof(*rl->slots));
	rl->buckets = malloc(rl->n_buckets * sizeof(*rl->buckets));
	if (!rl->slots || !rl->buckets) {
		ratelimit_free(rl);
		return NULL;
	}
	for (size_t i = 0; i < rl->n_buckets; i++)
		rl->buckets[i] = NO_SLOT;
	pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	if (rl->slots)
		for (size_t i = 0; i < rl->n_slots; i++)
			free(rl->slots[i].times);
	free(rl->slots);
	free(rl->buckets);
	if (rl->slots && rl->buckets)
		pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static void unlink_slot(struct ratelimit *rl, uint32_t idx)
{
	uint32_t *pp = &rl->buckets[hash_ip(rl->slots[idx].ip) & (rl->n_buckets - 1)];
	while (*pp != NO_SLOT) {
		if (*pp == idx) {
			*pp = rl->slots[idx].next;
			break;
		}
		pp = &rl->slots[*pp].next;
	}
	rl->slots[idx].used = false;
	rl->n_used--;
}

/* Drop ring entries that left the window. */
static void expire(struct ratelimit *rl, struct client *c, int64_t now)
{
	while (c->count && c->times[c->head] <= now - rl->window_ms) {
		c->head = (c->head + 1) % rl->max;
		c->count--;
	}
}

static struct client *find_or_add(struct ratelimit *rl, const char *ip, int64_t now)
{
	uint32_t b = hash_ip(ip) & (rl->n_buckets - 1);
	for (uint32_t i = rl->buckets[b]; i != NO_SLOT; i = rl->slots[i].next)
		if (strcmp(rl->slots[i].ip, ip) == 0)
			return &rl->slots[i];

	uint32_t idx = NO_SLOT;
	if (rl->n_used < rl->n_slots) {
		for (size_t i = 0; i < rl->n_slots; i++)
			if (!rl->slots[i].used) {
				idx = (uint32_t)i;
				break;
			}
	} else {
		/* Full: an idle client if there is one, else the least recently seen. */
		uint32_t lru = 0;
		for (size_t i = 0; i < rl->n_slots; i++) {
			struct client *c = &rl->slots[i];
			if (c->last_ms <= now - rl->window_ms) {
				idx = (uint32_t)i;
				break;
			}
			if (c->last_ms < rl->slots[lru].last_ms)
				lru = (uint32_t)i;
		}
		if (idx == NO_SLOT)
			idx = lru;
		unlink_slot(rl, idx);
	}
	struct client *c = &rl->slots[idx];
	if (!c->times) {
		c->times = malloc(sizeof(int64_t) * rl->max);
		if (!c->times)
			return NULL;
	}
	strncpy(c->ip, ip, IP_MAX - 1);
	c->ip[IP_MAX - 1] = '\0';
	c->head = 0;
	c->count = 0;
	c->last_ms = now;
	c->used = true;
	c->next = rl->buckets[b];
	rl->buckets[b] = idx;
	rl->n_used++;
	return c;
}

void ratelimit_check(struct ratelimit *rl, const char *ip, int64_t mono_ms, int64_t wall_ms,
		     struct rl_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->limit = rl->max;
	v->allowed = true;
	pthread_mutex_lock(&rl->lock);
	struct client *c = find_or_add(rl, ip ? ip : "", mono_ms);
	if (!c) { /* out of memory: fail open, the limiter is not a security boundary here */
		pthread_mutex_unlock(&rl->lock);
		v->remaining = rl->max;
		return;
	}
	expire(rl, c, mono_ms);
	c->last_ms = mono_ms;
	if (c->count >= rl->max) {
		int64_t oldest = c->times[c->head];
		int64_t left_ms = rl->window_ms - (mono_ms - oldest);
		v->allowed = false;
		v->remaining = 0;
		v->retry_after_s = (unsigned)(left_ms / 1000) + 1;
		v->reset_epoch_s = (wall_ms + left_ms) / 1000;
	} else {
		c->times[(c->head + c->count) % rl->max] = mono_ms;
		c->count++;
		int64_t oldest = c->times[c->head];
		v->remaining = rl->max - c->count;
		v->reset_epoch_s = (wall_ms + rl->window_ms - (mono_ms - oldest)) / 1000;
	}
	pthread_mutex_unlock(&rl->lock);
}

size_t ratelimit_clients(struct ratelimit *rl)
{
	pthread_mutex_lock(&rl->lock);
	size_t n = rl->n_used;
	pthread_mutex_unlock(&rl->lock);
	return n;
}

bool ratelimit_is_loopback(const char *ip)
{
	if (!ip)
		return false;
	if (strcmp(ip, "::1") == 0)
		return true;
	if (strncmp(ip, "::ffff:", 7) == 0)
		ip += 7;
	return strcmp(ip, "127.0.0.1") == 0;
}

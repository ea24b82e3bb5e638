/*
 * rng.c — the library's only source of randomness: xoshiro256** seeded through splitmix64.
 *
 * Every tree gets its own generator seeded from (model seed, a, b) — for a batch forest
 * (seed, tree, 0), for a streaming rebuild (seed, tree, generation) — so a model depends only
 * on its seed and data, never on thread timing or platform (integer arithmetic only; doubles
 * are built from 53 bits exactly).
 */
#include "iforest_int.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void if_rng_seed(if_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
	uint64_t x = seed ^ (a * 0xd1342543de82ef95ULL) ^ (b * 0xaf251af3b0f025b5ULL);
	x = splitmix64(&x) ^ seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t if_rng_next(if_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double if_rng_double(if_rng *r)
{
	return (double)(if_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Lemire's nearly-divisionless bounded integer, exact (rejection on the short tail). */
uint64_t if_rng_below(if_rng *r, uint64_t n)
{
	uint64_t x = if_rng_next(r);
	__uint128_t m = (__uint128_t)x * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t threshold = -n % n;
		while (low < threshold) {
			x = if_rng_next(r);
			m = (__uint128_t)x * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/*
 * cg_parse.c — defensive parsers for cgroup v2 file contents.
 *
 * The kernel's formats are simple ("key value" lines, "max" or a number, PSI lines of
 * key=value pairs), but a daemon that runs for months on many kernels meets missing
 * fields, new fields, truncated reads and, in tests, garbage. The rule here: a value is
 * CG_KNOWN only when its token parsed completely as an unsigned decimal (no overflow, no
 * trailing junk); everything else stays CG_UNKNOWN. No parser ever fails as a whole, and
 * none depends on the locale (PSI averages are parsed by hand, not with strtod).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cg_internal.h"

bool cg_parse_u64_tok(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return false;
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static cg_u64 known(uint64_t v) { return (cg_u64){ .v = v, .state = CG_KNOWN }; }

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Trim surrounding whitespace of [*s, *s+*len). */
static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) { (*s)++; (*len)--; }
	while (*len && is_space((*s)[*len - 1])) (*len)--;
}

cg_u64 cg_parse_limit(const char *text, size_t len)
{
	cg_u64 r = { 0, CG_UNKNOWN };
	uint64_t v;
	if (!text)
		return r;
	trim(&text, &len);
	if (len == 3 && memcmp(text, "max", 3) == 0)
		return (cg_u64){ .v = UINT64_MAX, .state = CG_MAX };
	if (cg_parse_u64_tok(text, len, &v))
		return known(v);
	return r;
}

/* Iterate lines: calls fn(line, len, arg) for every line (without the newline). */
typedef void (*line_fn)(const char *line, size_t len, void *arg);
static void for_each_line(const char *text, size_t len, line_fn fn, void *arg)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		fn(p, (size_t)(le - p), arg);
		p = nl ? nl + 1 : end;
	}
}

/* Split "key value" (single space or tabs); returns false for a malformed line. */
static bool split_kv(const char *line, size_t len, const char **k, size_t *klen,
                     const char **v, size_t *vlen)
{
	const char *sp = memchr(line, ' ', len);
	if (!sp)
		return false;
	*k = line;
	*klen = (size_t)(sp - line);
	*v = sp + 1;
	*vlen = len - *klen - 1;
	trim(v, vlen);
	return *klen > 0;
}

struct keyed_one { const char *key; size_t klen; cg_u64 out; bool seen; };

static void keyed_one_line(const char *line, size_t len, void *arg)
{
	struct keyed_one *st = arg;
	const char *k, *v;
	size_t kl, vl;
	uint64_t x;
	if (st->seen || !split_kv(line, len, &k, &kl, &v, &vl))
		return;
	if (kl != st->klen || memcmp(k, st->key, kl) != 0)
		return;
	st->seen = true; /* the first occurrence decides, even if it is garbage */
	if (cg_parse_u64_tok(v, vl, &x))
		st->out = known(x);
}

cg_u64 cg_parse_keyed(const char *text, size_t len, const char *key)
{
	struct keyed_one st = { key, strlen(key), { 0, CG_UNKNOWN }, false };
	if (text && key)
		for_each_line(text, len, keyed_one_line, &st);
	return st.out;
}

/* A table-driven single pass over a keyed file, for the samples (one pass, many keys). */
struct keyspec { const char *key; uint8_t klen; size_t off; };
#define KS(k, field) { k, sizeof(k) - 1, offsetof(struct cg_sample, field) }

struct keyed_many { const struct keyspec *spec; size_t n; void *base; uint64_t seen; };

static void keyed_many_line(const char *line, size_t len, void *arg)
{
	struct keyed_many *st = arg;
	const char *k, *v;
	size_t kl, vl;
	if (!split_kv(line, len, &k, &kl, &v, &vl))
		return;
	for (size_t i = 0; i < st->n; i++) {
		const struct keyspec *s = &st->spec[i];
		uint64_t x;
		if (s->klen != kl || k[0] != s->key[0] || memcmp(k, s->key, kl) != 0)
			continue;
		if (st->seen & (1ull << i))
			return;
		st->seen |= 1ull << i;
		if (cg_parse_u64_tok(v, vl, &x))
			*(cg_u64 *)((char *)st->base + s->off) = known(x);
		return;
	}
}

static void parse_keyed_many(const char *text, size_t len, const struct keyspec *spec, size_t n,
                             void *base)
{
	struct keyed_many st = { spec, n, base, 0 };
	for_each_line(text, len, keyed_many_line, &st);
}

static const struct keyspec cpu_stat_keys[] = {
	KS("usage_usec", cpu_usage_usec),       KS("user_usec", cpu_user_usec),
	KS("system_usec", cpu_system_usec),     KS("nr_periods", cpu_nr_periods),
	KS("nr_throttled", cpu_nr_throttled),   KS("throttled_usec", cpu_throttled_usec),
	KS("nr_bursts", cpu_nr_bursts),         KS("burst_usec", cpu_burst_usec),
};

static const struct keyspec mem_stat_keys[] = {
	KS("anon", mem_anon),
	KS("file", mem_file),
	KS("kernel", mem_kernel),
	KS("shmem", mem_shmem),
	KS("slab", mem_slab),
	KS("sock", mem_sock),
	KS("active_anon", mem_active_anon),
	KS("inactive_anon", mem_inactive_anon),
	KS("active_file", mem_active_file),
	KS("inactive_file", mem_inactive_file),
	KS("unevictable", mem_unevictable),
	KS("slab_reclaimable", mem_slab_reclaimable),
	KS("pgfault", mem_pgfault),
	KS("pgmajfault", mem_pgmajfault),
	KS("pgscan", mem_pgscan),
	KS("pgsteal", mem_pgsteal),
	KS("workingset_refault_anon", mem_workingset_refault_anon),
	KS("workingset_refault_file", mem_workingset_refault_file),
};

static const struct keyspec mem_events_keys[] = {
	KS("low", ev_low),   KS("high", ev_high),         KS("max", ev_max),
	KS("oom", ev_oom),   KS("oom_kill", ev_oom_kill), KS("oom_group_kill", ev_oom_group_kill),
};

void cg_parse_cpu_stat_into(const char *text, size_t len, struct cg_sample *out)
{
	parse_keyed_many(text, len, cpu_stat_keys, sizeof cpu_stat_keys / sizeof *cpu_stat_keys, out);
}

void cg_parse_mem_stat_into(const char *text, size_t len, struct cg_sample *out)
{
	parse_keyed_many(text, len, mem_stat_keys, sizeof mem_stat_keys / sizeof *mem_stat_keys, out);
}

void cg_parse_mem_events_into(const char *text, size_t len, struct cg_sample *out)
{
	parse_keyed_many(text, len, mem_events_keys, sizeof mem_events_keys / sizeof *mem_events_keys,
	                 out);
}

void cg_parse_mem_events(const char *text, size_t len, struct cg_mem_events *out)
{
	struct cg_sample s;
	memset(out, 0, sizeof *out);
	if (!text)
		return;
	memset(&s, 0, sizeof s);
	cg_parse_mem_events_into(text, len, &s);
	out->low = s.ev_low;
	out->high = s.ev_high;
	out->max = s.ev_max;
	out->oom = s.ev_oom;
	out->oom_kill = s.ev_oom_kill;
	out->oom_group_kill = s.ev_oom_group_kill;
}

void cg_parse_cpu_max(const char *text, size_t len, cg_u64 *quota, cg_u64 *period)
{
	const char *sp;
	*quota = (cg_u64){ 0, CG_UNKNOWN };
	*period = (cg_u64){ 0, CG_UNKNOWN };
	if (!text)
		return;
	trim(&text, &len);
	sp = memchr(text, ' ', len);
	if (!sp)
		return;
	cg_u64 q = cg_parse_limit(text, (size_t)(sp - text));
	cg_u64 p = cg_parse_limit(sp + 1, len - (size_t)(sp - text) - 1);
	if (q.state == CG_UNKNOWN || p.state != CG_KNOWN || p.v == 0)
		return; /* both or neither: a half-parsed cpu.max is useless */
	*quota = q;
	*period = p;
}

/* "avg10=1.25" -> 1.25, by hand: digits, optional '.', digits. */
static bool parse_fixed(const char *s, size_t len, double *out)
{
	uint64_t ip = 0, fp = 0, scale = 1;
	size_t i = 0, ndig = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
		if (ip > UINT64_MAX / 10 - 1)
			return false;
		ip = ip * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
			if (scale < 1000000000000ull) {
				fp = fp * 10 + (uint64_t)(s[i] - '0');
				scale *= 10;
			}
		}
	}
	if (i != len || ndig == 0)
		return false;
	*out = (double)ip + (double)fp / (double)scale;
	return true;
}

static bool parse_pct(const char *s, size_t len, double *out)
{
	return parse_fixed(s, len, out) && *out <= 100.0;
}

static void parse_psi_line(const char *line, size_t len, struct cg_psi_line *out)
{
	const char *p = line, *end = line + len;
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *te = sp ? sp : end;
		const char *eq = memchr(p, '=', (size_t)(te - p));
		if (eq) {
			size_t kl = (size_t)(eq - p), vl = (size_t)(te - eq - 1);
			const char *v = eq + 1;
			double d;
			uint64_t u;
			/* an average is a share of time: above 100 % it is garbage, not a value */
			if (kl == 5 && memcmp(p, "avg10", 5) == 0 && parse_pct(v, vl, &d))
				out->avg10 = (cg_f64){ d, CG_KNOWN };
			else if (kl == 5 && memcmp(p, "avg60", 5) == 0 && parse_pct(v, vl, &d))
				out->avg60 = (cg_f64){ d, CG_KNOWN };
			else if (kl == 6 && memcmp(p, "avg300", 6) == 0 && parse_pct(v, vl, &d))
				out->avg300 = (cg_f64){ d, CG_KNOWN };
			else if (kl == 5 && memcmp(p, "total", 5) == 0 && cg_parse_u64_tok(v, vl, &u))
				out->total = known(u);
		}
		p = sp ? sp + 1 : end;
	}
}

struct psi_st { struct cg_psi *out; bool some_seen, full_seen; };

static void psi_line(const char *line, size_t len, void *arg)
{
	struct psi_st *st = arg;
	while (len && line[len - 1] == '\r')
		len--;
	if (len > 5 && memcmp(line, "some ", 5) == 0 && !st->some_seen) {
		st->some_seen = true;
		parse_psi_line(line + 5, len - 5, &st->out->some);
	} else if (len > 5 && memcmp(line, "full ", 5) == 0 && !st->full_seen) {
		st->full_seen = true;
		parse_psi_line(line + 5, len - 5, &st->out->full);
	}
}

void cg_parse_psi(const char *text, size_t len, struct cg_psi *out)
{
	struct psi_st st = { out, false, false };
	memset(out, 0, sizeof *out);
	if (text)
		for_each_line(text, len, psi_line, &st);
}

struct io_st { uint64_t sum[6]; bool bad[6]; };
static const char *const io_keys[6] = { "rbytes", "wbytes", "rios", "wios", "dbytes", "dios" };

static void io_line(const char *line, size_t len, void *arg)
{
	struct io_st *st = arg;
	const char *p = line, *end = line + len;
	const char *sp = memchr(p, ' ', len);
	if (!sp || len == 0)
		return; /* "MAJ:MIN key=val ..." — a line without fields carries nothing */
	for (p = sp + 1; p < end;) {
		const char *s2 = memchr(p, ' ', (size_t)(end - p));
		const char *te = s2 ? s2 : end;
		const char *eq = memchr(p, '=', (size_t)(te - p));
		if (eq) {
			size_t kl = (size_t)(eq - p);
			for (int i = 0; i < 6; i++) {
				uint64_t v;
				if (strlen(io_keys[i]) != kl || memcmp(p, io_keys[i], kl) != 0)
					continue;
				if (!cg_parse_u64_tok(eq + 1, (size_t)(te - eq - 1), &v) ||
				    st->sum[i] > UINT64_MAX - v)
					st->bad[i] = true;
				else
					st->sum[i] += v;
				break;
			}
		}
		p = s2 ? s2 + 1 : end;
	}
}

void cg_parse_io_stat(const char *text, size_t len, struct cg_sample *out)
{
	struct io_st st;
	cg_u64 *dst[6] = { &out->io_rbytes, &out->io_wbytes, &out->io_rios,
	                   &out->io_wios,   &out->io_dbytes, &out->io_dios };
	memset(&st, 0, sizeof st);
	if (text)
		for_each_line(text, len, io_line, &st);
	/* An empty io.stat means "no I/O yet": a real 0, not unknown. */
	for (int i = 0; i < 6; i++)
		*dst[i] = st.bad[i] ? (cg_u64){ 0, CG_UNKNOWN } : known(st.sum[i]);
}

/* ---- CPU lists ------------------------------------------------------------------------ */

cg_err cg_cpuset_parse(const char *text, size_t len, cg_cpuset *out)
{
	memset(out, 0, sizeof *out);
	if (!text)
		return CG_EINVAL;
	trim(&text, &len);
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *te = c ? c : end;
		const char *dash = memchr(p, '-', (size_t)(te - p));
		uint64_t a, b;
		if (dash) {
			if (!cg_parse_u64_tok(p, (size_t)(dash - p), &a) ||
			    !cg_parse_u64_tok(dash + 1, (size_t)(te - dash - 1), &b))
				goto bad;
		} else {
			if (!cg_parse_u64_tok(p, (size_t)(te - p), &a))
				goto bad;
			b = a;
		}
		if (a > b || b >= CG_CPUSET_MAX_CPUS)
			goto bad;
		for (uint64_t i = a; i <= b; i++) {
			if (!(out->bits[i / 64] & (1ull << (i % 64)))) {
				out->bits[i / 64] |= 1ull << (i % 64);
				out->count++;
			}
		}
		if (c && c + 1 == end)
			goto bad; /* trailing comma */
		p = c ? c + 1 : end;
	}
	out->state = CG_KNOWN;
	return CG_OK;
bad:
	memset(out, 0, sizeof *out);
	return CG_EPARSE;
}

static bool cpu_in(const cg_cpuset *s, unsigned i)
{
	return i < CG_CPUSET_MAX_CPUS && (s->bits[i / 64] >> (i % 64)) & 1;
}

cg_err cg_cpuset_format(const cg_cpuset *set, char *buf, size_t cap)
{
	size_t n = 0;
	if (!buf || cap == 0)
		return CG_EINVAL;
	buf[0] = '\0';
	for (unsigned i = 0; i < CG_CPUSET_MAX_CPUS;) {
		if (!cpu_in(set, i)) {
			i++;
			continue;
		}
		unsigned j = i;
		while (cpu_in(set, j + 1))
			j++;
		int w = j == i ? snprintf(buf + n, cap - n, "%s%u", n ? "," : "", i)
		               : snprintf(buf + n, cap - n, "%s%u-%u", n ? "," : "", i, j);
		if (w < 0 || (size_t)w >= cap - n) {
			buf[0] = '\0';
			return CG_EINVAL;
		}
		n += (size_t)w;
		i = j + 1;
	}
	return CG_OK;
}

bool cg_cpuset_equal(const cg_cpuset *a, const cg_cpuset *b)
{
	return a->count == b->count && memcmp(a->bits, b->bits, sizeof a->bits) == 0;
}

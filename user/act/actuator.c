/*
 * act/actuator.c — journal, write, read back, persist; and the stepwise memory shrink.
 *
 * The shrink table holds one entry per container whose memory is being lowered. Each entry
 * keeps its own cgroup handle open (opened at the decision, closed when the shrink ends), the
 * memory.high it found (to restore on abandon), the memory.high it last wrote, and the PSI
 * memory "some" total at the previous tick, so a tick costs two small preads and at most one
 * write. A new decision touching the memory of a container that is still shrinking
 * abandons the old shrink first (restoring memory.high), so two state machines never fight
 * over one file.
 */
#include "act/actuator.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define MIB (1ull << 20)

struct shrink {
	uint32_t vmid;
	uint64_t seq;
	cg_ct *ct;
	uint64_t target_bytes, target_high;
	uint64_t old_high;        /* UINT64_MAX = "max" */
	uint64_t cur_high;
	uint64_t stall_prev_us, mono_prev_us;
	int ticks;
	bool has_cpu;
	double cpu_applied;
	uint64_t mem_before_mb;
};

struct actuator {
	struct actuator_settings s;
	const cg_hier *h;
	struct journal *j;
	struct persister *p;
	struct shrink *sh;
	size_t nsh, capsh;
	struct actuator_event *ev;
	size_t nev, capev;
	uint32_t *cpulimit_cts; /* containers whose config has a cpulimit (unsorted, few) */
	size_t ncl, capcl;
};

void actuator_settings_default(struct actuator_settings *s)
{
	s->mem_headroom_bytes = CG_MEM_HEADROOM_DEFAULT;
	s->shrink_step_bytes = 32 * MIB;
	s->shrink_abort_stall = 0.10;
	s->shrink_max_ticks = 600;
	s->widen_cpuset = true;
}

const char *actuator_status_name(enum actuator_status s)
{
	switch (s) {
	case ACT_APPLIED: return "applied";
	case ACT_SHRINKING: return "shrinking";
	case ACT_PERSIST_ONLY: return "persist-only";
	case ACT_DRY_RUN: return "dry-run";
	case ACT_REFUSED: return "refused";
	case ACT_FAILED: return "failed";
	}
	return "unknown";
}

unsigned actuator_pct_cores(double cores)
{
	if (!(cores > 0))
		return 1;
	double c = ceil(cores - 1e-9);
	return c > 8192 ? 8192 : (unsigned)c;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int actuator_new(const struct actuator_settings *s, const cg_hier *h, struct journal *j,
                 struct persister *p, struct actuator **out)
{
	*out = NULL;
	if (!s || !h || !j || s->shrink_step_bytes < MIB || !(s->shrink_abort_stall > 0) ||
	    s->shrink_abort_stall > 1 || s->shrink_max_ticks < 1)
		return -EINVAL;
	struct actuator *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->s = *s;
	a->h = h;
	a->j = j;
	a->p = p;
	*out = a;
	return 0;
}

void actuator_free(struct actuator *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nsh; i++)
		cg_ct_close(a->sh[i].ct);
	free(a->sh);
	free(a->ev);
	free(a->cpulimit_cts);
	free(a);
}

static bool has_cpulimit(const struct actuator *a, uint32_t vmid)
{
	for (size_t i = 0; i < a->ncl; i++)
		if (a->cpulimit_cts[i] == vmid)
			return true;
	return false;
}

void actuator_config_has_cpulimit(struct actuator *a, uint32_t vmid, bool has)
{
	for (size_t i = 0; i < a->ncl; i++)
		if (a->cpulimit_cts[i] == vmid) {
			if (!has)
				a->cpulimit_cts[i] = a->cpulimit_cts[--a->ncl];
			return;
		}
	if (!has)
		return;
	if (a->ncl == a->capcl) {
		size_t cap = a->capcl ? a->capcl * 2 : 16;
		uint32_t *v = realloc(a->cpulimit_cts, cap * sizeof(*v));
		if (!v)
			return; /* then only cores is persisted: the re-read config shows the cpulimit */
		a->cpulimit_cts = v;
		a->capcl = cap;
	}
	a->cpulimit_cts[a->ncl++] = vmid;
}

static void event(struct actuator *a, enum actuator_event_kind kind, uint32_t vmid, uint64_t seq,
                  unsigned cores, uint64_t mem_mb, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void event(struct actuator *a, enum actuator_event_kind kind, uint32_t vmid, uint64_t seq,
                  unsigned cores, uint64_t mem_mb, const char *fmt, ...)
{
	if (a->nev == a->capev) {
		size_t cap = a->capev ? a->capev * 2 : 16;
		if (cap > 4096)
			return; /* nobody drains them: drop, the journal keeps the truth */
		struct actuator_event *n = realloc(a->ev, cap * sizeof(*n));
		if (!n)
			return;
		a->ev = n;
		a->capev = cap;
	}
	struct actuator_event *e = &a->ev[a->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->vmid = vmid;
	e->seq = seq;
	e->cores = cores;
	e->mem_mb = mem_mb;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
}

size_t actuator_take_events(struct actuator *a, struct actuator_event *out, size_t max)
{
	size_t n = a->nev < max ? a->nev : max;
	if (n) {
		memcpy(out, a->ev, n * sizeof(*out));
		memmove(a->ev, a->ev + n, (a->nev - n) * sizeof(*out));
		a->nev -= n;
	}
	return n;
}

size_t actuator_shrinks(const struct actuator *a)
{
	return a->nsh;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void submit(struct actuator *a, uint32_t vmid, uint64_t seq, bool cpu, double cores,
                   bool mem, uint64_t mem_mb)
{
	if (!a->p || (!cpu && !mem))
		return;
	/* A config with a cpulimit caps the container at it (cpu.max at start): persisting
	 * cores alone would leave the config saying the old limit, the next config read would
	 * report it as the allocation, and the same scale-up would be decided again and again.
	 * Fractional cores are Proxmox's cpulimit under a whole `cores` ceiling (1.5 ->
	 * cores 2, cpulimit 1.5), which is what cpu.max holds. */
	bool fractional = cpu && cores != floor(cores);
	struct persist_target t = {
		.vmid = vmid, .set_cores = cpu, .cores = cpu ? actuator_pct_cores(cores) : 0,
		.cpulimit = cpu && (has_cpulimit(a, vmid) || fractional) ? cores : 0,
		.set_memory = mem, .memory_mb = mem_mb, .upto_seq = seq,
	};
	(void)persister_submit(a->p, &t); /* only -EINVAL/-ENOMEM: the journal keeps it open */
}

/* Reads back what the kernel holds: cores from cpu.max (0 for "max"), MiB from memory.max. */
static void read_back(cg_ct *ct, double *cores, uint64_t *mem_mb)
{
	static struct cg_sample smp; /* loop thread only; big enough not to want it on the stack */
	*cores = 0;
	*mem_mb = 0;
	if (cg_sample_read(ct, &smp) != CG_OK)
		return;
	if (cg_known(smp.cpu_max_quota_usec) && cg_known(smp.cpu_max_period_usec) &&
	    smp.cpu_max_period_usec.v)
		*cores = (double)smp.cpu_max_quota_usec.v / (double)smp.cpu_max_period_usec.v;
	if (cg_known(smp.mem_max))
		*mem_mb = smp.mem_max.v / MIB;
}

static cg_err read_text(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? CG_ENOTSUP : CG_EIO;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return CG_EIO;
	buf[n] = '\0';
	*len = (size_t)n;
	return CG_OK;
}

/* Makes the container's cpuset hold `want` CPUs, so what lxcfs shows inside (nproc,
 * /proc/cpuinfo follow the cpuset, not cpu.max) matches the cores persisted to the config.
 * Growing takes the lowest CPUs the container root offers that it does not have yet;
 * narrowing keeps the container's lowest CPUs (pvestatd rebalances both later). An empty
 * set means "all of the parent's": left alone. */
static cg_err fit_cpuset(struct actuator *a, cg_ct *ct, unsigned want)
{
	char path[4096], buf[8192];
	size_t len;
	cg_cpuset cur, avail;
	snprintf(path, sizeof(path), "%s/cpuset.cpus", cg_ct_path(ct));
	cg_err err = read_text(path, buf, sizeof(buf), &len);
	if (err)
		return err;
	if ((err = cg_cpuset_parse(buf, len, &cur)) != CG_OK)
		return err;
	if (cur.count == 0 || cur.count == want || want == 0)
		return CG_OK;
	cg_cpuset next = cur;
	if (cur.count > want) {
		memset(next.bits, 0, sizeof(next.bits));
		next.count = 0;
		for (unsigned cpu = 0; cpu < CG_CPUSET_MAX_CPUS && next.count < want; cpu++) {
			uint64_t bit = 1ull << (cpu % 64);
			if (cur.bits[cpu / 64] & bit) {
				next.bits[cpu / 64] |= bit;
				next.count++;
			}
		}
		return cg_set_cpuset(ct, &next);
	}
	snprintf(path, sizeof(path), "%s/cpuset.cpus.effective", cg_hier_root(a->h));
	if ((err = read_text(path, buf, sizeof(buf), &len)) != CG_OK)
		return err;
	if ((err = cg_cpuset_parse(buf, len, &avail)) != CG_OK)
		return err;
	for (unsigned cpu = 0; cpu < CG_CPUSET_MAX_CPUS && next.count < want; cpu++) {
		uint64_t bit = 1ull << (cpu % 64);
		if ((avail.bits[cpu / 64] & bit) && !(next.bits[cpu / 64] & bit)) {
			next.bits[cpu / 64] |= bit;
			next.count++;
		}
	}
	if (next.count == cur.count)
		return CG_OK;
	return cg_set_cpuset(ct, &next);
}

static struct shrink *find_shrink(struct actuator *a, uint32_t vmid)
{
	for (size_t i = 0; i < a->nsh; i++)
		if (a->sh[i].vmid == vmid)
			return &a->sh[i];
	return NULL;
}

static void remove_shrink(struct actuator *a, struct shrink *s)
{
	cg_ct_close(s->ct);
	*s = a->sh[--a->nsh];
}

static uint32_t milli(double cores)
{
	double m = round(cores * 1000.0);
	return m < 0 ? 0 : m > 8192000 ? 8192000 : (uint32_t)m;
}

/* Ends a shrink without lowering memory: memory.high as it was, the change keeps its old
 * memory size (its CPU part, if any, stays applied and is persisted). */
static void abandon_shrink(struct actuator *a, struct shrink *s, const char *why)
{
	cg_err err = cg_set_memory_high(s->ct, s->old_high);
	struct journal_change applied = {.cpu_after_milli = milli(s->cpu_applied),
					 .mem_after_mb = s->mem_before_mb};
	if (s->has_cpu) {
		journal_mark(a->j, s->seq, JOURNAL_APPLIED, &applied);
		submit(a, s->vmid, s->seq, true, s->cpu_applied, false, 0);
	} else {
		journal_mark(a->j, s->seq, JOURNAL_CANCELLED, NULL);
	}
	event(a, ACT_EV_SHRINK_ABANDONED, s->vmid, s->seq, actuator_pct_cores(s->cpu_applied),
	      s->mem_before_mb, "memory shrink to %llu MiB abandoned: %s%s%s",
	      (unsigned long long)(s->target_bytes / MIB), why,
	      err ? "; restoring memory.high failed: " : "", err ? cg_strerror(err) : "");
	remove_shrink(a, s);
}

static void finish_shrink(struct actuator *a, struct shrink *s, bool stopped)
{
	double cores = s->cpu_applied;
	uint64_t mem_mb = s->target_bytes / MIB;
	if (!stopped) {
		double rb_cores;
		uint64_t rb_mem;
		read_back(s->ct, &rb_cores, &rb_mem);
		if (rb_mem)
			mem_mb = rb_mem;
	}
	struct journal_change applied = {.cpu_after_milli = milli(cores), .mem_after_mb = mem_mb};
	journal_mark(a->j, s->seq, JOURNAL_APPLIED, &applied);
	submit(a, s->vmid, s->seq, s->has_cpu, cores, true, mem_mb);
	event(a, ACT_EV_SHRINK_DONE, s->vmid, s->seq, actuator_pct_cores(cores), mem_mb,
	      "memory shrunk to %llu MiB in %d ticks%s", (unsigned long long)mem_mb, s->ticks,
	      stopped ? " (container stopped: persisted only)" : "");
	remove_shrink(a, s);
}

static int start_shrink(struct actuator *a, const struct decision *d, uint64_t seq, cg_ct **ctp,
                        bool has_cpu, double cpu_applied, uint64_t target_bytes)
{
	struct cg_psi psi;
	static struct cg_sample smp;
	cg_err err = cg_sample_read(*ctp, &smp);
	if (err)
		return err;
	if (a->nsh == a->capsh) {
		size_t cap = a->capsh ? a->capsh * 2 : 8;
		struct shrink *n = realloc(a->sh, cap * sizeof(*n));
		if (!n)
			return CG_ENOMEM;
		a->sh = n;
		a->capsh = cap;
	}
	struct shrink *s = &a->sh[a->nsh++];
	memset(s, 0, sizeof(*s));
	s->vmid = d->vmid;
	s->seq = seq;
	s->ct = *ctp;
	*ctp = NULL; /* the shrink owns the handle now */
	s->target_bytes = target_bytes;
	s->target_high = cg_pve_memory_high(target_bytes);
	s->old_high = smp.mem_high.state == CG_KNOWN ? smp.mem_high.v : UINT64_MAX;
	s->cur_high = s->old_high;
	s->has_cpu = has_cpu;
	s->cpu_applied = cpu_applied;
	s->mem_before_mb = smp.mem_max.state == CG_KNOWN ? smp.mem_max.v / MIB : d->mem_from_mb;
	s->mono_prev_us = mono_us();
	if (cg_read_pressure(s->ct, CG_RES_MEMORY, &psi) == CG_OK && cg_known(psi.some.total))
		s->stall_prev_us = psi.some.total.v;
	return CG_OK;
}

/* ---- apply ------------------------------------------------------------------------------
 * A decision is checked, journalled, written (cpu.max and the cpuset, then memory: at once
 * when it grows, as a stepwise shrink when it goes down), read back, and settled: the journal
 * marked, the persister handed what the kernel now holds, the outcome said. */

/* One decision's way through the cgroup files. */
struct attempt {
	const struct decision *d;
	bool want_cpu, want_mem;
	uint64_t seq;                 /* its journal entry */
	cg_ct *ct;                    /* NULL when not opened, or once a shrink owns it */
	cg_err err;                   /* of the write that stopped it */
	const char *step;             /* ... which one */
	bool cpu_done, shrinking;
	double cores;                 /* read back */
	uint64_t mem_mb;
};

static void add_detail(struct actuator_outcome *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_detail(struct actuator_outcome *out, const char *fmt, ...)
{
	size_t l = strlen(out->detail);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->detail + l, sizeof(out->detail) - l, fmt, ap);
	va_end(ap);
}

/* Nothing was written (the detail says why). */
static int refuse(struct actuator_outcome *out, int error)
{
	out->status = ACT_REFUSED;
	out->error = error;
	return error;
}

static bool decision_valid(const struct decision *d, bool want_cpu, bool want_mem)
{
	return d->vmid >= 100 && d->vmid <= 999999999 && (want_cpu || want_mem) &&
	       (!want_cpu || (d->cpu_to >= 0.01 && d->cpu_to <= 8192)) &&
	       (!want_mem || (d->mem_to_mb >= 16 && d->mem_to_mb <= (1ull << 30)));
}

static int journal_start(struct actuator *a, struct attempt *t)
{
	const struct decision *d = t->d;
	struct journal_change c = {
		.seq = d->seq, /* the decision's number, when larger than the journal's last */
		.vmid = d->vmid,
		.what = (t->want_cpu ? JOURNAL_CPU : 0) | (t->want_mem ? JOURNAL_MEM : 0),
		.cpu_before_milli = milli(d->cpu_from), .cpu_after_milli = milli(d->cpu_to),
		.mem_before_mb = d->mem_from_mb, .mem_after_mb = d->mem_to_mb,
	};
	int rc = journal_begin(a->j, &c);
	t->seq = c.seq;
	return rc;
}

/* cpu.max; a bigger limit also widens the cpuset (a failure there is only noted). */
static void write_cpu(struct actuator *a, struct attempt *t, struct actuator_outcome *out)
{
	const struct decision *d = t->d;
	t->step = "cpu.max";
	t->err = cg_set_cpu(t->ct, d->cpu_to);
	t->cpu_done = t->err == CG_OK;
	if (t->err != CG_OK || !a->s.widen_cpuset || d->cpu_to == d->cpu_from)
		return;
	cg_err werr = fit_cpuset(a, t->ct, actuator_pct_cores(d->cpu_to));
	if (werr == CG_GONE)
		t->err = werr;
	else if (werr != CG_OK && werr != CG_ENOTSUP)
		add_detail(out, "cpuset not %s: %s; ", d->cpu_to > d->cpu_from ? "widened" : "narrowed",
			   cg_strerror(werr));
}

/* memory.max at once when it does not go down; below the current limit a stepwise shrink
 * starts, which takes the cgroup handle. */
static void write_memory(struct actuator *a, struct attempt *t)
{
	const struct decision *d = t->d;
	static struct cg_sample smp; /* loop thread only */
	t->step = "memory";
	uint64_t bytes = d->mem_to_mb * MIB;
	t->err = cg_sample_read(t->ct, &smp);
	if (t->err != CG_OK)
		return;
	cg_u64 cur_max = smp.mem_max;
	if (cur_max.state == CG_MAX || (cur_max.state == CG_KNOWN && cur_max.v > bytes)) {
		read_back(t->ct, &t->cores, &t->mem_mb);
		t->err = start_shrink(a, d, t->seq, &t->ct, t->want_cpu && t->cpu_done, t->cores, bytes);
		t->shrinking = t->err == CG_OK;
	} else {
		t->err = cg_set_memory(t->ct, bytes, a->s.mem_headroom_bytes);
	}
}

static void write_limits(struct actuator *a, struct attempt *t, struct actuator_outcome *out)
{
	t->step = "open";
	t->err = cg_ct_open(a->h, t->d->vmid, &t->ct);
	if (t->err == CG_OK && t->want_cpu)
		write_cpu(a, t, out);
	if (t->err == CG_OK && t->want_mem)
		write_memory(a, t);
}

/* The config takes the decision's values while the kernel does not hold them: journalled
 * as applied, persisted when the decision asks for it (else cancelled). */
static void config_only(struct actuator *a, const struct attempt *t, struct actuator_outcome *out)
{
	const struct decision *d = t->d;
	struct journal_change applied = {.cpu_after_milli = milli(d->cpu_to), .mem_after_mb = d->mem_to_mb};
	journal_mark(a->j, t->seq, JOURNAL_APPLIED, &applied);
	if (d->persist)
		submit(a, d->vmid, t->seq, t->want_cpu, d->cpu_to, t->want_mem, d->mem_to_mb);
	else
		journal_mark(a->j, t->seq, JOURNAL_CANCELLED, NULL);
	out->status = ACT_PERSIST_ONLY;
	out->cpu_applied = t->want_cpu ? d->cpu_to : 0;
	out->mem_applied_mb = t->want_mem ? d->mem_to_mb : 0;
}

/* No cgroup: a stopped container, or it stopped just now. Like `pct set` on a stopped
 * container, the config takes the values and they apply at its next start. */
static int settle_stopped(struct actuator *a, struct attempt *t, struct actuator_outcome *out)
{
	config_only(a, t, out);
	cg_ct_close(t->ct);
	add_detail(out, "no cgroup (container stopped): persisted only");
	return 0;
}

/* The CPU part is in force (and persisted); the memory part follows as the shrink ends. */
static int settle_shrinking(struct actuator *a, const struct attempt *t, struct actuator_outcome *out)
{
	if (t->cpu_done && t->d->persist)
		submit(a, t->d->vmid, t->seq, true, t->cores, false, 0);
	out->status = ACT_SHRINKING;
	out->cpu_applied = t->cores;
	add_detail(out, "memory shrink to %llu MiB started", (unsigned long long)t->d->mem_to_mb);
	return 0;
}

/* The cgroup lacks the controller (a host without cpu/memory delegation): the kernel
 * cannot enforce the value, but a person asked for it, so the config takes it, as `pct set`
 * would. Said plainly in the outcome; never for the policy's own decisions, which must not
 * grow a config the kernel ignores. */
static int settle_no_controller(struct actuator *a, const struct attempt *t, struct actuator_outcome *out)
{
	config_only(a, t, out);
	out->error = t->err;
	/* short: it goes after the request's source into the decision's 128-byte detail */
	add_detail(out, "%s: the cgroup write failed: no %s controller here; config only, not enforced",
		   t->step, t->want_cpu ? "cpu" : "memory");
	return 0;
}

static int settle_failed(struct actuator *a, const struct attempt *t, struct actuator_outcome *out)
{
	journal_mark(a->j, t->seq, JOURNAL_CANCELLED, NULL);
	out->status = ACT_FAILED;
	out->error = t->err;
	add_detail(out, "%s: %s", t->step, cg_strerror(t->err));
	return -EIO;
}

/* All of it applied, or the CPU part only (the memory write failed: the change keeps
 * whatever the kernel holds, which is what the read-back says). */
static int settle_applied(struct actuator *a, const struct attempt *t, struct actuator_outcome *out)
{
	const struct decision *d = t->d;
	bool mem_done = t->want_mem && t->err == CG_OK;
	struct journal_change applied = {.cpu_after_milli = milli(t->cores), .mem_after_mb = t->mem_mb};
	journal_mark(a->j, t->seq, JOURNAL_APPLIED, &applied);
	if (d->persist)
		submit(a, d->vmid, t->seq, t->cpu_done, t->cores, mem_done, t->mem_mb);
	else
		journal_mark(a->j, t->seq, JOURNAL_CANCELLED, NULL); /* transient on purpose */
	out->status = ACT_APPLIED;
	out->cpu_applied = t->cores;
	out->mem_applied_mb = t->mem_mb;
	out->error = t->err;
	if (t->err)
		add_detail(out, "%s: %s (cpu applied)", t->step, cg_strerror(t->err));
	return 0;
}

static int settle(struct actuator *a, struct attempt *t, struct actuator_outcome *out)
{
	if (t->err == CG_GONE)
		return settle_stopped(a, t, out);
	if (t->shrinking)
		return settle_shrinking(a, t, out);
	if (t->ct)
		read_back(t->ct, &t->cores, &t->mem_mb);
	cg_ct_close(t->ct);
	if (t->err == CG_ENOTSUP && !t->cpu_done && t->d->reason == REASON_MANUAL && t->d->persist)
		return settle_no_controller(a, t, out);
	if (t->err != CG_OK && !t->cpu_done)
		return settle_failed(a, t, out);
	return settle_applied(a, t, out);
}

int actuator_apply(struct actuator *a, const struct decision *d, struct actuator_outcome *out)
{
	memset(out, 0, sizeof(*out));
	struct attempt t = {
		.d = d, .want_cpu = d->cpu_change != DECISION_NONE, .want_mem = d->mem_change != DECISION_NONE,
	};
	if (!decision_valid(d, t.want_cpu, t.want_mem)) {
		add_detail(out, "invalid decision");
		return refuse(out, -EINVAL);
	}
	if (d->dry_run) {
		out->status = ACT_DRY_RUN;
		snprintf(out->detail, sizeof(out->detail), "dry run: nothing written");
		return 0;
	}
	/* a memory decision replaces a shrink still in progress */
	struct shrink *old = t.want_mem ? find_shrink(a, d->vmid) : NULL;
	if (old)
		abandon_shrink(a, old, "superseded by a newer decision");
	int rc = journal_start(a, &t);
	if (rc < 0) {
		add_detail(out, "not journalled (%s): nothing changed", strerror(-rc));
		return refuse(out, rc);
	}
	out->seq = t.seq;
	write_limits(a, &t, out);
	return settle(a, &t, out);
}

/* ---- the shrink state machine ----------------------------------------------------------- */

static void tick_one(struct actuator *a, struct shrink *s)
{
	cg_u64 cur;
	struct cg_psi psi;
	cg_err err = cg_read_mem_current(s->ct, &cur);
	if (err == CG_GONE) {
		finish_shrink(a, s, true);
		return;
	}
	if (err != CG_OK || !cg_known(cur)) {
		abandon_shrink(a, s, "memory.current unreadable");
		return;
	}
	uint64_t now = mono_us();
	if (cg_read_pressure(s->ct, CG_RES_MEMORY, &psi) == CG_OK && cg_known(psi.some.total)) {
		uint64_t stall = psi.some.total.v - s->stall_prev_us, wall = now - s->mono_prev_us;
		s->stall_prev_us = psi.some.total.v;
		s->mono_prev_us = now;
		if (wall > 0 && (double)stall / (double)wall > a->s.shrink_abort_stall) {
			char why[96];
			snprintf(why, sizeof(why), "memory pressure %.1f%% of the last tick",
			         100.0 * (double)stall / (double)wall);
			abandon_shrink(a, s, why);
			return;
		}
	}
	s->ticks++;
	/* usage fits under the target with headroom: memory.max may follow now */
	if (cur.v + a->s.mem_headroom_bytes <= s->target_bytes) {
		err = cg_set_memory(s->ct, s->target_bytes, a->s.mem_headroom_bytes);
		if (err == CG_OK) {
			finish_shrink(a, s, false);
			return;
		}
		if (err == CG_GONE) {
			finish_shrink(a, s, true);
			return;
		}
		if (err != CG_EUNSAFE) { /* CG_EUNSAFE: usage grew back meanwhile, keep going */
			abandon_shrink(a, s, cg_strerror(err));
			return;
		}
	}
	if (s->ticks >= a->s.shrink_max_ticks) {
		abandon_shrink(a, s, "usage did not come down in time");
		return;
	}
	/* one step down from wherever is lower, usage or the current high */
	uint64_t base = cur.v < s->cur_high ? cur.v : s->cur_high;
	uint64_t next = base > s->target_high + a->s.shrink_step_bytes ? base - a->s.shrink_step_bytes
	                                                              : s->target_high;
	if (next < s->cur_high) {
		err = cg_set_memory_high(s->ct, next);
		if (err == CG_GONE) {
			finish_shrink(a, s, true);
			return;
		}
		if (err != CG_OK) {
			abandon_shrink(a, s, cg_strerror(err));
			return;
		}
		s->cur_high = next;
	}
}

void actuator_tick(struct actuator *a)
{
	/* tick_one may remove the entry (the last one moves into its slot) */
	for (size_t i = 0; i < a->nsh;) {
		size_t before = a->nsh;
		tick_one(a, &a->sh[i]);
		if (a->nsh == before)
			i++;
	}
}

/* ---- persister results ------------------------------------------------------------------ */

void actuator_persisted(struct actuator *a, const struct persist_result *r)
{
	switch (r->status) {
	case PERSIST_OK: {
		int n = journal_mark_persisted_upto(a->j, r->vmid, r->upto_seq);
		event(a, ACT_EV_PERSISTED, r->vmid, r->upto_seq, r->cores, r->memory_mb,
		      "%s%s", r->detail, n < 0 ? " (journal not marked: it replays on restart)" : "");
		break;
	}
	case PERSIST_GONE: {
		/* the container was destroyed: nothing left to reconcile */
		size_t n;
		const struct journal_change *open = journal_open_changes(a->j, &n);
		uint64_t seqs[64];
		size_t k = 0;
		for (size_t i = 0; i < n && k < 64; i++)
			if (open[i].vmid == r->vmid && open[i].seq <= r->upto_seq)
				seqs[k++] = open[i].seq;
		for (size_t i = 0; i < k; i++)
			journal_mark(a->j, seqs[i], JOURNAL_CANCELLED, NULL);
		event(a, ACT_EV_PERSIST_GONE, r->vmid, r->upto_seq, r->cores, r->memory_mb,
		      "container gone: %s", r->detail);
		break;
	}
	case PERSIST_LOCKED:
		event(a, ACT_EV_PERSIST_LOCKED, r->vmid, r->upto_seq, r->cores, r->memory_mb,
		      "config locked, retrying: %s", r->detail);
		break;
	case PERSIST_FAILED:
		event(a, ACT_EV_PERSIST_FAILED, r->vmid, r->upto_seq, r->cores, r->memory_mb,
		      "%s%s", r->detail, r->breaker_open ? " (circuit breaker open)" : "");
		break;
	}
}

size_t actuator_drain_persister(struct actuator *a)
{
	if (!a->p)
		return 0;
	struct persist_result r[16];
	size_t total = 0, n;
	while ((n = persister_take_results(a->p, r, 16)) > 0) {
		for (size_t i = 0; i < n; i++)
			actuator_persisted(a, &r[i]);
		total += n;
	}
	return total;
}

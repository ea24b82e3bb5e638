/*
 * act/reconcile.c — journal replay and config baseline at start-up (see act/reconcile.h).
 *
 * Runs before the loop, synchronously: a persist or a config read here is one call with the
 * persister's timeout, and start-up may take that long. Containers are handled one at a
 * time, oldest open change first; nothing here keeps state after it returns.
 */
#include "act/reconcile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1ull << 20)

static void logf_(reconcile_log_fn log, void *ud, enum reconcile_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void logf_(reconcile_log_fn log, void *ud, enum reconcile_level lvl, const char *fmt, ...)
{
	if (!log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(ud, lvl, msg);
}

/* Sets the cgroup to the config. 0, -ENOENT (no cgroup: nothing to restore), -EAGAIN
 * (memory left alone: usage is above the config's size), -EIO. */
static int restore_cgroup(const cg_hier *h, uint32_t vmid, const struct pve_limits *l,
                          uint64_t headroom, char *why, size_t len)
{
	cg_ct *ct;
	cg_err err = cg_ct_open(h, vmid, &ct);
	if (err == CG_GONE)
		return -ENOENT;
	if (err) {
		snprintf(why, len, "open: %s", cg_strerror(err));
		return -EIO;
	}
	int rc = 0;
	err = cg_set_cpu(ct, pve_limits_cpu(l));
	if (err == CG_OK)
		err = cg_set_memory(ct, l->memory_mb * MIB, headroom);
	if (err == CG_GONE)
		rc = -ENOENT;
	else if (err == CG_EUNSAFE) {
		snprintf(why, len, "memory.max not lowered to %llu MiB: usage is above it",
		         (unsigned long long)l->memory_mb);
		rc = -EAGAIN;
	} else if (err) {
		snprintf(why, len, "%s", cg_strerror(err));
		rc = -EIO;
	}
	cg_ct_close(ct);
	return rc;
}

static void mark_all(struct journal *j, uint32_t vmid, enum journal_state from_applied,
                     enum journal_state from_pending, struct reconcile_report *r)
{
	size_t n;
	const struct journal_change *c = journal_open_changes(j, &n);
	uint64_t seqs[256];
	enum journal_state to[256];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 256; i++) {
		if (c[i].vmid != vmid)
			continue;
		seqs[k] = c[i].seq;
		to[k++] = c[i].state == JOURNAL_APPLIED ? from_applied : from_pending;
	}
	for (size_t i = 0; i < k; i++) {
		if (journal_mark(j, seqs[i], to[i], NULL) < 0) {
			r->failed++;
			continue;
		}
		if (to[i] == JOURNAL_PERSISTED)
			r->persisted++;
		else
			r->cancelled++;
	}
}

static void replay_container(struct journal *j, const cg_hier *h, const struct persist_settings *s,
                             uint64_t headroom, uint32_t vmid, reconcile_log_fn log, void *ud,
                             struct reconcile_report *r)
{
	size_t n;
	const struct journal_change *c = journal_open_changes(j, &n);
	struct persist_target t = {.vmid = vmid};
	bool pending = false;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) { /* oldest first: later values win */
		if (c[i].vmid != vmid)
			continue;
		count++;
		if (c[i].state == JOURNAL_PENDING) {
			pending = true;
			continue;
		}
		if (c[i].what & JOURNAL_CPU) {
			t.set_cores = true;
			t.cores = (unsigned)((c[i].cpu_after_milli + 999) / 1000);
			if (t.cores < 1)
				t.cores = 1;
		}
		if (c[i].what & JOURNAL_MEM) {
			t.set_memory = true;
			t.memory_mb = c[i].mem_after_mb;
		}
		t.upto_seq = c[i].seq;
	}
	r->containers++;
	char detail[256] = "", why[256] = "";
	enum persist_status st = PERSIST_OK;
	if (t.set_cores || t.set_memory) {
		st = persist_call(s, &t, detail, sizeof(detail));
		char what[64] = "";
		if (t.set_cores)
			snprintf(what, sizeof(what), " cores %u", t.cores);
		if (t.set_memory)
			snprintf(what + strlen(what), sizeof(what) - strlen(what), " memory %llu MiB",
			         (unsigned long long)t.memory_mb);
		if (st == PERSIST_OK)
			logf_(log, ud, RECONCILE_INFO,
			      "ct %u: %zu open change(s) from the last run: persisted%s (%s)",
			      vmid, count, what, detail);
		else if (st == PERSIST_GONE) {
			logf_(log, ud, RECONCILE_INFO, "ct %u: container gone, %zu change(s) dropped", vmid, count);
			mark_all(j, vmid, JOURNAL_CANCELLED, JOURNAL_CANCELLED, r);
			return;
		}
	}
	if (st == PERSIST_OK && !pending) {
		mark_all(j, vmid, JOURNAL_PERSISTED, JOURNAL_CANCELLED, r);
		return;
	}
	/* a half-written cgroup, or a config we could not update: the config wins */
	struct pve_limits cfg;
	char cdetail[256];
	int rc = pve_config_read(s, vmid, &cfg, cdetail, sizeof(cdetail));
	if (rc == -ENOENT) {
		logf_(log, ud, RECONCILE_INFO, "ct %u: container gone, %zu change(s) dropped", vmid, count);
		mark_all(j, vmid, JOURNAL_CANCELLED, JOURNAL_CANCELLED, r);
		return;
	}
	if (rc == 0)
		rc = restore_cgroup(h, vmid, &cfg, headroom, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", cdetail);
	if (rc == 0 || rc == -ENOENT) {
		if (rc == 0)
			r->restored++;
		logf_(log, ud, st == PERSIST_OK ? RECONCILE_INFO : RECONCILE_WARN,
		      "ct %u: %s; cgroup %s to the config (cores %u, cpulimit %.2f, memory %llu MiB)",
		      vmid, st == PERSIST_OK ? "a write was cut short" : detail,
		      rc == 0 ? "set back" : "absent (stopped), nothing to set back", cfg.cores,
		      cfg.cpulimit, (unsigned long long)cfg.memory_mb);
		mark_all(j, vmid, st == PERSIST_OK ? JOURNAL_PERSISTED : JOURNAL_CANCELLED,
		         JOURNAL_CANCELLED, r);
		return;
	}
	logf_(log, ud, RECONCILE_ERROR,
	      "ct %u: could neither persist (%s) nor restore the cgroup (%s): %zu change(s) stay open",
	      vmid, detail[0] ? detail : "nothing to persist", why, count);
	r->failed += count;
}

int reconcile_journal(struct journal *j, const cg_hier *h, const struct persist_settings *s,
                      uint64_t mem_headroom, reconcile_log_fn log, void *ud,
                      struct reconcile_report *r)
{
	size_t n;
	const struct journal_change *c = journal_open_changes(j, &n);
	/* the containers concerned, in order of their oldest open change */
	uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t m = 0; m < k && !seen; m++)
			seen = ids[m] == c[i].vmid;
		if (!seen)
			ids[k++] = c[i].vmid;
	}
	for (size_t i = 0; i < k; i++)
		replay_container(j, h, s, mem_headroom, ids[i], log, ud, r);
	free(ids);
	return 0;
}

int reconcile_baseline(const cg_hier *h, const struct persist_settings *s, const uint32_t *vmids,
                       size_t n, uint64_t mem_headroom, const char *skip_tag, reconcile_log_fn log,
                       void *ud, struct reconcile_report *r, struct reconcile_baseline *out)
{
	static struct cg_sample smp; /* start-up, one thread */
	for (size_t i = 0; i < n; i++) {
		uint32_t vmid = vmids[i];
		struct reconcile_baseline b = {.vmid = vmid};
		char detail[256], why[256] = "";
		b.status = pve_config_read(s, vmid, &b.config, detail, sizeof(detail));
		r->containers++;
		if (b.status) {
			logf_(log, ud, RECONCILE_WARN, "ct %u: config not read: %s", vmid, detail);
			goto next;
		}
		if (skip_tag && skip_tag[0] && pve_tags_has(b.config.tags, skip_tag)) {
			logf_(log, ud, RECONCILE_INFO, "ct %u: tagged %s in Proxmox: its cgroup is left alone", vmid,
			      skip_tag);
			goto next;
		}
		cg_ct *ct;
		if (cg_ct_open(h, vmid, &ct) != CG_OK)
			goto next; /* stopped: its next start applies the config */
		cg_err err = cg_sample_read(ct, &smp);
		cg_ct_close(ct);
		if (err)
			goto next;
		double want_cpu = pve_limits_cpu(&b.config), have_cpu = 0;
		bool cpu_drift = false, mem_drift = false;
		if (cg_known(smp.cpu_max_quota_usec) && cg_known(smp.cpu_max_period_usec) &&
		    smp.cpu_max_period_usec.v) {
			have_cpu = (double)smp.cpu_max_quota_usec.v / (double)smp.cpu_max_period_usec.v;
			if (b.config.cpulimit > 0)
				cpu_drift = fabs(have_cpu - want_cpu) > 0.005;
			else /* our own fractional cpu.max persists as the next whole core */
				cpu_drift = want_cpu == 0 || ceil(have_cpu - 1e-9) != want_cpu;
		}
		/* "max" with cores set is Proxmox's own state (the cpuset limits): no drift */
		uint64_t want_mem = b.config.memory_mb * MIB;
		if (cg_known(smp.mem_max))
			mem_drift = smp.mem_max.v != want_mem;
		if (!cpu_drift && !mem_drift)
			goto next;
		r->drift++;
		int rc = restore_cgroup(h, vmid, &b.config, mem_headroom, why, sizeof(why));
		if (rc == 0)
			r->restored++;
		logf_(log, ud, rc == 0 ? RECONCILE_INFO : RECONCILE_WARN,
		      "ct %u: cgroup (cpu %.2f, memory %llu MiB) differs from its config (cores %u, "
		      "cpulimit %.2f, memory %llu MiB), changed outside lxcscale: config taken as the "
		      "baseline%s%s",
		      vmid, have_cpu, cg_known(smp.mem_max) ? (unsigned long long)(smp.mem_max.v / MIB) : 0ull,
		      b.config.cores, b.config.cpulimit, (unsigned long long)b.config.memory_mb,
		      rc ? "; " : "", rc ? why : "");
next:
		if (out)
			out[i] = b;
	}
	return 0;
}

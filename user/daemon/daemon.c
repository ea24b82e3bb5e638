/*
 * daemon/daemon.c — the daemon's set-up and tear-down, its containers coming and going, and the
 * event fds that are not the tick: PSI triggers, memory.events, the BPF ring buffer and
 * the command queue (design in daemon/daemon.h; the tick itself is in daemon/tick.c).
 *
 * A container is opened when the container set reports it (inotify on the container
 * root) and its directory name matches cgroup.id_pattern; it is closed when the set
 * reports it gone, when a sample finds its cgroup gone, or when a trigger fd reports
 * EPOLLERR. A closed container leaves the loop at once but its memory is freed only at
 * the next tick, so no callback of the current batch can see freed state.
 */
#include "daemon/internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/vmid_search.h"
#include "decide/params.h"

uint64_t daemon_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t daemon_mono_ms(void)
{
	return (int64_t)(daemon_mono_ns() / 1000000u);
}

int64_t daemon_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- container table ------------------------------------------------------------------ */

static uint32_t ct_vmid(const void *d, size_t i)
{
	return ((const struct daemon *)d)->cts[i]->vmid;
}

static size_t lower_bound(struct daemon *d, uint32_t vmid)
{
	return vmid_lower_bound(d, d->n_cts, ct_vmid, vmid);
}

struct ct *daemon_find(struct daemon *d, uint32_t vmid)
{
	size_t i = lower_bound(d, vmid);
	return i < d->n_cts && d->cts[i]->vmid == vmid ? d->cts[i] : NULL;
}

/* ---- what applies to a container -------------------------------------------------------- */

const char *daemon_ct_ignored_why(const struct daemon *d, const struct ct *ct)
{
	if (policy_ignored(&d->pc, ct->vmid))
		return "ignore_lxc";
	return ct->tag_ignored ? "tag" : NULL;
}

bool daemon_ct_ignored(const struct daemon *d, const struct ct *ct)
{
	return daemon_ct_ignored_why(d, ct) != NULL;
}

int daemon_ct_tier(const struct daemon *d, const struct ct *ct)
{
	int t = config_tier_of(d->cfg, ct->vmid);
	return t >= 0 ? t : ct->tag_tier;
}

const struct policy_params *daemon_ct_params(const struct daemon *d, const struct ct *ct)
{
	int t = daemon_ct_tier(d, ct);
	return t >= 0 ? &d->tiers[t].params : &d->pc.defaults;
}

const struct cfg_scaling *daemon_ct_scaling(const struct daemon *d, const struct ct *ct)
{
	int t = daemon_ct_tier(d, ct);
	return t >= 0 ? &d->cfg->tiers[t].scaling : &d->cfg->scaling;
}

/* cgroup id -> container, for BPF (every tick's per-container deltas, ring events): an
 * open-addressing table with linear probing, at most half full, deletion by backward shift
 * (no tombstones). A linear search here was 15 % of the daemon's CPU at 1 000 containers
 * with BPF on: n deltas times n containers every tick. */
static size_t cgid_slot(uint64_t cgid, size_t cap)
{
	return (size_t)((cgid * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

static void cgid_put(struct ct **tab, size_t cap, struct ct *ct)
{
	size_t i = cgid_slot(ct->cgid, cap);
	while (tab[i])
		i = (i + 1) & (cap - 1);
	tab[i] = ct;
}

static int cgid_insert(struct daemon *d, struct ct *ct)
{
	if ((d->cgid_n + 1) * 2 > d->cgid_cap) {
		size_t cap = d->cgid_cap ? d->cgid_cap * 2 : 64;
		struct ct **tab = calloc(cap, sizeof(*tab));
		if (!tab)
			return -1;
		for (size_t i = 0; i < d->cgid_cap; i++)
			if (d->cgid_tab[i])
				cgid_put(tab, cap, d->cgid_tab[i]);
		free(d->cgid_tab);
		d->cgid_tab = tab;
		d->cgid_cap = cap;
	}
	cgid_put(d->cgid_tab, d->cgid_cap, ct);
	d->cgid_n++;
	return 0;
}

static void cgid_delete(struct daemon *d, struct ct *ct)
{
	if (!d->cgid_cap)
		return;
	const size_t mask = d->cgid_cap - 1;
	size_t i = cgid_slot(ct->cgid, d->cgid_cap);
	while (d->cgid_tab[i] && d->cgid_tab[i] != ct)
		i = (i + 1) & mask;
	if (!d->cgid_tab[i])
		return;
	/* Move back every later entry of the run whose home slot does not lie in (i, j]. */
	for (size_t j = (i + 1) & mask; d->cgid_tab[j]; j = (j + 1) & mask) {
		size_t home = cgid_slot(d->cgid_tab[j]->cgid, d->cgid_cap);
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			d->cgid_tab[i] = d->cgid_tab[j];
			i = j;
		}
	}
	d->cgid_tab[i] = NULL;
	d->cgid_n--;
}

struct ct *daemon_find_cgid(struct daemon *d, uint64_t cgid)
{
	if (!d->cgid_cap)
		return NULL;
	for (size_t i = cgid_slot(cgid, d->cgid_cap); d->cgid_tab[i]; i = (i + 1) & (d->cgid_cap - 1))
		if (d->cgid_tab[i]->cgid == cgid)
			return d->cgid_tab[i];
	return NULL;
}

static void on_psi(struct loop *l, int fd, uint32_t events, void *arg);
static void on_mem_events(struct loop *l, int fd, uint32_t events, void *arg);

static void close_trigger(struct daemon *d, struct ct *ct, int which)
{
	if (ct->psi_fd[which] >= 0) {
		loop_del_fd(d->loop, ct->psi_fd[which]);
		close(ct->psi_fd[which]);
		ct->psi_fd[which] = -1;
	}
}

static void open_events(struct daemon *d, struct ct *ct)
{
	const struct lxcscale_config *c = d->cfg;
	const uint64_t window_us = (uint64_t)c->psi.window_ms * 1000;
	static const enum cg_resource res[2] = { CG_RES_MEMORY, CG_RES_CPU };
	const uint64_t stall_us[2] = { (uint64_t)c->psi.memory_stall_ms * 1000, (uint64_t)c->psi.cpu_stall_ms * 1000 };
	for (int i = 0; i < 2; i++) {
		int fd = -1;
		uint64_t win = 0, stall = 0;
		uint64_t s = stall_us[i] < window_us ? stall_us[i] : window_us;
		cg_err e = cg_psi_trigger_open(ct->cg, res[i], CG_PSI_SOME, s, window_us, &fd, &win, &stall);
		if (e != CG_OK) {
			log_debug("container %u: no %s PSI trigger: %s", ct->vmid, i ? "cpu" : "memory", cg_strerror(e));
			continue;
		}
		if (loop_add_fd(d->loop, fd, EPOLLPRI, on_psi, ct) != 0) {
			close(fd);
			continue;
		}
		ct->psi_fd[i] = fd;
		if (win != window_us)
			log_debug("container %u: %s PSI trigger window %llu ms (the kernel's minimum here)",
				  ct->vmid, i ? "cpu" : "memory", (unsigned long long)(win / 1000));
	}
	int fd = -1;
	if (cg_mem_events_watch(ct->cg, &fd) == CG_OK && loop_add_fd(d->loop, fd, EPOLLPRI, on_mem_events, ct) == 0)
		ct->mev_fd = fd;
}

static void add_ct(struct daemon *d, uint32_t vmid)
{
	char name[16];
	snprintf(name, sizeof(name), "%u", vmid);
	if (d->id_re_ok && regexec(&d->id_re, name, 0, NULL, 0) != 0)
		return; /* not a container by cgroup.id_pattern */
	if (daemon_find(d, vmid))
		return;
	struct ct *ct = calloc(1, sizeof(*ct));
	if (!ct)
		goto oom;
	ct->d = d;
	ct->vmid = vmid;
	ct->psi_fd[0] = ct->psi_fd[1] = ct->mev_fd = -1;
	ct->sched_list = SCHED_NONE; /* on a list once it is in the table */
	ct->last_train_ms = ct->last_sample_ms = ct->budget_log_ms = ct->hot_until_ms = INT64_MIN / 2;
	ct->slot = d->next_slot++;
	ct->tag_tier = -1;
	cg_err e = cg_ct_open(d->hier, vmid, &ct->cg);
	if (e != CG_OK) {
		if (e != CG_GONE)
			log_warning("container %u: cannot open its cgroup: %s%s%s", vmid, cg_strerror(e),
				    e == CG_EIO ? ": " : "", e == CG_EIO ? strerror(errno) : "");
		free(ct);
		return;
	}
	unsigned window = (unsigned)d->cfg->spike_detection.rolling_window;
	unsigned hist = (unsigned)d->cfg->history_length;
	if (window > hist)
		window = hist;
	ct->hist = features_history_new(hist, window ? window : 1);
	if (!ct->hist) {
		cg_ct_close(ct->cg);
		free(ct);
		goto oom;
	}
	ct->cgid = cg_ct_cgroup_id(ct->cg);
	policy_state_init(&ct->pol);
	ctextra_init(&ct->extra, vmid, cg_ct_path(ct->cg));
	ct->mct = model_ct_add(d->model, vmid);
	if (d->n_cts == d->cap_cts) {
		size_t cap = d->cap_cts ? d->cap_cts * 2 : 64;
		struct ct **n = realloc(d->cts, cap * sizeof(*n));
		if (!n) {
			model_ct_remove(d->model, ct->mct);
			features_history_free(ct->hist);
			cg_ct_close(ct->cg);
			free(ct);
			goto oom;
		}
		d->cts = n;
		d->cap_cts = cap;
	}
	if (cgid_insert(d, ct) != 0) {
		model_ct_remove(d->model, ct->mct);
		features_history_free(ct->hist);
		cg_ct_close(ct->cg);
		free(ct);
		goto oom;
	}
	size_t at = lower_bound(d, vmid);
	memmove(&d->cts[at + 1], &d->cts[at], (d->n_cts - at) * sizeof(*d->cts));
	d->cts[at] = ct;
	d->n_cts++;
	daemon_sched_add(d, ct);
	ct->pub_stale = true;
	d->pub_dirty = true;
	open_events(d, ct);
	daemon_act_ct_added(d, ct);
	if (d->bpf && lxs_bpf_add_container(d->bpf, ct->cgid, vmid) != 0)
		log_warning("container %u: BPF cannot count it (map full?)", vmid);
	else if (d->bpf)
		ct->bpf.seen = true; /* counted from now: a drain without it means no events */
	log_info("container %u: watching %s", vmid, cg_ct_path(ct->cg));
	return;
oom:
	log_error("container %u: out of memory; not watched", vmid);
}

void daemon_remove_ct(struct daemon *d, struct ct *ct)
{
	size_t at = lower_bound(d, ct->vmid);
	if (at >= d->n_cts || d->cts[at] != ct)
		return;
	memmove(&d->cts[at], &d->cts[at + 1], (d->n_cts - at - 1) * sizeof(*d->cts));
	d->pub_dirty = true;
	d->n_cts--;
	daemon_sched_remove(d, ct);
	cgid_delete(d, ct);
	daemon_budget_track(d, &ct->alloc, -1);
	memset(&ct->alloc, 0, sizeof(ct->alloc));
	close_trigger(d, ct, 0);
	close_trigger(d, ct, 1);
	if (ct->mev_fd >= 0)
		loop_del_fd(d->loop, ct->mev_fd); /* closed with the cgroup handle */
	ct->mev_fd = -1;
	if (d->bpf)
		lxs_bpf_remove_container(d->bpf, ct->cgid);
	model_ct_remove(d->model, ct->mct);
	ct->mct = NULL;
	ctextra_close(&ct->extra); /* its counter files: now, not when the dead are freed */
	ct->gone = true;
	if (d->pub)
		pub_forget(d->pub, ct->vmid);
	if (d->n_dead == d->cap_dead) {
		size_t cap = d->cap_dead ? d->cap_dead * 2 : 16;
		struct ct **n = realloc(d->dead, cap * sizeof(*n));
		if (n) {
			d->dead = n;
			d->cap_dead = cap;
		}
	}
	if (d->n_dead < d->cap_dead)
		d->dead[d->n_dead++] = ct;
	else
		log_error("container %u: leaked its state (out of memory)", ct->vmid);
	log_info("container %u: gone", ct->vmid);
}

static void free_ct(struct ct *ct)
{
	ctextra_close(&ct->extra);
	free(ct->last);
	features_history_free(ct->hist);
	cg_ct_close(ct->cg);
	free(ct);
}

void daemon_free_dead(struct daemon *d)
{
	for (size_t i = 0; i < d->n_dead; i++)
		free_ct(d->dead[i]);
	d->n_dead = 0;
}

static void on_ctset_change(void *arg, uint32_t id, bool added)
{
	struct daemon *d = arg;
	if (added) {
		add_ct(d, id);
	} else {
		struct ct *ct = daemon_find(d, id);
		if (ct)
			daemon_remove_ct(d, ct);
	}
}

/* ---- event fds ------------------------------------------------------------------------- */

static void on_ctset(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	cg_err e = cg_ctset_process(d->ctset, on_ctset_change, d);
	if (e != CG_OK)
		log_warning("container set: %s", cg_strerror(e));
}

static void on_psi(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ct *ct = arg;
	struct daemon *d = ct->d;
	d->st.events++;
	if (cg_psi_event_classify(events) == CG_FD_GONE) {
		close_trigger(d, ct, fd == ct->psi_fd[0] ? 0 : 1);
		return;
	}
	int which = fd == ct->psi_fd[0] ? 0 : 1;
	daemon_note_wake(ct, which ? WAKE_CPU_PSI : WAKE_MEMORY_PSI);
	daemon_publish_psi(d, ct, which, daemon_mono_ms());
	daemon_evaluate_now(d, ct, false);
}

static void on_mem_events(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ct *ct = arg;
	struct daemon *d = ct->d;
	d->st.events++;
	struct cg_mem_events ev;
	if (cg_mem_events_ack(ct->cg, &ev) == CG_GONE) {
		loop_del_fd(l, fd);
		ct->mev_fd = -1;
		return;
	}
	/* A container at memory.max notifies on every reclaim pass: the debounce in
	 * daemon_evaluate_now() keeps that cheap, and an OOM kill always goes through. */
	uint64_t kills = cg_known(ev.oom_kill) ? oom_tracker_unseen(&ct->oom, ev.oom_kill.v) : 0;
	daemon_note_wake(ct, WAKE_MEMORY_EVENTS);
	if (kills)
		daemon_publish_oom(d, ct, kills, "memory.events");
	daemon_evaluate_now(d, ct, kills > 0);
}

static int on_bpf_event(const struct lxs_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct ct *ct = daemon_find_cgid(d, ev->cgid);
	if (!ct)
		return 0;
	d->st.events++;
	switch (ev->type) {
	case LXS_EV_OOM_KILL:
		ct->bpf.oom++;
		daemon_note_wake(ct, WAKE_BPF_OOM);
		daemon_publish_oom(d, ct, 1, "bpf");
		daemon_evaluate_now(d, ct, true);
		break;
	case LXS_EV_RECLAIM_STALL:
	case LXS_EV_DRECLAIM_STALL:
	case LXS_EV_RUNQ_DELAY:
		daemon_note_wake(ct, ev->type == LXS_EV_RUNQ_DELAY ? WAKE_BPF_RUNQ : WAKE_BPF_RECLAIM);
		daemon_evaluate_now(d, ct, false);
		break;
	default:
		break;
	}
	return 0;
}

static void on_bpf_ring(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	int n = lxs_bpf_consume(d->bpf, on_bpf_event, d);
	if (n < 0)
		log_warning("BPF ring buffer: %s", strerror(-n));
}

static void run_command(struct daemon *d, struct cmd *c)
{
	int rc = 0;
	char text[128] = "";
	switch (c->type) {
	case CMD_DECISION: {
		struct ct *ct = daemon_find(d, c->decision.vmid);
		struct policy_budget b;
		daemon_budget(d, &b);
		struct decision dec = c->decision;
		if (!policy_grant(&b, &dec)) {
			rc = -1;
			snprintf(text, sizeof(text), "refused: the host budget is exhausted");
			break;
		}
		rc = daemon_apply(d, &dec);
		if (ct)
			policy_commit(&ct->pol, &dec, daemon_mono_ms());
		snprintf(text, sizeof(text), "decision %llu", (unsigned long long)dec.seq);
		break;
	}
	case CMD_EVALUATE: {
		struct ct *ct = daemon_find(d, c->vmid);
		if (ct)
			daemon_evaluate_now(d, ct, true);
		else
			rc = -1;
		break;
	}
	case CMD_RELOAD:
		kill(getpid(), SIGHUP); /* the signalfd turns it into the one reload path */
		break;
	case CMD_CALL:
		if (c->fn)
			c->fn(c->arg);
		break;
	case CMD_MODEL_READY:
	case CMD_NONE:
		break;
	}
	if (c->reply)
		cmdq_reply(c->reply, rc, text);
}

void daemon_cancel_commands(struct daemon *d)
{
	if (!d || !d->cmdq)
		return;
	struct cmd batch[32];
	size_t n;
	while ((n = cmdq_drain(d->cmdq, batch, 32)) > 0)
		for (size_t i = 0; i < n; i++) {
			if (batch[i].type == CMD_CALL && batch[i].drop)
				batch[i].drop(batch[i].arg);
			if (batch[i].reply)
				cmdq_reply(batch[i].reply, -ECANCELED, "the daemon is stopping");
		}
}

static void on_cmdq(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct cmd batch[32];
	size_t n = cmdq_drain(d->cmdq, batch, 32);
	for (size_t i = 0; i < n; i++)
		run_command(d, &batch[i]);
}

static void on_timer(struct loop *l, int timer_id, uint64_t expirations, void *arg)
{
	daemon_tick(arg);
}

/* ---- set-up ---------------------------------------------------------------------------- */

static double read_meminfo_mb(const char *key, uint64_t *swap_bytes)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (swap_bytes)
		*swap_bytes = sampler_parse_swap_total(buf);
	const char *p = strstr(buf, key);
	unsigned long long kb;
	if (!p || sscanf(p + strlen(key), "%llu", &kb) != 1)
		return 0;
	return (double)kb / 1024.0;
}

static void apply_config(struct daemon *d, const struct lxcscale_config *cfg)
{
	d->cfg = cfg;
	policy_config_from_config(cfg, d->tiers, &d->pc);
	d->sopts.assumed_cores = cfg->cgroup.assumed_cores;
	d->sopts.assumed_ram_mb = cfg->cgroup.assumed_ram_mb;
}

static int open_hierarchy(struct daemon *d, char *err, size_t errlen)
{
	const struct lxcscale_config *c = d->cfg;
	struct cg_config cc = { .mount = c->cgroup.mount[0] ? c->cgroup.mount : NULL, .id_pattern = "%u" };
	char rel[CFG_STR_MAX];
	if (c->cgroup.root[0] == '/') {
		/* absolute: make it relative to the mount (found first) */
		cg_hier *probe = NULL;
		struct cg_config pc = cc;
		pc.root = "";
		cg_err e = cg_hier_open(&pc, &probe);
		if (e != CG_OK) {
			snprintf(err, errlen, "cgroup v2: %s", cg_strerror(e));
			return -1;
		}
		const char *mnt = cg_hier_mount(probe);
		size_t ml = strlen(mnt);
		if (strncmp(c->cgroup.root, mnt, ml) != 0 || (c->cgroup.root[ml] != '/' && c->cgroup.root[ml])) {
			snprintf(err, errlen, "cgroup.root %s is not below the cgroup v2 mount %s", c->cgroup.root, mnt);
			cg_hier_close(probe);
			return -1;
		}
		snprintf(rel, sizeof(rel), "%s", c->cgroup.root + ml + (c->cgroup.root[ml] == '/'));
		cg_hier_close(probe);
		cc.root = rel;
	} else {
		cc.root = c->cgroup.root[0] ? c->cgroup.root : NULL;
	}
	cg_err e = cg_hier_open(&cc, &d->hier);
	if (e != CG_OK) {
		snprintf(err, errlen, "cgroup v2 container root (%s): %s", c->cgroup.root[0] ? c->cgroup.root : "lxc",
			 cg_strerror(e));
		return -1;
	}
	if (regcomp(&d->id_re, c->cgroup.id_pattern, REG_EXTENDED | REG_NOSUB) == 0)
		d->id_re_ok = true;
	return 0;
}

void daemon_health(struct daemon *d, const char *name, enum api_health_state state, const char *fmt, ...)
{
	struct api_health *h = &d->health;
	unsigned i = 0;
	while (i < h->n && strcmp(h->c[i].name, name) != 0)
		i++;
	if (i == h->n) {
		if (h->n == API_HEALTH_MAX)
			return;
		h->n++;
		snprintf(h->c[i].name, sizeof(h->c[i].name), "%s", name);
	}
	h->c[i].state = state;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->c[i].detail, sizeof(h->c[i].detail), fmt, ap);
	va_end(ap);
	if (d->pub)
		pub_set_health(d->pub, h);
}

/* Can a limit be written here? The containers' cgroups have cpu.max and memory.max only
 * when their parent delegates the cpu and memory controllers. */
static void check_controllers(struct daemon *d)
{
	char path[PATH_MAX], buf[256] = "";
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg_hier_root(d->hier));
	FILE *f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	bool cpu = false, mem = false;
	for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		cpu = cpu || !strcmp(w, "cpu");
		mem = mem || !strcmp(w, "memory");
	}
	if (cpu && mem)
		daemon_health(d, "cgroup", API_HEALTH_OK, "cpu and memory controllers delegated below %s",
			      cg_hier_root(d->hier));
	else
		daemon_health(d, "cgroup", API_HEALTH_UNAVAILABLE,
			      "%s delegates no %s%s%s controller: limits cannot be written on this host "
			      "(a manual change is kept in the Proxmox config only)", path, cpu ? "" : "cpu",
			      !cpu && !mem ? " or " : "", mem ? "" : "memory");
}

/* The last run's decisions, from the suggestions file, for /api/v1/decisions. */
static void load_history(struct daemon *d)
{
	if (!d->cfg->suggestions_file[0])
		return;
	struct decision *h = calloc(DAEMON_DECISIONS_KEPT, sizeof(*h));
	if (!h)
		return;
	size_t n = suggestions_read_last(d->cfg->suggestions_file, h, DAEMON_DECISIONS_KEPT);
	uint64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		/* /api/v1/decisions keeps them in seq order: a line out of order (a file edited
		 * or appended by hand) is left out */
		if (h[i].seq <= prev || h[i].seq > d->seq)
			continue;
		pub_decision_history(d->pub, &h[i]);
		prev = h[i].seq;
	}
	if (n)
		log_info("decisions: %zu of the last run's read back from %s (seq %llu..%llu)", n,
			 d->cfg->suggestions_file, (unsigned long long)h[0].seq, (unsigned long long)h[n - 1].seq);
	free(h);
}

static void open_bpf(struct daemon *d)
{
	const struct lxcscale_config *c = d->cfg;
	if (!c->bpf.enabled || d->opts.no_bpf) {
		log_info("BPF: off (%s): cgroup files and PSI triggers only",
			 c->bpf.enabled ? "the caller runs without it" : "bpf.enabled: false");
		daemon_health(d, "bpf", API_HEALTH_OFF, "%s: cgroup files and PSI triggers only",
			      c->bpf.enabled ? "the caller runs without it" : "bpf.enabled: false");
		return;
	}
	struct lxs_bpf_opts o;
	lxs_bpf_opts_from_config(c, &o);
	o.container_level = cg_hier_level(d->hier);
	uint64_t parent = 0;
	if (cg_cgroup_id(cg_hier_root(d->hier), &parent) == CG_OK)
		o.lifecycle_parent = parent;
	char err[512] = "";
	int rc = lxs_bpf_open(&d->bpf, &o, err, sizeof(err));
	if (rc != 0) {
		log_warning("running without BPF (cgroup files and PSI only): %s", err[0] ? err : strerror(-rc));
		daemon_health(d, "bpf", API_HEALTH_UNAVAILABLE, "cannot load here (%.140s): cgroup files and PSI only",
			      err[0] ? err : strerror(-rc));
		d->bpf = NULL;
		return;
	}
	if (loop_add_fd(d->loop, lxs_bpf_ring_fd(d->bpf), EPOLLIN, on_bpf_ring, d) != 0)
		log_warning("BPF ring buffer: cannot watch it; per-tick aggregates only");
	d->st.bpf = true;
	d->bpf_drains.counts_cpu = (lxs_bpf_concerns(d->bpf) & LXS_CONCERN_RUNQ) != 0;
	log_info("BPF: attached as %s", lxs_bpf_attach_mode(d->bpf));
	daemon_health(d, "bpf", API_HEALTH_OK, "attached as %s, maps pinned at %s", lxs_bpf_attach_mode(d->bpf),
		      c->bpf.pin_path);
}

struct daemon *daemon_new(const struct lxcscale_config *cfg, struct loop *loop,
			  const struct daemon_opts *opts, char *err, size_t errlen)
{
	struct daemon *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (opts)
		d->opts = *opts;
	d->loop = loop;
	d->timer_id = -1;
	d->roots = (struct ctextra_roots){ "/sys/class/net", "/proc", ctextra_ifindex_new() };
	if (!d->roots.ifindex) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	apply_config(d, cfg);
	if (features_select_from_config(cfg, &d->sel, err, errlen) != 0)
		goto fail;
	char pe[256];
	if (policy_params_validate(&d->pc.defaults, pe, sizeof(pe)) != 0) {
		snprintf(err, errlen, "scaling: %s", pe);
		goto fail;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	d->host_cpus = ncpu > 0 ? (double)ncpu : 1;
	d->host_ram_mb = read_meminfo_mb("MemTotal:", &d->sopts.host_swap_bytes);

	struct model_opts mo;
	model_opts_from_config(cfg, &d->sel, &mo);
	char note[512];
	d->model = model_new(&mo, note, sizeof(note));
	if (!d->model) {
		snprintf(err, errlen, "model: cannot create it (out of memory or bad model.* values)");
		goto fail;
	}
	if (note[0])
		log_info("model: %s", note);
	if (!d->opts.no_threads && model_start(d->model) != 0) {
		snprintf(err, errlen, "model: cannot start its worker thread");
		goto fail;
	}
	if (cfg->suggestions_file[0]) {
		char se[512];
		/* decisions are numbered on from the last run's (the journal may know a later one:
		 * daemon_start_actuation) */
		d->seq = suggestions_last_seq(cfg->suggestions_file);
		d->sugg = suggestions_open(cfg->suggestions_file, 64ull << 20, se, sizeof(se));
		if (!d->sugg)
			log_warning("suggestions file: %s; decisions are only logged", se);
	}
	if (cfg->record_file[0]) {
		char re[512];
		d->rec = recorder_open(cfg->record_file, (uint32_t)cfg->sample_interval_ms, daemon_wall_ms(),
				       re, sizeof(re));
		if (!d->rec)
			log_error("record_file: %s; not recording", re);
		else
			log_info("recording every sample and decision to %s (lxcscale replay reads it)",
				 cfg->record_file);
	}
	if (cfg->data_file[0] && cfg->metrics_interval_seconds > 0 && !d->opts.no_threads) {
		d->mw = metrics_writer_start(cfg->data_file, MF_DEFAULT_MAX_ENTRIES);
		if (!d->mw)
			log_warning("metrics history %s: cannot start its writer", cfg->data_file);
	}
	errno = 0;
	d->cmdq = cmdq_new(1024);
	if (!d->cmdq) {
		/* an eventfd: EMFILE when the fd limit is reached, which is not "out of memory" */
		snprintf(err, errlen, "cannot create the command queue: %s", strerror(errno ? errno : ENOMEM));
		goto fail;
	}
	d->pub = pub_new(300, DAEMON_DECISIONS_KEPT);
	if (!d->pub) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	load_history(d);
	if (open_hierarchy(d, err, errlen) != 0)
		goto fail;
	check_controllers(d);
	daemon_health(d, "journal", API_HEALTH_OFF, "dry run: nothing is journalled or written");
	open_bpf(d);
	if (!d->opts.no_threads)
		daemon_start_config_reads(d);
	cg_err e = cg_ctset_open(d->hier, &d->ctset, on_ctset_change, d);
	if (e != CG_OK) {
		snprintf(err, errlen, "container set at %s: %s", cg_hier_root(d->hier), cg_strerror(e));
		goto fail;
	}
	if (d->bpf) {
		/* The first scan has registered the live containers: pins reused after a crash
		 * still hold the ones that went away meanwhile; forget those. */
		int pruned = lxs_bpf_prune(d->bpf);
		if (pruned > 0)
			log_info("BPF: forgot %d container entries left from the previous run", pruned);
		else if (pruned < 0)
			log_warning("BPF: cannot prune entries of the previous run: %s", strerror(-pruned));
	}
	if (loop_add_fd(loop, cg_ctset_fd(d->ctset), EPOLLIN, on_ctset, d) != 0 ||
	    loop_add_fd(loop, cmdq_fd(d->cmdq), EPOLLIN, on_cmdq, d) != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		goto fail;
	}
	if (!d->opts.no_timer) {
		uint64_t ms = (uint64_t)cfg->sample_interval_ms;
		d->timer_id = loop_add_timer(loop, ms, ms, on_timer, d);
		if (d->timer_id < 0) {
			snprintf(err, errlen, "tick timer: %s", strerror(errno));
			goto fail;
		}
	}
	int64_t now = daemon_mono_ms();
	d->next_metrics_ms = now + (int64_t)cfg->metrics_interval_seconds * 1000;
	d->metrics_wall_mark_ms = now;
	d->next_status_ms = now;
	/* Start-up parsed the kernel's BTF (libbpf), the config and the first scan, and freed
	 * most of it: give those pages back now rather than at the first periodic trim. */
	malloc_trim(0);
	d->next_trim_ms = now + TRIM_EVERY_MS;
	log_info("daemon: %zu containers under %s, tick %d ms, %u model features, %s%s",
		 d->n_cts, cg_hier_root(d->hier), cfg->sample_interval_ms, d->sel.n,
		 cfg->scaling.dry_run ? "dry run" : "live", d->bpf ? ", BPF on" : ", BPF off");
	return d;
fail:
	daemon_free(d);
	return NULL;
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	if (d->timer_id >= 0)
		loop_del_timer(d->loop, d->timer_id);
	daemon_act_stop(d);
	while (d->n_cts)
		daemon_remove_ct(d, d->cts[d->n_cts - 1]);
	daemon_free_dead(d);
	if (d->ctset) {
		loop_del_fd(d->loop, cg_ctset_fd(d->ctset));
		cg_ctset_close(d->ctset);
	}
	if (d->cmdq) {
		daemon_cancel_commands(d);
		loop_del_fd(d->loop, cmdq_fd(d->cmdq));
		cmdq_free(d->cmdq);
	}
	if (d->bpf) {
		loop_del_fd(d->loop, lxs_bpf_ring_fd(d->bpf));
		lxs_bpf_close(d->bpf, true);
	}
	metrics_writer_stop(d->mw);
	model_free(d->model);
	suggestions_close(d->sugg);
	if (d->rec) {
		char re[512];
		if (recorder_close(d->rec, re, sizeof(re)) != 0)
			log_warning("record_file: %s", re);
	}
	if (d->id_re_ok)
		regfree(&d->id_re);
	cg_hier_close(d->hier);
	free(d->cts);
	free(d->dead);
	free(d->props);
	free(d->due);
	free(d->buckets);
	free(d->cgid_tab);
	free(d->deltas);
	pub_free(d->pub);
	ctextra_ifindex_free(d->roots.ifindex);
	free(d);
}

void daemon_reconfigure(struct daemon *d, const struct lxcscale_config *cfg)
{
	const struct lxcscale_config *old = d->cfg;
	if (strcmp(old->cgroup.root, cfg->cgroup.root) || strcmp(old->cgroup.mount, cfg->cgroup.mount) ||
	    old->model.features.n != cfg->model.features.n || old->history_length != cfg->history_length)
		log_warning("reload: cgroup.*, model.features and history_length take effect at the next start");
	if (strcmp(old->record_file, cfg->record_file))
		log_warning("reload: record_file takes effect at the next start");
	/* The persister is not restarted on a reload: its queue, retries and breakers are tied to
	 * the journal's open changes and to the actuator's in-flight shrinks, and a new journal
	 * or backend would need the start-up replay and reconcile (pct calls for every
	 * container) on the loop. A restart does all that, in the right order. */
	if (d->act && (strcmp(old->journal_file, cfg->journal_file) ||
		       memcmp(&old->persist, &cfg->persist, sizeof(cfg->persist)) ||
		       memcmp(&old->proxmox_api, &cfg->proxmox_api, sizeof(cfg->proxmox_api)) ||
		       memcmp(&old->circuit_breaker, &cfg->circuit_breaker, sizeof(cfg->circuit_breaker))))
		log_warning("reload: journal_file, persist.*, proxmox_api.* and circuit_breaker.* take "
			    "effect at the next start");
	if (d->act)
		actuate_reconfigure(d->act, cfg); /* notifications.*: restarted, logged */
	/* Always switch: the caller frees the old configuration, and the policy's tier and
	 * ignore lists point into it. config_finalize() already enforced the cross-key rules. */
	apply_config(d, cfg);
	char pe[256];
	if (policy_params_validate(&d->pc.defaults, pe, sizeof(pe)) != 0)
		log_error("reload: scaling: %s", pe);
	if (d->timer_id >= 0 && old->sample_interval_ms != cfg->sample_interval_ms)
		loop_set_timer(d->loop, d->timer_id, (uint64_t)cfg->sample_interval_ms,
			       (uint64_t)cfg->sample_interval_ms);
}

void daemon_set_apply(struct daemon *d, daemon_apply_fn fn, void *ctx)
{
	d->apply = fn;
	d->apply_ctx = ctx;
}

struct cmdq *daemon_cmdq(struct daemon *d)
{
	return d->cmdq;
}

void daemon_get_stats(struct daemon *d, struct daemon_stats *st)
{
	*st = d->st;
	st->containers = d->n_cts;
}

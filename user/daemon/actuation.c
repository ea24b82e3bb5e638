/*
 * daemon/actuation.c — the daemon's decisions made real, and where a container's allocation
 * comes from.
 *
 * Actuation (daemon_start_actuation, not in dry run): act/act.h opens the journal, replays
 * it and reconciles every container with its Proxmox config before the first tick, then
 * runs the persister; the daemon's apply hook hands every decision, policy or manual, to
 * actuate_decision() (journal -> cgroup write -> read-back -> persister), the persister's
 * eventfd sits in the loop, and every tick advances memory shrinks.
 *
 * Allocation: what a container "has" is what its Proxmox config says when pct (or the
 * REST API) is there to ask: read once at discovery and again after each persist, on the
 * pve/cfgread.h worker, never on the loop. Between an applied change and its persist the
 * change itself is the allocation. Without a config the cgroup limits are used, and
 * without those cgroup.assumed_* (collect/sampler.h).
 *
 * A config also changes under us: an admin's `pct set`, a tag added in the web UI. Every
 * CONF_LOOK_EVERY_MS each container's <persist.config_dir>/<vmid>.conf is stat()ed (cheap,
 * also on pmxcfs) and a change of its mtime, size or inode asks for a read; besides,
 * persist.reread_seconds asks anyway, for configs that live elsewhere. Each read also
 * brings the tags: tags.ignore leaves the container alone, <tags.tier_prefix><name> puts
 * it in tiers.<name> (daemon_ct_tier: a tier's containers list wins), with no reload.
 */
#include "daemon/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/options.h"
#include "base/log.h"

#define CFGREAD_QUEUE 4096
#define CONF_LOOK_EVERY_MS 2000

/* ---- allocation ------------------------------------------------------------------------ */

void daemon_act_alloc(const struct ct *ct, struct alloc *a, struct feat_raw *raw)
{
	if (ct->cfg_cores > 0) {
		a->cores = ct->cfg_cores;
		a->cores_known = true;
		raw->cpu_cores = ct->cfg_cores;
		raw->known |= RAW_BIT(RAW_CPU_CORES);
	}
	if (ct->cfg_ram_mb > 0) {
		a->ram_mb = ct->cfg_ram_mb;
		a->ram_known = true;
	}
	if (ct->shrink_to_mb > 0) {
		a->ram_mb = ct->shrink_to_mb;
		a->ram_known = true;
	}
}

static void ask_config(struct daemon *d, struct ct *ct)
{
	int64_t reread_ms = (int64_t)d->cfg->persist.reread_seconds * 1000;
	ct->next_reread_ms = reread_ms > 0 ? daemon_mono_ms() + reread_ms : INT64_MAX;
	if (d->cfgr && cfgread_request(d->cfgr, ct->vmid, ct->alloc_changes) != 0)
		log_warning("container %u: Proxmox config read not queued (queue full); "
			    "keeping its current allocation", ct->vmid);
}

/* ---- noticing that a config changed ----------------------------------------------------- */

/* Stats the container's <vmid>.conf: true when it differs from what was seen before (or
 * the last look came too soon after a write to be sure). The first look only remembers. */
static bool conf_changed(struct daemon *d, struct ct *ct)
{
	const char *dir = d->cfg->persist.config_dir;
	if (!dir[0])
		return false;
	char path[CFG_STR_MAX + 32];
	snprintf(path, sizeof(path), "%s/%u.conf", dir, ct->vmid);
	struct stat st;
	if (stat(path, &st) != 0) {
		bool was = ct->conf_seen;
		ct->conf_seen = ct->conf_recent = false;
		return was; /* it went: the read says what is left */
	}
	int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	bool changed = ct->conf_seen && (ct->conf_recent || mtime_ns != ct->conf_mtime_ns ||
					 (int64_t)st.st_size != ct->conf_size || (uint64_t)st.st_ino != ct->conf_ino);
	bool first = !ct->conf_seen;
	ct->conf_seen = true;
	ct->conf_mtime_ns = mtime_ns;
	ct->conf_size = (int64_t)st.st_size;
	ct->conf_ino = (uint64_t)st.st_ino;
	/* pmxcfs keeps whole seconds: a second write in the second of the first may keep both */
	ct->conf_recent = !first && st.st_mtim.tv_sec + 1 >= daemon_wall_ms() / 1000;
	return changed;
}

static void look_at_configs(struct daemon *d, int64_t now_ms)
{
	if (now_ms < d->next_conf_look_ms)
		return;
	d->next_conf_look_ms = now_ms + CONF_LOOK_EVERY_MS;
	for (size_t i = 0; i < d->n_cts; i++) {
		struct ct *ct = d->cts[i];
		if (ct->persist_pending) {
			/* the config does not hold our newest change yet: a read now would be taken
			 * as the allocation and undo it; the persist reads it again */
			conf_changed(d, ct);
			continue;
		}
		if (conf_changed(d, ct)) {
			log_debug("container %u: its Proxmox config changed; reading it again", ct->vmid);
			ask_config(d, ct);
		} else if (now_ms >= ct->next_reread_ms) {
			ask_config(d, ct);
		}
	}
}

void daemon_act_ct_added(struct daemon *d, struct ct *ct)
{
	conf_changed(d, ct); /* the baseline: the read below covers what is there now */
	ask_config(d, ct);
	/* spread the periodic rereads of containers found together over the period */
	if (ct->next_reread_ms != INT64_MAX)
		ct->next_reread_ms += (int64_t)(ct->slot * 7919u % 1000u) * d->cfg->persist.reread_seconds;
}

/* ---- what the config's tags say ---------------------------------------------------------- */

static void take_tags(struct daemon *d, struct ct *ct, const struct pve_limits *l)
{
	const struct lxcscale_config *c = d->cfg;
	bool ignored = c->tags.ignore[0] && pve_tags_has(l->tags, c->tags.ignore);
	char want[CFG_TIER_NAME_MAX] = "";
	if (c->tags.tier_prefix[0] && !pve_tags_suffix(l->tags, c->tags.tier_prefix, want, sizeof(want)))
		want[0] = '\0';
	int tier = -1;
	for (int i = 0; want[0] && i < c->n_tiers && i < CFG_TIERS_MAX; i++)
		if (!strcasecmp(c->tiers[i].name, want)) {
			tier = i;
			break;
		}
	if (ignored != ct->tag_ignored)
		log_info(ignored ? "container %u: Proxmox tag %s: watched, never scaled until the tag goes"
				 : "container %u: Proxmox tag %s gone: scaled again", ct->vmid, c->tags.ignore);
	if (strcmp(want, ct->tag_tier_name) != 0) {
		int listed = config_tier_of(c, ct->vmid);
		if (!want[0])
			log_info("container %u: tier tag %s%s gone: %s%s", ct->vmid, c->tags.tier_prefix,
				 ct->tag_tier_name, listed >= 0 ? "tiers." : "the global scaling",
				 listed >= 0 ? c->tiers[listed].name : "");
		else if (tier < 0)
			log_warning("container %u: Proxmox tag %s%s names no tier of the config: %s%s", ct->vmid,
				    c->tags.tier_prefix, want, listed >= 0 ? "tiers." : "the global scaling",
				    listed >= 0 ? c->tiers[listed].name : "");
		else if (listed >= 0 && listed != tier)
			log_warning("container %u: Proxmox tag %s%s asks for tiers.%s, but tiers.%s lists it: "
				    "the list wins", ct->vmid, c->tags.tier_prefix, want, c->tiers[tier].name,
				    c->tiers[listed].name);
		else
			log_info("container %u: tiers.%s from its Proxmox tag %s%s", ct->vmid, c->tiers[tier].name,
				 c->tags.tier_prefix, want);
	}
	ct->tag_ignored = ignored;
	ct->tag_tier = tier;
	memcpy(ct->tag_tier_name, want, sizeof(ct->tag_tier_name));
}

static void take_configs(struct daemon *d)
{
	struct cfgread_result res[16];
	size_t n;
	while ((n = cfgread_take(d->cfgr, res, 16)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct ct *ct = daemon_find(d, res[i].vmid);
			if (!ct)
				continue;
			if (res[i].tag != ct->alloc_changes) {
				/* asked before a change applied since: the persist of that change
				 * asks again */
				log_debug("container %u: config read from before the latest change "
					  "dropped", ct->vmid);
				continue;
			}
			if (res[i].status != 0) {
				log_warning("container %u: %s; allocation from its cgroup limits", ct->vmid,
					    res[i].detail);
				continue;
			}
			double cores = pve_limits_cpu(&res[i].limits);
			if (d->act)
				actuate_config_has_cpulimit(d->act, ct->vmid, res[i].limits.cpulimit > 0);
			double ram = (double)res[i].limits.memory_mb;
			if (cores != ct->cfg_cores || ram != ct->cfg_ram_mb)
				log_info("container %u: allocation from its Proxmox config: %s%g cores, %.0f MiB",
					 ct->vmid, cores > 0 ? "" : "(no cores key: cgroup) ", cores, ram);
			ct->cfg_cores = cores;
			ct->cfg_ram_mb = ram;
			memcpy(ct->name, res[i].limits.hostname, sizeof(ct->name));
			take_tags(d, ct, &res[i].limits);
			ct->pub_stale = true;
		}
	}
}

/* Can the Proxmox config be read here at all? Said once at start. */
static bool config_source(const struct lxcscale_config *c, char *why, size_t len)
{
	if (c->persist.backend == CFG_PERSIST_API) {
		snprintf(why, len, "the Proxmox REST API at %s", c->proxmox_api.url[0] ? c->proxmox_api.url : "(no url)");
		return c->proxmox_api.url[0] != '\0';
	}
	bool ok = access(c->persist.pct_path, X_OK) == 0;
	snprintf(why, len, "%s %s", ok ? "pct at" : "no pct at", c->persist.pct_path);
	return ok;
}

int daemon_start_config_reads(struct daemon *d)
{
	char why[CFG_STR_MAX + 64];
	if (!config_source(d->cfg, why, sizeof(why))) {
		log_info("allocation: cgroup limits, else cgroup.assumed_cores / assumed_ram_mb (%s)", why);
		return 0;
	}
	struct persist_settings ps;
	persist_settings_from_config(d->cfg, &ps);
	int rc = cfgread_start(&ps, CFGREAD_QUEUE, &d->cfgr);
	if (rc < 0) {
		log_error("allocation: cannot start the config reader (%s); using cgroup limits", strerror(-rc));
		return rc;
	}
	log_info("allocation: from each container's Proxmox config (%s), read off the loop", why);
	for (size_t i = 0; i < d->n_cts; i++)
		ask_config(d, d->cts[i]);
	return 0;
}

/* ---- actuation ------------------------------------------------------------------------- */

static int apply_hook(void *ctx, const struct decision *dec)
{
	struct daemon *d = ctx;
	struct actuator_outcome *out = &d->last_outcome;
	int rc = actuate_decision(d->act, dec, out);
	struct ct *ct = daemon_find(d, dec->vmid);
	if (!ct || rc != 0 || (out->status != ACT_APPLIED && out->status != ACT_PERSIST_ONLY &&
			       out->status != ACT_SHRINKING))
		return rc;
	bool cpu = dec->cpu_change != DECISION_NONE, mem = dec->mem_change != DECISION_NONE;
	if (!cpu && !mem)
		return rc;
	/* A config read asked before this change is stale from now on (take_configs). */
	ct->alloc_changes++;
	if (out->seq)
		ct->last_change_seq = out->seq;
	if (dec->persist)
		ct->persist_pending = true;
	/* The change is the allocation at once (a second decision within the tick starts from
	 * it) and until the config says otherwise: cfg_* keep it across the next samples when
	 * the allocation is the config's; a cgroup-based one is read back from the kernel. */
	daemon_budget_track(d, &ct->alloc, -1);
	if (cpu) {
		ct->alloc.cores = dec->cpu_to;
		ct->alloc.cores_known = true;
		if (ct->cfg_cores > 0)
			ct->cfg_cores = dec->cpu_to;
	}
	if (mem) {
		ct->alloc.ram_mb = (double)dec->mem_to_mb;
		ct->alloc.ram_known = true;
		if (ct->cfg_ram_mb > 0 && out->status != ACT_SHRINKING)
			ct->cfg_ram_mb = (double)dec->mem_to_mb;
		ct->shrink_to_mb = out->status == ACT_SHRINKING ? (double)dec->mem_to_mb : 0;
	}
	daemon_budget_track(d, &ct->alloc, +1);
	return rc;
}

static void event_hook(void *ctx, const struct actuator_event *e)
{
	struct daemon *d = ctx;
	if (e->kind == ACT_EV_PERSIST_FAILED) /* retried until it succeeds; broken until then */
		daemon_health(d, "persist", API_HEALTH_FAILED, "container %u: %.170s", e->vmid, e->detail);
	struct ct *ct = daemon_find(d, e->vmid);
	if (!ct)
		return;
	switch (e->kind) {
	case ACT_EV_SHRINK_DONE:
		if (ct->cfg_ram_mb > 0 && e->mem_mb)
			ct->cfg_ram_mb = (double)e->mem_mb;
		ct->shrink_to_mb = 0;
		ct->alloc_changes++;
		break;
	case ACT_EV_SHRINK_ABANDONED:
		ct->shrink_to_mb = 0;
		break;
	case ACT_EV_PERSISTED:
		/* a newer change still waiting for its persist would not be in the config yet:
		 * its own persist asks */
		if (e->seq >= ct->last_change_seq) {
			ct->persist_pending = false;
			conf_changed(d, ct); /* our own write: the read asked here covers it */
			ask_config(d, ct);
		}
		daemon_health(d, "persist", API_HEALTH_OK, "last persist: container %u (%.150s)", e->vmid, e->detail);
		break;
	case ACT_EV_PERSIST_GONE: /* its changes are dropped: nothing left to wait for */
		ct->persist_pending = false;
		break;
	default:
		break;
	}
}

static void on_persist(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	actuate_on_fd(d->act);
}

int daemon_start_actuation(struct daemon *d, char *err, size_t errlen)
{
	if (d->act)
		return 0;
	int rc = actuate_start(d->cfg, d->hier, &d->act);
	if (rc < 0) {
		snprintf(err, errlen, "actuation: %s (journal %s)", strerror(-rc), d->cfg->journal_file);
		d->act = NULL;
		return rc;
	}
	if (loop_add_fd(d->loop, actuate_fd(d->act), EPOLLIN, on_persist, d) != 0) {
		rc = -errno;
		snprintf(err, errlen, "actuation: cannot watch the persister: %s", strerror(errno));
		actuate_stop(d->act);
		d->act = NULL;
		return rc;
	}
	actuate_set_event_hook(d->act, event_hook, d);
	daemon_set_apply(d, apply_hook, d);
	if (actuate_last_seq(d->act) > d->seq) /* one numbering for decisions and the journal */
		d->seq = actuate_last_seq(d->act);
	if (d->seq)
		log_info("decisions: numbered on from seq %llu (the last run's)", (unsigned long long)d->seq);
	daemon_health(d, "journal", API_HEALTH_OK, "live: each change journalled in %s before it is written",
		      d->cfg->journal_file);
	daemon_health(d, "persist", API_HEALTH_OK, "no persist has failed");
	return 0;
}

bool daemon_actuating(const struct daemon *d)
{
	return d->act != NULL;
}

void daemon_act_tick(struct daemon *d)
{
	if (d->cfgr) {
		look_at_configs(d, daemon_mono_ms());
		take_configs(d);
	}
	if (d->act)
		actuate_tick(d->act);
}

void daemon_act_stop(struct daemon *d)
{
	if (d->act) {
		daemon_set_apply(d, NULL, NULL);
		loop_del_fd(d->loop, actuate_fd(d->act));
		actuate_stop(d->act);
		d->act = NULL;
	}
	cfgread_stop(d->cfgr);
	d->cfgr = NULL;
}

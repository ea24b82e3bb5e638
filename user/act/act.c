/*
 * act/act.c — wiring of journal, reconcile, persister, notifier and actuator (act/act.h).
 *
 * Start-up order matters: the journal is replayed and reconciled synchronously before the
 * persister thread exists, so nothing else touches the containers meanwhile; the config
 * baseline then covers every container found under the cgroup root.
 */
#include "act/act.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/notifier.h"
#include "act/options.h"
#include "base/log.h"

#define RETIRING_MAX 4         /* old notifiers still sending what was queued for them */
#define RETIRE_FLUSH_MS 30000  /* at most this for their queue; then what is left is dropped */

struct actuate {
	struct journal *j;
	struct persister *p;
	struct notifier *n;
	struct notify_settings ns;           /* the running notifier's */
	pthread_t retiring[RETIRING_MAX];
	size_t n_retiring;
	struct actuator *act;
	struct reconcile_report report;
	actuate_event_fn hook;
	void *hook_ctx;
};

static void reconcile_log(void *ud, enum reconcile_level lvl, const char *msg)
{
	(void)ud;
	log_msg(lvl == RECONCILE_INFO ? LOGL_INFO : lvl == RECONCILE_WARN ? LOGL_WARNING : LOGL_ERROR,
	        "reconcile: %s", msg);
}

/* The journal's folder, created 0700 when missing (one level: /var/lib/lxcscale). */
static int ensure_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	if (strlen(path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s", path);
	const char *dir = dirname(tmp);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int actuate_start(const struct lxcscale_config *c, const cg_hier *h, struct actuate **out)
{
	*out = NULL;
	struct actuate *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	struct persist_settings ps;
	struct notify_settings ns;
	char why[256];
	persist_settings_from_config(c, &ps);
	notify_settings_from_config(c, &ns);
	if (ps.api_token_secret[0])
		log_add_secret(ps.api_token_secret);
	if (ns.gotify_token[0])
		log_add_secret(ns.gotify_token);
	int rc = persist_settings_check(&ps, why, sizeof(why));
	if (rc == 0 && (rc = notify_settings_check(&ns, why, sizeof(why))) != 0)
		log_error("notifications: %s", why);
	else if (rc)
		log_error("persist: %s", why);

	struct journal_open_info info;
	if (rc == 0 && (rc = ensure_dir_of(c->journal_file)) < 0)
		log_error("journal %s: %s", c->journal_file, strerror(-rc));
	if (rc == 0 && (rc = journal_open(c->journal_file, &a->j, &info)) < 0)
		log_error("journal %s: %s: refusing to scale without it", c->journal_file, strerror(-rc));
	if (rc) {
		free(a);
		return rc;
	}
	log_info("journal %s: %zu records, %zu open change(s)%s", c->journal_file, info.records,
	         info.open_changes, info.torn_bytes ? ", a torn last record was cut off" : "");
	if (info.corrupt)
		log_warning("journal %s: %zu damaged record(s) skipped", c->journal_file, info.corrupt);

	reconcile_journal(a->j, h, &ps, CG_MEM_HEADROOM_DEFAULT, reconcile_log, NULL, &a->report);
	cg_ctset *set;
	if (cg_ctset_open(h, &set, NULL, NULL) == CG_OK) {
		size_t n = cg_ctset_count(set);
		uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
		if (ids) {
			n = cg_ctset_ids(set, ids, n);
			size_t k = 0;
			for (size_t i = 0; i < n; i++)
				if (!config_ignored(c, ids[i]))
					ids[k++] = ids[i];
			reconcile_baseline(h, &ps, ids, k, CG_MEM_HEADROOM_DEFAULT, c->tags.ignore, reconcile_log, NULL,
			                   &a->report, NULL);
			free(ids);
		}
		cg_ctset_close(set);
	}
	log_info("reconcile: %zu persisted, %zu cgroup(s) set back to their config, %zu cancelled, "
	         "%zu left open, %zu changed by hand", a->report.persisted, a->report.restored,
	         a->report.cancelled, a->report.failed, a->report.drift);

	struct actuator_settings as;
	actuator_settings_default(&as);
	/* scaling.memory_headroom_mb / memory_shrink_step_mb (the shrink needs >= 1 MiB steps) */
	as.mem_headroom_bytes = (uint64_t)c->scaling.memory_headroom_mb << 20;
	if (c->scaling.memory_shrink_step_mb >= 1)
		as.shrink_step_bytes = (uint64_t)c->scaling.memory_shrink_step_mb << 20;
	a->ns = ns;
	if ((rc = persister_start(&ps, &a->p)) < 0 || (rc = notify_start(&ns, &a->n)) < 0 ||
	    (rc = actuator_new(&as, h, a->j, a->p, &a->act)) < 0) {
		actuate_stop(a);
		return rc;
	}
	*out = a;
	return 0;
}

static void join_retiring(struct actuate *a)
{
	for (size_t i = 0; i < a->n_retiring; i++)
		pthread_join(a->retiring[i], NULL);
	a->n_retiring = 0;
}

void actuate_stop(struct actuate *a)
{
	if (!a)
		return;
	join_retiring(a);
	if (a->p) {
		persister_stop(a->p, true); /* one last try; the journal keeps what fails */
		a->p = NULL;
	}
	notify_stop(a->n);
	actuator_free(a->act);
	journal_close(a->j);
	explicit_bzero(&a->ns, sizeof(a->ns));
	free(a);
}

int actuate_fd(const struct actuate *a)
{
	return persister_eventfd(a->p);
}

static void handle_events(struct actuate *a)
{
	struct actuator_event ev[16];
	size_t n;
	while ((n = actuator_take_events(a->act, ev, 16)) > 0) {
		for (size_t i = 0; i < n; i++) {
			const struct actuator_event *e = &ev[i];
			switch (e->kind) {
			case ACT_EV_PERSISTED:
				log_info("ct %u: persisted (%s)", e->vmid, e->detail);
				break;
			case ACT_EV_PERSIST_LOCKED:
				log_warning("ct %u: %s", e->vmid, e->detail);
				break;
			case ACT_EV_SHRINK_DONE:
				log_info("ct %u: %s", e->vmid, e->detail);
				notify_send(a->n, NOTIFY_SCALE, e->vmid, "Memory decreased",
				            "CT %u: memory now %llu MiB", e->vmid,
				            (unsigned long long)e->mem_mb);
				break;
			case ACT_EV_SHRINK_ABANDONED:
				log_warning("ct %u: %s", e->vmid, e->detail);
				notify_send(a->n, NOTIFY_INFO, e->vmid, "Memory decrease abandoned",
				            "CT %u: %s", e->vmid, e->detail);
				break;
			case ACT_EV_PERSIST_GONE: /* its config went while its cgroup had the change */
			case ACT_EV_PERSIST_FAILED:
				log_error("ct %u: persisting failed: %s", e->vmid, e->detail);
				notify_send(a->n, NOTIFY_FAILURE, e->vmid, "Persisting a scaling change failed",
				            "CT %u: %s", e->vmid, e->detail);
				break;
			}
			if (a->hook)
				a->hook(a->hook_ctx, e);
		}
	}
}

void actuate_set_event_hook(struct actuate *a, actuate_event_fn fn, void *ctx)
{
	a->hook = fn;
	a->hook_ctx = ctx;
}

void actuate_get_stats(const struct actuate *a, struct actuate_stats *st)
{
	st->persist_pending = persister_pending(a->p);
	st->shrinks = actuator_shrinks(a->act);
	journal_open_changes(a->j, &st->journal_open);
}

void actuate_on_fd(struct actuate *a)
{
	actuator_drain_persister(a->act);
	handle_events(a);
}

void actuate_config_has_cpulimit(struct actuate *a, uint32_t vmid, bool has)
{
	actuator_config_has_cpulimit(a->act, vmid, has);
}

void actuate_tick(struct actuate *a)
{
	actuator_tick(a->act);
	handle_events(a);
}

int actuate_decision(struct actuate *a, const struct decision *d, struct actuator_outcome *out)
{
	int rc = actuator_apply(a->act, d, out);
	int lvl = rc == 0 ? (out->error ? LOGL_WARNING : LOGL_INFO) : out->status == ACT_REFUSED && out->error == -EINVAL
	                                ? LOGL_WARNING : LOGL_ERROR;
	/* Name only the resources the decision changes: "memory 0 -> 0 MiB" on a CPU-only
	 * decision reads like a bug to whoever greps the log. */
	char cpu[64] = "", mem[64] = "";
	if (d->cpu_change != DECISION_NONE)
		snprintf(cpu, sizeof(cpu), ", cpu %.2f -> %.2f", d->cpu_from, d->cpu_to);
	if (d->mem_change != DECISION_NONE)
		snprintf(mem, sizeof(mem), ", memory %llu -> %llu MiB", (unsigned long long)d->mem_from_mb,
		         (unsigned long long)d->mem_to_mb);
	log_msg(lvl, "ct %u: %s (%s)%s%s, seq %llu: %s", d->vmid, actuator_status_name(out->status),
	        decision_reason_name(d->reason), cpu, mem, (unsigned long long)out->seq, out->detail);
	if (rc == 0 && (out->status == ACT_APPLIED || out->status == ACT_PERSIST_ONLY)) {
		if (d->cpu_change != DECISION_NONE)
			notify_send(a->n, NOTIFY_SCALE, d->vmid,
			            d->cpu_to > d->cpu_from ? "CPU increased" : "CPU decreased",
			            "CT %u: cores %.2f -> %.2f (%s)", d->vmid, d->cpu_from, d->cpu_to,
			            decision_reason_name(d->reason));
		if (d->mem_change != DECISION_NONE && out->status != ACT_SHRINKING)
			notify_send(a->n, NOTIFY_SCALE, d->vmid,
			            d->mem_to_mb > d->mem_from_mb ? "Memory increased" : "Memory decreased",
			            "CT %u: memory %llu -> %llu MiB (%s)", d->vmid,
			            (unsigned long long)d->mem_from_mb, (unsigned long long)d->mem_to_mb,
			            decision_reason_name(d->reason));
	} else if (rc != 0 && out->status == ACT_REFUSED && out->error != -EINVAL) {
		notify_send(a->n, NOTIFY_FAILURE, d->vmid, "Scaling refused",
		            "CT %u: %s", d->vmid, out->detail);
	}
	handle_events(a);
	return rc;
}

const struct reconcile_report *actuate_reconcile_report(const struct actuate *a)
{
	return &a->report;
}

/* ---- reload ------------------------------------------------------------------------------ */

static bool notify_settings_same(const struct notify_settings *x, const struct notify_settings *y)
{
	return !strcmp(x->webhook_url, y->webhook_url) && !strcmp(x->gotify_url, y->gotify_url) &&
	       !strcmp(x->gotify_token, y->gotify_token) && !strcmp(x->kuma_push_url, y->kuma_push_url) &&
	       x->timeout_ms == y->timeout_ms && x->priority == y->priority && x->verify_tls == y->verify_tls &&
	       !strcmp(x->ca_file, y->ca_file) && x->fail_threshold == y->fail_threshold &&
	       x->pause_events == y->pause_events && x->queue_max == y->queue_max;
}

/* Off the loop: the old notifier sends what was queued for its endpoints, then stops. */
static void *retire_notifier(void *arg)
{
	struct notifier *n = arg;
	notify_flush(n, RETIRE_FLUSH_MS);
	notify_stop(n);
	return NULL;
}

int actuate_reconfigure(struct actuate *a, const struct lxcscale_config *c)
{
	struct notify_settings ns;
	notify_settings_from_config(c, &ns);
	if (notify_settings_same(&ns, &a->ns)) {
		explicit_bzero(&ns, sizeof(ns));
		return 0;
	}
	char why[256];
	struct notifier *n = NULL;
	int rc = notify_settings_check(&ns, why, sizeof(why));
	if (rc != 0)
		log_error("reload: notifications: %s; the running ones stay", why);
	else if ((rc = notify_start(&ns, &n)) < 0)
		log_error("reload: notifications: cannot start them (%s); the running ones stay", strerror(-rc));
	if (rc != 0) {
		explicit_bzero(&ns, sizeof(ns));
		return rc;
	}
	if (ns.gotify_token[0])
		log_add_secret(ns.gotify_token);
	if (a->n_retiring == RETIRING_MAX)
		join_retiring(a); /* four reloads while endpoints hang: wait for them here */
	struct notifier *old = a->n;
	a->n = n;
	explicit_bzero(&a->ns, sizeof(a->ns));
	a->ns = ns;
	explicit_bzero(&ns, sizeof(ns));
	if (pthread_create(&a->retiring[a->n_retiring], NULL, retire_notifier, old) == 0)
		a->n_retiring++;
	else
		retire_notifier(old); /* no thread: drain on the loop, bounded */
	log_info("reload: notifications restarted with the new settings (events already queued go "
		 "to the old ones first)");
	return 1;
}

uint64_t actuate_last_seq(const struct actuate *a)
{
	return a && a->j ? journal_last_seq(a->j) : 0;
}

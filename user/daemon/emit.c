/*
 * daemon/emit.c — the single way a decision leaves the daemon (daemon_apply, declared in
 * daemon/daemon.h), policy-made or manual. In order:
 *   1. stamp it: its number, its time, dry-run when the tier (else the global setting) says
 *      so or there is no apply hook;
 *   2. say it: the log line in the reference's words, the suggestions file;
 *   3. remember it: the container's last decision for the API, its limits to be read back,
 *      watched closely for a while; the record file;
 *   4. actuate it (not in dry run) and note the outcome on it;
 *   5. publish it with its outcome for the API's events.
 * Each step is one function below; the log line's text is what admins grep for.
 */
#include "daemon/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* What woke a policy decision (types/decision.h): the container's waiting wake event when
 * it is recent enough, else the tick. Only a decision for more can be an event's answer
 * (every event is a sign of want); a scale-down is the tick's and leaves the wake waiting.
 * The wake is used up otherwise. */
static void stamp_wake(struct ct *ct, struct decision *dec)
{
	dec->woken_by = WAKE_NONE;
	dec->wake_us = -1;
	if (dec->reason == REASON_MANUAL || dec->reason == REASON_RECONCILE)
		return;
	dec->woken_by = WAKE_TICK;
	if (!ct || ct->wake == WAKE_NONE || (dec->cpu_change != DECISION_UP && dec->mem_change != DECISION_UP))
		return;
	uint64_t age_ns = daemon_mono_ns() - ct->wake_ns;
	if (age_ns <= (uint64_t)DECISION_WAKE_HOLD_MS * 1000000u) {
		dec->woken_by = ct->wake;
		dec->wake_us = (int64_t)(age_ns / 1000);
	}
	ct->wake = WAKE_NONE;
}

static void stamp(struct daemon *d, struct ct *ct, struct decision *dec)
{
	stamp_wake(ct, dec);
	dec->seq = ++d->seq;
	if (!dec->time_ms)
		dec->time_ms = daemon_wall_ms();
	const struct cfg_scaling *sc = ct ? daemon_ct_scaling(d, ct) : config_scaling_for(d->cfg, dec->vmid);
	if (sc->dry_run || !d->apply) /* the tier's, else global */
		dec->dry_run = true;
}

static const char *action(enum decision_change c)
{
	switch (c) {
	case DECISION_UP: return "Scale Up";
	case DECISION_DOWN: return "Scale Down";
	case DECISION_SET: return "Set";
	default: return "No Scaling";
	}
}

/* The reference's words, so its users' log greps keep working; then ours. */
static void log_decision(const struct decision *dec)
{
	char cpu[48] = "", ram[48] = "", woke[64] = "";
	if (dec->cpu_change != DECISION_NONE)
		snprintf(cpu, sizeof(cpu), " (-> %g)", dec->cpu_to);
	if (dec->mem_change != DECISION_NONE)
		snprintf(ram, sizeof(ram), " (-> %llu)", (unsigned long long)dec->mem_to_mb);
	if (dec->wake_us >= 0)
		snprintf(woke, sizeof(woke), " | woken by: %s, %.1f ms before", decision_wake_name(dec->woken_by),
			 (double)dec->wake_us / 1000.0);
	else if (dec->woken_by != WAKE_NONE)
		snprintf(woke, sizeof(woke), " | woken by: %s", decision_wake_name(dec->woken_by));
	log_info("%s container %u: CPU - %s%s, RAM - %s%s | Confidence: %.2f%% | reason: %s%s%s%s%s",
		 dec->dry_run ? "[dry_run] Would scale" : "Scaling", dec->vmid, action(dec->cpu_change), cpu,
		 action(dec->mem_change), ram, dec->confidence, decision_reason_name(dec->reason),
		 dec->detail[0] ? " (" : "", dec->detail, dec->detail[0] ? ")" : "", woke);
}

static void write_suggestion(struct daemon *d, const struct decision *dec)
{
	if (!d->sugg)
		return;
	char err[256];
	if (suggestions_write(d->sugg, dec, err, sizeof(err)) != 0)
		log_warning("suggestions file: %s", err);
}

static void remember(struct daemon *d, struct ct *ct, const struct decision *dec)
{
	if (ct) {
		if (!ct->last)
			ct->last = malloc(sizeof(*ct->last)); /* NULL: the API shows no last decision */
		if (ct->last)
			*ct->last = *dec;
		ct->pub_stale = true;
		if (!dec->dry_run)
			ct->limits.stale = true; /* read what we wrote back at the next sample */
		daemon_mark_hot(ct, daemon_mono_ms()); /* watch what the change does */
	}
	d->pub_dirty = true;
	d->st.decisions++;
	if (d->rec)
		recorder_decision(d->rec, dec);
}

/* Adds "; more" to the decision's detail; what does not fit ends at a word with "...",
 * never mid-word (the whole text is in the log line of the outcome). */
static void append_detail(struct decision *dec, const char *more)
{
	size_t l = strlen(dec->detail), cap = sizeof(dec->detail);
	int n = snprintf(dec->detail + l, cap - l, "%s%s", l ? "; " : "", more);
	if (n < 0 || l + (size_t)n < cap)
		return;
	char *end = dec->detail + cap - 4; /* room for "..." and the NUL */
	*end = '\0';
	char *sp = strrchr(dec->detail + l, ' ');
	if (sp)
		*sp = '\0';
	strcat(dec->detail, "...");
}

/* The outcome in the decision's own words: the actuator's status, and its detail when the
 * change did not go through as asked. */
static void note_outcome(struct daemon *d, int rc, struct decision *dec)
{
	const struct actuator_outcome *o = &d->last_outcome;
	snprintf(dec->outcome, sizeof(dec->outcome), "%s",
		 d->act ? actuator_status_name(o->status) : rc ? "failed" : "applied");
	dec->enforced = d->act ? rc == 0 && (o->status == ACT_APPLIED || o->status == ACT_SHRINKING) : rc == 0;
	dec->applies_at_start = d->act && rc == 0 && o->status == ACT_PERSIST_ONLY && o->error == 0 &&
				dec->persist;
	if (d->act && o->detail[0] && (rc || o->error || o->status != ACT_APPLIED))
		append_detail(dec, o->detail);
}

/* Hands the decision to the apply hook; the container's last decision gets the outcome. */
static int actuate(struct daemon *d, struct ct *ct, struct decision *dec)
{
	if (dec->dry_run) {
		snprintf(dec->outcome, sizeof(dec->outcome), "dry-run");
		return 0;
	}
	int rc = d->apply(d->apply_ctx, dec);
	note_outcome(d, rc, dec);
	if (ct && ct->last)
		*ct->last = *dec;
	return rc;
}

int daemon_apply(struct daemon *d, struct decision *dec)
{
	struct ct *ct = daemon_find(d, dec->vmid);
	stamp(d, ct, dec);
	log_decision(dec);
	remember(d, ct, dec);
	int rc = actuate(d, ct, dec);
	write_suggestion(d, dec); /* with its outcome: the history read back at the next start */
	if (d->pub)
		pub_decision(d->pub, dec, dec->outcome);
	return rc;
}

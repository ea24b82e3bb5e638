/*
 * daemon_config.c — configuration → policy, features, model (see daemon_config.h).
 */
#include "daemon_config.h"

#include <stdio.h>
#include <string.h>

void daemon_policy_params(const struct lxcscale_config *c, const struct cfg_scaling *s,
			  double priority, struct policy_params *p)
{
	policy_params_default(p);
	p->cpu_up_pct = s->cpu_scale_up_threshold;
	p->cpu_down_pct = s->cpu_scale_down_threshold;
	p->ram_up_pct = s->ram_scale_up_threshold;
	p->ram_down_pct = s->ram_scale_down_threshold;
	p->cpu_step = s->cpu_scale_step;
	double step = s->ram_scale_step_mb;
	if (s->ram_chunk_size > 0 && step < s->ram_chunk_size)
		step = s->ram_chunk_size;
	if (s->ram_upper_limit > 0 && step > s->ram_upper_limit)
		step = s->ram_upper_limit;
	p->ram_step_mb = step;
	p->min_cores = s->min_cpu_cores;
	p->max_cores = s->max_cpu_cores;
	p->min_ram_mb = s->min_ram_mb;
	p->max_ram_mb = s->max_ram_mb;
	p->min_confidence = s->min_confidence;
	p->smoothing_factor = s->smoothing_factor > 0 ? s->smoothing_factor : 1;
	p->cooldown_up_s = s->cooldown_up_seconds;
	p->cooldown_down_s = s->cooldown_down_seconds;
	double per_s = c->psi.window_ms > 0 ? 1000.0 / c->psi.window_ms : 1;
	p->psi_memory_some_ms = c->psi.memory_stall_ms * per_s;
	p->psi_cpu_some_ms = c->psi.cpu_stall_ms * per_s;
	p->psi_cpu_full_ms = c->psi.cpu_stall_ms * per_s;
	p->priority = priority;
	p->target_cpu_pct = s->target_cpu_load_percent;
}

void daemon_policy_config(const struct lxcscale_config *c, struct policy_tier *tiers,
			  struct policy_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	daemon_policy_params(c, &c->scaling, 0, &pc->defaults);
	for (int t = 0; t < c->n_tiers && t < CFG_TIERS_MAX; t++) {
		struct policy_tier *pt = &tiers[t];
		memset(pt, 0, sizeof(*pt));
		snprintf(pt->name, sizeof(pt->name), "%s", c->tiers[t].name);
		daemon_policy_params(c, &c->tiers[t].scaling, (double)(c->n_tiers - t), &pt->params);
		pt->vmids = c->tiers[t].containers.v;
		pt->n_vmids = (size_t)c->tiers[t].containers.n;
	}
	pc->tiers = tiers;
	pc->n_tiers = (size_t)(c->n_tiers < CFG_TIERS_MAX ? c->n_tiers : CFG_TIERS_MAX);
	pc->ignore = c->ignore_lxc.v;
	pc->n_ignore = (size_t)c->ignore_lxc.n;
}

int daemon_feature_select(const struct lxcscale_config *c, struct feat_select *s, char *err, size_t errlen)
{
	if (c->model.features.n == 0) {
		features_select_default(s);
		return 0;
	}
	const char *names[CFG_LIST_MAX];
	for (int i = 0; i < c->model.features.n; i++)
		names[i] = c->model.features.v[i];
	return features_select_names(s, names, (size_t)c->model.features.n, err, errlen);
}

void daemon_model_opts(const struct lxcscale_config *c, const struct feat_select *s, struct model_opts *o)
{
	model_opts_from(o, c->model.n_estimators, c->model.max_samples, c->model.contamination,
			c->model.random_state, c->model.window, c->model.rebuild_every);
	o->features = *s;
	o->per_container = c->model.per_container;
	o->model_file = c->model_file;
	o->force_save = c->model.force_save;
}

void daemon_bpf_opts(const struct lxcscale_config *c, struct lxs_bpf_opts *o)
{
	lxs_bpf_opts_default(o);
	o->pin_dir = c->bpf.pin_path;
	o->runq_notify_ns = (uint64_t)c->bpf.runq_threshold_us * 1000;
	o->reclaim_notify_ns = (uint64_t)c->bpf.reclaim_threshold_us * 1000;
	/* The schema bounds it to 1..1000000: an interval of 1 s down to 1 us, never 0. */
	int eps = c->bpf.events_per_second > 0 ? c->bpf.events_per_second : 1;
	o->notify_interval_ns = 1000000000ULL / (uint64_t)eps;
}

bool daemon_config_live(const struct lxcscale_config *c)
{
	if (!c->scaling.dry_run)
		return true;
	for (int i = 0; i < c->n_tiers; i++)
		if (!c->tiers[i].scaling.dry_run && c->tiers[i].containers.n > 0)
			return true;
	return false;
}

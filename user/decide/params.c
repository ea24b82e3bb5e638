/*
 * decide/params.c — configuration → policy, features, model (see decide/params.h).
 */
#include "decide/params.h"

#include <stdio.h>
#include <string.h>

void policy_params_from_config(const struct lxcscale_config *c, const struct cfg_scaling *s,
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

void policy_config_from_config(const struct lxcscale_config *c, struct policy_tier *tiers,
			  struct policy_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	policy_params_from_config(c, &c->scaling, 0, &pc->defaults);
	for (int t = 0; t < c->n_tiers && t < CFG_TIERS_MAX; t++) {
		struct policy_tier *pt = &tiers[t];
		memset(pt, 0, sizeof(*pt));
		snprintf(pt->name, sizeof(pt->name), "%s", c->tiers[t].name);
		policy_params_from_config(c, &c->tiers[t].scaling, (double)(c->n_tiers - t), &pt->params);
		pt->vmids = c->tiers[t].containers.v;
		pt->n_vmids = (size_t)c->tiers[t].containers.n;
	}
	pc->tiers = tiers;
	pc->n_tiers = (size_t)(c->n_tiers < CFG_TIERS_MAX ? c->n_tiers : CFG_TIERS_MAX);
	pc->ignore = c->ignore_lxc.v;
	pc->n_ignore = (size_t)c->ignore_lxc.n;
}

int features_select_from_config(const struct lxcscale_config *c, struct feat_select *s, char *err, size_t errlen)
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

void model_opts_from_config(const struct lxcscale_config *c, const struct feat_select *s, struct model_opts *o)
{
	model_opts_from(o, c->model.n_estimators, c->model.max_samples, c->model.contamination,
			c->model.random_state, c->model.window, c->model.rebuild_every);
	o->features = *s;
	o->per_container = c->model.per_container;
	o->model_file = c->model_file;
	o->force_save = c->model.force_save;
}

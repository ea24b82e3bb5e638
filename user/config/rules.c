/*
 * config/rules.c — rules between keys (min <= max, down < up, step bounds, host budget,
 * PSI stall <= window, auth needs keys, TLS pairs, persist backend needs) and the tier
 * merge. Run once after all sources are loaded (config_finalize). A message names both
 * keys with their values and points at the first one the reader actually wrote.
 */
#include "config/config.h"
#include "config/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- cross-key rules -------------------------------------------------------------------- */

struct rule_ctx {
	const struct lxcscale_config *c;
	struct config_diag *d;
	const struct cfg_tier *tier; /* NULL: the global scaling section */
};

/* dotted name and location of a scaling key as the rule's reader should see it */
static void scaling_name(const struct rule_ctx *r, const char *skey, char *name, size_t nlen, char *loc,
                         size_t llen)
{
	const struct cfg_key *k = config_key(skey);
	int bit = config_tier_key(k);
	if (r->tier && bit >= 0 && (r->tier->set_mask & (1ull << bit))) {
		snprintf(name, nlen, "tiers.%s.%s", r->tier->name, cfg_leaf(skey));
		cfg_mark_text(r->c, &r->tier->mark[bit], NULL, loc, llen);
		return;
	}
	int idx = config_key_index(k);
	snprintf(name, nlen, "%s", skey);
	if (r->tier && r->c->meta.mark[idx].source == CFG_SRC_DEFAULT)
		cfg_mark_text(r->c, &r->tier->where, NULL, loc, llen);
	else
		cfg_mark_text(r->c, &r->c->meta.mark[idx], r->c->meta.flag[idx], loc, llen);
}

static double scaling_value(const struct cfg_scaling *s, const char *skey)
{
	const struct cfg_key *k = config_key(skey);
	const char *p = (const char *)s + cfg_scaling_offset(k);
	if (k->type == CFG_DOUBLE)
		return *(const double *)p;
	return *(const int *)p;
}

/* `a` must be <= b (or < b when strict); message names both with their values. */
static void rule_order(const struct rule_ctx *r, const struct cfg_scaling *s, const char *a, const char *b,
                       bool strict)
{
	double va = scaling_value(s, a), vb = scaling_value(s, b);
	if (strict ? va < vb : va <= vb)
		return;
	char na[160], nb[160], la[CFG_STR_MAX + 32], lb[CFG_STR_MAX + 32], ta[32], tb[32];
	scaling_name(r, a, na, sizeof(na), la, sizeof(la));
	scaling_name(r, b, nb, sizeof(nb), lb, sizeof(lb));
	cfg_number_text(va, ta, sizeof(ta));
	cfg_number_text(vb, tb, sizeof(tb));
	/* report where the reader wrote something: the first key unless it is a default */
	const char *loc = strcmp(la, "default") ? la : lb;
	cfg_diag_add(r->d, CFG_DIAG_ERROR, loc, "%s=%s is %s %s=%s", na, ta, strict ? "not less than" : "greater than",
	         nb, tb);
}

static void check_scaling(const struct rule_ctx *r, const struct cfg_scaling *s)
{
	rule_order(r, s, "scaling.min_cpu_cores", "scaling.max_cpu_cores", false);
	rule_order(r, s, "scaling.min_ram_mb", "scaling.max_ram_mb", false);
	rule_order(r, s, "scaling.cpu_scale_down_threshold", "scaling.cpu_scale_up_threshold", true);
	rule_order(r, s, "scaling.ram_scale_down_threshold", "scaling.ram_scale_up_threshold", true);
	/* the legacy step bounds apply only when set (0: none) */
	if (s->ram_upper_limit > 0) {
		rule_order(r, s, "scaling.ram_chunk_size", "scaling.ram_upper_limit", false);
		rule_order(r, s, "scaling.ram_scale_step_mb", "scaling.ram_upper_limit", false);
	}
	if (s->ram_chunk_size > 0)
		rule_order(r, s, "scaling.ram_chunk_size", "scaling.ram_scale_step_mb", false);
}

static void key_loc(const struct lxcscale_config *c, const char *key, char *loc, size_t len)
{
	int idx = config_key_index(config_key(key));
	cfg_mark_text(c, &c->meta.mark[idx], c->meta.flag[idx], loc, len);
}

/* the first key's location, or the second's when the first was not written anywhere */
static void pair_loc(const struct lxcscale_config *c, const char *a, const char *b, char *loc, size_t len)
{
	key_loc(c, a, loc, len);
	if (!strcmp(loc, "default"))
		key_loc(c, b, loc, len);
}

/* Whether an integer key holds its schema default. By value, not by where the value came
 * from: `--print-config` writes every key, and what it prints must load the same way. */
static bool at_default_value(const struct lxcscale_config *c, const char *key)
{
	const struct cfg_key *k = config_key(key);
	return *(const int *)cfg_cfield(c, k) == (int)strtol(k->def, NULL, 10);
}

static bool is_loopback(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
	       !strncmp(host, "127.", 4);
}

/* Proxmox's rule for a tag (its web UI and pct refuse others): [A-Za-z0-9_][A-Za-z0-9_+.-]*.
 * A prefix follows the same rule, so that <prefix><tier name> is a tag. */
static const char *tag_problem(const char *v)
{
	size_t n = strlen(v);
	if (n > 100)
		return "is longer than 100 characters";
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		bool ok = isalnum((unsigned char)ch) || ch == '_' || (i > 0 && (ch == '-' || ch == '+' || ch == '.'));
		if (!ok)
			return i == 0 ? "must start with a letter, a digit or '_' (Proxmox's rule for tags)"
				      : "may hold only letters, digits and _ - + . (Proxmox's rule for tags)";
	}
	return NULL;
}

int config_finalize(struct lxcscale_config *c, struct config_diag *d)
{
	char loc[CFG_STR_MAX + 32], loc2[CFG_STR_MAX + 32];
	struct rule_ctx r = { .c = c, .d = d };

	check_scaling(&r, &c->scaling);

	/* tiers: global values, then the tier's own */
	for (int t = 0; t < c->n_tiers; t++) {
		struct cfg_tier *tier = &c->tiers[t];
		tier->scaling = c->scaling;
		for (size_t i = 0; i < config_schema_len; i++) {
			const struct cfg_key *k = &config_schema[i];
			int bit = config_tier_key(k);
			if (bit < 0 || !(tier->set_mask & (1ull << bit)))
				continue;
			size_t off = cfg_scaling_offset(k);
			memcpy((char *)&tier->scaling + off, (const char *)&tier->overrides + off, k->size);
		}
		/* `lxcscaled --dry-run` (a flag) is a promise that nothing changes: a tier's
		 * dry_run: false in the file must not break it. The override changes too, so that
		 * --print-config shows what runs and its output, loaded without the flag, still
		 * changes nothing. */
		if (c->scaling.dry_run && c->meta.mark[config_key_index(config_key("scaling.dry_run"))].source == CFG_SRC_FLAG)
			tier->scaling.dry_run = tier->overrides.dry_run = true;
		r.tier = tier;
		check_scaling(&r, &tier->scaling);
		cfg_mark_text(c, &tier->where, NULL, loc, sizeof(loc));
		if (tier->containers.n == 0 && !c->tags.tier_prefix[0])
			cfg_diag_add(d, CFG_DIAG_WARNING, loc, "tiers.%s has no containers and applies to nothing "
				     "(tags.tier_prefix is empty, so no tag can pick it)", tier->name);
		for (int u = 0; u < t; u++)
			for (int i = 0; i < tier->containers.n; i++)
				if (cfg_vmlist_has(&c->tiers[u].containers, tier->containers.v[i])) {
					cfg_mark_text(c, &tier->containers_mark, NULL, loc2, sizeof(loc2));
					cfg_diag_add(d, CFG_DIAG_ERROR, loc2, "container %" PRIu32 " is in tiers.%s and tiers.%s",
					         tier->containers.v[i], c->tiers[u].name, tier->name);
				}
	}
	r.tier = NULL;

	/* host budget: an error when the reserve was changed from our default, a warning when it
	 * is the default (a reference file with a tiny total_cores must still load) */
	if (c->host.total_cores > 0 && c->host.reserve_cpu_cores >= c->host.total_cores) {
		bool dflt = at_default_value(c, "scaling.reserve_cpu_cores");
		key_loc(c, dflt ? "scaling.total_cores" : "scaling.reserve_cpu_cores", loc, sizeof(loc));
		cfg_diag_add(d, dflt ? CFG_DIAG_WARNING : CFG_DIAG_ERROR, loc,
		         "scaling.reserve_cpu_cores=%d is not less than scaling.total_cores=%d%s", c->host.reserve_cpu_cores,
		         c->host.total_cores, dflt ? ": no CPU is left to give containers" : "");
	}
	if (c->host.total_ram_mb > 0 && c->host.reserve_memory_mb >= c->host.total_ram_mb) {
		bool dflt = at_default_value(c, "scaling.reserve_memory_mb");
		key_loc(c, dflt ? "scaling.total_ram_mb" : "scaling.reserve_memory_mb", loc, sizeof(loc));
		cfg_diag_add(d, dflt ? CFG_DIAG_WARNING : CFG_DIAG_ERROR, loc,
		         "scaling.reserve_memory_mb=%d is not less than scaling.total_ram_mb=%d%s", c->host.reserve_memory_mb,
		         c->host.total_ram_mb, dflt ? ": no memory is left to give containers" : "");
	}
	if (c->psi.cpu_stall_ms > c->psi.window_ms) {
		pair_loc(c, "psi.cpu_stall_ms", "psi.window_ms", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "psi.cpu_stall_ms=%d is greater than psi.window_ms=%d",
		         c->psi.cpu_stall_ms, c->psi.window_ms);
	}
	if (c->psi.memory_stall_ms > c->psi.window_ms) {
		pair_loc(c, "psi.memory_stall_ms", "psi.window_ms", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "psi.memory_stall_ms=%d is greater than psi.window_ms=%d",
		         c->psi.memory_stall_ms, c->psi.window_ms);
	}
	if (c->circuit_breaker.enabled && c->circuit_breaker.timeout_seconds <= c->interval_seconds) {
		pair_loc(c, "circuit_breaker.timeout_seconds", "interval_seconds", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_WARNING, loc,
		         "circuit_breaker.timeout_seconds=%d is not greater than interval_seconds=%d: "
		         "an open breaker never outlasts a cycle",
		         c->circuit_breaker.timeout_seconds, c->interval_seconds);
	}
	if (c->authentication.enabled && c->authentication.api_keys.n == 0) {
		key_loc(c, "authentication.enabled", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "authentication.enabled=true but authentication.api_keys is empty");
	}
	for (int i = 0; i < c->authentication.api_keys.n; i++)
		if (strlen(c->authentication.api_keys.v[i]) < 16) {
			key_loc(c, "authentication.api_keys", loc, sizeof(loc));
			cfg_diag_add(d, CFG_DIAG_WARNING, loc, "authentication.api_keys[%d] is shorter than 16 characters", i);
		}
	if (c->api.enabled && !c->authentication.enabled && !is_loopback(c->server.host)) {
		pair_loc(c, "server.host", "authentication.enabled", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_WARNING, loc,
		         "server.host=%s accepts connections from the network while authentication.enabled=false: "
		         "anyone who reaches port %d can resize containers",
		         c->server.host, c->server.port);
	}
	if (!c->api.tls_cert[0] != !c->api.tls_key[0]) {
		const char *set = c->api.tls_cert[0] ? "api.tls_cert" : "api.tls_key";
		const char *unset = c->api.tls_cert[0] ? "api.tls_key" : "api.tls_cert";
		key_loc(c, set, loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "%s is set but %s is empty", set, unset);
	}
	if (c->persist.backend == CFG_PERSIST_API) {
		static const char *const need[] = { "proxmox_api.url", "proxmox_api.token_id", "proxmox_api.token_secret" };
		const char *val[] = { c->proxmox_api.url, c->proxmox_api.token_id, c->proxmox_api.token_secret };
		for (int i = 0; i < 3; i++)
			if (!val[i][0]) {
				key_loc(c, "persist.backend", loc, sizeof(loc));
				cfg_diag_add(d, CFG_DIAG_ERROR, loc, "persist.backend=api but %s is empty", need[i]);
			}
	}
	if (!c->proxmox_api.verify_tls) {
		key_loc(c, "proxmox_api.verify_tls", loc, sizeof(loc));
		if (c->persist.backend == CFG_PERSIST_API)
			cfg_diag_add(d, CFG_DIAG_WARNING, loc,
			         "proxmox_api.verify_tls=false: the API token is sent to whoever answers");
	}
	static const char *const tag_keys[] = { "tags.ignore", "tags.tier_prefix" };
	const char *tag_vals[] = { c->tags.ignore, c->tags.tier_prefix };
	for (int i = 0; i < 2; i++) {
		const char *why = tag_problem(tag_vals[i]);
		if (why) {
			key_loc(c, tag_keys[i], loc, sizeof(loc));
			cfg_diag_add(d, CFG_DIAG_ERROR, loc, "%s=\"%s\" %s", tag_keys[i], tag_vals[i], why);
		}
	}
	if (c->tags.ignore[0] && c->tags.tier_prefix[0] &&
	    !strncasecmp(c->tags.ignore, c->tags.tier_prefix, strlen(c->tags.tier_prefix))) {
		pair_loc(c, "tags.ignore", "tags.tier_prefix", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "tags.ignore=\"%s\" starts with tags.tier_prefix=\"%s\": "
			     "one tag would both exclude and pick a tier", c->tags.ignore, c->tags.tier_prefix);
	}
	if (c->notifications.gotify_url[0] && !c->notifications.gotify_token[0]) {
		key_loc(c, "notifications.gotify_url", loc, sizeof(loc));
		cfg_diag_add(d, CFG_DIAG_ERROR, loc, "notifications.gotify_url is set but notifications.gotify_token is empty");
	}
	return d->errors ? -1 : 0;
}

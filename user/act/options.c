/*
 * act/options.c — config keys onto persister and notifier settings (see the header).
 * The Proxmox node defaults to lxc.node, then to this host's name, as pct would use.
 */
#include "act/options.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void persist_settings_from_config(const struct lxcscale_config *c, struct persist_settings *ps)
{
	persist_settings_default(ps);
	ps->backend = c->persist.backend == CFG_PERSIST_API ? PERSIST_BACKEND_API : PERSIST_BACKEND_PCT;
	snprintf(ps->pct_path, sizeof(ps->pct_path), "%s", c->persist.pct_path);
	ps->call_timeout_ms = c->persist.timeout_seconds * 1000;
	ps->debounce_ms = c->persist.debounce_ms;
	ps->max_retries = c->persist.max_retries;
	ps->retry_delay_ms = c->persist.retry_base_ms;
	ps->breaker_enabled = c->circuit_breaker.enabled;
	ps->breaker_failure_threshold = c->circuit_breaker.failure_threshold;
	ps->breaker_timeout_ms = c->circuit_breaker.timeout_seconds > 604800
	                         ? 604800000 : c->circuit_breaker.timeout_seconds * 1000;
	snprintf(ps->api_url, sizeof(ps->api_url), "%s", c->proxmox_api.url);
	if (c->proxmox_api.node[0])
		snprintf(ps->api_node, sizeof(ps->api_node), "%s", c->proxmox_api.node);
	else if (c->lxc.node[0])
		snprintf(ps->api_node, sizeof(ps->api_node), "%s", c->lxc.node);
	else if (gethostname(ps->api_node, sizeof(ps->api_node)) == 0) {
		ps->api_node[sizeof(ps->api_node) - 1] = '\0';
		char *dot = strchr(ps->api_node, '.'); /* PVE node names are short host names */
		if (dot)
			*dot = '\0';
	}
	snprintf(ps->api_token_id, sizeof(ps->api_token_id), "%s", c->proxmox_api.token_id);
	snprintf(ps->api_token_secret, sizeof(ps->api_token_secret), "%s", c->proxmox_api.token_secret);
	snprintf(ps->api_ca_file, sizeof(ps->api_ca_file), "%s", c->proxmox_api.ca_file);
	ps->api_verify_tls = c->proxmox_api.verify_tls;
}

void notify_settings_from_config(const struct lxcscale_config *c, struct notify_settings *ns)
{
	notify_settings_default(ns);
	snprintf(ns->webhook_url, sizeof(ns->webhook_url), "%s", c->notifications.webhook_url);
	snprintf(ns->gotify_url, sizeof(ns->gotify_url), "%s", c->notifications.gotify_url);
	snprintf(ns->gotify_token, sizeof(ns->gotify_token), "%s", c->notifications.gotify_token);
	snprintf(ns->kuma_push_url, sizeof(ns->kuma_push_url), "%s", c->notifications.uptime_kuma_url);
}

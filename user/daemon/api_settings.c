/*
 * daemon/api_settings.c — from lxcscale's configuration (config/config.h: our file, the
 * reference ML file and the reference API file, all in one struct) to the API's settings,
 * and the API's log lines into the daemon's log. The daemon calls these two and nothing
 * else needs to know the mapping.
 *
 * The settings point into the config's strings: keep that config alive (and unchanged)
 * while the server runs; on a reload, stop the server and start it with the new config.
 */
#include "daemon/api_settings.h"

#include <string.h>
#include <sys/utsname.h>

#include "base/log.h"

/* An empty lxc.node means this host: Proxmox names a node after the host's short name. */
static const char *this_node(void)
{
	static char node[sizeof(((struct utsname *)0)->nodename)];
	struct utsname u;
	if (!node[0] && uname(&u) == 0) {
		u.nodename[strcspn(u.nodename, ".")] = '\0';
		memcpy(node, u.nodename, sizeof(node));
	}
	return node[0] ? node : NULL;
}

void api_settings_from_config(const struct lxcscale_config *c, struct api_settings *s,
			      const char *key_ptrs[API_CONFIG_MAX_KEYS])
{
	api_settings_defaults(s);
	s->host = c->server.host[0] ? c->server.host : "127.0.0.1";
	s->port = (uint16_t)c->server.port;
	s->auth_enabled = c->authentication.enabled;
	size_t n = 0;
	for (int i = 0; i < c->authentication.api_keys.n && n < API_CONFIG_MAX_KEYS; i++)
		if (c->authentication.api_keys.v[i][0])
			key_ptrs[n++] = c->authentication.api_keys.v[i];
	s->api_keys = key_ptrs;
	s->n_api_keys = n;
	s->rate_limit_enabled = c->rate_limiting.enabled;
	s->rate_limit_max = (unsigned)c->rate_limiting.max_requests_per_minute;
	s->rate_limit_window_s = (unsigned)c->rate_limiting.time_window_seconds;
	s->lxc_timeout_s = (unsigned)c->lxc.timeout_seconds;
	s->lxc_node = c->lxc.node[0] ? c->lxc.node : this_node();
	s->lxc_node_is_host = !c->lxc.node[0];
	s->max_body_bytes = (size_t)c->api.max_body_bytes;
	s->tls_cert_file = c->api.tls_cert[0] ? c->api.tls_cert : NULL;
	s->tls_key_file = c->api.tls_key[0] ? c->api.tls_key : NULL;
	s->show_stack_traces = c->error_handling.show_stack_traces;
	s->ui_enabled = c->api.ui;
	s->log = api_log_to_daemon_log;
	s->log_arg = NULL;
}

void api_log_to_daemon_log(void *arg, enum api_log_level level, const char *msg)
{
	(void)arg;
	static const int map[] = {LOGL_ERROR, LOGL_WARNING, LOGL_INFO, LOGL_DEBUG};
	log_msg(map[level <= API_LOG_DEBUG ? level : API_LOG_DEBUG], "api: %s", msg);
}

/*
 * daemon/api_settings.h — the REST API's settings (api/api.h) from lxcscale's configuration,
 * and the API's log lines into the daemon's log. The daemon is the only part that knows both
 * sides: api/ takes a plain struct api_settings and never reads the configuration.
 */
#ifndef LXCSCALE_DAEMON_API_SETTINGS_H
#define LXCSCALE_DAEMON_API_SETTINGS_H

#include "api.h"
#include "config/config.h"

#define API_CONFIG_MAX_KEYS 64

/* Settings from lxcscale's configuration (server.*, authentication.*, rate_limiting.*,
 * lxc.*, api.*). `key_ptrs` is storage for the API key pointers; the settings point into
 * `c` and `key_ptrs`, which must outlive the server. Logs go to the daemon's log. */
void api_settings_from_config(const struct lxcscale_config *c, struct api_settings *s,
			      const char *key_ptrs[API_CONFIG_MAX_KEYS]);
void api_log_to_daemon_log(void *arg, enum api_log_level level, const char *msg);

#endif

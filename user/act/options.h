/*
 * act/options.h — the actuation side's settings, taken from the daemon's configuration.
 *
 * pve/persister.c and act/notifier.c know only their own plain settings structs (so their tests need
 * no YAML); this file is the one place that maps config keys onto them:
 *   persist.*, circuit_breaker.*, proxmox_api.*  -> struct persist_settings
 *   notifications.*                               -> struct notify_settings
 */
#ifndef LXCSCALE_ACTUATE_CONFIG_H
#define LXCSCALE_ACTUATE_CONFIG_H

#include "act/notifier.h"
#include "config/config.h"
#include "pve/persister.h"

void persist_settings_from_config(const struct lxcscale_config *c, struct persist_settings *ps);
void notify_settings_from_config(const struct lxcscale_config *c, struct notify_settings *ns);

#endif

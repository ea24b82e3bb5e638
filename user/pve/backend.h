/*
 * pve/backend.h — the two ways one persist call is made (internal to the persister).
 * Each function makes exactly one attempt, synchronously, and classifies the outcome;
 * retries, backoff and the breaker belong to pve/persister.c.
 */
#ifndef LXCSCALE_PERSIST_BACKEND_H
#define LXCSCALE_PERSIST_BACKEND_H

#include "pve/pve.h"

enum persist_status persist_pct_call(const struct persist_settings *s,
                                     const struct persist_target *t, char *detail, size_t len);
enum persist_status persist_api_call(const struct persist_settings *s,
                                     const struct persist_target *t, char *detail, size_t len);


/* GET .../config?current=1 (see pve_config_read). */
int persist_api_read_config(const struct persist_settings *s, uint32_t vmid,
                            struct pve_limits *out, char *detail, size_t len);

/* Classifies Proxmox's error text (the same words come from pct and from the REST API). */
enum persist_status persist_classify_error(const char *text);

#endif

/*
 * config/internal.h — helpers shared by config/config.c, config/load.c, config/rules.c and
 * config/print.c. Not part of the configuration's public interface (config/config.h).
 */
#ifndef LXCSCALE_CONFIG_INT_H
#define LXCSCALE_CONFIG_INT_H

#include <stdarg.h>
#include <stdbool.h>

#include "config/config.h"

union cfg_value {
	bool b;
	int i;
	double d;
	char s[CFG_STR_MAX];
};

void cfg_diag_vadd(struct config_diag *d, int sev, const char *loc, const char *fmt, va_list ap);
void cfg_diag_add(struct config_diag *d, int sev, const char *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "file:line:col", the flag, or "default" */
void cfg_mark_text(const struct lxcscale_config *c, const struct cfg_mark *m, const char *flag, char *buf,
                   size_t len);
/* a value for a message: printable, bounded, *** for secrets */
void cfg_shown_value(const struct cfg_key *k, const char *text, size_t len, bool quoted, char *out, size_t outlen);
void *cfg_field(struct lxcscale_config *c, const struct cfg_key *k);
const void *cfg_cfield(const struct lxcscale_config *c, const struct cfg_key *k);
/* offset of a tier-able key inside struct cfg_scaling */
size_t cfg_scaling_offset(const struct cfg_key *k);
bool cfg_choice_at(const char *choices, int i, char *buf, size_t len);
void cfg_choices_text(const char *choices, char *buf, size_t len);
/* shortest text that reads back as the same double; integers without a point */
void cfg_number_text(double v, char *buf, size_t len);
bool cfg_looks_null(const char *t, size_t len, bool quoted);
/* A control character in a string value: C0, DEL, C1 (U+0080..U+009F, NEL among them) or
 * the Unicode line and paragraph separators. YAML reads NEL, LS and PS as line breaks and
 * folds them, so such a value would not survive --print-config; in a log line it would
 * break the line. */
bool cfg_has_control(const char *t, size_t len);
int cfg_parse_scalar(const struct cfg_key *k, const char *t, size_t len, bool quoted, union cfg_value *v,
                     char *why, size_t whylen);
void cfg_store_scalar(void *dst, const struct cfg_key *k, const union cfg_value *v);
int cfg_parse_vmid(const char *t, size_t len, uint32_t *out);
void cfg_vmlist_normalise(struct cfg_vmlist *l);
bool cfg_vmlist_has(const struct cfg_vmlist *l, uint32_t vmid);
const char *cfg_leaf(const char *dotted);
const char *cfg_type_name(const struct cfg_key *k);

#endif

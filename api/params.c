/*
 * params.c — request parameters, read the way the reference's latest version reads them
 * and checked more strictly.
 *
 * GET/HEAD: the query string, then a JSON body on top (some clients send one; issue #14 of
 * the reference was about exactly that). POST/DELETE: only a JSON body with
 * Content-Type application/json — never the query string, so a cross-site form or link
 * cannot drive a mutating route (the reference's CSRF fix).
 *
 * Validators append one message per failing field to `errors`, so a 400 lists them all.
 * Numbers are parsed strictly: no booleans, no fractions, no exponents, no overflow, no
 * empty strings; names are checked against the reference's patterns, and nothing that
 * starts with '-' passes, so no value can turn into a `pct` option.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JSON_MAX_DEPTH 16

void params_fail(struct params *p, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(p->errors, json_object_new_string(buf));
}

bool params_ok(const struct params *p)
{
	return json_object_array_length(p->errors) == 0;
}

static enum MHD_Result add_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	(void)kind;
	json_object *obj = cls;
	if (!key || !*key)
		return MHD_YES;
	if (!json_object_object_get_ex(obj, key, NULL)) /* first occurrence wins */
		json_object_object_add(obj, key, value ? json_object_new_string(value) : NULL);
	return MHD_YES;
}

static bool is_json_content_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	size_t n = strlen("application/json");
	return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Parse the body as one JSON object. NULL and a message in err when it is not. */
static json_object *parse_body(const char *body, size_t len, char *err, size_t errlen)
{
	json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		snprintf(err, errlen, "request body is not valid JSON (%s)",
			 jerr == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (size_t i = used; i < len; i++)
		if (!isspace((unsigned char)body[i])) {
			json_object_put(obj);
			snprintf(err, errlen, "request body is not valid JSON (trailing data)");
			return NULL;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		snprintf(err, errlen, "request body must be a JSON object");
		return NULL;
	}
	return obj;
}

void params_load(struct req *r, struct params *p)
{
	p->obj = json_object_new_object();
	p->errors = json_object_new_array();
	p->body_error = false;
	bool is_get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	if (is_get)
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_query_arg, p->obj);
	if (r->body_len == 0)
		return;
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	if (!is_json_content_type(ct)) {
		if (is_get)
			return; /* like Flask's get_json(silent=True): a non-JSON body is ignored */
		p->body_error = true;
		params_fail(p, "Content-Type must be application/json");
		return;
	}
	char err[160];
	json_object *body = parse_body(r->body, r->body_len, err, sizeof(err));
	if (!body) {
		p->body_error = true;
		params_fail(p, "%s", err);
		return;
	}
	json_object_object_foreach(body, key, val) {
		json_object_object_add(p->obj, key, json_object_get(val));
	}
	json_object_put(body);
}

void params_free(struct params *p)
{
	json_object_put(p->obj);
	json_object_put(p->errors);
	p->obj = p->errors = NULL;
}

json_object *params_find(struct params *p, const char *const names[], const char **found)
{
	for (int i = 0; names[i]; i++) {
		json_object *v;
		if (json_object_object_get_ex(p->obj, names[i], &v)) {
			if (found)
				*found = names[i];
			return v;
		}
	}
	return NULL;
}

/* true when one of the names is present; *v is NULL for a JSON null */
static bool lookup(struct params *p, const char *const names[], json_object **v)
{
	for (int i = 0; names[i]; i++)
		if (json_object_object_get_ex(p->obj, names[i], v))
			return true;
	*v = NULL;
	return false;
}

/* lookup() for a value that may be required: when absent, records "LABEL is required" if
 * REQUIRED. *PRESENT (when not NULL) says whether it was given. */
static bool lookup_or_require(struct params *p, const char *const names[], const char *label,
			      bool required, json_object **v, bool *present)
{
	bool have = lookup(p, names, v);
	if (present)
		*present = have;
	if (!have && required)
		params_fail(p, "%s is required", label);
	return have;
}

int parse_strict_ll(const char *s, long long *out)
{
	const char *q = s;
	if (*q == '+' || *q == '-')
		q++;
	if (!*q)
		return -1;
	for (const char *c = q; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* 0 ok, -1 wrong type, -2 out of int64 range */
static int json_to_ll(json_object *v, long long *out)
{
	switch (json_object_get_type(v)) {
	case json_type_int: {
		errno = 0;
		int64_t x = json_object_get_int64(v);
		/* json-c saturates values beyond int64; beyond-range is as bad as overflow */
		if (x == INT64_MAX || x == INT64_MIN)
			return -2;
		*out = x;
		return 0;
	}
	case json_type_double: {
		double d = json_object_get_double(v);
		if (!isfinite(d) || fabs(d) > 9e15)
			return -2;
		if (d != floor(d))
			return -1;
		*out = (long long)d;
		return 0;
	}
	case json_type_string:
		return parse_strict_ll(json_object_get_string(v), out);
	default: /* null, boolean, object, array */
		return -1;
	}
}

bool params_int(struct params *p, const char *const names[], const char *label, long long lo,
		long long hi, bool required, long long *out, bool *present)
{
	json_object *v;
	if (!lookup_or_require(p, names, label, required, &v, present))
		return !required;
	long long x = 0;
	int rc = v ? json_to_ll(v, &x) : -1;
	if (rc != 0 || x < lo || x > hi) {
		params_fail(p, "%s must be an integer between %lld and %lld", label, lo, hi);
		return false;
	}
	*out = x;
	return true;
}

bool params_number(struct params *p, const char *const names[], const char *label, double lo,
		   double hi, bool required, double *out, bool *present)
{
	json_object *v;
	if (!lookup_or_require(p, names, label, required, &v, present))
		return !required;
	double d;
	enum json_type t = v ? json_object_get_type(v) : json_type_null;
	if (t == json_type_int || t == json_type_double) {
		d = json_object_get_double(v);
	} else if (t == json_type_string) {
		const char *s = json_object_get_string(v);
		char *end;
		errno = 0;
		d = strtod(s, &end);
		if (!*s || *end || errno || isspace((unsigned char)*s))
			d = NAN;
	} else {
		d = NAN;
	}
	if (!isfinite(d) || d < lo || d > hi) {
		params_fail(p, "%s must be a number between %g and %g", label, lo, hi);
		return false;
	}
	*out = d;
	return true;
}

bool params_bool(struct params *p, const char *const names[], const char *label, bool dflt,
		 bool *out)
{
	json_object *v;
	*out = dflt;
	if (!lookup(p, names, &v))
		return true;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (!strcmp(s, "true") || !strcmp(s, "1")) {
			*out = true;
			return true;
		}
		if (!strcmp(s, "false") || !strcmp(s, "0")) {
			*out = false;
			return true;
		}
	}
	params_fail(p, "%s must be true or false", label);
	return false;
}

/* ^[A-Za-z0-9_][A-Za-z0-9_-]{0,39}$ */
static bool snapshot_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 40)
		return false;
	if (!(isalnum((unsigned char)s[0]) || s[0] == '_') || !isascii((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isascii((unsigned char)s[i]) ||
		    !(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* ^[a-z0-9]([a-z0-9<extra>]{0,61}[a-z0-9])?$, case-insensitive */
static bool label_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);
	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool alnum = isascii(c) && isalnum(c);
		bool edge = i == 0 || i == n - 1;
		if (!alnum && (edge || !strchr(extra, c) || c == '\0'))
			return false;
	}
	return true;
}

bool name_valid(enum name_kind kind, const char *s)
{
	switch (kind) {
	case NAME_SNAPSHOT: return snapshot_ok(s);
	case NAME_HOST: return label_ok(s, "-");
	case NAME_NODE: return label_ok(s, ".-");
	}
	return false;
}

bool params_name(struct params *p, const char *const names[], const char *label,
		 enum name_kind kind, bool required, char *out, size_t outlen)
{
	json_object *v;
	if (!lookup_or_require(p, names, label, required, &v, NULL))
		return !required;
	const char *hint = kind == NAME_SNAPSHOT
				   ? "letters, digits, '_' and '-', 1-40 characters, not starting with '-'"
				   : kind == NAME_HOST ? "a valid hostname (RFC 1123 label)"
						       : "a valid node name";
	if (!v || !json_object_is_type(v, json_type_string)) {
		params_fail(p, "%s must be %s", label, hint);
		return false;
	}
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (len >= outlen || strlen(s) != len) { /* too long, or an embedded NUL */
		params_fail(p, "%s must be %s", label, hint);
		return false;
	}
	memcpy(out, s, len + 1);
	if (kind == NAME_HOST)
		for (char *c = out; *c; c++)
			if (*c == '_')
				*c = '-';
	if (!name_valid(kind, out)) {
		params_fail(p, "%s must be %s", label, hint);
		out[0] = '\0';
		return false;
	}
	return true;
}

bool params_text(struct params *p, const char *const names[], const char *label, char *out, size_t outlen)
{
	json_object *v;
	out[0] = '\0';
	if (!lookup(p, names, &v))
		return true;
	const char *s = v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	size_t len = s ? (size_t)json_object_get_string_len(v) : 0;
	bool ok = s && len > 0 && len < outlen && strlen(s) == len;
	for (size_t i = 0; ok && i < len; i++)
		ok = s[i] >= 0x20 && s[i] < 0x7f;
	if (!ok) {
		params_fail(p, "%s must be printable text of 1 to %zu characters", label, outlen - 1);
		return false;
	}
	memcpy(out, s, len + 1);
	return true;
}

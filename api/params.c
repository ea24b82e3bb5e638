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
 *
 * Two sets of validators share that parsing. params_int, params_name, ... speak lxcscale's
 * words (/api/v1). params_ref_int and params_ref_name speak the reference's (its
 * validation.py, for its routes): the same field names in the same order, canonical name
 * first (vm_id before lxc_id), its messages word for word, the offending value printed as
 * its Python prints it (py_str). Where lxcscale is stricter than the reference (booleans,
 * fractions, " 104", "1_04" are no numbers here), the refusal uses the reference's own
 * "Invalid ... format" text; docs/reference-compat.md lists these differences.
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
	char buf[512];
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

/* An unusable body: an error (lxcscale's routes) or, the reference's way, no body at all
 * with the reason kept aside. */
static void body_unusable(struct params *p, bool ref, const char *why)
{
	p->body_error = true;
	if (ref)
		snprintf(p->body_detail, sizeof(p->body_detail), "%s", why);
	else
		params_fail(p, "%s", why);
}

static void load(struct req *r, struct params *p, bool ref)
{
	p->obj = json_object_new_object();
	p->errors = json_object_new_array();
	p->body_error = false;
	p->body_detail[0] = '\0';
	bool is_get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	if (is_get)
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_query_arg, p->obj);
	if (r->body_len == 0)
		return;
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	if (!is_json_content_type(ct)) {
		if (is_get)
			return; /* like Flask's get_json(silent=True): a non-JSON body is ignored */
		body_unusable(p, ref, "Content-Type must be application/json");
		return;
	}
	char err[160];
	json_object *body = parse_body(r->body, r->body_len, err, sizeof(err));
	if (!body) {
		body_unusable(p, ref, err);
		return;
	}
	json_object_object_foreach(body, key, val) {
		json_object_object_add(p->obj, key, json_object_get(val));
	}
	json_object_put(body);
}

void params_load(struct req *r, struct params *p) { load(r, p, false); }
void params_load_ref(struct req *r, struct params *p) { load(r, p, true); }

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

/* ---- the reference's validators ------------------------------------------------------- */

static const char *const VM_ID_NAMES[] = {"vm_id", "lxc_id", "container_id", NULL};
static const char *const NEW_VM_ID_NAMES[] = {"new_vm_id", "new_lxc_id", NULL};
const char *const REF_NEW_NAME_NAMES[] = {"new_vm_name", "new_lxc_name", "hostname", NULL};
const char *const REF_SNAPSHOT_NAMES[] = {"snapshot_name", NULL};
const char *const REF_NODE_NAMES[] = {"node_name", NULL};
static const char *const CORES_NAMES[] = {"cores", NULL};
static const char *const MEMORY_NAMES[] = {"memory", NULL};
static const char *const DISK_NAMES[] = {"disk_size", NULL};

const struct ref_int_rule REF_VM_ID = {VM_ID_NAMES, 100, 999999, "Container ID", "", "container ID"};
const struct ref_int_rule REF_NEW_VM_ID = {NEW_VM_ID_NAMES, 100, 999999, "Container ID", "", "container ID"};
const struct ref_int_rule REF_CORES = {CORES_NAMES, 1, 128, "Cores", "", "cores"};
const struct ref_int_rule REF_MEMORY = {MEMORY_NAMES, 64, 1048576, "Memory", " MB", "memory"};
const struct ref_int_rule REF_DISK_SIZE = {DISK_NAMES, 1, 10240, "Disk size", " GB", "disk size"};

/* A bounded writer: output past the end is dropped and the text ends in "...". */
struct pyw {
	char *b;
	size_t len, pos;
	bool full;
};

static void pw_raw(struct pyw *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n && !w->full; i++) {
		if (w->pos + 4 >= w->len) { /* room for "..." and the NUL */
			/* never cut a UTF-8 sequence: back off to its first byte */
			while (w->pos > 0 && ((unsigned char)w->b[w->pos - 1] & 0xC0) == 0x80)
				w->pos--;
			if (w->pos > 0 && ((unsigned char)w->b[w->pos - 1] & 0xC0) == 0xC0)
				w->pos--;
			memcpy(w->b + w->pos, "...", 3);
			w->pos += 3;
			w->full = true;
			break;
		}
		w->b[w->pos++] = s[i];
	}
	w->b[w->pos] = '\0';
}

static void pw_str(struct pyw *w, const char *s) { pw_raw(w, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	unsigned min;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0) { need = 2; min = 0x80; }
	else if ((s[0] & 0xF0) == 0xE0) { need = 3; min = 0x800; }
	else if ((s[0] & 0xF8) == 0xF0) { need = 4; min = 0x10000; }
	else
		return 0;
	if (need > n)
		return 0;
	unsigned cp = s[0] & (0x7F >> need);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

/* A string's characters (quote: 0 as they are, else repr()'s escapes inside that quote). */
static void pw_text(struct pyw *w, const char *s, size_t n, char quote)
{
	for (size_t i = 0; i < n && !w->full;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = utf8_len((const unsigned char *)s + i, n - i);
		if (l == 0) {
			pw_str(w, "?");
			i++;
			continue;
		}
		if (quote && l == 1 && (c < 0x20 || c == 0x7F || c == '\\' || c == (unsigned char)quote)) {
			char e[8];
			if (c == '\n') snprintf(e, sizeof(e), "\\n");
			else if (c == '\r') snprintf(e, sizeof(e), "\\r");
			else if (c == '\t') snprintf(e, sizeof(e), "\\t");
			else if (c == '\\' || c == (unsigned char)quote) snprintf(e, sizeof(e), "\\%c", c);
			else snprintf(e, sizeof(e), "\\x%02x", c);
			pw_str(w, e);
		} else {
			pw_raw(w, s + i, l);
		}
		i += l;
	}
}

/* Python's repr() of a float: the shortest digits that read back, fixed notation for
 * exponents -4..15 (with ".0" when whole), else "1e+16" / "1.5e-05". */
static void py_float(double d, char *buf, size_t len)
{
	if (isnan(d)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, len, d > 0 ? "inf" : "-inf");
		return;
	}
	char e[40];
	for (int prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, d);
		if (strtod(e, NULL) == d)
			break;
	}
	/* e is "[-]D[.DDD]e[+-]XX" */
	const char *q = e;
	bool neg = *q == '-';
	if (neg)
		q++;
	char digits[24];
	size_t nd = 0;
	for (; *q && *q != 'e' && nd < sizeof(digits) - 1; q++)
		if (*q != '.')
			digits[nd++] = *q;
	digits[nd] = '\0';
	int exp = *q == 'e' ? atoi(q + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	char out[64];
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	if (exp >= -4 && exp < 16) {
		if (exp >= 0) {
			for (int i = 0; i <= exp; i++)
				out[o++] = (size_t)i < nd ? digits[i] : '0';
			out[o++] = '.';
			if ((size_t)exp + 1 < nd)
				for (size_t i = (size_t)exp + 1; i < nd; i++)
					out[o++] = digits[i];
			else
				out[o++] = '0';
		} else {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -exp - 1; i++)
				out[o++] = '0';
			for (size_t i = 0; i < nd; i++)
				out[o++] = digits[i];
		}
		out[o] = '\0';
	} else {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (size_t i = 1; i < nd; i++)
				out[o++] = digits[i];
		}
		snprintf(out + o, sizeof(out) - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	snprintf(buf, len, "%s", out);
}

static void py_repr(struct pyw *w, json_object *v, int depth);

static void py_repr_string(struct pyw *w, const char *s, size_t n)
{
	/* single quotes, unless the text has one and no double quote */
	char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
	char qs[2] = {quote, '\0'};
	pw_str(w, qs);
	pw_text(w, s, n, quote);
	pw_str(w, qs);
}

static void py_scalar(struct pyw *w, json_object *v, int depth)
{
	char num[64];
	switch (json_object_get_type(v)) {
	case json_type_null: pw_str(w, "None"); break;
	case json_type_boolean: pw_str(w, json_object_get_boolean(v) ? "True" : "False"); break;
	case json_type_int: pw_str(w, json_object_to_json_string(v)); break;
	case json_type_double:
		py_float(json_object_get_double(v), num, sizeof(num));
		pw_str(w, num);
		break;
	case json_type_string:
		py_repr_string(w, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_array: {
		pw_str(w, "[");
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n && !w->full; i++) {
			if (i)
				pw_str(w, ", ");
			py_repr(w, json_object_array_get_idx(v, i), depth + 1);
		}
		pw_str(w, "]");
		break;
	}
	case json_type_object: {
		pw_str(w, "{");
		bool first = true;
		json_object_object_foreach(v, key, val) {
			if (w->full)
				break;
			if (!first)
				pw_str(w, ", ");
			first = false;
			py_repr_string(w, key, strlen(key));
			pw_str(w, ": ");
			py_repr(w, val, depth + 1);
		}
		pw_str(w, "}");
		break;
	}
	}
}

static void py_repr(struct pyw *w, json_object *v, int depth)
{
	if (depth > JSON_MAX_DEPTH) {
		pw_str(w, "...");
		return;
	}
	py_scalar(w, v, depth);
}

void py_str(json_object *v, char *buf, size_t len)
{
	if (len == 0)
		return;
	struct pyw w = {buf, len, 0, false};
	buf[0] = '\0';
	if (v && json_object_is_type(v, json_type_string))
		pw_text(&w, json_object_get_string(v), (size_t)json_object_get_string_len(v), 0);
	else
		py_repr(&w, v, 0);
}

void py_repr_text(const char *s, char *buf, size_t len)
{
	if (len == 0)
		return;
	struct pyw w = {buf, len, 0, false};
	buf[0] = '\0';
	py_repr_string(&w, s, strlen(s));
}

/* The decimal digits of a whole number too big for int64, as Python's int() would print
 * it; false when `v` is no such number (then it is a format error). */
static bool big_integer_text(json_object *v, char *buf, size_t len)
{
	switch (json_object_get_type(v)) {
	case json_type_int: /* json-c saturates beyond 64 bits: the nearest it can say */
		snprintf(buf, len, "%s", json_object_to_json_string(v));
		return true;
	case json_type_double: {
		double d = json_object_get_double(v);
		if (!isfinite(d) || d != floor(d))
			return false;
		snprintf(buf, len, "%.0f", d); /* exact: a double this large is a whole number */
		return true;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);
		bool neg = *s == '-';
		if (*s == '+' || *s == '-')
			s++;
		while (*s == '0' && s[1])
			s++;
		snprintf(buf, len, "%s%s", neg ? "-" : "", s);
		return true;
	}
	default:
		return false;
	}
}

bool params_ref_int(struct params *p, const struct ref_int_rule *rule, long long *out)
{
	json_object *v;
	if (!lookup(p, rule->names, &v)) {
		params_fail(p, "Missing required field: %s", rule->names[0]);
		return false;
	}
	long long x = 0;
	int rc = v ? json_to_ll(v, &x) : -1;
	char shown[240];
	if (rc == 0 && x >= rule->lo && x <= rule->hi) {
		*out = x;
		return true;
	}
	if (rc == 0) {
		params_fail(p, "%s must be between %lld and %lld%s, got %lld", rule->what, rule->lo, rule->hi,
			    rule->unit, x);
	} else if (rc == -2 && big_integer_text(v, shown, sizeof(shown))) {
		params_fail(p, "%s must be between %lld and %lld%s, got %s", rule->what, rule->lo, rule->hi,
			    rule->unit, shown);
	} else {
		py_str(v, shown, sizeof(shown));
		params_fail(p, "Invalid %s format: %s", rule->format, shown);
	}
	return false;
}

bool params_ref_name(struct params *p, const char *const names[], enum name_kind kind, char *out,
		     size_t outlen)
{
	static const char *const what[] = {"Snapshot name", "Hostname", "Node name"};
	static const char *const pattern[] = {
		"Snapshot name must contain only alphanumeric characters, hyphens, and underscores (max 40 chars)",
		"Hostname must be RFC 1123 compliant (alphanumeric and hyphens, max 63 chars)",
		"Node name must be alphanumeric with hyphens or dots (max 63 chars)",
	};
	json_object *v;
	out[0] = '\0';
	if (!lookup(p, names, &v)) {
		params_fail(p, "Missing required field: %s", names[0]);
		return false;
	}
	if (!v || !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		params_fail(p, "%s must be a non-empty string", what[kind]);
		return false;
	}
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	bool ok = len < outlen && strlen(s) == len; /* not too long, no embedded NUL */
	if (ok) {
		memcpy(out, s, len + 1);
		if (kind == NAME_HOST)
			for (char *c = out; *c; c++)
				if (*c == '_')
					*c = '-';
		ok = name_valid(kind, out);
	}
	if (!ok) {
		char shown[240];
		py_str(v, shown, sizeof(shown));
		params_fail(p, "%s: %s", pattern[kind], shown);
		out[0] = '\0';
		return false;
	}
	return true;
}

/*
 * pve/ctconfig.c — the limits of a container's Proxmox config, through pct or the REST API.
 *
 * `pct config` prints "key: value" lines (the main section first; snapshot sections follow
 * after a "[name]" line and are not read). The REST API answers {"data":{...}} where
 * numbers may come as JSON numbers or strings: both are accepted, anything else is not.
 * Besides the limits, the hostname (for people) and the tags (the daemon's per-container
 * exclusion and tier, daemon/actuation.c) are kept; a bad one of those is dropped, never
 * an error, since they are not limits.
 */
#include "pve/ctconfig.h"

#include <errno.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/proc.h"
#include "pve/backend.h"

static int parse_uint(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!v || !(*v >= '0' && *v <= '9'))
		return -EBADMSG;
	unsigned long long x = strtoull(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end || x < lo || x > hi)
		return -EBADMSG;
	*out = x;
	return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	if (!v || !((*v >= '0' && *v <= '9') || *v == '.'))
		return -EBADMSG;
	double x = strtod(v, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || *end || !(x >= lo && x <= hi))
		return -EBADMSG;
	*out = x;
	return 0;
}

/* Proxmox's own rule for hostname: a DNS name, labels of letters, digits and '-'. */
static bool valid_hostname(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(((struct pve_limits *)0)->hostname) || v[0] == '-' || v[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* ---- tags ---------------------------------------------------------------------------- */

static bool tag_sep(char c)
{
	return c == ';' || c == ',' || c == ' ' || c == '\t';
}

static bool tag_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       (!first && (c == '-' || c == '+' || c == '.'));
}

bool pve_tag_valid(const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > 127)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!tag_char(tag[i], i == 0))
			return false;
	return true;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Calls fn for each tag of the list (start, length); stops when it returns true. */
static bool tags_each(const char *tags, bool (*fn)(const char *t, size_t n, void *arg), void *arg)
{
	const char *p = tags;
	while (*p) {
		while (*p && tag_sep(*p))
			p++;
		const char *t = p;
		while (*p && !tag_sep(*p))
			p++;
		if (p > t && fn(t, (size_t)(p - t), arg))
			return true;
	}
	return false;
}

struct tag_match {
	const char *want;
	size_t want_len;
	bool prefix;
	char *out;
	size_t out_len;
};

static bool tag_matches(const char *t, size_t n, void *arg)
{
	struct tag_match *m = arg;
	if (m->prefix ? n <= m->want_len : n != m->want_len)
		return false;
	for (size_t i = 0; i < m->want_len; i++)
		if (lower(t[i]) != lower(m->want[i]))
			return false;
	if (m->prefix) {
		size_t k = n - m->want_len;
		if (k >= m->out_len)
			return false; /* a suffix too long to be a tier name */
		for (size_t i = 0; i < k; i++)
			m->out[i] = t[m->want_len + i];
		m->out[k] = '\0';
	}
	return true;
}

bool pve_tags_has(const char *tags, const char *tag)
{
	struct tag_match m = {.want = tag, .want_len = strlen(tag)};
	return m.want_len > 0 && tags_each(tags, tag_matches, &m);
}

bool pve_tags_suffix(const char *tags, const char *prefix, char *out, size_t len)
{
	struct tag_match m = {.want = prefix, .want_len = strlen(prefix), .prefix = true, .out = out,
			      .out_len = len};
	return m.want_len > 0 && len > 0 && tags_each(tags, tag_matches, &m);
}

/* Keeps the tags that fit, cut at the last separator before the end of the buffer. */
static void set_tags(struct pve_limits *out, const char *val)
{
	size_t n = strlen(val), cap = sizeof(out->tags) - 1;
	if (n > cap) {
		n = cap;
		while (n > 0 && !tag_sep(val[n]))
			n--;
	}
	memcpy(out->tags, val, n);
	out->tags[n] = '\0';
}

/* ---- limits ------------------------------------------------------------------------- */

static int set_key(struct pve_limits *out, const char *key, const char *val)
{
	uint64_t u;
	if (!strcmp(key, "tags")) {
		set_tags(out, val);
	} else if (!strcmp(key, "hostname")) {
		if (valid_hostname(val))
			snprintf(out->hostname, sizeof(out->hostname), "%s", val);
	} else if (!strcmp(key, "cores")) {
		if (parse_uint(val, 1, 8192, &u))
			return -EBADMSG;
		out->cores = (unsigned)u;
	} else if (!strcmp(key, "memory")) {
		if (parse_uint(val, 16, 1ull << 30, &u))
			return -EBADMSG;
		out->memory_mb = u;
	} else if (!strcmp(key, "cpulimit")) {
		if (parse_double(val, 0, 8192, &out->cpulimit))
			return -EBADMSG;
	}
	return 0;
}

static bool limit_key_line(const char *p, size_t n)
{
	static const char *const keys[] = {"cores: ", "memory: ", "cpulimit: "};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t kl = strlen(keys[i]);
		if (n >= kl && memcmp(p, keys[i], kl) == 0)
			return true;
	}
	return false;
}

int pve_limits_from_pct_text(const char *text, struct pve_limits *out)
{
	*out = (struct pve_limits){.memory_mb = 512};
	char line[1024];
	const char *p = text;
	bool any = false;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line)) {
			/* A long line is a description, a mount point or a raw lxc.* key, never one
			 * of ours (those are a few characters): skip it, unless it claims to be. */
			if (limit_key_line(p, n))
				return -EBADMSG;
			any = any || memchr(p, ':', n) != NULL;
			p = nl ? nl + 1 : NULL;
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : NULL;
		if (line[0] == '[')
			break; /* a snapshot section: not the current config */
		char *colon = strstr(line, ": ");
		if (line[0] == '#' || !colon)
			continue;
		*colon = '\0';
		any = true;
		if (set_key(out, line, colon + 2))
			return -EBADMSG;
	}
	return any ? 0 : -EBADMSG;
}

int pve_limits_from_json(const char *text, struct pve_limits *out)
{
	*out = (struct pve_limits){.memory_mb = 512};
	struct json_object *root = json_tokener_parse(text), *data, *v;
	int rc = 0;
	if (!root || !json_object_object_get_ex(root, "data", &data) ||
	    !json_object_is_type(data, json_type_object)) {
		rc = -EBADMSG;
		goto out;
	}
	static const char *keys[] = {"cores", "memory", "cpulimit", "hostname", "tags"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == 0; i++) {
		if (!json_object_object_get_ex(data, keys[i], &v))
			continue;
		char buf[64];
		bool text_key = !strcmp(keys[i], "hostname") || !strcmp(keys[i], "tags");
		if (text_key && !json_object_is_type(v, json_type_string))
			continue; /* not a name: not kept, not an error */
		if (!strcmp(keys[i], "tags")) {
			set_tags(out, json_object_get_string(v));
			continue;
		}
		if (json_object_is_type(v, json_type_int))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(v));
		else if (json_object_is_type(v, json_type_double))
			snprintf(buf, sizeof(buf), "%.6f", json_object_get_double(v));
		else if (json_object_is_type(v, json_type_string)) {
			if (json_object_get_string_len(v) >= (int)sizeof(buf)) {
				if (!strcmp(keys[i], "hostname"))
					continue; /* not a valid name: not kept, not an error */
				rc = -EBADMSG;
				break;
			}
			snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
		}
		else {
			rc = -EBADMSG;
			break;
		}
		rc = set_key(out, keys[i], buf);
	}
out:
	json_object_put(root);
	return rc;
}

double pve_limits_cpu(const struct pve_limits *l)
{
	if (l->cpulimit > 0 && (l->cores == 0 || l->cpulimit < l->cores))
		return l->cpulimit;
	return l->cores;
}

static int pct_read_config(const struct persist_settings *s, uint32_t vmid,
                           struct pve_limits *out, char *detail, size_t len)
{
	char id[16];
	snprintf(id, sizeof(id), "%u", vmid);
	const char *argv[] = {s->pct_path[0] ? s->pct_path : "pct", "config", id, "--current", NULL};
	struct proc_opts opts = {.timeout_ms = s->call_timeout_ms, .max_capture = 65536,
				 .search_path = s->pct_path[0] == '\0'};
	struct proc_result res;
	enum proc_err rc = proc_run(argv, &opts, &res);
	int ret;
	if (proc_succeeded(rc, &res)) {
		ret = pve_limits_from_pct_text(res.out, out);
		snprintf(detail, len, "pct config %u: %s", vmid, ret ? "unparsable output" : "ok");
	} else {
		char what[200];
		proc_describe(rc, &res, what, sizeof(what));
		snprintf(detail, len, "pct config %u: %s", vmid, what);
		ret = rc == PROC_OK && res.exited && persist_classify_error(res.err) == PERSIST_GONE
		      ? -ENOENT : -EIO;
	}
	proc_result_free(&res);
	return ret;
}

int pve_config_read(const struct persist_settings *s, uint32_t vmid, struct pve_limits *out,
                    char *detail, size_t len)
{
	if (s->backend == PERSIST_BACKEND_API)
		return persist_api_read_config(s, vmid, out, detail, len);
	return pct_read_config(s, vmid, out, detail, len);
}

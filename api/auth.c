/*
 * auth.c — X-API-Key checking as the reference does it (401 missing, 403 wrong, 500 when
 * authentication is on but no key is configured), with a comparison whose time does not
 * depend on where the strings differ or on which configured key matched: every key is
 * compared in full, every time.
 *
 * Where the key comes from: the X-API-Key header; on the reference's routes also the
 * ?api_key= query parameter, which the reference (1.2.0) accepts, so its clients keep
 * working. A URL ends up in proxy logs, shell history and browser history, so each client
 * address that sends the key that way is warned about once (a bounded table; the key
 * itself is never logged, nor is any query string). lxcscale's own routes (/api/v1) take
 * the header only.
 */
#include "internal.h"

#include <string.h>

bool const_time_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	/* Walk the longer length; out-of-range bytes compare against 0 and the length
	 * difference is folded into the result, so no early exit exists. */
	size_t n = alen > blen ? alen : blen;
	volatile unsigned char diff = (unsigned char)(alen != blen);
	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		unsigned char y = i < blen ? (unsigned char)b[i] : 0;
		diff |= (unsigned char)(x ^ y);
	}
	return diff == 0;
}

enum auth_result auth_check(const struct api_settings *s, const char *key)
{
	size_t usable = 0;
	for (size_t i = 0; i < s->n_api_keys; i++)
		if (s->api_keys[i] && s->api_keys[i][0])
			usable++;
	if (usable == 0)
		return AUTH_MISCONFIGURED;
	if (!key || !key[0])
		return AUTH_MISSING;
	size_t klen = strlen(key);
	bool match = false;
	for (size_t i = 0; i < s->n_api_keys; i++) {
		const char *k = s->api_keys[i];
		if (!k || !k[0])
			continue;
		match |= const_time_equal(key, klen, k, strlen(k));
	}
	return match ? AUTH_OK : AUTH_WRONG;
}

const char *auth_request_key(struct req *r, bool *from_query)
{
	*from_query = false;
	const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-API-Key");
	if (key && key[0])
		return key; /* the header wins, as in the reference (header or parameter) */
	if (r->route && !(r->route->flags & ROUTE_OWN)) {
		const char *q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "api_key");
		if (q && q[0]) {
			*from_query = true;
			return q;
		}
	}
	return key;
}

void auth_warn_query_key(struct req *r)
{
	struct api_server *srv = r->srv;
	bool warn = false, last = false;
	pthread_mutex_lock(&srv->qkey_lock);
	bool seen = false;
	for (size_t i = 0; i < srv->n_qkey_warned && !seen; i++)
		seen = strcmp(srv->qkey_warned[i], r->client_ip) == 0;
	if (!seen) {
		if (srv->n_qkey_warned < QKEY_WARN_MAX) {
			snprintf(srv->qkey_warned[srv->n_qkey_warned++], sizeof(srv->qkey_warned[0]), "%s",
				 r->client_ip);
			warn = true;
		} else if (!srv->qkey_table_full) {
			srv->qkey_table_full = true;
			last = true;
		}
	}
	pthread_mutex_unlock(&srv->qkey_lock);
	if (warn)
		api_log(srv, API_LOG_WARNING,
			"client %s sent its API key as ?api_key= in the URL (%s %s): accepted, as the "
			"reference did, but URLs are kept in proxy logs and shell history; send it in the "
			"X-API-Key header instead (said once per client)",
			r->client_ip[0] ? r->client_ip : "?", r->method, r->route ? r->route->path : "?");
	else if (last)
		api_log(srv, API_LOG_WARNING,
			"%d clients have sent their API key as ?api_key= in the URL; more do: send it in "
			"the X-API-Key header instead (no further warnings)", QKEY_WARN_MAX);
}

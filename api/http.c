/*
 * http.c — the libmicrohttpd side: start/stop, one request's life, routing, and the
 * checks every route shares, in the reference's order: rate limit → API key → handler.
 *
 * Bodies are collected up to api.max_body_bytes; a request that announces (or sends)
 * more gets 413 at once, before the rest is read. Paths are matched exactly (no
 * normalisation, so "/scale//cores" or "/scale/../scale/cores" are simply unknown);
 * HEAD is GET without a body, OPTIONS lists the allowed methods, a known path with the
 * wrong method is 405, an unknown path 404. Every answer is counted in the Prometheus
 * metrics with a bounded set of label values (an OPTIONS under its path's route, a wrong
 * method as unmatched, as the reference's Flask counts them).
 *
 * The key check (auth.c) takes X-API-Key, and on the reference's routes also ?api_key=
 * (warned about once per client); a missing key is answered in the words of the route's
 * side: the reference's text on its routes, lxcscale's on /api/v1.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TLS_FILE_MAX (1024 * 1024)
#define DISCARD_MAX (16 * 1024 * 1024) /* body bytes read and dropped before hanging up */

int64_t api_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t api_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void api_log(struct api_server *srv, enum api_log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (srv && srv->set.log) {
		srv->set.log(srv->set.log_arg, lvl, buf);
		return;
	}
	if (lvl > API_LOG_INFO)
		return;
	static const char *const names[] = {"error", "warning", "info", "debug"};
	fprintf(stderr, "lxcscale api %s: %s\n", names[lvl], buf);
}

void api_settings_defaults(struct api_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->host = "127.0.0.1";
	s->port = 5000;
	s->rate_limit_enabled = true;
	s->rate_limit_max = 120;
	s->rate_limit_window_s = 60;
	s->rate_limit_max_clients = 4096;
	s->lxc_timeout_s = 30;
	s->max_body_bytes = 65536;
	s->max_connections = 256;
	s->per_ip_connections = 64;
	s->connection_timeout_s = 30;
	s->health_cache_s = 10;
	s->ui_enabled = true;
}

bool api_host_is_loopback(const char *host)
{
	if (!host || !*host)
		return false;
	if (!strcmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

/* ---- routing ---------------------------------------------------------------------------- */

static bool parse_path_id(const char *seg, size_t len, uint32_t *id)
{
	if (len == 0 || len > 6)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (seg[i] < '0' || seg[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(seg[i] - '0');
	}
	if (v < 100 || v > 999999)
		return false;
	*id = v;
	return true;
}

/* Does `url` name route `rt`'s path? For {id} routes *id_ok says whether the id is valid. */
static bool path_matches(const struct route *rt, const char *url, uint32_t *id, bool *id_ok)
{
	if (rt->flags & ROUTE_PREFIX) {
		size_t pl = strlen(rt->prefix);
		return strncmp(url, rt->prefix, pl) == 0 && !strchr(url + pl, '/');
	}
	if (!(rt->flags & ROUTE_PREFIX_ID))
		return strcmp(rt->path, url) == 0;
	size_t pl = strlen(rt->prefix), sl = strlen(rt->suffix);
	size_t ul = strlen(url);
	if (ul <= pl + sl || strncmp(url, rt->prefix, pl) != 0 || strcmp(url + ul - sl, rt->suffix) != 0)
		return false;
	const char *seg = url + pl;
	size_t len = ul - pl - sl;
	if (memchr(seg, '/', len))
		return false;
	*id_ok = parse_path_id(seg, len, id);
	return true;
}

/* ---- responses ---------------------------------------------------------------------------- */

static enum MHD_Result queue(struct req *r)
{
	struct MHD_Response *resp = r->custom;
	if (!resp) {
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body ? r->resp_body : (void *)"",
						       r->resp_body ? MHD_RESPMEM_MUST_FREE
								    : MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		r->resp_body = NULL; /* owned by the response now */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					r->content_type ? r->content_type : "application/json");
	}
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (int i = 0; i < r->n_headers; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	if (r->body_too_big) /* the rest of the body is not read: do not reuse the connection */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->custom = NULL;
	r->queued = true;

	int ri = r->route ? (int)(r->route - api_routes) : r->metrics_route;
	int64_t dur = api_now_ns() - r->start_ns;
	metrics_request(&r->srv->metrics, r->method, ri, r->status, dur);
	/* No query string in the log: keys or names there are nobody's business. */
	api_log(r->srv, API_LOG_DEBUG, "%s %s %s %d %lldus", r->client_ip, r->method,
		r->route ? r->route->path : "-", r->status, (long long)(dur / 1000));
	return ret;
}

static void fail_scale(struct req *r, enum metrics_reason why)
{
	if (!r->route)
		return;
	unsigned f = r->route->flags;
	enum metrics_resource res = (f & ROUTE_SCALE_CPU) ? RES_CPU : (f & ROUTE_SCALE_RAM) ? RES_RAM : RES_STORAGE;
	if (f & (ROUTE_SCALE_CPU | ROUTE_SCALE_RAM | ROUTE_SCALE_STORAGE))
		metrics_scaling_failure(&r->srv->metrics, 0, res, why);
}

/* Rate limit then key; false when the request has been answered. */
static bool gatekeeper(struct req *r)
{
	struct api_server *srv = r->srv;
	const struct route *rt = r->route;
	if ((rt->flags & ROUTE_RL) && srv->rl && !ratelimit_is_loopback(r->client_ip)) {
		struct rl_verdict v;
		ratelimit_check(srv->rl, r->client_ip, api_now_ns() / 1000000, api_wall_ms(), &v);
		if (!v.allowed) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "status", json_object_new_string("error"));
			json_object_object_add(o, "error", json_object_new_string(
								    "Rate limit exceeded. Please try again later."));
			json_object_object_add(o, "retry_after_seconds", json_object_new_int64(v.retry_after_s));
			json_object_object_add(o, "limit", json_object_new_int64(v.limit));
			json_object_object_add(o, "window_seconds",
					       json_object_new_int64(srv->set.rate_limit_window_s));
			resp_json(r, 429, o);
			resp_set_header(r, "Retry-After", "%u", v.retry_after_s);
			resp_set_header(r, "X-RateLimit-Limit", "%u", v.limit);
			resp_set_header(r, "X-RateLimit-Remaining", "0");
			resp_set_header(r, "X-RateLimit-Reset", "%lld", (long long)v.reset_epoch_s);
			fail_scale(r, REASON_RATE_LIMITED);
			return false;
		}
		resp_set_header(r, "X-RateLimit-Limit", "%u", v.limit);
		resp_set_header(r, "X-RateLimit-Remaining", "%u", v.remaining);
		resp_set_header(r, "X-RateLimit-Reset", "%lld", (long long)v.reset_epoch_s);
	}
	if ((rt->flags & ROUTE_AUTH) && srv->set.auth_enabled) {
		bool from_query = false;
		const char *key = auth_request_key(r, &from_query);
		enum auth_result ar = auth_check(&srv->set, key);
		if (from_query && ar != AUTH_MISCONFIGURED)
			auth_warn_query_key(r);
		switch (ar) {
		case AUTH_OK:
			break;
		case AUTH_MISSING:
			/* each set of routes names the ways it takes the key */
			resp_error(r, 401, (rt->flags & ROUTE_OWN)
						   ? "Missing API key. Provide it in the X-API-Key header."
						   : "Missing API key. Provide via X-API-Key header or api_key parameter.");
			fail_scale(r, REASON_UNAUTHENTICATED);
			return false;
		case AUTH_WRONG:
			api_log(srv, API_LOG_WARNING, "invalid API key from %s for %s", r->client_ip, rt->path);
			resp_error(r, 403, "Invalid API key");
			fail_scale(r, REASON_FORBIDDEN);
			return false;
		case AUTH_MISCONFIGURED:
			resp_error(r, 500, "API authentication misconfigured");
			return false;
		}
	}
	return true;
}

static void dispatch(struct req *r)
{
	const char *m = r->method;
	const char *match_method = !strcmp(m, "HEAD") ? "GET" : m;
	bool path_known = false;
	char allow[64] = "";
	r->metrics_route = -1;

	for (size_t i = 0; i < api_n_routes; i++) {
		const struct route *rt = &api_routes[i];
		uint32_t id = 0;
		bool id_ok = false;
		if (!path_matches(rt, r->url, &id, &id_ok))
			continue;
		if (!path_known)
			r->metrics_route = (int)i; /* OPTIONS is counted under the path's route */
		path_known = true;
		size_t al = strlen(allow);
		snprintf(allow + al, sizeof(allow) - al, "%s%s%s", al ? ", " : "", rt->method,
			 !strcmp(rt->method, "GET") ? ", HEAD" : "");
		if (strcmp(rt->method, match_method) != 0)
			continue;
		r->route = rt;
		r->path_id = id;
		r->path_id_ok = id_ok;
		break;
	}
	if (!r->route) {
		if (!path_known) {
			resp_error(r, 404, "Not found");
			return;
		}
		if (!strcmp(m, "OPTIONS")) {
			resp_text(r, 200, "text/plain", "", 0);
			resp_set_header(r, "Allow", "%s, OPTIONS", allow);
			return;
		}
		r->metrics_route = -1; /* a wrong method is unmatched, as for the reference */
		resp_error(r, 405, "Method not allowed");
		resp_set_header(r, "Allow", "%s, OPTIONS", allow);
		return;
	}
	if (!gatekeeper(r))
		return;
	if ((r->route->flags & ROUTE_PREFIX_ID) && !r->path_id_ok) {
		json_object *errs = json_object_new_array();
		json_object_array_add(errs, json_object_new_string("id must be an integer between 100 and 999999"));
		resp_validation(r, errs);
		return;
	}
	r->route->fn(r);
	if (!r->status && !r->custom)
		resp_internal(r, "handler produced no response");
}

/* ---- libmicrohttpd callbacks -------------------------------------------------------------- */

static void client_address(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	buf[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
}

static void too_big(struct req *r)
{
	r->body_too_big = true;
	resp_error(r, 413, "Request body too large");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct api_server *srv = cls;
	struct req *r = *con_cls;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->srv = srv;
		r->conn = conn;
		r->method = method;
		r->url = url;
		r->metrics_route = -1;
		r->start_ns = api_now_ns();
		client_address(conn, r->client_ip, sizeof(r->client_ip));
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || n > srv->set.max_body_bytes) {
				too_big(r);
				return queue(r);
			}
		}
		return MHD_YES;
	}

	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->queued)
			return MHD_YES;
		if (r->body_too_big || r->body_len + n > srv->set.max_body_bytes) {
			/* libmicrohttpd cannot answer in the middle of a chunked upload: read and
			 * drop the rest, answer 413 at the end, and hang up on a client that sends
			 * more than DISCARD_MAX. */
			r->body_too_big = true;
			r->discarded += n;
			return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		if (r->body_len + n + 1 > r->body_cap) {
			size_t cap = r->body_cap ? r->body_cap : 1024;
			while (cap < r->body_len + n + 1)
				cap *= 2;
			if (cap > srv->set.max_body_bytes + 1)
				cap = srv->set.max_body_bytes + 1;
			char *nb = realloc(r->body, cap);
			if (!nb)
				return MHD_NO;
			r->body = nb;
			r->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload_data, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
		return MHD_YES;
	}

	if (r->queued)
		return MHD_YES;
	if (r->body_too_big)
		too_big(r);
	else
		dispatch(r);
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *r = *con_cls;
	if (!r)
		return;
	free(r->body);
	free(r->resp_body);
	if (r->custom)
		MHD_destroy_response(r->custom);
	free(r);
	*con_cls = NULL;
}

#define MHD_LOG_REPEAT_S 10
#define MHD_LOG_SLOTS (sizeof(((struct api_server *)0)->mhd_log) / sizeof(((struct api_server *)0)->mhd_log[0]))

/* A connection flood makes libmicrohttpd report every refused connection ("Server reached
 * connection limit"; with fds exhausted, "Error accepting connection" and "Hit process or
 * system resource limit" alternating, thousands a second): that must not become thousands
 * of log lines. A message seen within MHD_LOG_REPEAT_S (among the last few distinct ones)
 * is counted, not logged; the count goes with its next logged occurrence. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct api_server *srv = cls;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	int64_t now = api_now_ns();
	unsigned long suppressed = 0;
	size_t slot = 0;
	pthread_mutex_lock(&srv->mhd_log_lock);
	for (size_t i = 0; i < MHD_LOG_SLOTS; i++) {
		if (srv->mhd_log[i].last_ns &&
		    strncmp(srv->mhd_log[i].text, buf, sizeof(srv->mhd_log[i].text) - 1) == 0) {
			slot = i;
			goto found;
		}
		if (srv->mhd_log[i].last_ns < srv->mhd_log[slot].last_ns)
			slot = i; /* the oldest (or an unused) slot, for a new message */
	}
	/* a prefix identifies the message; truncation is intended */
	size_t tl = strnlen(buf, sizeof(srv->mhd_log[slot].text) - 1);
	memcpy(srv->mhd_log[slot].text, buf, tl);
	srv->mhd_log[slot].text[tl] = '\0';
	srv->mhd_log[slot].suppressed = 0;
	srv->mhd_log[slot].last_ns = 0;
found:
	if (srv->mhd_log[slot].last_ns && now - srv->mhd_log[slot].last_ns < MHD_LOG_REPEAT_S * 1000000000LL) {
		srv->mhd_log[slot].suppressed++;
		pthread_mutex_unlock(&srv->mhd_log_lock);
		return;
	}
	suppressed = srv->mhd_log[slot].suppressed;
	srv->mhd_log[slot].suppressed = 0;
	srv->mhd_log[slot].last_ns = now;
	pthread_mutex_unlock(&srv->mhd_log_lock);
	if (suppressed)
		api_log(srv, API_LOG_WARNING, "http: %s (%lu more like it in the last %d s)", buf,
			suppressed, MHD_LOG_REPEAT_S);
	else
		api_log(srv, API_LOG_WARNING, "http: %s", buf);
}

/* ---- start / stop ------------------------------------------------------------------------ */

static char *read_small_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > TLS_FILE_MAX) {
		snprintf(err, errlen, "%s: empty, unreadable or larger than 1 MiB", path);
		close(fd);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	return buf;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static void free_server(struct api_server *srv)
{
	ratelimit_free(srv->rl);
	metrics_destroy(&srv->metrics);
	pthread_mutex_destroy(&srv->health.lock);
	pthread_mutex_destroy(&srv->containers_cache.lock);
	free(srv->containers_cache.json);
	pthread_mutex_destroy(&srv->sse_lock);
	pthread_mutex_destroy(&srv->mhd_log_lock);
	pthread_mutex_destroy(&srv->qkey_lock);
	pthread_cond_destroy(&srv->sse_cond);
	free(srv->tls_cert);
	if (srv->tls_key) {
		explicit_bzero(srv->tls_key, strlen(srv->tls_key));
		free(srv->tls_key);
	}
	free(srv);
}

struct api_server *api_start(const struct api_settings *settings, const struct api_backend *backend,
			     char *err, size_t errlen)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (settings)
		srv->set = *settings;
	else
		api_settings_defaults(&srv->set);
	struct api_settings *s = &srv->set;
	if (!s->host || !*s->host)
		s->host = "127.0.0.1";
	if (!s->max_body_bytes)
		s->max_body_bytes = 65536;
	if (!s->max_connections)
		s->max_connections = 256;
	if (!s->connection_timeout_s)
		s->connection_timeout_s = 30;
	if (backend) {
		srv->backend = *backend;
		srv->has_backend = true;
	}
	srv->host_cpus = s->host_cpus ? s->host_cpus : online_cpus();
	pthread_mutex_init(&srv->health.lock, NULL);
	pthread_mutex_init(&srv->containers_cache.lock, NULL);
	pthread_mutex_init(&srv->sse_lock, NULL);
	pthread_mutex_init(&srv->mhd_log_lock, NULL);
	pthread_mutex_init(&srv->qkey_lock, NULL);
	/* SSE keepalive waits are intervals: on the monotonic clock, so setting the date back
	 * an hour does not silence every event stream for an hour */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->sse_cond, &ca);
	pthread_condattr_destroy(&ca);

	struct metrics_route mr[METRICS_MAX_ROUTES];
	size_t nr = api_n_routes < METRICS_MAX_ROUTES ? api_n_routes : METRICS_MAX_ROUTES;
	for (size_t i = 0; i < nr; i++) {
		mr[i].name = api_routes[i].endpoint;
		/* the reference labels a request with its matched rule: the path */
		mr[i].ref_path = (api_routes[i].flags & ROUTE_OWN) ? NULL : api_routes[i].path;
	}
	metrics_init(&srv->metrics, mr, nr);

	if (s->rate_limit_enabled) {
		srv->rl = ratelimit_new(s->rate_limit_max ? s->rate_limit_max : 120,
					s->rate_limit_window_s ? s->rate_limit_window_s : 60,
					s->rate_limit_max_clients ? s->rate_limit_max_clients : 4096);
		if (!srv->rl) {
			snprintf(err, errlen, "invalid rate_limiting settings (max_requests_per_minute "
					      "1..1000000, time_window_seconds 1..86400)");
			free_server(srv);
			return NULL;
		}
	}

	/* Where to listen: numeric addresses only (and "localhost"), no name lookups. */
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	const char *host = !strcmp(s->host, "localhost") ? "127.0.0.1" : s->host;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(s->port);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(s->port);
		/* "::" means every address, IPv4 included (as 0.0.0.0 did for the reference) */
		flags |= IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "server.host '%s' is not a numeric IPv4/IPv6 address", s->host);
		free_server(srv);
		return NULL;
	}

	if (s->tls_cert_file || s->tls_key_file) {
		if (!s->tls_cert_file || !s->tls_key_file) {
			snprintf(err, errlen, "TLS needs both a certificate and a key file");
			free_server(srv);
			return NULL;
		}
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS support");
			free_server(srv);
			return NULL;
		}
		srv->tls_cert = read_small_file(s->tls_cert_file, err, errlen);
		srv->tls_key = srv->tls_cert ? read_small_file(s->tls_key_file, err, errlen) : NULL;
		if (!srv->tls_key) {
			free_server(srv);
			return NULL;
		}
		flags |= MHD_USE_TLS;
	}

	struct MHD_OptionItem opts[16];
	int n = 0;
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, srv};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, s->max_connections, NULL};
	if (s->per_ip_connections)
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
						    s->per_ip_connections, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, s->connection_timeout_s, NULL};
	/* Headers and the read buffer of one connection: 32 KiB bounds header size. */
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, 512 * 1024, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
	if (flags & MHD_USE_TLS) {
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	srv->mhd = MHD_start_daemon(flags | MHD_USE_ERROR_LOG, s->port, NULL, NULL, on_request, srv,
				    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot listen on %s port %u (address in use, or no permission?)",
			 s->host, s->port);
		free_server(srv);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : s->port;
	if (!api_host_is_loopback(s->host)) {
		if (!s->auth_enabled)
			api_log(srv, API_LOG_WARNING,
				"the API listens on %s:%u, which is not a loopback address, and "
				"authentication is disabled: anyone who can reach this port can resize, "
				"snapshot, clone and destroy containers as root. Enable authentication "
				"or bind 127.0.0.1.",
				s->host, srv->port);
		if (!(s->tls_cert_file && s->tls_key_file))
			api_log(srv, API_LOG_WARNING,
				"the API listens on %s:%u without TLS: API keys travel in clear text",
				s->host, srv->port);
	}
	if (s->auth_enabled && auth_check(s, "x") == AUTH_MISCONFIGURED)
		api_log(srv, API_LOG_ERROR, "authentication is enabled but no API key is configured: "
					    "protected routes answer 500");

	api_log(srv, API_LOG_INFO, "API listening on %s%s%s:%u (%s, auth %s, rate limit %s)",
		strchr(s->host, ':') ? "[" : "", s->host, strchr(s->host, ':') ? "]" : "", srv->port,
		(flags & MHD_USE_TLS) ? "https" : "http", s->auth_enabled ? "on" : "off",
		s->rate_limit_enabled ? "on" : "off");
	return srv;
}

uint16_t api_port(const struct api_server *srv)
{
	return srv ? srv->port : 0;
}

void api_stop(struct api_server *srv)
{
	if (!srv)
		return;
	pthread_mutex_lock(&srv->sse_lock);
	srv->stopping = true;
	pthread_cond_broadcast(&srv->sse_cond);
	pthread_mutex_unlock(&srv->sse_lock);
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	free_server(srv);
}

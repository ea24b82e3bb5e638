/*
 * cli/client.c — libcurl plumbing for the CLI's API commands: resolving where the API is,
 * one request with a bounded answer, a server-sent-events reader, and the mapping from
 * HTTP status to the documented exit codes.
 */
#include "cli/client.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define DEFAULT_CONFIG "/etc/lxcscale/lxcscale.yaml"
#define MAX_ANSWER (64 * 1024 * 1024)

bool cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case 'U': c->url = arg; return true;
	case 'K': c->key = arg; return true;
	case 'C': c->config = arg; return true;
	case 'J': c->json = true; return true;
	default: return false;
	}
}

int cli_conn_setup(struct cli_conn *conn, const struct cli_common *c)
{
	memset(conn, 0, sizeof(*conn));
	conn->timeout_s = 30;
	conn->json = c->json;
	const char *url = c->url ? c->url : getenv("LXCSCALE_API_URL");
	const char *key = c->key ? c->key : getenv("LXCSCALE_API_KEY");
	const char *cfg = c->config ? c->config : (access(DEFAULT_CONFIG, R_OK) == 0 ? DEFAULT_CONFIG : NULL);

	if (cfg && (!url || !key)) {
		struct lxcscale_config *conf = config_new();
		struct config_diag *d = calloc(1, sizeof(*d));
		if (!conf || !d) {
			fprintf(stderr, "lxcscale: out of memory\n");
			config_free(conf);
			free(d);
			return CLI_FAIL;
		}
		if (config_load_file(conf, cfg, d) != 0) {
			fprintf(stderr, "lxcscale: cannot read %s%s%s\n", cfg, d->n ? ": " : "",
				d->n ? d->msg[0].text : "");
			config_free(conf);
			free(d);
			return CLI_USAGE;
		}
		if (!url) {
			const char *host = conf->server.host[0] ? conf->server.host : "127.0.0.1";
			/* a wildcard listen address is reached through loopback */
			if (!strcmp(host, "0.0.0.0"))
				host = "127.0.0.1";
			else if (!strcmp(host, "::"))
				host = "::1";
			bool v6 = strchr(host, ':') != NULL;
			bool tls = conf->api.tls_cert[0] != '\0';
			snprintf(conn->base, sizeof(conn->base), "%s://%s%.256s%s:%d", tls ? "https" : "http",
				 v6 ? "[" : "", host, v6 ? "]" : "", conf->server.port);
			if (tls) {
				snprintf(conn->cacert_buf, sizeof(conn->cacert_buf), "%s", conf->api.tls_cert);
				conn->cacert = conn->cacert_buf;
			}
		}
		if (!key && conf->authentication.api_keys.n > 0)
			snprintf(conn->key, sizeof(conn->key), "%s", conf->authentication.api_keys.v[0]);
		config_free(conf);
		free(d);
	}
	if (url) {
		size_t n = strlen(url);
		while (n && url[n - 1] == '/')
			n--;
		if (n == 0 || n >= sizeof(conn->base) ||
		    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
			fprintf(stderr, "lxcscale: --url must start with http:// or https://\n");
			return CLI_USAGE;
		}
		memcpy(conn->base, url, n);
		conn->base[n] = '\0';
	} else if (!conn->base[0]) {
		snprintf(conn->base, sizeof(conn->base), "http://127.0.0.1:5000");
	}
	if (key)
		snprintf(conn->key, sizeof(conn->key), "%s", key);
	return CLI_OK;
}

struct answer {
	char *data;
	size_t len;
	bool too_big;
};

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t len = sz * n;
	if (a->len + len > MAX_ANSWER) {
		a->too_big = true;
		return 0;
	}
	char *nd = realloc(a->data, a->len + len + 1);
	if (!nd)
		return 0;
	a->data = nd;
	memcpy(a->data + a->len, p, len);
	a->len += len;
	a->data[a->len] = '\0';
	return len;
}

static struct curl_slist *headers(const struct cli_conn *conn, bool json, bool sse)
{
	struct curl_slist *h = NULL;
	if (json)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (sse)
		h = curl_slist_append(h, "Accept: text/event-stream");
	if (conn->key[0]) {
		char line[300];
		snprintf(line, sizeof(line), "X-API-Key: %s", conn->key);
		h = curl_slist_append(h, line);
	}
	return h;
}

static CURL *easy(const struct cli_conn *conn, const char *path, char *url, size_t urllen)
{
	snprintf(url, urllen, "%s%s", conn->base, path);
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (conn->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, conn->cacert);
	return c;
}

long cli_request(const struct cli_conn *conn, const char *method, const char *path,
		 const char *json_body, char **body, char *err, size_t errlen)
{
	char url[1024];
	struct answer a = {0};
	*body = NULL;
	CURL *c = easy(conn, path, url, sizeof(url));
	if (!c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	struct curl_slist *h = headers(conn, json_body != NULL, false);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (json_body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, conn->timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	CURLcode rc = curl_easy_perform(c);
	long status = -1;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		*body = a.data ? a.data : strdup("");
	} else {
		snprintf(err, errlen, "%s: %s", url, a.too_big ? "answer too large" : curl_easy_strerror(rc));
		free(a.data);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

struct sse_state {
	cli_sse_fn fn;
	void *arg;
	char buf[65536];
	size_t len;
	bool stop;
};

/* Split the stream into events at blank lines; collect `event:` and `data:` fields. */
static size_t sse_collect(char *p, size_t sz, size_t n, void *ud)
{
	struct sse_state *s = ud;
	size_t len = sz * n;
	for (size_t i = 0; i < len && !s->stop; i++) {
		if (s->len + 1 >= sizeof(s->buf))
			s->len = 0; /* an event larger than the buffer: drop it */
		s->buf[s->len++] = p[i];
		if (s->len >= 2 && s->buf[s->len - 1] == '\n' && s->buf[s->len - 2] == '\n') {
			s->buf[s->len] = '\0';
			char event[64] = "message";
			const char *data = "";
			for (char *line = strtok(s->buf, "\n"); line; line = strtok(NULL, "\n")) {
				if (!strncmp(line, "event: ", 7))
					snprintf(event, sizeof(event), "%s", line + 7);
				else if (!strncmp(line, "data: ", 6))
					data = line + 6;
			}
			if (data[0] && !s->fn(event, data, s->arg))
				s->stop = true;
			s->len = 0;
		}
	}
	return s->stop ? 0 : len;
}

long cli_sse(const struct cli_conn *conn, const char *path, cli_sse_fn fn, void *arg,
	     char *err, size_t errlen)
{
	char url[1024];
	struct sse_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fn = fn;
	s->arg = arg;
	CURL *c = easy(conn, path, url, sizeof(url));
	struct curl_slist *h = headers(conn, false, true);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	/* no total timeout: the stream is meant to last; the server sends keep-alives */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	CURLcode rc = curl_easy_perform(c);
	long status = -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && s->stop)) {
		if (status == 0) {
			snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(rc));
			status = -1;
		}
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(s);
	return status;
}

const char *cli_error_code(const char *body, char *buf, size_t len)
{
	buf[0] = '\0';
	json_object *o = body ? json_tokener_parse(body) : NULL;
	json_object *m;
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "error", &m) &&
	    json_object_is_type(m, json_type_string) && json_object_object_get_ex(o, "status", NULL))
		snprintf(buf, len, "%s", json_object_get_string(m));
	json_object_put(o);
	return buf[0] ? buf : NULL;
}

/* An lxcscale or reference API answers errors as {"status":"error","message":...}. */
static bool our_error_body(json_object *o)
{
	json_object *st;
	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "status", &st) &&
	       json_object_is_type(st, json_type_string) && !strcmp(json_object_get_string(st), "error");
}

int cli_status_to_exit(long status, const char *body, const char *err)
{
	if (status < 0) {
		fprintf(stderr, "lxcscale: %s\n", err);
		return CLI_FAIL;
	}
	if (status >= 200 && status < 300)
		return CLI_OK;
	json_object *o = body ? json_tokener_parse(body) : NULL;
	if (!our_error_body(o)) {
		/* no JSON error: some other server, or a proxy in front of it */
		fprintf(stderr, "lxcscale: HTTP %ld without an lxcscale answer: is --url an lxcscale API? "
			"(body: %.80s%s)\n", status, body && *body ? body : "empty",
			body && strlen(body) > 80 ? "..." : "");
		json_object_put(o);
		return CLI_FAIL;
	}
	json_object *m;
	const char *msg = json_object_object_get_ex(o, "message", &m) ? json_object_get_string(m) : "(no message)";
	char code[48];
	cli_error_code(body, code, sizeof(code));
	fprintf(stderr, "lxcscale: %s (HTTP %ld%s%s)\n", msg, status, code[0] ? ", " : "", code);
	if (status == 400 && json_object_object_get_ex(o, "errors", &m) && json_object_is_type(m, json_type_array))
		for (size_t i = 0; i < json_object_array_length(m); i++)
			fprintf(stderr, "  - %s\n", json_object_get_string(json_object_array_get_idx(m, i)));
	json_object_put(o);
	if (status == 400)
		return CLI_USAGE;
	if (status == 404 && (!strcmp(code, "no_such_container") || !strcmp(code, "not_managed") ||
			      !strcmp(msg, "Container not found")))
		return CLI_NOT_FOUND;
	if (status == 503 && (!strcmp(code, "no_daemon") || !code[0]))
		return CLI_NO_DAEMON;
	if (status == 422 || (status == 503 && !strcmp(code, "cannot_write_here")))
		return CLI_NOT_APPLIED;
	return CLI_FAIL;
}

/*
 * pve/rest.c — one PUT /api2/json/nodes/{node}/lxc/{vmid}/config through libcurl.
 *
 * The endpoint is synchronous (returns {"data":null} once the config is written), so one
 * request is one attempt. API tokens need no CSRF ticket: the only credential is the header
 * "Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET", built here from values that
 * persist_settings_check validated (no CR/LF, no spaces), and wiped after use. TLS is
 * verified unless switched off; a CA file can pin pveproxy's self-signed certificate.
 * Redirects are not followed and only http/https are allowed. Proxmox reports errors in
 * the status line's reason and in the body's "message"/"errors": both are searched for
 * the lock and "does not exist" words that pct prints too.
 */
#include "pve/backend.h"

#include "base/libcurl.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_MAX_BODY 16384

struct buf {
	char data[API_MAX_BODY];
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb, room = sizeof(b->data) - 1 - b->len;
	memcpy(b->data + b->len, ptr, n < room ? n : room);
	b->len += n < room ? n : room;
	b->data[b->len] = '\0';
	return n; /* take everything, keep what fits */
}

/* The first line of s, bounded, without CR/LF. */
static void first_line(char *dst, size_t len, const char *s)
{
	size_t i = 0;
	while (s[i] && s[i] != '\r' && s[i] != '\n' && i + 1 < len) {
		dst[i] = s[i];
		i++;
	}
	dst[i] = '\0';
}

/* One request. Returns the curl code; *status, the last status line and the body
 * (bounded) are filled in. `body` NULL = no body (GET). */
static CURLcode api_request(const struct persist_settings *s, const char *method, const char *path,
                            const char *body, long *status, char *line, size_t line_len,
                            struct buf *resp, char *errbuf)
{
	*status = 0;
	line[0] = '\0';
	const struct curl_api *cu = curl_api();
	if (!cu) {
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_api_error());
		return CURLE_FAILED_INIT;
	}
	CURL *c = cu->easy_init();
	if (!c) {
		snprintf(errbuf, CURL_ERROR_SIZE, "curl_easy_init failed");
		return CURLE_FAILED_INIT;
	}
	char url[1200], auth[1100];
	size_t url_base = strlen(s->api_url);
	while (url_base > 0 && s->api_url[url_base - 1] == '/')
		url_base--;
	snprintf(url, sizeof(url), "%.*s%s", (int)url_base, s->api_url, path);
	snprintf(auth, sizeof(auth), "Authorization: PVEAPIToken=%s=%s", s->api_token_id,
	         s->api_token_secret);
	struct curl_slist *hdr = cu->slist_append(NULL, auth);
	explicit_bzero(auth, sizeof(auth));
	struct buf *head = calloc(1, sizeof(*head));
	if (!hdr || !head) {
		cu->slist_free_all(hdr);
		free(head);
		cu->easy_cleanup(c);
		snprintf(errbuf, CURL_ERROR_SIZE, "out of memory");
		return CURLE_OUT_OF_MEMORY;
	}
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		cu->easy_setopt(c, CURLOPT_POSTFIELDS, body);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, resp);
	cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	cu->easy_setopt(c, CURLOPT_HEADERDATA, head);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->call_timeout_ms);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s->call_timeout_ms);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->api_verify_tls ? 1L : 0L);
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->api_verify_tls ? 2L : 0L);
	if (s->api_ca_file[0])
		cu->easy_setopt(c, CURLOPT_CAINFO, s->api_ca_file);

	CURLcode rc = cu->easy_perform(c);
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	cu->slist_free_all(hdr);
	/* status line of the last response, e.g. "HTTP/1.1 500 CT is locked (backup)" */
	const char *last = head->data;
	for (const char *p = head->data; (p = strstr(p, "\nHTTP/")) != NULL; p++)
		last = p + 1; /* a status line starts a line; "Server: BaseHTTP/0.6" does not */
	first_line(line, line_len, last);
	free(head);
	cu->easy_cleanup(c);
	return rc;
}

enum persist_status persist_api_call(const struct persist_settings *s,
                                     const struct persist_target *t, char *detail, size_t len)
{
	char path[640], body[128] = "", line[200], errbuf[CURL_ERROR_SIZE] = "";
	snprintf(path, sizeof(path), "/api2/json/nodes/%s/lxc/%u/config", s->api_node, t->vmid);
	if (t->set_cores)
		snprintf(body, sizeof(body), "cores=%u", t->cores);
	if (t->set_cores && t->cpulimit > 0)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "&cpulimit=%.2f", t->cpulimit);
	if (t->set_memory)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "%smemory=%llu",
		         body[0] ? "&" : "", (unsigned long long)t->memory_mb);
	struct buf *resp = calloc(1, sizeof(*resp));
	if (!resp) {
		snprintf(detail, len, "PUT %u: out of memory", t->vmid);
		return PERSIST_FAILED;
	}
	long status;
	CURLcode rc = api_request(s, "PUT", path, body, &status, line, sizeof(line), resp, errbuf);
	enum persist_status st;
	if (rc != CURLE_OK) {
		snprintf(detail, len, "PUT %u: %s", t->vmid, errbuf[0] ? errbuf : curl_api_strerror(rc));
		st = PERSIST_FAILED;
	} else if (status == 200) {
		snprintf(detail, len, "PUT %u: 200", t->vmid);
		st = PERSIST_OK;
	} else {
		char msg[160];
		first_line(msg, sizeof(msg), resp->data);
		snprintf(detail, len, "PUT %u: %s %s", t->vmid, line, msg);
		st = persist_classify_error(line);
		if (st == PERSIST_FAILED)
			st = persist_classify_error(resp->data);
	}
	free(resp);
	return st;
}

int persist_api_read_config(const struct persist_settings *s, uint32_t vmid,
                            struct pve_limits *out, char *detail, size_t len)
{
	char path[640], line[200], errbuf[CURL_ERROR_SIZE] = "";
	snprintf(path, sizeof(path), "/api2/json/nodes/%s/lxc/%u/config?current=1", s->api_node, vmid);
	struct buf *resp = calloc(1, sizeof(*resp));
	if (!resp)
		return -ENOMEM;
	long status;
	CURLcode rc = api_request(s, "GET", path, NULL, &status, line, sizeof(line), resp, errbuf);
	int ret;
	if (rc != CURLE_OK) {
		snprintf(detail, len, "GET %u config: %s", vmid, errbuf[0] ? errbuf : curl_api_strerror(rc));
		ret = -EIO;
	} else if (status != 200) {
		snprintf(detail, len, "GET %u config: %s", vmid, line);
		ret = persist_classify_error(line) == PERSIST_GONE ||
		      persist_classify_error(resp->data) == PERSIST_GONE ? -ENOENT : -EIO;
	} else {
		ret = pve_limits_from_json(resp->data, out);
		snprintf(detail, len, "GET %u config: %s", vmid, ret ? "unparsable answer" : "ok");
	}
	free(resp);
	return ret;
}

/*
 * persist_api.c — one PUT /api2/json/nodes/{node}/lxc/{vmid}/config through libcurl.
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
#include "persist_backend.h"

#include <curl/curl.h>
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void persist_curl_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
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

enum persist_status persist_api_call(const struct persist_settings *s,
                                     const struct persist_target *t, char *detail, size_t len)
{
	persist_curl_global_init();
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(detail, len, "PUT %u: curl_easy_init failed", t->vmid);
		return PERSIST_FAILED;
	}
	char url[512], body[96] = "", auth[400], errbuf[CURL_ERROR_SIZE] = "";
	size_t url_base = strlen(s->api_url);
	while (url_base > 0 && s->api_url[url_base - 1] == '/')
		url_base--;
	snprintf(url, sizeof(url), "%.*s/api2/json/nodes/%s/lxc/%u/config", (int)url_base,
	         s->api_url, s->api_node, t->vmid);
	if (t->set_cores)
		snprintf(body, sizeof(body), "cores=%u", t->cores);
	if (t->set_memory)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "%smemory=%llu",
		         body[0] ? "&" : "", (unsigned long long)t->memory_mb);
	snprintf(auth, sizeof(auth), "Authorization: PVEAPIToken=%s=%s", s->api_token_id,
	         s->api_token_secret);
	struct curl_slist *hdr = curl_slist_append(NULL, auth);
	explicit_bzero(auth, sizeof(auth));
	struct buf *resp = calloc(1, sizeof(*resp)), *head = calloc(1, sizeof(*head));
	if (!hdr || !resp || !head) {
		curl_slist_free_all(hdr);
		free(resp);
		free(head);
		curl_easy_cleanup(c);
		snprintf(detail, len, "PUT %u: out of memory", t->vmid);
		return PERSIST_FAILED;
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, head);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->call_timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s->call_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->api_verify_tls ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->api_verify_tls ? 2L : 0L);
	if (s->api_ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, s->api_ca_file);

	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr); /* holds the secret: libcurl copies nothing we must wipe */

	enum persist_status st;
	if (rc != CURLE_OK) {
		snprintf(detail, len, "PUT %u: %s", t->vmid, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		st = PERSIST_FAILED;
	} else if (status == 200) {
		snprintf(detail, len, "PUT %u: 200", t->vmid);
		st = PERSIST_OK;
	} else {
		/* status line of the last response, e.g. "HTTP/1.1 500 CT is locked (backup)" */
		char line[200];
		const char *last = head->data;
		for (const char *p = head->data; (p = strstr(p, "\nHTTP/")) != NULL; p++)
			last = p + 1; /* a status line starts a line; "Server: BaseHTTP/0.6" does not */
		first_line(line, sizeof(line), last);
		char msg[160];
		first_line(msg, sizeof(msg), resp->data);
		snprintf(detail, len, "PUT %u: %s %s", t->vmid, line, msg);
		st = persist_classify_error(line);
		if (st == PERSIST_FAILED)
			st = persist_classify_error(resp->data);
	}
	free(resp);
	free(head);
	curl_easy_cleanup(c);
	return st;
}

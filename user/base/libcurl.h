/*
 * base/libcurl.h — libcurl for the daemon, loaded when first needed.
 *
 * Only two features of the daemon speak HTTP as a client: notifications (Gotify, a
 * webhook) and persisting limits through the Proxmox API instead of pct. Most hosts use
 * neither, and linking libcurl maps it with OpenSSL, Kerberos, LDAP, SSH and HTTP/2
 * libraries: about 3 MB of the daemon's resident set for nothing. So the daemon does not
 * link libcurl; the first request dlopen()s it (libcurl.so.4, a dependency of the
 * package) and calls curl_global_init() once, before any other thread of ours uses it.
 * The command-line tool links libcurl as usual.
 */
#ifndef LXCSCALE_CURL_API_H
#define LXCSCALE_CURL_API_H

#include <curl/curl.h>

struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	char *(*easy_escape)(CURL *c, const char *s, int len);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The loaded library, or NULL when it cannot be loaded (curl_api_error() says why).
 * Thread-safe; loads at most once per process. */
const struct curl_api *curl_api(void);
const char *curl_api_error(void);

/* curl_easy_strerror(rc), also when the library is not loaded. */
const char *curl_api_strerror(CURLcode rc);

#endif

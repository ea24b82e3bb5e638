/*
 * base/libcurl.c — dlopen()s libcurl on first use (see base/libcurl.h).
 *
 * The soname is the one of Debian's libcurl4 (libcurl.so.4, ABI stable since 2006); each
 * symbol is looked up by name and a missing one fails the load as a whole, so a half
 * loaded library is never used. RTLD_NODELETE: the library stays for the life of the
 * process, as a linked one would.
 */
#include "base/libcurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CURL_SONAME "libcurl.so.4"

static struct curl_api api;
static const struct curl_api *loaded;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	struct {
		const char *name;
		void **slot;
	} syms[] = {
		{ "curl_easy_init", (void **)&api.easy_init },
		{ "curl_easy_setopt", (void **)&api.easy_setopt },
		{ "curl_easy_perform", (void **)&api.easy_perform },
		{ "curl_easy_getinfo", (void **)&api.easy_getinfo },
		{ "curl_easy_cleanup", (void **)&api.easy_cleanup },
		{ "curl_easy_strerror", (void **)&api.easy_strerror },
		{ "curl_easy_escape", (void **)&api.easy_escape },
		{ "curl_free", (void **)&api.free },
		{ "curl_slist_append", (void **)&api.slist_append },
		{ "curl_slist_free_all", (void **)&api.slist_free_all },
	};
	CURLcode (*global_init)(long flags);

	if (!h) {
		snprintf(load_error, sizeof(load_error), "cannot load %s (package libcurl4): %s",
			 CURL_SONAME, dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(load_error, sizeof(load_error), "%s lacks %s", CURL_SONAME, syms[i].name);
			return;
		}
	}
	*(void **)&global_init = dlsym(h, "curl_global_init");
	if (!global_init || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof(load_error), "%s: curl_global_init failed", CURL_SONAME);
		return;
	}
	loaded = &api;
}

const struct curl_api *curl_api(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *curl_api_error(void)
{
	pthread_once(&once, load);
	return loaded ? "" : load_error;
}

const char *curl_api_strerror(CURLcode rc)
{
	const struct curl_api *cu = curl_api();

	return cu ? cu->easy_strerror(rc) : curl_api_error();
}

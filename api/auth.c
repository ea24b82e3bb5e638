/*
 * auth.c — X-API-Key checking as the reference does it (401 missing, 403 wrong, 500 when
 * authentication is on but no key is configured), with a comparison whose time does not
 * depend on where the strings differ or on which configured key matched: every key is
 * compared in full, every time.
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

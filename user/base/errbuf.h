/*
 * base/errbuf.h — filling a caller's error buffer.
 *
 * Functions that can fail take (char *err, size_t errlen) and describe the failure there
 * for the person reading a log line or a CLI message. errbuf_set is the one way to write
 * it: a NULL buffer or a zero length means the caller did not ask, and the text is cut to
 * fit rather than overflowing.
 */
#ifndef LXCSCALE_ERRBUF_H
#define LXCSCALE_ERRBUF_H

#include <stddef.h>

void errbuf_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

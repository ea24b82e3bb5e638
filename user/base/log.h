/*
 * base/log.h — the daemon's logger: levels DEBUG..CRITICAL, thread-safe, secrets redacted.
 *
 * Every line goes to stderr and, when configured, to a log file rotated by size.
 * Under systemd (JOURNAL_STREAM names our stderr) stderr lines carry sd-daemon "<N>"
 * priority prefixes and no timestamp (the journal adds one); otherwise, and always in the
 * file, lines start with a local timestamp and the level:
 *     2026-11-23 18:30:01.123 [WARNING] message
 * Secrets registered with log_add_secret() are replaced by *** in every line, whatever
 * format string produced them. Newlines inside a message are escaped, so one call is
 * one line and a value cannot forge log lines.
 *
 * The API and persister threads log too: all state is behind one mutex and each line is
 * written with a single write(2).
 *
 * Folder: base/ owns what any stage may need and that knows nothing of containers: this logger,
 * the event loop, child processes, the lock file, sd_notify, the command queue, file steps, the
 * JSON check, the libcurl loader, error buffers.
 * May include: types/ (the table in user/README.md).
 */
#ifndef LXCSCALE_LOG_H
#define LXCSCALE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* same numbers as enum cfg_log_level */
enum log_level { LOGL_DEBUG = 0, LOGL_INFO, LOGL_WARNING, LOGL_ERROR, LOGL_CRITICAL };

#define LOG_LINE_MAX 4096

/* Optional file output. max_bytes 0 or rotate false: never rotated. */
struct log_file_opts {
	const char *path;   /* NULL or "": stderr only */
	bool rotate;
	uint64_t max_bytes;
	int backups;        /* path.1 .. path.N kept */
};

void log_set_level(int level);
int log_get_level(void);
/* Open (or switch to) a log file; returns 0, or -1 with errno (stderr logging goes on). */
int log_set_file(const struct log_file_opts *o);
/* Force the stderr format: 1 journal "<N>" prefixes, 0 timestamps, -1 detect (default). */
void log_set_journal(int mode);
/* Redaction: secrets shorter than 4 bytes are not registered (they would mask words). */
void log_add_secret(const char *secret);
void log_clear_secrets(void);
/* Replace every registered secret in buf (NUL-terminated, capacity cap) with ***. */
void log_redact(char *buf, size_t cap);
void log_close(void);

const char *log_level_name(int level);
/* "debug", "INFO", ... -> level, or -1 */
int log_level_parse(const char *name);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOGL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_critical(...) log_msg(LOGL_CRITICAL, __VA_ARGS__)

#endif

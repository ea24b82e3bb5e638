/*
 * base/log.c — see base/log.h. One mutex guards the level, the file, the secrets and rotation.
 *
 * Rotation is by size, like Python's RotatingFileHandler that the reference used:
 * before a line would push the file past max_bytes, path.N-1 -> path.N ... path -> path.1
 * and a fresh path is opened. The size is tracked from fstat at open plus bytes written,
 * so another writer appending to the same file only delays rotation, never corrupts it.
 */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_SECRETS_MAX 64

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_level = LOGL_INFO;
static int journal_mode = -1; /* -1 not yet detected */
static int file_fd = -1;
static char file_path[4096];
static bool file_rotate;
static uint64_t file_max, file_size;
static int file_backups;
static char *secrets[LOG_SECRETS_MAX];
static int n_secrets;

static const char *const level_names[] = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" };
/* syslog priorities for sd-daemon prefixes: debug 7, info 6, warning 4, err 3, crit 2 */
static const int level_prio[] = { 7, 6, 4, 3, 2 };

const char *log_level_name(int level)
{
	return level >= LOGL_DEBUG && level <= LOGL_CRITICAL ? level_names[level] : "INFO";
}

int log_level_parse(const char *name)
{
	for (int i = 0; i <= LOGL_CRITICAL; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_set_level(int level)
{
	if (level < LOGL_DEBUG || level > LOGL_CRITICAL)
		return;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

/* JOURNAL_STREAM is "dev:ino" of the journal socket; it counts only if it is our stderr
 * (a child of a systemd service may inherit the variable with stderr redirected). */
static bool detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	if (!js || !*js)
		return false;
	unsigned long long dev, ino;
	if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	struct stat st;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_set_journal(int mode)
{
	pthread_mutex_lock(&log_lock);
	journal_mode = mode < 0 ? (detect_journal() ? 1 : 0) : (mode ? 1 : 0);
	pthread_mutex_unlock(&log_lock);
}

static void close_file_locked(void)
{
	if (file_fd >= 0)
		close(file_fd);
	file_fd = -1;
	file_path[0] = '\0';
}

static int open_file_locked(void)
{
	int fd = open(file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	struct stat st;
	file_size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	file_fd = fd;
	return 0;
}

int log_set_file(const struct log_file_opts *o)
{
	pthread_mutex_lock(&log_lock);
	close_file_locked();
	int rc = 0;
	if (o && o->path && o->path[0]) {
		if (strlen(o->path) >= sizeof(file_path) - 16) {
			errno = ENAMETOOLONG;
			rc = -1;
		} else {
			snprintf(file_path, sizeof(file_path), "%s", o->path);
			file_rotate = o->rotate;
			file_max = o->max_bytes;
			file_backups = o->backups < 0 ? 0 : o->backups;
			rc = open_file_locked();
			if (rc != 0) {
				int e = errno;
				file_path[0] = '\0';
				errno = e;
			}
		}
	}
	pthread_mutex_unlock(&log_lock);
	return rc;
}

static void rotate_locked(void)
{
	char from[sizeof(file_path) + 16], to[sizeof(file_path) + 16];
	close(file_fd);
	file_fd = -1;
	if (file_backups == 0) {
		unlink(file_path);
	} else {
		snprintf(to, sizeof(to), "%s.%d", file_path, file_backups);
		unlink(to);
		for (int i = file_backups - 1; i >= 1; i--) {
			snprintf(from, sizeof(from), "%s.%d", file_path, i);
			snprintf(to, sizeof(to), "%s.%d", file_path, i + 1);
			rename(from, to);
		}
		snprintf(to, sizeof(to), "%s.1", file_path);
		rename(file_path, to);
	}
	if (open_file_locked() != 0)
		file_path[0] = '\0'; /* the file is gone; stderr goes on */
}

void log_add_secret(const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return;
	pthread_mutex_lock(&log_lock);
	bool have = false;
	for (int i = 0; i < n_secrets && !have; i++)
		have = strcmp(secrets[i], secret) == 0;
	if (!have && n_secrets < LOG_SECRETS_MAX) {
		char *s = strdup(secret);
		if (s)
			secrets[n_secrets++] = s;
	}
	pthread_mutex_unlock(&log_lock);
}

void log_clear_secrets(void)
{
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < n_secrets; i++) {
		/* wipe before freeing: the heap outlives the config */
		memset(secrets[i], 0, strlen(secrets[i]));
		free(secrets[i]);
	}
	n_secrets = 0;
	pthread_mutex_unlock(&log_lock);
}

static void redact_locked(char *buf, size_t cap)
{
	for (int i = 0; i < n_secrets; i++) {
		size_t sl = strlen(secrets[i]);
		char *p = buf;
		while ((p = strstr(p, secrets[i])) != NULL) {
			size_t tail = strlen(p + sl);
			/* *** is never longer than a registered secret (>= 4 bytes) */
			memcpy(p, "***", 3);
			memmove(p + 3, p + sl, tail + 1);
			p += 3;
		}
	}
	(void)cap;
}

void log_redact(char *buf, size_t cap)
{
	pthread_mutex_lock(&log_lock);
	redact_locked(buf, cap);
	pthread_mutex_unlock(&log_lock);
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	close_file_locked();
	pthread_mutex_unlock(&log_lock);
	log_clear_secrets();
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void log_msg(int level, const char *fmt, ...)
{
	if (level < LOGL_DEBUG)
		level = LOGL_DEBUG;
	if (level > LOGL_CRITICAL)
		level = LOGL_CRITICAL;
	int saved_errno = errno;
	/* cheap early exit for filtered lines (debug logging on the sampling path) */
	if (level < __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;

	char msg[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	errno = saved_errno; /* %m in fmt */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	/* one call, one line: escape what would break it */
	char clean[LOG_LINE_MAX];
	size_t o = 0;
	for (const char *p = msg; *p && o + 4 < sizeof(clean); p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '\n') {
			clean[o++] = '\\';
			clean[o++] = 'n';
		} else if (ch == '\r') {
			clean[o++] = '\\';
			clean[o++] = 'r';
		} else if (ch < 0x20 && ch != '\t') {
			clean[o++] = '?';
		} else {
			clean[o++] = (char)ch;
		}
	}
	clean[o] = '\0';

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	char stamp[40];
	size_t sl = strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(stamp + sl, sizeof(stamp) - sl, ".%03ld", ts.tv_nsec / 1000000);

	pthread_mutex_lock(&log_lock);
	if (journal_mode < 0)
		journal_mode = detect_journal() ? 1 : 0;
	redact_locked(clean, sizeof(clean));

	char line[LOG_LINE_MAX + 64];
	int n;
	if (journal_mode)
		n = snprintf(line, sizeof(line), "<%d>%s\n", level_prio[level], clean);
	else
		n = snprintf(line, sizeof(line), "%s [%s] %s\n", stamp, level_names[level], clean);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	write_all(STDERR_FILENO, line, (size_t)n);

	if (file_fd >= 0) {
		if (journal_mode)
			n = snprintf(line, sizeof(line), "%s [%s] %s\n", stamp, level_names[level], clean);
		if ((size_t)n >= sizeof(line))
			n = (int)sizeof(line) - 1;
		if (file_rotate && file_max > 0 && file_size > 0 && file_size + (uint64_t)n > file_max)
			rotate_locked();
		if (file_fd >= 0) {
			write_all(file_fd, line, (size_t)n);
			file_size += (uint64_t)n;
		}
	}
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}

/*
 * compat/suggestions.h — the suggestions log: one JSON object per line, one line per decision.
 *
 * The reference documented `/var/log/lxc_autoscale_suggestions.json` with the fields
 * timestamp, container_id, cpu_action, cpu_amount, ram_action, ram_amount, confidence and
 * reason, but never wrote it (docs/reference-compat.md). We write those fields with those
 * meanings (actions "increase"/"decrease"/"none"/"set", amounts as the size of the change:
 * cores and MiB) and add ours: seq, detail, cpu_from/cpu_to, ram_from_mb/ram_to_mb,
 * urgency, priority, anomaly, anomaly_score, top_features, signals and dry_run. Timestamps
 * are local ISO 8601 with the UTC offset, so a line is unambiguous across DST.
 *
 * Each line goes out in a single write() on an O_APPEND descriptor, so readers (tail -F,
 * jq) never see half a line. When the file passes `max_bytes` it is renamed to `<path>.1`
 * (replacing the previous one) and a new file is started; a file renamed or removed from
 * outside (logrotate) is noticed and reopened.
 */
#ifndef LXCSCALE_SUGGESTIONS_H
#define LXCSCALE_SUGGESTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "types/decision.h"

#define SUGGESTIONS_DEFAULT_PATH "/var/log/lxcscale/suggestions.jsonl"
#define SUGGESTIONS_LINE_MAX 2048

struct suggestions;

/* Creates the parent directory (0750) if needed and opens the file for appending.
 * max_bytes 0: never rotate. Returns NULL with a message. */
struct suggestions *suggestions_open(const char *path, uint64_t max_bytes, char *err, size_t errlen);
void suggestions_close(struct suggestions *s);

/* Appends one line for `d`. Returns 0 or -1 with a message. */
int suggestions_write(struct suggestions *s, const struct decision *d, char *err, size_t errlen);

/* The line itself (with its '\n'); returns its length, or -1 if `len` is too small. */
int suggestions_format(const struct decision *d, char *buf, size_t len);

/* The "seq" of the file's last line (else of <path>.1's, after a rotation); 0 if none. The
 * daemon numbers its decisions after it, so a seq never repeats across restarts. */
uint64_t suggestions_last_seq(const char *path);

/* The newest `max` decisions of the file's last lines (at most SUGGESTIONS_READ_MAX bytes are
 * read), oldest first, for a daemon that starts again to show its history: lines that are
 * not ours are skipped; a decision written before "outcome" was recorded says "unknown".
 * Returns how many. */
#define SUGGESTIONS_READ_MAX (4u << 20)
size_t suggestions_read_last(const char *path, struct decision *out, size_t max);

/* Local ISO 8601 with milliseconds and offset: "2026-01-02T03:04:05.678+01:00". */
void suggestions_timestamp(int64_t wall_ms, char out[40]);

#endif

/*
 * act/journal.h — the crash-safe record of every limit change, written before the cgroup write.
 *
 * A change is one container's move from (cpu, memory) "before" to "after". Its life is
 *   PENDING   journalled (fsync'd), the cgroup has not been touched yet, or only partly;
 *   APPLIED   the cgroup holds "after" (the read-back value), the Proxmox config does not yet;
 *   PERSISTED the config holds "after" too: done;             (terminal)
 *   CANCELLED nothing to persist: the write failed, was abandoned or was undone. (terminal)
 * Every transition appends one fixed-size record (64 bytes, CRC32) and fdatasyncs it, so after
 * a SIGKILL at any point the file says which containers may have a cgroup that differs from
 * their config. Opening the journal replays it: the changes not yet terminal come back as
 * "open" changes for act/reconcile.c. A torn last record (a crash mid-write) is detected by its
 * length or CRC and cut off. When most records describe closed changes the file is compacted
 * (open changes rewritten into a new file, fsync, rename, fsync of the directory).
 *
 * A change that cannot be journalled (ENOSPC, EIO, EFBIG) is refused: the caller must not
 * touch the cgroup. After a failed fsync the journal stops accepting anything (the kernel may
 * have dropped the dirty pages, so the file can no longer be trusted) until it is reopened.
 *
 * The journal is owned by one thread (the event loop); it does no locking.
 */
#ifndef LXCSCALE_JOURNAL_H
#define LXCSCALE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

enum journal_state {
	JOURNAL_PENDING = 1,
	JOURNAL_APPLIED = 2,
	JOURNAL_PERSISTED = 3,
	JOURNAL_CANCELLED = 4,
};

/* which resources a change carries */
#define JOURNAL_CPU 0x1u
#define JOURNAL_MEM 0x2u

struct journal_change {
	uint64_t seq;            /* assigned by journal_begin, unique and increasing */
	uint32_t vmid;
	enum journal_state state;
	unsigned what;           /* JOURNAL_CPU | JOURNAL_MEM */
	int64_t time_ms;         /* wall clock of the last transition */
	uint32_t cpu_before_milli, cpu_after_milli; /* cores x 1000 */
	uint64_t mem_before_mb, mem_after_mb;
};

struct journal;

#define JOURNAL_RECORD_SIZE 64

struct journal_open_info {
	size_t records;        /* valid records read */
	size_t corrupt;        /* full-size records with a bad CRC or magic, skipped */
	size_t torn_bytes;     /* bytes of a torn tail cut off */
	size_t open_changes;   /* changes not yet terminal */
};

/* Opens (creating if needed, mode 0600) and replays the journal. Returns 0 or -errno. */
int journal_open(const char *path, struct journal **out, struct journal_open_info *info);
void journal_close(struct journal *j);

/* Journals a new PENDING change (c->time_ms is filled in). c->seq is the caller's when it
 * is larger than every seq before (the daemon numbers its decisions, so a decision has one
 * number in the log, the API, the suggestions file and here), else the journal's next.
 * 0 or -errno; on error nothing was recorded and the caller must not apply the change. */
int journal_begin(struct journal *j, struct journal_change *c);
/* The largest seq recorded so far (0: none), for a numbering that goes on after a restart. */
uint64_t journal_last_seq(const struct journal *j);

/* Moves change `seq` to `state`. For APPLIED the applied "after" values may be given in
 * `applied` (NULL keeps them). 0, -ENOENT (no such open change) or -errno. */
int journal_mark(struct journal *j, uint64_t seq, enum journal_state state,
                 const struct journal_change *applied);

/* Marks PERSISTED every APPLIED change of `vmid` with seq <= upto. Returns how many, or -errno. */
int journal_mark_persisted_upto(struct journal *j, uint32_t vmid, uint64_t upto);

/* The open (non-terminal) changes, oldest first. Valid until the next call that writes. */
const struct journal_change *journal_open_changes(const struct journal *j, size_t *n);

/* Rewrites the file with only the open changes. 0 or -errno (the old file stays valid). */
int journal_compact(struct journal *j);

/* Compaction is tried after a change closes when the file holds more than
 * max(threshold, 4 x open) records. Default 4096. */
void journal_set_compact_threshold(struct journal *j, size_t records);

size_t journal_file_records(const struct journal *j);
/* 0 when healthy; the -errno that made it refuse everything after a failed fsync. */
int journal_error(const struct journal *j);

const char *journal_state_name(enum journal_state s);

#endif

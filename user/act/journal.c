/*
 * act/journal.c — append-only, fsync'd, CRC-checked change journal (see act/journal.h).
 *
 * On-disk record, 64 bytes, little-endian, fixed layout so a torn tail is just "fewer than
 * 64 bytes" or "CRC mismatch" and never needs a parser:
 *   0 magic "LXJ1"   4 state u8, what u8, 0 u16   8 seq u64   16 vmid u32
 *  20 cpu_before_milli u32   24 cpu_after_milli u32   28 0 u32
 *  32 mem_before_mb u64      40 mem_after_mb u64      48 time_ms i64
 *  56 0 u32                  60 crc32 of bytes 0..59
 * The last record for a seq wins. Appends use one write() of 64 bytes on an O_APPEND fd; a
 * short write (disk full) is cut back with ftruncate so the file never keeps half a record.
 */
#include "act/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define JOURNAL_MAGIC 0x314a584cu /* "LXJ1" read as little-endian u32 */
#define JOURNAL_DEFAULT_COMPACT 4096

struct journal {
	int fd;
	char path[PATH_MAX];
	uint64_t next_seq;
	size_t file_records;
	size_t compact_threshold;
	int error; /* sticky -errno after a failed fsync */
	struct journal_change *open;
	size_t n_open, cap_open;
};

const char *journal_state_name(enum journal_state s)
{
	switch (s) {
	case JOURNAL_PENDING: return "pending";
	case JOURNAL_APPLIED: return "applied";
	case JOURNAL_PERSISTED: return "persisted";
	case JOURNAL_CANCELLED: return "cancelled";
	}
	return "unknown";
}

static bool state_terminal(enum journal_state s)
{
	return s == JOURNAL_PERSISTED || s == JOURNAL_CANCELLED;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- encoding ------------------------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t record_crc(const unsigned char *rec)
{
	return (uint32_t)crc32(0L, rec, JOURNAL_RECORD_SIZE - 4);
}

static void encode(unsigned char rec[JOURNAL_RECORD_SIZE], const struct journal_change *c)
{
	memset(rec, 0, JOURNAL_RECORD_SIZE);
	put32(rec + 0, JOURNAL_MAGIC);
	rec[4] = (unsigned char)c->state;
	rec[5] = (unsigned char)c->what;
	put64(rec + 8, c->seq);
	put32(rec + 16, c->vmid);
	put32(rec + 20, c->cpu_before_milli);
	put32(rec + 24, c->cpu_after_milli);
	put64(rec + 32, c->mem_before_mb);
	put64(rec + 40, c->mem_after_mb);
	put64(rec + 48, (uint64_t)c->time_ms);
	put32(rec + 60, record_crc(rec));
}

/* Returns false for a record that is not ours or is damaged. */
static bool decode(const unsigned char rec[JOURNAL_RECORD_SIZE], struct journal_change *c)
{
	if (get32(rec) != JOURNAL_MAGIC || get32(rec + 60) != record_crc(rec))
		return false;
	unsigned state = rec[4], what = rec[5];
	if (state < JOURNAL_PENDING || state > JOURNAL_CANCELLED)
		return false;
	if (what == 0 || (what & ~(JOURNAL_CPU | JOURNAL_MEM)))
		return false;
	memset(c, 0, sizeof(*c));
	c->state = (enum journal_state)state;
	c->what = what;
	c->seq = get64(rec + 8);
	c->vmid = get32(rec + 16);
	c->cpu_before_milli = get32(rec + 20);
	c->cpu_after_milli = get32(rec + 24);
	c->mem_before_mb = get64(rec + 32);
	c->mem_after_mb = get64(rec + 40);
	c->time_ms = (int64_t)get64(rec + 48);
	return c->seq != 0;
}

/* ---- the table of open changes -------------------------------------------------------- */

static struct journal_change *find_open(struct journal *j, uint64_t seq)
{
	for (size_t i = 0; i < j->n_open; i++)
		if (j->open[i].seq == seq)
			return &j->open[i];
	return NULL;
}

static void drop_open(struct journal *j, struct journal_change *c)
{
	size_t i = (size_t)(c - j->open);
	memmove(&j->open[i], &j->open[i + 1], (j->n_open - i - 1) * sizeof(*c));
	j->n_open--;
}

static int add_open(struct journal *j, const struct journal_change *c)
{
	if (j->n_open == j->cap_open) {
		size_t cap = j->cap_open ? j->cap_open * 2 : 16;
		struct journal_change *n = realloc(j->open, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		j->open = n;
		j->cap_open = cap;
	}
	/* keep the table ordered by seq: replayed records may arrive out of order only
	 * when a file was compacted, and then they are already sorted */
	size_t i = j->n_open;
	while (i > 0 && j->open[i - 1].seq > c->seq)
		i--;
	memmove(&j->open[i + 1], &j->open[i], (j->n_open - i) * sizeof(*c));
	j->open[i] = *c;
	j->n_open++;
	return 0;
}

/* Applies one replayed record to the table: the last record for a seq wins. */
static int replay_one(struct journal *j, const struct journal_change *c)
{
	struct journal_change *old = find_open(j, c->seq);
	if (c->seq >= j->next_seq)
		j->next_seq = c->seq + 1;
	if (state_terminal(c->state)) {
		if (old)
			drop_open(j, old);
		return 0;
	}
	if (old) {
		*old = *c;
		return 0;
	}
	return add_open(j, c);
}

/* ---- file I/O ------------------------------------------------------------------------- */

static int fsync_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int rc = fsync(dfd) < 0 ? -errno : 0;
	close(dfd);
	return rc;
}

/* One record, all or nothing. */
static int append(struct journal *j, const struct journal_change *c)
{
	if (j->error)
		return j->error;
	unsigned char rec[JOURNAL_RECORD_SIZE];
	encode(rec, c);

	off_t end = lseek(j->fd, 0, SEEK_END);
	if (end < 0)
		return -errno;
	/* write the rest after a short write: the second call tells why (ENOSPC, EFBIG) */
	size_t done = 0;
	int err = 0;
	while (done < sizeof(rec)) {
		ssize_t n = write(j->fd, rec + done, sizeof(rec) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	if (err) {
		/* never leave a partial record behind: the next append would follow garbage */
		if (done > 0 && ftruncate(j->fd, end) < 0)
			j->error = -EIO;
		return err;
	}
	if (fdatasync(j->fd) < 0) {
		err = -errno;
		/* after a failed fsync the page cache may have dropped our data: stop trusting
		 * this file until someone reopens (and so re-reads) it */
		j->error = err;
		return err;
	}
	j->file_records++;
	return 0;
}

static int replay(struct journal *j, struct journal_open_info *info)
{
	unsigned char buf[JOURNAL_RECORD_SIZE * 256];
	off_t good_end = 0, pos = 0;
	size_t have = 0;

	for (;;) {
		ssize_t n = read(j->fd, buf + have, sizeof(buf) - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		have += (size_t)n;
		size_t used = 0;
		while (have - used >= JOURNAL_RECORD_SIZE) {
			struct journal_change c;
			if (decode(buf + used, &c)) {
				int rc = replay_one(j, &c);
				if (rc < 0)
					return rc;
				info->records++;
				good_end = pos + JOURNAL_RECORD_SIZE;
			} else {
				info->corrupt++;
			}
			used += JOURNAL_RECORD_SIZE;
			pos += JOURNAL_RECORD_SIZE;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		if (n == 0)
			break;
	}
	/* Cut a torn tail: the partial record, and any damaged full records after the last good
	 * one (a crash can leave a full-length record whose bytes never all reached the disk). */
	off_t size = pos + (off_t)have;
	/* not one valid record in a file of full records: this is not our journal (a wrong
	 * journal_file setting?), never cut it */
	if (info->records == 0 && size >= JOURNAL_RECORD_SIZE)
		return -EBADMSG;
	if (size > good_end) {
		if (ftruncate(j->fd, good_end) < 0)
			return -errno;
		if (fdatasync(j->fd) < 0)
			return -errno;
		info->torn_bytes = (size_t)(size - good_end);
		/* damaged records at the end were the tear, not corruption in the middle */
		size_t tail_full = (size_t)(pos - good_end) / JOURNAL_RECORD_SIZE;
		info->corrupt -= tail_full < info->corrupt ? tail_full : info->corrupt;
	}
	j->file_records = (size_t)good_end / JOURNAL_RECORD_SIZE;
	return 0;
}

int journal_open(const char *path, struct journal **out, struct journal_open_info *info)
{
	struct journal_open_info dummy;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	*out = NULL;
	if (!path || !*path || strlen(path) >= PATH_MAX)
		return -EINVAL;

	struct journal *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->next_seq = 1;
	j->compact_threshold = JOURNAL_DEFAULT_COMPACT;

	bool created = access(path, F_OK) != 0;
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (j->fd < 0) {
		int rc = -errno;
		free(j);
		return rc;
	}
	struct stat st;
	int rc = 0;
	if (fstat(j->fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	if (rc == 0)
		rc = replay(j, info);
	if (rc == 0 && created)
		rc = fsync_dir_of(path);
	if (rc < 0) {
		journal_close(j);
		return rc;
	}
	info->open_changes = j->n_open;
	*out = j;
	return 0;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j->open);
	free(j);
}

static void maybe_compact(struct journal *j)
{
	size_t limit = j->compact_threshold;
	if (limit < 4 * j->n_open)
		limit = 4 * j->n_open;
	if (j->file_records > limit)
		(void)journal_compact(j); /* a failed compaction leaves the old file in place */
}

int journal_begin(struct journal *j, struct journal_change *c)
{
	if (!c || c->vmid == 0 || c->what == 0 || (c->what & ~(JOURNAL_CPU | JOURNAL_MEM)))
		return -EINVAL;
	if (c->seq < j->next_seq)
		c->seq = j->next_seq;
	c->state = JOURNAL_PENDING;
	c->time_ms = now_ms();
	int rc = append(j, c);
	if (rc < 0)
		return rc;
	j->next_seq = c->seq + 1;
	rc = add_open(j, c);
	if (rc < 0) /* journalled but untracked: refuse, reopening will find it */
		return rc;
	return 0;
}

uint64_t journal_last_seq(const struct journal *j)
{
	return j->next_seq ? j->next_seq - 1 : 0;
}

int journal_mark(struct journal *j, uint64_t seq, enum journal_state state,
                 const struct journal_change *applied)
{
	if (state < JOURNAL_PENDING || state > JOURNAL_CANCELLED)
		return -EINVAL;
	struct journal_change *old = find_open(j, seq);
	if (!old)
		return -ENOENT;
	struct journal_change c = *old;
	if (applied && state == JOURNAL_APPLIED) {
		c.cpu_after_milli = applied->cpu_after_milli;
		c.mem_after_mb = applied->mem_after_mb;
	}
	c.state = state;
	c.time_ms = now_ms();
	int rc = append(j, &c);
	if (rc < 0)
		return rc;
	if (state_terminal(state)) {
		drop_open(j, old);
		maybe_compact(j);
	} else {
		*old = c;
	}
	return 0;
}

int journal_mark_persisted_upto(struct journal *j, uint32_t vmid, uint64_t upto)
{
	int done = 0;
	for (size_t i = 0; i < j->n_open;) {
		struct journal_change *c = &j->open[i];
		if (c->vmid == vmid && c->seq <= upto && c->state == JOURNAL_APPLIED) {
			int rc = journal_mark(j, c->seq, JOURNAL_PERSISTED, NULL);
			if (rc < 0)
				return rc;
			done++;
			continue; /* the entry at i is now the next one */
		}
		i++;
	}
	return done;
}

const struct journal_change *journal_open_changes(const struct journal *j, size_t *n)
{
	*n = j->n_open;
	return j->open;
}

int journal_compact(struct journal *j)
{
	if (j->error)
		return j->error;
	char tmp[PATH_MAX + 8];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", j->path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	for (size_t i = 0; i < j->n_open && rc == 0; i++) {
		unsigned char rec[JOURNAL_RECORD_SIZE];
		encode(rec, &j->open[i]);
		ssize_t n = write(fd, rec, sizeof(rec));
		if (n != (ssize_t)sizeof(rec))
			rc = n < 0 ? -errno : -ENOSPC;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, j->path) < 0)
		rc = -errno;
	if (rc < 0) {
		close(fd);
		unlink(tmp);
		return rc;
	}
	rc = fsync_dir_of(j->path);
	close(fd);
	int nfd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (nfd < 0) {
		/* the renamed file is complete; we just cannot append to it */
		j->error = -errno;
		return j->error;
	}
	close(j->fd);
	j->fd = nfd;
	j->file_records = j->n_open;
	return rc;
}

void journal_set_compact_threshold(struct journal *j, size_t records)
{
	j->compact_threshold = records ? records : JOURNAL_DEFAULT_COMPACT;
}

size_t journal_file_records(const struct journal *j)
{
	return j->file_records;
}

int journal_error(const struct journal *j)
{
	return j->error;
}

/*
 * compat/metrics_file_append.c — the metrics history on disk (see compat/metrics_file.h): an index of
 * byte offsets instead of the cycles themselves, appends in place, the amortised trim
 * rewrite, and the loader that rebuilds the index and recovers a cut-off tail.
 *
 * A file we can append to has json.dump(indent=4)'s layout: "[]" when empty, otherwise
 *
 *     "[\n" E1 ",\n" E2 ",\n" ... En "\n]"
 *
 * where every Ei is a cycle object that starts "    {" and ends "\n    }". The index holds
 * the start offset of each Ei (indent included) and the end offset of En. An append writes
 * ",\n" E "\n]" over the old "\n]"; a trim copies the bytes from the start of the first
 * kept cycle to the end of En into <file>.tmp between "[\n" and "\n]". Both leave exactly
 * the bytes json.dump would write for the same list.
 *
 * The loader reads the file once (compat/metrics_scan.c: a 64 KiB buffer, every cycle checked to
 * be valid JSON as its bytes stream by, no allocation, so a restart over a 600 MB history
 * costs no memory). The scan notes whether the top level is in our layout; if it is not, a
 * second pass parses each cycle (one cycle's objects alive at a time) and writes it again
 * in ours.
 *
 * After every write the file's identity (device, inode, size, mtime) is kept; an append
 * first checks the file still has it, so a file deleted, replaced or edited by someone else
 * is loaded again instead of being appended to at a stale offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errbuf.h"
#include "compat/metrics_file.h"
#include "compat/metrics_file_int.h"

#define COPY_CHUNK (64u * 1024u)

enum mf_state {
	MF_UNLOADED,     /* nothing known: load before the next append */
	MF_CLEAN,        /* the index describes the file that has identity `id` (or no file) */
	MF_REPLACE,      /* the file cannot be read or is no JSON array: a new one replaces it */
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct metrics_file {
	char *path, *tmp;
	unsigned max, slack;
	enum mf_state state;
	bool exists;                 /* MF_CLEAN: there is a file ("[]" counts) */
	uint64_t *start;             /* start offsets of the newest cycles, oldest first */
	unsigned n, cap;             /* cycles indexed; cap = max + slack + 1 */
	uint64_t end;                /* end offset of the last cycle (n > 0) */
	struct file_id id;
	mf_warn_fn warn;
	void *warn_ctx;
	struct mf_io_stats io;
};

unsigned metrics_file_slack(unsigned max_entries)
{
	unsigned s = max_entries / 8;
	return s ? s : 1;
}

struct metrics_file *metrics_file_new(const char *path, unsigned max_entries)
{
	if (!path || !*path || max_entries == 0 || max_entries > 1000000)
		return NULL;
	struct metrics_file *mf = calloc(1, sizeof(*mf));
	if (!mf)
		return NULL;
	mf->max = max_entries;
	mf->slack = metrics_file_slack(max_entries);
	mf->cap = mf->max + mf->slack + 1;
	mf->path = strdup(path);
	mf->start = calloc(mf->cap, sizeof(*mf->start));
	if (mf->path && asprintf(&mf->tmp, "%s.tmp", path) < 0)
		mf->tmp = NULL;
	if (!mf->path || !mf->tmp || !mf->start) {
		metrics_file_free(mf);
		return NULL;
	}
	return mf;
}

void metrics_file_free(struct metrics_file *mf)
{
	if (!mf)
		return;
	free(mf->start);
	free(mf->tmp);
	free(mf->path);
	free(mf);
}

unsigned metrics_file_count(const struct metrics_file *mf)
{
	return mf->state == MF_CLEAN ? mf->n : 0;
}

void metrics_file_on_warning(struct metrics_file *mf, mf_warn_fn fn, void *ctx)
{
	mf->warn = fn;
	mf->warn_ctx = ctx;
}

void metrics_file_io_stats(const struct metrics_file *mf, struct mf_io_stats *st)
{
	*st = mf->io;
}

static void warnf(struct metrics_file *mf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct metrics_file *mf, const char *fmt, ...)
{
	if (!mf->warn)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mf->warn(mf->warn_ctx, msg);
}

static void id_of(const struct stat *st, struct file_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
}

static bool id_same(const struct stat *st, const struct file_id *id)
{
	return st->st_dev == id->dev && st->st_ino == id->ino && st->st_size == id->size &&
	       st->st_mtim.tv_sec == id->mtime.tv_sec && st->st_mtim.tv_nsec == id->mtime.tv_nsec;
}

/* Appends a cycle's start to the index; beyond cap the oldest are dropped down to max at
 * once (a long file being loaded), so the cost stays amortised O(1). */
static void index_push(struct metrics_file *mf, uint64_t start, uint64_t end)
{
	if (mf->n == mf->cap) {
		memmove(mf->start, mf->start + (mf->n - mf->max), mf->max * sizeof(*mf->start));
		mf->n = mf->max;
	}
	mf->start[mf->n++] = start;
	mf->end = end;
}

/* ---- writing ------------------------------------------------------------------------------ */

static int write_at(int fd, const char *s, size_t n, uint64_t at)
{
	while (n) {
		ssize_t w = pwrite(fd, s, n, (off_t)at);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
		at += (uint64_t)w;
	}
	return 0;
}

/* Copies [from, from + len) of src to dst at *off: in the kernel when it can, else through
 * a bounded buffer. A source that ends early (shrunk under us) is ENODATA. */
static int copy_range(int src, uint64_t from, int dst, uint64_t len, uint64_t *off)
{
	loff_t in = (loff_t)from, out = (loff_t)*off;
	char *buf = NULL;
	int rc = 0;
	while (len && rc == 0) {
		if (!buf) {
			ssize_t r = copy_file_range(src, &in, dst, &out, len, 0);
			if (r > 0) {
				len -= (uint64_t)r;
				continue;
			}
			if (r == 0) {
				errno = ENODATA;
				rc = -1;
			} else if (errno == EINTR) {
				continue;
			} else if (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP) {
				buf = malloc(COPY_CHUNK);   /* no kernel copy here: do it ourselves */
				if (!buf)
					rc = -1;
			} else {
				rc = -1;
			}
			continue;
		}
		ssize_t r = pread(src, buf, len < COPY_CHUNK ? len : COPY_CHUNK, in);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ENODATA;
			rc = -1;
		} else if ((rc = write_at(dst, buf, (size_t)r, (uint64_t)out)) == 0) {
			in += r;
			out += r;
			len -= (uint64_t)r;
		}
	}
	free(buf);
	*off = (uint64_t)out;
	return rc;
}

static void sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir)
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* the rename is durable once the directory is; best effort */
		close(fd);
	}
	free(dir);
}

/* A new file under construction in <file>.tmp. */
struct tmpfile {
	int fd;
	uint64_t off;
};

static int tmp_open(struct metrics_file *mf, struct tmpfile *t, char *err, size_t errlen)
{
	t->off = 0;
	t->fd = open(mf->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (t->fd < 0) {
		errbuf_set(err, errlen, "%s: %s", mf->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

static int tmp_put(struct tmpfile *t, const char *s, size_t n)
{
	if (write_at(t->fd, s, n, t->off) != 0)
		return -1;
	t->off += n;
	return 0;
}

/* Ends the new file: `failed` (errno set) or fsync + rename over the file. On success the
 * file's identity is taken from the new file. */
static int tmp_finish(struct metrics_file *mf, struct tmpfile *t, int failed, char *err, size_t errlen)
{
	struct stat st;
	int rc = failed;
	if (rc == 0)
		rc = fsync(t->fd);
	if (rc == 0)
		rc = fstat(t->fd, &st);
	int saved = errno;
	if (close(t->fd) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(mf->tmp, mf->path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0) {
		errbuf_set(err, errlen, "%s: %s", mf->tmp, strerror(saved));
		unlink(mf->tmp);
		return -1;
	}
	sync_dir_of(mf->path);
	id_of(&st, &mf->id);
	mf->exists = true;
	mf->state = MF_CLEAN;
	mf->io.rewrites++;
	mf->io.bytes_written += t->off;
	return 0;
}

/* The whole file anew: "[" + the newest `keep` indexed cycles copied from `src` + `extra`
 * (one serialised cycle, or NULL) + "]". The index then describes the new file; on error
 * the old file and the index are as they were. */
static int rewrite(struct metrics_file *mf, int src, unsigned keep, const char *extra, size_t elen,
		   char *err, size_t errlen)
{
	if (keep > mf->n)
		keep = mf->n;
	struct tmpfile t;
	if (tmp_open(mf, &t, err, errlen) != 0)
		return -1;
	unsigned first = mf->n - keep;
	uint64_t from = keep ? mf->start[first] : 0, to = keep ? mf->end : 0;
	int rc;
	if (keep == 0 && !extra) {
		rc = tmp_put(&t, "[]", 2);
	} else {
		rc = tmp_put(&t, "[\n", 2);
		if (rc == 0 && keep)
			rc = copy_range(src, from, t.fd, to - from, &t.off);
		if (rc == 0 && extra && keep)
			rc = tmp_put(&t, ",\n", 2);
		if (rc == 0 && extra)
			rc = tmp_put(&t, extra, elen);
		if (rc == 0)
			rc = tmp_put(&t, "\n]", 2);
	}
	if (tmp_finish(mf, &t, rc, err, errlen) != 0)
		return -1;
	for (unsigned i = 0; i < keep; i++)
		mf->start[i] = mf->start[first + i] - from + 2;
	mf->n = keep;
	mf->end = to - from + 2;
	if (extra)
		index_push(mf, keep ? mf->end + 2 : 2, (keep ? mf->end + 2 : 2) + elen);
	return 0;
}

/* ",\n" E "\n]" over the old "\n]". On error the old end is put back so the file stays
 * what it was (if even that fails, the next append loads the file again). */
static int append_in_place(struct metrics_file *mf, int fd, const char *text, size_t len,
			   char *err, size_t errlen)
{
	uint64_t at = mf->end, size = at + 2 + len + 2;
	int rc = write_at(fd, ",\n", 2, at);
	if (rc == 0)
		rc = write_at(fd, text, len, at + 2);
	if (rc == 0)
		rc = write_at(fd, "\n]", 2, at + 2 + len);
	if (rc == 0 && (uint64_t)mf->id.size > size)
		rc = ftruncate(fd, (off_t)size); /* whitespace after the old "]" */
	if (rc == 0)
		rc = fdatasync(fd);
	struct stat st;
	if (rc == 0)
		rc = fstat(fd, &st);
	if (rc != 0) {
		int saved = errno;
		if (write_at(fd, "\n]", 2, at) == 0 && ftruncate(fd, (off_t)(at + 2)) == 0 &&
		    fdatasync(fd) == 0 && fstat(fd, &st) == 0)
			id_of(&st, &mf->id);
		else
			mf->state = MF_UNLOADED;
		errbuf_set(err, errlen, "%s: %s", mf->path, strerror(saved));
		return -1;
	}
	id_of(&st, &mf->id);
	index_push(mf, at + 2, at + 2 + len);
	mf->io.appends++;
	mf->io.bytes_written += len + 4;
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static int index_elem(void *ctx, json_object *o, bool is_object, uint64_t start, uint64_t end)
{
	(void)o;
	if (is_object)
		index_push(ctx, start, end);
	return 0;
}

/* Second pass over a file not in our layout: the newest max cycles, each parsed and
 * written again in our format into <file>.tmp. */
struct normalise {
	struct metrics_file *mf;
	struct tmpfile t;
	uint64_t skip, seen;
	struct mf_recbuf rb;
	struct mf_read_stats st;
	int failed;                  /* errno */
};

static int normalise_elem(void *ctx, json_object *o, bool is_object, uint64_t start, uint64_t end)
{
	(void)start;
	(void)end;
	struct normalise *x = ctx;
	if (!is_object || x->seen++ < x->skip)
		return 0;
	struct mf_snapshot s;
	int got = mf_snapshot_from_json(o, 0, &x->rb, &s, &x->st);
	if (got == 0 || (got > 0 && s.n == 0))
		return 0; /* nothing a cycle of ours would hold (the old loader dropped these too) */
	size_t len;
	char *text = got > 0 ? mf_serialise_snapshot(s.containers, s.n, s.has_summary ? &s.summary : NULL, &len) : NULL;
	if (!text) {
		x->failed = ENOMEM;
		return -1;
	}
	struct metrics_file *mf = x->mf;
	int rc = tmp_put(&x->t, mf->n ? ",\n" : "[\n", 2);
	uint64_t at = x->t.off;
	if (rc == 0)
		rc = tmp_put(&x->t, text, len);
	free(text);
	if (rc != 0) {
		x->failed = errno;
		return -1;
	}
	index_push(mf, at, at + len);
	return 0;
}

static int normalise(struct metrics_file *mf, struct mf_scanner *sc, uint64_t cycles, char *err, size_t errlen)
{
	struct normalise x = { .mf = mf, .skip = cycles > mf->max ? cycles - mf->max : 0 };
	if (tmp_open(mf, &x.t, err, errlen) != 0)
		return -1;
	mf->n = 0;
	struct mf_scan r;
	int rc = mf_scan_file(sc, true, &r, normalise_elem, &x);
	free(x.rb.recs);
	if (rc == 0 && r.stop == MF_SCAN_IOERR)
		x.failed = r.ioerr;
	if (rc == 0 && !x.failed)
		rc = tmp_put(&x.t, mf->n ? "\n]" : "[]", 2);
	if (rc != 0 && !x.failed)
		x.failed = errno;
	if (x.failed) {
		errno = x.failed;
		rc = -1;
	}
	if (tmp_finish(mf, &x.t, rc, err, errlen) != 0) {
		mf->n = 0;
		return -1;
	}
	return 0;
}

int metrics_file_load(struct metrics_file *mf, char *err, size_t errlen)
{
	mf->io.loads++;
	mf->n = 0;
	mf->state = MF_UNLOADED;
	int fd = open(mf->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			mf->state = MF_CLEAN;
			mf->exists = false;
			return 0;
		}
		errbuf_set(err, errlen, "%s: %s", mf->path, strerror(errno));
		mf->state = MF_REPLACE;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s: not a regular file", mf->path);
		close(fd);
		mf->state = MF_REPLACE;
		return -1;
	}
	struct mf_scanner *sc = mf_scanner_new(fd);
	int rc = -1;
	if (!sc) {
		errbuf_set(err, errlen, "out of memory");
		goto out;
	}
	struct mf_scan r;
	mf_scan_file(sc, false, &r, index_elem, mf);
	if (r.stop == MF_SCAN_IOERR) {
		errbuf_set(err, errlen, "%s: %s", mf->path, strerror(r.ioerr));
		mf->state = MF_REPLACE;
		goto out;
	}
	if (r.stop == MF_SCAN_NOT_ARRAY) {
		errbuf_set(err, errlen, "%s: not a JSON array of cycles", mf->path);
		mf->state = MF_REPLACE;
		goto out;
	}
	bool damaged = r.stop != MF_SCAN_COMPLETE;
	id_of(&st, &mf->id);
	if (!r.exact) {
		if (damaged)
			warnf(mf, "%s: damaged or cut off at byte %llu; keeping the %llu complete cycles before it",
			      mf->path, (unsigned long long)r.stop_off, (unsigned long long)r.cycles);
		warnf(mf, "%s: not in the json.dump(indent=4) layout; writing it again in it (newest %u cycles)",
		      mf->path, mf->max);
		rc = normalise(mf, sc, r.cycles, err, errlen);
	} else if (damaged) {
		warnf(mf, "%s: damaged or cut off at byte %llu (an interrupted write?); keeping the %llu "
		      "complete cycles before it", mf->path, (unsigned long long)r.stop_off,
		      (unsigned long long)r.cycles);
		rc = rewrite(mf, fd, mf->max, NULL, 0, err, errlen);
	} else if (r.cycles > (uint64_t)mf->max + mf->slack) {
		rc = rewrite(mf, fd, mf->max, NULL, 0, err, errlen);
	} else {
		mf->state = MF_CLEAN;
		mf->exists = true;
		rc = 0;
	}
	if (rc != 0) {
		mf->n = 0;
		mf->state = MF_UNLOADED; /* try again at the next append */
	}
out:
	mf_scanner_free(sc);
	close(fd);
	return rc;
}

/* ---- appending ---------------------------------------------------------------------------- */

/* Opens the file for writing and checks it is the one the index describes. Returns 1 (fd
 * set; -1 when there is rightly no file), 0 when it changed behind our back, -1 on error. */
static int open_known(struct metrics_file *mf, int *fd, char *err, size_t errlen)
{
	*fd = open(mf->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0) {
		if (errno == ENOENT)
			return mf->exists ? 0 : 1;
		errbuf_set(err, errlen, "%s: %s", mf->path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(*fd, &st) != 0) {
		errbuf_set(err, errlen, "%s: %s", mf->path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	if (mf->exists && id_same(&st, &mf->id))
		return 1;
	close(*fd);
	*fd = -1;
	return 0;
}

static int append_text(struct metrics_file *mf, const char *text, size_t len, char *err, size_t errlen)
{
	int fd = -1;
	for (int attempt = 0;; attempt++) {
		if (mf->state == MF_UNLOADED) {
			char lerr[512];
			if (metrics_file_load(mf, lerr, sizeof(lerr)) != 0) {
				if (mf->state != MF_REPLACE) {
					errbuf_set(err, errlen, "%s", lerr);
					return -1;
				}
				warnf(mf, "%s; starting a new history in its place", lerr);
			}
		}
		if (mf->state == MF_REPLACE)
			break;
		int known = open_known(mf, &fd, err, errlen);
		if (known < 0)
			return -1;
		if (known > 0)
			break;
		if (attempt) {
			errbuf_set(err, errlen, "%s: changes while we read it; cycle not written", mf->path);
			return -1;
		}
		warnf(mf, "%s: %s since we last wrote it; reading it again", mf->path,
		      mf->exists ? "replaced, edited or removed by someone else" : "created by someone else");
		mf->state = MF_UNLOADED;
	}
	int rc;
	if (mf->state == MF_REPLACE) {
		mf->n = 0;
		rc = rewrite(mf, -1, 0, text, len, err, errlen);
	} else if (mf->n == 0) {
		rc = rewrite(mf, -1, 0, text, len, err, errlen); /* "[]" or no file: a new one */
	} else if (mf->n + 1 > mf->max + mf->slack) {
		rc = rewrite(mf, fd, mf->max - 1, text, len, err, errlen); /* the amortised trim */
	} else {
		rc = append_in_place(mf, fd, text, len, err, errlen);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int metrics_file_append(struct metrics_file *mf, const struct mf_container *c, size_t n,
			const struct mf_summary *summary, char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	size_t len;
	char *text = mf_serialise_snapshot(c, n, summary, &len);
	if (!text) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	int rc = append_text(mf, text, len, err, errlen);
	free(text);
	return rc;
}

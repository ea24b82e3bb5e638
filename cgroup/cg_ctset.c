/*
 * cg_ctset.c — the set of containers, kept current by inotify instead of rescans.
 *
 * An inotify watch on the container root reports every mkdir/rmdir below it (LXC creates
 * lxc/<vmid> with mkdir, and removes it with rmdir, through the VFS), so the caller only
 * needs to put one fd in its epoll loop. When the root does not exist yet (no container
 * started since boot) the watch sits on the root's parent until the root appears. A queue
 * overflow, or the root itself disappearing, falls back to a full rescan — the rescan is
 * also public, for start-up and for callers who want a periodic safety net.
 *
 * The set is a sorted array of ids: lookups are a binary search, changes are rare.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cg_internal.h"

#define ROOT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
                   IN_MOVE_SELF | IN_ONLYDIR)
#define PARENT_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

struct cg_ctset {
	const cg_hier *h;
	int ifd;
	int root_wd;    /* -1 while the root does not exist */
	int parent_wd;  /* watch on the root's parent while waiting for it */
	char root_base[CG_NAME_MAX * 4];
	uint32_t *ids;
	size_t n, cap;
};

static size_t lower_bound(const cg_ctset *s, uint32_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool cg_ctset_has(const cg_ctset *s, uint32_t id)
{
	size_t i = lower_bound(s, id);
	return i < s->n && s->ids[i] == id;
}

static cg_err set_add(cg_ctset *s, uint32_t id, cg_ctset_cb cb, void *arg)
{
	size_t i = lower_bound(s, id);
	if (i < s->n && s->ids[i] == id)
		return CG_OK;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		uint32_t *p = realloc(s->ids, nc * sizeof *p);
		if (!p)
			return CG_ENOMEM;
		s->ids = p;
		s->cap = nc;
	}
	memmove(s->ids + i + 1, s->ids + i, (s->n - i) * sizeof *s->ids);
	s->ids[i] = id;
	s->n++;
	if (cb)
		cb(arg, id, true);
	return CG_OK;
}

static void set_del(cg_ctset *s, uint32_t id, cg_ctset_cb cb, void *arg)
{
	size_t i = lower_bound(s, id);
	if (i >= s->n || s->ids[i] != id)
		return;
	memmove(s->ids + i, s->ids + i + 1, (s->n - i - 1) * sizeof *s->ids);
	s->n--;
	if (cb)
		cb(arg, id, false);
}

/* Try to watch the root; else watch its parent and wait. */
static cg_err arm_watch(cg_ctset *s)
{
	const char *root = cg_hier_root(s->h);
	s->root_wd = inotify_add_watch(s->ifd, root, ROOT_MASK);
	if (s->root_wd >= 0) {
		if (s->parent_wd >= 0) {
			inotify_rm_watch(s->ifd, s->parent_wd);
			s->parent_wd = -1;
		}
		return CG_OK;
	}
	if (errno != ENOENT)
		return cg_err_from_errno(errno);
	if (s->parent_wd < 0) {
		char parent[PATH_MAX];
		strcpy(parent, root);
		char *slash = strrchr(parent, '/');
		if (!slash || slash == parent)
			return CG_ENOMOUNT;
		*slash = '\0';
		s->parent_wd = inotify_add_watch(s->ifd, parent, PARENT_MASK);
		if (s->parent_wd < 0)
			return errno == ENOENT ? CG_ENOMOUNT : cg_err_from_errno(errno);
		/* the root may have appeared between the two calls */
		s->root_wd = inotify_add_watch(s->ifd, root, ROOT_MASK);
		if (s->root_wd >= 0) {
			inotify_rm_watch(s->ifd, s->parent_wd);
			s->parent_wd = -1;
		}
	}
	return CG_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

cg_err cg_ctset_rescan(cg_ctset *s, cg_ctset_cb cb, void *arg)
{
	DIR *d = opendir(cg_hier_root(s->h));
	uint32_t *seen = NULL;
	size_t nseen = 0, capseen = 0;
	struct dirent *de;
	cg_err err = CG_OK;

	if (!d) {
		if (errno != ENOENT)
			return cg_err_from_errno(errno);
		while (s->n) /* no root: no containers */
			set_del(s, s->ids[s->n - 1], cb, arg);
		return CG_OK;
	}
	while ((de = readdir(d)) != NULL) {
		uint32_t id;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (!cg_hier_match(s->h, de->d_name, &id))
			continue;
		if (nseen == capseen) {
			size_t nc = capseen ? capseen * 2 : 64;
			uint32_t *p = realloc(seen, nc * sizeof *p);
			if (!p) {
				err = CG_ENOMEM;
				goto out;
			}
			seen = p;
			capseen = nc;
		}
		seen[nseen++] = id;
		if ((err = set_add(s, id, cb, arg)) != CG_OK)
			goto out;
	}
	/* drop what is no longer there */
	if (nseen)
		qsort(seen, nseen, sizeof *seen, cmp_u32);
	for (size_t i = s->n; i-- > 0;)
		if (!nseen || !bsearch(&s->ids[i], seen, nseen, sizeof *seen, cmp_u32))
			set_del(s, s->ids[i], cb, arg);
out:
	free(seen);
	closedir(d);
	return err;
}

cg_err cg_ctset_open(const cg_hier *h, cg_ctset **out, cg_ctset_cb cb, void *arg)
{
	cg_ctset *s = calloc(1, sizeof *s);
	cg_err err;
	*out = NULL;
	if (!s)
		return CG_ENOMEM;
	s->h = h;
	s->root_wd = s->parent_wd = -1;
	const char *slash = strrchr(cg_hier_root(h), '/');
	snprintf(s->root_base, sizeof s->root_base, "%s", slash ? slash + 1 : cg_hier_root(h));
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd < 0) {
		err = cg_err_from_errno(errno);
		free(s);
		return err;
	}
	if ((err = arm_watch(s)) != CG_OK || (err = cg_ctset_rescan(s, cb, arg)) != CG_OK) {
		cg_ctset_close(s);
		return err;
	}
	*out = s;
	return CG_OK;
}

void cg_ctset_close(cg_ctset *s)
{
	if (!s)
		return;
	if (s->ifd >= 0)
		close(s->ifd);
	free(s->ids);
	free(s);
}

int cg_ctset_fd(const cg_ctset *s) { return s->ifd; }
size_t cg_ctset_count(const cg_ctset *s) { return s->n; }

size_t cg_ctset_ids(const cg_ctset *s, uint32_t *ids, size_t cap)
{
	size_t n = s->n < cap ? s->n : cap;
	if (n)
		memcpy(ids, s->ids, n * sizeof *ids);
	return s->n;
}

cg_err cg_ctset_process(cg_ctset *s, cg_ctset_cb cb, void *arg)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rescan = false, rearm = false;
	cg_err err = CG_OK;

	for (;;) {
		ssize_t len = read(s->ifd, buf, sizeof buf);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return cg_err_from_errno(errno);
		}
		if (len == 0)
			break;
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			uint32_t id;
			if (ev->mask & IN_Q_OVERFLOW) {
				rescan = true;
			} else if (ev->wd == s->root_wd && s->root_wd >= 0) {
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
					rearm = rescan = true;
				} else if (ev->len && (ev->mask & IN_ISDIR) &&
				           cg_hier_match(s->h, ev->name, &id)) {
					if (ev->mask & (IN_CREATE | IN_MOVED_TO))
						err = set_add(s, id, cb, arg);
					else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
						set_del(s, id, cb, arg);
					if (err)
						return err;
				}
			} else if (ev->wd == s->parent_wd && s->parent_wd >= 0) {
				if (ev->len && strcmp(ev->name, s->root_base) == 0)
					rearm = rescan = true;
			}
		}
	}
	if (rearm) {
		if (s->root_wd >= 0)
			inotify_rm_watch(s->ifd, s->root_wd); /* may already be gone: ignore */
		s->root_wd = -1;
		if ((err = arm_watch(s)) != CG_OK)
			return err;
	}
	if (rescan)
		return cg_ctset_rescan(s, cb, arg);
	return CG_OK;
}

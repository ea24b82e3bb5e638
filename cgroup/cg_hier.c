/*
 * cg_hier.c — where cgroup v2 lives and where the containers are.
 *
 * Proxmox VE (pure cgroup v2) mounts at /sys/fs/cgroup and puts container <vmid>'s limits
 * on lxc/<vmid> and its tasks below lxc/<vmid>/ns. Hybrid hosts mount cgroup v2 at
 * /sys/fs/cgroup/unified. Other hosts (and tests) configure the mount, the container root
 * and the directory-name pattern ("%u", "lxc-%u.scope", ...). The container level — the
 * ancestor level BPF uses to attribute a task — is the root's depth below the mount plus
 * one, computed from the path so that no "2" is hard-coded anywhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cg_internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_ID_MAX 999999999u

static bool is_cgroup2(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Copy a relative root without leading/trailing slashes; reject "." and ".." parts.
 * Returns the number of path components, or -1. */
static int clean_root(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	int parts = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		if (n + len + 2 > cap)
			return -1;
		if (n)
			out[n++] = '/';
		memcpy(out + n, p, len);
		n += len;
		parts++;
		p += len;
	}
	out[n] = '\0';
	return parts;
}

static bool valid_name(const char *s)
{
	return strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

cg_err cg_hier_open(const struct cg_config *cfg, cg_hier **out)
{
	struct cg_config def = { 0 };
	char rel[PATH_MAX];
	cg_hier *h;
	int parts;

	*out = NULL;
	if (!cfg)
		cfg = &def;
	h = calloc(1, sizeof *h);
	if (!h)
		return CG_ENOMEM;

	if (cfg->mount) {
		if (cfg->mount[0] != '/' || strlen(cfg->mount) >= sizeof h->mount)
			goto inval;
		snprintf(h->mount, sizeof h->mount, "%s", cfg->mount);
		size_t ml = strlen(h->mount);
		while (ml > 1 && h->mount[ml - 1] == '/')
			h->mount[--ml] = '\0';
		if (!is_dir(h->mount)) {
			free(h);
			return CG_ENOMOUNT;
		}
	} else if (is_cgroup2("/sys/fs/cgroup")) {
		strcpy(h->mount, "/sys/fs/cgroup");
	} else if (is_cgroup2("/sys/fs/cgroup/unified")) {
		strcpy(h->mount, "/sys/fs/cgroup/unified");
	} else {
		free(h);
		return CG_ENOMOUNT;
	}
	h->cgroup2 = is_cgroup2(h->mount);

	parts = clean_root(cfg->root ? cfg->root : "lxc", rel, sizeof rel);
	if (parts < 0)
		goto inval;
	if (snprintf(h->root, sizeof h->root, "%s%s%s", h->mount, parts ? "/" : "", rel) >=
	    (int)sizeof h->root)
		goto inval;
	h->level = parts + 1;

	const char *pat = cfg->id_pattern ? cfg->id_pattern : "%u";
	const char *pc = strstr(pat, "%u");
	if (!pc || strstr(pc + 2, "%") || memchr(pat, '%', (size_t)(pc - pat)) ||
	    (size_t)(pc - pat) >= sizeof h->pat_prefix || strlen(pc + 2) >= sizeof h->pat_suffix ||
	    strchr(pat, '/'))
		goto inval;
	memcpy(h->pat_prefix, pat, (size_t)(pc - pat));
	h->pat_prefix[pc - pat] = '\0';
	strcpy(h->pat_suffix, pc + 2);

	const char *inner = cfg->inner ? cfg->inner : "ns";
	if (strlen(inner) >= sizeof h->inner || (inner[0] && !valid_name(inner)))
		goto inval;
	strcpy(h->inner, inner);

	*out = h;
	return CG_OK;
inval:
	free(h);
	return CG_EINVAL;
}

void cg_hier_close(cg_hier *h) { free(h); }
const char *cg_hier_mount(const cg_hier *h) { return h->mount; }
const char *cg_hier_root(const cg_hier *h) { return h->root; }
bool cg_hier_is_cgroup2(const cg_hier *h) { return h->cgroup2; }
int cg_hier_level(const cg_hier *h) { return h->level; }

bool cg_hier_match(const cg_hier *h, const char *name, uint32_t *id)
{
	size_t pl = strlen(h->pat_prefix), sl = strlen(h->pat_suffix), nl = strlen(name);
	uint64_t v;
	if (nl <= pl + sl || strncmp(name, h->pat_prefix, pl) != 0 ||
	    strcmp(name + nl - sl, h->pat_suffix) != 0)
		return false;
	const char *d = name + pl;
	size_t dl = nl - pl - sl;
	if (d[0] == '0' || !cg_parse_u64_tok(d, dl, &v) || v == 0 || v > CG_ID_MAX)
		return false; /* no leading zeros: one id has exactly one directory name */
	*id = (uint32_t)v;
	return true;
}

cg_err cg_hier_ct_path(const cg_hier *h, uint32_t id, char *buf, size_t cap)
{
	if (id == 0 || id > CG_ID_MAX)
		return CG_EINVAL;
	int n = snprintf(buf, cap, "%s/%s%u%s", h->root, h->pat_prefix, id, h->pat_suffix);
	return n < 0 || (size_t)n >= cap ? CG_EINVAL : CG_OK;
}

cg_err cg_cgroup_id(const char *path, uint64_t *id)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return cg_err_from_errno(errno);
	*id = (uint64_t)st.st_ino;
	return CG_OK;
}

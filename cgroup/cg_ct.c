/*
 * cg_ct.c — one container's cgroup files, kept open, and the sample read.
 *
 * Opening a handle opens the directory and every file a sample needs once; a sample is
 * then one pread per file at offset 0 into a stack buffer (kernfs regenerates the text on
 * every read at offset 0), parsed in place. The buffer is on the stack, not in the handle:
 * it stays hot in cache across 1000 containers and costs no memory per handle. Files that do not exist — a controller
 * not enabled, an older kernel — keep fd -1 and their values stay CG_UNKNOWN;
 * cg_ct_refresh() retries them. A pread failing with ENODEV (the kernel's answer on an
 * fd whose cgroup was removed) or ENOENT ends the sample with CG_GONE: the container
 * stopped while we read it, which is normal.
 *
 * cg_sample_read_mask() reads one class of files (file_class[]): a caller sampling a
 * thousand containers reads the counters each time and the limits, which only change when
 * written, now and then. On a Proxmox host that is 10 of the 16 files per sample.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cg_internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

const char *const cg_file_names[CG_F__COUNT] = {
	[CG_F_CPU_STAT] = "cpu.stat",
	[CG_F_CPU_MAX] = "cpu.max",
	[CG_F_CPUSET_CPUS] = "cpuset.cpus",
	[CG_F_CPUSET_EFF] = "cpuset.cpus.effective",
	[CG_F_MEM_CURRENT] = "memory.current",
	[CG_F_MEM_MAX] = "memory.max",
	[CG_F_MEM_HIGH] = "memory.high",
	[CG_F_MEM_STAT] = "memory.stat",
	[CG_F_MEM_EVENTS] = "memory.events",
	[CG_F_SWAP_CURRENT] = "memory.swap.current",
	[CG_F_SWAP_MAX] = "memory.swap.max",
	[CG_F_IO_STAT] = "io.stat",
	[CG_F_PIDS_CURRENT] = "pids.current",
	[CG_F_CPU_PRESSURE] = "cpu.pressure",
	[CG_F_MEM_PRESSURE] = "memory.pressure",
	[CG_F_IO_PRESSURE] = "io.pressure",
};

ssize_t cg_pread_file(int fd, char *buf, size_t cap)
{
	ssize_t n;
	if (cap < 2) {
		errno = EINVAL;
		return -1;
	}
	do
		n = pread(fd, buf, cap - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n == cap - 1) {
		/* Full buffer: the file may go on. Keep only complete lines; a single line that
		 * does not fit is not a shorter value (an empty cpuset.cpus means "all"). */
		char *nl = memrchr(buf, '\n', (size_t)n);
		if (!nl) {
			errno = EOVERFLOW;
			return -1;
		}
		n = (ssize_t)(nl - buf + 1);
	}
	buf[n] = '\0';
	return n;
}

static bool dir_still_there(const cg_ct *ct)
{
	struct stat st;
	return stat(ct->path, &st) == 0 && (uint64_t)st.st_ino == ct->cgid;
}

static void open_missing(cg_ct *ct)
{
	for (int i = 0; i < CG_F__COUNT; i++)
		if (ct->fds[i] < 0)
			ct->fds[i] = openat(ct->dirfd, cg_file_names[i], O_RDONLY | O_CLOEXEC);
}

cg_err cg_ct_open_dir(const char *dir, const char *inner, uint32_t id, cg_ct **out)
{
	struct stat st;
	struct statfs sf;
	cg_ct *ct;
	cg_err err;

	*out = NULL;
	size_t dir_len = dir ? strlen(dir) : 0;
	if (!dir || dir[0] != '/' || dir_len >= PATH_MAX)
		return CG_EINVAL;
	if (inner && (strlen(inner) >= sizeof ct->inner || strchr(inner, '/')))
		return CG_EINVAL;
	ct = calloc(1, sizeof *ct + dir_len + 1); /* the path as long as it is, not PATH_MAX */
	if (!ct)
		return CG_ENOMEM;
	for (int i = 0; i < CG_F__COUNT; i++)
		ct->fds[i] = -1;
	ct->events_watch_fd = -1;
	ct->id = id;
	memcpy(ct->path, dir, dir_len + 1);
	if (inner)
		strcpy(ct->inner, inner);
	ct->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ct->dirfd < 0) {
		err = cg_err_from_errno(errno);
		free(ct);
		return err;
	}
	if (fstat(ct->dirfd, &st) != 0 || fstatfs(ct->dirfd, &sf) != 0) {
		err = cg_err_from_errno(errno);
		cg_ct_close(ct);
		return err;
	}
	ct->cgid = (uint64_t)st.st_ino;
	ct->plain = (unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC;
	open_missing(ct);
	*out = ct;
	return CG_OK;
}

cg_err cg_ct_open(const cg_hier *h, uint32_t id, cg_ct **out)
{
	char path[PATH_MAX];
	cg_err err = cg_hier_ct_path(h, id, path, sizeof path);
	if (err) {
		*out = NULL;
		return err;
	}
	return cg_ct_open_dir(path, h->inner, id, out);
}

void cg_ct_close(cg_ct *ct)
{
	if (!ct)
		return;
	for (int i = 0; i < CG_F__COUNT; i++)
		if (ct->fds[i] >= 0)
			close(ct->fds[i]);
	if (ct->events_watch_fd >= 0)
		close(ct->events_watch_fd);
	if (ct->dirfd >= 0)
		close(ct->dirfd);
	free(ct);
}

uint32_t cg_ct_id(const cg_ct *ct) { return ct->id; }
uint64_t cg_ct_cgroup_id(const cg_ct *ct) { return ct->cgid; }
const char *cg_ct_path(const cg_ct *ct) { return ct->path; }

cg_err cg_ct_refresh(cg_ct *ct)
{
	if (!dir_still_there(ct))
		return CG_GONE;
	open_missing(ct);
	return CG_OK;
}

/* pread one held file into buf (CG_READ_BUF bytes); CG_ENOTSUP when it is not there. */
static cg_err read_held(cg_ct *ct, enum cg_file f, char *buf, size_t *len)
{
	ssize_t n;
	if (ct->fds[f] < 0)
		return CG_ENOTSUP;
	n = cg_pread_file(ct->fds[f], buf, CG_READ_BUF);
	if (n < 0) {
		cg_err e = cg_err_from_errno(errno);
		return e == CG_GONE ? CG_GONE : CG_EIO;
	}
	*len = (size_t)n;
	return CG_OK;
}

static void parse_into(enum cg_file f, const char *t, size_t n, struct cg_sample *s)
{
	switch (f) {
	case CG_F_CPU_STAT: cg_parse_cpu_stat_into(t, n, s); break;
	case CG_F_CPU_MAX: cg_parse_cpu_max(t, n, &s->cpu_max_quota_usec, &s->cpu_max_period_usec); break;
	case CG_F_CPUSET_CPUS: cg_cpuset_parse(t, n, &s->cpuset_cpus); break;
	case CG_F_CPUSET_EFF: cg_cpuset_parse(t, n, &s->cpuset_cpus_effective); break;
	case CG_F_MEM_CURRENT: s->mem_current = cg_parse_limit(t, n); break;
	case CG_F_MEM_MAX: s->mem_max = cg_parse_limit(t, n); break;
	case CG_F_MEM_HIGH: s->mem_high = cg_parse_limit(t, n); break;
	case CG_F_MEM_STAT: cg_parse_mem_stat_into(t, n, s); break;
	case CG_F_MEM_EVENTS: cg_parse_mem_events_into(t, n, s); break;
	case CG_F_SWAP_CURRENT: s->swap_current = cg_parse_limit(t, n); break;
	case CG_F_SWAP_MAX: s->swap_max = cg_parse_limit(t, n); break;
	case CG_F_IO_STAT: cg_parse_io_stat(t, n, s); break;
	case CG_F_PIDS_CURRENT: s->pids_current = cg_parse_limit(t, n); break;
	case CG_F_CPU_PRESSURE: cg_parse_psi(t, n, &s->psi_cpu); break;
	case CG_F_MEM_PRESSURE: cg_parse_psi(t, n, &s->psi_memory); break;
	case CG_F_IO_PRESSURE: cg_parse_psi(t, n, &s->psi_io); break;
	case CG_F__COUNT: break;
	}
}

/* Which class each file is in (cgroup.h, enum cg_read_class). */
static const uint8_t file_class[CG_F__COUNT] = {
	[CG_F_CPU_STAT] = CG_READ_CPU,
	[CG_F_CPU_MAX] = CG_READ_LIMITS,
	[CG_F_CPUSET_CPUS] = CG_READ_LIMITS,
	[CG_F_CPUSET_EFF] = CG_READ_LIMITS,
	[CG_F_MEM_CURRENT] = CG_READ_COUNTERS,
	[CG_F_MEM_MAX] = CG_READ_LIMITS,
	[CG_F_MEM_HIGH] = CG_READ_LIMITS,
	[CG_F_MEM_STAT] = CG_READ_COUNTERS,
	[CG_F_MEM_EVENTS] = CG_READ_COUNTERS,
	[CG_F_SWAP_CURRENT] = CG_READ_COUNTERS,
	[CG_F_SWAP_MAX] = CG_READ_LIMITS,
	[CG_F_IO_STAT] = CG_READ_COUNTERS,
	[CG_F_PIDS_CURRENT] = CG_READ_COUNTERS,
	[CG_F_CPU_PRESSURE] = CG_READ_PRESSURE,
	[CG_F_MEM_PRESSURE] = CG_READ_PRESSURE,
	[CG_F_IO_PRESSURE] = CG_READ_PRESSURE,
};

unsigned cg_ct_files_held(const cg_ct *ct, unsigned mask)
{
	unsigned n = 0;
	for (int f = 0; f < CG_F__COUNT; f++)
		n += ct->fds[f] >= 0 && (file_class[f] & mask);
	return n;
}

cg_err cg_sample_read(cg_ct *ct, struct cg_sample *out)
{
	return cg_sample_read_mask(ct, CG_READ_ALL, out);
}

cg_err cg_sample_read_mask(cg_ct *ct, unsigned mask, struct cg_sample *out)
{
	memset(out, 0, sizeof *out);
	if (mask == 0)
		return CG_EINVAL;
	return cg_sample_read_more(ct, mask, out);
}

cg_err cg_sample_read_more(cg_ct *ct, unsigned mask, struct cg_sample *out)
{
	char buf[CG_READ_BUF]; /* on the stack: hot in cache, and no 16 KiB per handle */
	if (mask & ~(unsigned)CG_READ_ALL)
		return CG_EINVAL;
	if (!out->mono_ns)
		out->mono_ns = cg_mono_ns();
	for (int f = 0; f < CG_F__COUNT; f++) {
		size_t n;
		if (!(file_class[f] & mask))
			continue;
		cg_err e = read_held(ct, (enum cg_file)f, buf, &n);
		if (e == CG_GONE)
			return CG_GONE;
		if (e == CG_OK)
			parse_into((enum cg_file)f, buf, n, out);
	}
	/* A counter is never "max"; only limits may say so. */
	if (out->mem_current.state == CG_MAX) out->mem_current = (cg_u64){ 0, CG_UNKNOWN };
	if (out->swap_current.state == CG_MAX) out->swap_current = (cg_u64){ 0, CG_UNKNOWN };
	if (out->pids_current.state == CG_MAX) out->pids_current = (cg_u64){ 0, CG_UNKNOWN };
	return CG_OK;
}

static const enum cg_file pressure_file[CG_RES__COUNT] = {
	[CG_RES_CPU] = CG_F_CPU_PRESSURE,
	[CG_RES_MEMORY] = CG_F_MEM_PRESSURE,
	[CG_RES_IO] = CG_F_IO_PRESSURE,
};

cg_err cg_read_pressure(cg_ct *ct, enum cg_resource res, struct cg_psi *out)
{
	char buf[CG_READ_BUF];
	size_t n;
	cg_err e;
	memset(out, 0, sizeof *out);
	if ((unsigned)res >= CG_RES__COUNT)
		return CG_EINVAL;
	if ((e = read_held(ct, pressure_file[res], buf, &n)) != CG_OK)
		return e;
	cg_parse_psi(buf, n, out);
	return CG_OK;
}

cg_err cg_read_mem_events(cg_ct *ct, struct cg_mem_events *out)
{
	char buf[CG_READ_BUF];
	size_t n;
	cg_err e;
	memset(out, 0, sizeof *out);
	if ((e = read_held(ct, CG_F_MEM_EVENTS, buf, &n)) != CG_OK)
		return e;
	cg_parse_mem_events(buf, n, out);
	return CG_OK;
}

cg_err cg_read_mem_current(cg_ct *ct, cg_u64 *out)
{
	char buf[CG_READ_BUF];
	size_t n;
	cg_err e;
	*out = (cg_u64){ 0, CG_UNKNOWN };
	if ((e = read_held(ct, CG_F_MEM_CURRENT, buf, &n)) != CG_OK)
		return e;
	*out = cg_parse_limit(buf, n);
	if (out->state != CG_KNOWN) {
		*out = (cg_u64){ 0, CG_UNKNOWN };
		return CG_EPARSE;
	}
	return CG_OK;
}

/*
 * cg_internal.h — what the cgroup library's own files share and nobody else sees.
 *
 * A container handle keeps one directory fd and one read fd per file it samples, so a
 * sample is a row of preads into one buffer on the reader's stack. The table of files
 * (cg_files[]) is the single place that says which files a sample reads.
 */
#ifndef LXCSCALE_CG_INTERNAL_H
#define LXCSCALE_CG_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

#include "cgroup.h"

#define CG_READ_BUF 16384  /* memory.stat is ~1.5 KiB; io.stat grows with disks */
#define CG_NAME_MAX 64

enum cg_file {
	CG_F_CPU_STAT = 0,
	CG_F_CPU_MAX,
	CG_F_CPUSET_CPUS,
	CG_F_CPUSET_EFF,
	CG_F_MEM_CURRENT,
	CG_F_MEM_MAX,
	CG_F_MEM_HIGH,
	CG_F_MEM_STAT,
	CG_F_MEM_EVENTS,
	CG_F_SWAP_CURRENT,
	CG_F_SWAP_MAX,
	CG_F_IO_STAT,
	CG_F_PIDS_CURRENT,
	CG_F_CPU_PRESSURE,
	CG_F_MEM_PRESSURE,
	CG_F_IO_PRESSURE,
	CG_F__COUNT
};

extern const char *const cg_file_names[CG_F__COUNT];

struct cg_hier {
	char mount[PATH_MAX];
	char root[PATH_MAX];     /* absolute */
	char pat_prefix[CG_NAME_MAX], pat_suffix[CG_NAME_MAX];
	char inner[CG_NAME_MAX];
	int level;
	bool cgroup2;
};

struct cg_ct {
	uint32_t id;
	uint64_t cgid;
	int dirfd;
	int fds[CG_F__COUNT];
	int events_watch_fd;
	bool plain;              /* not cgroupfs (a test tree): writes must truncate */
	char inner[CG_NAME_MAX];
	char path[];             /* allocated to its length: 1 000 handles, not 4 MB of PATH_MAX */
};

/* errno of a failed system call -> cg_err (ENOENT/ENODEV -> CG_GONE). */
cg_err cg_err_from_errno(int e);

/* pread the whole file at offset 0 into buf (NUL-terminated). Returns the length or -1
 * with errno. A read that fills the buffer is cut back to its last complete line; one
 * that holds no complete line fails with EOVERFLOW. */
ssize_t cg_pread_file(int fd, char *buf, size_t cap);

/* Strict unsigned decimal: digits only (up to the end of the token), no overflow. */
bool cg_parse_u64_tok(const char *s, size_t len, uint64_t *out);

uint64_t cg_mono_ns(void);

/* Single-pass keyed parsers straight into a sample's fields. */
void cg_parse_cpu_stat_into(const char *text, size_t len, struct cg_sample *out);
void cg_parse_mem_stat_into(const char *text, size_t len, struct cg_sample *out);
void cg_parse_mem_events_into(const char *text, size_t len, struct cg_sample *out);

#endif

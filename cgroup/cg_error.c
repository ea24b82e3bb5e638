/*
 * cg_error.c — error names and the errno mapping every file of the library uses.
 *
 * The one judgement made here: ENOENT and ENODEV mean the cgroup directory went away
 * (a container stopped while we looked at it). That is CG_GONE, a normal outcome the
 * caller handles quietly, not an I/O error to log.
 */
#include <errno.h>
#include <time.h>

#include "cg_internal.h"

static const char *const names[CG__COUNT] = {
	[CG_OK] = "ok",
	[CG_GONE] = "container gone (its cgroup was removed)",
	[CG_ENOTSUP] = "cgroup file or controller not available",
	[CG_EINVAL] = "invalid argument or value refused by the kernel",
	[CG_EPARSE] = "cgroup file contents could not be parsed",
	[CG_EIO] = "system call failed (see errno)",
	[CG_ENOMEM] = "out of memory",
	[CG_EVERIFY] = "value read back differs from the value written",
	[CG_EUNSAFE] = "refused: memory.max below memory.current + headroom would make the "
	               "kernel OOM-kill in the container",
	[CG_ENOMOUNT] = "no cgroup v2 mount or container root found",
	[CG_EBUSY] = "resource busy",
	[CG_EPERM] = "permission denied",
};

const char *cg_strerror(cg_err err)
{
	if ((unsigned)err >= CG__COUNT || !names[err])
		return "unknown cgroup error";
	return names[err];
}

cg_err cg_err_from_errno(int e)
{
	switch (e) {
	case 0:
		return CG_OK;
	case ENOENT:
	case ENODEV:
		return CG_GONE;
	case EINVAL:
	case ERANGE:
		return CG_EINVAL;
	case EBUSY:
		return CG_EBUSY;
	case EACCES:
	case EPERM:
		return CG_EPERM;
	case ENOMEM:
		return CG_ENOMEM;
	case EOPNOTSUPP:
		return CG_ENOTSUP;
	default:
		return CG_EIO;
	}
}

uint64_t cg_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

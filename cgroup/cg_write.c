/*
 * cg_write.c — limit writers with the rules of Proxmox VE and the kernel.
 *
 * Every write is followed by a read-back; a value the kernel normalised differently from
 * what we meant is CG_EVERIFY, never silently accepted. Values are written in the form the
 * kernel prints them back (memory in page-aligned bytes, cpu.max as "<quota> <period>"), so
 * the comparison is exact. The orders:
 *  - cpuset.cpus: a child's effective set is bounded by its parent's, so the container
 *    (lxc/<id>) first gets old ∪ new, then the payload child (lxc/<id>/ns) gets new, then the
 *    container gets new — the order pvestatd uses; it widens parent first and narrows child
 *    first for any change.
 *  - memory growing: memory.max before memory.high (high never above max on the way).
 *    Shrinking: memory.high first (throttle and reclaim, never OOM), then memory.max, and
 *    only when the new max is at least memory.current + headroom. Writing memory.max below
 *    usage makes the kernel reclaim in the writer and then OOM-kill inside the container;
 *    scaling must never do that, so such a write is refused (CG_EUNSAFE).
 * A container that stopped meanwhile gives CG_GONE from any step.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cg_internal.h"

static uint64_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (uint64_t)p : 4096;
}

static void trim_nl(char *s, size_t *len)
{
	while (*len && (s[*len - 1] == '\n' || s[*len - 1] == ' '))
		s[--*len] = '\0';
}

static cg_err write_at(cg_ct *ct, int dirfd, const char *name, const char *value)
{
	int flags = O_WRONLY | O_CLOEXEC | (ct->plain ? O_TRUNC : 0);
	int fd = openat(dirfd, name, flags);
	size_t len = strlen(value);
	cg_err err = CG_OK;
	if (fd < 0) {
		if (errno == ENOENT)
			return cg_ct_refresh(ct) == CG_GONE ? CG_GONE : CG_ENOTSUP;
		return cg_err_from_errno(errno);
	}
	ssize_t n = write(fd, value, len);
	if (n < 0)
		err = cg_err_from_errno(errno);
	else if ((size_t)n != len)
		err = CG_EIO;
	close(fd);
	return err;
}

static cg_err read_at(cg_ct *ct, int dirfd, const char *name, char *buf, size_t cap, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	cg_err err = CG_OK;
	if (fd < 0) {
		if (errno == ENOENT)
			return cg_ct_refresh(ct) == CG_GONE ? CG_GONE : CG_ENOTSUP;
		return cg_err_from_errno(errno);
	}
	ssize_t n = cg_pread_file(fd, buf, cap);
	if (n < 0)
		err = cg_err_from_errno(errno);
	else
		*len = (size_t)n;
	close(fd);
	if (err == CG_OK)
		trim_nl(buf, len);
	return err;
}

static cg_err write_verify_at(cg_ct *ct, int dirfd, const char *name, const char *value)
{
	char back[256];
	size_t blen = 0, vlen = strlen(value);
	cg_err err = write_at(ct, dirfd, name, value);
	if (err)
		return err;
	if ((err = read_at(ct, dirfd, name, back, sizeof back, &blen)) != CG_OK)
		return err;
	while (vlen && value[vlen - 1] == '\n')
		vlen--;
	return blen == vlen && memcmp(back, value, vlen) == 0 ? CG_OK : CG_EVERIFY;
}

cg_err cg_write_verify(cg_ct *ct, const char *name, const char *value)
{
	if (!ct || !name || !value || !name[0] || strchr(name, '/') || strlen(value) > 200)
		return CG_EINVAL;
	return write_verify_at(ct, ct->dirfd, name, value);
}

/* ---- cpu.max ---------------------------------------------------------------------- */

cg_err cg_set_cpu(cg_ct *ct, double cores)
{
	char v[64];
	if (!(cores >= 0) || cores > 8192.0) /* also rejects NaN */
		return CG_EINVAL;
	if (cores == 0) {
		snprintf(v, sizeof v, "max %u", CG_CPU_PERIOD_US);
	} else {
		double q = round(cores * CG_CPU_PERIOD_US);
		if (q < 1000) /* the kernel's minimum quota is 1 ms */
			return CG_EINVAL;
		snprintf(v, sizeof v, "%llu %u", (unsigned long long)q, CG_CPU_PERIOD_US);
	}
	return write_verify_at(ct, ct->dirfd, "cpu.max", v);
}

/* ---- cpuset.cpus ------------------------------------------------------------------ */

#define CPULIST_MAX 24576 /* "0,2,4,...,4094" is about 10 KiB */

static cg_err read_cpuset(cg_ct *ct, int dirfd, cg_cpuset *out)
{
	char buf[CPULIST_MAX];
	size_t len = 0;
	cg_err err = read_at(ct, dirfd, "cpuset.cpus", buf, sizeof buf, &len);
	if (err)
		return err;
	return cg_cpuset_parse(buf, len, out);
}

static cg_err write_cpuset(cg_ct *ct, int dirfd, const cg_cpuset *set)
{
	char v[CPULIST_MAX];
	cg_cpuset back;
	cg_err err = cg_cpuset_format(set, v, sizeof v);
	if (err)
		return err;
	if ((err = write_at(ct, dirfd, "cpuset.cpus", v)) != CG_OK)
		return err;
	if ((err = read_cpuset(ct, dirfd, &back)) != CG_OK)
		return err;
	return cg_cpuset_equal(&back, set) ? CG_OK : CG_EVERIFY;
}

cg_err cg_set_cpuset(cg_ct *ct, const cg_cpuset *cpus)
{
	cg_cpuset old, uni;
	cg_err err;
	int child = -1;

	if (!cpus || cpus->state != CG_KNOWN || cpus->count == 0)
		return CG_EINVAL;
	if ((err = read_cpuset(ct, ct->dirfd, &old)) != CG_OK)
		return err;
	if (ct->inner[0]) {
		child = openat(ct->dirfd, ct->inner, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (child < 0 && errno != ENOENT)
			return cg_err_from_errno(errno);
	}
	/* 1. widen the container to old ∪ new (an empty old set means "all of the parent's":
	 *    nothing to widen) */
	uni = old;
	if (old.count) {
		uni.count = 0;
		for (size_t i = 0; i < CG_CPUSET_MAX_CPUS / 64; i++) {
			uni.bits[i] |= cpus->bits[i];
			uni.count += (uint32_t)__builtin_popcountll(uni.bits[i]);
		}
		if (!cg_cpuset_equal(&uni, &old) && (err = write_cpuset(ct, ct->dirfd, &uni)) != CG_OK)
			goto out;
	}
	/* 2. the payload child gets the new set (unless cpuset is not enabled below the
	 *    container: then the child simply follows the container's effective set) */
	if (child >= 0) {
		cg_cpuset cur;
		err = read_cpuset(ct, child, &cur);
		if (err == CG_EPARSE || (err == CG_OK && !cg_cpuset_equal(&cur, cpus)))
			err = write_cpuset(ct, child, cpus);
		if (err == CG_ENOTSUP)
			err = CG_OK;
		if (err)
			goto out;
	}
	/* 3. narrow the container to the new set */
	if (!(old.count ? cg_cpuset_equal(&uni, cpus) : false))
		err = write_cpuset(ct, ct->dirfd, cpus);
out:
	if (child >= 0)
		close(child);
	return err;
}

cg_err cg_set_cpuset_str(cg_ct *ct, const char *cpus)
{
	cg_cpuset set;
	if (!cpus || cg_cpuset_parse(cpus, strlen(cpus), &set) != CG_OK)
		return CG_EINVAL;
	return cg_set_cpuset(ct, &set);
}

/* ---- memory ------------------------------------------------------------------------ */

uint64_t cg_pve_memory_high(uint64_t max_bytes)
{
	uint64_t high;
	if (max_bytes >= (16384ull << 20))
		high = max_bytes - (128ull << 20);
	else
		high = max_bytes / 1024 * 1016;
	return high & ~(page_size() - 1);
}

static cg_err write_bytes(cg_ct *ct, const char *name, uint64_t bytes)
{
	char v[32];
	if (bytes == UINT64_MAX)
		snprintf(v, sizeof v, "max");
	else
		snprintf(v, sizeof v, "%llu", (unsigned long long)(bytes & ~(page_size() - 1)));
	return write_verify_at(ct, ct->dirfd, name, v);
}

static cg_err read_limit(cg_ct *ct, const char *name, cg_u64 *out)
{
	char buf[64];
	size_t len = 0;
	cg_err err = read_at(ct, ct->dirfd, name, buf, sizeof buf, &len);
	if (err)
		return err;
	*out = cg_parse_limit(buf, len);
	return out->state == CG_UNKNOWN ? CG_EPARSE : CG_OK;
}

static bool fits(uint64_t bytes, uint64_t current, uint64_t headroom)
{
	uint64_t need = current > UINT64_MAX - headroom ? UINT64_MAX : current + headroom;
	return bytes >= need;
}

cg_err cg_set_memory(cg_ct *ct, uint64_t bytes, uint64_t headroom)
{
	cg_u64 cur_max, current;
	cg_err err;

	bytes &= ~(page_size() - 1);
	if (bytes < CG_MEM_MIN_BYTES || bytes == (UINT64_MAX & ~(page_size() - 1)))
		return CG_EINVAL;
	uint64_t high = cg_pve_memory_high(bytes);
	if ((err = read_limit(ct, "memory.max", &cur_max)) != CG_OK)
		return err;

	if (cur_max.state == CG_KNOWN && bytes >= cur_max.v) {
		/* growing (or equal): max first, then high */
		if ((err = write_bytes(ct, "memory.max", bytes)) != CG_OK)
			return err;
		return write_bytes(ct, "memory.high", high);
	}

	/* shrinking: refuse before touching anything if the new max cannot hold usage */
	if ((err = read_limit(ct, "memory.current", &current)) != CG_OK)
		return err;
	if (current.state != CG_KNOWN)
		return CG_EPARSE;
	if (!fits(bytes, current.v, headroom))
		return CG_EUNSAFE;
	if ((err = write_bytes(ct, "memory.high", high)) != CG_OK)
		return err;
	/* usage may have grown meanwhile: check again right before memory.max */
	if ((err = read_limit(ct, "memory.current", &current)) != CG_OK)
		return err;
	if (current.state != CG_KNOWN)
		return CG_EPARSE;
	if (!fits(bytes, current.v, headroom))
		return CG_EUNSAFE; /* memory.high stays lowered: safe, and it makes room */
	return write_bytes(ct, "memory.max", bytes);
}

cg_err cg_set_memory_high(cg_ct *ct, uint64_t bytes)
{
	if (bytes != UINT64_MAX && bytes < CG_MEM_MIN_BYTES)
		return CG_EINVAL;
	return write_bytes(ct, "memory.high", bytes);
}

cg_err cg_set_swap(cg_ct *ct, uint64_t bytes)
{
	return write_bytes(ct, "memory.swap.max", bytes);
}

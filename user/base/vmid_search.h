/*
 * base/vmid_search.h — the one binary search by container id.
 *
 * Several tables are kept sorted by vmid (the daemon's containers, the published decisions
 * and histories, the veth index) and each is laid out its own way: an array of structs, an
 * array of pointers. The search only needs "the vmid at index i", so the caller passes a
 * tiny accessor; being static inline, the compiler folds the accessor into the loop.
 *
 *     static uint32_t ct_vmid(const void *tab, size_t i) { return ((const struct daemon *)tab)->cts[i]->vmid; }
 *     size_t i = vmid_lower_bound(d, d->n_cts, ct_vmid, vmid);
 *     found = i < d->n_cts && d->cts[i]->vmid == vmid;
 */
#ifndef LXCSCALE_VMID_SEARCH_H
#define LXCSCALE_VMID_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/* The first index in [0, n) whose vmid is not below `vmid`, or n: where it is, or where it
 * would be inserted to keep the table sorted. */
static inline size_t vmid_lower_bound(const void *tab, size_t n,
				      uint32_t (*vmid_at)(const void *tab, size_t i), uint32_t vmid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (vmid_at(tab, mid) < vmid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif

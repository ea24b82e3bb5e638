/*
 * raw_sample.h — one container's raw readings at one tick, before any feature is derived.
 *
 * This is what the sampler reads from cgroup files (and BPF maps) each tick, what the
 * recorder writes to disk, what the container model produces in replay, and what the
 * feature builder consumes. Counters are cumulative exactly as the kernel reports them
 * (µs, bytes, events); gauges are values at the sample time. Keeping the raw form means a
 * recording can be replayed through any later version of the features and the model.
 */
#ifndef LXCSCALE_RAW_SAMPLE_H
#define LXCSCALE_RAW_SAMPLE_H

#include <stdint.h>

struct raw_sample {
	uint32_t vmid;
	int64_t time_ms;             /* sample time, ms since the epoch */

	/* the allocation in force when the sample was taken */
	double cpu_limit_cores;      /* cpu.max quota/period, or cores when unlimited */
	double mem_limit_mb;         /* memory.max, MiB */
	double mem_high_mb;          /* memory.high, MiB */

	/* cumulative counters */
	uint64_t cpu_usage_usec;     /* cpu.stat usage_usec */
	uint64_t cpu_throttled_usec; /* cpu.stat throttled_usec */
	uint64_t cpu_nr_throttled;   /* cpu.stat nr_throttled */
	uint64_t cpu_some_usec, cpu_full_usec; /* cpu.pressure total= */
	uint64_t mem_some_usec, mem_full_usec; /* memory.pressure total= */
	uint64_t io_some_usec, io_full_usec;   /* io.pressure total= */
	uint64_t oom_kills;          /* memory.events oom_kill */
	uint64_t io_read_bytes, io_write_bytes; /* io.stat rbytes/wbytes */
	uint64_t net_rx_bytes, net_tx_bytes;    /* host-side veth counters */

	/* gauges */
	double mem_used_mb;          /* memory.current - file cache: never counts page cache */
	double mem_file_mb;          /* file cache */
	double swap_used_mb;         /* memory.swap.current */
	double swap_total_mb;        /* memory.swap.max */
	uint32_t nr_procs;           /* pids.current */
	double fs_used_gb, fs_total_gb;
};

#endif

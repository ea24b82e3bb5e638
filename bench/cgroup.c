/*
 * bench/cgroup.c — how long a sample takes: one container, and N containers in a row.
 *
 *   cgroup [-n CONTAINERS] [-r ROUNDS] [--fake DIR] [--real MOUNT]
 *
 * --fake DIR   builds a fake tree of N Proxmox-shaped containers under DIR (use a tmpfs,
 *              e.g. /dev/shm) with all 16 files a sample reads, in kernel formats.
 * --real MOUNT creates N real cgroups below MOUNT (e.g. the host's /sys/fs/cgroup/unified;
 *              without cpu/memory controllers there only cpu.stat and the pressure files
 *              exist, so a sample reads fewer files) and removes them afterwards.
 * For each, it prints the median over ROUNDS of: one full cg_sample_read() of a single
 * container, a pass over all N containers, and — as the baseline the library replaces —
 * the same files read with open/read/close per file per sample. Also the cost of a
 * container-set tick with nothing pending (the inotify fd) against a full rescan.
 * Figures only: nothing here asserts a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"
#include "cgroup.h"

static const char *const files[] = {
	"cpu.stat", "cpu.max", "cpuset.cpus", "cpuset.cpus.effective", "memory.current",
	"memory.max", "memory.high", "memory.stat", "memory.events", "memory.swap.current",
	"memory.swap.max", "io.stat", "pids.current", "cpu.pressure", "memory.pressure",
	"io.pressure",
};
#define NFILES (sizeof files / sizeof *files)

static void put(const char *dir, const char *name, const char *content)
{
	char p[4400];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, content, strlen(content)) < 0) {
		perror(p);
		exit(1);
	}
	close(fd);
}

static const char mem_stat[] =
	"anon 52428800\nfile 41943040\nkernel 5242880\nkernel_stack 294912\npagetables 1048576\n"
	"sec_pagetables 0\npercpu 12345\nsock 0\nvmalloc 0\nshmem 0\nzswap 0\nzswapped 0\n"
	"file_mapped 1234567\nfile_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\n"
	"file_thp 0\nshmem_thp 0\ninactive_anon 41943040\nactive_anon 10485760\n"
	"inactive_file 20971520\nactive_file 20971520\nunevictable 0\nslab_reclaimable 2097152\n"
	"slab_unreclaimable 1048576\nslab 3145728\nworkingset_refault_anon 0\n"
	"workingset_refault_file 12\nworkingset_activate_anon 0\nworkingset_activate_file 3\n"
	"workingset_restore_anon 0\nworkingset_restore_file 0\nworkingset_nodereclaim 0\n"
	"pgscan 100\npgsteal 90\npgscan_kswapd 0\npgscan_direct 100\npgscan_khugepaged 0\n"
	"pgsteal_kswapd 0\npgsteal_direct 90\npgsteal_khugepaged 0\npgfault 123456\n"
	"pgmajfault 12\npgrefill 0\npgactivate 0\npgdeactivate 0\npglazyfree 0\npglazyfreed 0\n"
	"zswpin 0\nzswpout 0\nthp_fault_alloc 0\nthp_collapse_alloc 0\n";

static void make_fake_ct(const char *root, unsigned id)
{
	char d[4200];
	snprintf(d, sizeof d, "%s/%u", root, id);
	mkdir(d, 0755);
	put(d, "cpu.stat", "usage_usec 123456789\nuser_usec 100000000\nsystem_usec 23456789\n"
	                   "core_sched.force_idle_usec 0\nnr_periods 12345\nnr_throttled 123\n"
	                   "throttled_usec 456789\nnr_bursts 0\nburst_usec 0\n");
	put(d, "cpu.max", "200000 100000\n");
	put(d, "cpuset.cpus", "0-3\n");
	put(d, "cpuset.cpus.effective", "0-3\n");
	put(d, "memory.current", "104857600\n");
	put(d, "memory.max", "2147483648\n");
	put(d, "memory.high", "2130706432\n");
	put(d, "memory.stat", mem_stat);
	put(d, "memory.events", "low 0\nhigh 12\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
	put(d, "memory.swap.current", "0\n");
	put(d, "memory.swap.max", "536870912\n");
	put(d, "io.stat", "8:0 rbytes=1234567 wbytes=7654321 rios=123 wios=456 dbytes=0 dios=0\n");
	put(d, "pids.current", "42\n");
	const char *psi = "some avg10=0.12 avg60=0.34 avg300=0.56 total=1234567\n"
	                  "full avg10=0.01 avg60=0.02 avg300=0.03 total=12345\n";
	put(d, "cpu.pressure", psi);
	put(d, "memory.pressure", psi);
	put(d, "io.pressure", psi);
}

/* The baseline: open, read, close every file of one container. */
static void naive_sample(const char *dir)
{
	char p[4096], buf[16384];
	for (size_t i = 0; i < NFILES; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (read(fd, buf, sizeof buf) < 0)
			buf[0] = '\0';
		close(fd);
	}
}

static void bench(const char *label, const char *mount, const char *rel, unsigned n, int rounds)
{
	struct cg_config cfg = { .mount = mount, .root = rel, .inner = "" };
	cg_hier *h;
	cg_ctset *set;
	cg_ct **cts = calloc(n, sizeof *cts);
	struct cg_sample s;
	double *t = calloc((size_t)rounds > 2000 ? (size_t)rounds : 2000, sizeof *t);
	cg_err e;

	if ((e = cg_hier_open(&cfg, &h)) != CG_OK || (e = cg_ctset_open(h, &set, NULL, NULL)) != CG_OK) {
		fprintf(stderr, "%s: %s\n", label, cg_strerror(e));
		exit(1);
	}
	for (unsigned i = 0; i < n; i++)
		if ((e = cg_ct_open(h, 1000 + i, &cts[i])) != CG_OK) {
			fprintf(stderr, "%s: open %u: %s\n", label, 1000 + i, cg_strerror(e));
			exit(1);
		}
	cg_sample_read(cts[0], &s);
	int known = 0;
	known += s.cpu_usage_usec.state == CG_KNOWN;
	known += s.mem_current.state == CG_KNOWN;
	known += s.mem_anon.state == CG_KNOWN;
	known += s.psi_memory.some.total.state == CG_KNOWN;

	/* one container */
	for (int r = 0; r < 2000; r++) {
		double a = now_us();
		cg_sample_read(cts[0], &s);
		t[r] = now_us() - a;
	}
	double one = median(t, 2000);
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/1000", cg_hier_root(h));
	for (int r = 0; r < 2000; r++) {
		double a = now_us();
		naive_sample(dir);
		t[r] = now_us() - a;
	}
	double one_naive = median(t, 2000);

	/* all containers */
	for (int r = 0; r < rounds; r++) {
		double a = now_us();
		for (unsigned i = 0; i < n; i++)
			cg_sample_read(cts[i], &s);
		t[r] = now_us() - a;
	}
	double all = median(t, rounds);
	for (int r = 0; r < rounds; r++) {
		double a = now_us();
		for (unsigned i = 0; i < n; i++) {
			snprintf(dir, sizeof dir, "%s/%u", cg_hier_root(h), 1000 + i);
			naive_sample(dir);
		}
		t[r] = now_us() - a;
	}
	double all_naive = median(t, rounds);

	/* container-set tick: nothing pending vs a full rescan */
	for (int r = 0; r < 2000; r++) {
		double a = now_us();
		cg_ctset_process(set, NULL, NULL);
		t[r] = now_us() - a;
	}
	double tick = median(t, 2000);
	for (int r = 0; r < rounds; r++) {
		double a = now_us();
		cg_ctset_rescan(set, NULL, NULL);
		t[r] = now_us() - a;
	}
	double rescan = median(t, rounds);

	printf("%-58s %10.2f %12.1f %14.2f %14.1f\n", label, one, all, one_naive, all_naive);
	printf("%-58s set tick (inotify, nothing pending) %.2f us; full rescan of %u: %.1f us;"
	       " %zu containers seen; probe values known (cpu.stat, memory.current, memory.stat,"
	       " memory.pressure): %d/4\n",
	       "", tick, n, rescan, cg_ctset_count(set), known);
	for (unsigned i = 0; i < n; i++)
		cg_ct_close(cts[i]);
	cg_ctset_close(set);
	cg_hier_close(h);
	free(cts);
	free(t);
}

static void rm_tree(const char *path, bool cgroupfs)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[4096];
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			rm_tree(p, cgroupfs);
		else if (!cgroupfs)
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

int main(int argc, char **argv)
{
	unsigned n = 1000;
	int rounds = 21;
	const char *fake = NULL, *real = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--fake") && i + 1 < argc)
			fake = argv[++i];
		else if (!strcmp(argv[i], "--real") && i + 1 < argc)
			real = argv[++i];
		else {
			fprintf(stderr, "usage: cgroup [-n N] [-r ROUNDS] [--fake DIR] [--real MOUNT]\n");
			return 2;
		}
	}
	if (n < 1 || n > 100000 || rounds < 1 || rounds > 1000)
		return 2;
	/* 16 fds per container: a daemon with 1000 containers needs RLIMIT_NOFILE > 16k */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	printf("%-58s %10s %12s %14s %14s\n", "setup", "1 ct (us)", "N cts (us)", "1 ct naive(us)",
	       "N naive (us)");
	char rel[64], root[4096];
	snprintf(rel, sizeof rel, "lxcscale-bench-cgroup-%d", (int)getpid());
	if (fake) {
		snprintf(root, sizeof root, "%s/%s", fake, rel);
		mkdir(root, 0755);
		for (unsigned i = 0; i < n; i++)
			make_fake_ct(root, 1000 + i);
		char label[128];
		snprintf(label, sizeof label, "fake tree on %s, 16 files, N=%u", fake, n);
		bench(label, fake, rel, n, rounds);
		rm_tree(root, false);
	}
	if (real) {
		snprintf(root, sizeof root, "%s/%s", real, rel);
		if (mkdir(root, 0755) != 0) {
			printf("real cgroups: cannot create %s: %s\n", root, strerror(errno));
			return 0;
		}
		for (unsigned i = 0; i < n; i++) {
			char d[4200];
			snprintf(d, sizeof d, "%s/%u", root, 1000 + i);
			if (mkdir(d, 0755) != 0) {
				printf("real cgroups: mkdir %s: %s\n", d, strerror(errno));
				rm_tree(root, true);
				return 0;
			}
		}
		/* how many of the 16 files exist in a real cgroup here */
		int present = 0;
		for (size_t i = 0; i < NFILES; i++) {
			char p[4300];
			snprintf(p, sizeof p, "%s/1000/%s", root, files[i]);
			present += access(p, R_OK) == 0;
		}
		char label[160];
		snprintf(label, sizeof label, "real cgroups under %s, %d files, N=%u", real, present, n);
		bench(label, real, rel, n, rounds);
		rm_tree(root, true);
	}
	return 0;
}

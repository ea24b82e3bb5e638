/*
 * test_cgroup_faults.c — fault injection into the cgroup library's readers and writers.
 *
 * The daemon samples hundreds of containers ten times a second; one file that answers with
 * an I/O error, binary garbage, an absurd number or a line longer than any buffer must leave
 * that one value CG_UNKNOWN and let the sample (and the daemon) carry on, and a writer that
 * cannot read what it needs must refuse rather than guess.
 *
 * Real errors, not simulated ones: a fake tree (a temporary directory shaped like
 * /sys/fs/cgroup/lxc/<id>) whose files are symlinks to /proc/self/mem (pread at offset 0 of
 * an unmapped address: the kernel answers EIO), directories (EISDIR), and plain files with
 * hostile contents. The library opens the files once and preads them on every sample, the
 * same path as on a real cgroup. Each case also checks that nothing leaks: the process's
 * open fd count is the same after a thousand open/sample/close cycles.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "testlib.h"

static char root[256];

static void ct_path(char *buf, size_t cap, uint32_t id, const char *name)
{
	snprintf(buf, cap, "%s/lxc/%u%s%s", root, id, name ? "/" : "", name ? name : "");
}

static void put_bytes(uint32_t id, const char *name, const void *data, size_t len)
{
	char p[PATH_MAX];
	ct_path(p, sizeof p, id, name);
	unlink(p);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put(uint32_t id, const char *name, const char *text)
{
	put_bytes(id, name, text, strlen(text));
}

/* A file whose every read fails with EIO from the kernel. */
static void put_eio(uint32_t id, const char *name)
{
	char p[PATH_MAX];
	ct_path(p, sizeof p, id, name);
	unlink(p);
	assert_int_equal(symlink("/proc/self/mem", p), 0);
}

static void put_dir(uint32_t id, const char *name)
{
	char p[PATH_MAX];
	ct_path(p, sizeof p, id, name);
	unlink(p);
	assert_int_equal(mkdir(p, 0755), 0);
}

static char *get(uint32_t id, const char *name)
{
	char dir[PATH_MAX];
	ct_path(dir, sizeof dir, id, NULL);
	return tl_cat(dir, name);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (tl_cg_tree(root, sizeof root, "cgroup-faults") != 0)
		return -1;
	for (uint32_t id = 101; id <= 103; id++)
		tl_cg_ct(root, id, NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tl_rm_rf(root);
	return 0;
}

/* A container whose files are all good except the ones the test breaks afterwards. */
static void good_ct(uint32_t id)
{
	static const struct tl_cg_file good[] = {
		{ "cpu.stat", "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n" },
		{ "cpu.max", "200000 100000\n" },
		{ "memory.current", "104857600\n" },
		{ "memory.max", "536870912\n" },
		{ "memory.high", "532676608\n" },
		{ "memory.stat", "anon 1000\nfile 2000\n" },
		{ "memory.events", "low 0\nhigh 1\nmax 2\noom 0\noom_kill 0\noom_group_kill 0\n" },
		{ "pids.current", "7\n" },
		{ "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n" },
		{ "cpu.pressure", "some avg10=1.00 avg60=0.50 avg300=0.10 total=1234\n"
				  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n" },
		{ "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"
				     "full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n" },
	};
	tl_cg_ct(root, id, good, sizeof good / sizeof good[0]);
}

/* EIO on some files: those values are unknown, every other value is read, the sample
 * returns CG_OK (not CG_GONE: the container is there), and the next sample works. */
static void test_eio_marks_unknown_and_carries_on(void **state)
{
	(void)state;
	good_ct(101);
	put_eio(101, "memory.stat");
	put_eio(101, "cpu.pressure");
	put_eio(101, "memory.events");
	cg_hier *h = tl_cg_hier(root);
	cg_ct *ct;
	assert_int_equal(cg_ct_open(h, 101, &ct), CG_OK);
	struct cg_sample s;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(cg_sample_read(ct, &s), CG_OK);
		assert_true(s.cpu_usage_usec.state == CG_KNOWN && s.cpu_usage_usec.v == 1000);
		assert_true(s.mem_current.state == CG_KNOWN && s.mem_current.v == 104857600);
		assert_true(s.pids_current.v == 7);
		assert_true(s.psi_memory.some.total.v == 5);
		assert_int_equal(s.mem_anon.state, CG_UNKNOWN);
		assert_int_equal(s.mem_file.state, CG_UNKNOWN);
		assert_int_equal(s.psi_cpu.some.total.state, CG_UNKNOWN);
		assert_int_equal(s.psi_cpu.some.avg10.state, CG_UNKNOWN);
		assert_int_equal(s.ev_oom_kill.state, CG_UNKNOWN);
	}
	/* the single-file readers report the error itself, with errno kept */
	struct cg_psi psi;
	errno = 0;
	assert_int_equal(cg_read_pressure(ct, CG_RES_CPU, &psi), CG_EIO);
	assert_int_equal(errno, EIO);
	assert_int_equal(psi.some.total.state, CG_UNKNOWN);
	struct cg_mem_events ev;
	assert_int_equal(cg_read_mem_events(ct, &ev), CG_EIO);
	assert_int_equal(ev.oom_kill.state, CG_UNKNOWN);
	assert_int_equal(cg_read_pressure(ct, CG_RES_MEMORY, &psi), CG_OK);

	/* the file heals (a transient error): the held handle sees it again after refresh */
	put(101, "memory.stat", "anon 4096\n");
	assert_int_equal(cg_ct_refresh(ct), CG_OK);
	cg_ct_close(ct);
	assert_int_equal(cg_ct_open(h, 101, &ct), CG_OK);
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_true(s.mem_anon.state == CG_KNOWN && s.mem_anon.v == 4096);
	cg_ct_close(ct);
	cg_hier_close(h);
}

/* Every file of a sample failing: still CG_OK, everything unknown, no crash. */
static void test_every_file_eio(void **state)
{
	(void)state;
	static const char *const names[] = {
		"cpu.stat", "cpu.max", "cpuset.cpus", "cpuset.cpus.effective", "memory.current",
		"memory.max", "memory.high", "memory.stat", "memory.events", "memory.swap.current",
		"memory.swap.max", "io.stat", "pids.current", "cpu.pressure", "memory.pressure",
		"io.pressure",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		put_eio(102, names[i]);
	cg_hier *h = tl_cg_hier(root);
	cg_ct *ct;
	assert_int_equal(cg_ct_open(h, 102, &ct), CG_OK);
	struct cg_sample s;
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_int_equal(s.cpu_usage_usec.state, CG_UNKNOWN);
	assert_int_equal(s.cpu_max_quota_usec.state, CG_UNKNOWN);
	assert_int_equal(s.cpuset_cpus.state, CG_UNKNOWN);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(s.mem_max.state, CG_UNKNOWN);
	assert_int_equal(s.io_rbytes.state, CG_UNKNOWN);
	assert_int_equal(s.pids_current.state, CG_UNKNOWN);
	assert_int_equal(s.psi_io.full.total.state, CG_UNKNOWN);
	cg_u64 cur;
	assert_int_equal(cg_read_mem_current(ct, &cur), CG_EIO);
	assert_int_equal(cur.state, CG_UNKNOWN);
	cg_ct_close(ct);
	cg_hier_close(h);
}

/* Hostile contents: binary garbage with NULs, numbers beyond 64 bits, negative numbers,
 * a directory where a file should be, a line longer than the read buffer. */
static void test_garbage_contents(void **state)
{
	(void)state;
	good_ct(103);
	static const unsigned char binary[] = {0x7f, 'E', 'L', 'F', 0, 0, 0xff, '\n', 'u', 's', 'a',
					      'g', 'e', '_', 'u', 's', 'e', 'c', 0, '1', '\n'};
	put_bytes(103, "cpu.stat", binary, sizeof binary);
	put(103, "memory.current", "184467440737095516160\n"); /* 10 x UINT64_MAX */
	put(103, "memory.max", "-1\n");
	put(103, "pids.current", "\n");
	put(103, "cpu.max", "max max max\n");
	put(103, "io.stat", "8:0 rbytes=18446744073709551615 wbytes=x rios=-3\n"
			    "8:16 rbytes=1\n");
	put(103, "memory.pressure", "some avg10=nan avg60=inf avg300=1e999 total=-5\n"
				    "full avg10=1.00 avg60 total\n");
	put(103, "io.pressure", "some avg10=250.00 avg60=100.00 avg300=0.00 total=9\n");
	put_dir(103, "memory.high");
	/* one line longer than any sane buffer: not a shorter value */
	size_t big = 256 * 1024;
	char *line = malloc(big + 2);
	assert_non_null(line);
	memset(line, '7', big);
	line[big] = '\n';
	line[big + 1] = '\0';
	put(103, "memory.swap.current", line);
	free(line);

	cg_hier *h = tl_cg_hier(root);
	cg_ct *ct;
	assert_int_equal(cg_ct_open(h, 103, &ct), CG_OK);
	struct cg_sample s;
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_int_equal(s.cpu_usage_usec.state, CG_UNKNOWN);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(s.mem_max.state, CG_UNKNOWN);
	assert_int_equal(s.mem_high.state, CG_UNKNOWN);
	assert_int_equal(s.pids_current.state, CG_UNKNOWN);
	assert_int_equal(s.cpu_max_quota_usec.state, CG_UNKNOWN);
	assert_int_equal(s.swap_current.state, CG_UNKNOWN);
	assert_int_equal(s.psi_memory.some.avg10.state, CG_UNKNOWN);
	assert_int_equal(s.psi_memory.some.total.state, CG_UNKNOWN);
	assert_int_equal(s.psi_io.some.avg10.state, CG_UNKNOWN); /* 250 % of the time */
	assert_true(s.psi_io.some.avg60.state == CG_KNOWN && s.psi_io.some.avg60.v == 100.0);
	/* values that are not garbage are still read */
	assert_true(s.mem_anon.state == CG_KNOWN && s.mem_anon.v == 1000);
	assert_true(s.psi_cpu.some.total.v == 1234);

	/* The writer cannot see memory.current: it refuses to shrink and writes nothing. */
	put(103, "memory.max", "536870912\n");
	put_eio(103, "memory.current");
	assert_int_equal(cg_ct_refresh(ct), CG_OK);
	cg_ct_close(ct);
	assert_int_equal(cg_ct_open(h, 103, &ct), CG_OK);
	cg_err e = cg_set_memory(ct, 256ull << 20, CG_MEM_HEADROOM_DEFAULT);
	assert_true(e == CG_EIO || e == CG_EPARSE);
	assert_string_equal(get(103, "memory.max"), "536870912\n");
	/* garbage in memory.current: the same refusal */
	put(103, "memory.current", "lots\n");
	e = cg_set_memory(ct, 256ull << 20, CG_MEM_HEADROOM_DEFAULT);
	assert_true(e == CG_EIO || e == CG_EPARSE);
	assert_string_equal(get(103, "memory.max"), "536870912\n");
	/* garbage in memory.max: no guess about growing or shrinking */
	put(103, "memory.current", "1048576\n");
	put(103, "memory.max", "\xff\xfe\n");
	e = cg_set_memory(ct, 256ull << 20, CG_MEM_HEADROOM_DEFAULT);
	assert_int_not_equal(e, CG_OK);
	cg_ct_close(ct);
	cg_hier_close(h);
}

/* A thousand open/sample/close cycles over broken files leave no fd and no memory behind
 * (ASan's leak check covers the memory in the asan pass). */
static void test_no_fd_leak_on_errors(void **state)
{
	(void)state;
	good_ct(101);
	put_eio(101, "memory.stat");
	put_dir(101, "memory.swap.max");
	cg_hier *h = tl_cg_hier(root);
	int before = open_fds();
	for (int i = 0; i < 1000; i++) {
		cg_ct *ct;
		assert_int_equal(cg_ct_open(h, 101, &ct), CG_OK);
		struct cg_sample s;
		assert_int_equal(cg_sample_read(ct, &s), CG_OK);
		assert_int_equal(cg_ct_refresh(ct), CG_OK);
		cg_ct_close(ct);
	}
	assert_int_equal(open_fds(), before);
	cg_hier_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eio_marks_unknown_and_carries_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_file_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fd_leak_on_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

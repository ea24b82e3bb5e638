/*
 * test_cgroup.c — unit tests of the cgroup library on a fake tree and, where the host
 * allows it, on real cgroups.
 *
 * The fake tree is a temporary directory shaped like /sys/fs/cgroup (lxc/<id>/ns with the
 * files a sample reads), so parsing, discovery, the inotify container set and the writers'
 * rules run against real files and a real inotify. Write order is observed, not assumed:
 * an inotify watch records IN_CLOSE_WRITE of each file in the order the library wrote
 * them. What a plain file cannot show — ENODEV from a removed cgroup, the kernel refusing a
 * 500 ms PSI window — is tested on a real cgroup under the host's cgroup2 mount when there
 * is one (skipped otherwise); the VM tests cover the rest against a full kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "testlib.h"

#define MiB (1024ull * 1024ull)

static char tmp_root[256]; /* the fake mount */

/* ---- helpers ------------------------------------------------------------------------- */

static void mkdirp(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, sizeof p, fmt, ap);
	va_end(ap);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

static void rm_rf(const char *path)
{
	assert_int_equal(tl_rm_rf(path), 0);
}

static const char *ct_dir(uint32_t id)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/lxc/%u", tmp_root, id);
	return p;
}

/* A container with every file a sample reads, in the kernel's formats. */
static void make_full_ct(uint32_t id)
{
	static const char psi[] = "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
	                          "full avg10=0.10 avg60=0.00 avg300=0.00 total=789\n";
	static const struct tl_cg_file full[] = {
		{ "cpu.stat", "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 10\n"
		              "nr_throttled 3\nthrottled_usec 1234\nnr_bursts 0\nburst_usec 0\n" },
		{ "cpu.max", "150000 100000\n" },
		{ "cpuset.cpus", "0-1\n" },
		{ "cpuset.cpus.effective", "0-1\n" },
		{ "memory.current", "104857600\n" },
		{ "memory.max", "1073741824\n" },
		{ "memory.high", "1065353216\n" },
		{ "memory.stat", "anon 50000000\nfile 40000000\nkernel 5000000\nshmem 0\n"
		                 "slab 3000000\nsock 0\nactive_anon 1\ninactive_anon 2\n"
		                 "active_file 3\ninactive_file 4\nunevictable 0\n"
		                 "slab_reclaimable 2000000\npgfault 777\npgmajfault 7\npgscan 10\n"
		                 "pgsteal 9\nworkingset_refault_anon 5\nworkingset_refault_file 6\n" },
		{ "memory.events", "low 0\nhigh 5\nmax 1\noom 0\noom_kill 0\noom_group_kill 0\n" },
		{ "memory.swap.current", "0\n" },
		{ "memory.swap.max", "max\n" },
		{ "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
		             "8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n" },
		{ "pids.current", "12\n" },
		{ "cpu.pressure", psi },
		{ "memory.pressure", psi },
		{ "io.pressure", psi },
		{ "ns/cpuset.cpus", "0-1\n" },
	};
	tl_cg_ct(tmp_root, id, full, sizeof full / sizeof full[0]);
}

static int setup_tree(void **state)
{
	(void)state;
	return tl_cg_tree(tmp_root, sizeof tmp_root, "cgroup");
}

static int teardown_tree(void **state)
{
	(void)state;
	rm_rf(tmp_root);
	return 0;
}

/* ---- parsers ------------------------------------------------------------------------- */

#define PL(s) cg_parse_limit(s, strlen(s))

static void test_parse_limit(void **state)
{
	(void)state;
	assert_int_equal(PL("max\n").state, CG_MAX);
	assert_true(PL("max").v == UINT64_MAX);
	assert_int_equal(PL("123\n").state, CG_KNOWN);
	assert_true(PL("  42 \n").v == 42);
	assert_true(PL("18446744073709551615\n").v == UINT64_MAX);
	assert_int_equal(PL("18446744073709551615\n").state, CG_KNOWN);
	assert_int_equal(PL("18446744073709551616").state, CG_UNKNOWN); /* overflow */
	assert_int_equal(PL("99999999999999999999999").state, CG_UNKNOWN);
	assert_int_equal(PL("").state, CG_UNKNOWN);
	assert_int_equal(PL("\n").state, CG_UNKNOWN);
	assert_int_equal(PL("abc").state, CG_UNKNOWN);
	assert_int_equal(PL("12abc").state, CG_UNKNOWN);
	assert_int_equal(PL("-1").state, CG_UNKNOWN);
	assert_int_equal(PL("1 2").state, CG_UNKNOWN);
	assert_int_equal(PL("maximum").state, CG_UNKNOWN);
	assert_int_equal(cg_parse_limit(NULL, 0).state, CG_UNKNOWN);
	/* length is honoured: no read past len */
	assert_true(cg_parse_limit("12345", 2).v == 12);
}

static void test_parse_keyed(void **state)
{
	(void)state;
	const char *t = "usage_usec 10\nuser_usec x7\nsystem_usec\nnr_periods 5 6\n"
	                "usage_usec 99\nweird\n\n  \nlast 18446744073709551615";
	assert_true(cg_parse_keyed(t, strlen(t), "usage_usec").v == 10); /* first one wins */
	assert_int_equal(cg_parse_keyed(t, strlen(t), "user_usec").state, CG_UNKNOWN);
	assert_int_equal(cg_parse_keyed(t, strlen(t), "system_usec").state, CG_UNKNOWN);
	assert_int_equal(cg_parse_keyed(t, strlen(t), "nr_periods").state, CG_UNKNOWN);
	assert_int_equal(cg_parse_keyed(t, strlen(t), "nope").state, CG_UNKNOWN);
	assert_true(cg_parse_keyed(t, strlen(t), "last").v == UINT64_MAX);
	assert_int_equal(cg_parse_keyed(t, strlen(t), "usage").state, CG_UNKNOWN); /* no prefix match */
	/* a key cut off by the length is not found */
	assert_int_equal(cg_parse_keyed(t, 8, "usage_usec").state, CG_UNKNOWN);
}

static void test_parse_psi(void **state)
{
	(void)state;
	struct cg_psi p;
	const char *ok = "some avg10=1.50 avg60=0.25 avg300=100.00 total=18446744073709551615\n"
	                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	cg_parse_psi(ok, strlen(ok), &p);
	assert_int_equal(p.some.avg10.state, CG_KNOWN);
	assert_true(fabs(p.some.avg10.v - 1.5) < 1e-9);
	assert_true(fabs(p.some.avg60.v - 0.25) < 1e-9);
	assert_true(fabs(p.some.avg300.v - 100.0) < 1e-9);
	assert_true(p.some.total.v == UINT64_MAX);
	assert_int_equal(p.full.total.state, CG_KNOWN);
	assert_true(p.full.total.v == 0);

	/* host cpu.pressure on old kernels has no full line: full stays unknown, not 0 */
	const char *some_only = "some avg10=0.00 avg60=0.00 avg300=0.00 total=5";
	cg_parse_psi(some_only, strlen(some_only), &p);
	assert_int_equal(p.some.total.state, CG_KNOWN);
	assert_int_equal(p.full.total.state, CG_UNKNOWN);
	assert_int_equal(p.full.avg10.state, CG_UNKNOWN);

	/* garbage, missing and truncated fields */
	const char *bad = "some avg10=abc avg60= avg300=1.2.3 total=-5\n"
	                  "full avg10=2 total=77 extra=1 avg60=0.5";
	cg_parse_psi(bad, strlen(bad), &p);
	assert_int_equal(p.some.avg10.state, CG_UNKNOWN);
	assert_int_equal(p.some.avg60.state, CG_UNKNOWN);
	assert_int_equal(p.some.avg300.state, CG_UNKNOWN);
	assert_int_equal(p.some.total.state, CG_UNKNOWN);
	assert_true(p.full.avg10.v == 2.0 && p.full.avg10.state == CG_KNOWN);
	assert_true(p.full.total.v == 77);
	assert_true(fabs(p.full.avg60.v - 0.5) < 1e-9);
	assert_int_equal(p.full.avg300.state, CG_UNKNOWN);

	/* a read cut in the middle of a number: the cut token is not trusted */
	const char *cut = "some avg10=0.00 avg60=0.00 avg300=0.00 total=12";
	cg_parse_psi(cut, strlen(cut) - 3, &p); /* "total=" with nothing after it */
	assert_int_equal(p.some.total.state, CG_UNKNOWN);
	assert_int_equal(p.some.avg300.state, CG_KNOWN);

	cg_parse_psi("", 0, &p);
	assert_int_equal(p.some.total.state, CG_UNKNOWN);
	cg_parse_psi("\r\n\n garbage \n", 14, &p);
	assert_int_equal(p.some.avg10.state, CG_UNKNOWN);
}

static void test_parse_cpu_max(void **state)
{
	(void)state;
	cg_u64 q, p;
#define CM(s) cg_parse_cpu_max(s, strlen(s), &q, &p)
	CM("max 100000\n");
	assert_int_equal(q.state, CG_MAX);
	assert_true(p.v == 100000 && p.state == CG_KNOWN);
	CM("50000 100000");
	assert_true(q.v == 50000 && q.state == CG_KNOWN);
	CM("50000");
	assert_int_equal(q.state, CG_UNKNOWN);
	assert_int_equal(p.state, CG_UNKNOWN);
	CM("abc 100000");
	assert_int_equal(q.state, CG_UNKNOWN);
	assert_int_equal(p.state, CG_UNKNOWN);
	CM("50000 0");
	assert_int_equal(q.state, CG_UNKNOWN);
	CM("50000 max");
	assert_int_equal(p.state, CG_UNKNOWN);
	CM("");
	assert_int_equal(q.state, CG_UNKNOWN);
#undef CM
}

static void test_parse_io_stat(void **state)
{
	(void)state;
	struct cg_sample s;
	memset(&s, 0, sizeof s);
	cg_parse_io_stat("", 0, &s);
	assert_int_equal(s.io_rbytes.state, CG_KNOWN); /* no I/O yet: a real 0 */
	assert_true(s.io_rbytes.v == 0);
	const char *two = "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
	                  "253:1 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=9 dios=10 cost.x=1\n";
	cg_parse_io_stat(two, strlen(two), &s);
	assert_true(s.io_rbytes.v == 105 && s.io_wbytes.v == 206 && s.io_rios.v == 8 &&
	            s.io_wios.v == 10 && s.io_dbytes.v == 9 && s.io_dios.v == 10);
	const char *bad = "8:0 rbytes=18446744073709551615 wbytes=zz\n8:1 rbytes=1 wbytes=1\n";
	cg_parse_io_stat(bad, strlen(bad), &s);
	assert_int_equal(s.io_rbytes.state, CG_UNKNOWN); /* overflow */
	assert_int_equal(s.io_wbytes.state, CG_UNKNOWN); /* garbage */
	assert_int_equal(s.io_rios.state, CG_KNOWN);
}

static void test_parse_mem_events(void **state)
{
	(void)state;
	struct cg_mem_events e;
	const char *t = "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\n";
	cg_parse_mem_events(t, strlen(t), &e);
	assert_true(e.low.v == 1 && e.high.v == 2 && e.max.v == 3 && e.oom.v == 4 &&
	            e.oom_kill.v == 5);
	assert_int_equal(e.oom_group_kill.state, CG_UNKNOWN); /* pre-5.17 kernel */
	cg_parse_mem_events(NULL, 0, &e);
	assert_int_equal(e.high.state, CG_UNKNOWN);
}

static void test_cpuset(void **state)
{
	(void)state;
	cg_cpuset s;
	char buf[64];
	assert_int_equal(cg_cpuset_parse("0-3,8,10-11\n", 12, &s), CG_OK);
	assert_int_equal(s.count, 7);
	assert_int_equal(cg_cpuset_format(&s, buf, sizeof buf), CG_OK);
	assert_string_equal(buf, "0-3,8,10-11");
	assert_int_equal(cg_cpuset_parse("\n", 1, &s), CG_OK); /* empty: inherit */
	assert_int_equal(s.count, 0);
	assert_int_equal(s.state, CG_KNOWN);
	assert_int_equal(cg_cpuset_parse("3,1,2,2", 7, &s), CG_OK);
	assert_int_equal(s.count, 3);
	assert_int_equal(cg_cpuset_format(&s, buf, sizeof buf), CG_OK);
	assert_string_equal(buf, "1-3");
	assert_int_equal(cg_cpuset_parse("4095", 4, &s), CG_OK);
	const char *bad[] = { "3-1", "0-4096", "1,,2", "1,", "a", "1-", "-1", "1 2", "0-99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(cg_cpuset_parse(bad[i], strlen(bad[i]), &s), CG_EPARSE);
		assert_int_equal(s.state, CG_UNKNOWN);
		assert_int_equal(s.count, 0);
	}
	assert_int_equal(cg_cpuset_parse("0-4095", 6, &s), CG_OK);
	assert_int_equal(cg_cpuset_format(&s, buf, 4), CG_EINVAL); /* does not fit */
	cg_cpuset a, b;
	cg_cpuset_parse("0-2", 3, &a);
	cg_cpuset_parse("0,1,2", 5, &b);
	assert_true(cg_cpuset_equal(&a, &b));
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e < CG__COUNT; e++) {
		assert_non_null(cg_strerror((cg_err)e));
		assert_string_not_equal(cg_strerror((cg_err)e), "unknown cgroup error");
	}
	assert_string_equal(cg_strerror((cg_err)999), "unknown cgroup error");
	assert_non_null(strstr(cg_strerror(CG_EUNSAFE), "OOM-kill"));
	assert_int_equal(cg_psi_event_classify(EPOLLPRI), CG_FD_EVENT);
	assert_int_equal(cg_psi_event_classify(EPOLLPRI | EPOLLERR), CG_FD_GONE);
	assert_int_equal(cg_psi_event_classify(EPOLLIN), CG_FD_NONE);
}

/* ---- discovery --------------------------------------------------------------------- */

static void test_hier(void **state)
{
	(void)state;
	cg_hier *h;
	uint32_t id;
	char p[PATH_MAX];

	h = tl_cg_hier(tmp_root);
	assert_int_equal(cg_hier_level(h), 2); /* lxc/<vmid> */
	assert_false(cg_hier_is_cgroup2(h));
	assert_string_equal(cg_hier_mount(h), tmp_root);
	assert_true(cg_hier_match(h, "101", &id) && id == 101);
	assert_true(cg_hier_match(h, "999999999", &id));
	assert_false(cg_hier_match(h, "1000000000", &id));
	assert_false(cg_hier_match(h, "0101", &id));
	assert_false(cg_hier_match(h, "0", &id));
	assert_false(cg_hier_match(h, "101a", &id));
	assert_false(cg_hier_match(h, "ns", &id));
	assert_false(cg_hier_match(h, "", &id));
	assert_int_equal(cg_hier_ct_path(h, 101, p, sizeof p), CG_OK);
	assert_string_equal(p, ct_dir(101));
	assert_int_equal(cg_hier_ct_path(h, 0, p, sizeof p), CG_EINVAL);
	assert_int_equal(cg_hier_ct_path(h, 101, p, 5), CG_EINVAL);
	cg_hier_close(h);

	struct cg_config c2 = { .mount = tmp_root, .root = "/machine.slice//x/", .id_pattern = "lxc-%u.scope", .inner = "" };
	assert_int_equal(cg_hier_open(&c2, &h), CG_OK);
	assert_int_equal(cg_hier_level(h), 3);
	assert_true(cg_hier_match(h, "lxc-7.scope", &id) && id == 7);
	assert_false(cg_hier_match(h, "lxc-.scope", &id));
	assert_false(cg_hier_match(h, "lxc-7.scopex", &id));
	snprintf(p, sizeof p, "%s/machine.slice/x", tmp_root);
	assert_string_equal(cg_hier_root(h), p);
	cg_hier_close(h);

	struct cg_config c3 = { .mount = tmp_root, .root = "" };
	assert_int_equal(cg_hier_open(&c3, &h), CG_OK);
	assert_int_equal(cg_hier_level(h), 1);
	cg_hier_close(h);

	struct cg_config bad[] = {
		{ .mount = tmp_root, .root = "lxc/../etc" },
		{ .mount = tmp_root, .id_pattern = "%u%u" },
		{ .mount = tmp_root, .id_pattern = "ct" },
		{ .mount = tmp_root, .id_pattern = "%s" },
		{ .mount = tmp_root, .id_pattern = "a/%u" },
		{ .mount = tmp_root, .inner = ".." },
		{ .mount = "relative" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(cg_hier_open(&bad[i], &h), CG_EINVAL);
	struct cg_config none = { .mount = "/nonexistent/lxcscale" };
	assert_int_equal(cg_hier_open(&none, &h), CG_ENOMOUNT);

	uint64_t cgid;
	struct stat st;
	stat(tmp_root, &st);
	assert_int_equal(cg_cgroup_id(tmp_root, &cgid), CG_OK);
	assert_true(cgid == (uint64_t)st.st_ino);
	assert_int_equal(cg_cgroup_id("/nonexistent/x", &cgid), CG_GONE);
}

/* ---- sampling ---------------------------------------------------------------------- */

static void test_sample_full(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	struct cg_sample s;
	make_full_ct(101);
	assert_int_equal(cg_ct_open(h, 101, &ct), CG_OK);
	assert_int_equal(cg_ct_id(ct), 101);
	assert_string_equal(cg_ct_path(ct), ct_dir(101));
	struct stat st;
	stat(ct_dir(101), &st);
	assert_true(cg_ct_cgroup_id(ct) == (uint64_t)st.st_ino);

	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_true(s.mono_ns > 0);
	assert_true(s.cpu_usage_usec.v == 1000 && s.cpu_nr_throttled.v == 3 &&
	            s.cpu_throttled_usec.v == 1234 && s.cpu_burst_usec.state == CG_KNOWN);
	assert_true(s.cpu_max_quota_usec.v == 150000 && s.cpu_max_period_usec.v == 100000);
	assert_int_equal(s.cpuset_cpus.count, 2);
	assert_int_equal(s.cpuset_cpus_effective.count, 2);
	assert_true(s.mem_current.v == 100 * MiB && s.mem_max.v == 1024 * MiB);
	assert_true(s.mem_high.v == 1065353216);
	assert_int_equal(s.swap_max.state, CG_MAX);
	assert_true(s.swap_current.state == CG_KNOWN && s.swap_current.v == 0);
	assert_true(s.mem_anon.v == 50000000 && s.mem_file.v == 40000000 &&
	            s.mem_slab_reclaimable.v == 2000000 && s.mem_pgmajfault.v == 7 &&
	            s.mem_workingset_refault_file.v == 6 && s.mem_inactive_file.v == 4);
	assert_true(s.ev_high.v == 5 && s.ev_max.v == 1 && s.ev_oom_group_kill.state == CG_KNOWN);
	assert_true(s.io_rbytes.v == 101 && s.io_dios.v == 6);
	assert_true(s.pids_current.v == 12);
	assert_true(s.psi_cpu.some.total.v == 123456 && s.psi_memory.full.total.v == 789 &&
	            s.psi_io.some.avg10.state == CG_KNOWN);

	struct cg_psi p;
	assert_int_equal(cg_read_pressure(ct, CG_RES_MEMORY, &p), CG_OK);
	assert_true(p.some.total.v == 123456);
	assert_int_equal(cg_read_pressure(ct, (enum cg_resource)7, &p), CG_EINVAL);
	struct cg_mem_events e;
	assert_int_equal(cg_read_mem_events(ct, &e), CG_OK);
	assert_true(e.high.v == 5);
	cg_u64 cur;
	assert_int_equal(cg_read_mem_current(ct, &cur), CG_OK);
	assert_true(cur.v == 100 * MiB);

	/* values change between samples: the held fds see new contents (pread at 0) */
	tl_put(ct_dir(101), "memory.current", "5\n");
	tl_put(ct_dir(101), "cpu.stat", "usage_usec 2000\n");
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_true(s.mem_current.v == 5);
	assert_true(s.cpu_usage_usec.v == 2000);
	assert_int_equal(s.cpu_user_usec.state, CG_UNKNOWN); /* field vanished: unknown, not 0 */
	cg_ct_close(ct);
	cg_hier_close(h);
}

/* A masked read: only the files of the asked class are read, the rest stays unknown (never
 * a 0), a vanished container still says CG_GONE, and a bad mask is refused. */
static void test_sample_mask(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	struct cg_sample s;
	make_full_ct(106);
	assert_int_equal(cg_ct_open(h, 106, &ct), CG_OK);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_ALL), 16);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_CPU), 1);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_COUNTERS), 6);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_PRESSURE), 3);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_LIMITS), 6);

	assert_int_equal(cg_sample_read_mask(ct, CG_READ_CPU | CG_READ_COUNTERS, &s), CG_OK);
	assert_true(s.mono_ns > 0);
	assert_true(s.cpu_usage_usec.v == 1000 && s.mem_current.v == 100 * MiB && s.mem_file.v == 40000000);
	assert_true(s.ev_high.v == 5 && s.swap_current.state == CG_KNOWN && s.io_rbytes.v == 101);
	assert_true(s.pids_current.v == 12);
	assert_int_equal(s.psi_cpu.some.total.state, CG_UNKNOWN); /* pressure: its own class */
	assert_int_equal(s.psi_io.some.total.state, CG_UNKNOWN);

	assert_int_equal(cg_sample_read_mask(ct, CG_READ_PRESSURE, &s), CG_OK);
	assert_true(s.psi_cpu.some.total.v == 123456 && s.psi_memory.full.total.v == 789 &&
	            s.psi_io.some.total.state == CG_KNOWN);
	assert_int_equal(s.cpu_usage_usec.state, CG_UNKNOWN);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(s.cpu_max_quota_usec.state, CG_UNKNOWN);
	assert_int_equal(s.cpu_max_period_usec.state, CG_UNKNOWN);
	assert_int_equal(s.cpuset_cpus.state, CG_UNKNOWN);
	assert_int_equal(s.cpuset_cpus_effective.state, CG_UNKNOWN);
	assert_int_equal(s.cpuset_cpus_effective.count, 0);
	assert_int_equal(s.mem_max.state, CG_UNKNOWN);
	assert_int_equal(s.mem_high.state, CG_UNKNOWN);
	assert_int_equal(s.swap_max.state, CG_UNKNOWN);

	assert_int_equal(cg_sample_read_mask(ct, CG_READ_LIMITS, &s), CG_OK);
	assert_true(s.cpu_max_quota_usec.v == 150000 && s.cpu_max_period_usec.v == 100000);
	assert_int_equal(s.cpuset_cpus.count, 2);
	assert_int_equal(s.cpuset_cpus_effective.count, 2);
	assert_true(s.mem_max.v == 1024 * MiB && s.mem_high.v == 1065353216);
	assert_int_equal(s.swap_max.state, CG_MAX);
	assert_int_equal(s.cpu_usage_usec.state, CG_UNKNOWN);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(s.ev_oom_kill.state, CG_UNKNOWN);
	assert_int_equal(s.pids_current.state, CG_UNKNOWN);
	assert_int_equal(s.psi_cpu.some.total.state, CG_UNKNOWN);
	assert_int_equal(s.io_rbytes.state, CG_UNKNOWN);

	/* every class: the same as a full read */
	struct cg_sample all;
	assert_int_equal(cg_sample_read_mask(ct, CG_READ_ALL, &s), CG_OK);
	assert_int_equal(cg_sample_read(ct, &all), CG_OK);
	s.mono_ns = all.mono_ns;
	assert_memory_equal(&s, &all, sizeof s);

	assert_int_equal(cg_sample_read_mask(ct, 0, &s), CG_EINVAL);
	assert_int_equal(cg_sample_read_mask(ct, 16, &s), CG_EINVAL);
	assert_int_equal(cg_sample_read_mask(ct, CG_READ_ALL | 32, &s), CG_EINVAL);
	/* cpu.stat alone */
	assert_int_equal(cg_sample_read_mask(ct, CG_READ_CPU, &s), CG_OK);
	assert_true(s.cpu_usage_usec.v == 1000);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(s.psi_cpu.some.total.state, CG_UNKNOWN);
	/* ... then the pressure into the same sample: cpu.stat and the time stay */
	uint64_t t0 = s.mono_ns;
	assert_int_equal(cg_sample_read_more(ct, CG_READ_PRESSURE, &s), CG_OK);
	assert_true(s.cpu_usage_usec.v == 1000 && s.psi_cpu.some.total.v == 123456);
	assert_true(s.mono_ns == t0);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(cg_sample_read_more(ct, 0, &s), CG_OK); /* nothing asked, nothing changed */
	assert_true(s.cpu_usage_usec.v == 1000 && s.mono_ns == t0);
	assert_int_equal(cg_sample_read_more(ct, 16, &s), CG_EINVAL);
	/* into a zeroed sample: the first read sets the time */
	memset(&s, 0, sizeof s);
	assert_int_equal(cg_sample_read_more(ct, CG_READ_LIMITS, &s), CG_OK);
	assert_true(s.mono_ns > 0 && s.mem_max.v == 1024 * MiB);
	assert_int_equal(s.cpu_usage_usec.state, CG_UNKNOWN);
	cg_ct_close(ct);

	/* a host without the controllers (this one): only counters are held */
	mkdirp("%s/lxc/107", tmp_root);
	tl_put(ct_dir(107), "cpu.stat", "usage_usec 77\n");
	tl_put(ct_dir(107), "cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=9\n");
	assert_int_equal(cg_ct_open(h, 107, &ct), CG_OK);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_CPU), 1);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_COUNTERS), 0);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_PRESSURE), 1);
	assert_int_equal(cg_ct_files_held(ct, CG_READ_LIMITS), 0);
	assert_int_equal(cg_sample_read_mask(ct, CG_READ_LIMITS, &s), CG_OK); /* nothing to read */
	assert_int_equal(s.cpu_max_quota_usec.state, CG_UNKNOWN);
	cg_ct_close(ct);
	cg_hier_close(h);
}

static void test_sample_missing_and_garbage(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	struct cg_sample s;
	/* a host without cpu/memory controllers: only cpu.stat and pressure files */
	mkdirp("%s/lxc/102", tmp_root);
	tl_put(ct_dir(102), "cpu.stat", "usage_usec 77\nuser_usec 70\nsystem_usec 7\n");
	tl_put(ct_dir(102), "memory.current", "garbage\n");
	tl_put(ct_dir(102), "pids.current", "max\n"); /* a counter is never "max" */
	tl_put(ct_dir(102), "cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=9\n");
	assert_int_equal(cg_ct_open(h, 102, &ct), CG_OK);
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_true(s.cpu_usage_usec.v == 77);
	assert_int_equal(s.cpu_nr_throttled.state, CG_UNKNOWN);
	assert_int_equal(s.cpu_max_quota_usec.state, CG_UNKNOWN);
	assert_int_equal(s.mem_current.state, CG_UNKNOWN);
	assert_int_equal(s.mem_max.state, CG_UNKNOWN);
	assert_int_equal(s.pids_current.state, CG_UNKNOWN);
	assert_int_equal(s.io_rbytes.state, CG_UNKNOWN); /* no io.stat: unknown, unlike empty */
	assert_int_equal(s.cpuset_cpus.state, CG_UNKNOWN);
	assert_int_equal(s.ev_oom_kill.state, CG_UNKNOWN);
	assert_int_equal(s.psi_memory.some.total.state, CG_UNKNOWN);
	assert_true(s.psi_cpu.some.total.v == 9);
	assert_int_equal(s.psi_cpu.full.total.state, CG_UNKNOWN);
	cg_u64 cur;
	assert_int_equal(cg_read_mem_current(ct, &cur), CG_EPARSE);
	struct cg_mem_events e;
	assert_int_equal(cg_read_mem_events(ct, &e), CG_ENOTSUP);

	/* a controller enabled later: refresh opens the new file */
	tl_put(ct_dir(102), "memory.max", "1048576\n");
	assert_int_equal(cg_ct_refresh(ct), CG_OK);
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_true(s.mem_max.v == 1048576);
	cg_ct_close(ct);
	cg_hier_close(h);
}

static void test_sample_truncated(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	struct cg_sample s;
	mkdirp("%s/lxc/103", tmp_root);
	/* memory.stat bigger than the read buffer: the line cut by the buffer is dropped,
	 * never parsed as a shorter number */
	char *big = malloc(40000);
	size_t n = 0;
	n += (size_t)sprintf(big + n, "anon 11\n");
	while (n < 16370)
		n += (size_t)sprintf(big + n, "filler_key_%zu 1\n", n);
	/* straddle the buffer end with a long number */
	n += (size_t)sprintf(big + n, "file 123456789012345678\n");
	big[n] = '\0';
	tl_put(ct_dir(103), "memory.stat", big);
	free(big);
	/* one line longer than the buffer: unknown, never an "empty" (= all CPUs) set */
	char *list = malloc(24000);
	size_t m = 0;
	while (m < 20000) /* "0,0,0,...": valid when cut anywhere, so a cut would lie */
		m += (size_t)sprintf(list + m, "%s0", m ? "," : "");
	tl_put(ct_dir(103), "cpuset.cpus", list);
	free(list);
	tl_put(ct_dir(103), "cpuset.cpus.effective", "0-3");
	assert_int_equal(cg_ct_open(h, 103, &ct), CG_OK);
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_true(s.mem_anon.v == 11);
	assert_int_equal(s.mem_file.state, CG_UNKNOWN);
	assert_int_equal(s.cpuset_cpus.state, CG_UNKNOWN);
	assert_int_equal(s.cpuset_cpus.count, 0);
	assert_int_equal(s.cpuset_cpus_effective.count, 4); /* no newline, but complete */
	cg_ct_close(ct);
	cg_hier_close(h);
}

static void test_ct_gone(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	assert_int_equal(cg_ct_open(h, 404, &ct), CG_GONE);
	assert_null(ct);
	assert_int_equal(cg_ct_open(h, 0, &ct), CG_EINVAL);
	make_full_ct(105);
	assert_int_equal(cg_ct_open(h, 105, &ct), CG_OK);
	rm_rf(ct_dir(105));
	/* a plain file keeps its data after unlink, but the handle notices the directory left */
	assert_int_equal(cg_ct_refresh(ct), CG_GONE);
	assert_int_equal(cg_set_cpu(ct, 2), CG_GONE);
	assert_int_equal(cg_set_memory(ct, 512 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_GONE);
	int fd;
	assert_int_equal(cg_mem_events_watch(ct, &fd), CG_GONE);
	/* a new directory of the same name is another cgroup, not our container */
	make_full_ct(105);
	assert_int_equal(cg_ct_refresh(ct), CG_GONE);
	cg_ct_close(ct);
	cg_hier_close(h);
}

/* ---- container set --------------------------------------------------------------- */

struct seen { uint32_t added[64], removed[64]; int na, nr; };
static void seen_cb(void *arg, uint32_t id, bool added)
{
	struct seen *s = arg;
	if (added && s->na < 64)
		s->added[s->na++] = id;
	else if (!added && s->nr < 64)
		s->removed[s->nr++] = id;
}

static void test_ctset_inotify(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ctset *set;
	struct seen sn = { 0 };
	mkdirp("%s/lxc/101", tmp_root);
	mkdirp("%s/lxc/200", tmp_root);
	mkdirp("%s/lxc/foo", tmp_root);
	tl_put(cg_hier_root(h), "300", "a file, not a container\n");
	assert_int_equal(cg_ctset_open(h, &set, seen_cb, &sn), CG_OK);
	assert_int_equal(sn.na, 2);
	assert_int_equal(cg_ctset_count(set), 2);
	assert_true(cg_ctset_has(set, 101) && cg_ctset_has(set, 200) && !cg_ctset_has(set, 300));
	assert_true(cg_ctset_fd(set) >= 0);

	/* nothing pending */
	sn = (struct seen){ 0 };
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_int_equal(sn.na + sn.nr, 0);

	/* come and go, seen through the fd, no rescan */
	mkdirp("%s/lxc/150", tmp_root);
	mkdirp("%s/lxc/0150", tmp_root);
	rmdir(ct_dir(101));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, cg_ctset_fd(set), &ev);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_int_equal(sn.na, 1);
	assert_int_equal(sn.added[0], 150);
	assert_int_equal(sn.nr, 1);
	assert_int_equal(sn.removed[0], 101);
	uint32_t ids[8];
	assert_int_equal(cg_ctset_ids(set, ids, 8), 2);
	assert_true(ids[0] == 150 && ids[1] == 200);
	assert_int_equal(cg_ctset_ids(set, ids, 1), 2);

	/* renames count as remove/add */
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof a, "%s", ct_dir(200));
	snprintf(b, sizeof b, "%s", ct_dir(201));
	assert_int_equal(rename(a, b), 0);
	sn = (struct seen){ 0 };
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_true(sn.na == 1 && sn.added[0] == 201 && sn.nr == 1 && sn.removed[0] == 200);

	/* the rescan agrees and reports nothing new */
	sn = (struct seen){ 0 };
	assert_int_equal(cg_ctset_rescan(set, seen_cb, &sn), CG_OK);
	assert_int_equal(sn.na + sn.nr, 0);

	/* the whole root goes away (no container left), then comes back */
	char root[512];
	snprintf(root, sizeof root, "%s", cg_hier_root(h));
	rm_rf(root);
	sn = (struct seen){ 0 };
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_int_equal(sn.nr, 2);
	assert_int_equal(cg_ctset_count(set), 0);
	mkdirp("%s/lxc", tmp_root);
	mkdirp("%s/lxc/777", tmp_root); /* may race the re-arm: the rescan catches it */
	sn = (struct seen){ 0 };
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_true(cg_ctset_has(set, 777));
	mkdirp("%s/lxc/778", tmp_root);
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_true(cg_ctset_has(set, 778)); /* the new root is watched */
	close(ep);
	cg_ctset_close(set);
	cg_hier_close(h);
}

static void test_ctset_root_absent(void **state)
{
	(void)state;
	struct cg_config cfg = { .mount = tmp_root, .root = "later" };
	cg_hier *h;
	cg_ctset *set;
	struct seen sn = { 0 };
	assert_int_equal(cg_hier_open(&cfg, &h), CG_OK);
	assert_int_equal(cg_ctset_open(h, &set, seen_cb, &sn), CG_OK);
	assert_int_equal(cg_ctset_count(set), 0);
	mkdirp("%s/later", tmp_root);
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	mkdirp("%s/later/9", tmp_root);
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_true(cg_ctset_has(set, 9));
	assert_int_equal(sn.na, 1);
	cg_ctset_close(set);
	cg_hier_close(h);

	/* a root whose parent does not exist either: no mount layout to watch */
	struct cg_config deep = { .mount = tmp_root, .root = "no/such" };
	assert_int_equal(cg_hier_open(&deep, &h), CG_OK);
	assert_int_equal(cg_ctset_open(h, &set, NULL, NULL), CG_ENOMOUNT);
	cg_hier_close(h);
}

static void test_ctset_many(void **state)
{
	(void)state;
	struct cg_config cfg = { .mount = tmp_root, .root = "many" };
	cg_hier *h;
	cg_ctset *set;
	mkdirp("%s/many", tmp_root);
	for (int i = 1; i <= 300; i++)
		mkdirp("%s/many/%d", tmp_root, 1000 + i * 7 % 300);
	assert_int_equal(cg_hier_open(&cfg, &h), CG_OK);
	assert_int_equal(cg_ctset_open(h, &set, NULL, NULL), CG_OK);
	assert_int_equal(cg_ctset_count(set), 300);
	uint32_t ids[300];
	cg_ctset_ids(set, ids, 300);
	for (int i = 1; i < 300; i++)
		assert_true(ids[i - 1] < ids[i]);
	for (int i = 0; i < 300; i += 2) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/many/%d", tmp_root, 1000 + i);
		rmdir(p);
	}
	assert_int_equal(cg_ctset_process(set, NULL, NULL), CG_OK);
	assert_int_equal(cg_ctset_count(set), 150);
	assert_false(cg_ctset_has(set, 1000));
	assert_true(cg_ctset_has(set, 1001));
	cg_ctset_close(set);
	cg_hier_close(h);
}

/* ---- writers --------------------------------------------------------------------- */

/* Record which files get written, in order, through IN_CLOSE_WRITE. */
struct wlog { int ifd; int wd_ct, wd_ns; };
static struct wlog wlog_open(uint32_t id)
{
	struct wlog w;
	char ns[PATH_MAX];
	w.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(w.ifd >= 0);
	w.wd_ct = inotify_add_watch(w.ifd, ct_dir(id), IN_CLOSE_WRITE);
	snprintf(ns, sizeof ns, "%s/ns", ct_dir(id));
	w.wd_ns = inotify_add_watch(w.ifd, ns, IN_CLOSE_WRITE);
	return w;
}
/* "memory.max,memory.high" or "cpuset.cpus,ns/cpuset.cpus,cpuset.cpus" */
static const char *wlog_take(struct wlog *w)
{
	static char out[512];
	char buf[4096] __attribute__((aligned(8)));
	out[0] = '\0';
	ssize_t n;
	while ((n = read(w->ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			p += sizeof *e + e->len;
			if (!e->len)
				continue;
			if (out[0])
				strcat(out, ",");
			if (e->wd == w->wd_ns)
				strcat(out, "ns/");
			strncat(out, e->name, sizeof out - strlen(out) - 40);
		}
	}
	return out;
}
static void wlog_close(struct wlog *w) { close(w->ifd); }

static void test_write_cpu(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	make_full_ct(110);
	assert_int_equal(cg_ct_open(h, 110, &ct), CG_OK);
	assert_int_equal(cg_set_cpu(ct, 2), CG_OK);
	assert_string_equal(tl_cat(ct_dir(110), "cpu.max"), "200000 100000");
	assert_int_equal(cg_set_cpu(ct, 1.5), CG_OK);
	assert_string_equal(tl_cat(ct_dir(110), "cpu.max"), "150000 100000");
	assert_int_equal(cg_set_cpu(ct, 0.25), CG_OK);
	assert_string_equal(tl_cat(ct_dir(110), "cpu.max"), "25000 100000");
	assert_int_equal(cg_set_cpu(ct, 0), CG_OK);
	assert_string_equal(tl_cat(ct_dir(110), "cpu.max"), "max 100000");
	assert_int_equal(cg_set_cpu(ct, -1), CG_EINVAL);
	assert_int_equal(cg_set_cpu(ct, NAN), CG_EINVAL);
	assert_int_equal(cg_set_cpu(ct, 0.001), CG_EINVAL); /* below the 1 ms minimum */
	assert_int_equal(cg_set_cpu(ct, 9000), CG_EINVAL);
	assert_string_equal(tl_cat(ct_dir(110), "cpu.max"), "max 100000");

	/* the sample sees what was written */
	struct cg_sample s;
	cg_set_cpu(ct, 3);
	cg_sample_read(ct, &s);
	assert_true(s.cpu_max_quota_usec.v == 300000);

	/* a file that does not keep what is written: the read-back catches it */
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/cpu.max", ct_dir(110));
	unlink(p);
	assert_int_equal(symlink("/dev/null", p), 0);
	assert_int_equal(cg_set_cpu(ct, 2), CG_EVERIFY);
	unlink(p);
	/* a missing file on a live container: not supported, not gone */
	assert_int_equal(cg_set_cpu(ct, 2), CG_ENOTSUP);
	assert_int_equal(cg_write_verify(ct, "pids.max", "100"), CG_ENOTSUP); /* never created */
	tl_put(ct_dir(110), "pids.max", "max\n");
	assert_int_equal(cg_write_verify(ct, "pids.max", "100\n"), CG_OK);
	assert_string_equal(tl_cat(ct_dir(110), "pids.max"), "100\n");
	assert_int_equal(cg_write_verify(ct, "../x", "1"), CG_EINVAL);
	assert_int_equal(cg_write_verify(ct, "", "1"), CG_EINVAL);
	cg_ct_close(ct);
	cg_hier_close(h);
}

static void test_write_cpuset_order(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	make_full_ct(111);
	tl_put(ct_dir(111), "cpuset.cpus", "0-1\n");
	tl_put(ct_dir(111), "ns/cpuset.cpus", "0-1\n");
	assert_int_equal(cg_ct_open(h, 111, &ct), CG_OK);
	struct wlog w = wlog_open(111);
	wlog_take(&w);

	/* widen 0-1 -> 0-3: parent first, then the child */
	assert_int_equal(cg_set_cpuset_str(ct, "0-3"), CG_OK);
	assert_string_equal(wlog_take(&w), "cpuset.cpus,ns/cpuset.cpus");
	assert_string_equal(tl_cat(ct_dir(111), "cpuset.cpus"), "0-3");
	assert_string_equal(tl_cat(ct_dir(111), "ns/cpuset.cpus"), "0-3");

	/* narrow 0-3 -> 2: child first, then the parent */
	assert_int_equal(cg_set_cpuset_str(ct, "2"), CG_OK);
	assert_string_equal(wlog_take(&w), "ns/cpuset.cpus,cpuset.cpus");
	assert_string_equal(tl_cat(ct_dir(111), "cpuset.cpus"), "2");

	/* move 2 -> 5-6 (neither): parent gets the union, child the new, parent the new */
	assert_int_equal(cg_set_cpuset_str(ct, "6,5"), CG_OK);
	assert_string_equal(wlog_take(&w), "cpuset.cpus,ns/cpuset.cpus,cpuset.cpus");
	assert_string_equal(tl_cat(ct_dir(111), "cpuset.cpus"), "5-6");
	assert_string_equal(tl_cat(ct_dir(111), "ns/cpuset.cpus"), "5-6");

	/* no change: no write */
	assert_int_equal(cg_set_cpuset_str(ct, "5-6"), CG_OK);
	assert_string_equal(wlog_take(&w), "");

	/* a long list (every other CPU of 4096, ~10 KiB) goes through and reads back */
	cg_cpuset alt;
	memset(&alt, 0, sizeof alt);
	for (unsigned c = 0; c < CG_CPUSET_MAX_CPUS; c += 2) {
		alt.bits[c / 64] |= 1ull << (c % 64);
		alt.count++;
	}
	alt.state = CG_KNOWN;
	assert_int_equal(cg_set_cpuset(ct, &alt), CG_OK);
	assert_int_equal(strlen(tl_cat(ct_dir(111), "ns/cpuset.cpus")) > 8000, 1);
	assert_int_equal(cg_set_cpuset_str(ct, "5-6"), CG_OK);
	wlog_take(&w);

	/* cpuset not enabled below the container (no ns/cpuset.cpus): only the container */
	char nsf[PATH_MAX];
	snprintf(nsf, sizeof nsf, "%s/ns/cpuset.cpus", ct_dir(111));
	unlink(nsf);
	wlog_take(&w);
	assert_int_equal(cg_set_cpuset_str(ct, "7"), CG_OK);
	assert_string_equal(wlog_take(&w), "cpuset.cpus");
	tl_put(ct_dir(111), "ns/cpuset.cpus", "7\n");
	wlog_take(&w);

	assert_int_equal(cg_set_cpuset_str(ct, ""), CG_EINVAL);
	assert_int_equal(cg_set_cpuset_str(ct, "1-"), CG_EINVAL);
	assert_int_equal(cg_set_cpuset_str(ct, NULL), CG_EINVAL);
	wlog_close(&w);
	cg_ct_close(ct);

	/* no payload child (a plain cgroup v2 host): only the container */
	struct cg_config cfg = { .mount = tmp_root, .inner = "" };
	cg_hier *h2;
	assert_int_equal(cg_hier_open(&cfg, &h2), CG_OK);
	assert_int_equal(cg_ct_open(h2, 111, &ct), CG_OK);
	w = wlog_open(111);
	assert_int_equal(cg_set_cpuset_str(ct, "0-7"), CG_OK);
	assert_string_equal(wlog_take(&w), "cpuset.cpus");
	wlog_close(&w);
	cg_ct_close(ct);
	cg_hier_close(h2);
	cg_hier_close(h);
}

static void test_write_memory_rules(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	char v[64];
	make_full_ct(112);
	assert_int_equal(cg_ct_open(h, 112, &ct), CG_OK);
	struct wlog w = wlog_open(112);
	wlog_take(&w);

	/* Proxmox's formula */
	assert_true(cg_pve_memory_high(512 * MiB) == 512ull * 1024 * 1016);
	assert_true(cg_pve_memory_high(16384 * MiB) == (16384 - 128) * MiB);
	assert_true(cg_pve_memory_high(16383 * MiB) == 16383ull * 1024 * 1016);
	assert_true(cg_pve_memory_high(65536 * MiB) == (65536 - 128) * MiB);

	/* grow 1 GiB -> 2 GiB: max, then high */
	tl_put(ct_dir(112), "memory.current", "943718400\n"); /* 900 MiB used */
	wlog_take(&w);
	assert_int_equal(cg_set_memory(ct, 2048 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_OK);
	assert_string_equal(wlog_take(&w), "memory.max,memory.high");
	snprintf(v, sizeof v, "%llu", 2048 * MiB);
	assert_string_equal(tl_cat(ct_dir(112), "memory.max"), v);
	snprintf(v, sizeof v, "%llu", 2048ull * 1024 * 1016);
	assert_string_equal(tl_cat(ct_dir(112), "memory.high"), v);

	/* shrink below usage + headroom: refused before any write, says why */
	assert_int_equal(cg_set_memory(ct, 512 * MiB, CG_MEM_HEADROOM_DEFAULT), CG_EUNSAFE);
	assert_string_equal(wlog_take(&w), "");
	snprintf(v, sizeof v, "%llu", 2048 * MiB);
	assert_string_equal(tl_cat(ct_dir(112), "memory.max"), v);
	/* boundary: exactly usage + headroom is allowed, one page less is not */
	assert_int_equal(cg_set_memory(ct, 900 * MiB + 64 * MiB - 4096, 64 * MiB), CG_EUNSAFE);
	assert_int_equal(cg_set_memory(ct, 964 * MiB, 64 * MiB), CG_OK);
	/* shrink: high first, then max */
	assert_string_equal(wlog_take(&w), "memory.high,memory.max");
	snprintf(v, sizeof v, "%llu", 964 * MiB);
	assert_string_equal(tl_cat(ct_dir(112), "memory.max"), v);

	/* from "max" (no limit) any number is a shrink */
	tl_put(ct_dir(112), "memory.max", "max\n");
	tl_put(ct_dir(112), "memory.current", "10485760\n");
	wlog_take(&w);
	assert_int_equal(cg_set_memory(ct, 256 * MiB, 0), CG_OK);
	assert_string_equal(wlog_take(&w), "memory.high,memory.max");

	/* page alignment: what is written is what the kernel would print back */
	assert_int_equal(cg_set_memory(ct, 256 * MiB + 123, 0), CG_OK);
	snprintf(v, sizeof v, "%llu", 256 * MiB);
	assert_string_equal(tl_cat(ct_dir(112), "memory.max"), v);

	/* a huge headroom saturates instead of wrapping around */
	assert_int_equal(cg_set_memory(ct, 128 * MiB, UINT64_MAX), CG_EUNSAFE);
	assert_int_equal(cg_set_memory(ct, 1 * MiB, 0), CG_EINVAL); /* below pct's 16 MiB */
	assert_int_equal(cg_set_memory(ct, UINT64_MAX, 0), CG_EINVAL);

	/* unreadable memory.current: no guessing, no write */
	tl_put(ct_dir(112), "memory.current", "lots\n");
	wlog_take(&w);
	assert_int_equal(cg_set_memory(ct, 64 * MiB, 0), CG_EPARSE);
	assert_string_equal(wlog_take(&w), "");

	/* memory.high alone and swap */
	assert_int_equal(cg_set_memory_high(ct, 200 * MiB), CG_OK);
	snprintf(v, sizeof v, "%llu", 200 * MiB);
	assert_string_equal(tl_cat(ct_dir(112), "memory.high"), v);
	assert_int_equal(cg_set_memory_high(ct, UINT64_MAX), CG_OK);
	assert_string_equal(tl_cat(ct_dir(112), "memory.high"), "max");
	assert_int_equal(cg_set_memory_high(ct, 1), CG_EINVAL);
	assert_int_equal(cg_set_swap(ct, 512 * MiB), CG_OK);
	snprintf(v, sizeof v, "%llu", 512 * MiB);
	assert_string_equal(tl_cat(ct_dir(112), "memory.swap.max"), v);
	assert_int_equal(cg_set_swap(ct, 0), CG_OK);
	assert_string_equal(tl_cat(ct_dir(112), "memory.swap.max"), "0");
	assert_int_equal(cg_set_swap(ct, UINT64_MAX), CG_OK);
	assert_string_equal(tl_cat(ct_dir(112), "memory.swap.max"), "max");
	wlog_close(&w);
	cg_ct_close(ct);
	cg_hier_close(h);
}

static void test_events_fake(void **state)
{
	(void)state;
	cg_hier *h = tl_cg_hier(tmp_root);
	cg_ct *ct;
	int fd, fd2;
	uint64_t w = 0, s = 0;
	make_full_ct(113);
	assert_int_equal(cg_ct_open(h, 113, &ct), CG_OK);
	assert_int_equal(cg_mem_events_watch(ct, &fd), CG_OK);
	assert_true(fd >= 0);
	assert_int_equal(cg_mem_events_watch(ct, &fd2), CG_OK);
	assert_int_equal(fd, fd2); /* one watch per handle */
	struct cg_mem_events e;
	tl_put(ct_dir(113), "memory.events", "low 0\nhigh 6\nmax 1\noom 0\noom_kill 2\n");
	assert_int_equal(cg_mem_events_ack(ct, &e), CG_OK);
	assert_true(e.high.v == 6 && e.oom_kill.v == 2);

	/* argument checks happen before any file is touched */
	assert_int_equal(cg_psi_trigger_open(ct, CG_RES_CPU, CG_PSI_SOME, 0, 500000, &fd, &w, &s), CG_EINVAL);
	assert_int_equal(fd, -1);
	assert_int_equal(cg_psi_trigger_open(ct, CG_RES_CPU, CG_PSI_SOME, 600000, 500000, &fd, &w, &s), CG_EINVAL);
	assert_int_equal(cg_psi_trigger_open(ct, CG_RES_CPU, CG_PSI_SOME, 1, 20000000, &fd, &w, &s), CG_EINVAL);
	assert_int_equal(cg_psi_trigger_open(ct, CG_RES__COUNT, CG_PSI_SOME, 1, 500000, &fd, &w, &s), CG_EINVAL);
	assert_int_equal(cg_psi_trigger_open(ct, CG_RES_CPU, (enum cg_psi_kind)5, 1, 500000, &fd, &w, &s), CG_EINVAL);
	assert_int_equal(cg_psi_trigger_path(NULL, CG_PSI_SOME, 1, 500000, &fd, &w, &s), CG_EINVAL);
	/* a missing pressure file on a live container is unsupported, not gone */
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/io.pressure", ct_dir(113));
	unlink(p);
	assert_int_equal(cg_psi_trigger_open(ct, CG_RES_IO, CG_PSI_SOME, 1000, 500000, &fd, &w, &s), CG_ENOTSUP);
	cg_ct_close(ct);
	cg_hier_close(h);
}

/* ---- real cgroups on the host (cgroup2 mount without cpu/memory controllers) ------- */

static const char *host_mount(void)
{
	static const char *cands[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	for (size_t i = 0; i < 2; i++) {
		struct statfs sf;
		if (statfs(cands[i], &sf) == 0 && (unsigned long)sf.f_type == 0x63677270 &&
		    access(cands[i], W_OK) == 0)
			return cands[i];
	}
	return NULL;
}

static bool is_cg2(const char *p)
{
	struct statfs sf;
	return statfs(p, &sf) == 0 && (unsigned long)sf.f_type == 0x63677270;
}

/* Auto-discovery on this host: pure v2 at /sys/fs/cgroup, hybrid at .../unified, or none. */
static void test_hier_auto(void **state)
{
	(void)state;
	cg_hier *h = NULL;
	cg_err e = cg_hier_open(NULL, &h);
	if (is_cg2("/sys/fs/cgroup")) {
		assert_int_equal(e, CG_OK);
		assert_string_equal(cg_hier_mount(h), "/sys/fs/cgroup");
	} else if (is_cg2("/sys/fs/cgroup/unified")) {
		assert_int_equal(e, CG_OK);
		assert_string_equal(cg_hier_mount(h), "/sys/fs/cgroup/unified");
	} else {
		assert_int_equal(e, CG_ENOMOUNT);
		return;
	}
	assert_true(cg_hier_is_cgroup2(h));
	assert_int_equal(cg_hier_level(h), 2);
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%s/lxc", cg_hier_mount(h));
	assert_string_equal(cg_hier_root(h), want);
	cg_hier_close(h);
}

static void test_real_cgroup(void **state)
{
	(void)state;
	const char *m = host_mount();
	char root[512], dir[PATH_MAX], rel[64];
	if (!m || geteuid() != 0)
		skip();
	snprintf(rel, sizeof rel, "lxcscale-test-cgroup-%d", (int)getpid());
	snprintf(root, sizeof root, "%s/%s", m, rel);
	snprintf(dir, sizeof dir, "%s/101", root);
	if (mkdir(root, 0755) != 0)
		skip();
	struct cg_config cfg = { .mount = m, .root = rel, .inner = "" };
	cg_hier *h;
	cg_ctset *set;
	cg_ct *ct;
	struct seen sn = { 0 };
	assert_int_equal(cg_hier_open(&cfg, &h), CG_OK);
	assert_true(cg_hier_is_cgroup2(h));
	assert_int_equal(cg_ctset_open(h, &set, seen_cb, &sn), CG_OK);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK); /* kernfs mkdir -> inotify */
	assert_true(cg_ctset_has(set, 101));

	assert_int_equal(cg_ct_open(h, 101, &ct), CG_OK);
	struct cg_sample s;
	assert_int_equal(cg_sample_read(ct, &s), CG_OK);
	assert_int_equal(s.cpu_usage_usec.state, CG_KNOWN); /* cpu.stat exists without controllers */
	assert_int_equal(s.psi_cpu.some.total.state, CG_KNOWN);

	/* PSI trigger: an unprivileged-window kernel refuses 500 ms and we get 2 s; a kernel
	 * that accepts it keeps 500 ms. Either way the window is one the kernel took. */
	int fd = -1;
	uint64_t w = 0, st = 0;
	cg_err e = cg_psi_trigger_open(ct, CG_RES_CPU, CG_PSI_SOME, 50000, 500000, &fd, &w, &st);
	if (e == CG_OK) {
		assert_true(w == 500000 || w == 2000000);
		assert_true(st * 10 == w); /* ratio kept */
		/* one trigger per fd: a second write is EBUSY in the kernel */
		char again[] = "some 100000 2000000";
		assert_true(write(fd, again, sizeof again) < 0);
	} else {
		assert_int_equal(e, CG_ENOTSUP); /* no pressure file (PSI off) */
	}

	/* the container is removed while we hold its fds: the next read says GONE (ENODEV) */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(cg_sample_read(ct, &s), CG_GONE);
	assert_int_equal(cg_sample_read_mask(ct, CG_READ_CPU, &s), CG_GONE);
	assert_int_equal(cg_ct_refresh(ct), CG_GONE);
	if (fd >= 0) {
		struct epoll_event ev = { .events = EPOLLPRI };
		int ep = epoll_create1(EPOLL_CLOEXEC);
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
		assert_int_equal(cg_psi_event_classify(ev.events), CG_FD_GONE);
		close(ep);
		close(fd);
	}
	assert_int_equal(cg_ctset_process(set, seen_cb, &sn), CG_OK);
	assert_false(cg_ctset_has(set, 101));
	assert_int_equal(sn.nr, 1);
	cg_ct_close(ct);
	cg_ctset_close(set);
	cg_hier_close(h);
	rmdir(root);

	/* host-wide trigger on /proc/pressure */
	e = cg_psi_host_trigger(CG_RES_MEMORY, CG_PSI_SOME, 100000, 1000000, &fd, &w, &st);
	if (e == CG_OK) {
		assert_true(w == 1000000 || w == 2000000);
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_limit),
		cmocka_unit_test(test_parse_keyed),
		cmocka_unit_test(test_parse_psi),
		cmocka_unit_test(test_parse_cpu_max),
		cmocka_unit_test(test_parse_io_stat),
		cmocka_unit_test(test_parse_mem_events),
		cmocka_unit_test(test_cpuset),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test_setup_teardown(test_hier, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_sample_full, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_sample_mask, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_sample_missing_and_garbage, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_sample_truncated, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_ct_gone, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_ctset_inotify, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_ctset_root_absent, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_ctset_many, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_write_cpu, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_write_cpuset_order, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_write_memory_rules, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_events_fake, setup_tree, teardown_tree),
		cmocka_unit_test(test_hier_auto),
		cmocka_unit_test(test_real_cgroup),
	};
	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}

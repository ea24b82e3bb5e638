/*
 * test_ctextra.c — host-side network and filesystem readings (user/ctextra.c): the
 * /proc/net/dev parser, Proxmox veth peers (a fake /sys/class/net: rx/tx swapped and
 * summed, other containers' peers ignored, a vanished interface), and on the real host a
 * real test cgroup holding a real process (pid lookup, its netns counters, statvfs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctextra.h"

static void test_parse_net_dev(void **state)
{
	(void)state;
	const char *text =
		"Inter-|   Receive                                                |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		"    lo: 1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n"
		"  eth0: 5000      50    0    0    0     0          0         0     7000      70    0    0    0     0       0          0\n"
		"  eth1:   25       1    0    0    0     0          0         0       30       1    0    0    0     0       0          0\n";
	uint64_t rx = 0, tx = 0;
	assert_true(ctextra_parse_net_dev(text, &rx, &tx));
	assert_int_equal(rx, 5025);
	assert_int_equal(tx, 7030);
	const char *only_lo = "    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n";
	assert_true(ctextra_parse_net_dev(only_lo, &rx, &tx));
	assert_int_equal(rx, 0);
	assert_false(ctextra_parse_net_dev("garbage\n", &rx, &tx));
	assert_false(ctextra_parse_net_dev("", &rx, &tx));
}

static char tmp[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void test_veth_peers(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/lxcscale-test-ctextra-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	const char *ifs[] = { "veth104i0", "veth104i1", "veth1040i0", "veth104x" };
	for (int i = 0; i < 4; i++) {
		char d[128];
		snprintf(d, sizeof(d), "%s", ifs[i]);
		mk(d);
		snprintf(d, sizeof(d), "%s/statistics", ifs[i]);
		mk(d);
		snprintf(d, sizeof(d), "%s/statistics/rx_bytes", ifs[i]);
		put(d, i == 0 ? "100\n" : i == 1 ? "20\n" : "999999\n");
		snprintf(d, sizeof(d), "%s/statistics/tx_bytes", ifs[i]);
		put(d, i == 0 ? "3000\n" : i == 1 ? "400\n" : "999999\n");
	}
	struct ctextra_roots r = { tmp, "/nonexistent-proc" };
	struct ctextra x;
	ctextra_init(&x, 104, "/nonexistent-cgroup");
	uint64_t rx, tx;
	assert_true(ctextra_net(&x, &r, 0, &rx, &tx));
	assert_int_equal(x.n_ifaces, 2);
	assert_int_equal(rx, 3400); /* the peers' tx: what the container received */
	assert_int_equal(tx, 120);

	/* The second interface disappears: unknown now, rescanned next time. */
	char p[512];
	snprintf(p, sizeof(p), "%s/veth104i1/statistics/rx_bytes", tmp);
	unlink(p);
	assert_false(ctextra_net(&x, &r, 100, &rx, &tx));
	snprintf(p, sizeof(p), "%s/veth104i1/statistics/tx_bytes", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/veth104i1/statistics", tmp);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/veth104i1", tmp);
	rmdir(p);
	assert_true(ctextra_net(&x, &r, 200, &rx, &tx));
	assert_int_equal(rx, 3000);

	/* No veth and no process: unknown, not 0. */
	struct ctextra y;
	ctextra_init(&y, 105, "/nonexistent-cgroup");
	assert_false(ctextra_net(&y, &r, 0, &rx, &tx));
	uint64_t t, f, u;
	assert_false(ctextra_fs(&y, &r, 0, 1000, &t, &f, &u));

	for (int i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		snprintf(p, sizeof(p), "%s/%s/statistics/rx_bytes", tmp, ifs[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s/statistics/tx_bytes", tmp, ifs[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s/statistics", tmp, ifs[i]);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/%s", tmp, ifs[i]);
		rmdir(p);
	}
	rmdir(tmp);
}

static void test_real_cgroup_process(void **state)
{
	(void)state;
	const char *mount = "/sys/fs/cgroup/unified";
	struct stat st;
	if (geteuid() != 0 || stat(mount, &st) != 0) {
		skip();
		return;
	}
	char dir[256], sub[300], procs[320];
	snprintf(dir, sizeof(dir), "%s/lxcscale-test-ctextra-%d", mount, (int)getpid());
	snprintf(sub, sizeof(sub), "%s/ns", dir);
	if (mkdir(dir, 0755) != 0 || mkdir(sub, 0755) != 0) {
		rmdir(dir);
		skip();
		return;
	}
	assert_int_equal(ctextra_find_pid(dir), 0); /* empty cgroup: no process */
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", sub); /* tasks below, as in Proxmox */
	FILE *f = fopen(procs, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)child);
	fclose(f);

	assert_int_equal(ctextra_find_pid(dir), child);
	struct ctextra x;
	ctextra_init(&x, 4242, dir);
	struct ctextra_roots r = { "/sys/class/net", "/proc" };
	uint64_t rx, tx, t, fr, u;
	/* The child shares our network namespace: its counters are the host's, so unknown. */
	assert_false(ctextra_net(&x, &r, 0, &rx, &tx));
	assert_int_equal(x.pid, child);
	assert_true(ctextra_fs(&x, &r, 0, 5000, &t, &fr, &u));
	assert_true(t > 0 && fr <= t && u <= t);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* A process with its own network namespace (as every Proxmox container has): its
	 * interfaces are read, here only lo, so a known 0. */
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t own = fork();
	if (own == 0) {
		char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char ok = 'n';
	assert_int_equal(read(ready[0], &ok, 1), 1);
	close(ready[0]);
	close(ready[1]);
	if (ok == 'y') {
		f = fopen(procs, "w");
		assert_non_null(f);
		fprintf(f, "%d\n", (int)own);
		fclose(f);
		struct ctextra y;
		ctextra_init(&y, 4243, dir);
		assert_true(ctextra_net(&y, &r, 0, &rx, &tx));
		assert_int_equal(rx, 0);
		assert_int_equal(tx, 0);
		/* x still holds the dead child: the failed reading finds the new process at once,
		 * without waiting for the periodic look-up (no kill(pid, 0) before each read) */
		assert_int_equal(x.pid, child);
		assert_true(ctextra_fs(&x, &r, 5000, 5000, &t, &fr, &u));
		assert_int_equal(x.pid, own);
		assert_true(ctextra_net(&x, &r, 5000, &rx, &tx));
	}
	kill(own, SIGKILL);
	waitpid(own, NULL, 0);
	/* the process is gone: the cached filesystem stays until it is due, then unknown */
	assert_true(ctextra_fs(&x, &r, 6000, 5000, &t, &fr, &u));
	assert_false(ctextra_fs(&x, &r, 11000, 5000, &t, &fr, &u));
	assert_false(ctextra_net(&x, &r, 11000, &rx, &tx));
	for (int i = 0; i < 50 && rmdir(sub) != 0 && errno == EBUSY; i++)
		usleep(20000); /* the killed tasks may still be leaving the cgroup */
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_net_dev),
		cmocka_unit_test(test_veth_peers),
		cmocka_unit_test(test_real_cgroup_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

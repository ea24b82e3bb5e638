/*
 * test_ctextra.c — host-side network and filesystem readings (user/collect/ctextra.c): the
 * /proc/net/dev parser, Proxmox veth peers in a fake /sys/class/net (rx/tx swapped and
 * summed, other containers' peers ignored, values rewritten in place, the rescan), real
 * veth pairs on this host (held counter files, traffic counted, an interface deleted and
 * created again under the same name, fds not leaked), and a real test cgroup holding a
 * real process (pid lookup, its netns counters, statvfs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collect/ctextra.h"

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
	struct ctextra_roots r = { tmp, "/nonexistent-proc", ctextra_ifindex_new() };
	assert_non_null(r.ifindex);
	struct ctextra x;
	ctextra_init(&x, 104, "/nonexistent-cgroup");
	uint64_t rx, tx;
	assert_true(ctextra_net(&x, &r, 0, &rx, &tx));
	assert_int_equal(x.n_ifaces, 2);
	assert_int_equal(rx, 3400); /* the peers' tx: what the container received */
	assert_int_equal(tx, 120);
	/* One index for all containers: a second container's first reading, within the
	 * second, does not read the directory again; neither do later readings. */
	struct ctextra x2;
	ctextra_init(&x2, 1040, "/nonexistent-cgroup");
	assert_true(ctextra_net(&x2, &r, 500, &rx, &tx));
	assert_int_equal(x2.n_ifaces, 1);
	assert_int_equal(rx, 999999);
	for (int t = 600; t < 59000; t += 100)
		assert_true(ctextra_net(&x, &r, t, &rx, &tx));
	assert_int_equal(ctextra_ifindex_scans(r.ifindex), 1);
	ctextra_close(&x2);

	/* New values, written in place: the held files read them. */
	put("veth104i0/statistics/tx_bytes", "5000\n");
	assert_true(ctextra_net(&x, &r, 59000, &rx, &tx));
	assert_int_equal(rx, 5400);
	/* The second interface disappears. A regular file stays readable while held open (a
	 * sysfs one does not: see test_real_veth), so the rescan is what drops it. */
	char p[512];
	const char *gone[] = { "statistics/rx_bytes", "statistics/tx_bytes", "statistics", "" };
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/veth104i1/%s", tmp, gone[i]);
		if (i < 2)
			unlink(p);
		else
			rmdir(p);
	}
	assert_true(ctextra_net(&x, &r, 60000, &rx, &tx));
	assert_int_equal(ctextra_ifindex_scans(r.ifindex), 2); /* every 60 s, for everyone */
	assert_int_equal(x.n_ifaces, 1);
	assert_int_equal(rx, 5000);
	ctextra_close(&x);
	assert_int_equal(x.stat_fd[0][0], -1);

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
	ctextra_ifindex_free(r.ifindex);
}

/* ---- real veth pairs ----------------------------------------------------------------------- */

static int run_ip(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
		  const char *a6, const char *a7, const char *a8)
{
	char *argv[] = { "ip", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, (char *)a6,
			 (char *)a7, (char *)a8, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp("ip", argv);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* host side veth<vmid>i0 (what Proxmox creates), container side lxst<vmid>c: both up, no
 * addresses, so nothing but our frames crosses them */
static int veth_create(uint32_t vmid)
{
	char host[16], peer[16];
	snprintf(host, sizeof(host), "veth%ui0", vmid);
	snprintf(peer, sizeof(peer), "lxst%uc", vmid);
	if (run_ip("link", "add", host, "type", "veth", "peer", "name", peer) != 0)
		return -1;
	run_ip("link", "set", "dev", host, "addrgenmode", "none", NULL, NULL);
	run_ip("link", "set", "dev", peer, "addrgenmode", "none", NULL, NULL);
	if (run_ip("link", "set", "dev", host, "up", NULL, NULL, NULL) != 0 ||
	    run_ip("link", "set", "dev", peer, "up", NULL, NULL, NULL) != 0)
		return -1;
	return 0;
}

static void veth_delete(uint32_t vmid)
{
	char host[16];
	snprintf(host, sizeof(host), "veth%ui0", vmid);
	run_ip("link", "del", host, NULL, NULL, NULL, NULL, NULL);
}

/* n raw Ethernet frames of 100 bytes sent out of `ifname`; the number sent */
static int send_frames(const char *ifname, int n)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname),
				  .sll_halen = ETH_ALEN };
	memset(to.sll_addr, 0xff, ETH_ALEN);
	unsigned char frame[100] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5 };
	int sent = 0;
	for (int i = 0; i < n; i++)
		sent += sendto(s, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)sizeof(frame);
	close(s);
	return sent;
}

static uint64_t sysfs_counter(const char *ifname, const char *which)
{
	char p[128], buf[32] = "";
	snprintf(p, sizeof(p), "/sys/class/net/%s/statistics/%s", ifname, which);
	FILE *f = fopen(p, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strtoull(buf, NULL, 10);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_real_veth(void **state)
{
	(void)state;
	const uint32_t vmid = 90000 + (uint32_t)(getpid() % 9000);
	char host[16];
	snprintf(host, sizeof(host), "veth%ui0", vmid);
	if (geteuid() != 0 || veth_create(vmid) != 0) {
		veth_delete(vmid);
		print_message("skip: cannot create a veth pair here (root and iproute2 needed)\n");
		skip();
		return;
	}
	struct ctextra_roots r = { "/sys/class/net", "/nonexistent-proc", ctextra_ifindex_new() };
	assert_non_null(r.ifindex);
	struct ctextra x;
	ctextra_init(&x, vmid, "/nonexistent-cgroup");
	const int fds0 = open_fds();
	uint64_t rx0, tx0, rx, tx;
	assert_true(ctextra_net(&x, &r, 0, &rx0, &tx0));
	assert_int_equal(x.n_ifaces, 1);
	assert_int_equal(open_fds(), fds0 + 2); /* rx_bytes and tx_bytes, held */

	/* 10 frames out of the host side reach the container (its rx); 4 the other way */
	char peer[16];
	snprintf(peer, sizeof(peer), "lxst%uc", vmid);
	assert_int_equal(send_frames(host, 10), 10);
	assert_int_equal(send_frames(peer, 4), 4);
	const uint64_t before_rx = sysfs_counter(host, "tx_bytes"), before_tx = sysfs_counter(host, "rx_bytes");
	assert_true(ctextra_net(&x, &r, 100, &rx, &tx));
	const uint64_t after_rx = sysfs_counter(host, "tx_bytes"), after_tx = sysfs_counter(host, "rx_bytes");
	assert_true(rx - rx0 >= 1000 && tx - tx0 >= 400);
	assert_true(before_rx <= rx && rx <= after_rx); /* what sysfs says, read through the held fd */
	assert_true(before_tx <= tx && tx <= after_tx);
	for (int i = 0; i < 100; i++)
		assert_true(ctextra_net(&x, &r, 200 + i, &rx, &tx));
	assert_int_equal(open_fds(), fds0 + 2); /* read a hundred times: still the same two */

	assert_int_equal(ctextra_ifindex_scans(r.ifindex), 1);

	/* The interface is deleted: the held files fail at once (ENODEV), not at the rescan,
	 * and are closed. */
	veth_delete(vmid);
	assert_false(ctextra_net(&x, &r, 400, &rx, &tx));
	assert_int_equal(open_fds(), fds0);
	/* Created again under the same name (a container restarted): the next reading, a
	 * second later, reads the index again and the new interface from its own counters. */
	assert_int_equal(veth_create(vmid), 0);
	assert_true(ctextra_net(&x, &r, 1400, &rx, &tx));
	assert_int_equal(ctextra_ifindex_scans(r.ifindex), 2);
	assert_true(rx < rx0 + 1000);
	assert_int_equal(send_frames(host, 3), 3);
	assert_true(ctextra_net(&x, &r, 1500, &rx, &tx));
	assert_true(rx >= 300);
	assert_true(sysfs_counter(host, "tx_bytes") >= rx);
	ctextra_close(&x);
	assert_int_equal(open_fds(), fds0);
	veth_delete(vmid);
	ctextra_ifindex_free(r.ifindex);
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
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that aborts leaves no process behind */
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
	struct ctextra_roots r = { "/sys/class/net", "/proc", ctextra_ifindex_new() };
	assert_non_null(r.ifindex);
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
		prctl(PR_SET_PDEATHSIG, SIGKILL);
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
	ctextra_ifindex_free(r.ifindex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_net_dev),
		cmocka_unit_test(test_veth_peers),
		cmocka_unit_test(test_real_veth),
		cmocka_unit_test(test_real_cgroup_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

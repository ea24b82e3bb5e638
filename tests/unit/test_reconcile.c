/*
 * test_reconcile.c — crash recovery with real processes: the actuate_driver tool (the real
 * actuator, journal and persister) is SIGKILLed while its `pct set` is in flight, then a
 * second run reconciles. Also: a locked config at restart (the cgroup goes back to the
 * config), a write cut short (PENDING), a stopped container, a hand-made `pct set` (the
 * config becomes the baseline), and a run of kills at arbitrary points after which cgroup
 * and config must always agree. The cgroup tree is a temporary folder of plain files;
 * the kernel side of the same writes is exercised in the VM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "act/journal.h"
#include "cgroup.h"
#include "pve/ctconfig.h"
#include "testlib.h"

#define MIB (1ull << 20)
static char g_pct[PATH_MAX], g_driver[PATH_MAX];

struct fx {
	char dir[64], cg[128], pve[128], journal[160];
};

static char *ctdir(struct fx *f, unsigned vmid)
{
	static char d[256];
	snprintf(d, sizeof(d), "%s/lxc/%u", f->cg, vmid);
	return d;
}

static void set_conf(struct fx *f, unsigned vmid, unsigned cores, uint64_t mem, const char *extra)
{
	char conf[512], name[32];
	snprintf(conf, sizeof(conf), "arch: amd64\ncores: %u\nhostname: ct%u\n%smemory: %llu\nswap: 512\n",
	         cores, vmid, extra ? extra : "", (unsigned long long)mem);
	snprintf(name, sizeof(name), "%u.conf", vmid);
	tl_put_atomic(f->pve, name, conf);
}

/* cgroup and config agreeing: cores on CPUs 0..cores-1, memory MiB */
static void make_ct(struct fx *f, unsigned vmid, unsigned cores, uint64_t mem, bool running)
{
	char v[64], name[32];
	cores = cores ? cores : 1;
	set_conf(f, vmid, cores, mem, NULL);
	snprintf(name, sizeof(name), "%u.state", vmid);
	tl_put_atomic(f->pve, name, running ? "running\n" : "stopped\n");
	if (!running)
		return;
	char d[256], ns[300];
	snprintf(d, sizeof(d), "%s", ctdir(f, vmid));
	snprintf(ns, sizeof(ns), "%s/ns", d);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(mkdir(ns, 0755), 0);
	snprintf(v, sizeof(v), "%u 100000\n", cores * 100000);
	tl_put_atomic(d, "cpu.max", v);
	snprintf(v, sizeof(v), "0-%u\n", cores - 1);
	tl_put_atomic(d, "cpuset.cpus", v);
	tl_put_atomic(ns, "cpuset.cpus", v);
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)(mem * MIB));
	tl_put_atomic(d, "memory.max", v);
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)cg_pve_memory_high(mem * MIB));
	tl_put_atomic(d, "memory.high", v);
	tl_put_atomic(d, "memory.current", "104857600\n");
	tl_put_atomic(d, "cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
	tl_put_atomic(d, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	                          "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (tl_tempdir(f->dir, sizeof(f->dir), "reconcile") != 0)
		return -1;
	snprintf(f->journal, sizeof(f->journal), "%s/journal", f->dir);
	if (tl_fake_host(f->dir, f->cg, sizeof(f->cg), f->pve, sizeof(f->pve), "0-7") != 0)
		return -1;
	char log[200];
	snprintf(log, sizeof(log), "%s/pct.log", f->dir);
	tl_pct_env(f->pve, log);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (tl_rm_rf(f->dir) != 0)
		return -1;
	tl_pct_env_clear();
	free(f);
	return 0;
}

/* Starts the driver with stdout on a pipe. */
static pid_t spawn_driver(struct fx *f, int *out_fd, const char *const args[])
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		const char *argv[32] = {g_driver, "--cgroup", f->cg, "--journal", f->journal,
					"--pct", g_pct, "--timeout", "60000"};
		int n = 9;
		for (int i = 0; args[i] && n < 31; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		execv(g_driver, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

/* Reads the child's stdout until a line starting with `prefix` (kept in line). */
static bool read_until(int fd, const char *prefix, char *line, size_t len)
{
	FILE *fp = fdopen(dup(fd), "r");
	bool found = false;
	while (!found && fgets(line, (int)len, fp))
		found = strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(fp);
	return found;
}

/* Runs the driver to completion; its output goes into out. Returns the exit status. */
static int run_driver(struct fx *f, char *out, size_t len, const char *const args[])
{
	int fd;
	pid_t pid = spawn_driver(f, &fd, args);
	size_t have = 0;
	ssize_t n;
	while (have + 1 < len && (n = read(fd, out + have, len - 1 - have)) > 0)
		have += (size_t)n;
	out[have] = '\0';
	close(fd);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Kills every stand-in pct of this build still running (orphans of a killed driver). */
static void kill_stand_ins(void)
{
	for (int round = 0; round < 500; round++) {
		bool any = false;
		DIR *d = opendir("/proc");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char path[300], exe[PATH_MAX];
			snprintf(path, sizeof(path), "/proc/%s/exe", de->d_name);
			ssize_t n = readlink(path, exe, sizeof(exe) - 1);
			if (n <= 0)
				continue;
			exe[n] = '\0';
			if (strcmp(exe, g_pct) == 0) {
				kill(atoi(de->d_name), SIGKILL);
				any = true;
			}
		}
		if (d)
			closedir(d);
		if (!any)
			return;
		usleep(10000);
	}
	fail_msg("stand-in pct processes do not go away");
}

/* apply in a driver whose pct hangs; SIGKILL it once the cgroup is written. */
static void kill_after_apply(struct fx *f, const char *status, const char *const args[])
{
	setenv("PCT_STAND_IN_HANG", "1", 1);
	int fd;
	pid_t pid = spawn_driver(f, &fd, args);
	char line[512];
	assert_true(read_until(fd, "applied ", line, sizeof(line)));
	kill(pid, SIGKILL);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	close(fd);
	kill_stand_ins();
	unsetenv("PCT_STAND_IN_HANG");
	assert_non_null(strstr(line, status));
}

static size_t journal_open_count(struct fx *f)
{
	struct journal *j;
	struct journal_open_info info;
	assert_int_equal(journal_open(f->journal, &j, &info), 0);
	journal_close(j);
	return info.open_changes;
}

static void test_sigkill_before_persist_then_reconcile_persists(void **state)
{
	struct fx *f = *state;
	make_ct(f, 101, 2, 1024, true);
	kill_after_apply(f, "status=applied", (const char *const[]){"apply", "101", "2", "4", "1024", "2048", NULL});
	/* the cgroup holds the new values, the config does not */
	assert_string_equal(tl_get(ctdir(f, 101), "cpu.max"), "400000 100000");
	assert_string_equal(tl_get(ctdir(f, 101), "memory.max"), "2147483648");
	assert_non_null(strstr(tl_get(f->pve, "101.conf"), "cores: 2\n"));
	assert_int_equal(journal_open_count(f), 1);

	char out[4096];
	assert_int_equal(run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", NULL}), 0);
	assert_non_null(strstr(out, "reconcile: persisted=1 restored=0 cancelled=0 failed=0 drift=0 open=0"));
	assert_non_null(strstr(out, "persisted cores 4 memory 2048 MiB"));
	assert_non_null(strstr(tl_get(f->pve, "101.conf"), "cores: 4\n"));
	assert_non_null(strstr(tl_get(f->pve, "101.conf"), "memory: 2048\n"));
	assert_int_equal(journal_open_count(f), 0);
}

/* Restart during a backup: persisting is impossible, so the cgroup goes back to the config. */
static void test_locked_at_restart_restores_the_cgroup(void **state)
{
	struct fx *f = *state;
	make_ct(f, 102, 2, 1024, true);
	kill_after_apply(f, "status=applied", (const char *const[]){"apply", "102", "2", "3", "1024", "1536", NULL});
	assert_string_equal(tl_get(ctdir(f, 102), "cpu.max"), "300000 100000");
	set_conf(f, 102, 2, 1024, "lock: backup\n");

	char out[4096];
	assert_int_equal(run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", NULL}), 0);
	assert_non_null(strstr(out, "CT is locked (backup)"));
	assert_non_null(strstr(out, "reconcile: persisted=0 restored=1 cancelled=1 failed=0 drift=0 open=0"));
	assert_string_equal(tl_get(ctdir(f, 102), "cpu.max"), "200000 100000");
	assert_string_equal(tl_get(ctdir(f, 102), "memory.max"), "1073741824");
	assert_non_null(strstr(tl_get(f->pve, "102.conf"), "cores: 2\n"));
}

/* A write cut short: the journal says PENDING, cpu.max was written, memory was not. */
static void test_pending_change_is_rolled_back(void **state)
{
	struct fx *f = *state;
	make_ct(f, 103, 2, 1024, true);
	struct journal *j;
	assert_int_equal(journal_open(f->journal, &j, NULL), 0);
	struct journal_change c = {.vmid = 103, .what = JOURNAL_CPU | JOURNAL_MEM,
				   .cpu_before_milli = 2000, .cpu_after_milli = 4000,
				   .mem_before_mb = 1024, .mem_after_mb = 4096};
	assert_int_equal(journal_begin(j, &c), 0);
	journal_close(j);
	tl_put_atomic(ctdir(f, 103), "cpu.max", "400000 100000\n");

	char out[4096];
	assert_int_equal(run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", NULL}), 0);
	assert_non_null(strstr(out, "reconcile: persisted=0 restored=1 cancelled=1 failed=0 drift=0 open=0"));
	assert_string_equal(tl_get(ctdir(f, 103), "cpu.max"), "200000 100000");
	assert_non_null(strstr(tl_get(f->pve, "103.conf"), "cores: 2\n"));
}

static void test_stopped_container_change_is_persisted(void **state)
{
	struct fx *f = *state;
	make_ct(f, 104, 2, 1024, false);
	kill_after_apply(f, "status=persist-only", (const char *const[]){"apply", "104", "2", "1", "1024", "512", NULL});
	char out[4096];
	assert_int_equal(run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", NULL}), 0);
	assert_non_null(strstr(out, "persisted=1"));
	assert_non_null(strstr(tl_get(f->pve, "104.conf"), "cores: 1\n"));
	assert_non_null(strstr(tl_get(f->pve, "104.conf"), "memory: 512\n"));
}

/* Someone ran `pct set 105 --cores 6 --memory 4096` while the daemon was down. */
static void test_hand_made_change_becomes_the_baseline(void **state)
{
	struct fx *f = *state;
	make_ct(f, 105, 2, 1024, true);
	make_ct(f, 106, 2, 1024, true); /* agrees: left alone */
	make_ct(f, 108, 3, 1024, true); /* 2.5 cores of ours, persisted as cores: 3: agrees */
	tl_put_atomic(ctdir(f, 108), "cpu.max", "250000 100000\n");
	set_conf(f, 105, 6, 4096, NULL);
	char out[4096];
	assert_int_equal(run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", NULL}), 0);
	assert_non_null(strstr(out, "reconcile: persisted=0 restored=1 cancelled=0 failed=0 drift=1 open=0"));
	assert_non_null(strstr(out, "ct 105: cgroup (cpu 2.00, memory 1024 MiB) differs"));
	assert_null(strstr(out, "ct 106"));
	assert_null(strstr(out, "ct 108"));
	assert_string_equal(tl_get(ctdir(f, 108), "cpu.max"), "250000 100000");
	assert_string_equal(tl_get(ctdir(f, 105), "cpu.max"), "600000 100000");
	assert_string_equal(tl_get(ctdir(f, 105), "memory.max"), "4294967296");
	assert_string_equal(tl_get(ctdir(f, 106), "cpu.max"), "200000 100000");
}

/* The same hand-made change in a container tagged with tags.ignore: left alone, and said. */
static void test_tagged_container_is_not_made_the_baseline(void **state)
{
	struct fx *f = *state;
	make_ct(f, 105, 2, 1024, true);
	set_conf(f, 105, 6, 4096, "tags: db;lxcscale-ignore\n");
	setenv("ACTUATE_DRIVER_SKIP_TAG", "lxcscale-ignore", 1);
	char out[4096];
	int rc = run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", NULL});
	unsetenv("ACTUATE_DRIVER_SKIP_TAG");
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "reconcile: persisted=0 restored=0 cancelled=0 failed=0 drift=0 open=0"));
	assert_non_null(strstr(out, "ct 105: tagged lxcscale-ignore in Proxmox: its cgroup is left alone"));
	assert_string_equal(tl_get(ctdir(f, 105), "cpu.max"), "200000 100000");
}

static void rmdir_ct(struct fx *f, unsigned vmid)
{
	assert_int_equal(tl_rm_rf(ctdir(f, vmid)), 0);
}

static bool agrees(struct fx *f, unsigned vmid)
{
	struct pve_limits l;
	if (pve_limits_from_pct_text(tl_get(f->pve, "107.conf"), &l))
		return false;
	char want_cpu[64], want_mem[64];
	snprintf(want_cpu, sizeof(want_cpu), "%u 100000", l.cores * 100000);
	snprintf(want_mem, sizeof(want_mem), "%llu", (unsigned long long)(l.memory_mb * MIB));
	return !strcmp(tl_get(ctdir(f, vmid), "cpu.max"), want_cpu) &&
	       !strcmp(tl_get(ctdir(f, vmid), "memory.max"), want_mem);
}

/* SIGKILL at arbitrary points of apply (before, during and after the journal, the write and
 * the persist), then restart: cgroup and config always agree and the journal is empty. */
static void test_kill_anywhere_then_agree(void **state)
{
	struct fx *f = *state;
	make_ct(f, 107, 2, 1024, true);
	setenv("PCT_STAND_IN_DELAY_MS", "30", 1);
	unsigned seed = (unsigned)getpid();
	int torn = 0, rounds = 16;
	for (int round = 0; round < rounds; round++) {
		char cores[8], mem[16], from_c[8], from_m[16];
		struct pve_limits l;
		assert_int_equal(pve_limits_from_pct_text(tl_get(f->pve, "107.conf"), &l), 0);
		snprintf(from_c, sizeof(from_c), "%u", l.cores);
		snprintf(from_m, sizeof(from_m), "%llu", (unsigned long long)l.memory_mb);
		snprintf(cores, sizeof(cores), "%u", 1 + rand_r(&seed) % 6);
		snprintf(mem, sizeof(mem), "%u", 512 * (1 + rand_r(&seed) % 6));
		int fd;
		pid_t pid = spawn_driver(f, &fd, (const char *const[]){"apply", "107", from_c, cores,
								       from_m, mem, NULL});
		usleep((useconds_t)(rand_r(&seed) % 60000)); /* anywhere in its life */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(fd);
		kill_stand_ins();
		/* A plain file is truncated and then written: a kill in between leaves it empty,
		 * which cgroupfs (one atomic write handler) never does. Such a round says nothing
		 * about lxcscale: put the config's values back and count it; the VM scenario runs
		 * the same loop on the real kernel. */
		if (!tl_get(ctdir(f, 107), "cpu.max")[0] || !tl_get(ctdir(f, 107), "memory.max")[0] ||
		    !tl_get(ctdir(f, 107), "memory.high")[0] || !tl_get(ctdir(f, 107), "cpuset.cpus")[0]) {
			rmdir_ct(f, 107);
			make_ct(f, 107, l.cores, l.memory_mb, true);
			torn++;
		}
		char out[4096];
		int rc = run_driver(f, out, sizeof(out), (const char *const[]){"reconcile", "107", NULL});
		if (rc != 0 || !agrees(f, 107) || journal_open_count(f) != 0) {
			char cpu[64], memmax[64];
			snprintf(cpu, sizeof(cpu), "%.*s", (int)sizeof(cpu) - 1, tl_get(ctdir(f, 107), "cpu.max"));
			snprintf(memmax, sizeof(memmax), "%.*s", (int)sizeof(memmax) - 1, tl_get(ctdir(f, 107), "memory.max"));
			fail_msg("round %d (cores %s mem %s): rc %d, cgroup %s / %s, config:\n%s\nreconcile said:\n%s",
			         round, cores, mem, rc, cpu, memmax, tl_get(f->pve, "107.conf"), out);
		}
	}
	print_message("%d rounds, %d of them hit a plain-file write mid-way (fake tree only)\n",
	              rounds, torn);
	assert_true(torn <= rounds / 2);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (tl_tool_path(argv[0], "pct", g_pct, sizeof(g_pct)) != 0 ||
	    tl_tool_path(argv[0], "actuate_driver", g_driver, sizeof(g_driver)) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sigkill_before_persist_then_reconcile_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_at_restart_restores_the_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_change_is_rolled_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_container_change_is_persisted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hand_made_change_becomes_the_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tagged_container_is_not_made_the_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_anywhere_then_agree, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

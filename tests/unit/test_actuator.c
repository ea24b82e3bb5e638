/*
 * test_actuator.c — the actuator's order of work on a cgroup tree in a temporary folder
 * (plain files the cgroup library reads and writes like cgroupfs), with the real journal
 * and the real persister running the stand-in `pct`. What the kernel does with the limits
 * is tested in the VM (the actuate VM scenario); here: journal before write,
 * refusal without a journal, read-back, cpuset widening order, stopped containers, and the
 * shrink state machine (steps, finish, abandon on pressure, never memory.max below usage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/actuator.h"
#include "testlib.h"

#define MIB (1ull << 20)
static char g_pct[PATH_MAX];

struct fx {
	char dir[64];
	char cg[128];  /* fake cgroup mount */
	char pve[128]; /* stand-in pct's config folder */
	char jpath[160];
	cg_hier *h;
	struct journal *j;
	struct persister *p;
	struct actuator *a;
	struct actuator_settings as;
};

static void psi(const char *dir, unsigned long long some_total)
{
	char t[256];
	snprintf(t, sizeof(t),
	         "some avg10=0.00 avg60=0.00 avg300=0.00 total=%llu\n"
	         "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", some_total);
	tl_put(dir, "memory.pressure", t);
}

/* lxc/<vmid> with ns/, like Proxmox: cores 2 on CPUs 0-1, 4 GiB */
static void make_ct(struct fx *f, unsigned vmid, uint64_t mem_mb, uint64_t current)
{
	char d[256], ns[300], v[64];
	snprintf(d, sizeof(d), "%s/lxc/%u", f->cg, vmid);
	snprintf(ns, sizeof(ns), "%s/ns", d);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(mkdir(ns, 0755), 0);
	tl_put(d, "cpu.max", "200000 100000\n");
	tl_put(d, "cpuset.cpus", "0-1\n");
	tl_put(ns, "cpuset.cpus", "0-1\n");
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)(mem_mb * MIB));
	tl_put(d, "memory.max", v);
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)cg_pve_memory_high(mem_mb * MIB));
	tl_put(d, "memory.high", v);
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)current);
	tl_put(d, "memory.current", v);
	tl_put(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
	tl_put(d, "cpu.stat", "usage_usec 1000\nuser_usec 500\nsystem_usec 500\n");
	psi(d, 0);
	/* the stand-in pct's view of the same container */
	char conf[512];
	snprintf(conf, sizeof(conf), "arch: amd64\ncores: 2\nhostname: ct%u\nmemory: %llu\nswap: 512\n",
	         vmid, (unsigned long long)mem_mb);
	snprintf(v, sizeof(v), "%u.conf", vmid);
	tl_put(f->pve, v, conf);
	snprintf(v, sizeof(v), "%u.state", vmid);
	tl_put(f->pve, v, "running\n");
}

static char *ctdir(struct fx *f, unsigned vmid)
{
	static char d[256];
	snprintf(d, sizeof(d), "%s/lxc/%u", f->cg, vmid);
	return d;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (tl_tempdir(f->dir, sizeof(f->dir), "actuator") != 0)
		return -1;
	snprintf(f->jpath, sizeof(f->jpath), "%s/journal", f->dir);
	if (tl_fake_host(f->dir, f->cg, sizeof(f->cg), f->pve, sizeof(f->pve), "0-7") != 0)
		return -1;
	char log[200];
	snprintf(log, sizeof(log), "%s/pct.log", f->dir);
	tl_pct_env(f->pve, log);

	struct cg_config cfg = {.mount = f->cg, .root = "lxc", .id_pattern = "%u", .inner = "ns"};
	if (cg_hier_open(&cfg, &f->h) != CG_OK)
		return -1;
	if (journal_open(f->jpath, &f->j, NULL) != 0)
		return -1;
	struct persist_settings ps;
	persist_settings_default(&ps);
	snprintf(ps.pct_path, sizeof(ps.pct_path), "%s", g_pct);
	ps.debounce_ms = 0;
	ps.retry_delay_ms = 10;
	if (persister_start(&ps, &f->p) != 0)
		return -1;
	actuator_settings_default(&f->as);
	f->as.shrink_step_bytes = 256 * MIB;
	f->as.shrink_max_ticks = 50;
	if (actuator_new(&f->as, f->h, f->j, f->p, &f->a) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	actuator_free(f->a);
	persister_stop(f->p, false);
	journal_close(f->j);
	cg_hier_close(f->h);
	umount2(f->dir, MNT_DETACH);
	if (tl_rm_rf(f->dir) != 0)
		return -1;
	free(f);
	return 0;
}

static struct decision decide(uint32_t vmid, double cpu_from, double cpu_to, uint64_t mem_from,
                              uint64_t mem_to)
{
	struct decision d = {.vmid = vmid, .cpu_from = cpu_from, .cpu_to = cpu_to,
			     .mem_from_mb = mem_from, .mem_to_mb = mem_to, .persist = true};
	d.cpu_change = cpu_to == cpu_from ? DECISION_NONE : cpu_to > cpu_from ? DECISION_UP : DECISION_DOWN;
	d.mem_change = mem_to == mem_from ? DECISION_NONE : mem_to > mem_from ? DECISION_UP : DECISION_DOWN;
	return d;
}

/* Waits for the persister's next result and feeds it to the actuator, like the loop does. */
static void pump_persister(struct fx *f)
{
	struct pollfd pfd = {.fd = persister_eventfd(f->p), .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 30000), 1);
	assert_true(actuator_drain_persister(f->a) >= 1);
}

static size_t open_changes(struct fx *f, uint32_t vmid, enum journal_state *state)
{
	size_t n, k = 0;
	const struct journal_change *c = journal_open_changes(f->j, &n);
	for (size_t i = 0; i < n; i++)
		if (c[i].vmid == vmid) {
			k++;
			if (state)
				*state = c[i].state;
		}
	return k;
}

static void test_grow_cpu_and_memory(void **state)
{
	struct fx *f = *state;
	make_ct(f, 101, 1024, 600 * MIB);
	struct decision d = decide(101, 2, 4, 1024, 2048);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	assert_int_equal(o.status, ACT_APPLIED);
	assert_true(o.seq > 0);
	assert_true(o.cpu_applied == 4.0);
	assert_int_equal(o.mem_applied_mb, 2048);

	assert_string_equal(tl_get(ctdir(f, 101), "cpu.max"), "400000 100000");
	assert_string_equal(tl_get(ctdir(f, 101), "cpuset.cpus"), "0-3");
	assert_string_equal(tl_get(ctdir(f, 101), "ns/cpuset.cpus"), "0-3");
	assert_string_equal(tl_get(ctdir(f, 101), "memory.max"), "2147483648");
	char high[32];
	snprintf(high, sizeof(high), "%llu", (unsigned long long)cg_pve_memory_high(2048 * MIB));
	assert_string_equal(tl_get(ctdir(f, 101), "memory.high"), high);

	enum journal_state st;
	assert_int_equal(open_changes(f, 101, &st), 1);
	assert_int_equal(st, JOURNAL_APPLIED);
	pump_persister(f);
	assert_int_equal(open_changes(f, 101, NULL), 0); /* persisted: closed */
	assert_non_null(strstr(tl_get(f->pve, "101.conf"), "cores: 4\n"));
	assert_non_null(strstr(tl_get(f->pve, "101.conf"), "memory: 2048"));
	struct actuator_event ev;
	assert_int_equal(actuator_take_events(f->a, &ev, 1), 1);
	assert_int_equal(ev.kind, ACT_EV_PERSISTED);
}

/* 2.5 cores: cpu.max says so exactly, the cpuset holds 3 CPUs, pct gets cores 3. */
static void test_fractional_cores(void **state)
{
	struct fx *f = *state;
	make_ct(f, 102, 1024, 100 * MIB);
	struct decision d = decide(102, 2, 2.5, 1024, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	assert_string_equal(tl_get(ctdir(f, 102), "cpu.max"), "250000 100000");
	assert_string_equal(tl_get(ctdir(f, 102), "cpuset.cpus"), "0-2");
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "102.conf"), "cores: 3\n"));
	assert_non_null(strstr(tl_get(f->pve, "102.conf"), "memory: 1024\n"));
	assert_int_equal(actuator_pct_cores(2.0), 2);
	assert_int_equal(actuator_pct_cores(2.001), 3);
}

/* Scale-down narrows the cpuset with cpu.max: lxcfs shows the cpuset inside (nproc), so a
 * container left at 0-3 after going back to 1 core would still see 4 CPUs. The container's
 * lowest CPUs are kept; ns/ follows. */
static void test_scale_down_narrows_cpuset(void **state)
{
	struct fx *f = *state;
	make_ct(f, 104, 1024, 100 * MIB);
	struct decision up = decide(104, 2, 4, 1024, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &up, &o), 0);
	assert_string_equal(tl_get(ctdir(f, 104), "cpuset.cpus"), "0-3");
	pump_persister(f);
	struct decision down = decide(104, 4, 1, 1024, 1024);
	assert_int_equal(actuator_apply(f->a, &down, &o), 0);
	assert_int_equal(o.status, ACT_APPLIED);
	assert_string_equal(tl_get(ctdir(f, 104), "cpu.max"), "100000 100000");
	assert_string_equal(tl_get(ctdir(f, 104), "cpuset.cpus"), "0");
	assert_string_equal(tl_get(ctdir(f, 104), "ns/cpuset.cpus"), "0");
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "104.conf"), "cores: 1\n"));
}

/* A config with a cpulimit gets cores and cpulimit together: cores alone would leave the
 * config capping the container at the old limit, and the daemon would read that back as
 * the allocation and decide the same scale-up again. */
static void test_cpulimit_persisted_with_cores(void **state)
{
	struct fx *f = *state;
	make_ct(f, 105, 1024, 100 * MIB);
	actuator_config_has_cpulimit(f->a, 105, true);
	struct decision up = decide(105, 1, 2, 1024, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &up, &o), 0);
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "105.conf"), "cores: 2\n"));
	assert_non_null(strstr(tl_get(f->pve, "105.conf"), "cpulimit: 2"));
	actuator_config_has_cpulimit(f->a, 105, false); /* the config lost it: cores only */
	struct decision down = decide(105, 2, 1, 1024, 1024);
	assert_int_equal(actuator_apply(f->a, &down, &o), 0);
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "105.conf"), "cores: 1\n"));
	assert_non_null(strstr(tl_get(f->pve, "105.conf"), "cpulimit: 2"));
}

/* Fractional cores persist as Proxmox keeps them: cpulimit, under a whole cores ceiling. */
static void test_fractional_cores_persist_as_cpulimit(void **state)
{
	struct fx *f = *state;
	make_ct(f, 106, 1024, 100 * MIB);
	struct decision set = decide(106, 1, 1.5, 1024, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &set, &o), 0);
	assert_string_equal(tl_get(ctdir(f, 106), "cpu.max"), "150000 100000");
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "106.conf"), "cores: 2\n"));
	assert_non_null(strstr(tl_get(f->pve, "106.conf"), "\ncpulimit: 1.5"));
	assert_null(strstr(tl_get(f->pve, "106.conf"), "\ncpulimit: 1.50"));
}

static void test_stopped_container_is_persisted_only(void **state)
{
	struct fx *f = *state;
	make_ct(f, 103, 1024, 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", ctdir(f, 103)); /* stopped: no cgroup */
	assert_int_equal(system(cmd), 0);
	tl_put(f->pve, "103.state", "stopped\n");
	struct decision d = decide(103, 2, 3, 1024, 512);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	assert_int_equal(o.status, ACT_PERSIST_ONLY);
	assert_int_equal(actuator_shrinks(f->a), 0); /* no cgroup, nothing to shrink */
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "103.conf"), "cores: 3\n"));
	assert_non_null(strstr(tl_get(f->pve, "103.conf"), "memory: 512\n"));
	assert_int_equal(open_changes(f, 103, NULL), 0);
}

/* The journal cannot take the change (a full tmpfs): nothing is written anywhere. */
static void test_refused_without_journal(void **state)
{
	struct fx *f = *state;
	make_ct(f, 104, 1024, 100 * MIB);
	char jdir[200];
	snprintf(jdir, sizeof(jdir), "%s/jfs", f->dir);
	mkdir(jdir, 0700);
	if (mount("lxcscale-test", jdir, "tmpfs", 0, "size=4k") < 0)
		skip();
	char jp[256], filler[256];
	snprintf(jp, sizeof(jp), "%s/journal", jdir);
	snprintf(filler, sizeof(filler), "%s/filler", jdir);
	struct journal *j;
	assert_int_equal(journal_open(jp, &j, NULL), 0);
	FILE *fp = fopen(filler, "w");
	char block[512] = {0};
	while (fwrite(block, 1, sizeof(block), fp) == sizeof(block) && fflush(fp) == 0)
		;
	fclose(fp);
	struct actuator *a;
	assert_int_equal(actuator_new(&f->as, f->h, j, f->p, &a), 0);
	/* use up what is left of the journal's page */
	struct decision d = decide(104, 2, 3, 1024, 1024);
	struct actuator_outcome o;
	int rc = 0;
	for (int i = 0; i < 200 && rc == 0; i++) {
		tl_put(ctdir(f, 104), "cpu.max", "200000 100000\n");
		rc = actuator_apply(a, &d, &o);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(o.status, ACT_REFUSED);
	assert_int_equal(o.seq, 0);
	assert_string_equal(tl_get(ctdir(f, 104), "cpu.max"), "200000 100000"); /* untouched */
	actuator_free(a);
	journal_close(j);
	umount2(jdir, MNT_DETACH);
}

static void test_shrink_in_steps_then_max(void **state)
{
	struct fx *f = *state;
	make_ct(f, 105, 4096, 3000 * MIB);
	struct decision d = decide(105, 2, 2, 4096, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	assert_int_equal(o.status, ACT_SHRINKING);
	assert_int_equal(actuator_shrinks(f->a), 1);
	enum journal_state st;
	assert_int_equal(open_changes(f, 105, &st), 1);
	assert_int_equal(st, JOURNAL_PENDING); /* cgroup in motion: not applied yet */

	uint64_t last_high = strtoull(tl_get(ctdir(f, 105), "memory.high"), NULL, 10);
	for (int i = 0; i < 3; i++) {
		actuator_tick(f->a);
		uint64_t high = strtoull(tl_get(ctdir(f, 105), "memory.high"), NULL, 10);
		assert_true(high < last_high);                  /* one step down per tick */
		assert_true(high >= cg_pve_memory_high(1024 * MIB));
		assert_string_equal(tl_get(ctdir(f, 105), "memory.max"), "4294967296"); /* not yet */
		last_high = high;
		char v[32]; /* the kernel reclaims under the lower high */
		snprintf(v, sizeof(v), "%llu\n", (unsigned long long)(high - 50 * MIB));
		tl_put(ctdir(f, 105), "memory.current", v);
	}
	tl_put(ctdir(f, 105), "memory.current", "524288000\n"); /* 500 MiB: fits under 1 GiB */
	actuator_tick(f->a);
	assert_int_equal(actuator_shrinks(f->a), 0);
	assert_string_equal(tl_get(ctdir(f, 105), "memory.max"), "1073741824");
	struct actuator_event ev;
	assert_int_equal(actuator_take_events(f->a, &ev, 1), 1);
	assert_int_equal(ev.kind, ACT_EV_SHRINK_DONE);
	assert_int_equal(ev.mem_mb, 1024);
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "105.conf"), "memory: 1024\n"));
	assert_int_equal(open_changes(f, 105, NULL), 0);
}

static void test_shrink_abandoned_on_pressure(void **state)
{
	struct fx *f = *state;
	make_ct(f, 106, 4096, 3000 * MIB);
	char old_high[32];
	snprintf(old_high, sizeof(old_high), "%.*s", (int)sizeof(old_high) - 1,
	         tl_get(ctdir(f, 106), "memory.high"));
	struct decision d = decide(106, 2, 3, 4096, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	assert_int_equal(o.status, ACT_SHRINKING);
	actuator_tick(f->a);
	assert_string_not_equal(tl_get(ctdir(f, 106), "memory.high"), old_high);
	psi(ctdir(f, 106), 1000000000ull); /* the container stalls: 1000 s of "some" at once */
	actuator_tick(f->a);
	assert_int_equal(actuator_shrinks(f->a), 0);
	assert_string_equal(tl_get(ctdir(f, 106), "memory.high"), old_high);    /* restored */
	assert_string_equal(tl_get(ctdir(f, 106), "memory.max"), "4294967296"); /* untouched */
	struct actuator_event ev;
	assert_int_equal(actuator_take_events(f->a, &ev, 1), 1);
	assert_int_equal(ev.kind, ACT_EV_SHRINK_ABANDONED);
	assert_non_null(strstr(ev.detail, "pressure"));
	/* the CPU part of the same decision stays applied and is persisted, memory is not */
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "106.conf"), "cores: 3\n"));
	assert_non_null(strstr(tl_get(f->pve, "106.conf"), "memory: 4096\n"));
	assert_int_equal(open_changes(f, 106, NULL), 0);
}

/* Usage never comes down: the shrink gives up; memory.max is never written below usage. */
static void test_shrink_never_below_usage(void **state)
{
	struct fx *f = *state;
	f->as.shrink_max_ticks = 5;
	struct actuator *a;
	assert_int_equal(actuator_new(&f->as, f->h, f->j, NULL, &a), 0);
	make_ct(f, 107, 4096, 3000 * MIB);
	struct decision d = decide(107, 2, 2, 4096, 1024);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(a, &d, &o), 0);
	for (int i = 0; i < 10 && actuator_shrinks(a); i++) {
		actuator_tick(a);
		assert_string_equal(tl_get(ctdir(f, 107), "memory.max"), "4294967296");
	}
	assert_int_equal(actuator_shrinks(a), 0);
	struct actuator_event ev;
	assert_int_equal(actuator_take_events(a, &ev, 1), 1);
	assert_int_equal(ev.kind, ACT_EV_SHRINK_ABANDONED);
	assert_int_equal(open_changes(f, 107, NULL), 0); /* memory only: cancelled */
	actuator_free(a);
}

/* The container stops in the middle of a shrink: the target is persisted for its next start. */
static void test_stops_during_shrink(void **state)
{
	struct fx *f = *state;
	make_ct(f, 108, 4096, 3000 * MIB);
	struct decision d = decide(108, 2, 2, 4096, 2048);
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	actuator_tick(f->a);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", ctdir(f, 108));
	assert_int_equal(system(cmd), 0);
	actuator_tick(f->a);
	assert_int_equal(actuator_shrinks(f->a), 0);
	pump_persister(f);
	assert_non_null(strstr(tl_get(f->pve, "108.conf"), "memory: 2048\n"));
}

static void test_dry_run_and_invalid(void **state)
{
	struct fx *f = *state;
	make_ct(f, 109, 1024, 100 * MIB);
	struct decision d = decide(109, 2, 4, 1024, 2048);
	d.dry_run = true;
	struct actuator_outcome o;
	assert_int_equal(actuator_apply(f->a, &d, &o), 0);
	assert_int_equal(o.status, ACT_DRY_RUN);
	assert_int_equal(journal_file_records(f->j), 0);
	assert_string_equal(tl_get(ctdir(f, 109), "cpu.max"), "200000 100000");

	d = decide(99, 2, 4, 1024, 2048);
	assert_int_equal(actuator_apply(f->a, &d, &o), -EINVAL);
	d = decide(109, 2, 0.001, 1024, 1024);
	assert_int_equal(actuator_apply(f->a, &d, &o), -EINVAL);
	d = decide(109, 2, 2, 1024, 8);
	assert_int_equal(actuator_apply(f->a, &d, &o), -EINVAL);
	d = decide(109, 2, 2, 1024, 1024); /* nothing to change */
	assert_int_equal(actuator_apply(f->a, &d, &o), -EINVAL);
	assert_int_equal(journal_file_records(f->j), 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (tl_tool_path(argv[0], "pct", g_pct, sizeof(g_pct)) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_grow_cpu_and_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fractional_cores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scale_down_narrows_cpuset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpulimit_persisted_with_cores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fractional_cores_persist_as_cpulimit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_container_is_persisted_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_without_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrink_in_steps_then_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrink_abandoned_on_pressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrink_never_below_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stops_during_shrink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_and_invalid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

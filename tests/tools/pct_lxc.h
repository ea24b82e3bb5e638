/*
 * pct_lxc.h — the real-runtime half of the pct stand-in (included by pct.c only).
 *
 * With PCT_STAND_IN_LXC set, `pct start|stop|shutdown|reboot` drive Debian's LXC the way
 * Proxmox does, and `pct set` on a running container hot-applies what Proxmox hot-applies:
 *
 *   - the LXC config /var/lib/lxc/<vmid>/config is generated from <vmid>.conf with the keys
 *     of pve-container's update_lxc_config: the three lxc.cgroup.dir.* keys (limits on
 *     lxc/<vmid>, tasks in lxc/<vmid>/ns, the monitor in lxc.monitor/<vmid>), the idmap and
 *     userns include of an unprivileged container, AppArmor's generated profile, the
 *     initial memory.max / memory.high (memory x 1016/1024, or memory - 128 MiB from 16 GiB) /
 *     memory.swap.max / cpu.max (cpulimit) / cpu.weight (cpuunits), cpuset.cpus of `cores`
 *     CPUs, and every raw `lxc.*` line of the conf appended as Proxmox appends them;
 *   - start runs `lxc-start -n <vmid>` (daemonized; Proxmox runs it in the foreground under
 *     systemd's pve-container@<vmid>.service, which changes nothing for the cgroups), stop is
 *     `lxc-stop -k`, shutdown `lxc-stop -t <timeout>`, reboot a shutdown and a start;
 *   - set: memory/swap write memory.swap.max, memory.high, memory.max in that order (as
 *     PVE::CGroup::change_memory_limit), cpulimit writes cpu.max, cpuunits cpu.weight, cores
 *     only the config (pvestatd applies cores: tests/tools/pvestatd.c). A failed write is
 *     "<opt>: unable to hotplug <opt>: <why>" and the config is not written, as update_vm.
 *
 * Programs are run with fork + execvp and an argv; never a shell.
 *
 * Environment: PCT_STAND_IN_LXC (non-empty: this mode), PCT_STAND_IN_LXC_DIR (/var/lib/lxc),
 * PCT_STAND_IN_STORAGE (/var/lib/vz: `rootfs: local:NAME` is the directory STORAGE/NAME),
 * PCT_STAND_IN_CGROUP (/sys/fs/cgroup).
 */
#include <sys/wait.h>

static bool lxc_mode(void)
{
	const char *v = getenv("PCT_STAND_IN_LXC");
	return v && *v;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static void cgroup_path(char *buf, size_t len, unsigned vmid, const char *file)
{
	snprintf(buf, len, "%s/lxc/%u%s%s", env_or("PCT_STAND_IN_CGROUP", "/sys/fs/cgroup"), vmid,
		 file ? "/" : "", file ? file : "");
}

/* Running means the container's cgroup holds a process (what lxc-info would say, without
 * asking the monitor, which may be busy in a start or a stop). */
static bool lxc_running(unsigned vmid)
{
	char path[4096], line[64];
	cgroup_path(path, sizeof(path), vmid, "cgroup.events");
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool populated = false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "populated 1\n"))
			populated = true;
	fclose(f);
	return populated;
}

/* run argv, wait; returns the exit status (or 128 + signal, or 127 if it could not run) */
static int run_argv(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* the first `cores` CPUs the lxc/ parent may use (Proxmox picks a random subset and pvestatd
 * rebalances; the first ones keep runs repeatable) */
static void pick_cpuset(int cores, char *out, size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores <= 0 || cores > ncpu)
		cores = (int)ncpu;
	if (cores == 1)
		snprintf(out, len, "0");
	else
		snprintf(out, len, "0-%d", cores - 1);
}

static void memory_high(unsigned long long mb, char *out, size_t len)
{
	if (mb >= 16384)
		snprintf(out, len, "%llu", (mb - 128) * 1048576ULL);
	else
		snprintf(out, len, "%llu", mb * 1024ULL * 1016ULL);
}

static void write_seccomp_rules(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/rules.seccomp", dir);
	FILE *out = fopen(path, "we");
	if (!out)
		die("unable to write '%s' - %s", path, strerror(errno));
	FILE *in = fopen("/usr/share/lxc/config/common.seccomp", "re");
	char line[512];
	while (in && fgets(line, sizeof(line), in))
		fputs(line, out);
	if (in)
		fclose(in);
	/* what pve-container adds for unprivileged containers: keyctl answers ENOSYS, so
	 * systemd inside falls back instead of failing */
	fputs("keyctl errno 38\n", out);
	fclose(out);
}

static void lxc_include(FILE *f, const char *ostype, const char *kind)
{
	char path[512];
	snprintf(path, sizeof(path), "/usr/share/lxc/config/%s.%s.conf", ostype, kind);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "/usr/share/lxc/config/%s.conf", kind);
	fprintf(f, "lxc.include = %s\n", path);
}

static void lxc_write_config(unsigned vmid, const struct section *s)
{
	char dir[4096], path[4200], tmp[4300], val[64];
	snprintf(dir, sizeof(dir), "%s/%u", env_or("PCT_STAND_IN_LXC_DIR", "/var/lib/lxc"), vmid);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("unable to create '%s' - %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		die("unable to write '%s' - %s", tmp, strerror(errno));
	const char *ostype = section_get(s, "ostype");
	const char *unpriv = section_get(s, "unprivileged");
	bool unprivileged = unpriv && !strcmp(unpriv, "1");
	ostype = ostype ? ostype : "common";
	fprintf(f, "lxc.cgroup.relative = 0\n");
	fprintf(f, "lxc.cgroup.dir.monitor = lxc.monitor/%u\n", vmid);
	fprintf(f, "lxc.cgroup.dir.container = lxc/%u\n", vmid);
	fprintf(f, "lxc.cgroup.dir.container.inner = ns\n");
	fprintf(f, "lxc.arch = %s\n", section_get(s, "arch") ? section_get(s, "arch") : "amd64");
	lxc_include(f, ostype, "common");
	if (unprivileged) {
		lxc_include(f, ostype, "userns");
		write_seccomp_rules(dir);
		fprintf(f, "lxc.seccomp.profile = %s/rules.seccomp\n", dir);
	}
	fprintf(f, "lxc.apparmor.profile = generated\n");
	fprintf(f, "lxc.apparmor.raw = deny mount -> /proc/,\n");
	fprintf(f, "lxc.apparmor.raw = deny mount -> /sys/,\n");
	if (unprivileged)
		fprintf(f, "lxc.mount.auto = sys:mixed\n");
	fprintf(f, "lxc.monitor.unshare = 1\n");
	if (unprivileged)
		fprintf(f, "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n");
	const char *tty = section_get(s, "tty");
	fprintf(f, "lxc.tty.max = %s\n", tty ? tty : "2");
	fprintf(f, "lxc.environment = TERM=linux\n");
	const char *host = section_get(s, "hostname");
	fprintf(f, "lxc.uts.name = %s\n", host ? host : "CT");
	unsigned long long mem = section_get(s, "memory") ? strtoull(section_get(s, "memory"), NULL, 10) : 512;
	unsigned long long swap = section_get(s, "swap") ? strtoull(section_get(s, "swap"), NULL, 10) : 512;
	memory_high(mem, val, sizeof(val));
	fprintf(f, "lxc.cgroup2.memory.max = %llu\n", mem * 1048576ULL);
	fprintf(f, "lxc.cgroup2.memory.high = %s\n", val);
	fprintf(f, "lxc.cgroup2.memory.swap.max = %llu\n", swap * 1048576ULL);
	const char *cpulimit = section_get(s, "cpulimit");
	if (cpulimit && strtod(cpulimit, NULL) > 0)
		fprintf(f, "lxc.cgroup2.cpu.max = %ld 100000\n", (long)(strtod(cpulimit, NULL) * 100000));
	const char *units = section_get(s, "cpuunits");
	if (units)
		fprintf(f, "lxc.cgroup2.cpu.weight = %s\n", units);
	const char *rootfs = section_get(s, "rootfs");
	if (!rootfs)
		die("CT %u: no rootfs in its configuration", vmid);
	char vol[1024];
	snprintf(vol, sizeof(vol), "%s", rootfs);
	vol[strcspn(vol, ",")] = '\0';
	const char *name = strchr(vol, ':') ? strchr(vol, ':') + 1 : vol;
	fprintf(f, "lxc.rootfs.path = %s%s%s\n", *name == '/' ? "" : env_or("PCT_STAND_IN_STORAGE", "/var/lib/vz"),
		*name == '/' ? "" : "/", name);
	bool raw_cpuset = false;
	for (int i = 0; i < s->n; i++)
		if (s->items[i].key && !strcmp(s->items[i].key, "lxc.cgroup2.cpuset.cpus"))
			raw_cpuset = true;
	if (!raw_cpuset) {
		const char *cores = section_get(s, "cores");
		pick_cpuset(cores ? atoi(cores) : 0, val, sizeof(val));
		fprintf(f, "lxc.cgroup2.cpuset.cpus = %s\n", val);
	}
	for (int i = 0; i < s->n; i++)
		if (s->items[i].key && !strncmp(s->items[i].key, "lxc.", 4))
			fprintf(f, "%s = %s\n", s->items[i].key, s->items[i].value);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die("unable to write '%s' - %s", path, strerror(errno));
}

static void lxc_start(unsigned vmid, const struct section *s)
{
	char id[16], log[4096];
	snprintf(id, sizeof(id), "%u", vmid);
	snprintf(log, sizeof(log), "/var/log/lxc/%u.log", vmid);
	lxc_write_config(vmid, s);
	char *start[] = {"lxc-start", "-n", id, "-d", "-l", "INFO", "-o", log, NULL};
	if (run_argv(start) != 0)
		die("startup for container '%u' failed", vmid);
	char *wait[] = {"lxc-wait", "-n", id, "-s", "RUNNING", "-t", "60", NULL};
	if (run_argv(wait) != 0)
		die("startup for container '%u' failed", vmid);
}

/* forced: pct stop (lxc-stop -k); else pct shutdown with its timeout (default 60 s) */
static void lxc_stop(unsigned vmid, bool forced, const char *timeout)
{
	char id[16];
	snprintf(id, sizeof(id), "%u", vmid);
	char *kill[] = {"lxc-stop", "-n", id, "-k", NULL};
	char *halt[] = {"lxc-stop", "-n", id, "-t", (char *)(timeout ? timeout : "60"), NULL};
	int rc = run_argv(forced ? kill : halt);
	if (rc != 0 && lxc_running(vmid))
		die(forced ? "stopping CT %u failed" : "shutdown of CT %u failed (timeout)", vmid);
}

static bool write_file(const char *path, const char *value, char *why, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0) {
		snprintf(why, len, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* what vmconfig_hotplug_pending does for one option of a running container; "" on success,
 * else the text after "<opt>: " */
static void lxc_hotplug(unsigned vmid, const char *key, const struct section *s, char *err, size_t len)
{
	char path[4096], val[64], why[256];
	err[0] = '\0';
	if (!lxc_running(vmid)) {
		snprintf(err, len, "unable to hotplug %s: trying to change %s cgroup values: container not running",
			 key, strcmp(key, "cpulimit") && strcmp(key, "cpuunits") ? "memory" : "cpu");
		return;
	}
	if (!strcmp(key, "memory") || !strcmp(key, "swap")) {
		unsigned long long mem = strtoull(section_get(s, "memory") ? section_get(s, "memory") : "512", NULL, 10);
		unsigned long long swap = strtoull(section_get(s, "swap") ? section_get(s, "swap") : "512", NULL, 10);
		const char *files[3] = {"memory.swap.max", "memory.high", "memory.max"};
		char vals[3][32];
		snprintf(vals[0], sizeof(vals[0]), "%llu", swap * 1048576ULL);
		memory_high(mem, vals[1], sizeof(vals[1]));
		snprintf(vals[2], sizeof(vals[2]), "%llu", mem * 1048576ULL);
		for (int i = 0; i < 3; i++) {
			cgroup_path(path, sizeof(path), vmid, files[i]);
			if (!write_file(path, vals[i], why, sizeof(why))) {
				snprintf(err, len, "unable to hotplug %s: %s: %s", key, files[i], why);
				return;
			}
		}
	} else if (!strcmp(key, "cpulimit")) {
		const char *v = section_get(s, "cpulimit");
		double lim = v ? strtod(v, NULL) : 0;
		if (lim > 0)
			snprintf(val, sizeof(val), "%ld 100000", (long)(lim * 100000));
		else
			snprintf(val, sizeof(val), "max 100000");
		cgroup_path(path, sizeof(path), vmid, "cpu.max");
		if (!write_file(path, val, why, sizeof(why)))
			snprintf(err, len, "unable to hotplug cpulimit: %s", why);
	} else if (!strcmp(key, "cpuunits")) {
		const char *v = section_get(s, "cpuunits");
		cgroup_path(path, sizeof(path), vmid, "cpu.weight");
		if (!write_file(path, v ? v : "100", why, sizeof(why)))
			snprintf(err, len, "unable to hotplug cpuunits: %s", why);
	}
}

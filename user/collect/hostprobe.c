/*
 * collect/hostprobe.c — see collect/hostprobe.h. Reads /proc/self/mountinfo, a few cgroup files and PATH.
 */
#include "collect/hostprobe.h"

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/log.h"

static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* Find mounts by fs type in mountinfo: "... mountpoint ... - fstype source opts". */
static void scan_mounts(struct hostprobe *h)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char line[4096];
	bool v1_seen = false;
	while (fgets(line, sizeof(line), f)) {
		char mnt[1024], fstype[64];
		/* fields: id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1)
			continue;
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(fstype, "cgroup2") && !h->cgroup_mount[0])
			snprintf(h->cgroup_mount, sizeof(h->cgroup_mount), "%s", mnt);
		else if (!strcmp(fstype, "cgroup"))
			v1_seen = true;
		else if (!strcmp(fstype, "bpf") && !h->bpffs) {
			h->bpffs = true;
			snprintf(h->bpffs_path, sizeof(h->bpffs_path), "%s", mnt);
		}
	}
	fclose(f);
	h->cgroup_hybrid = v1_seen && h->cgroup_mount[0];
}

static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0'))
			return true;
	return false;
}

static void find_pct(struct hostprobe *h, const struct lxcscale_config *c)
{
	if (c->persist.pct_path[0] && access(c->persist.pct_path, X_OK) == 0) {
		snprintf(h->pct, sizeof(h->pct), "%s", c->persist.pct_path);
		return;
	}
	const char *path = getenv("PATH");
	if (!path)
		return;
	char dir[512];
	for (const char *p = path; *p;) {
		size_t l = strcspn(p, ":");
		if (l > 0 && l < sizeof(dir)) {
			char cand[600];
			memcpy(dir, p, l);
			dir[l] = '\0';
			snprintf(cand, sizeof(cand), "%s/pct", dir);
			if (access(cand, X_OK) == 0) {
				snprintf(h->pct, sizeof(h->pct), "%s", cand);
				return;
			}
		}
		p += l;
		if (*p == ':')
			p++;
	}
}

static void count_containers(struct hostprobe *h, const struct lxcscale_config *c)
{
	DIR *d = opendir(h->lxc_root);
	if (!d)
		return;
	regex_t re;
	bool have_re = regcomp(&re, c->cgroup.id_pattern, REG_EXTENDED | REG_NOSUB) == 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (have_re && regexec(&re, de->d_name, 0, NULL, 0) == 0)
			h->containers++;
	}
	if (have_re)
		regfree(&re);
	closedir(d);
}

void hostprobe_run(struct hostprobe *h, const struct lxcscale_config *c)
{
	memset(h, 0, sizeof(*h));
	h->root = geteuid() == 0;
	scan_mounts(h);
	if (c->cgroup.mount[0] && strcmp(c->cgroup.mount, h->cgroup_mount)) {
		snprintf(h->cgroup_mount, sizeof(h->cgroup_mount), "%s", c->cgroup.mount);
		h->cgroup_hybrid = false;
	}

	char path[2100];
	if (h->cgroup_mount[0]) {
		snprintf(path, sizeof(path), "%s/cgroup.controllers", h->cgroup_mount);
		read_line(path, h->controllers, sizeof(h->controllers));
		h->ctrl_cpu = has_word(h->controllers, "cpu");
		h->ctrl_cpuset = has_word(h->controllers, "cpuset");
		h->ctrl_memory = has_word(h->controllers, "memory");
		h->ctrl_io = has_word(h->controllers, "io");
		snprintf(path, sizeof(path), "%s/cpu.pressure", h->cgroup_mount);
		h->psi = access(path, R_OK) == 0;

		if (c->cgroup.root[0] == '/')
			snprintf(h->lxc_root, sizeof(h->lxc_root), "%s", c->cgroup.root);
		else
			snprintf(h->lxc_root, sizeof(h->lxc_root), "%s/%s", h->cgroup_mount,
			         c->cgroup.root[0] ? c->cgroup.root : "lxc");
		struct stat st;
		if (stat(h->lxc_root, &st) != 0 || !S_ISDIR(st.st_mode))
			h->lxc_root[0] = '\0';
		else {
			count_containers(h, c);
			snprintf(path, sizeof(path), "%s/cgroup.controllers", h->lxc_root);
			read_line(path, h->lxc_controllers, sizeof(h->lxc_controllers));
			/* the container root is what matters for writing limits */
			h->ctrl_cpu = has_word(h->lxc_controllers, "cpu");
			h->ctrl_cpuset = has_word(h->lxc_controllers, "cpuset");
			h->ctrl_memory = has_word(h->lxc_controllers, "memory");
			h->ctrl_io = has_word(h->lxc_controllers, "io");
		}
	}
	if (!h->psi)
		h->psi = access("/proc/pressure/cpu", R_OK) == 0;
	find_pct(h, c);
	h->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof(h->kernel), "%s %s", u.release, u.machine);
}

void hostprobe_report(const struct hostprobe *h, const struct lxcscale_config *c)
{
	log_info("host: kernel %s, %s", h->kernel, h->root ? "running as root" : "NOT root");
	if (!h->root)
		log_warning("cannot: write cgroup limits, load BPF or run pct without root; observing only");

	if (!h->cgroup_mount[0]) {
		log_warning("cannot: no cgroup v2 mount found; no container can be sampled or scaled");
	} else {
		log_info("cgroup v2 at %s%s; controllers: %s", h->cgroup_mount,
		         h->cgroup_hybrid ? " (hybrid: v1 hierarchies mounted too)" : "",
		         h->controllers[0] ? h->controllers : "(none)");
		if (h->lxc_root[0])
			log_info("controllers enabled for containers (%s/cgroup.controllers): %s", h->lxc_root,
			         h->lxc_controllers[0] ? h->lxc_controllers : "(none)");
		if (!h->ctrl_cpu || !h->ctrl_memory)
			log_warning("cannot: %s%s%s controller missing: limits cannot be written here; "
			            "usage and pressure are still read",
			            !h->ctrl_cpu ? "cpu" : "", !h->ctrl_cpu && !h->ctrl_memory ? " and " : "",
			            !h->ctrl_memory ? "memory" : "");
		if (!h->lxc_root[0])
			log_warning("no %s container root under %s: no containers to scale; sampling test cgroups only",
			            c->cgroup.root[0] ? c->cgroup.root : "lxc/", h->cgroup_mount);
		else
			log_info("container root %s: %d container%s", h->lxc_root, h->containers,
			         h->containers == 1 ? "" : "s");
	}
	if (h->psi)
		log_info("PSI available: pressure-driven wake-ups on");
	else
		log_warning("cannot: no PSI (kernel without CONFIG_PSI or psi=0): pressure features are zero");

	if (h->pct[0])
		log_info("pct at %s: changes are persisted to the Proxmox config", h->pct);
	else if (c->persist.backend == CFG_PERSIST_API)
		log_info("no pct; persisting through the Proxmox API at %s", c->proxmox_api.url);
	else
		log_warning("cannot: no pct (not a Proxmox host): changes would not be persisted; "
		            "cgroup limits only, and Proxmox would undo them");

	if (!c->bpf.enabled)
		log_info("BPF disabled by bpf.enabled=false: cgroup files only");
	else if (!h->btf)
		log_warning("cannot: no kernel BTF (/sys/kernel/btf/vmlinux): BPF programs off, cgroup files only");
	else if (!h->root)
		log_warning("cannot: BPF needs root: cgroup files only");
	else
		log_info("kernel BTF present: BPF tracepoint programs can load");
	if (c->bpf.enabled && h->btf) {
		if (h->bpffs)
			log_info("bpffs mounted at %s: maps can be pinned at %s", h->bpffs_path, c->bpf.pin_path);
		else
			log_info("bpffs not mounted: maps will not be pinned (mount -t bpf bpf /sys/fs/bpf to inspect them)");
	}
}

/*
 * bpf_overflow.c — the BPF ring buffer overflowing, for real: loads lxcscale's lifecycle
 * program (user/collect/bpf_loader.h), creates and removes COUNT test cgroups at container level
 * under <mount>/lxcscale-test-bpfov-<pid> without consuming, so the kernel's 256 KiB ring
 * fills and bpf_ringbuf_reserve fails; then drains and does it again.
 *
 *     bpf_overflow [-n COUNT]      (default 3000 mkdir+rmdir pairs, 6000 events)
 *
 * Prints: "events=E drops=D consumed=C after_drain_consumed=A" and exits 0 when the drop
 * counter moved (D > 0), everything that was not dropped could be consumed (C == E), and
 * after draining the ring carries events again (A > 0) — the loader carries on after an
 * overflow. Exit 77 when BPF cannot be loaded here. Needs root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/bpf_loader.h"

static int count_ev(const struct lxs_event *ev, void *ctx)
{
	(void)ev;
	(*(unsigned long *)ctx)++;
	return 0;
}

static void churn(const char *root, int n)
{
	char p[512];
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%d", root, 100 + i % 50);
		if (mkdir(p, 0755) == 0)
			rmdir(p);
	}
}

int main(int argc, char **argv)
{
	int n = 3000, opt;
	while ((opt = getopt(argc, argv, "n:")) != -1)
		if (opt == 'n')
			n = atoi(optarg);
	const char *mount = NULL;
	struct stat st;
	if (stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0)
		mount = "/sys/fs/cgroup/unified";
	else if (stat("/sys/fs/cgroup/cgroup.procs", &st) == 0)
		mount = "/sys/fs/cgroup";
	if (geteuid() != 0 || !mount || n < 1) {
		printf("bpf_overflow: skipped (needs root and a cgroup v2 mount)\n");
		return 77;
	}
	char root[256];
	snprintf(root, sizeof(root), "%s/lxcscale-test-bpfov-%d", mount, (int)getpid());
	if (mkdir(root, 0755) != 0 || stat(root, &st) != 0) {
		fprintf(stderr, "bpf_overflow: cannot create %s: %s\n", root, strerror(errno));
		return 1;
	}
	struct lxs_bpf_opts o;
	lxs_bpf_opts_default(&o);
	o.pin_dir = "";
	o.container_level = 2;
	o.lifecycle_parent = (uint64_t)st.st_ino;
	o.want_runq = o.want_mem = o.want_oom = false;
	o.want_lifecycle = true;
	char err[512];
	struct lxs_bpf *b = NULL;
	int rc = lxs_bpf_open(&b, &o, err, sizeof(err));
	if (rc != 0 || !(lxs_bpf_concerns(b) & LXS_CONCERN_LIFECYCLE)) {
		printf("bpf_overflow: skipped (BPF lifecycle program not loaded: %s)\n", rc ? err : "not attached");
		if (b)
			lxs_bpf_close(b, false);
		rmdir(root);
		return 77;
	}
	uint64_t ev0 = 0, dr0 = 0, ev1 = 0, dr1 = 0;
	lxs_bpf_stat(b, LXS_STAT_RB_EVENTS, &ev0);
	lxs_bpf_stat(b, LXS_STAT_RB_DROPS, &dr0);
	churn(root, n); /* nobody consumes: the ring fills */
	lxs_bpf_stat(b, LXS_STAT_RB_EVENTS, &ev1);
	lxs_bpf_stat(b, LXS_STAT_RB_DROPS, &dr1);
	unsigned long consumed = 0, again = 0;
	int c;
	while ((c = lxs_bpf_consume(b, count_ev, &consumed)) > 0)
		;
	churn(root, 10); /* after draining, events flow again */
	while ((c = lxs_bpf_consume(b, count_ev, &again)) > 0)
		;
	lxs_bpf_close(b, false);
	rmdir(root);
	unsigned long events = (unsigned long)(ev1 - ev0), drops = (unsigned long)(dr1 - dr0);
	printf("events=%lu drops=%lu consumed=%lu after_drain_consumed=%lu (%d mkdir+rmdir pairs)\n", events,
	       drops, consumed, again, n);
	return drops > 0 && consumed == events && again > 0 ? 0 : 1;
}

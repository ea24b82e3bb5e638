/*
 * pve/pct.c — one `pct set <vmid> --cores N --memory M` run.
 *
 * The argv is built from validated numbers only and started through proc_run (posix_spawn,
 * no shell, own process group killed on timeout). `pct` is looked up on PATH unless
 * persist.pct_path names it. Proxmox's own error words decide the outcome: "CT is locked"
 * and a timed-out config flock mean "try again later", a missing config means the
 * container is gone; anything else (exit status, timeout, no pct at all) is a failure.
 */
#include "pve/backend.h"

#include <stdio.h>
#include <string.h>

#include "base/proc.h"

enum persist_status persist_classify_error(const char *text)
{
	if (!text)
		return PERSIST_FAILED;
	/* PVE::AbstractConfig::check_lock: "CT is locked (backup)"; lock_config's flock:
	 * "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout" */
	if (strstr(text, "CT is locked") || strstr(text, "can't lock file"))
		return PERSIST_LOCKED;
	/* "Configuration file 'nodes/pve/lxc/101.conf' does not exist" */
	if (strstr(text, "Configuration file") && strstr(text, "does not exist"))
		return PERSIST_GONE;
	return PERSIST_FAILED;
}

enum persist_status persist_pct_call(const struct persist_settings *s,
                                     const struct persist_target *t, char *detail, size_t len)
{
	char vmid[16], cores[16], memory[24];
	const char *argv[10];
	char cpulimit[32];
	int n = 0;

	snprintf(vmid, sizeof(vmid), "%u", t->vmid);
	snprintf(cores, sizeof(cores), "%u", t->cores);
	snprintf(memory, sizeof(memory), "%llu", (unsigned long long)t->memory_mb);
	argv[n++] = s->pct_path[0] ? s->pct_path : "pct";
	argv[n++] = "set";
	argv[n++] = vmid;
	if (t->set_cores) {
		argv[n++] = "--cores";
		argv[n++] = cores;
	}
	if (t->set_cores && t->cpulimit > 0) {
		snprintf(cpulimit, sizeof(cpulimit), "%.2f", t->cpulimit);
		/* "2.00" -> "2", "1.50" -> "1.5": what an admin would type */
		char *end = cpulimit + strlen(cpulimit) - 1;
		while (*end == '0')
			*end-- = '\0';
		if (*end == '.')
			*end = '\0';
		argv[n++] = "--cpulimit";
		argv[n++] = cpulimit;
	}
	if (t->set_memory) {
		argv[n++] = "--memory";
		argv[n++] = memory;
	}
	argv[n] = NULL;

	struct proc_opts opts = {
		.timeout_ms = s->call_timeout_ms,
		.max_capture = 4096,
		.search_path = s->pct_path[0] == '\0',
	};
	struct proc_result res;
	enum proc_err rc = proc_run(argv, &opts, &res);
	enum persist_status st;
	if (proc_succeeded(rc, &res)) {
		st = PERSIST_OK;
		snprintf(detail, len, "pct set %s: ok (%lld ms)", vmid, (long long)res.elapsed_ms);
	} else {
		char what[200];
		proc_describe(rc, &res, what, sizeof(what));
		snprintf(detail, len, "pct set %s: %s", vmid, what);
		st = PERSIST_FAILED;
		if (rc == PROC_OK && res.exited) {
			st = persist_classify_error(res.err);
			if (st == PERSIST_FAILED)
				st = persist_classify_error(res.out);
		}
	}
	proc_result_free(&res);
	return st;
}

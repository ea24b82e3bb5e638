/*
 * pctcmd.c — how the API runs pct, pvesh and pvecm: argv only through user/base/proc.h, with
 * lxc.timeout_seconds, bounded output, and one line of detail for the log (and for the
 * 500 message when show_stack_traces is on). A non-zero exit, a timeout and a missing
 * program are all failures, as in the reference's latest version; `ref_error` says each
 * the way the reference's pct wrapper does, for the texts its routes answer with.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/proc.h"

#define CMD_MAX_ARGS 16

/* The reference's RuntimeError text: argv printed with the program's own name. */
static void ref_error(struct cmd_result *res, enum proc_err rc, const struct proc_result *pr,
		      const char *const argv[], int timeout_s)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char printable[256];
	size_t off = (size_t)snprintf(printable, sizeof(printable), "%s", prog);
	for (int i = 1; argv[i] && off < sizeof(printable) - 1; i++) {
		int w = snprintf(printable + off, sizeof(printable) - off, " %s", argv[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (rc == PROC_ETIMEOUT)
		snprintf(res->ref_error, sizeof(res->ref_error), "Command '%.200s' timed out after %ds",
			 printable, timeout_s);
	else if (rc == PROC_ENOTFOUND)
		snprintf(res->ref_error, sizeof(res->ref_error),
			 "'%.200s' not found. Is this running on a Proxmox host?", prog);
	else /* the stream as it came, trailing newline and all (Python's e.stderr) */
		snprintf(res->ref_error, sizeof(res->ref_error), "Command failed: %.*s",
			 (int)(pr->err && pr->err_len < 600 ? pr->err_len : pr->err ? 600 : 0),
			 pr->err ? pr->err : "");
}

void cmd_run(struct api_server *srv, const char *prog, const char *const args[],
	     unsigned timeout_s, struct cmd_result *res)
{
	const char *argv[CMD_MAX_ARGS + 2];
	int n = 0;
	argv[n++] = prog;
	for (int i = 0; args[i] && n < CMD_MAX_ARGS + 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	memset(res, 0, sizeof(*res));
	size_t off = 0;
	for (int i = 0; i < n && off < sizeof(res->argv_text) - 1; i++) {
		int w = snprintf(res->argv_text + off, sizeof(res->argv_text) - off, "%s%s",
				 i ? " " : "", argv[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}

	struct proc_opts o = {
		.timeout_ms = (int)(timeout_s ? timeout_s : 30) * 1000,
		.max_capture = 256 * 1024,
		.search_path = true,
	};
	struct proc_result pr;
	enum proc_err rc = proc_run(argv, &o, &pr);
	res->ok = proc_succeeded(rc, &pr);
	res->exit_code = rc == PROC_OK && pr.exited ? pr.exit_code : -1;
	res->timed_out = rc == PROC_ETIMEOUT;
	res->not_found = rc == PROC_ENOTFOUND;
	if (!res->ok) {
		char what[400];
		proc_describe(rc, &pr, what, sizeof(what));
		snprintf(res->detail, sizeof(res->detail), "%.200s: %.300s", res->argv_text, what);
		api_log(srv, API_LOG_WARNING, "command failed: %s", res->detail);
		ref_error(res, rc, &pr, argv, o.timeout_ms / 1000);
	} else {
		api_log(srv, API_LOG_DEBUG, "ran: %s (%lld ms)", res->argv_text, (long long)pr.elapsed_ms);
	}
	res->out = pr.out;
	pr.out = NULL;
	if (!res->out)
		res->out = strdup("");
	proc_result_free(&pr);
}

void cmd_result_free(struct cmd_result *res)
{
	free(res->out);
	res->out = NULL;
}

void pct_run(struct api_server *srv, const char *const args[], struct cmd_result *res)
{
	cmd_run(srv, srv->set.pct_path ? srv->set.pct_path : "pct", args, srv->set.lxc_timeout_s, res);
}

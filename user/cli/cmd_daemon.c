/*
 * cli/cmd_daemon.c — the `lxcscale` commands that talk to the running daemon over its REST API:
 *
 *   status [ID]                 containers (or one, with its recent history)
 *   scale ID [--cores N] [--memory MB] [--no-persist]
 *                               set limits through the daemon; against an API without the
 *                               daemon (or the reference's), falls back to /scale/cores and
 *                               /scale/ram, which run pct set
 *   decisions [--since SEQ] [--limit N] [--follow]
 *                               the decision journal; --follow streams new ones (SSE)
 *   (top: cli/cmd_top.c)
 *   model show                  the model's features, importances and rebuild state
 *                               (cli_model_show; `model eval` is iforest's cli_model)
 *
 * Human tables by default, the API's JSON with --json. Exit codes: cli/client.h.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/apijson.h"

/* ---- small JSON getters (missing → defaults) ---- */

json_object *cli_jget(json_object *o, const char *path)
{
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

double cli_jnum(json_object *o, const char *path)
{
	json_object *v = cli_jget(o, path);
	return v ? json_object_get_double(v) : NAN;
}

const char *cli_jstr(json_object *o, const char *path)
{
	json_object *v = cli_jget(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static bool parse_id(const char *s, unsigned *id)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 100 || v > 999999)
		return false;
	*id = (unsigned)v;
	return true;
}

/* "+2 cores (psi)" style summary of a decision */
void cli_decision_summary(json_object *d, char *buf, size_t len)
{
	if (!d || json_object_is_type(d, json_type_null)) {
		snprintf(buf, len, "-");
		return;
	}
	char cpu[48] = "", mem[48] = "";
	const char *cc = cli_jstr(d, "cpu.change"), *mc = cli_jstr(d, "memory.change");
	if (strcmp(cc, "none") != 0 && cc[0])
		snprintf(cpu, sizeof(cpu), "cpu %g→%g ", cli_jnum(d, "cpu.from"), cli_jnum(d, "cpu.to"));
	if (strcmp(mc, "none") != 0 && mc[0])
		snprintf(mem, sizeof(mem), "mem %.0f→%.0fM ", cli_jnum(d, "memory.from_mb"), cli_jnum(d, "memory.to_mb"));
	snprintf(buf, len, "%s%s(%s)", cpu, mem, cli_jstr(d, "reason"));
}

void cli_print_table_header(FILE *f)
{
	fprintf(f, "%-7s %-16s %-4s %6s %8s %6s %6s %8s %8s %8s  %s\n", "VMID", "NAME", "RUN", "CORES",
		"MEM(MB)", "CPU%", "MEM%", "PSI-CPU", "PSI-MEM", "SCORE", "LAST DECISION");
}

void cli_print_row(FILE *f, json_object *c)
{
	char last[96];
	cli_decision_summary(cli_jget(c, "last_decision"), last, sizeof(last));
	json_object *run = cli_jget(c, "running"), *ign = cli_jget(c, "ignored");
	fprintf(f, "%-7.0f %-16.16s %-4s %6.2f %8.0f %6.1f %6.1f %8.2f %8.2f %8.3f  %s\n",
		cli_jnum(c, "vmid"), cli_jstr(c, "name"),
		ign && json_object_get_boolean(ign) ? "ign" : run && json_object_get_boolean(run) ? "yes" : "no",
		cli_jnum(c, "limits.cores"), cli_jnum(c, "limits.memory_mb"), cli_jnum(c, "usage.cpu_pct"),
		cli_jnum(c, "usage.memory_pct"), cli_jnum(c, "pressure.cpu_some_avg10"),
		cli_jnum(c, "pressure.memory_some_avg10"), cli_jnum(c, "score.anomaly_score"), last);
}

/* GET path and parse; prints errors; returns exit code, *out owned by caller. */
int cli_get_json(const struct cli_conn *conn, const char *path, json_object **out, char **raw)
{
	char err[512] = "";
	char *body = NULL;
	long st = cli_request(conn, "GET", path, NULL, &body, err, sizeof(err));
	int rc = cli_status_to_exit(st, body, err);
	*out = NULL;
	if (rc == CLI_OK) {
		*out = json_tokener_parse(body);
		if (!*out) {
			fprintf(stderr, "lxcscale: the API answered something that is not JSON\n");
			rc = CLI_FAIL;
		}
	}
	if (raw && rc == CLI_OK)
		*raw = body;
	else
		free(body);
	return rc;
}

/* Connects with the common options, then cli_get_json(PATH). */
static int connect_get_json(const struct cli_common *com, struct cli_conn *conn, const char *path,
			    json_object **out, char **raw)
{
	int rc = cli_conn_setup(conn, com);
	if (rc)
		return rc;
	return cli_get_json(conn, path, out, raw);
}

/* getopt for the commands whose only options are the common ones and -h: -1 to go on, else
 * the exit status (HELP printed: CLI_OK; anything else: CLI_USAGE). */
static int parse_common_only(int argc, char **argv, struct cli_common *com, const char *help)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(com, o, optarg))
			continue;
		if (o == 'h') {
			fputs(help, stdout);
			return CLI_OK;
		}
		return CLI_USAGE;
	}
	return -1;
}

/* ---- status ---- */

int cli_status(int argc, char **argv)
{
	struct cli_common com = {0};
	int rc = parse_common_only(argc, argv, &com,
				   "usage: lxcscale status [ID] [options]\n"
				   "Containers with limits, usage, pressure, anomaly score and last decision;\n"
				   "with ID, one container and its recent history.\n" CLI_COMMON_HELP);
	if (rc >= 0)
		return rc;
	unsigned id = 0;
	if (optind < argc && !parse_id(argv[optind], &id)) {
		fprintf(stderr, "lxcscale status: '%s' is not a container id (100-999999)\n", argv[optind]);
		return CLI_USAGE;
	}
	char path[64];
	if (id)
		snprintf(path, sizeof(path), "/api/v1/containers/%u", id);
	else
		snprintf(path, sizeof(path), "/api/v1/containers");
	struct cli_conn conn;
	json_object *j;
	char *raw = NULL;
	rc = connect_get_json(&com, &conn, path, &j, &raw);
	if (rc)
		return rc;
	if (conn.json) {
		fputs(raw, stdout);
		fputc('\n', stdout);
	} else if (id) {
		cli_print_table_header(stdout);
		cli_print_row(stdout, j);
		const char *tier = cli_jstr(j, "tier"), *by = cli_jstr(j, "ignored_by");
		if (tier[0])
			printf("tier: %s\n", tier);
		if (by[0])
			printf("ignored: %s: watched, never scaled by the policy (scale asks for --force)\n",
			       !strcmp(by, "tag") ? "by its Proxmox tag (tags.ignore)" : "in ignore_lxc");
		json_object *h = cli_jget(j, "history");
		size_t n = h ? json_object_array_length(h) : 0;
		printf("\nhistory (%zu samples, newest last):\n%-20s %6s %8s %6s %6s %8s %8s\n", n, "TIME",
		       "CORES", "MEM(MB)", "CPU%", "MEM%", "PSI-CPU", "SCORE");
		for (size_t i = n > 20 ? n - 20 : 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(h, i);
			time_t t = (time_t)(cli_jnum(p, "time_ms") / 1000);
			struct tm tm;
			char ts[32];
			localtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%F %T", &tm);
			printf("%-20s %6.2f %8.0f %6.1f %6.1f %8.2f %8.3f\n", ts, cli_jnum(p, "cores"),
			       cli_jnum(p, "memory_mb"), cli_jnum(p, "cpu_pct"), cli_jnum(p, "mem_pct"),
			       cli_jnum(p, "cpu_psi_some_avg10"), cli_jnum(p, "anomaly_score"));
		}
	} else {
		json_object *arr = cli_jget(j, "containers");
		cli_print_table_header(stdout);
		bool any_ignored = false;
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
			json_object *c = json_object_array_get_idx(arr, i), *ign = cli_jget(c, "ignored");
			any_ignored = any_ignored || (ign && json_object_get_boolean(ign));
			cli_print_row(stdout, c);
		}
		if (any_ignored)
			printf("RUN ign: in ignore_lxc or tagged with tags.ignore in Proxmox; watched but never "
			       "scaled by the policy (scale asks for --force)\n");
	}
	free(raw);
	json_object_put(j);
	return CLI_OK;
}

/* ---- scale ---- */

static int post(const struct cli_conn *conn, const char *path, const char *body, long *status,
		char **answer)
{
	char err[512] = "";
	*status = cli_request(conn, "POST", path, body, answer, err, sizeof(err));
	if (*status < 0) {
		fprintf(stderr, "lxcscale: %s\n", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* POST to one of the reference's routes; prints its message (or the JSON) on success. */
static int post_reference(const struct cli_conn *conn, const char *path, const char *body)
{
	long st;
	char *answer = NULL;
	int rc = post(conn, path, body, &st, &answer);
	if (rc)
		return rc;
	rc = cli_status_to_exit(st, answer, "");
	if (rc == CLI_OK && !conn->json) {
		json_object *j = json_tokener_parse(answer);
		if (cli_jget(j, "decision")) /* the daemon took it after all (it started meanwhile) */
			printf("%s: %s\n", cli_jstr(j, "message"), cli_jstr(j, "decision.outcome"));
		else
			printf("%s: persisted with pct set (not running under the daemon: Proxmox applies "
			       "it as pct does, a stopped container at its next start)\n", cli_jstr(j, "message"));
		json_object_put(j);
	} else if (rc == CLI_OK) {
		printf("%s\n", answer);
	}
	free(answer);
	return rc;
}

/* "cores 1 -> 2, memory 1024 -> 2048 MiB" for the parts the decision changes. */
static void describe_change(json_object *d, char *buf, size_t len)
{
	int n = 0;
	buf[0] = '\0';
	if (strcmp(cli_jstr(d, "cpu.change"), "none") && *cli_jstr(d, "cpu.change"))
		n = snprintf(buf, len, "cores %g -> %g", cli_jnum(d, "cpu.from"), cli_jnum(d, "cpu.to"));
	if (n >= 0 && (size_t)n < len && strcmp(cli_jstr(d, "memory.change"), "none") && *cli_jstr(d, "memory.change"))
		snprintf(buf + n, len - (size_t)n, "%smemory %.0f -> %.0f MiB", n ? ", " : "",
			 cli_jnum(d, "memory.from_mb"), cli_jnum(d, "memory.to_mb"));
}

/* What the daemon did with a change it answered 200 for, in one line, and the exit code:
 * 0 when the container has it now (or at its next start, stopped), else 5 (not applied). */
static int print_scale_outcome(unsigned id, const char *answer, bool json)
{
	json_object *j = json_tokener_parse(answer);
	json_object *d = cli_jget(j, "decision");
	if (!d) {
		fprintf(stderr, "lxcscale scale: the API answered 200 without a decision: %.200s\n", answer);
		json_object_put(j);
		return CLI_FAIL;
	}
	json_object *b;
	bool enforced = json_object_object_get_ex(d, "enforced", &b) && json_object_get_boolean(b);
	bool at_start = json_object_object_get_ex(d, "applies_at_start", &b) && json_object_get_boolean(b);
	bool persist = json_object_object_get_ex(d, "persist", &b) && json_object_get_boolean(b);
	const char *outcome = cli_jstr(d, "outcome");
	char change[128];
	describe_change(d, change, sizeof(change));
	int rc = enforced || at_start ? CLI_OK : CLI_NOT_APPLIED;
	if (json) {
		printf("%s\n", answer);
	} else {
		const char *what = enforced ? (persist ? "in force now; persisting with pct set"
						       : "in force now; not persisted (--no-persist)")
				   : at_start ? "the container is stopped: its config has it, applied at its next start"
					      : "NOT in force";
		printf("container %u: %s: %s (%s)\n", id, outcome, change[0] ? change : "no change", what);
		if (rc != CLI_OK || strcmp(outcome, "applied"))
			printf("  detail: %s\n", cli_jstr(d, "detail"));
		printf("  decision seq %.0f\n", cli_jnum(d, "seq"));
	}
	json_object_put(j);
	return rc;
}

int cli_scale(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cores", required_argument, NULL, 'c'},
		{"memory", required_argument, NULL, 'm'},
		{"no-persist", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'F'},
		CLI_COMMON_OPTS,
		{NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *cores = NULL, *memory = NULL;
	bool persist = true, force = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, o, optarg))
			continue;
		switch (o) {
		case 'c': cores = optarg; break;
		case 'm': memory = optarg; break;
		case 'n': persist = false; break;
		case 'F': force = true; break;
		case 'h':
			printf("usage: lxcscale scale ID [--cores N] [--memory MB] [--no-persist] [--force] [options]\n"
			       "Sets limits through the daemon (cgroup at once, then pct set unless\n"
			       "--no-persist) and prints the outcome: applied, shrinking, persist-only,\n"
			       "dry-run, refused or failed, and whether the container has it now. For a\n"
			       "container the daemon does not run (stopped, ignored), or an API without\n"
			       "the daemon, it uses /scale/cores and /scale/ram (pct set). Fractional cores\n"
			       "need the daemon: cpu.max, persisted as cpulimit under a whole cores.\n"
			       "  --cores N        cores (0.01 up to the host's CPUs)\n"
			       "  --memory MB      memory.max in MiB (64 to 1048576)\n"
			       "  --no-persist     the cgroup only; the Proxmox config keeps its value\n"
			       "  --force          also a container in ignore_lxc or tagged tags.ignore\n"
			       CLI_COMMON_HELP);
			return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	unsigned id;
	if (optind >= argc) {
		fprintf(stderr, "lxcscale scale: which container? usage: lxcscale scale ID [--cores N] "
				"[--memory MB] [--no-persist]\n");
		return CLI_USAGE;
	}
	if (!parse_id(argv[optind], &id)) {
		fprintf(stderr, "lxcscale scale: '%s' is not a container id (100 to 999999)\n", argv[optind]);
		return CLI_USAGE;
	}
	if (!cores && !memory) {
		fprintf(stderr, "lxcscale scale: nothing to change: give --cores N and/or --memory MB\n");
		return CLI_USAGE;
	}
	char *end;
	double c = cores ? strtod(cores, &end) : 0;
	if (cores && (*end || !(c > 0) || c > 1024)) {
		fprintf(stderr, "lxcscale scale: --cores must be a positive number\n");
		return CLI_USAGE;
	}
	long m = memory ? strtol(memory, &end, 10) : 0;
	if (memory && (*end || m < 64 || m > 1048576)) {
		fprintf(stderr, "lxcscale scale: --memory must be MB between 64 and 1048576\n");
		return CLI_USAGE;
	}
	struct cli_conn conn;
	int rc = cli_conn_setup(&conn, &com);
	if (rc)
		return rc;

	json_object *req = json_object_new_object();
	if (cores)
		json_object_object_add(req, "cores", json_object_new_double(c));
	if (memory)
		json_object_object_add(req, "memory_mb", json_object_new_int64(m));
	json_object_object_add(req, "persist", json_object_new_boolean(persist));
	if (force)
		json_object_object_add(req, "force", json_object_new_boolean(true));
	char path[96];
	snprintf(path, sizeof(path), "/api/v1/containers/%u/limits", id);
	long st;
	char *answer = NULL;
	rc = post(&conn, path, json_object_to_json_string(req), &st, &answer);
	json_object_put(req);
	if (rc)
		return rc;
	/* Falls back to the reference's routes (pct set) when there is no daemon behind this API
	 * (503 no_daemon), the API has no /api/v1 (the reference's: 404 without our error
	 * word), or the daemon does not run the container (404 not_managed: stopped, ignored). */
	char code[48];
	cli_error_code(answer, code, sizeof(code));
	bool fallback = (st == 503 && (!strcmp(code, "no_daemon") || !code[0])) ||
			(st == 404 && (!strcmp(code, "not_managed") || !code[0]));
	if (!fallback) {
		rc = cli_status_to_exit(st, answer, "");
		if (rc == CLI_OK)
			rc = print_scale_outcome(id, answer, conn.json);
		free(answer);
		return rc;
	}
	free(answer);
	if (!persist) {
		fprintf(stderr, "lxcscale scale: the daemon is not managing container %u, and without it "
				"--no-persist is impossible (pct set persists)\n", id);
		return CLI_NO_DAEMON;
	}
	if (cores && c != floor(c)) {
		fprintf(stderr, "lxcscale scale: fractional cores need the daemon (pct set takes whole cores)\n");
		return CLI_NO_DAEMON;
	}
	char body[128];
	if (cores) {
		snprintf(body, sizeof(body), "{\"lxc_id\":%u,\"cores\":%.0f}", id, c);
		if ((rc = post_reference(&conn, "/scale/cores", body)))
			return rc;
	}
	if (memory) {
		snprintf(body, sizeof(body), "{\"lxc_id\":%u,\"memory\":%ld}", id, m);
		rc = post_reference(&conn, "/scale/ram", body);
	}
	return rc;
}

/* ---- undo ---- */

/* Whether a decision changed anything (an outcome that wrote or persisted). */
static bool decision_took(json_object *d)
{
	const char *o = cli_jstr(d, "outcome");
	return !strcmp(o, "applied") || !strcmp(o, "shrinking") || !strcmp(o, "persist-only");
}

static bool changes(json_object *d, const char *what) /* "cpu" or "memory" */
{
	char key[32];
	snprintf(key, sizeof(key), "%s.change", what);
	const char *c = cli_jstr(d, key);
	return *c && strcmp(c, "none") != 0;
}

/* "30s", "10m", "2h", "1d" ago, or local "YYYY-MM-DD HH:MM[:SS]" / "YYYY-MM-DDTHH:MM[:SS]". */
static bool parse_since(const char *s, double *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (end != s && v >= 0 && end[0] && !end[1] && strchr("smhd", end[0])) {
		double mult = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
		*ms = ((double)time(NULL) - v * mult) * 1000.0;
		return true;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int n = sscanf(s, "%d-%d-%d%*[ T]%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		       &tm.tm_min, &tm.tm_sec);
	if (n < 5)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*ms = (double)t * 1000.0;
	return true;
}

int cli_undo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"container", required_argument, NULL, 'c'},
		{"since", required_argument, NULL, 's'},
		CLI_COMMON_OPTS,
		{NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *ct_arg = NULL, *since_arg = NULL;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, o, optarg))
			continue;
		switch (o) {
		case 'c': ct_arg = optarg; break;
		case 's': since_arg = optarg; break;
		case 'h':
			printf("usage: lxcscale undo SEQ [options]\n"
			       "       lxcscale undo --container ID [--since TIME] [options]\n"
			       "Puts a container back to its limits before a decision (SEQ), before its\n"
			       "decisions since TIME, or before its last one, as a new manual decision\n"
			       "(journalled, written, persisted). Refused when the container's limits\n"
			       "changed since (a later decision, or by hand).\n"
			       "  --container ID   the container (without SEQ: its last decision)\n"
			       "  --since TIME     its decisions since TIME: 30s, 10m, 2h, 1d ago, or local\n"
			       "                   \"YYYY-MM-DD HH:MM[:SS]\"\n" CLI_COMMON_HELP);
			return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	unsigned long long seq = 0;
	unsigned vmid = 0;
	double since_ms = -1;
	if (optind < argc) {
		char *end;
		seq = strtoull(argv[optind], &end, 10);
		if (!*argv[optind] || *end || seq == 0 || ct_arg || since_arg) {
			fprintf(stderr, "lxcscale undo: give a decision seq, or --container ID [--since TIME]\n");
			return CLI_USAGE;
		}
	} else if (!ct_arg || !parse_id(ct_arg, &vmid)) {
		fprintf(stderr, "lxcscale undo: which decision? give its seq, or --container ID (100 to 999999)\n");
		return CLI_USAGE;
	}
	if (since_arg && !parse_since(since_arg, &since_ms)) {
		fprintf(stderr, "lxcscale undo: --since wants 30s, 10m, 2h, 1d or \"YYYY-MM-DD HH:MM\", not '%s'\n",
			since_arg);
		return CLI_USAGE;
	}
	struct cli_conn conn;
	json_object *all;
	char *raw = NULL;
	int rc = connect_get_json(&com, &conn, "/api/v1/decisions?since=0&limit=1000&newest=true", &all, &raw);
	if (rc)
		return rc;
	free(raw);
	json_object *arr = cli_jget(all, "decisions");
	size_t n = arr ? json_object_array_length(arr) : 0;
	/* the decisions to undo: [first, n) of this container's that changed something */
	json_object *first = NULL, *last = NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		if (seq && (unsigned long long)cli_jnum(d, "seq") == seq) {
			vmid = (unsigned)cli_jnum(d, "vmid");
			if (!decision_took(d)) {
				fprintf(stderr, "lxcscale undo: decision %llu changed nothing (outcome %s): nothing to undo\n",
					seq, cli_jstr(d, "outcome"));
				json_object_put(all);
				return CLI_NOT_APPLIED;
			}
			first = last = d;
		} else if (vmid && (unsigned)cli_jnum(d, "vmid") == vmid && decision_took(d)) {
			if (seq) {
				/* a later decision of the same container on the same limit */
				if (first && ((changes(first, "cpu") && changes(d, "cpu")) ||
					      (changes(first, "memory") && changes(d, "memory")))) {
					fprintf(stderr, "lxcscale undo: container %u changed since decision %llu "
							"(decision %.0f: %s); undo that one first\n",
						vmid, seq, cli_jnum(d, "seq"), cli_jstr(d, "detail"));
					json_object_put(all);
					return CLI_NOT_APPLIED;
				}
			} else if (since_ms < 0) { /* without --since: its last decision */
				first = last = d;
			} else if (cli_jnum(d, "time_ms") >= since_ms) { /* all of them since then */
				if (!first)
					first = d;
				last = d;
			}
		}
	}
	if (!first) {
		if (seq)
			fprintf(stderr, "lxcscale undo: no decision %llu (the daemon keeps the newest 1024)\n", seq);
		else
			fprintf(stderr, "lxcscale undo: container %u has no decision%s that changed something\n", vmid,
				since_arg ? " since then" : "");
		json_object_put(all);
		return CLI_NOT_FOUND;
	}
	/* the container must still hold what the last decision set */
	char path[96];
	snprintf(path, sizeof(path), "/api/v1/containers/%u", vmid);
	json_object *c;
	rc = cli_get_json(&conn, path, &c, &raw);
	if (rc) {
		json_object_put(all);
		return rc;
	}
	free(raw);
	bool cpu = changes(first, "cpu") || changes(last, "cpu");
	bool mem = changes(first, "memory") || changes(last, "memory");
	double cur_cores = cli_jnum(c, "limits.cores"), cur_mem = cli_jnum(c, "limits.memory_mb");
	if ((changes(last, "cpu") && fabs(cur_cores - cli_jnum(last, "cpu.to")) > 0.005) ||
	    (changes(last, "memory") && fabs(cur_mem - cli_jnum(last, "memory.to_mb")) > 0.5)) {
		fprintf(stderr, "lxcscale undo: container %u changed since decision %.0f (it has %g cores, %.0f MiB; "
				"the decision set %g cores, %.0f MiB): refused\n",
			vmid, cli_jnum(last, "seq"), cur_cores, cur_mem, cli_jnum(last, "cpu.to"),
			cli_jnum(last, "memory.to_mb"));
		json_object_put(c);
		json_object_put(all);
		return CLI_NOT_APPLIED;
	}
	json_object_put(c);
	json_object *req = json_object_new_object();
	if (cpu)
		json_object_object_add(req, "cores", json_object_new_double(cli_jnum(first, "cpu.from")));
	if (mem)
		json_object_object_add(req, "memory_mb", json_object_new_int64((int64_t)cli_jnum(first, "memory.from_mb")));
	char note[64];
	if (first == last)
		snprintf(note, sizeof(note), "undo of decision %.0f", cli_jnum(first, "seq"));
	else
		snprintf(note, sizeof(note), "undo of decisions %.0f..%.0f", cli_jnum(first, "seq"), cli_jnum(last, "seq"));
	json_object_object_add(req, "note", json_object_new_string(note));
	json_object_put(all);
	snprintf(path, sizeof(path), "/api/v1/containers/%u/limits", vmid);
	long st;
	char *answer = NULL;
	rc = post(&conn, path, json_object_to_json_string(req), &st, &answer);
	json_object_put(req);
	if (rc)
		return rc;
	rc = cli_status_to_exit(st, answer, "");
	if (rc == CLI_OK) {
		if (!conn.json)
			printf("%s:\n", note);
		rc = print_scale_outcome(vmid, answer, conn.json);
	}
	free(answer);
	return rc;
}

/* ---- decisions ---- */

/* Characters, not bytes, as a terminal shows them: "→" is 3 bytes and one column. */
static int display_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void print_padded(const char *s, int width)
{
	fputs(s, stdout);
	for (int w = display_width(s); w < width; w++)
		putchar(' ');
}

/* text wrapped at word boundaries to `cols`, each line indented by `indent` spaces */
static void print_wrapped(const char *text, int indent, int cols)
{
	const char *p = text;
	while (*p) {
		int room = cols - indent;
		const char *end = p, *cut = NULL;
		for (int w = 0; *end && w < room; end++) {
			if (*end == ' ')
				cut = end;
			w += ((unsigned char)*end & 0xC0) != 0x80;
		}
		if (*end && cut && cut > p)
			end = cut; /* break at the last space that fits */
		printf("%*s%.*s\n", indent, "", (int)(end - p), p);
		p = end;
		while (*p == ' ')
			p++;
	}
}

#define DECISION_COLS "%-8s %-19s %-7s %-34s %-13s %s\n"

static void print_decision(json_object *d)
{
	time_t t = (time_t)(cli_jnum(d, "time_ms") / 1000);
	struct tm tm;
	char ts[32], what[96], seq[24], vmid[16], conf[16];
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%F %T", &tm);
	cli_decision_summary(d, what, sizeof(what));
	snprintf(seq, sizeof(seq), "%.0f", cli_jnum(d, "seq"));
	snprintf(vmid, sizeof(vmid), "%.0f", cli_jnum(d, "vmid"));
	snprintf(conf, sizeof(conf), "%.1f", cli_jnum(d, "confidence"));
	const char *outcome = *cli_jstr(d, "outcome") ? cli_jstr(d, "outcome") : "-";
	print_padded(seq, 8);
	putchar(' ');
	print_padded(ts, 19);
	putchar(' ');
	print_padded(vmid, 7);
	putchar(' ');
	print_padded(what, 34);
	putchar(' ');
	print_padded(outcome, 13);
	printf(" %s\n", conf);
	if (*cli_jstr(d, "detail"))
		print_wrapped(cli_jstr(d, "detail"), 9, 100);
}

static bool on_event(const char *event, const char *data, void *arg)
{
	bool json = *(bool *)arg;
	if (strcmp(event, "decision") != 0)
		return true;
	if (json) {
		printf("%s\n", data);
	} else {
		json_object *o = json_tokener_parse(data);
		if (o)
			print_decision(cli_jget(o, "decision"));
		json_object_put(o);
	}
	fflush(stdout);
	return true;
}

int cli_decisions(int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'},
		{"limit", required_argument, NULL, 'l'},
		{"follow", no_argument, NULL, 'f'},
		CLI_COMMON_OPTS,
		{NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	unsigned long long since = 0;
	long limit = 100;
	bool follow = false;
	int o;
	char *end;
	optind = 1;
	while ((o = getopt_long(argc, argv, "s:l:fh", opts, NULL)) != -1) {
		if (cli_common_opt(&com, o, optarg))
			continue;
		switch (o) {
		case 's':
			since = strtoull(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-') {
				fprintf(stderr, "lxcscale decisions: --since wants a decision seq (0 or more), not '%s'\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (!*optarg || *end || limit < 1 || limit > 1000) {
				fprintf(stderr, "lxcscale decisions: --limit wants a number from 1 to 1000, not '%s'\n", optarg);
				return CLI_USAGE;
			}
			break;
		case 'f': follow = true; break;
		case 'h':
			printf("usage: lxcscale decisions [--since SEQ] [--limit N] [--follow] [options]\n"
			       "The daemon's newest decisions (after SEQ), printed oldest first, each with\n"
			       "its outcome and, below it, its full reason; --follow then streams new ones.\n"
			       "  --since SEQ      only decisions after this seq\n"
			       "  --limit N        the newest N (1 to 1000, default 100)\n"
			       "  --follow         keep printing new decisions as they come (Ctrl-C ends)\n"
			       CLI_COMMON_HELP);
			return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	char path[96];
	snprintf(path, sizeof(path), "/api/v1/decisions?since=%llu&limit=%ld&newest=true", since, limit);
	struct cli_conn conn;
	json_object *j;
	char *raw = NULL;
	int rc = connect_get_json(&com, &conn, path, &j, &raw);
	if (rc)
		return rc;
	json_object *arr = cli_jget(j, "decisions");
	if (conn.json) {
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
			printf("%s\n", json_object_to_json_string_ext(json_object_array_get_idx(arr, i),
								      JSON_C_TO_STRING_PLAIN));
	} else {
		printf(DECISION_COLS, "SEQ", "TIME", "VMID", "CHANGE (REASON)", "OUTCOME", "CONFIDENCE");
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
			print_decision(json_object_array_get_idx(arr, i));
	}
	free(raw);
	json_object_put(j);
	fflush(stdout);
	if (!follow)
		return CLI_OK;
	char err[512] = "";
	long st = cli_sse(&conn, "/api/v1/events", on_event, &conn.json, err, sizeof(err));
	if (st != 200)
		return cli_status_to_exit(st, NULL, err);
	return CLI_OK;
}

int cli_model_show(int argc, char **argv)
{
	struct cli_common com = {0};
	int rc = parse_common_only(argc, argv, &com,
				   "usage: lxcscale model [show] [options]\n"
				   "The running model: trees, sample size, window, last rebuild and the\n"
				   "features with their importances.\n" CLI_COMMON_HELP);
	if (rc >= 0)
		return rc;
	if (optind < argc && strcmp(argv[optind], "show") != 0) {
		fprintf(stderr, "lxcscale model: unknown subcommand '%s' (show)\n", argv[optind]);
		return CLI_USAGE;
	}
	struct cli_conn conn;
	json_object *j;
	char *raw = NULL;
	rc = connect_get_json(&com, &conn, "/api/v1/model", &j, &raw);
	if (rc)
		return rc;
	if (conn.json) {
		printf("%s\n", raw);
	} else {
		time_t t = (time_t)(cli_jnum(j, "last_rebuild_ms") / 1000);
		char ts[32] = "never";
		if (t > 0)
			strftime(ts, sizeof(ts), "%F %T", localtime(&t));
		char why[128] = "";
		double cw = cli_jnum(j, "model_window");
		bool per_ct = json_object_get_boolean(cli_jget(j, "per_container"));
		if (cw > 0 && !per_ct && cli_jnum(j, "window") != cw)
			snprintf(why, sizeof(why), " (one model for the whole host: 8 x model.window %.0f)", cw);
		else if (cw > 0)
			snprintf(why, sizeof(why), " (model.window, per container)");
		printf("trained: %s\ntrees: %.0f  sample size: %.0f  contamination: %g\n"
		       "window: %.0f feature vectors%s\n"
		       "samples seen: %.0f  rebuilds: %.0f  last rebuild: %s (%.1f ms)\n\n",
		       json_object_get_boolean(cli_jget(j, "trained")) ? "yes" : "no", cli_jnum(j, "trees"),
		       cli_jnum(j, "sample_size"), cli_jnum(j, "contamination"), cli_jnum(j, "window"), why,
		       cli_jnum(j, "samples_seen"), cli_jnum(j, "rebuilds"), ts, cli_jnum(j, "last_rebuild_duration_ms"));
		printf("  %-32s %6s  %s\n", "FEATURE", "SHARE", "(of what isolates a sample: importances sum to 1)");
		json_object *f = cli_jget(j, "features");
		for (size_t i = 0; f && i < json_object_array_length(f); i++) {
			json_object *x = json_object_array_get_idx(f, i);
			double imp = cli_jnum(x, "importance");
			int bar = isfinite(imp) ? (int)(imp * 40 + 0.5) : 0;
			printf("  %-32s %6.3f %.*s\n", cli_jstr(x, "name"), imp, bar,
			       "########################################");
		}
	}
	free(raw);
	json_object_put(j);
	return CLI_OK;
}

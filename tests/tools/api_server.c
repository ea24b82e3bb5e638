/*
 * api_server.c — runs the real API server (api/) with no daemon attached, configured from
 * the command line, so integration tests can talk to it over real HTTP with curl. It
 * writes the bound port to --port-file once listening and stops cleanly on SIGTERM/SIGINT.
 *
 *   api_server [--host ADDR] [--port N] [--port-file F] [--key K]... [--auth]
 *              [--rate MAX/WINDOW] [--no-rate] [--max-clients N] [--max-body N]
 *              [--timeout S] [--node NAME] [--pct PATH] [--pvesh PATH] [--pvecm PATH]
 *              [--host-cpus N] [--stack-traces] [--tls-cert F --tls-key F] [--verbose]
 *              [--max-conns N] [--per-ip N] [--fake-daemon LOG [--fake-daemon-rc ERRNO]]
 *
 * --fake-daemon attaches a stand-in for the daemon's apply_limits only (every other
 * backend function stays NULL): a container whose $PCT_STAND_IN_DIR/<id>.state says
 * "running" is "run by the daemon", any other is not (-ENOENT, so the API uses pct). It
 * answers as the daemon's manual_apply does: cores beyond --host-cpus are refused, or, with
 * clamp_to_host, given the host's CPUs and not persisted. Each call appends one line to LOG:
 *   vmid=104 cores=16 memory=0 persist=0 clamp=1 -> cgroup=8 rc=0
 * --fake-daemon-rc makes every call for a running container fail with -ERRNO after that
 * (e.g. 95, EOPNOTSUPP: a host without a cpu controller), the decision still filled in.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"

struct fake {
	const char *log;
	int rc;            /* 0 or a positive errno */
	unsigned host_cpus;
};

static bool fake_running(uint32_t vmid)
{
	const char *dir = getenv("PCT_STAND_IN_DIR");
	char path[4096], state[32] = "";
	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/%u.state", dir, vmid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool running = fgets(state, sizeof(state), f) && !strncmp(state, "running", 7);
	fclose(f);
	return running;
}

static int fake_apply(void *ctx, const struct api_limits_request *rq, struct decision *out, char *err,
		      size_t errlen)
{
	struct fake *fk = ctx;
	int rc = 0;
	double cgroup = rq->cores;
	bool persist = rq->persist;
	if (!fake_running(rq->vmid)) {
		snprintf(err, errlen, "container %u is not running under the daemon", rq->vmid);
		rc = -ENOENT;
	} else if (rq->set_cores && rq->cores > fk->host_cpus && !rq->clamp_to_host) {
		snprintf(err, errlen, "cores must be between 0.01 and %u (this host's CPUs)", fk->host_cpus);
		rc = -EINVAL;
	} else {
		if (rq->set_cores && rq->cores > fk->host_cpus) {
			cgroup = fk->host_cpus;
			persist = false;
		}
		memset(out, 0, sizeof(*out));
		out->seq = 1;
		out->vmid = rq->vmid;
		out->reason = REASON_MANUAL;
		out->persist = persist;
		if (rq->set_cores) {
			out->cpu_change = DECISION_SET;
			out->cpu_to = cgroup;
		}
		if (rq->set_memory) {
			out->mem_change = DECISION_SET;
			out->mem_to_mb = rq->memory_mb;
		}
		snprintf(out->outcome, sizeof(out->outcome), "%s", fk->rc ? "failed" : "applied");
		out->enforced = !fk->rc;
		if (fk->rc) {
			snprintf(err, errlen, "failed: cpu.max: the cgroup write failed: no cpu controller here");
			rc = -fk->rc;
		}
	}
	FILE *f = fopen(fk->log, "a");
	if (f) {
		fprintf(f, "vmid=%u cores=%g memory=%llu persist=%d clamp=%d -> cgroup=%g rc=%d\n", rq->vmid,
			rq->set_cores ? rq->cores : 0, (unsigned long long)(rq->set_memory ? rq->memory_mb : 0),
			persist, rq->clamp_to_host, rq->set_cores ? cgroup : 0, rc);
		fclose(f);
	}
	return rc;
}

static int verbose;

static void log_fn(void *arg, enum api_log_level lvl, const char *msg)
{
	(void)arg;
	static const char *const names[] = {"error", "warning", "info", "debug"};
	if (lvl <= API_LOG_INFO || verbose)
		fprintf(stderr, "api %s: %s\n", names[lvl], msg);
}

int main(int argc, char **argv)
{
	struct api_settings s;
	api_settings_defaults(&s);
	s.port = 0;
	s.log = log_fn;
	const char *port_file = NULL;
	const char *keys[16];
	size_t nkeys = 0;
	struct fake fk = {0};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
		if (ARG("--host")) s.host = v;
		else if (ARG("--port")) s.port = (uint16_t)atoi(v);
		else if (ARG("--port-file")) port_file = v;
		else if (ARG("--key")) { if (nkeys < 16) keys[nkeys++] = v; }
		else if (!strcmp(a, "--auth")) s.auth_enabled = true;
		else if (ARG("--rate")) {
			unsigned m, w;
			if (sscanf(v, "%u/%u", &m, &w) != 2) { fprintf(stderr, "bad --rate\n"); return 2; }
			s.rate_limit_max = m;
			s.rate_limit_window_s = w;
		}
		else if (!strcmp(a, "--no-rate")) s.rate_limit_enabled = false;
		else if (ARG("--max-clients")) s.rate_limit_max_clients = (size_t)atol(v);
		else if (ARG("--max-body")) s.max_body_bytes = (size_t)atol(v);
		else if (ARG("--timeout")) s.lxc_timeout_s = (unsigned)atoi(v);
		else if (ARG("--conn-timeout")) s.connection_timeout_s = (unsigned)atoi(v);
		else if (ARG("--node")) s.lxc_node = v;
		else if (ARG("--pct")) s.pct_path = v;
		else if (ARG("--pvesh")) s.pvesh_path = v;
		else if (ARG("--pvecm")) s.pvecm_path = v;
		else if (ARG("--host-cpus")) s.host_cpus = (unsigned)atoi(v);
		else if (ARG("--health-cache")) s.health_cache_s = (unsigned)atoi(v);
		else if (!strcmp(a, "--stack-traces")) s.show_stack_traces = true;
		else if (!strcmp(a, "--no-ui")) s.ui_enabled = false;
		else if (ARG("--tls-cert")) s.tls_cert_file = v;
		else if (ARG("--tls-key")) s.tls_key_file = v;
		else if (!strcmp(a, "--verbose")) verbose = 1;
		else if (ARG("--max-conns")) s.max_connections = (unsigned)atoi(v);
		else if (ARG("--per-ip")) s.per_ip_connections = (unsigned)atoi(v);
		else if (ARG("--fake-daemon")) fk.log = v;
		else if (ARG("--fake-daemon-rc")) fk.rc = atoi(v);
		else { fprintf(stderr, "api_server: unknown argument %s\n", a); return 2; }
#undef ARG
	}
	s.api_keys = keys;
	s.n_api_keys = nkeys;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's threads inherit the mask */

	char err[256];
	fk.host_cpus = s.host_cpus ? s.host_cpus : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	struct api_backend be = {.ctx = &fk, .apply_limits = fake_apply};
	struct api_server *srv = api_start(&s, fk.log ? &be : NULL, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "api_server: %s\n", err);
		return 1;
	}
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", api_port(srv)) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
			fprintf(stderr, "api_server: cannot write %s\n", port_file);
			api_stop(srv);
			return 1;
		}
	}
	int sig;
	sigwait(&set, &sig);
	api_stop(srv);
	return 0;
}

/*
 * api_server.c — runs the real API server (api/) with no daemon attached, configured from
 * the command line, so integration tests can talk to it over real HTTP with curl. It
 * writes the bound port to --port-file once listening and stops cleanly on SIGTERM/SIGINT.
 *
 *   api_server [--host ADDR] [--port N] [--port-file F] [--key K]... [--auth]
 *              [--rate MAX/WINDOW] [--no-rate] [--max-clients N] [--max-body N]
 *              [--timeout S] [--node NAME] [--pct PATH] [--pvesh PATH] [--pvecm PATH]
 *              [--host-cpus N] [--stack-traces] [--tls-cert F --tls-key F] [--verbose]
 *              [--max-conns N] [--per-ip N]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"

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
	struct api_server *srv = api_start(&s, NULL, err, sizeof(err));
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

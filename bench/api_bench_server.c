/*
 * api_bench_server.c — the real API server with a stand-in daemon backend holding N
 * containers (default 100), for bench/api.sh only: the daemon has not landed on main yet,
 * and GET /api/v1/containers needs something to list. The backend answers from a fixed
 * table (filled like a busy host: limits, usage, pressure, a last decision each), so the
 * figures measure the API (HTTP, routing, JSON encoding), not the daemon.
 *
 *   api_bench_server --port-file F [--containers N] [--pct PATH] [--cache 0|1]
 *
 * --cache 1 (default) gives the backend a generation that moves every 100 ms, like the
 * daemon's sampling tick, so the API re-encodes the list at most 10 times a second.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "api.h"

static struct ct_snapshot *table;
static size_t n_table = 100;

/* One "tick" per 100 ms, like the daemon's default sampling interval. */
static uint64_t generation(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 10 + (uint64_t)ts.tv_nsec / 100000000;
}

static int list_containers(void *ctx, struct ct_snapshot **out, size_t *n)
{
	(void)ctx;
	*out = malloc(n_table * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	memcpy(*out, table, n_table * sizeof(**out));
	*n = n_table;
	return 0;
}

int main(int argc, char **argv)
{
	const char *port_file = NULL, *pct = NULL;
	int cache = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file")) port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--containers")) n_table = (size_t)atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--pct")) pct = argv[i + 1];
		else if (!strcmp(argv[i], "--cache")) cache = atoi(argv[i + 1]);
	}
	table = calloc(n_table, sizeof(*table));
	for (size_t i = 0; i < n_table; i++) {
		struct ct_snapshot *c = &table[i];
		c->vmid = 100 + (uint32_t)i;
		snprintf(c->name, sizeof(c->name), "ct-%zu.example", i);
		c->running = true;
		c->updated_ms = 1795450000000LL + (int64_t)i;
		c->cores = 1 + (double)(i % 8);
		c->memory_mb = 512u << (i % 5);
		c->cpu_pct = (double)(i * 7 % 100) + 0.25;
		c->memory_used_mb = c->memory_mb / 3;
		c->mem_pct = 33.3;
		c->cpu_psi_some_avg10 = 1.5;
		c->mem_psi_some_avg10 = 0.25;
		c->anomaly_score = -0.42;
		c->has_last_decision = true;
		c->last_decision.seq = i;
		c->last_decision.vmid = c->vmid;
		c->last_decision.cpu_change = 1;
		c->last_decision.cpu_from = c->cores - 1;
		c->last_decision.cpu_to = c->cores;
		c->last_decision.confidence = 87.5;
		snprintf(c->last_decision.top[0].name, sizeof(c->last_decision.top[0].name), "cpu_usage_percent");
		c->last_decision.top[0].share = 0.6;
	}
	struct api_settings s;
	api_settings_defaults(&s);
	s.port = 0;
	s.pct_path = pct;
	s.host_cpus = 8;
	s.lxc_node = "pve";
	s.max_connections = 512;
	s.per_ip_connections = 0;
	struct api_backend b = {.list_containers = list_containers,
				.containers_generation = cache ? generation : NULL};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	char err[256];
	struct api_server *srv = api_start(&s, &b, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (port_file) {
		FILE *f = fopen(port_file, "w");
		if (f) {
			fprintf(f, "%u\n", api_port(srv));
			fclose(f);
		}
	}
	int sig;
	sigwait(&set, &sig);
	api_stop(srv);
	free(table);
	return 0;
}

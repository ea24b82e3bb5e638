/*
 * api.c — libFuzzer target for the REST API: raw HTTP requests into the real server.
 *
 * Each input is the bytes a client sends on one connection (request line, headers, body;
 * possibly several pipelined requests). The harness starts two real servers at init with
 * api_start() — one with authentication on and a non-loopback client so the rate limiter
 * and the key check run, one with auth off and detailed 500 messages — and hands each input
 * to one of them over a socketpair with MHD_add_connection(): libmicrohttpd parses it and
 * the request goes through the same on_request → dispatch → rate limit → auth → route
 * handler → response path as a request from the network. Nothing is short-circuited.
 *
 * The first input byte picks the server and the client address; the rest is sent, the
 * write side is shut down, and the harness reads the answer to the end. It then waits
 * until the server has no connection left, so every per-request allocation is freed
 * before LeakSanitizer looks.
 *
 * Only what would change the machine is replaced: the daemon backend (struct api_backend)
 * is a small in-memory fake that checks its arguments like the daemon does (vmid range,
 * finite positive values) and answers from a fixed table; `pct`, `pvesh` and `pvecm` are
 * the test stand-in from build/tests/tools/pct ($LXCSCALE_FUZZ_PCT) acting on a temporary
 * folder of container configs, or, when that is not set, a path that does not exist (the
 * handlers' failure paths). The SSE route has no subscribe function here, so it answers
 * 503 instead of streaming forever.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "internal.h"

/* ---- the fake daemon ------------------------------------------------------------------- */

#define FAKE_FIRST 101
#define FAKE_COUNT 4

static void fake_container(uint32_t vmid, struct ct_snapshot *c)
{
	memset(c, 0, sizeof(*c));
	c->vmid = vmid;
	snprintf(c->name, sizeof(c->name), "ct%u", vmid);
	c->running = vmid % 2;
	c->updated_ms = 1700000000000LL;
	c->cores = 1 + vmid % 4;
	c->memory_mb = 512u << (vmid % 3);
	c->cpu_pct = 12.5 * (vmid % 8);
	c->memory_used_mb = c->memory_mb / 3;
	c->mem_pct = 33.3;
	c->cpu_psi_some_avg10 = 0.5;
	c->anomaly_score = -0.4;
	c->anomaly = vmid == 103;
	c->has_last_decision = vmid != 104;
	c->last_decision.seq = vmid;
	c->last_decision.vmid = vmid;
	c->last_decision.reason = (enum decision_reason)(vmid % 6);
	c->last_decision.cpu_change = (enum decision_change)(vmid % 4);
	snprintf(c->last_decision.top[0].name, DECISION_FEATURE_NAME_MAX, "cpu_pct");
	c->last_decision.top[0].share = 0.7;
}

static int fake_list(void *ctx, struct ct_snapshot **out, size_t *n)
{
	(void)ctx;
	*out = calloc(FAKE_COUNT, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (int i = 0; i < FAKE_COUNT; i++)
		fake_container(FAKE_FIRST + (uint32_t)i, &(*out)[i]);
	*n = FAKE_COUNT;
	return 0;
}

static int fake_get(void *ctx, uint32_t vmid, struct ct_snapshot *out,
		    struct history_point **history, size_t *n_history)
{
	(void)ctx;
	if (vmid < FAKE_FIRST || vmid >= FAKE_FIRST + FAKE_COUNT)
		return -ENOENT;
	fake_container(vmid, out);
	size_t n = vmid - FAKE_FIRST + 1;
	*history = calloc(n, sizeof(**history));
	if (!*history)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		(*history)[i].time_ms = 1700000000000LL + (int64_t)i * 100;
		(*history)[i].cores = out->cores;
		(*history)[i].memory_mb = out->memory_mb;
		(*history)[i].anomaly_score = -0.5 + 0.01 * (double)i;
	}
	*n_history = n;
	return 0;
}

static int fake_apply(void *ctx, const struct api_limits_request *req, struct decision *applied,
		      char *err, size_t errlen)
{
	(void)ctx;
	if (req->vmid < 100 || req->vmid > 999999) {
		snprintf(err, errlen, "vmid %u out of range", req->vmid);
		return -EINVAL;
	}
	if (req->vmid == 199)
		return -EBUSY;
	if (req->vmid == 198)
		return -EIO;
	if (req->vmid < FAKE_FIRST || req->vmid >= FAKE_FIRST + FAKE_COUNT)
		return -ENOENT;
	if ((req->set_cores && !(isfinite(req->cores) && req->cores > 0)) ||
	    (req->set_memory && req->memory_mb == 0)) {
		snprintf(err, errlen, "limits must be positive");
		return -EINVAL;
	}
	memset(applied, 0, sizeof(*applied));
	applied->vmid = req->vmid;
	applied->reason = REASON_MANUAL;
	applied->persist = req->persist;
	if (req->set_cores) {
		applied->cpu_change = DECISION_SET;
		applied->cpu_to = req->cores;
	}
	if (req->set_memory) {
		applied->mem_change = DECISION_SET;
		applied->mem_to_mb = req->memory_mb;
	}
	return 0;
}

static int fake_decisions(void *ctx, uint64_t since, size_t max, struct decision **out, size_t *n)
{
	(void)ctx;
	size_t have = since < 5 ? (size_t)(5 - since) : 0;
	if (have > max)
		have = max;
	*out = calloc(have ? have : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < have; i++) {
		(*out)[i].seq = since + 1 + i;
		(*out)[i].vmid = FAKE_FIRST + (uint32_t)i % FAKE_COUNT;
		(*out)[i].mem_change = DECISION_UP;
		(*out)[i].mem_to_mb = 1024;
	}
	*n = have;
	return 0;
}

static int fake_model(void *ctx, struct api_model_info *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->trained = true;
	out->n_features = 3;
	snprintf(out->feature_names[0], DECISION_FEATURE_NAME_MAX, "cpu_pct");
	snprintf(out->feature_names[1], DECISION_FEATURE_NAME_MAX, "mem_pct");
	snprintf(out->feature_names[2], DECISION_FEATURE_NAME_MAX, "cpu_psi");
	out->feature_importance[0] = 0.5;
	out->feature_importance[1] = 0.3;
	out->feature_importance[2] = 0.2;
	out->trees = 100;
	out->sample_size = 256;
	out->window = 4096;
	out->contamination = 0.05;
	return 0;
}

static void fake_metrics(void *ctx, FILE *out)
{
	(void)ctx;
	fputs("# HELP lxcscale_fuzz_up 1\n# TYPE lxcscale_fuzz_up gauge\nlxcscale_fuzz_up 1\n", out);
}

/* ---- servers ----------------------------------------------------------------------------- */

static struct api_server *servers[2];
static const char *const keys[] = {"fuzz-key-0123456789", "second-key"};

static void quiet(void *arg, enum api_log_level lvl, const char *msg)
{
	(void)arg;
	(void)lvl;
	(void)msg;
}

static char stand_in_dir[] = "/tmp/lxcscale-fuzz-api-XXXXXX";

static void write_conf(unsigned vmid, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%u.conf", stand_in_dir, vmid);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void cleanup_dir(void)
{
	char cmd[256];
	/* our own mkdtemp folder: remove its files one by one (no shell) */
	for (unsigned v = 100; v < 1000; v++) {
		snprintf(cmd, sizeof(cmd), "%s/%u.conf", stand_in_dir, v);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/%u.state", stand_in_dir, v);
		unlink(cmd);
	}
	snprintf(cmd, sizeof(cmd), "%s/.pct.lock", stand_in_dir);
	unlink(cmd);
	rmdir(stand_in_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *pct = getenv("LXCSCALE_FUZZ_PCT");
	if (pct && *pct && mkdtemp(stand_in_dir)) {
		setenv("PCT_STAND_IN_DIR", stand_in_dir, 1);
		write_conf(101, "arch: amd64\ncores: 2\nhostname: web\nmemory: 1024\n"
				"rootfs: local-lvm:vm-101-disk-0,size=8G\nswap: 512\n");
		write_conf(102, "arch: amd64\ncores: 1\nhostname: db\nlock: backup\nmemory: 2048\n"
				"rootfs: local:102/vm-102-disk-0.raw,size=512M\n");
		atexit(cleanup_dir);
	} else {
		pct = "/nonexistent/lxcscale-fuzz/pct";
	}

	static struct api_backend be = {
		.list_containers = fake_list,
		.get_container = fake_get,
		.apply_limits = fake_apply,
		.list_decisions = fake_decisions,
		.model_info = fake_model,
		.write_metrics = fake_metrics,
	};
	for (int i = 0; i < 2; i++) {
		struct api_settings s;
		api_settings_defaults(&s);
		s.host = "127.0.0.1";
		s.port = 0;
		s.log = quiet;
		s.pct_path = s.pvesh_path = s.pvecm_path = pct;
		s.lxc_timeout_s = 5;
		s.lxc_node = "pve";
		s.host_cpus = 8;
		s.health_cache_s = 3600;
		s.max_body_bytes = 4096;
		s.connection_timeout_s = 5;
		if (i == 0) {
			s.auth_enabled = true;
			s.api_keys = keys;
			s.n_api_keys = 2;
			s.rate_limit_max = 1000000; /* the limiter runs; the fuzzer is not locked out */
			s.rate_limit_max_clients = 64;
		} else {
			s.show_stack_traces = true;
			s.rate_limit_enabled = false;
		}
		char err[256];
		servers[i] = api_start(&s, i == 0 ? &be : NULL, err, sizeof(err));
		if (!servers[i]) {
			fprintf(stderr, "fuzz api: api_start: %s\n", err);
			abort();
		}
	}
	return 0;
}

static unsigned connections(struct api_server *srv)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return di ? di->num_connections : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16384)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	struct api_server *srv = servers[mode & 1];

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* The client address the server sees: loopback (never rate limited) or one of a few
	 * documentation addresses (so the limiter's table fills and is bounded). */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
	if (mode & 2)
		a.sin_addr.s_addr = htonl(0xC6336400u | ((mode >> 2) & 0x3f)); /* 198.51.100.x */
	else
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(srv->mhd, sv[1], (struct sockaddr *)&a, sizeof(a)) != MHD_YES) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	/* Send everything (the server reads as we write), then say we are done. */
	size_t off = 0;
	char buf[65536];
	while (off < size) {
		ssize_t w = send(sv[0], data + off, size - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(sv[0], SHUT_WR);
	/* Read the answer(s) until the server closes. Its idle timeout (5 s) bounds this
	 * when it waits for a body that never comes. */
	for (;;) {
		struct pollfd p = {sv[0], POLLIN, 0};
		int pr = poll(&p, 1, 10000);
		if (pr <= 0)
			break;
		ssize_t r = recv(sv[0], buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
	}
	close(sv[0]);
	for (int i = 0; i < 2000 && connections(srv); i++) {
		struct timespec ts = {0, 500000};
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * cli/client.h — how the `lxcscale` subcommands talk to lxcscaled's REST API (libcurl).
 *
 * Where: --url, else $LXCSCALE_API_URL, else the config file (--config, default
 * /etc/lxcscale/lxcscale.yaml if it exists: server.host, server.port, https when
 * api.tls_cert is set), else http://127.0.0.1:5000. The key: --api-key, else
 * $LXCSCALE_API_KEY, else the config's first authentication.api_keys entry.
 *
 * Exit codes shared by the API commands (documented in `lxcscale <cmd> --help`, the README
 * and lxcscale(1)):
 *   0 success, 1 the API answered an error or cannot be reached (or is no lxcscale API),
 *   2 usage (also a 400 from the API), 3 no such container, 4 the daemon is not attached
 *   to the API, 5 not applied: dry run, refused (422), or kept in the config only because
 *   the cgroup write failed or cannot be done on this host.
 */
#ifndef LXCSCALE_CLI_HTTP_H
#define LXCSCALE_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_NOT_FOUND = 3, CLI_NO_DAEMON = 4, CLI_NOT_APPLIED = 5 };

struct cli_conn {
	char base[512];     /* "http://127.0.0.1:5000" */
	char key[256];
	const char *cacert; /* api.tls_cert: the daemon's self-signed certificate */
	char cacert_buf[512];
	long timeout_s;
	bool json;          /* --json: print the API's JSON as it is */
};

/* Common options every API command accepts, for getopt_long tables. */
#define CLI_COMMON_OPTS                                          \
	{"url", required_argument, NULL, 'U'},                   \
	{"api-key", required_argument, NULL, 'K'},               \
	{"config", required_argument, NULL, 'C'},                \
	{"json", no_argument, NULL, 'J'},                        \
	{"help", no_argument, NULL, 'h'}

#define CLI_COMMON_HELP                                                              \
	"  --url URL        API base URL (default: from the config, else http://127.0.0.1:5000)\n" \
	"  --api-key KEY    X-API-Key (default: $LXCSCALE_API_KEY, else the config's first key)\n" \
	"  --config FILE    lxcscale configuration to read the URL and key from\n"          \
	"  --json           print the API's JSON instead of a table\n"                       \
	"exit status: 0 ok, 1 API error or unreachable, 2 usage, 3 no such container,\n"     \
	"             4 the daemon is not attached to the API, 5 not applied (dry run,\n"   \
	"             refused, or config only: the cgroup write failed)\n"

struct cli_common {
	const char *url, *key, *config;
	bool json;
};

/* Handle one common option; returns true when `opt` was one of them. */
bool cli_common_opt(struct cli_common *c, int opt, const char *arg);
/* Resolve URL and key; returns CLI_OK or CLI_USAGE (message printed). */
int cli_conn_setup(struct cli_conn *conn, const struct cli_common *c);

/* One request. Returns the HTTP status, or -1 when no answer (message in err). *body is
 * malloc()ed (NUL-terminated) on any answer. */
long cli_request(const struct cli_conn *conn, const char *method, const char *path,
		 const char *json_body, char **body, char *err, size_t errlen);

/* Streams server-sent events from path; calls fn(event, data) per event until fn returns
 * false or the stream ends. Returns the HTTP status or -1. */
typedef bool (*cli_sse_fn)(const char *event, const char *data, void *arg);
long cli_sse(const struct cli_conn *conn, const char *path, cli_sse_fn fn, void *arg,
	     char *err, size_t errlen);

/* Map an HTTP answer to an exit code, printing the API's message for errors. */
int cli_status_to_exit(long status, const char *body, const char *err);
/* The "error" word of an API error body (api/openapi.yaml), copied into buf; NULL if none. */
const char *cli_error_code(const char *body, char *buf, size_t len);

#endif

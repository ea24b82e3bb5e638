/*
 * routes.c — the route table (one place lists every route, its rate-limit and auth
 * protection, like the reference's route-protection test demands) and the operational
 * routes: the HTML index, /routes, /metrics and /health/check.
 *
 * /routes is generated from the same table that dispatches requests, and
 * tests/integration/api_openapi.sh compares it with api/openapi.yaml, so the
 * documentation cannot drift from what is served. A reference route is listed under the
 * reference's Flask view name ("set_cores"; both /resource/lxc/status and its alias are
 * "check_lxc_status_route"), lxcscale's own (ROUTE_OWN: /api/v1, /ui) under its own name.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void route_scale_cores(struct req *r);
void route_scale_ram(struct req *r);
void route_storage_increase(struct req *r);
void route_snapshot_create(struct req *r);
void route_snapshot_list(struct req *r);
void route_snapshot_rollback(struct req *r);
void route_clone_create(struct req *r);
void route_clone_delete(struct req *r);
void route_lxc_status(struct req *r);
void route_lxc_config(struct req *r);
void route_node_status(struct req *r);
void route_cluster_status(struct req *r);
void route_v1_containers(struct req *r);
void route_v1_container(struct req *r);
void route_v1_limits(struct req *r);
void route_v1_decisions(struct req *r);
void route_v1_model(struct req *r);
void route_v1_host(struct req *r);

static void route_index(struct req *r);
static void route_routes(struct req *r);
static void route_metrics(struct req *r);
static void route_health(struct req *r);

#define RA (ROUTE_RL | ROUTE_AUTH)

/* RO: lxcscale's own routes; every other route is the reference's, under its Flask view name */
#define RO (RA | ROUTE_OWN)

const struct route api_routes[] = {
	{"GET", "/", "index", "home", 0, route_index, NULL, NULL, "This page"},
	{"POST", "/scale/cores", "scale_cores", "set_cores", RA | ROUTE_SCALE_CPU, route_scale_cores, NULL, NULL,
	 "Set CPU cores: {\"lxc_id\":104,\"cores\":4}"},
	{"POST", "/scale/ram", "scale_ram", "set_ram", RA | ROUTE_SCALE_RAM, route_scale_ram, NULL, NULL,
	 "Set memory in MB: {\"lxc_id\":104,\"memory\":4096}"},
	{"POST", "/scale/storage/increase", "increase_storage", "increase_storage", RA | ROUTE_SCALE_STORAGE,
	 route_storage_increase, NULL, NULL, "Grow rootfs by GB: {\"lxc_id\":104,\"disk_size\":2}"},
	{"POST", "/snapshot/create", "create_snapshot", "create_snapshot_route", RA, route_snapshot_create,
	 NULL, NULL, "Create a snapshot: {\"lxc_id\":104,\"snapshot_name\":\"s1\"}"},
	{"GET", "/snapshot/list", "list_snapshots", "list_snapshots_route", RA, route_snapshot_list, NULL, NULL,
	 "List snapshots: ?lxc_id=104"},
	{"POST", "/snapshot/rollback", "rollback_snapshot", "rollback_snapshot_route", RA,
	 route_snapshot_rollback, NULL, NULL, "Roll back: {\"lxc_id\":104,\"snapshot_name\":\"s1\"}"},
	{"POST", "/clone/create", "clone_container", "create_clone_route", RA, route_clone_create, NULL, NULL,
	 "Clone: {\"lxc_id\":104,\"new_lxc_id\":105,\"new_lxc_name\":\"copy\"}"},
	{"DELETE", "/clone/delete", "delete_container", "delete_clone_route", RA, route_clone_delete, NULL, NULL,
	 "Stop and destroy: {\"lxc_id\":105}"},
	{"GET", "/resource/lxc/status", "lxc_status", "check_lxc_status_route", RA, route_lxc_status, NULL, NULL,
	 "Container status: ?lxc_id=104"},
	{"GET", "/resource/vm/status", "vm_status", "check_lxc_status_route", RA, route_lxc_status, NULL, NULL,
	 "Alias of /resource/lxc/status"},
	{"GET", "/resource/lxc/config", "lxc_config", "get_lxc_config_route", RA, route_lxc_config, NULL, NULL,
	 "Cores and memory from the config: ?lxc_id=104"},
	{"GET", "/resource/vm/config", "vm_config", "get_lxc_config_route", RA, route_lxc_config, NULL, NULL,
	 "Alias of /resource/lxc/config"},
	{"GET", "/resource/node/status", "node_status", "check_node_status_route", RA, route_node_status, NULL,
	 NULL, "Node status: ?node_name=pve"},
	{"GET", "/resource/cluster/status", "cluster_status", "check_cluster_status_route", RA,
	 route_cluster_status, NULL, NULL, "Cluster status (pvecm status)"},
	{"GET", "/health/check", "health_check", "health_check_route", ROUTE_RL, route_health, NULL, NULL,
	 "Health: 200 healthy / 503 unhealthy"},
	{"GET", "/metrics", "metrics", "metrics_route", 0, route_metrics, NULL, NULL, "Prometheus metrics"},
	{"GET", "/routes", "list_routes", "list_routes", RA, route_routes, NULL, NULL, "This list as JSON"},
	{"GET", "/api/v1/containers", "v1_containers", NULL, RO, route_v1_containers, NULL, NULL,
	 "Containers: limits, usage, pressure, score, last decision"},
	{"GET", "/api/v1/containers/{id}", "v1_container", NULL, RO | ROUTE_PREFIX_ID, route_v1_container,
	 "/api/v1/containers/", "", "One container with recent history"},
	{"POST", "/api/v1/containers/{id}/limits", "v1_limits", NULL, RO | ROUTE_PREFIX_ID, route_v1_limits,
	 "/api/v1/containers/", "/limits", "Set limits: {\"cores\":2,\"memory_mb\":2048,\"persist\":true}"},
	{"GET", "/api/v1/decisions", "v1_decisions", NULL, RO, route_v1_decisions, NULL, NULL,
	 "Decisions: ?since=<seq>&limit=<n>"},
	{"GET", "/api/v1/model", "v1_model", NULL, RO, route_v1_model, NULL, NULL,
	 "Model: features, trees, window, last rebuild, importances"},
	{"GET", "/api/v1/events", "v1_events", NULL, RO, v1_events, NULL, NULL,
	 "Server-sent events: decisions, OOM and PSI events"},
	{"GET", "/api/v1/host", "v1_host", NULL, RO, route_v1_host, NULL, NULL,
	 "The host and the budget the policy grants from"},
	/* the dashboard: its files hold no data (every figure comes from the routes above,
	 * with the key), so they are served without one, as a login page would be */
	{"GET", "/ui", "ui", NULL, ROUTE_OWN, route_ui, NULL, NULL, "The web dashboard"},
	{"GET", "/ui/{file}", "ui_file", NULL, ROUTE_OWN | ROUTE_PREFIX, route_ui, "/ui/", NULL,
	 "The web dashboard's files"},
};
const size_t api_n_routes = sizeof(api_routes) / sizeof(api_routes[0]);

static const char *methods_text(const struct route *rt)
{
	if (!strcmp(rt->method, "GET"))
		return "GET,HEAD,OPTIONS";
	if (!strcmp(rt->method, "POST"))
		return "OPTIONS,POST";
	return "DELETE,OPTIONS";
}

static void route_routes(struct req *r)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < api_n_routes; i++) {
		json_object *o = json_object_new_object();
		/* the reference's Flask view name; lxcscale's own routes by their own name */
		const char *ep = api_routes[i].view ? api_routes[i].view : api_routes[i].endpoint;
		json_object_object_add(o, "endpoint", json_object_new_string(ep));
		json_object_object_add(o, "methods", json_object_new_string(methods_text(&api_routes[i])));
		json_object_object_add(o, "url", json_object_new_string(api_routes[i].path));
		json_object_array_add(arr, o);
	}
	resp_json(r, 200, arr);
}

static void html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void route_index(struct req *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		resp_internal(r, "out of memory");
		return;
	}
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lxcscale API</title></head>\n"
	      "<body><h1>lxcscale API</h1>\n<p>LXC AutoScale compatible routes and lxcscale's own "
	      "<code>/api/v1</code>. Protected routes need the <code>X-API-Key</code> header when "
	      "authentication is enabled.</p>\n<table border=\"1\" cellpadding=\"4\">\n"
	      "<tr><th>Method</th><th>Path</th><th>Description</th></tr>\n", f);
	for (size_t i = 0; i < api_n_routes; i++) {
		fputs("<tr><td>", f);
		html_escape(f, api_routes[i].method);
		fputs("</td><td><code>", f);
		html_escape(f, api_routes[i].path);
		fputs("</code></td><td>", f);
		html_escape(f, api_routes[i].summary);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></body></html>\n", f);
	fclose(f);
	resp_text(r, 200, "text/html; charset=utf-8", buf, len);
	free(buf);
}

static void route_metrics(struct req *r)
{
	struct api_server *srv = r->srv;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		resp_internal(r, "out of memory");
		return;
	}
	metrics_write(&srv->metrics, f);
	fprintf(f, "# HELP lxcscale_api_rate_limit_clients Client addresses tracked by the rate limiter.\n"
		   "# TYPE lxcscale_api_rate_limit_clients gauge\n"
		   "lxcscale_api_rate_limit_clients %zu\n",
		srv->rl ? ratelimit_clients(srv->rl) : (size_t)0);
	pthread_mutex_lock(&srv->sse_lock);
	unsigned streams = srv->sse_active;
	pthread_mutex_unlock(&srv->sse_lock);
	fprintf(f, "# HELP lxcscale_api_event_streams Open /api/v1/events streams.\n"
		   "# TYPE lxcscale_api_event_streams gauge\n"
		   "lxcscale_api_event_streams %u\n", streams);
	if (srv->has_backend && srv->backend.write_metrics)
		srv->backend.write_metrics(srv->backend.ctx, f);
	fclose(f);
	resp_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
}

const char *api_health_state_name(enum api_health_state s)
{
	switch (s) {
	case API_HEALTH_OK: return "ok";
	case API_HEALTH_OFF: return "off";
	case API_HEALTH_UNAVAILABLE: return "unavailable";
	case API_HEALTH_FAILED: return "failed";
	}
	return "?";
}

/* The stderr part of a failed command's ref_error ("Command failed: <stderr>"), stripped. */
static const char *stderr_of(struct cmd_result *cr)
{
	static const char prefix[] = "Command failed: ";
	char *s = cr->ref_error;
	if (!strncmp(s, prefix, sizeof(prefix) - 1))
		s += sizeof(prefix) - 1;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* The pct probe is cached and serialised: anonymous callers cannot make root fork. Each
 * check says ok, off (configured so), unavailable (this host cannot: worked around, still
 * healthy) or failed (broken: unhealthy, 503). */
static void route_health(struct req *r)
{
	struct api_server *srv = r->srv;
	struct health_cache *h = &srv->health;
	pthread_mutex_lock(&h->lock);
	int64_t now = api_now_ns() / 1000000;
	unsigned ttl = srv->set.health_cache_s;
	if (h->checked_ms == 0 || now - h->checked_ms >= (int64_t)ttl * 1000) {
		const char *args[] = {"list", NULL};
		struct cmd_result cr;
		cmd_run(srv, srv->set.pct_path ? srv->set.pct_path : "pct", args, 5, &cr);
		h->ok = cr.ok;
		/* the reference's words for each outcome */
		if (cr.ok)
			snprintf(h->detail, sizeof(h->detail), "ok");
		else if (cr.not_found)
			snprintf(h->detail, sizeof(h->detail), "pct not found in PATH");
		else if (cr.timed_out)
			snprintf(h->detail, sizeof(h->detail), "pct list timed out after 5s");
		else if (cr.exit_code >= 0)
			snprintf(h->detail, sizeof(h->detail), "pct list exited %d: %.200s", cr.exit_code,
				 stderr_of(&cr));
		else
			snprintf(h->detail, sizeof(h->detail), "pct list could not be executed: %.200s", cr.detail);
		cmd_result_free(&cr);
		h->checked_ms = api_now_ns() / 1000000;
	}
	bool lxc_ok = h->ok;
	char detail[256];
	snprintf(detail, sizeof(detail), "%s", h->detail);
	pthread_mutex_unlock(&h->lock);

	bool conf_ok = srv->set.lxc_node && srv->set.lxc_node[0];
	char cdetail[160];
	if (conf_ok && srv->set.lxc_node_is_host)
		snprintf(cdetail, sizeof(cdetail), "lxc.node is empty: this host's name (%.100s)", srv->set.lxc_node);
	else if (conf_ok)
		snprintf(cdetail, sizeof(cdetail), "lxc.node is set (%.100s)", srv->set.lxc_node);
	else
		snprintf(cdetail, sizeof(cdetail), "lxc.node is not set");

	json_object *checks = json_object_new_object();
	json_object *lc = json_object_new_object();
	json_object_object_add(lc, "ok", json_object_new_boolean(lxc_ok));
	json_object_object_add(lc, "detail", json_object_new_string(detail));
	json_object_object_add(checks, "lxc_commands", lc);
	json_object *cc = json_object_new_object();
	json_object_object_add(cc, "ok", json_object_new_boolean(conf_ok));
	json_object_object_add(cc, "detail", json_object_new_string(cdetail));
	json_object_object_add(checks, "configuration", cc);
	bool healthy = lxc_ok && conf_ok;
	json_object_object_add(lc, "state", json_object_new_string(lxc_ok ? "ok" : "failed"));
	json_object_object_add(cc, "state", json_object_new_string(conf_ok ? "ok" : "failed"));
	struct api_health dh;
	memset(&dh, 0, sizeof(dh));
	if (srv->has_backend && srv->backend.health && srv->backend.health(srv->backend.ctx, &dh) == 0) {
		for (unsigned i = 0; i < dh.n && i < API_HEALTH_MAX; i++) {
			json_object *x = json_object_new_object();
			bool ok = dh.c[i].state != API_HEALTH_FAILED;
			json_object_object_add(x, "ok", json_object_new_boolean(ok));
			json_object_object_add(x, "state", json_object_new_string(api_health_state_name(dh.c[i].state)));
			json_object_object_add(x, "detail", json_object_new_string(dh.c[i].detail));
			json_object_object_add(checks, dh.c[i].name, x);
			healthy = healthy && ok;
		}
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(healthy ? "healthy" : "unhealthy"));
	json_object_object_add(o, "checks", checks);
	resp_json(r, healthy ? 200 : 503, o);
}

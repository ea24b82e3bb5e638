/*
 * metrics.c — counters and a histogram kept in fixed arrays of atomics (no lock on the
 * request path), plus a small locked table for the per-container series. The exposition
 * prints only series that have been touched, in Prometheus text format 0.0.4, with the
 * histogram buckets of prometheus_client's defaults and the reference's HELP texts, so
 * dashboards built on the reference keep working; the per-route counters are written once
 * under the reference's names (its routes, labelled by path) and once under lxcscale_api_*
 * (every route, labelled by name). See metrics.h.
 */
#include "metrics.h"

#include <math.h>
#include <string.h>

static const char *const method_names[METRICS_N_METHODS] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};

static const int status_codes[METRICS_N_STATUS - 1] = {200, 201, 204, 304, 400, 401, 403, 404,
						       405, 413, 415, 429, 500, 501, 503};

static const double bucket_le[METRICS_N_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
						    0.5,   0.75, 1.0,   2.5,  5.0,   7.5, 10.0};

/* as prometheus_client prints them */
static const char *const bucket_str[METRICS_N_BUCKETS] = {
	"0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25",
	"0.5",   "0.75", "1.0",   "2.5",  "5.0",   "7.5", "10.0"};

static const char *const res_names[RES_N] = {"cpu", "ram", "storage"};
static const char *const act_names[ACT_N] = {"set", "increase"};
static const char *const reason_names[REASON_N] = {"invalid_request", "unauthenticated",
						    "forbidden",       "not_found",
						    "rate_limited",    "command_failed"};

#define VMID_UNKNOWN 0u
#define VMID_OTHER UINT32_MAX

static int method_index(const char *m)
{
	for (int i = 0; i < METRICS_N_METHODS - 1; i++)
		if (m && strcmp(m, method_names[i]) == 0)
			return i;
	return METRICS_N_METHODS - 1;
}

static int status_index(int status)
{
	for (int i = 0; i < METRICS_N_STATUS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return METRICS_N_STATUS - 1;
}

void metrics_init(struct api_metrics *m, const struct metrics_route routes[], size_t n_routes)
{
	memset(m, 0, sizeof(*m));
	if (n_routes > METRICS_MAX_ROUTES)
		n_routes = METRICS_MAX_ROUTES;
	m->n_routes = n_routes;
	for (size_t i = 0; i < n_routes; i++) {
		m->route_names[i] = routes[i].name;
		m->ref_paths[i] = routes[i].ref_path;
	}
	pthread_mutex_init(&m->lock, NULL);
}

void metrics_destroy(struct api_metrics *m)
{
	pthread_mutex_destroy(&m->lock);
}

void metrics_request(struct api_metrics *m, const char *method, int route, int status,
		     int64_t duration_ns)
{
	int mi = method_index(method);
	size_t ri = route < 0 || (size_t)route >= m->n_routes ? m->n_routes : (size_t)route;
	atomic_fetch_add_explicit(&m->requests[mi][ri][status_index(status)], 1, memory_order_relaxed);
	double secs = (double)duration_ns / 1e9;
	for (int b = 0; b < METRICS_N_BUCKETS; b++)
		if (secs <= bucket_le[b]) {
			atomic_fetch_add_explicit(&m->dur_bucket[mi][ri][b], 1, memory_order_relaxed);
			break; /* buckets are stored non-cumulative and summed on output */
		}
	atomic_fetch_add_explicit(&m->dur_count[mi][ri], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->dur_sum_ns[mi][ri], (uint64_t)(duration_ns > 0 ? duration_ns : 0),
				  memory_order_relaxed);
}

/* Caller holds m->lock. */
static struct metrics_container *container_row(struct api_metrics *m, uint32_t vmid)
{
	for (size_t i = 0; i < m->n_containers; i++)
		if (m->containers[i].vmid == vmid)
			return &m->containers[i];
	if (m->n_containers < METRICS_MAX_CONTAINERS || vmid == VMID_OTHER) {
		struct metrics_container *c = &m->containers[m->n_containers++];
		memset(c, 0, sizeof(*c));
		c->vmid = vmid;
		return c;
	}
	return container_row(m, VMID_OTHER); /* the table is full: share one bounded row */
}

void metrics_scaling_action(struct api_metrics *m, uint32_t vmid, enum metrics_resource r,
			    enum metrics_action a)
{
	pthread_mutex_lock(&m->lock);
	container_row(m, vmid)->actions[r][a]++;
	pthread_mutex_unlock(&m->lock);
}

void metrics_scaling_failure(struct api_metrics *m, uint32_t vmid, enum metrics_resource r,
			     enum metrics_reason why)
{
	pthread_mutex_lock(&m->lock);
	container_row(m, vmid)->failures[r][why]++;
	pthread_mutex_unlock(&m->lock);
}

void metrics_container_gauges(struct api_metrics *m, uint32_t vmid, bool has_cores, double cores,
			      bool has_memory, double memory_mb)
{
	pthread_mutex_lock(&m->lock);
	struct metrics_container *c = container_row(m, vmid);
	if (has_cores) {
		c->has_cores = true;
		c->cores = cores;
	}
	if (has_memory) {
		c->has_memory = true;
		c->memory_mb = memory_mb;
	}
	pthread_mutex_unlock(&m->lock);
}

static void container_label(uint32_t vmid, char *buf, size_t len)
{
	if (vmid == VMID_UNKNOWN)
		snprintf(buf, len, "unknown");
	else if (vmid == VMID_OTHER)
		snprintf(buf, len, "other");
	else
		snprintf(buf, len, "%u", vmid);
}

static void status_label(int si, char *buf, size_t len)
{
	if (si == METRICS_N_STATUS - 1)
		snprintf(buf, len, "other");
	else
		snprintf(buf, len, "%d", status_codes[si]);
}

/* Prometheus floats: integers print plainly, others with enough digits to round-trip. */
static void fmt_float(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%.17g", v);
}

/* The endpoint label of route row ri in one family: the reference's path (NULL: the row is
 * not in the reference's series) or lxcscale's route name. */
static const char *endpoint_label(const struct api_metrics *m, size_t ri, bool ref)
{
	if (ri >= m->n_routes)
		return "unmatched";
	return ref ? m->ref_paths[ri] : m->route_names[ri];
}

/* requests_total and request_duration_seconds under `prefix`, the reference's or lxcscale's */
static void write_requests(struct api_metrics *m, FILE *out, const char *prefix, bool ref)
{
	char st[16], num[40];
	fprintf(out, "# HELP %s_requests_total %s\n# TYPE %s_requests_total counter\n", prefix,
		ref ? "Total API requests" : "API requests by route name, method and status.", prefix);
	for (int mi = 0; mi < METRICS_N_METHODS; mi++)
		for (size_t ri = 0; ri <= m->n_routes; ri++) {
			const char *ep = endpoint_label(m, ri, ref);
			if (!ep)
				continue;
			for (int si = 0; si < METRICS_N_STATUS; si++) {
				uint64_t v = atomic_load_explicit(&m->requests[mi][ri][si],
								  memory_order_relaxed);
				if (!v)
					continue;
				status_label(si, st, sizeof(st));
				fprintf(out, "%s_requests_total{method=\"%s\",endpoint=\"%s\",status=\"%s\"} %llu\n",
					prefix, method_names[mi], ep, st, (unsigned long long)v);
			}
		}

	fprintf(out, "# HELP %s_request_duration_seconds %s\n# TYPE %s_request_duration_seconds histogram\n",
		prefix, ref ? "API request duration in seconds" : "API request duration in seconds, by route name.",
		prefix);
	for (int mi = 0; mi < METRICS_N_METHODS; mi++)
		for (size_t ri = 0; ri <= m->n_routes; ri++) {
			const char *ep = endpoint_label(m, ri, ref);
			uint64_t count = atomic_load_explicit(&m->dur_count[mi][ri], memory_order_relaxed);
			if (!ep || !count)
				continue;
			uint64_t cum = 0;
			for (int b = 0; b < METRICS_N_BUCKETS; b++) {
				cum += atomic_load_explicit(&m->dur_bucket[mi][ri][b], memory_order_relaxed);
				fprintf(out, "%s_request_duration_seconds_bucket{method=\"%s\",endpoint=\"%s\",le=\"%s\"} %llu\n",
					prefix, method_names[mi], ep, bucket_str[b], (unsigned long long)cum);
			}
			/* count may run ahead of the buckets by a request in flight: +Inf = count */
			if (cum > count)
				count = cum;
			fprintf(out, "%s_request_duration_seconds_bucket{method=\"%s\",endpoint=\"%s\",le=\"+Inf\"} %llu\n",
				prefix, method_names[mi], ep, (unsigned long long)count);
			fmt_float((double)atomic_load_explicit(&m->dur_sum_ns[mi][ri], memory_order_relaxed) / 1e9,
				  num, sizeof(num));
			fprintf(out, "%s_request_duration_seconds_sum{method=\"%s\",endpoint=\"%s\"} %s\n",
				prefix, method_names[mi], ep, num);
			fprintf(out, "%s_request_duration_seconds_count{method=\"%s\",endpoint=\"%s\"} %llu\n",
				prefix, method_names[mi], ep, (unsigned long long)count);
		}
}

void metrics_write(struct api_metrics *m, FILE *out)
{
	char lab[16], num[40];

	write_requests(m, out, "lxc_autoscale_api", true);

	pthread_mutex_lock(&m->lock);
	fprintf(out, "# HELP lxc_autoscale_scaling_actions_total Total scaling actions performed\n"
		     "# TYPE lxc_autoscale_scaling_actions_total counter\n");
	for (size_t i = 0; i < m->n_containers; i++) {
		struct metrics_container *c = &m->containers[i];
		container_label(c->vmid, lab, sizeof(lab));
		for (int r = 0; r < RES_N; r++)
			for (int a = 0; a < ACT_N; a++)
				if (c->actions[r][a])
					fprintf(out,
						"lxc_autoscale_scaling_actions_total{container_id=\"%s\",resource=\"%s\",action=\"%s\"} %llu\n",
						lab, res_names[r], act_names[a],
						(unsigned long long)c->actions[r][a]);
	}
	fprintf(out, "# HELP lxc_autoscale_scaling_failures_total Total scaling action failures\n"
		     "# TYPE lxc_autoscale_scaling_failures_total counter\n");
	for (size_t i = 0; i < m->n_containers; i++) {
		struct metrics_container *c = &m->containers[i];
		container_label(c->vmid, lab, sizeof(lab));
		for (int r = 0; r < RES_N; r++)
			for (int w = 0; w < REASON_N; w++)
				if (c->failures[r][w])
					fprintf(out,
						"lxc_autoscale_scaling_failures_total{container_id=\"%s\",resource=\"%s\",reason=\"%s\"} %llu\n",
						lab, res_names[r], reason_names[w],
						(unsigned long long)c->failures[r][w]);
	}
	fprintf(out, "# HELP lxc_autoscale_container_cpu_cores Current CPU cores allocated\n"
		     "# TYPE lxc_autoscale_container_cpu_cores gauge\n");
	for (size_t i = 0; i < m->n_containers; i++) {
		struct metrics_container *c = &m->containers[i];
		if (!c->has_cores)
			continue;
		container_label(c->vmid, lab, sizeof(lab));
		fmt_float(c->cores, num, sizeof(num));
		fprintf(out, "lxc_autoscale_container_cpu_cores{container_id=\"%s\"} %s\n", lab, num);
	}
	fprintf(out, "# HELP lxc_autoscale_container_memory_mb Current memory allocated in MB\n"
		     "# TYPE lxc_autoscale_container_memory_mb gauge\n");
	for (size_t i = 0; i < m->n_containers; i++) {
		struct metrics_container *c = &m->containers[i];
		if (!c->has_memory)
			continue;
		container_label(c->vmid, lab, sizeof(lab));
		fmt_float(c->memory_mb, num, sizeof(num));
		fprintf(out, "lxc_autoscale_container_memory_mb{container_id=\"%s\"} %s\n", lab, num);
	}
	pthread_mutex_unlock(&m->lock);

	write_requests(m, out, "lxcscale_api", false);
}

/*
 * test_api.c — the API's parts on their own (rate limiter with injected time, strict
 * number and name parsing, constant-time key compare, metrics exposition and label caps)
 * and the contract with the daemon over real HTTP on loopback (libcurl): /scale/cores and
 * /scale/ram go through apply_limits when a backend is attached and fall back to pct when
 * it answers -ENOENT; /api/v1 maps backend results and errors to HTTP; SSE delivers events.
 *
 * The backend here is a recording double of `struct api_backend`: the daemon that will
 * implement it runs elsewhere; this checks what the API sends and how it maps the answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "cli/cli.h"
#include "config/config.h"
#include "daemon/api_settings.h"
#include "internal.h"
#include "jsonw.h"
#include "metrics.h"
#include "ratelimit.h"

/* ---- rate limiter ---------------------------------------------------------------------- */

static void test_ratelimit_window(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(3, 60, 16);
	assert_non_null(rl);
	struct rl_verdict v;
	int64_t wall = 1700000000000LL;
	ratelimit_check(rl, "10.0.0.1", 1000, wall, &v);
	assert_true(v.allowed);
	assert_int_equal(v.remaining, 2);
	assert_int_equal(v.reset_epoch_s, (wall + 60000) / 1000);
	ratelimit_check(rl, "10.0.0.1", 11000, wall + 10000, &v);
	assert_int_equal(v.remaining, 1);
	ratelimit_check(rl, "10.0.0.1", 21000, wall + 20000, &v);
	assert_true(v.allowed);
	assert_int_equal(v.remaining, 0);
	ratelimit_check(rl, "10.0.0.1", 31000, wall + 30000, &v);
	assert_false(v.allowed);
	/* oldest at 1000 ms, now 31000: int(60 - 30) + 1 */
	assert_int_equal(v.retry_after_s, 31);
	assert_int_equal(v.limit, 3);
	/* another client is independent */
	ratelimit_check(rl, "10.0.0.2", 31000, wall + 30000, &v);
	assert_true(v.allowed);
	/* the first request leaves the window at 61000 */
	ratelimit_check(rl, "10.0.0.1", 61001, wall + 60001, &v);
	assert_true(v.allowed);
	assert_int_equal(v.remaining, 0);
	ratelimit_free(rl);
}

static void test_ratelimit_bounded_table(void **state)
{
	(void)state;
	struct ratelimit *rl = ratelimit_new(2, 60, 8);
	struct rl_verdict v;
	char ip[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
		ratelimit_check(rl, ip, 1000 + i, 0, &v);
		assert_true(v.allowed);
	}
	assert_int_equal(ratelimit_clients(rl), 8);
	/* the most recent client is still tracked */
	ratelimit_check(rl, ip, 5000, 0, &v);
	assert_true(v.allowed);
	ratelimit_check(rl, ip, 5001, 0, &v);
	assert_false(v.allowed);
	/* idle clients are reused first: after the window everybody is idle */
	ratelimit_check(rl, "192.0.2.9", 200000, 0, &v);
	assert_true(v.allowed);
	assert_int_equal(ratelimit_clients(rl), 8);
	ratelimit_free(rl);
	assert_null(ratelimit_new(0, 60, 8));
	assert_null(ratelimit_new(10, 0, 8));
	assert_null(ratelimit_new(10, 60, 0));
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(ratelimit_is_loopback("127.0.0.1"));
	assert_false(ratelimit_is_loopback("127.9.9.9")); /* the reference exempts 127.0.0.1 only */
	assert_false(ratelimit_is_loopback("127.0.0.2"));
	assert_true(ratelimit_is_loopback("::1"));
	assert_true(ratelimit_is_loopback("::ffff:127.0.0.1"));
	assert_false(ratelimit_is_loopback("10.0.0.1"));
	assert_false(ratelimit_is_loopback("::ffff:10.0.0.1"));
	assert_false(ratelimit_is_loopback("1127.0.0.1"));
	assert_false(ratelimit_is_loopback(NULL));
	assert_true(api_host_is_loopback("127.0.0.1"));
	assert_true(api_host_is_loopback("localhost"));
	assert_false(api_host_is_loopback("0.0.0.0"));
	assert_false(api_host_is_loopback("::"));
	assert_false(api_host_is_loopback("192.0.2.1"));
}

/* ---- parsing ----------------------------------------------------------------------------- */

static void test_strict_numbers(void **state)
{
	(void)state;
	long long v;
	assert_int_equal(parse_strict_ll("104", &v), 0);
	assert_int_equal(v, 104);
	assert_int_equal(parse_strict_ll("-5", &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_strict_ll("", &v), -1);
	assert_int_equal(parse_strict_ll("+", &v), -1);
	assert_int_equal(parse_strict_ll(" 1", &v), -1);
	assert_int_equal(parse_strict_ll("1 ", &v), -1);
	assert_int_equal(parse_strict_ll("1e3", &v), -1);
	assert_int_equal(parse_strict_ll("0x10", &v), -1);
	assert_int_equal(parse_strict_ll("12.0", &v), -1);
	assert_int_equal(parse_strict_ll("99999999999999999999", &v), -2);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(name_valid(NAME_SNAPSHOT, "before-upgrade"));
	assert_true(name_valid(NAME_SNAPSHOT, "_x"));
	assert_true(name_valid(NAME_SNAPSHOT, "1"));
	assert_false(name_valid(NAME_SNAPSHOT, "-rf"));
	assert_false(name_valid(NAME_SNAPSHOT, ""));
	assert_false(name_valid(NAME_SNAPSHOT, "a b"));
	assert_false(name_valid(NAME_SNAPSHOT, "a.b"));
	assert_false(name_valid(NAME_SNAPSHOT, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 41 */
	assert_true(name_valid(NAME_SNAPSHOT, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));  /* 40 */
	assert_false(name_valid(NAME_SNAPSHOT, "sn\xc3\xa4p"));
	assert_true(name_valid(NAME_HOST, "web-1"));
	assert_true(name_valid(NAME_HOST, "A"));
	assert_false(name_valid(NAME_HOST, "-web"));
	assert_false(name_valid(NAME_HOST, "web-"));
	assert_false(name_valid(NAME_HOST, "we.b"));
	assert_true(name_valid(NAME_NODE, "pve.example"));
	assert_false(name_valid(NAME_NODE, ".pve"));
	assert_false(name_valid(NAME_NODE, "pve/x"));
}

/* py_str: a JSON value as the reference's Python prints it in its messages */
static void check_py(const char *json, const char *want)
{
	json_object *v = json_tokener_parse(json);
	char buf[240];
	py_str(v, buf, sizeof(buf));
	json_object_put(v);
	if (strcmp(buf, want))
		fail_msg("py_str(%s) = \"%s\", want \"%s\"", json, buf, want);
}

static void test_py_str(void **state)
{
	(void)state;
	check_py("\"abc\"", "abc");
	check_py("null", "None");
	check_py("true", "True");
	check_py("104", "104");
	check_py("2.7", "2.7");
	check_py("100.0", "100.0");
	check_py("1E2", "100.0");
	check_py("1e16", "1e+16");
	check_py("1234567890123456.0", "1234567890123456.0");
	check_py("0.0001", "0.0001");
	check_py("0.00001", "1e-05");
	check_py("-2.5e-7", "-2.5e-07");
	check_py("1e400", "inf");
	check_py("-1e400", "-inf");
	check_py("0.1", "0.1");
	check_py("[1,\"a\",null,false]", "[1, 'a', None, False]");
	check_py("{\"n\":2.5,\"s\":\"it's\"}", "{'n': 2.5, 's': \"it's\"}");
	check_py("[\"a\\nb\"]", "['a\\nb']");
	/* bounded: a long value ends in "...", never in half a UTF-8 character */
	char big[2000] = "\"";
	for (int i = 0; i < 600; i++)
		strcat(big, "\u00e9");
	strcat(big, "\"");
	json_object *v = json_tokener_parse(big);
	char buf[64];
	py_str(v, buf, sizeof(buf));
	json_object_put(v);
	size_t n = strlen(buf);
	assert_true(n < sizeof(buf) && n >= 3 && !strcmp(buf + n - 3, "..."));
	assert_int_equal((n - 3) % 2, 0); /* whole two-byte characters only */
	char lit[64];
	py_repr_text("Command failed: it's\n", lit, sizeof(lit));
	assert_string_equal(lit, "\"Command failed: it's\\n\"");
}

static void test_const_time_equal(void **state)
{
	(void)state;
	assert_true(const_time_equal("abc", 3, "abc", 3));
	assert_false(const_time_equal("abc", 3, "abd", 3));
	assert_false(const_time_equal("abc", 3, "abcd", 4));
	assert_false(const_time_equal("", 0, "a", 1));
	assert_true(const_time_equal("", 0, "", 0));
	/* a byte 0 past the end must not make a prefix equal */
	assert_false(const_time_equal("ab\0", 3, "ab", 2));

	const char *keys[] = {"", "k1", "k2"};
	struct api_settings s;
	api_settings_defaults(&s);
	s.api_keys = keys;
	s.n_api_keys = 3;
	assert_int_equal(auth_check(&s, NULL), AUTH_MISSING);
	assert_int_equal(auth_check(&s, ""), AUTH_MISSING);
	assert_int_equal(auth_check(&s, "k2"), AUTH_OK);
	assert_int_equal(auth_check(&s, "k"), AUTH_WRONG);
	/* the empty configured key never matches anything */
	s.n_api_keys = 1;
	assert_int_equal(auth_check(&s, "x"), AUTH_MISCONFIGURED);
	s.n_api_keys = 0;
	assert_int_equal(auth_check(&s, "x"), AUTH_MISCONFIGURED);
}

/* ---- JSON writer ------------------------------------------------------------------------ */

static void test_jsonw(void **state)
{
	(void)state;
	struct jsonw w;
	jw_init(&w, 1); /* forces growth */
	jw_obj_begin(&w);
	jw_kstr(&w, "s", "a\"b\\c\n\x01\xff");
	jw_kint(&w, "i", -42);
	jw_kuint(&w, "u", UINT64_MAX);
	jw_knum(&w, "d", 1.5);
	jw_knum(&w, "neg", -0.25);
	jw_knum(&w, "small", 0.0000004);
	jw_knum(&w, "round", 2.0000004);
	jw_knum(&w, "big", 1e300);
	jw_knum(&w, "nan", NAN);
	jw_key(&w, "a");
	jw_arr_begin(&w);
	jw_int(&w, 1);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_null(&w);
	jw_bool(&w, true);
	jw_arr_end(&w);
	jw_obj_end(&w);
	size_t len;
	char *t = jw_finish(&w, &len);
	assert_string_equal(t, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u00ff\",\"i\":-42,"
			       "\"u\":18446744073709551615,\"d\":1.5,\"neg\":-0.25,\"small\":0,"
			       "\"round\":2,\"big\":1.0000000000000001e+300,\"nan\":null,"
			       "\"a\":[1,{},[],null,true]}");
	assert_int_equal(len, strlen(t));
	/* and json-c reads it back */
	json_object *o = json_tokener_parse(t);
	assert_non_null(o);
	json_object_put(o);
	free(t);
}

/* ---- metrics ----------------------------------------------------------------------------- */

static char *metrics_text(struct api_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	metrics_write(m, f);
	fclose(f);
	return buf;
}

static void test_metrics(void **state)
{
	(void)state;
	static struct api_metrics m; /* large: keep it off the stack */
	const struct metrics_route routes[] = {{"scale_cores", "/scale/cores"}, {"metrics", "/metrics"},
					       {"v1_limits", NULL}};
	metrics_init(&m, routes, 3);
	metrics_request(&m, "POST", 0, 200, 3000000);   /* 3 ms */
	metrics_request(&m, "POST", 0, 200, 300000000); /* 0.3 s */
	metrics_request(&m, "BREW", -1, 418, 1000);
	metrics_request(&m, "POST", 2, 200, 1000);      /* lxcscale's own route */
	metrics_scaling_action(&m, 104, RES_CPU, ACT_SET);
	metrics_scaling_failure(&m, 0, RES_RAM, REASON_INVALID_REQUEST);
	metrics_container_gauges(&m, 104, true, 4, false, 0);
	char *t = metrics_text(&m);
	assert_non_null(strstr(t, "lxc_autoscale_api_requests_total{method=\"POST\",endpoint=\"/scale/cores\",status=\"200\"} 2\n"));
	assert_non_null(strstr(t, "lxc_autoscale_api_requests_total{method=\"other\",endpoint=\"unmatched\",status=\"other\"} 1\n"));
	assert_non_null(strstr(t, "lxc_autoscale_api_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/scale/cores\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(t, "lxc_autoscale_api_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/scale/cores\",le=\"0.25\"} 1\n"));
	assert_non_null(strstr(t, "lxc_autoscale_api_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/scale/cores\",le=\"0.5\"} 2\n"));
	assert_non_null(strstr(t, "lxc_autoscale_api_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/scale/cores\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(t, "lxc_autoscale_api_request_duration_seconds_count{method=\"POST\",endpoint=\"/scale/cores\"} 2\n"));
	/* the reference's series: its routes by path only; lxcscale's: every route by name */
	assert_null(strstr(t, "lxc_autoscale_api_requests_total{method=\"POST\",endpoint=\"v1_limits\""));
	assert_null(strstr(t, "endpoint=\"scale_cores\",status=\"200\"} 2\nlxc_autoscale"));
	assert_non_null(strstr(t, "# HELP lxc_autoscale_api_requests_total Total API requests\n"));
	assert_non_null(strstr(t, "lxcscale_api_requests_total{method=\"POST\",endpoint=\"scale_cores\",status=\"200\"} 2\n"));
	assert_non_null(strstr(t, "lxcscale_api_requests_total{method=\"POST\",endpoint=\"v1_limits\",status=\"200\"} 1\n"));
	assert_non_null(strstr(t, "lxcscale_api_requests_total{method=\"other\",endpoint=\"unmatched\",status=\"other\"} 1\n"));
	assert_non_null(strstr(t, "lxcscale_api_request_duration_seconds_count{method=\"POST\",endpoint=\"v1_limits\"} 1\n"));
	assert_non_null(strstr(t, "lxc_autoscale_scaling_actions_total{container_id=\"104\",resource=\"cpu\",action=\"set\"} 1\n"));
	assert_non_null(strstr(t, "lxc_autoscale_scaling_failures_total{container_id=\"unknown\",resource=\"ram\",reason=\"invalid_request\"} 1\n"));
	assert_non_null(strstr(t, "lxc_autoscale_container_cpu_cores{container_id=\"104\"} 4\n"));
	assert_null(strstr(t, "lxc_autoscale_container_memory_mb{"));
	free(t);
	for (uint32_t id = 100; id < 3100; id++)
		metrics_scaling_action(&m, id, RES_CPU, ACT_SET);
	assert_true(m.n_containers <= METRICS_MAX_CONTAINERS + 1);
	t = metrics_text(&m);
	assert_non_null(strstr(t, "container_id=\"other\""));
	free(t);
	metrics_destroy(&m);
}

/* ---- configuration mapping ---------------------------------------------------------------- */

static void test_settings_from_config(void **state)
{
	(void)state;
	/* the reference's shipped lxc_autoscale_api.yaml, abridged, read unchanged */
	static const char yaml[] =
		"server:\n  host: \"0.0.0.0\"\n  port: 5001\n"
		"lxc:\n  node: \"proxmox\"\n  timeout_seconds: 10\n"
		"rate_limiting:\n  enabled: true\n  max_requests_per_minute: 90\n  time_window_seconds: 30\n"
		"authentication:\n  enabled: true\n  api_keys: [\"k1\", \"k2\"]\n"
		"error_handling:\n  show_stack_traces: true\n"
		"gunicorn:\n  workers: 1\n";
	struct lxcscale_config *c = config_new();
	assert_non_null(c);
	struct config_diag *d = calloc(1, sizeof(*d));
	assert_int_equal(config_load_string(c, "lxc_autoscale_api.yaml", yaml, sizeof(yaml) - 1, d), 0);
	assert_int_equal(config_finalize(c, d), 0);
	struct api_settings s;
	const char *keys[API_CONFIG_MAX_KEYS];
	api_settings_from_config(c, &s, keys);
	assert_string_equal(s.host, "0.0.0.0");
	assert_int_equal(s.port, 5001);
	assert_string_equal(s.lxc_node, "proxmox");
	assert_int_equal(s.lxc_timeout_s, 10);
	assert_true(s.rate_limit_enabled);
	assert_int_equal(s.rate_limit_max, 90);
	assert_int_equal(s.rate_limit_window_s, 30);
	assert_true(s.auth_enabled);
	assert_int_equal(s.n_api_keys, 2);
	assert_string_equal(s.api_keys[1], "k2");
	assert_int_equal(s.max_body_bytes, 65536);
	assert_null(s.tls_cert_file);
	assert_true(s.show_stack_traces);
	config_free(c);

	/* defaults: loopback, 5000, no auth */
	c = config_new();
	memset(d, 0, sizeof(*d));
	config_finalize(c, d);
	api_settings_from_config(c, &s, keys);
	assert_string_equal(s.host, "127.0.0.1");
	assert_int_equal(s.port, 5000);
	assert_false(s.auth_enabled);
	assert_int_equal(s.rate_limit_max, 120);
	assert_int_equal(s.rate_limit_window_s, 60);
	assert_false(s.show_stack_traces); /* the reference's texts, details only in the log */
	config_free(c);
	free(d);
}

/* ---- HTTP with a recording backend -------------------------------------------------------- */

struct double_backend {
	pthread_mutex_t lock;
	int apply_calls;
	struct api_limits_request last;
	int apply_rc;             /* what apply_limits answers */
	char apply_err[64];
	int list_calls;
	uint64_t gen;
	api_event_fn sub_fn;
	void *sub_arg;
	bool unsubscribed;
};

static int d_apply(void *ctx, const struct api_limits_request *req, struct decision *applied,
		   char *err, size_t errlen)
{
	struct double_backend *b = ctx;
	pthread_mutex_lock(&b->lock);
	b->apply_calls++;
	b->last = *req;
	b->last.source = NULL;
	int rc = b->apply_rc;
	snprintf(err, errlen, "%s", b->apply_err);
	pthread_mutex_unlock(&b->lock);
	if (rc == 0) {
		applied->seq = 42;
		applied->vmid = req->vmid;
		applied->reason = REASON_MANUAL;
		applied->cpu_change = req->set_cores ? DECISION_SET : DECISION_NONE;
		applied->cpu_to = req->cores;
		applied->mem_change = req->set_memory ? DECISION_SET : DECISION_NONE;
		applied->mem_to_mb = req->memory_mb;
		applied->persist = req->persist;
		snprintf(applied->outcome, sizeof(applied->outcome), "applied");
		applied->enforced = true;
	}
	return rc;
}

static uint64_t d_gen(void *ctx)
{
	struct double_backend *b = ctx;
	pthread_mutex_lock(&b->lock);
	uint64_t g = b->gen;
	pthread_mutex_unlock(&b->lock);
	return g;
}

static int d_list(void *ctx, struct ct_snapshot **out, size_t *n)
{
	struct double_backend *b = ctx;
	pthread_mutex_lock(&b->lock);
	b->list_calls++;
	pthread_mutex_unlock(&b->lock);
	*n = 3;
	*out = calloc(3, sizeof(**out));
	for (int i = 0; i < 3; i++) {
		(*out)[i].vmid = 200 + (uint32_t)i;
		snprintf((*out)[i].name, sizeof((*out)[i].name), "ct%d", i);
		(*out)[i].cores = 1 + i;
		(*out)[i].memory_mb = 1024;
	}
	(*out)[1].has_last_decision = true;
	(*out)[1].last_decision.seq = 7;
	(*out)[1].last_decision.reason = REASON_PSI;
	return 0;
}

static int d_get(void *ctx, uint32_t vmid, struct ct_snapshot *out,
		 struct history_point **hist, size_t *nh)
{
	(void)ctx;
	if (vmid != 200)
		return -ENOENT;
	out->vmid = vmid;
	*nh = 2;
	*hist = calloc(2, sizeof(**hist));
	(*hist)[1].cpu_pct = 55.5;
	return 0;
}

static int d_decisions(void *ctx, uint64_t since, size_t max, struct decision **out, size_t *n)
{
	(void)ctx;
	size_t k = 0;
	*out = calloc(max < 10 ? max : 10, sizeof(**out));
	for (uint64_t s = since + 1; s <= 10 && k < max; s++)
		(*out)[k++].seq = s;
	*n = k;
	return 0;
}

static int d_model(void *ctx, struct api_model_info *m)
{
	(void)ctx;
	m->trained = true;
	m->n_features = 2;
	snprintf(m->feature_names[0], sizeof(m->feature_names[0]), "cpu_usage_percent");
	snprintf(m->feature_names[1], sizeof(m->feature_names[1]), "psi_cpu");
	m->feature_importance[0] = 0.75;
	m->feature_importance[1] = 0.25;
	m->trees = 100;
	m->sample_size = 64;
	return 0;
}

static int d_subscribe(void *ctx, api_event_fn fn, void *arg, uint64_t *handle)
{
	struct double_backend *b = ctx;
	pthread_mutex_lock(&b->lock);
	b->sub_fn = fn;
	b->sub_arg = arg;
	*handle = 1;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void d_unsubscribe(void *ctx, uint64_t handle)
{
	struct double_backend *b = ctx;
	(void)handle;
	pthread_mutex_lock(&b->lock);
	b->sub_fn = NULL;
	b->unsubscribed = true;
	pthread_mutex_unlock(&b->lock);
}

static void d_metrics(void *ctx, FILE *out)
{
	(void)ctx;
	fputs("# HELP lxcscale_loop_latency_seconds x\n# TYPE lxcscale_loop_latency_seconds gauge\n"
	      "lxcscale_loop_latency_seconds 0.001\n", out);
}

struct fixture {
	struct double_backend b;
	struct api_server *srv;
	char base[64];
	char dir[64];
};

struct buf {
	char data[65536];
	size_t len;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = sz * n;
	if (b->len + len >= sizeof(b->data))
		len = sizeof(b->data) - 1 - b->len;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return sz * n;
}

static long http(struct fixture *f, const char *method, const char *path, const char *body,
		 struct buf *out)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", f->base, path);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	out->len = 0;
	out->data[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	long code = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return code;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	pthread_mutex_init(&f->b.lock, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/lxcscale-test-api-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	struct api_settings s;
	api_settings_defaults(&s);
	s.port = 0;
	s.host_cpus = 8;
	s.pct_path = "/nonexistent/pct"; /* the pct fallback fails visibly (500) */
	s.log = NULL;
	struct api_backend be = {
		.ctx = &f->b, .apply_limits = d_apply, .list_containers = d_list, .get_container = d_get,
		.containers_generation = d_gen,
		.list_decisions = d_decisions, .model_info = d_model, .subscribe = d_subscribe,
		.unsubscribe = d_unsubscribe, .write_metrics = d_metrics,
	};
	char err[256];
	f->srv = api_start(&s, &be, err, sizeof(err));
	if (!f->srv)
		return -1;
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", api_port(f->srv));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	api_stop(f->srv);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->b.lock);
	free(f);
	return 0;
}

static void test_scale_through_backend(void **state)
{
	struct fixture *f = *state;
	static struct buf out;
	long code = http(f, "POST", "/scale/cores", "{\"lxc_id\":104,\"cores\":3}", &out);
	assert_int_equal(code, 200);
	assert_non_null(strstr(out.data, "\"message\":\"CPU cores set to 3 for container 104\""));
	assert_non_null(strstr(out.data, "\"decision\":{\"seq\":42"));
	assert_int_equal(f->b.apply_calls, 1);
	assert_int_equal(f->b.last.vmid, 104);
	assert_true(f->b.last.set_cores);
	assert_false(f->b.last.set_memory);
	assert_true(f->b.last.cores == 3.0);
	assert_true(f->b.last.persist);
	assert_true(f->b.last.clamp_to_host); /* beyond the host's CPUs: the daemon clamps the cgroup */

	code = http(f, "POST", "/scale/ram", "{\"vm_id\":104,\"memory\":2048}", &out);
	assert_int_equal(code, 200);
	assert_true(f->b.last.set_memory);
	assert_false(f->b.last.set_cores);
	assert_int_equal(f->b.last.memory_mb, 2048);

	/* refused by the daemon → 400 with its reason */
	f->b.apply_rc = -EINVAL;
	snprintf(f->b.apply_err, sizeof(f->b.apply_err), "below memory.current");
	code = http(f, "POST", "/scale/ram", "{\"lxc_id\":104,\"memory\":64}", &out);
	assert_int_equal(code, 400);
	assert_non_null(strstr(out.data, "below memory.current"));
	/* not managed by the daemon → falls back to pct (missing here → 500) */
	f->b.apply_rc = -ENOENT;
	int before = f->b.apply_calls;
	code = http(f, "POST", "/scale/cores", "{\"lxc_id\":105,\"cores\":2}", &out);
	assert_int_equal(code, 500);
	assert_int_equal(f->b.apply_calls, before + 1);
	/* any other failure → 500, no fallback */
	f->b.apply_rc = -EIO;
	code = http(f, "POST", "/scale/cores", "{\"lxc_id\":105,\"cores\":2}", &out);
	assert_int_equal(code, 500);
	/* validation happens before the daemon is asked */
	before = f->b.apply_calls;
	code = http(f, "POST", "/scale/cores", "{\"lxc_id\":105,\"cores\":129}", &out);
	assert_int_equal(code, 400);
	assert_non_null(strstr(out.data, "Cores must be between 1 and 128, got 129"));
	assert_int_equal(f->b.apply_calls, before);
	f->b.apply_rc = 0;
}

static void test_v1_routes(void **state)
{
	struct fixture *f = *state;
	static struct buf out;
	assert_int_equal(http(f, "GET", "/api/v1/containers", NULL, &out), 200);
	assert_non_null(strstr(out.data, "\"vmid\":201,\"name\":\"ct1\""));
	assert_non_null(strstr(out.data, "\"reason\":\"psi\""));
	assert_non_null(strstr(out.data, "\"last_decision\":null"));
	/* same generation: served from the cache, byte for byte; a new one re-encodes */
	static struct buf again;
	assert_int_equal(f->b.list_calls, 1);
	assert_int_equal(http(f, "GET", "/api/v1/containers", NULL, &again), 200);
	assert_int_equal(f->b.list_calls, 1);
	assert_string_equal(out.data, again.data);
	f->b.gen++;
	assert_int_equal(http(f, "GET", "/api/v1/containers", NULL, &again), 200);
	assert_int_equal(f->b.list_calls, 2);
	assert_int_equal(http(f, "GET", "/api/v1/containers/200", NULL, &out), 200);
	assert_non_null(strstr(out.data, "\"history\":[{"));
	assert_non_null(strstr(out.data, "55.5"));
	assert_int_equal(http(f, "GET", "/api/v1/containers/201", NULL, &out), 404);
	assert_int_equal(http(f, "POST", "/api/v1/containers/201/limits",
			      "{\"cores\":1.5,\"memory_mb\":4096,\"persist\":false}", &out), 200);
	assert_true(f->b.last.set_cores && f->b.last.set_memory);
	assert_true(f->b.last.cores == 1.5);
	assert_false(f->b.last.persist);
	assert_int_equal(f->b.last.vmid, 201);
	assert_int_equal(http(f, "POST", "/api/v1/containers/201/limits", "{}", &out), 400);
	assert_int_equal(http(f, "POST", "/api/v1/containers/201/limits", "{\"persist\":\"maybe\",\"cores\":1}", &out), 400);
	f->b.apply_rc = -EBUSY;
	assert_int_equal(http(f, "POST", "/api/v1/containers/201/limits", "{\"cores\":1}", &out), 409);
	f->b.apply_rc = 0;
	assert_int_equal(http(f, "GET", "/api/v1/decisions?since=7&limit=2", NULL, &out), 200);
	assert_non_null(strstr(out.data, "\"seq\":8"));
	assert_non_null(strstr(out.data, "\"seq\":9"));
	assert_null(strstr(out.data, "\"seq\":10"));
	assert_non_null(strstr(out.data, "\"next_since\":9"));
	assert_int_equal(http(f, "GET", "/api/v1/decisions?limit=0", NULL, &out), 400);
	assert_int_equal(http(f, "GET", "/api/v1/model", NULL, &out), 200);
	assert_non_null(strstr(out.data, "{\"name\":\"cpu_usage_percent\",\"importance\":0.75}"));
	assert_int_equal(http(f, "GET", "/metrics", NULL, &out), 200);
	assert_non_null(strstr(out.data, "\nlxcscale_loop_latency_seconds 0.001\n"));
}

struct sse_reader {
	struct fixture *f;
	struct buf out;
	long code;
};

static size_t sse_data(char *p, size_t sz, size_t n, void *ud)
{
	struct sse_reader *r = ud;
	on_data(p, sz, n, &r->out);
	/* stop once the second event has arrived */
	return strstr(r->out.data, "event: oom") ? 0 : sz * n;
}

static void *sse_thread(void *arg)
{
	struct sse_reader *r = arg;
	char url[256];
	snprintf(url, sizeof(url), "%s/api/v1/events", r->f->base);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	curl_easy_cleanup(c);
	return NULL;
}

static void test_sse(void **state)
{
	struct fixture *f = *state;
	static struct sse_reader r;
	memset(&r, 0, sizeof(r));
	r.f = f;
	pthread_t t;
	pthread_create(&t, NULL, sse_thread, &r);
	/* wait for the subscription (bounded: the test fails below if it never comes) */
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&f->b.lock);
		bool sub = f->b.sub_fn != NULL;
		pthread_mutex_unlock(&f->b.lock);
		if (sub)
			break;
		usleep(10000);
	}
	struct ct_event ev = {.type = CT_EVENT_DECISION, .vmid = 104};
	ev.decision.seq = 5;
	ev.decision.reason = REASON_OOM;
	struct ct_event ev2 = {.type = CT_EVENT_OOM, .vmid = 104, .value = 1};
	snprintf(ev2.resource, sizeof(ev2.resource), "memory");
	pthread_mutex_lock(&f->b.lock);
	assert_non_null(f->b.sub_fn);
	f->b.sub_fn(f->b.sub_arg, &ev);
	f->b.sub_fn(f->b.sub_arg, &ev2);
	pthread_mutex_unlock(&f->b.lock);
	pthread_join(t, NULL);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.out.data, "event: decision\ndata: {\"type\":\"decision\""));
	assert_non_null(strstr(r.out.data, "\"reason\":\"oom\""));
	assert_non_null(strstr(r.out.data, "event: oom"));
	/* the server notices the client left and unsubscribes */
	bool unsub = false;
	for (int i = 0; i < 1000 && !unsub; i++) {
		struct ct_event ka = {.type = CT_EVENT_PSI};
		/* publish under the backend's lock, as the contract demands: unsubscribe takes
		 * it too, so the stream cannot be freed while fn runs */
		pthread_mutex_lock(&f->b.lock);
		unsub = f->b.unsubscribed;
		if (!unsub && f->b.sub_fn)
			f->b.sub_fn(f->b.sub_arg, &ka); /* a write to the closed socket ends the stream */
		pthread_mutex_unlock(&f->b.lock);
		usleep(10000);
	}
	assert_true(unsub);
}

/* Run a CLI command with stdout captured into out. */
static int run_cli(int (*fn)(int, char **), char **argv, int argc, char *out, size_t outlen)
{
	char path[] = "/tmp/lxcscale-test-cli-XXXXXX";
	int fd = mkstemp(path);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	int rc = fn(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

static void test_cli_with_daemon(void **state)
{
	struct fixture *f = *state;
	static char out[65536];
	char *a1[] = {"status", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_status, a1, 3, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "VMID"));
	assert_non_null(strstr(out, "ct1"));
	assert_non_null(strstr(out, "(psi)"));
	char *a2[] = {"status", "200", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_status, a2, 4, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "history (2 samples"));
	char *a3[] = {"status", "201", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_status, a3, 4, out, sizeof(out)), 3); /* not found */
	char *a4[] = {"scale", "201", "--cores", "1.5", "--no-persist", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_scale, a4, 7, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "container 201: applied: cores 0 -> 1.5 (in force now; not persisted (--no-persist))"));
	assert_true(f->b.last.cores == 1.5);
	assert_false(f->b.last.persist);
	assert_int_equal(f->b.last.vmid, 201);
	char *a5[] = {"decisions", "--since", "8", "--json", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_decisions, a5, 6, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "{\"seq\":9,"));
	assert_non_null(strstr(out, "{\"seq\":10,"));
	assert_null(strstr(out, "{\"seq\":8,"));
	/* --limit N: the newest N (the double holds seq 1..10), printed oldest first */
	char *a5b[] = {"decisions", "--limit", "2", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_decisions, a5b, 5, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "OUTCOME"));
	assert_non_null(strstr(out, "\n9 "));
	assert_non_null(strstr(out, "\n10 "));
	assert_null(strstr(out, "\n8 "));
	assert_true(strstr(out, "\n9 ") < strstr(out, "\n10 "));
	char *a6[] = {"top", "--iterations", "2", "--interval", "0.1", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_top, a6, 7, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "3 containers"));
	char *a7[] = {"model", "show", "--url", f->base, NULL};
	assert_int_equal(run_cli(cli_model_show, a7, 4, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "cpu_usage_percent"));
	assert_non_null(strstr(out, "trees: 100"));
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit_window),
		cmocka_unit_test(test_ratelimit_bounded_table),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_strict_numbers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_const_time_equal),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_jsonw),
		cmocka_unit_test(test_settings_from_config),
		cmocka_unit_test(test_py_str),
		cmocka_unit_test_setup_teardown(test_scale_through_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_with_daemon, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

/*
 * internal.h — what the api/ files share and nobody else sees: the server struct, the
 * per-request state, the route table, and the helpers every handler uses to read
 * parameters and answer in the reference's envelope.
 *
 * A request goes: http.c (collect body, find route) → ratelimit.c → auth.c → the route's
 * handler (routes_ref.c or routes_v1.c) → a response built with the resp_* helpers →
 * metrics.c records it. Handlers never touch libmicrohttpd directly except for SSE.
 *
 * Two sides share the server: the reference's routes, which answer as the reference does
 * (params_load_ref and params_ref_*, its texts, ?api_key=), and lxcscale's own (ROUTE_OWN:
 * /api/v1, /ui: params_load and params_int..., lxcscale's texts, the header only).
 */
#ifndef LXCSCALE_API_INTERNAL_H
#define LXCSCALE_API_INTERNAL_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api.h"
#include "metrics.h"
#include "ratelimit.h"

struct req;
typedef void (*route_fn)(struct req *r);

#define QKEY_WARN_MAX 256 /* distinct clients warned about ?api_key= (then one last warning) */

enum route_flags {
	ROUTE_RL = 1,        /* rate-limited */
	ROUTE_AUTH = 2,      /* needs X-API-Key when authentication is enabled */
	ROUTE_PREFIX_ID = 4, /* path is "<prefix><id>[<suffix>]" (/api/v1/containers/{id}...) */
	ROUTE_SCALE_CPU = 8, /* counted in lxc_autoscale_scaling_{actions,failures}_total */
	ROUTE_SCALE_RAM = 16,
	ROUTE_SCALE_STORAGE = 32,
	ROUTE_PREFIX = 64,   /* path is "<prefix><name>", name without '/' (the dashboard's files) */
	ROUTE_OWN = 128,     /* lxcscale's own route (/api/v1, /ui), not one of the reference's: its
	                      * texts, no ?api_key=, counted only in the lxcscale_api_* metrics */
};

struct route {
	const char *method;   /* "GET", "POST", "DELETE" */
	const char *path;     /* exact path, or the pattern shown in /routes for PREFIX_ID */
	const char *endpoint; /* stable name: the lxcscale_api_* metrics' label */
	const char *view;     /* the reference's Flask view name (its /routes "endpoint"); NULL:
	                       * lxcscale's own route, listed under `endpoint` */
	unsigned flags;
	route_fn fn;
	const char *prefix, *suffix; /* ROUTE_PREFIX_ID (prefix and suffix), ROUTE_PREFIX (prefix) */
	const char *summary;  /* one line for the HTML index */
};

extern const struct route api_routes[];
extern const size_t api_n_routes;

struct health_cache {
	pthread_mutex_t lock;
	int64_t checked_ms;   /* monotonic; 0 = never */
	bool ok;
	char detail[256];
};

/* The last /api/v1/containers answer and the backend generation it was encoded at. */
struct containers_cache {
	pthread_mutex_t lock;
	uint64_t generation;
	char *json;
	size_t len;
};

struct api_server {
	struct api_settings set;
	struct api_backend backend;
	bool has_backend;
	struct MHD_Daemon *mhd;
	uint16_t port;
	unsigned host_cpus;
	char *tls_cert, *tls_key;      /* PEM text read at start */

	struct ratelimit *rl;
	struct api_metrics metrics;
	struct health_cache health;
	struct containers_cache containers_cache;

	/* libmicrohttpd's own messages come one per refused connection (or two, alternating,
	 * when accept() hits EMFILE) under a flood: each distinct message is logged at most
	 * once per MHD_LOG_REPEAT_S, with a count of the ones held back */
	pthread_mutex_t mhd_log_lock;
	struct {
		char text[128];
		int64_t last_ns;
		unsigned long suppressed;
	} mhd_log[4];

	/* clients that sent the key as ?api_key= and were warned about it (once each) */
	pthread_mutex_t qkey_lock;
	char qkey_warned[QKEY_WARN_MAX][64];
	size_t n_qkey_warned;
	bool qkey_table_full;

	/* SSE streams: stopped together at shutdown */
	pthread_mutex_t sse_lock;
	pthread_cond_t sse_cond;
	bool stopping;
	unsigned sse_active;
};

struct resp_header {
	const char *name;
	char value[64];
};

struct req {
	struct api_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	const struct route *route;
	int metrics_route;         /* index in api_routes for the metrics (also OPTIONS), -1 none */
	uint32_t path_id;          /* ROUTE_PREFIX_ID routes */
	bool path_id_ok;
	char client_ip[64];
	int64_t start_ns;

	char *body;
	size_t body_len, body_cap;
	bool body_too_big;
	size_t discarded;          /* bytes dropped after the body limit was passed */
	bool queued;               /* a response has been queued already */

	/* the response under construction */
	int status;
	char *resp_body;
	size_t resp_len;
	const char *content_type;
	struct resp_header headers[6];
	int n_headers;
	struct MHD_Response *custom; /* SSE: a ready-made response */
};

/* ---- responses (resp.c) ---- */
void resp_set_header(struct req *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void resp_text(struct req *r, int status, const char *content_type, const char *text, size_t len);
/* Takes ownership of obj. */
void resp_json(struct req *r, int status, json_object *obj);
/* {"status":"success","message":msg,"data":data}; takes ownership of data (may be NULL → null). */
void resp_success(struct req *r, const char *msg, json_object *data);
/* {"status":"error","message":msg} */
void resp_error(struct req *r, int status, const char *msg);
/* {"status":"error","message":msg,"error":code[,"field":field]} (codes: api/openapi.yaml) */
void resp_error_code(struct req *r, int status, const char *code, const char *field, const char *msg);
/* The backend's -errno for a change it did not make, as a status and an error code; err is
 * its reason. id_field names the id in the request ("id" in the path, "lxc_id" in a body). */
void resp_backend_refusal(struct req *r, int rc, uint32_t vmid, const char *id_field, const char *err);
/* 400 {"status":"error","message":"Validation failed","errors":[...]}; takes ownership. */
void resp_validation(struct req *r, json_object *errors);
/* The same with "detail": why the body was not read (NULL or "": none), for the reference's
 * routes, whose errors list is the reference's own. */
void resp_validation_detail(struct req *r, json_object *errors, const char *detail);
/* 500 with the reference's text, or `detail` (and stack_trace) when show_stack_traces. */
void resp_internal(struct req *r, const char *detail);
struct cmd_result;
/* 500 for a command that failed on a reference route: with show_stack_traces, the message
 * and stack_trace the reference gives (str() and repr() of its RuntimeError). */
void resp_internal_cmd(struct req *r, const struct cmd_result *cr);

/* ---- parameters (params.c) ---- */

/* The parameters of a request: for GET/HEAD the query string merged with a JSON body
 * (body wins), for anything else the JSON body only. */
struct params {
	json_object *obj;      /* always an object after params_load */
	json_object *errors;   /* array of strings; empty = valid so far */
	bool body_error;       /* body present but not JSON / not an object */
	char body_detail[160]; /* params_load_ref: why the body was not read ("" = it was) */
};

/* lxcscale's way (/api/v1): an unusable body is an error, the errors array says why. */
void params_load(struct req *r, struct params *p);
/* The reference's way (its get_json(silent=True)): an unusable body counts as no body, so
 * the validators report the fields it lacks; body_detail keeps lxcscale's reason. */
void params_load_ref(struct req *r, struct params *p);
void params_free(struct params *p);
bool params_ok(const struct params *p);
void params_fail(struct params *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Find the first of `names` (aliases) present. NULL when none. */
json_object *params_find(struct params *p, const char *const names[], const char **found);

/* Strict integer in [lo, hi]: a JSON integer, an integral JSON number, or a decimal string
 * ("104"). Booleans, fractions, exponents, overflow, empty strings are errors.
 * `label` names the field in the error. Returns false (and records an error) on failure,
 * or when missing and `required`. *present says whether it was given. */
bool params_int(struct params *p, const char *const names[], const char *label, long long lo,
		long long hi, bool required, long long *out, bool *present);
/* A number (fractions allowed) in [lo, hi]. */
bool params_number(struct params *p, const char *const names[], const char *label, double lo,
		   double hi, bool required, double *out, bool *present);
bool params_bool(struct params *p, const char *const names[], const char *label, bool dflt,
		 bool *out);
/* A string matching one of the name patterns below; `out` gets a bounded copy. */
enum name_kind { NAME_SNAPSHOT, NAME_HOST, NAME_NODE };
/* An optional free-text field (printable ASCII, 1..outlen-1 characters); "" when absent. */
bool params_text(struct params *p, const char *const names[], const char *label, char *out, size_t outlen);
bool params_name(struct params *p, const char *const names[], const char *label,
		 enum name_kind kind, bool required, char *out, size_t outlen);

/* ---- the reference's validators (its validation.py), with its texts ----
 * A field is looked up under names[0] (the reference's canonical name: vm_id, new_vm_id,
 * new_vm_name) and then its aliases in order, so {"vm_id":1,"lxc_id":2} acts on 1, as the
 * reference does. Missing: "Missing required field: <names[0]>". Numbers are read as
 * strictly as params_int reads them (no booleans, fractions, exponent strings, spaces);
 * what is not a number so read is "Invalid <format> format: <value>", a number out of
 * range "<What> must be between <lo> and <hi><unit>, got <n>"; <value> is written as the
 * reference's Python would print it (py_str). */
struct ref_int_rule {
	const char *const *names; /* canonical first, then aliases; NULL-terminated */
	long long lo, hi;
	const char *what;         /* "Container ID", "Cores", "Memory", "Disk size" */
	const char *unit;         /* "", " MB", " GB" */
	const char *format;       /* "container ID", "cores", "memory", "disk size" */
};
extern const struct ref_int_rule REF_VM_ID, REF_NEW_VM_ID, REF_CORES, REF_MEMORY, REF_DISK_SIZE;
extern const char *const REF_NEW_NAME_NAMES[], *const REF_SNAPSHOT_NAMES[], *const REF_NODE_NAMES[];
bool params_ref_int(struct params *p, const struct ref_int_rule *rule, long long *out);
/* Snapshot names, host names ('_' becomes '-', as the reference normalises) and node names. */
bool params_ref_name(struct params *p, const char *const names[], enum name_kind kind, char *out,
		     size_t outlen);
/* str() of the value in the reference's Python: strings as they are, null None, booleans
 * True/False, numbers as Python prints them, arrays and objects as Python's repr. Bounded:
 * a value longer than the buffer ends in "..."; invalid UTF-8 bytes become '?'. */
void py_str(json_object *v, char *buf, size_t len);
/* repr() of a text: a quoted Python string literal. */
void py_repr_text(const char *s, char *buf, size_t len);

/* Exposed for unit tests. */
bool name_valid(enum name_kind kind, const char *s);
int parse_strict_ll(const char *s, long long *out); /* 0 ok, -1 not a number, -2 overflow */

/* ---- auth (auth.c) ---- */
enum auth_result { AUTH_OK = 0, AUTH_MISSING, AUTH_WRONG, AUTH_MISCONFIGURED };
enum auth_result auth_check(const struct api_settings *s, const char *key);
/* The key of a request: the X-API-Key header, else (reference routes only) ?api_key=, which
 * sets *from_query. NULL when neither is given. */
const char *auth_request_key(struct req *r, bool *from_query);
/* Log, once per client address, that the key came in the URL (never the key itself). */
void auth_warn_query_key(struct req *r);
bool const_time_equal(const char *a, size_t alen, const char *b, size_t blen);

/* ---- running pct & co (pctcmd.c) ---- */
struct cmd_result {
	bool ok;           /* ran and exited 0 */
	char *out;         /* stdout (owned), never NULL */
	char detail[512];  /* what went wrong, for logs and show_stack_traces */
	char argv_text[256];
	int exit_code;       /* when it ran and exited (else -1) */
	bool timed_out, not_found;
	char ref_error[640]; /* on failure: the reference's words for it (str() of the RuntimeError
	                      * its pct wrapper raises: "Command failed: <stderr>", "... timed out
	                      * after Ns", "'pct' not found. ...") */
};
void cmd_run(struct api_server *srv, const char *prog, const char *const args[],
	     unsigned timeout_s, struct cmd_result *res);
void cmd_result_free(struct cmd_result *res);
/* Convenience: pct <args...> with lxc.timeout_seconds. */
void pct_run(struct api_server *srv, const char *const args[], struct cmd_result *res);

/* ---- helpers ---- */
void api_log(struct api_server *srv, enum api_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t api_now_ns(void);
int64_t api_wall_ms(void);
struct jsonw;
void decision_write(struct jsonw *w, const struct decision *d);
/* Takes a malloc()ed body (NULL = out of memory → 500). */
void resp_take(struct req *r, int status, const char *content_type, char *body, size_t len);

/* routes_v1.c: the SSE stream. */
void v1_events(struct req *r);
void route_ui(struct req *r);          /* api/routes_ui.c */

#endif

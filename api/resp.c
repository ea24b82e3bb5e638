/*
 * resp.c — every answer the API gives goes through here, so the envelope
 * ({"status","message","data"}), the error bodies and the 500 text are written in one
 * place and match the reference byte for byte where its clients might parse them.
 * With error_handling.show_stack_traces, a failed command on a reference route answers
 * what the reference answers: str() and repr() of the RuntimeError its pct wrapper raises.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERNAL_ERROR_TEXT "An internal error occurred. Please contact support if the issue persists."

void resp_set_header(struct req *r, const char *name, const char *fmt, ...)
{
	if (r->n_headers >= (int)(sizeof(r->headers) / sizeof(r->headers[0])))
		return;
	struct resp_header *h = &r->headers[r->n_headers++];
	h->name = name;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
}

void resp_text(struct req *r, int status, const char *content_type, const char *text, size_t len)
{
	free(r->resp_body);
	r->resp_body = malloc(len + 1);
	if (r->resp_body) {
		memcpy(r->resp_body, text, len);
		r->resp_body[len] = '\0';
		r->resp_len = len;
	} else {
		r->resp_len = 0;
	}
	r->status = status;
	r->content_type = content_type;
}

void resp_take(struct req *r, int status, const char *content_type, char *body, size_t len)
{
	if (!body) {
		resp_internal(r, "out of memory");
		return;
	}
	free(r->resp_body);
	r->resp_body = body;
	r->resp_len = len;
	r->status = status;
	r->content_type = content_type;
}

void resp_json(struct req *r, int status, json_object *obj)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	resp_text(r, status, "application/json", s, len);
	json_object_put(obj);
}

void resp_success(struct req *r, const char *msg, json_object *data)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "data", data);
	resp_json(r, 200, o);
}

void resp_error(struct req *r, int status, const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	resp_json(r, status, o);
}

void resp_error_code(struct req *r, int status, const char *code, const char *field, const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", json_object_new_string(code));
	if (field)
		json_object_object_add(o, "field", json_object_new_string(field));
	resp_json(r, status, o);
}

/* A change the daemon did not make, with its reason: the status says whose problem it is. */
void resp_backend_refusal(struct req *r, int rc, uint32_t vmid, const char *id_field, const char *err)
{
	char msg[320];
	const char *why = err && *err ? err : strerror(rc < 0 ? -rc : rc);
	switch (rc) {
	case -ENOENT:
		snprintf(msg, sizeof(msg), "container %u is not running under the daemon (%s)", vmid, why);
		resp_error_code(r, 404, "not_managed", id_field, msg);
		break;
	case -EPERM:
		resp_error_code(r, 422, "refused", NULL, why);
		break;
	case -EBUSY:
		resp_error_code(r, 409, "busy", NULL, why);
		break;
	case -EOPNOTSUPP:
		snprintf(msg, sizeof(msg), "the cgroup cannot be written on this host: %s", why);
		resp_error_code(r, 503, "cannot_write_here", NULL, msg);
		break;
	case -ETIMEDOUT:
	case -ECANCELED:
	case -ENOMEM:
		resp_error_code(r, 503, "daemon_unavailable", NULL, why);
		break;
	default:
		api_log(r->srv, API_LOG_ERROR, "%s %s: %s", r->method, r->url, why);
		resp_error_code(r, 500, "write_failed", NULL, why);
		break;
	}
}

void resp_validation_detail(struct req *r, json_object *errors, const char *detail)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "message", json_object_new_string("Validation failed"));
	json_object_object_add(o, "errors", errors);
	if (detail && *detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	resp_json(r, 400, o);
}

void resp_validation(struct req *r, json_object *errors)
{
	resp_validation_detail(r, errors, NULL);
}

void resp_internal(struct req *r, const char *detail)
{
	api_log(r->srv, API_LOG_ERROR, "%s %s: %s", r->method, r->url, detail ? detail : "?");
	if (!r->srv->set.show_stack_traces) {
		resp_error(r, 500, INTERNAL_ERROR_TEXT);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "message", json_object_new_string(detail ? detail : INTERNAL_ERROR_TEXT));
	json_object_object_add(o, "stack_trace", json_object_new_string(detail ? detail : ""));
	resp_json(r, 500, o);
}

void resp_internal_cmd(struct req *r, const struct cmd_result *cr)
{
	if (!r->srv->set.show_stack_traces || !cr->ref_error[0]) {
		resp_internal(r, cr->detail);
		return;
	}
	api_log(r->srv, API_LOG_ERROR, "%s %s: %s", r->method, r->url, cr->detail);
	/* repr() of the reference's RuntimeError: its message as a Python string literal */
	json_object *msg = json_object_new_string(cr->ref_error);
	char lit[800], trace[820];
	py_repr_text(cr->ref_error, lit, sizeof(lit));
	snprintf(trace, sizeof(trace), "RuntimeError(%s)", lit);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "message", msg);
	json_object_object_add(o, "stack_trace", json_object_new_string(trace));
	resp_json(r, 500, o);
}

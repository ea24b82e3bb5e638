/*
 * routes_ref.c — the reference system's container routes as its newest code answers them:
 * its field names and aliases with its precedence (vm_id before lxc_id before
 * container_id), its validation texts (params_ref_*), its success messages and `data`
 * (the command's output as a string), its pct argv, and its 500 texts
 * (docs/reference-compat.md, "REST routes"), so an existing client keeps working. What
 * lxcscale does differently on purpose is listed there too ("Differences kept on purpose").
 *
 * /scale/cores and /scale/ram go through the daemon (decision → cgroup write → persister)
 * when a backend is attached: manual scaling is then immediate, journalled and persisted
 * like the daemon's own. When the daemon does not manage the container (backend answers
 * -ENOENT) or no backend is attached, they run `pct set` directly, as the reference did.
 * /scale/cores takes what the reference takes (1..128); a cgroup can be given no more
 * than the host's CPUs, so for a running container asked for more the daemon gives its
 * cgroup the host's CPUs and this file writes the cores asked to the config (`pct set`),
 * which Proxmox keeps; the answer and the log say so. The other routes always run pct
 * (snapshots, clones, resize are not limits).
 *
 * Every value reaching an argv has been validated: ids are integers printed by us, names
 * match the reference's patterns (never a leading '-'), so no argument can become an option.
 */
#include "internal.h"
#include "jsonw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Raw command output as `data`, stripped at both ends as the reference's str.strip() does. */
static json_object *raw_data(const char *out)
{
	static const char ws[] = " \t\n\r\v\f";
	while (*out && strchr(ws, *out))
		out++;
	size_t n = strlen(out);
	while (n && strchr(ws, out[n - 1]))
		n--;
	return json_object_new_string_len(out, (int)n);
}

/* Answers with a finished command: 500 with its error, or success with MSG and its output as
 * `data`. Frees CR. */
static void answer_with_output(struct req *r, struct cmd_result *cr, const char *msg)
{
	if (!cr->ok)
		resp_internal_cmd(r, cr);
	else
		resp_success(r, msg, raw_data(cr->out));
	cmd_result_free(cr);
}

/* Ends the reading of a request's parameters: frees P and, when it collected errors,
 * answers 400 with every one of them, in the reference's words, plus lxcscale's reason
 * when the body could not be read (counted as an invalid scaling request for VMID and RES
 * when COUNT). True when it answered: the route has nothing more to do. */
static bool params_rejected(struct req *r, struct params *p, enum metrics_resource res, bool count,
			    uint32_t vmid)
{
	bool bad = !params_ok(p);
	if (bad) {
		if (count)
			metrics_scaling_failure(&r->srv->metrics, vmid, res, REASON_INVALID_REQUEST);
		resp_validation_detail(r, json_object_get(p->errors), p->body_detail);
	}
	params_free(p);
	return bad;
}

static bool get_id(struct params *p, const struct ref_int_rule *rule, uint32_t *id)
{
	long long v = 0;
	if (!params_ref_int(p, rule, &v))
		return false;
	*id = (uint32_t)v;
	return true;
}

/* For the routes that take nothing but the container's id (vm_id or an alias): true with
 * *ID set, or false after answering 400. */
static bool read_id_only(struct req *r, uint32_t *id)
{
	struct params p;
	params_load_ref(r, &p);
	*id = 0;
	get_id(&p, &REF_VM_ID, id);
	return !params_rejected(r, &p, RES_CPU, false, 0);
}

/* ---- scaling ---------------------------------------------------------------------------- */

/* Hands the change to the daemon. 0: done (*applied); -ENOENT/-ENOSYS: not the daemon's
 * container, or no daemon (use pct); else its refusal, err says why, *applied what it
 * tried (cpu.to is the clamped value for cores beyond the host's CPUs). */
static int backend_apply(struct req *r, uint32_t id, bool cores_route, long long value,
			 struct decision *applied, char *err, size_t errlen)
{
	struct api_server *srv = r->srv;
	memset(applied, 0, sizeof(*applied));
	if (!srv->has_backend || !srv->backend.apply_limits)
		return -ENOSYS;
	struct api_limits_request lr = {
		.vmid = id,
		.set_cores = cores_route,
		.cores = (double)value,
		.set_memory = !cores_route,
		.memory_mb = (uint64_t)value,
		.persist = true,
		.source = cores_route ? "POST /scale/cores" : "POST /scale/ram",
		.force = true, /* the reference's routes: ignore_lxc concerns only the autoscaler */
		.clamp_to_host = cores_route,
	};
	err[0] = '\0';
	return srv->backend.apply_limits(srv->backend.ctx, &lr, applied, err, errlen);
}

/* The daemon refused or failed: the status that fits, with its reason. */
static void backend_refused(struct req *r, int rc, uint32_t id, enum metrics_resource res, const char *err)
{
	struct api_server *srv = r->srv;
	if (rc == -EINVAL) {
		metrics_scaling_failure(&srv->metrics, id, res, REASON_INVALID_REQUEST);
		json_object *errs = json_object_new_array();
		json_object_array_add(errs, json_object_new_string(err[0] ? err : "refused by the daemon"));
		resp_validation(r, errs);
		return;
	}
	metrics_scaling_failure(&srv->metrics, id, res, REASON_COMMAND_FAILED);
	resp_backend_refusal(r, rc, id, "lxc_id", err);
}

/* pct set failed. The scale routes say why, with the status that fits (the reference
 * answered 500 "contact support" for all of them): 404 for a container with no config,
 * 409 for a locked one, else 500 with pct's words. `already` (may be NULL) says what had
 * changed before (the cgroup, for cores beyond the host's CPUs). */
static void scale_pct_failed(struct req *r, uint32_t id, const struct cmd_result *cr, const char *already)
{
	char msg[800];
	/* "nothing changed" only when nothing did: not when the cgroup was changed before */
	const char *unchanged = already ? "its config is unchanged" : "nothing changed";
	const char *sep = already ? "; " : "";
	already = already ? already : "";
	if (strstr(cr->detail, "does not exist")) {
		snprintf(msg, sizeof(msg), "container %u does not exist (not running under the daemon, "
			 "and pct has no config for it: %s)%s%s", id, cr->detail, sep, already);
		resp_error_code(r, 404, "no_such_container", "lxc_id", msg);
	} else if (strstr(cr->detail, "is locked")) {
		snprintf(msg, sizeof(msg), "container %u is locked; %s (%s)%s%s", id, unchanged, cr->detail,
			 sep, already);
		resp_error_code(r, 409, "locked", NULL, msg);
	} else {
		snprintf(msg, sizeof(msg), "pct set failed; %s (%s)%s%s", unchanged, cr->detail, sep, already);
		resp_error_code(r, 500, "command_failed", NULL, msg);
	}
}

/* 200 in the reference's envelope plus the decision the daemon applied (and, when the
 * cgroup got fewer cores than the config, how many). */
static void answer_decision(struct req *r, const char *msg, const char *data, const struct decision *d,
			    double cgroup_cores)
{
	struct jsonw w;
	jw_init(&w, 1024);
	jw_obj_begin(&w);
	jw_kstr(&w, "status", "success");
	jw_kstr(&w, "message", msg);
	jw_kstr(&w, "data", data);
	if (cgroup_cores > 0)
		jw_knum(&w, "cgroup_cores", cgroup_cores);
	jw_key(&w, "decision");
	decision_write(&w, d);
	jw_obj_end(&w);
	size_t len;
	char *body = jw_finish(&w, &len);
	resp_take(r, 200, "application/json", body, len);
}

static void count_success(struct api_server *srv, uint32_t id, bool cores_route, long long value)
{
	enum metrics_resource res = cores_route ? RES_CPU : RES_RAM;
	metrics_scaling_action(&srv->metrics, id, res, ACT_SET);
	metrics_container_gauges(&srv->metrics, id, cores_route, (double)value, !cores_route, (double)value);
}

/* `pct set <id> -cores|-memory <value>`, the reference's argv. */
static void pct_set(struct api_server *srv, uint32_t id, bool cores_route, long long value,
		    struct cmd_result *cr)
{
	char ids[16], vals[24];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(vals, sizeof(vals), "%lld", value);
	const char *args[] = {"set", ids, cores_route ? "-cores" : "-memory", vals, NULL};
	pct_run(srv, args, cr);
}

/* The daemon gave the cgroup fewer cores than asked (the host's CPUs; or could not write it
 * at all, cgroup_ok false): the config takes the cores asked, as `pct set` would have. */
static void scale_clamped(struct req *r, uint32_t id, long long value, const char *msg,
			  const struct decision *applied, bool cgroup_ok, const char *err)
{
	struct api_server *srv = r->srv;
	struct cmd_result cr;
	pct_set(srv, id, true, value, &cr);
	char note[400];
	if (!cr.ok) {
		metrics_scaling_failure(&srv->metrics, id, RES_CPU, REASON_COMMAND_FAILED);
		if (cgroup_ok)
			snprintf(note, sizeof(note), "its cgroup holds this host's %g CPUs already", applied->cpu_to);
		else
			snprintf(note, sizeof(note), "its cgroup was not changed either (%.200s)", err);
		scale_pct_failed(r, id, &cr, note);
		cmd_result_free(&cr);
		return;
	}
	cmd_result_free(&cr);
	count_success(srv, id, true, value);
	if (cgroup_ok)
		snprintf(note, sizeof(note), "cores %lld written to the config; the running container's cgroup "
			 "holds this host's %g CPUs (a cgroup cannot be given more)", value, applied->cpu_to);
	else
		snprintf(note, sizeof(note), "cores %lld written to the config only, not in force: the cgroup "
			 "cannot be written on this host (%.200s)", value, err);
	api_log(srv, API_LOG_INFO, "POST /scale/cores: container %u: %s", id, note);
	answer_decision(r, msg, note, applied, cgroup_ok ? applied->cpu_to : 0);
}

static void scale_common(struct req *r, bool cores_route)
{
	struct api_server *srv = r->srv;
	enum metrics_resource res = cores_route ? RES_CPU : RES_RAM;
	struct params p;
	params_load_ref(r, &p);
	uint32_t id = 0;
	long long value = 0;
	get_id(&p, &REF_VM_ID, &id);
	params_ref_int(&p, cores_route ? &REF_CORES : &REF_MEMORY, &value);
	if (params_rejected(r, &p, res, true, id))
		return;

	char msg[128];
	if (cores_route)
		snprintf(msg, sizeof(msg), "CPU cores set to %lld for container %u", value, id);
	else
		snprintf(msg, sizeof(msg), "RAM set to %lld MB for container %u", value, id);

	struct decision applied;
	char err[256];
	int rc = backend_apply(r, id, cores_route, value, &applied, err, sizeof(err));
	bool clamped = cores_route && applied.cpu_change != DECISION_NONE && applied.cpu_to < (double)value;
	if (rc == 0 && clamped) {
		scale_clamped(r, id, value, msg, &applied, true, "");
		return;
	}
	if (rc == -EOPNOTSUPP && clamped) { /* no cpu controller here: config only, as below */
		scale_clamped(r, id, value, msg, &applied, false, err);
		return;
	}
	if (rc == 0) {
		count_success(srv, id, cores_route, value);
		answer_decision(r, msg, "", &applied, 0);
		return;
	}
	if (rc != -ENOENT && rc != -ENOSYS) {
		backend_refused(r, rc, id, res, err);
		return;
	}

	struct cmd_result cr;
	pct_set(srv, id, cores_route, value, &cr);
	if (!cr.ok) {
		metrics_scaling_failure(&srv->metrics, id, res, REASON_COMMAND_FAILED);
		scale_pct_failed(r, id, &cr, NULL);
	} else {
		count_success(srv, id, cores_route, value);
		resp_success(r, msg, raw_data(cr.out));
	}
	cmd_result_free(&cr);
}

void route_scale_cores(struct req *r) { scale_common(r, true); }
void route_scale_ram(struct req *r) { scale_common(r, false); }

/* One relative `pct resize <id> rootfs +<n>G`, as the reference's newest code runs it: no
 * read of the current size, so no race with another resize and no rounding. */
void route_storage_increase(struct req *r)
{
	struct api_server *srv = r->srv;
	struct params p;
	params_load_ref(r, &p);
	uint32_t id = 0;
	long long add = 0;
	get_id(&p, &REF_VM_ID, &id);
	params_ref_int(&p, &REF_DISK_SIZE, &add);
	if (params_rejected(r, &p, RES_STORAGE, true, id))
		return;

	char ids[16], size[32];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(size, sizeof(size), "+%lldG", add);
	const char *args[] = {"resize", ids, "rootfs", size, NULL};
	struct cmd_result cr;
	pct_run(srv, args, &cr);
	if (!cr.ok) {
		metrics_scaling_failure(&srv->metrics, id, RES_STORAGE, REASON_COMMAND_FAILED);
	} else {
		metrics_scaling_action(&srv->metrics, id, RES_STORAGE, ACT_INCREASE);
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "Storage increased by %lld GB for container %u", add, id);
	answer_with_output(r, &cr, msg);
}

/* ---- snapshots -------------------------------------------------------------------------- */

static void snapshot_action(struct req *r, const char *verb)
{
	struct params p;
	params_load_ref(r, &p);
	uint32_t id = 0;
	char name[64] = "";
	get_id(&p, &REF_VM_ID, &id);
	params_ref_name(&p, REF_SNAPSHOT_NAMES, NAME_SNAPSHOT, name, sizeof(name));
	if (params_rejected(r, &p, RES_CPU, false, 0))
		return;
	char ids[16], msg[160];
	snprintf(ids, sizeof(ids), "%u", id);
	const char *args[] = {verb, ids, name, NULL};
	struct cmd_result cr;
	pct_run(r->srv, args, &cr);
	if (!strcmp(verb, "snapshot"))
		snprintf(msg, sizeof(msg), "Snapshot '%s' created for container %u", name, id);
	else
		snprintf(msg, sizeof(msg), "Container %u rolled back to snapshot '%s'", id, name);
	answer_with_output(r, &cr, msg);
}

void route_snapshot_create(struct req *r) { snapshot_action(r, "snapshot"); }
void route_snapshot_rollback(struct req *r) { snapshot_action(r, "rollback"); }

/* Run a single `pct <verb> <id>` for a GET route and return its raw stdout, with the
 * message "<what> for container <id>". */
static void simple_get(struct req *r, const char *verb, const char *what)
{
	uint32_t id;
	if (!read_id_only(r, &id))
		return;
	char ids[16], msg[128];
	snprintf(ids, sizeof(ids), "%u", id);
	const char *args[] = {verb, ids, NULL};
	struct cmd_result cr;
	pct_run(r->srv, args, &cr);
	snprintf(msg, sizeof(msg), "%s for container %u", what, id);
	answer_with_output(r, &cr, msg);
}

void route_snapshot_list(struct req *r) { simple_get(r, "listsnapshot", "Snapshots listed"); }
void route_lxc_status(struct req *r) { simple_get(r, "status", "Resource status retrieved"); }

/* ---- clones ----------------------------------------------------------------------------- */

/* A failed step's words, kept after its output is freed. */
struct failure {
	bool failed;
	struct cmd_result cr; /* out freed; detail and ref_error kept */
};

static void keep_failure(struct failure *f, struct cmd_result *cr)
{
	if (!cr->ok && !f->failed) {
		f->failed = true;
		f->cr = *cr;
		f->cr.out = NULL;
	}
	cmd_result_free(cr);
}

void route_clone_create(struct req *r)
{
	struct params p;
	params_load_ref(r, &p);
	uint32_t id = 0, newid = 0;
	char name[64] = "";
	bool a = get_id(&p, &REF_VM_ID, &id);
	bool b = get_id(&p, &REF_NEW_VM_ID, &newid);
	params_ref_name(&p, REF_NEW_NAME_NAMES, NAME_HOST, name, sizeof(name));
	if (a && b && id == newid) /* lxcscale's own check: pct would fail after the snapshot */
		params_fail(&p, "new_lxc_id must differ from lxc_id");
	if (params_rejected(r, &p, RES_CPU, false, 0))
		return;

	char ids[16], newids[16], snap[32];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(newids, sizeof(newids), "%u", newid);
	snprintf(snap, sizeof(snap), "snapshot-%u", newid);
	struct cmd_result cr;

	const char *s1[] = {"snapshot", ids, snap, NULL};
	pct_run(r->srv, s1, &cr);
	if (!cr.ok) {
		resp_internal_cmd(r, &cr);
		cmd_result_free(&cr);
		return;
	}
	cmd_result_free(&cr);

	struct failure fail = {0};
	const char *s2[] = {"clone", ids, newids, "--hostname", name, "--snapname", snap, NULL};
	pct_run(r->srv, s2, &cr);
	keep_failure(&fail, &cr);
	if (!fail.failed) {
		const char *s3[] = {"start", newids, NULL};
		pct_run(r->srv, s3, &cr);
		keep_failure(&fail, &cr);
	}
	/* Always remove the temporary snapshot (the reference's `finally`). */
	const char *s4[] = {"delsnapshot", ids, snap, NULL};
	struct failure cleanup = {0};
	pct_run(r->srv, s4, &cr);
	keep_failure(&cleanup, &cr);

	if (fail.failed) { /* the error that broke the clone, never the cleanup's */
		resp_internal_cmd(r, &fail.cr);
		return;
	}
	char msg[800], data[256];
	if (!cleanup.failed) {
		snprintf(msg, sizeof(msg), "Clone operation completed successfully.");
		snprintf(data, sizeof(data), "Container %u cloned from %u and started successfully. Snapshot %s removed.",
			 newid, id, snap);
	} else {
		snprintf(msg, sizeof(msg), "Clone succeeded; snapshot cleanup failed: %s", cleanup.cr.ref_error);
		snprintf(data, sizeof(data), "Container %u cloned from %u and started successfully, but the "
			 "temporary snapshot %s could not be removed.", newid, id, snap);
		api_log(r->srv, API_LOG_ERROR, "Failed to delete temporary snapshot '%s' of container %u: %s",
			snap, id, cleanup.cr.detail);
	}
	resp_success(r, msg, json_object_new_string(data));
}

void route_clone_delete(struct req *r)
{
	uint32_t id;
	if (!read_id_only(r, &id))
		return;
	char ids[16];
	snprintf(ids, sizeof(ids), "%u", id);
	struct cmd_result cr;
	const char *stop[] = {"stop", ids, NULL};
	pct_run(r->srv, stop, &cr);
	if (!cr.ok) {
		/* Already stopped is fine (lxcscale's own: the reference answers 500 and destroys
		 * nothing); anything else (missing CT, lock) is an error. */
		struct cmd_result st;
		const char *status[] = {"status", ids, NULL};
		pct_run(r->srv, status, &st);
		bool stopped = st.ok && strstr(st.out, "status: stopped");
		cmd_result_free(&st);
		if (!stopped) {
			resp_internal_cmd(r, &cr);
			cmd_result_free(&cr);
			return;
		}
		cr.out[0] = '\0'; /* its words are not the answer's */
	}
	struct cmd_result de;
	const char *destroy[] = {"destroy", ids, NULL};
	pct_run(r->srv, destroy, &de);
	if (!de.ok) {
		cmd_result_free(&cr);
		answer_with_output(r, &de, "");
		return;
	}
	/* the outputs of both steps, as the reference joins them: the non-empty ones, one a line */
	json_object *s1 = raw_data(cr.out), *s2 = raw_data(de.out);
	const char *o1 = json_object_get_string(s1), *o2 = json_object_get_string(s2);
	size_t l1 = strlen(o1), l2 = strlen(o2);
	char *joined = malloc(l1 + l2 + 2);
	json_object *data = NULL;
	if (joined) {
		snprintf(joined, l1 + l2 + 2, "%s%s%s", o1, l1 && l2 ? "\n" : "", o2);
		data = json_object_new_string(joined);
		free(joined);
	}
	json_object_put(s1);
	json_object_put(s2);
	cmd_result_free(&cr);
	cmd_result_free(&de);
	if (!data) {
		resp_internal(r, "out of memory");
		return;
	}
	char msg[96];
	snprintf(msg, sizeof(msg), "Container %u successfully deleted", id);
	resp_success(r, msg, data);
}

/* ---- resources -------------------------------------------------------------------------- */

/* The value of `key: value` in pct config output, copied into buf. */
static bool conf_value(const char *out, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	for (const char *line = out; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t ll = eol ? (size_t)(eol - line) : strlen(line);
		if (ll > kl + 1 && !strncmp(line, key, kl) && line[kl] == ':') {
			const char *v = line + kl + 1;
			while (*v == ' ' && v < line + ll)
				v++;
			size_t vl = (size_t)(line + ll - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= len)
				return false;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return true;
		}
		line = eol ? eol + 1 : NULL;
	}
	return false;
}

static json_object *conf_int(const char *out, const char *key, bool *has, double *v)
{
	char buf[32];
	long long x;
	*has = false;
	if (!conf_value(out, key, buf, sizeof(buf)) || parse_strict_ll(buf, &x) != 0 || x < 0)
		return NULL; /* absent (cores: all host CPUs) or unreadable: null */
	*has = true;
	*v = (double)x;
	return json_object_new_int64(x);
}

void route_lxc_config(struct req *r)
{
	uint32_t id;
	if (!read_id_only(r, &id))
		return;
	char ids[16];
	snprintf(ids, sizeof(ids), "%u", id);
	const char *args[] = {"config", ids, NULL};
	struct cmd_result cr;
	pct_run(r->srv, args, &cr);
	if (!cr.ok) {
		resp_internal_cmd(r, &cr);
		cmd_result_free(&cr);
		return;
	}
	bool hc, hm;
	double c = 0, m = 0;
	json_object *data = json_object_new_object();
	json_object_object_add(data, "lxc_id", json_object_new_int64(id));
	json_object_object_add(data, "vm_id", json_object_new_int64(id));
	json_object_object_add(data, "cores", conf_int(cr.out, "cores", &hc, &c));
	json_object_object_add(data, "memory_mb", conf_int(cr.out, "memory", &hm, &m));
	cmd_result_free(&cr);
	metrics_container_gauges(&r->srv->metrics, id, hc, c, hm, m);
	char msg[96];
	snprintf(msg, sizeof(msg), "Successfully retrieved configuration for container %u", id);
	resp_success(r, msg, data);
}

/* node_name is required, as in the reference (lxc.node is only the health check's). */
void route_node_status(struct req *r)
{
	struct api_server *srv = r->srv;
	struct params p;
	params_load_ref(r, &p);
	char node[80] = "";
	params_ref_name(&p, REF_NODE_NAMES, NAME_NODE, node, sizeof(node));
	if (params_rejected(r, &p, RES_CPU, false, 0))
		return;
	char path[128];
	snprintf(path, sizeof(path), "/nodes/%s/status", node);
	const char *args[] = {"get", path, NULL};
	struct cmd_result cr;
	cmd_run(srv, srv->set.pvesh_path ? srv->set.pvesh_path : "pvesh", args, srv->set.lxc_timeout_s, &cr);
	char msg[128];
	snprintf(msg, sizeof(msg), "Resource status retrieved for node '%s'", node);
	answer_with_output(r, &cr, msg);
}

void route_cluster_status(struct req *r)
{
	struct api_server *srv = r->srv;
	const char *args[] = {"status", NULL};
	struct cmd_result cr;
	cmd_run(srv, srv->set.pvecm_path ? srv->set.pvecm_path : "pvecm", args, srv->set.lxc_timeout_s, &cr);
	answer_with_output(r, &cr, "Cluster resource status retrieved successfully");
}

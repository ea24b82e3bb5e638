/*
 * routes_ref.c — the reference system's container routes, with its bodies, aliases,
 * messages and pct argv (docs/reference-compat.md, "REST routes"), so an existing client
 * keeps working.
 *
 * /scale/cores and /scale/ram go through the daemon (decision → cgroup write → persister)
 * when a backend is attached: manual scaling is then immediate, journalled and persisted
 * like the daemon's own. When the daemon does not manage the container (backend answers
 * -ENOENT) or no backend is attached, they run `pct set` directly, as the reference did.
 * The other routes always run pct (snapshots, clones, resize are not limits).
 *
 * Every value reaching an argv has been validated: ids are integers printed by us, names
 * match the reference's patterns (never a leading '-'), so no argument can become an option.
 */
#include "internal.h"
#include "jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const ID_NAMES[] = {"lxc_id", "vm_id", "container_id", NULL};
static const char *const NEW_ID_NAMES[] = {"new_lxc_id", "new_vm_id", NULL};
static const char *const NEW_NAME_NAMES[] = {"new_lxc_name", "new_vm_name", "hostname", NULL};
static const char *const CORES_NAMES[] = {"cores", NULL};
static const char *const MEMORY_NAMES[] = {"memory", NULL};
static const char *const DISK_NAMES[] = {"disk_size", NULL};
static const char *const SNAP_NAMES[] = {"snapshot_name", NULL};
static const char *const NODE_NAMES[] = {"node_name", NULL};

/* Raw command output as `data`, without the trailing newline. */
static json_object *raw_data(const char *out)
{
	size_t n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		n--;
	return json_object_new_string_len(out, (int)n);
}

/* Answers with a finished command: 500 with its error, or success with MSG and its output as
 * `data`. Frees CR. */
static void answer_with_output(struct req *r, struct cmd_result *cr, const char *msg)
{
	if (!cr->ok)
		resp_internal(r, cr->detail);
	else
		resp_success(r, msg, raw_data(cr->out));
	cmd_result_free(cr);
}

/* Ends the reading of a request's parameters: frees P and, when it collected errors,
 * answers 400 with every one of them (counted as an invalid scaling request for VMID and
 * RES when COUNT). True when it answered: the route has nothing more to do. */
static bool params_rejected(struct req *r, struct params *p, enum metrics_resource res, bool count,
			    uint32_t vmid)
{
	bool bad = !params_ok(p);
	if (bad) {
		if (count)
			metrics_scaling_failure(&r->srv->metrics, vmid, res, REASON_INVALID_REQUEST);
		resp_validation(r, json_object_get(p->errors));
	}
	params_free(p);
	return bad;
}

static bool get_id(struct params *p, const char *const names[], const char *label, uint32_t *id)
{
	long long v = 0;
	if (!params_int(p, names, label, 100, 999999, true, &v, NULL))
		return false;
	*id = (uint32_t)v;
	return true;
}

/* For the routes that take nothing but the container's id (lxc_id or an alias): true with
 * *ID set, or false after answering 400. */
static bool read_id_only(struct req *r, uint32_t *id)
{
	struct params p;
	params_load(r, &p);
	*id = 0;
	if (!p.body_error)
		get_id(&p, ID_NAMES, "lxc_id", id);
	return !params_rejected(r, &p, RES_CPU, false, 0);
}

/* ---- scaling ---------------------------------------------------------------------------- */

/* 0 done, -ENOENT/-ENOSYS: use pct, else an error already answered. */
static int scale_via_backend(struct req *r, uint32_t id, bool set_cores, double cores,
			     uint64_t memory_mb, struct decision *applied)
{
	struct api_server *srv = r->srv;
	if (!srv->has_backend || !srv->backend.apply_limits)
		return -ENOSYS;
	struct api_limits_request lr = {
		.vmid = id,
		.set_cores = set_cores,
		.cores = cores,
		.set_memory = !set_cores,
		.memory_mb = memory_mb,
		.persist = true,
		.source = set_cores ? "POST /scale/cores" : "POST /scale/ram",
		.force = true, /* the reference's routes: ignore_lxc concerns only the autoscaler */
	};
	struct decision d;
	char err[256] = "";
	memset(&d, 0, sizeof(d));
	int rc = srv->backend.apply_limits(srv->backend.ctx, &lr, &d, err, sizeof(err));
	if (rc == 0) {
		*applied = d;
		return 0;
	}
	if (rc == -ENOENT)
		return -ENOENT;
	enum metrics_resource res = set_cores ? RES_CPU : RES_RAM;
	if (rc == -EINVAL) {
		metrics_scaling_failure(&srv->metrics, id, res, REASON_INVALID_REQUEST);
		json_object *errs = json_object_new_array();
		json_object_array_add(errs, json_object_new_string(err[0] ? err : "refused by the daemon"));
		resp_validation(r, errs);
		return -EINVAL;
	}
	metrics_scaling_failure(&srv->metrics, id, res, REASON_COMMAND_FAILED);
	resp_backend_refusal(r, rc, id, "lxc_id", err);
	return rc;
}

/* pct set failed for a container the daemon does not run. The scale routes say why, with
 * the status that fits (the reference answered 500 "contact support" for all of them):
 * 404 for a container with no config, 409 for a locked one, else 500 with pct's words. */
static void scale_pct_failed(struct req *r, uint32_t id, const struct cmd_result *cr)
{
	char msg[640];
	if (strstr(cr->detail, "does not exist")) {
		snprintf(msg, sizeof(msg), "container %u does not exist (not running under the daemon, "
			 "and pct has no config for it: %s)", id, cr->detail);
		resp_error_code(r, 404, "no_such_container", "lxc_id", msg);
	} else if (strstr(cr->detail, "is locked")) {
		snprintf(msg, sizeof(msg), "container %u is locked; nothing changed (%s)", id, cr->detail);
		resp_error_code(r, 409, "locked", NULL, msg);
	} else {
		snprintf(msg, sizeof(msg), "pct set failed; nothing changed (%s)", cr->detail);
		resp_error_code(r, 500, "command_failed", NULL, msg);
	}
}

static void scale_common(struct req *r, bool cores_route)
{
	struct api_server *srv = r->srv;
	enum metrics_resource res = cores_route ? RES_CPU : RES_RAM;
	struct params p;
	params_load(r, &p);
	uint32_t id = 0;
	long long value = 0;
	if (!p.body_error) {
		get_id(&p, ID_NAMES, "lxc_id", &id);
		if (cores_route) {
			long long maxc = srv->host_cpus < 128 ? srv->host_cpus : 128;
			params_int(&p, CORES_NAMES, "cores", 1, maxc, true, &value, NULL);
		} else {
			params_int(&p, MEMORY_NAMES, "memory", 64, 1048576, true, &value, NULL);
		}
	}
	if (params_rejected(r, &p, res, true, id))
		return;

	char msg[128];
	if (cores_route)
		snprintf(msg, sizeof(msg), "CPU cores set to %lld for container %u", value, id);
	else
		snprintf(msg, sizeof(msg), "RAM set to %lld MB for container %u", value, id);

	struct decision applied;
	int rc = scale_via_backend(r, id, cores_route, (double)value, (uint64_t)value, &applied);
	if (rc == 0) {
		metrics_scaling_action(&srv->metrics, id, res, ACT_SET);
		metrics_container_gauges(&srv->metrics, id, cores_route, (double)value, !cores_route,
					 (double)value);
		/* the reference's envelope plus the decision the daemon applied */
		struct jsonw w;
		jw_init(&w, 1024);
		jw_obj_begin(&w);
		jw_kstr(&w, "status", "success");
		jw_kstr(&w, "message", msg);
		jw_kstr(&w, "data", "");
		jw_key(&w, "decision");
		decision_write(&w, &applied);
		jw_obj_end(&w);
		size_t len;
		char *body = jw_finish(&w, &len);
		resp_take(r, 200, "application/json", body, len);
		return;
	}
	if (rc != -ENOENT && rc != -ENOSYS)
		return; /* answered */

	char ids[16], vals[24];
	snprintf(ids, sizeof(ids), "%u", id);
	snprintf(vals, sizeof(vals), "%lld", value);
	const char *args[] = {"set", ids, cores_route ? "-cores" : "-memory", vals, NULL};
	struct cmd_result cr;
	pct_run(srv, args, &cr);
	if (!cr.ok) {
		metrics_scaling_failure(&srv->metrics, id, res, REASON_COMMAND_FAILED);
		scale_pct_failed(r, id, &cr);
	} else {
		metrics_scaling_action(&srv->metrics, id, res, ACT_SET);
		metrics_container_gauges(&srv->metrics, id, cores_route, (double)value, !cores_route,
					 (double)value);
		resp_success(r, msg, raw_data(cr.out));
	}
	cmd_result_free(&cr);
}

void route_scale_cores(struct req *r) { scale_common(r, true); }
void route_scale_ram(struct req *r) { scale_common(r, false); }

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

/* size=<n>[KMGT] of a volume string -> bytes. No unit means bytes (PVE's parse_size). */
static bool volume_size_bytes(const char *vol, double *bytes)
{
	for (const char *p = vol; (p = strstr(p, "size=")); p++) {
		if (p != vol && p[-1] != ',' && p[-1] != ':')
			continue;
		char *end;
		errno = 0;
		double v = strtod(p + 5, &end);
		if (errno || end == p + 5 || !isfinite(v) || v < 0)
			return false;
		double mult = 1;
		switch (*end) {
		case 'K': mult = 1024.0; end++; break;
		case 'M': mult = 1048576.0; end++; break;
		case 'G': mult = 1073741824.0; end++; break;
		case 'T': mult = 1099511627776.0; end++; break;
		default: break;
		}
		if (*end && *end != ',')
			return false;
		*bytes = v * mult;
		return true;
	}
	return false;
}

void route_storage_increase(struct req *r)
{
	struct api_server *srv = r->srv;
	struct params p;
	params_load(r, &p);
	uint32_t id = 0;
	long long add = 0;
	if (!p.body_error) {
		get_id(&p, ID_NAMES, "lxc_id", &id);
		params_int(&p, DISK_NAMES, "disk_size", 1, 10240, true, &add, NULL);
	}
	if (params_rejected(r, &p, RES_STORAGE, true, id))
		return;

	char ids[16];
	snprintf(ids, sizeof(ids), "%u", id);
	const char *cargs[] = {"config", ids, NULL};
	struct cmd_result cr;
	pct_run(srv, cargs, &cr);
	if (!cr.ok) {
		metrics_scaling_failure(&srv->metrics, id, RES_STORAGE, REASON_COMMAND_FAILED);
		resp_internal(r, cr.detail);
		cmd_result_free(&cr);
		return;
	}
	char vol[1024];
	double cur = 0;
	bool ok = conf_value(cr.out, "rootfs", vol, sizeof(vol)) && volume_size_bytes(vol, &cur);
	cmd_result_free(&cr);
	if (!ok) {
		metrics_scaling_failure(&srv->metrics, id, RES_STORAGE, REASON_COMMAND_FAILED);
		resp_internal(r, "cannot read the rootfs size from pct config");
		return;
	}
	/* New absolute size: whole GiB when the current size is, else MiB (never rounds down). */
	char size[32];
	double gib = cur / 1073741824.0;
	if (gib == floor(gib))
		snprintf(size, sizeof(size), "%.0fG", gib + (double)add);
	else
		snprintf(size, sizeof(size), "%.0fM", ceil(cur / 1048576.0) + (double)add * 1024.0);
	const char *rargs[] = {"resize", ids, "rootfs", size, NULL};
	pct_run(srv, rargs, &cr);
	if (!cr.ok) {
		metrics_scaling_failure(&srv->metrics, id, RES_STORAGE, REASON_COMMAND_FAILED);
		resp_internal(r, cr.detail);
	} else {
		char msg[160];
		snprintf(msg, sizeof(msg), "Storage increased by %lld GB for container %u", add, id);
		metrics_scaling_action(&srv->metrics, id, RES_STORAGE, ACT_INCREASE);
		resp_success(r, msg, raw_data(cr.out));
	}
	cmd_result_free(&cr);
}

/* ---- snapshots -------------------------------------------------------------------------- */

static void snapshot_action(struct req *r, const char *verb)
{
	struct params p;
	params_load(r, &p);
	uint32_t id = 0;
	char name[64] = "";
	if (!p.body_error) {
		get_id(&p, ID_NAMES, "lxc_id", &id);
		params_name(&p, SNAP_NAMES, "snapshot_name", NAME_SNAPSHOT, true, name, sizeof(name));
	}
	if (params_rejected(r, &p, RES_CPU, false, 0))
		return;
	char ids[16], msg[160];
	snprintf(ids, sizeof(ids), "%u", id);
	const char *args[] = {verb, ids, name, NULL};
	struct cmd_result cr;
	pct_run(r->srv, args, &cr);
	if (!strcmp(verb, "snapshot"))
		snprintf(msg, sizeof(msg), "Snapshot %s created for container %u", name, id);
	else
		snprintf(msg, sizeof(msg), "Container %u rolled back to snapshot %s", id, name);
	answer_with_output(r, &cr, msg);
}

void route_snapshot_create(struct req *r) { snapshot_action(r, "snapshot"); }
void route_snapshot_rollback(struct req *r) { snapshot_action(r, "rollback"); }

/* Run a single `pct <verb> <id>` for a GET route and return its raw stdout. */
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

void route_snapshot_list(struct req *r) { simple_get(r, "listsnapshot", "Snapshots"); }
void route_lxc_status(struct req *r) { simple_get(r, "status", "Status"); }

/* ---- clones ----------------------------------------------------------------------------- */

void route_clone_create(struct req *r)
{
	struct params p;
	params_load(r, &p);
	uint32_t id = 0, newid = 0;
	char name[64] = "";
	if (!p.body_error) {
		bool a = get_id(&p, ID_NAMES, "lxc_id", &id);
		bool b = get_id(&p, NEW_ID_NAMES, "new_lxc_id", &newid);
		params_name(&p, NEW_NAME_NAMES, "new_lxc_name", NAME_HOST, true, name, sizeof(name));
		if (a && b && id == newid)
			params_fail(&p, "new_lxc_id must differ from lxc_id");
	}
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
		resp_internal(r, cr.detail);
		cmd_result_free(&cr);
		return;
	}
	cmd_result_free(&cr);

	char failure[512] = "";
	const char *s2[] = {"clone", ids, newids, "--hostname", name, "--snapname", snap, NULL};
	pct_run(r->srv, s2, &cr);
	if (!cr.ok)
		snprintf(failure, sizeof(failure), "%s", cr.detail);
	cmd_result_free(&cr);
	if (!failure[0]) {
		const char *s3[] = {"start", newids, NULL};
		pct_run(r->srv, s3, &cr);
		if (!cr.ok)
			snprintf(failure, sizeof(failure), "%s", cr.detail);
		cmd_result_free(&cr);
	}
	/* Always remove the temporary snapshot (the reference's `finally`). */
	const char *s4[] = {"delsnapshot", ids, snap, NULL};
	pct_run(r->srv, s4, &cr);
	bool cleaned = cr.ok;
	cmd_result_free(&cr);

	if (failure[0]) {
		resp_internal(r, failure);
		return;
	}
	char msg[256];
	if (cleaned)
		snprintf(msg, sizeof(msg), "Container %u cloned to %u (%s) and started", id, newid, name);
	else
		snprintf(msg, sizeof(msg),
			 "Container %u cloned to %u (%s) and started. Warning: the temporary snapshot "
			 "%s of container %u could not be deleted",
			 id, newid, name, snap, id);
	json_object *data = json_object_new_object();
	json_object_object_add(data, "lxc_id", json_object_new_int64(id));
	json_object_object_add(data, "new_lxc_id", json_object_new_int64(newid));
	json_object_object_add(data, "new_lxc_name", json_object_new_string(name));
	resp_success(r, msg, data);
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
		/* Already stopped is fine; anything else (missing CT, lock) is an error. */
		struct cmd_result st;
		const char *status[] = {"status", ids, NULL};
		pct_run(r->srv, status, &st);
		bool stopped = st.ok && strstr(st.out, "status: stopped");
		cmd_result_free(&st);
		if (!stopped) {
			resp_internal(r, cr.detail);
			cmd_result_free(&cr);
			return;
		}
	}
	cmd_result_free(&cr);
	const char *destroy[] = {"destroy", ids, NULL};
	pct_run(r->srv, destroy, &cr);
	char msg[96];
	snprintf(msg, sizeof(msg), "Container %u stopped and destroyed", id);
	answer_with_output(r, &cr, msg);
}

/* ---- resources -------------------------------------------------------------------------- */

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
		resp_internal(r, cr.detail);
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
	snprintf(msg, sizeof(msg), "Configuration for container %u", id);
	resp_success(r, msg, data);
}

void route_node_status(struct req *r)
{
	struct api_server *srv = r->srv;
	struct params p;
	params_load(r, &p);
	char node[80] = "";
	if (!p.body_error) {
		bool given = params_name(&p, NODE_NAMES, "node_name", NAME_NODE, false, node, sizeof(node));
		if (given && !node[0]) {
			if (srv->set.lxc_node && name_valid(NAME_NODE, srv->set.lxc_node) &&
			    strlen(srv->set.lxc_node) < sizeof(node))
				strcpy(node, srv->set.lxc_node);
			else
				params_fail(&p, "node_name is required");
		}
	}
	if (params_rejected(r, &p, RES_CPU, false, 0))
		return;
	char path[128];
	snprintf(path, sizeof(path), "/nodes/%s/status", node);
	const char *args[] = {"get", path, NULL};
	struct cmd_result cr;
	cmd_run(srv, srv->set.pvesh_path ? srv->set.pvesh_path : "pvesh", args, srv->set.lxc_timeout_s, &cr);
	char msg[128];
	snprintf(msg, sizeof(msg), "Status of node %s", node);
	answer_with_output(r, &cr, msg);
}

void route_cluster_status(struct req *r)
{
	struct api_server *srv = r->srv;
	const char *args[] = {"status", NULL};
	struct cmd_result cr;
	cmd_run(srv, srv->set.pvecm_path ? srv->set.pvecm_path : "pvecm", args, srv->set.lxc_timeout_s, &cr);
	answer_with_output(r, &cr, "Cluster status");
}

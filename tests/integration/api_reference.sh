#!/bin/bash
# The reference routes answer in the reference's own words, over real HTTP on loopback
# against the stand-in pct: every validation text of its validation.py (missing fields,
# ranges, formats, names) with the offending value printed as its Python prints it, every
# success message and `data` of its routes, its 500 texts with show_stack_traces, the health
# check's lxc_commands details, its field
# precedence (vm_id before lxc_id before container_id), /scale/cores taking up to 128 cores
# (with a daemon attached: the cgroup gets the host's CPUs, the config what was asked), and
# /routes listing the reference's view names. Where lxcscale is stricter on purpose
# (docs/reference-compat.md), the refusal is pinned too.
set -u
. "$(dirname "$0")/lib/api.sh"
TAB=$'\t'

# errs JSON-ARRAY: the 400's errors list is exactly this
errs() { [ "$CODE" = 400 ] && [ "$(jqb .message)" = "Validation failed" ] && [ "$(jqb .status)" = error ] && [ "$(jq -c .errors "$T/body")" = "$1" ]; }
# rej NAME METHOD PATH BODY EXPECTED-ERRORS
rej() { req "$2" "$3" "$4"; WANT=$5; check "$1" 'errs "$WANT"'; }

make_ct 104 2 2048
make_ct 106 1 1024; echo stopped >"$PCT_STAND_IN_DIR/106.state"
start_server --host-cpus 2 || { bad "server starts"; finish; exit 1; }
clear_log

# ---- validation texts (validation.py), in the reference's field order ----
rej "no fields: Missing required field: vm_id, then cores" POST /scale/cores '{}' \
	'["Missing required field: vm_id","Missing required field: cores"]'
rej "id 99: Container ID must be between 100 and 999999, got 99" POST /scale/cores '{"lxc_id":99,"cores":2}' \
	'["Container ID must be between 100 and 999999, got 99"]'
rej "id 1000000 out of range" POST /scale/cores '{"vm_id":1000000,"cores":2}' \
	'["Container ID must be between 100 and 999999, got 1000000"]'
rej "id beyond 64 bits, as a string: Python's int() digits" POST /scale/cores '{"lxc_id":"+09223372036854775808","cores":2}' \
	'["Container ID must be between 100 and 999999, got 9223372036854775808"]'
rej "id -5 (a number, out of range)" POST /scale/cores '{"lxc_id":"-5","cores":2}' \
	'["Container ID must be between 100 and 999999, got -5"]'
rej "id abc: Invalid container ID format: abc" POST /scale/cores '{"lxc_id":"abc","cores":2}' \
	'["Invalid container ID format: abc"]'
rej "id empty string" POST /scale/cores '{"lxc_id":"","cores":2}' '["Invalid container ID format: "]'
rej "id null: Python's None" POST /scale/cores '{"lxc_id":null,"cores":2}' '["Invalid container ID format: None"]'
rej "id 1e400: Python's inf" POST /scale/cores '{"lxc_id":1e400,"cores":2}' '["Invalid container ID format: inf"]'
rej "cores 0: Cores must be between 1 and 128, got 0" POST /scale/cores '{"lxc_id":104,"cores":0}' \
	'["Cores must be between 1 and 128, got 0"]'
rej "cores 129" POST /scale/cores '{"lxc_id":104,"cores":129}' '["Cores must be between 1 and 128, got 129"]'
rej "cores many: Invalid cores format: many" POST /scale/cores '{"lxc_id":104,"cores":"many"}' \
	'["Invalid cores format: many"]'
rej "both fields wrong: both listed, id first" POST /scale/cores '{"lxc_id":"x","cores":"y"}' \
	'["Invalid container ID format: x","Invalid cores format: y"]'
rej "/scale/ram: missing memory" POST /scale/ram '{"lxc_id":104}' '["Missing required field: memory"]'
rej "/scale/ram: Memory must be between 64 and 1048576 MB, got 63" POST /scale/ram '{"lxc_id":104,"memory":63}' \
	'["Memory must be between 64 and 1048576 MB, got 63"]'
rej "/scale/ram: Invalid memory format: lots" POST /scale/ram '{"lxc_id":104,"memory":"lots"}' '["Invalid memory format: lots"]'
rej "/scale/storage/increase: missing disk_size" POST /scale/storage/increase '{"lxc_id":104}' \
	'["Missing required field: disk_size"]'
rej "/scale/storage/increase: Disk size must be between 1 and 10240 GB, got 0" POST /scale/storage/increase \
	'{"lxc_id":104,"disk_size":0}' '["Disk size must be between 1 and 10240 GB, got 0"]'
rej "/scale/storage/increase: Invalid disk size format: big" POST /scale/storage/increase \
	'{"lxc_id":104,"disk_size":"big"}' '["Invalid disk size format: big"]'
rej "/snapshot/create: no fields" POST /snapshot/create '{}' \
	'["Missing required field: vm_id","Missing required field: snapshot_name"]'
rej "/snapshot/create: empty name: Snapshot name must be a non-empty string" POST /snapshot/create \
	'{"lxc_id":104,"snapshot_name":""}' '["Snapshot name must be a non-empty string"]'
rej "/snapshot/create: a number as name: must be a non-empty string" POST /snapshot/create \
	'{"lxc_id":104,"snapshot_name":5}' '["Snapshot name must be a non-empty string"]'
rej "/snapshot/rollback: name with a space: the pattern text and the name" POST /snapshot/rollback \
	'{"lxc_id":104,"snapshot_name":"a b"}' \
	'["Snapshot name must contain only alphanumeric characters, hyphens, and underscores (max 40 chars): a b"]'
rej "/snapshot/create: -rf (an option) refused with the pattern text" POST /snapshot/create \
	'{"lxc_id":104,"snapshot_name":"-rf"}' \
	'["Snapshot name must contain only alphanumeric characters, hyphens, and underscores (max 40 chars): -rf"]'
rej "/clone/create: no fields: vm_id, new_vm_id, new_vm_name" POST /clone/create '{}' \
	'["Missing required field: vm_id","Missing required field: new_vm_id","Missing required field: new_vm_name"]'
rej "/clone/create: new id 5" POST /clone/create '{"lxc_id":104,"new_lxc_id":5,"new_lxc_name":"c"}' \
	'["Container ID must be between 100 and 999999, got 5"]'
rej "/clone/create: empty hostname: Hostname must be a non-empty string" POST /clone/create \
	'{"lxc_id":104,"new_lxc_id":105,"new_lxc_name":""}' '["Hostname must be a non-empty string"]'
rej "/clone/create: bad hostname shown as given (before '_' becomes '-')" POST /clone/create \
	'{"lxc_id":104,"new_lxc_id":105,"hostname":"web_"}' \
	'["Hostname must be RFC 1123 compliant (alphanumeric and hyphens, max 63 chars): web_"]'
rej "/clone/delete: missing id" DELETE /clone/delete '{}' '["Missing required field: vm_id"]'
rej "/snapshot/list: missing id" GET /snapshot/list '' '["Missing required field: vm_id"]'
rej "/resource/lxc/status?lxc_id=99" GET "/resource/lxc/status?lxc_id=99" '' \
	'["Container ID must be between 100 and 999999, got 99"]'
rej "/resource/vm/config?vm_id=x" GET "/resource/vm/config?vm_id=x" '' '["Invalid container ID format: x"]'
rej "/resource/node/status?node_name=: Node name must be a non-empty string" GET "/resource/node/status?node_name=" '' \
	'["Node name must be a non-empty string"]'
rej "/resource/node/status?node_name=-v: the pattern text" GET "/resource/node/status?node_name=-v" '' \
	'["Node name must be alphanumeric with hyphens or dots (max 63 chars): -v"]'
CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data '{"lxc_id":104,"cores":2}' "$U/scale/cores")
check "a non-JSON body counts as none (get_json(silent=True)): missing fields, lxcscale's reason in detail" \
	'errs "[\"Missing required field: vm_id\",\"Missing required field: cores\"]" && [ "$(jqb .detail)" = "Content-Type must be application/json" ]'
req POST /scale/cores '{"lxc_id":104,"cores":'
check "malformed JSON: the same, with the parser's reason in detail" \
	'errs "[\"Missing required field: vm_id\",\"Missing required field: cores\"]" && jqb .detail | grep -q "not valid JSON"'

# ---- stricter than the reference on purpose (docs/reference-compat.md): refused, in its words ----
rej "stricter: cores true (the reference takes it as 1)" POST /scale/cores '{"lxc_id":104,"cores":true}' \
	'["Invalid cores format: True"]'
rej "stricter: cores 2.7 (the reference truncates to 2)" POST /scale/cores '{"lxc_id":104,"cores":2.7}' \
	'["Invalid cores format: 2.7"]'
rej "stricter: id \"1_04\" (Python's int() reads 104)" POST /scale/cores '{"lxc_id":"1_04","cores":2}' \
	'["Invalid container ID format: 1_04"]'
rej "stricter: id \" 104\" (Python's int() strips spaces)" POST /scale/cores '{"lxc_id":" 104","cores":2}' \
	'["Invalid container ID format:  104"]'
rej "an array as id, shown as Python's repr" POST /scale/cores '{"lxc_id":[1,"a"],"cores":2}' \
	"[\"Invalid container ID format: [1, 'a']\"]"
rej "an object as id, shown as Python's repr" POST /scale/cores '{"lxc_id":{"n":2.5},"cores":2}' \
	"[\"Invalid container ID format: {'n': 2.5}\"]"
check "none of the refused requests ran pct" '[ "$(log_lines)" = 0 ]'

# ---- vm_id first, then lxc_id, then container_id (the reference's precedence) ----
make_ct 105 1 1024
req POST /scale/cores '{"lxc_id":105,"vm_id":104,"cores":3}'
check "vm_id and lxc_id both given: acts on vm_id (pct set 104)" \
	'[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}set${TAB}104${TAB}-cores${TAB}3" ] && [ "$(jqb .message)" = "CPU cores set to 3 for container 104" ]'
req POST /scale/ram '{"container_id":105,"lxc_id":104,"memory":1536}'
check "lxc_id before container_id" '[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}set${TAB}104${TAB}-memory${TAB}1536" ]'
req POST /scale/cores '{"vm_id":"x","lxc_id":104,"cores":3}'
check "an invalid vm_id is not replaced by a valid lxc_id" 'errs "[\"Invalid container ID format: x\"]"'
req GET "/resource/lxc/status?lxc_id=105&vm_id=104"
check "GET: vm_id first too" '[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}status${TAB}104" ]'
rm -f "$PCT_STAND_IN_DIR/105.conf" "$PCT_STAND_IN_DIR/105.state"

# ---- success messages and data ----
req POST /scale/cores '{"lxc_id":104,"cores":4}'
check "/scale/cores: CPU cores set to 4 for container 104, data \"\"" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "CPU cores set to 4 for container 104" ] && [ "$(jq -c .data "$T/body")" = "\"\"" ]'
req POST /scale/ram '{"lxc_id":104,"memory":2048}'
check "/scale/ram: RAM set to 2048 MB for container 104" '[ "$CODE" = 200 ] && [ "$(jqb .message)" = "RAM set to 2048 MB for container 104" ]'
req POST /scale/storage/increase '{"lxc_id":104,"disk_size":1}'
check "/scale/storage/increase: Storage increased by 1 GB for container 104" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Storage increased by 1 GB for container 104" ]'
req POST /snapshot/create '{"lxc_id":104,"snapshot_name":"snapA"}'
check "/snapshot/create: Snapshot 'snapA' created for container 104" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Snapshot '"'"'snapA'"'"' created for container 104" ]'
req GET "/snapshot/list?lxc_id=104"
check "/snapshot/list: Snapshots listed for container 104, pct's text in data" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Snapshots listed for container 104" ] && jqb .data | grep -q snapA'
req POST /snapshot/rollback '{"lxc_id":104,"snapshot_name":"snapA"}'
check "/snapshot/rollback: Container 104 rolled back to snapshot 'snapA'" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Container 104 rolled back to snapshot '"'"'snapA'"'"'" ]'
echo running >"$PCT_STAND_IN_DIR/104.state"
req GET "/resource/lxc/status?lxc_id=104"
check "/resource/lxc/status: Resource status retrieved for container 104" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Resource status retrieved for container 104" ] && [ "$(jqb .data)" = "status: running" ]'
req GET "/resource/vm/config?lxc_id=104"
check "/resource/vm/config: Successfully retrieved configuration for container 104" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Successfully retrieved configuration for container 104" ]'
req GET "/resource/node/status?node_name=pve"
check "/resource/node/status: Resource status retrieved for node 'pve'" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Resource status retrieved for node '"'"'pve'"'"'" ]'
req GET /resource/cluster/status
check "/resource/cluster/status: Cluster resource status retrieved successfully" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Cluster resource status retrieved successfully" ]'
clear_log
req POST /clone/create '{"lxc_id":104,"new_lxc_id":105,"new_lxc_name":"copy"}'
check "/clone/create: Clone operation completed successfully., data the reference's sentence" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Clone operation completed successfully." ] && [ "$(jqb .data)" = "Container 105 cloned from 104 and started successfully. Snapshot snapshot-105 removed." ]'
req DELETE /clone/delete '{"lxc_id":105}'
check "/clone/delete: Container 105 successfully deleted" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Container 105 successfully deleted" ] && [ "$(jq -r ".data | type" "$T/body")" = string ]'

# the temporary snapshot cannot be deleted: still 200, the reference's message and data
PCT_STAND_IN_ONLY=delsnapshot PCT_STAND_IN_FAIL=2 PCT_STAND_IN_FAIL_MESSAGE="snapshot is locked" start_server --host-cpus 2
req POST /clone/create '{"lxc_id":104,"new_lxc_id":105,"new_lxc_name":"copy"}'
check "/clone/create, cleanup failed: 200, Clone succeeded; snapshot cleanup failed: Command failed: <pct's stderr>" \
	'[ "$CODE" = 200 ] && [ "$(jq -c .message "$T/body")" = "\"Clone succeeded; snapshot cleanup failed: Command failed: snapshot is locked\\n\"" ]'
check "... and data: ... but the temporary snapshot snapshot-105 could not be removed." \
	'[ "$(jqb .data)" = "Container 105 cloned from 104 and started successfully, but the temporary snapshot snapshot-105 could not be removed." ]'
PCT_STAND_IN_DIR=$PCT_STAND_IN_DIR "$PCT" destroy 105 >/dev/null 2>&1 || rm -f "$PCT_STAND_IN_DIR/105.conf"
sed -i '/^\[snapshot-105\]/,$d' "$PCT_STAND_IN_DIR/104.conf"

# ---- 500s ----
start_server --host-cpus 2
req GET "/resource/lxc/config?lxc_id=999"
check "a failed pct: 500 An internal error occurred. Please contact support if the issue persists." \
	'[ "$CODE" = 500 ] && [ "$(jqb .message)" = "An internal error occurred. Please contact support if the issue persists." ] && [ "$(jqb .stack_trace)" = null ]'
start_server --host-cpus 2 --stack-traces
req GET "/resource/lxc/config?lxc_id=999"
check "show_stack_traces: message str(RuntimeError): Command failed: <stderr>" \
	'[ "$CODE" = 500 ] && [ "$(jq -c .message "$T/body")" = "\"Command failed: Configuration file '"'"'nodes/pve/lxc/999.conf'"'"' does not exist\\n\"" ]'
check "show_stack_traces: stack_trace repr(RuntimeError)" \
	'[ "$(jq -c .stack_trace "$T/body")" = "\"RuntimeError(\\\"Command failed: Configuration file '"'"'nodes/pve/lxc/999.conf'"'"' does not exist\\\\n\\\")\"" ]'
PCT_STAND_IN_HANG=1 start_server --host-cpus 2 --stack-traces --timeout 1
req GET "/snapshot/list?lxc_id=104"
check "show_stack_traces, pct hanging: Command 'pct listsnapshot 104' timed out after 1s" \
	'[ "$CODE" = 500 ] && [ "$(jqb .message)" = "Command '"'"'pct listsnapshot 104'"'"' timed out after 1s" ]'
stop_server
"$SERVER" --port-file "$T/port3" --pct /nonexistent/pct --node pve --stack-traces 2>>"$T/server.log" &
SRV_PID=$!
for _ in $(seq 1 200); do [ -s "$T/port3" ] && break; sleep 0.02; done
U=http://127.0.0.1:$(cat "$T/port3")
req GET "/snapshot/list?lxc_id=104"
check "show_stack_traces, no pct: 'pct' not found. Is this running on a Proxmox host?" \
	'[ "$CODE" = 500 ] && [ "$(jqb .message)" = "'"'"'pct'"'"' not found. Is this running on a Proxmox host?" ]'

req GET /health/check
check "health, no pct: lxc_commands detail 'pct not found in PATH' (the reference's), 503" \
	'[ "$CODE" = 503 ] && [ "$(jqb .checks.lxc_commands.detail)" = "pct not found in PATH" ]'
PCT_STAND_IN_ONLY=list PCT_STAND_IN_FAIL=2 PCT_STAND_IN_FAIL_MESSAGE=boom start_server --host-cpus 2
req GET /health/check
check "health, pct list failing: 'pct list exited 2: boom'" \
	'[ "$CODE" = 503 ] && [ "$(jqb .checks.lxc_commands.detail)" = "pct list exited 2: boom" ]'
start_server --host-cpus 2
req GET /health/check
check "health, pct list working: 200, detail 'ok'" '[ "$CODE" = 200 ] && [ "$(jqb .checks.lxc_commands.detail)" = ok ]'

# ---- /scale/cores takes what the reference takes: 1..128, whatever the host has ----
start_server --host-cpus 2
clear_log
req POST /scale/cores '{"lxc_id":104,"cores":16}'
check "16 cores on a 2-CPU host, no daemon: pct set 104 -cores 16, the reference's message" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "CPU cores set to 16 for container 104" ] && [ "$(last_argv)" = "pct${TAB}set${TAB}104${TAB}-cores${TAB}16" ] && grep -qx "cores: 16" "$PCT_STAND_IN_DIR/104.conf"'
req POST /scale/cores '{"lxc_id":104,"cores":128}'
check "128 cores (the reference's maximum) → 200" '[ "$CODE" = 200 ] && grep -qx "cores: 128" "$PCT_STAND_IN_DIR/104.conf"'

# with the daemon attached (a stand-in for its apply_limits): the cgroup gets the host's CPUs
start_server --host-cpus 2 --fake-daemon "$T/fake.log"
clear_log; : >"$T/fake.log"
req POST /scale/cores '{"lxc_id":104,"cores":16}'
check "daemon attached, 16 cores on a 2-CPU host: the daemon clamps its cgroup to 2 and persists nothing" \
	'[ "$CODE" = 200 ] && [ "$(cat "$T/fake.log")" = "vmid=104 cores=16 memory=0 persist=0 clamp=1 -> cgroup=2 rc=0" ]'
check "... the API writes what was asked to the config: pct set 104 -cores 16" \
	'[ "$(cat "$PCT_STAND_IN_LOG")" = "pct${TAB}set${TAB}104${TAB}-cores${TAB}16" ] && grep -qx "cores: 16" "$PCT_STAND_IN_DIR/104.conf"'
check "... and says so: the reference's message, data and cgroup_cores tell the clamp" \
	'[ "$(jqb .message)" = "CPU cores set to 16 for container 104" ] && [ "$(jqb .data)" = "cores 16 written to the config; the running container'"'"'s cgroup holds this host'"'"'s 2 CPUs (a cgroup cannot be given more)" ] && [ "$(jqb .cgroup_cores)" = 2 ] && [ "$(jqb .decision.cpu.to)" = 2 ]'
check "... and in the log" 'grep -q "POST /scale/cores: container 104: cores 16 written to the config; the running container.s cgroup holds this host.s 2 CPUs" "$T/server.log"'
clear_log; : >"$T/fake.log"
req POST /scale/cores '{"lxc_id":104,"cores":2}'
check "daemon attached, 2 cores: the daemon writes and persists it, the API runs no pct" \
	'[ "$CODE" = 200 ] && [ "$(cat "$T/fake.log")" = "vmid=104 cores=2 memory=0 persist=1 clamp=1 -> cgroup=2 rc=0" ] && [ "$(log_lines)" = 0 ] && [ "$(jqb .data)" = "" ] && [ "$(jqb .cgroup_cores)" = null ]'
sed -i '1i lock: backup' "$PCT_STAND_IN_DIR/104.conf"
req POST /scale/cores '{"lxc_id":104,"cores":32}'
check "daemon attached, clamped, then pct set refused (locked): 409, the cgroup change said, config unchanged" \
	'[ "$CODE" = 409 ] && [ "$(jqb .error)" = locked ] && jqb .message | grep -q "container 104 is locked; its config is unchanged (.*CT is locked (backup).*); its cgroup holds this host.s 2 CPUs already" && grep -qx "cores: 16" "$PCT_STAND_IN_DIR/104.conf"'
sed -i '/^lock:/d' "$PCT_STAND_IN_DIR/104.conf"
clear_log
req POST /scale/cores '{"lxc_id":106,"cores":16}'
check "daemon attached, a stopped container: pct set 106 -cores 16 (no cgroup to clamp)" \
	'[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}set${TAB}106${TAB}-cores${TAB}16" ] && [ "$(jqb .cgroup_cores)" = null ]'
start_server --host-cpus 2 --fake-daemon "$T/fake.log" --fake-daemon-rc 95
clear_log
req POST /scale/cores '{"lxc_id":104,"cores":16}'
check "daemon attached, no cpu controller on the host: the config takes 16, the answer says not in force" \
	'[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}set${TAB}104${TAB}-cores${TAB}16" ] && jqb .data | grep -q "^cores 16 written to the config only, not in force: the cgroup cannot be written on this host"'

# ---- /routes lists the reference's view names ----
start_server --host-cpus 2
req GET /routes
check "/routes: the reference's Flask view names (set_cores, check_lxc_status_route for both spellings)" \
	'[ "$(jq -r ".[] | select(.url==\"/scale/cores\") | .endpoint" "$T/body")" = set_cores ] && [ "$(jq -r "[.[] | select(.url==\"/resource/lxc/status\" or .url==\"/resource/vm/status\") | .endpoint] | unique | .[]" "$T/body")" = check_lxc_status_route ] && [ "$(jq -r ".[] | select(.url==\"/api/v1/containers\") | .endpoint" "$T/body")" = v1_containers ]'
check "server still alive" 'server_alive'

finish

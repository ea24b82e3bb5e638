#!/bin/bash
# Every reference-compatible route over real HTTP on loopback against the stand-in pct:
# bodies, aliases, envelope, messages, the exact argv each route runs (from the stand-in's
# log), 500s when pct fails / is locked / times out / is missing, and the operational
# routes (/, /routes, /health/check, OPTIONS/HEAD/404/405).
set -u
. "$(dirname "$0")/lib/api.sh"
TAB=$'\t'

make_ct 104 2 2048
start_server || { bad "server starts"; finish; exit 1; }

# ---- scaling ----
clear_log
req POST /scale/cores '{"lxc_id":104,"cores":4}'
check "POST /scale/cores → 200 envelope and message" \
	'[ "$CODE" = 200 ] && [ "$(jqb .status)" = success ] && [ "$(jqb .message)" = "CPU cores set to 4 for container 104" ] && [ "$(jqb .data)" = "" ]'
check "/scale/cores runs: pct set 104 -cores 4" '[ "$(last_argv)" = "pct${TAB}set${TAB}104${TAB}-cores${TAB}4" ]'
check "/scale/cores changed the config" 'grep -qx "cores: 4" "$PCT_STAND_IN_DIR/104.conf"'

req POST /scale/ram '{"vm_id":"104","memory":4096}'
check "POST /scale/ram with vm_id alias and id as string" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "RAM set to 4096 MB for container 104" ] && [ "$(last_argv)" = "pct${TAB}set${TAB}104${TAB}-memory${TAB}4096" ]'
req POST /scale/ram '{"container_id":104,"memory":1024}'
check "container_id alias" '[ "$CODE" = 200 ] && grep -qx "memory: 1024" "$PCT_STAND_IN_DIR/104.conf"'

clear_log
req POST /scale/storage/increase '{"lxc_id":104,"disk_size":2}'
check "storage increase: one relative pct resize 104 rootfs +2G, no pct config (the reference's newest argv)" \
	'[ "$CODE" = 200 ] && [ "$(jqb .message)" = "Storage increased by 2 GB for container 104" ] && [ "$(cat "$PCT_STAND_IN_LOG")" = "pct${TAB}resize${TAB}104${TAB}rootfs${TAB}+2G" ] && grep -q "size=10G" "$PCT_STAND_IN_DIR/104.conf"'
sed -i 's/size=10G/size=512M/' "$PCT_STAND_IN_DIR/104.conf"
req POST /scale/storage/increase '{"lxc_id":104,"disk_size":1}'
check "storage increase from 512M by +1G: 1536M, nothing rounded" \
	'[ "$CODE" = 200 ] && grep -q "size=1536M" "$PCT_STAND_IN_DIR/104.conf" && [ "$(last_argv)" = "pct${TAB}resize${TAB}104${TAB}rootfs${TAB}+1G" ]'

# ---- snapshots ----
clear_log
req POST /snapshot/create '{"lxc_id":104,"snapshot_name":"before-upgrade"}'
check "snapshot create → pct snapshot 104 before-upgrade" \
	'[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}snapshot${TAB}104${TAB}before-upgrade" ] && grep -qx "\[before-upgrade\]" "$PCT_STAND_IN_DIR/104.conf"'
req GET "/snapshot/list?lxc_id=104"
check "snapshot list: raw pct listsnapshot text in data" \
	'[ "$CODE" = 200 ] && jqb .data | grep -q "before-upgrade" && jqb .data | grep -q "You are here!"'
req POST /scale/cores '{"lxc_id":104,"cores":1}'
req POST /snapshot/rollback '{"lxc_id":104,"snapshot_name":"before-upgrade"}'
check "rollback → pct rollback and the old cores are back" \
	'[ "$CODE" = 200 ] && [ "$(last_argv)" = "pct${TAB}rollback${TAB}104${TAB}before-upgrade" ] && grep -qx "cores: 4" "$PCT_STAND_IN_DIR/104.conf"'
echo running >"$PCT_STAND_IN_DIR/104.state" # a rollback stops the container, as the real one does

# ---- clones ----
clear_log
req POST /clone/create '{"lxc_id":104,"new_vm_id":105,"new_vm_name":"web_copy"}'
want="pct${TAB}snapshot${TAB}104${TAB}snapshot-105
pct${TAB}clone${TAB}104${TAB}105${TAB}--hostname${TAB}web-copy${TAB}--snapname${TAB}snapshot-105
pct${TAB}start${TAB}105
pct${TAB}delsnapshot${TAB}104${TAB}snapshot-105"
check "clone: snapshot, clone (name '_'→'-'), start, delsnapshot" \
	'[ "$CODE" = 200 ] && [ "$(cat "$PCT_STAND_IN_LOG")" = "$want" ] && grep -qx "hostname: web-copy" "$PCT_STAND_IN_DIR/105.conf" && ! grep -q "snapshot-105" "$PCT_STAND_IN_DIR/104.conf"'
check "clone: data is the reference's sentence (a string, not an object)" \
	'[ "$(jq -r ".data | type" "$T/body")" = string ] && [ "$(jqb .data)" = "Container 105 cloned from 104 and started successfully. Snapshot snapshot-105 removed." ] && [ "$(jqb .message)" = "Clone operation completed successfully." ]'
clear_log
req POST /clone/create '{"lxc_id":104,"new_lxc_id":105,"hostname":"again"}'
check "clone onto an existing id: 500, and the temporary snapshot is still removed" \
	'[ "$CODE" = 500 ] && [ "$(tail -n1 "$PCT_STAND_IN_LOG")" = "pct${TAB}delsnapshot${TAB}104${TAB}snapshot-105" ] && ! grep -q "snapshot-105" "$PCT_STAND_IN_DIR/104.conf"'
clear_log
req DELETE /clone/delete '{"lxc_id":105}'
check "clone delete: pct stop then pct destroy" \
	'[ "$CODE" = 200 ] && [ "$(cat "$PCT_STAND_IN_LOG")" = "pct${TAB}stop${TAB}105"$'"'\n'"'"pct${TAB}destroy${TAB}105" ] && [ ! -e "$PCT_STAND_IN_DIR/105.conf" ]'
make_ct 106; echo stopped >"$PCT_STAND_IN_DIR/106.state"
req DELETE /clone/delete '{"lxc_id":106}'
check "clone delete of a stopped container still destroys it" '[ "$CODE" = 200 ] && [ ! -e "$PCT_STAND_IN_DIR/106.conf" ]'

# ---- resources ----
req GET "/resource/lxc/config?lxc_id=104"
check "lxc config: data {lxc_id, vm_id, cores, memory_mb}" \
	'[ "$CODE" = 200 ] && [ "$(jq -c .data "$T/body")" = "{\"lxc_id\":104,\"vm_id\":104,\"cores\":4,\"memory_mb\":1024}" ]'
sed -i '/^cores:/d' "$PCT_STAND_IN_DIR/104.conf"
req GET "/resource/vm/config?vm_id=104"
check "vm alias route; cores absent → null" '[ "$CODE" = 200 ] && [ "$(jq -c .data.cores "$T/body")" = null ]'
req GET /resource/lxc/config '{"lxc_id":104}'
check "GET reads a JSON body too (the reference's issue #14)" '[ "$CODE" = 200 ] && [ "$(jqb .data.lxc_id)" = 104 ]'
req GET "/resource/lxc/status?lxc_id=104"
check "lxc status: data 'status: running'" '[ "$CODE" = 200 ] && [ "$(jqb .data)" = "status: running" ]'
req GET "/resource/vm/status?container_id=104"
check "vm status alias" '[ "$CODE" = 200 ] && [ "$(jqb .data)" = "status: running" ]'
clear_log
req GET /resource/node/status
check "node status without node_name → 400 Missing required field: node_name (as the reference), no pvesh" \
	'[ "$CODE" = 400 ] && [ "$(jq -c .errors "$T/body")" = "[\"Missing required field: node_name\"]" ] && [ "$(log_lines)" = 0 ]'
req GET "/resource/node/status?node_name=pve"
check "node status: pvesh get /nodes/pve/status, raw output in data" \
	'[ "$CODE" = 200 ] && [ "$(last_argv)" = "pvesh${TAB}get${TAB}/nodes/pve/status" ] && jqb .data | jq -e .memory >/dev/null'
req GET "/resource/node/status?node_name=other"
check "node status of an unknown node → 500" '[ "$CODE" = 500 ]'
req GET /resource/cluster/status
check "cluster status: raw pvecm status" '[ "$CODE" = 200 ] && jqb .data | grep -q "^Quorate:"'

# ---- failures of pct ----
req GET "/resource/lxc/config?lxc_id=999"
check "missing container → 500 with the reference's text" \
	'[ "$CODE" = 500 ] && [ "$(jqb .message)" = "An internal error occurred. Please contact support if the issue persists." ] && [ "$(jqb .stack_trace)" = null ]'
sed -i '1i lock: backup' "$PCT_STAND_IN_DIR/104.conf"
before=$(cat "$PCT_STAND_IN_DIR/104.conf")
req POST /scale/cores '{"lxc_id":104,"cores":2}'
check "locked container → 409 locked, pct's reason in the message, config unchanged" \
	'[ "$CODE" = 409 ] && [ "$(jqb .error)" = locked ] && jqb .message | grep -q "CT is locked (backup)" && [ "$(cat "$PCT_STAND_IN_DIR/104.conf")" = "$before" ]'
req POST /scale/ram '{"lxc_id":999,"memory":512}'
check "scaling a container that does not exist → 404 no_such_container, field lxc_id" \
	'[ "$CODE" = 404 ] && [ "$(jqb .error)" = no_such_container ] && [ "$(jqb .field)" = lxc_id ] && jqb .message | grep -q "container 999 does not exist"'
sed -i '/^lock:/d' "$PCT_STAND_IN_DIR/104.conf"

start_server --stack-traces
req GET "/resource/lxc/config?lxc_id=999"
check "show_stack_traces: message names the pct error" \
	'[ "$CODE" = 500 ] && jqb .message | grep -q "999.conf.* does not exist" && [ "$(jqb .stack_trace)" != null ]'

PCT_STAND_IN_HANG=1 start_server --timeout 1
req POST /scale/cores '{"lxc_id":104,"cores":3}'
check "hanging pct is killed at lxc.timeout_seconds → 500" '[ "$CODE" = 500 ] && ! grep -qx "cores: 3" "$PCT_STAND_IN_DIR/104.conf"'
check "no stand-in pct left running after the timeout" '! pgrep -f "$PCT set 104 -cores 3" >/dev/null'
PCT_STAND_IN_FAIL=2 PCT_STAND_IN_FAIL_MESSAGE=boom start_server
req GET "/snapshot/list?lxc_id=104"
check "pct exiting non-zero → 500" '[ "$CODE" = 500 ]'

stop_server
"$SERVER" --port-file "$T/port2" --pct /nonexistent/pct --node pve 2>>"$T/server.log" &
SRV_PID=$!
for _ in $(seq 1 200); do [ -s "$T/port2" ] && break; sleep 0.02; done
U=http://127.0.0.1:$(cat "$T/port2")
req POST /scale/cores '{"lxc_id":104,"cores":1}'
check "pct missing → 500" '[ "$CODE" = 500 ]'
req GET /health/check
check "health: 503 unhealthy when pct cannot run" \
	'[ "$CODE" = 503 ] && [ "$(jqb .status)" = unhealthy ] && [ "$(jqb .checks.lxc_commands.ok)" = false ] && [ "$(jqb .checks.configuration.ok)" = true ]'

start_server --health-cache 60
clear_log
req GET /health/check
c1=$CODE
req GET /health/check
check "health: 200 healthy with both checks" \
	'[ "$c1" = 200 ] && [ "$CODE" = 200 ] && [ "$(jqb .status)" = healthy ] && [ "$(jqb .checks.lxc_commands.ok)" = true ]'
check "health probe is cached: one pct list for two checks" '[ "$(grep -c "^pct${TAB}list$" "$PCT_STAND_IN_LOG")" = 1 ]'

# ---- operational routes and HTTP details ----
req GET /
check "GET / is an HTML index listing the routes" \
	'[ "$CODE" = 200 ] && header content-type | grep -q text/html && grep -q "/scale/cores" "$T/body"'
req GET /routes
check "/routes is a bare array of {endpoint, methods, url}" \
	'[ "$CODE" = 200 ] && [ "$(jq -r ".[] | select(.url==\"/scale/cores\") | .methods" "$T/body")" = "OPTIONS,POST" ] && [ "$(jq length "$T/body")" -ge 20 ]'
req GET /scale/cores
check "wrong method → 405 with Allow" '[ "$CODE" = 405 ] && header allow | grep -q POST'
req OPTIONS /scale/cores
check "OPTIONS → 200 with Allow" '[ "$CODE" = 200 ] && header allow | grep -q "POST, OPTIONS"'
CODE=$(curl -s -I -o /dev/null -w '%{http_code}' "$U/resource/lxc/status?lxc_id=104")
check "HEAD on a GET route → 200" '[ "$CODE" = 200 ]'
req GET /nope
check "unknown path → 404 envelope" '[ "$CODE" = 404 ] && [ "$(jqb .status)" = error ]'
req GET /api/v1/containers
check "/api/v1 without a daemon attached → 503" '[ "$CODE" = 503 ]'
req POST /api/v1/containers/104/limits '{"cores":2}'
check "/api/v1 limits without a daemon → 503 (after validation)" '[ "$CODE" = 503 ]'
req POST /api/v1/containers/104/limits '{"cores":"lots"}'
check "/api/v1 limits validates first → 400" '[ "$CODE" = 400 ]'
req GET /api/v1/containers/99
check "/api/v1/containers/{id} with a bad id → 400" '[ "$CODE" = 400 ]'

# the dashboard's files: built in, a strict CSP, no key needed, nothing outside /ui/
req GET /ui
check "GET /ui → 301 to /ui/" '[ "$CODE" = 301 ] && [ "$(header location)" = /ui/ ]'
req GET /ui/
check "GET /ui/ → the page (text/html) with a strict Content-Security-Policy" \
	'[ "$CODE" = 200 ] && header content-type | grep -q "^text/html" && grep -q "<script src=\"app.js\"></script>" "$T/body" && header content-security-policy | grep -q "default-src .none.; script-src .self.;" && ! header content-security-policy | grep -q unsafe'
req GET /ui/uplot.js
check "GET /ui/uplot.js → uPlot as JavaScript (from npm, embedded)" \
	'[ "$CODE" = 200 ] && header content-type | grep -q "^text/javascript" && head -c 200 "$T/body" | grep -q "uPlot"'
req GET /ui/nosuch.js
check "GET /ui/nosuch.js → 404 JSON no_such_file" '[ "$CODE" = 404 ] && [ "$(jqb .error)" = no_such_file ]'
req GET /ui/a/b.js
check "GET /ui/a/b.js: no folders below /ui/ (so no ../ either) → 404" '[ "$CODE" = 404 ]'
check "server still alive" 'server_alive'
start_server --no-ui || { bad "server starts with --no-ui"; finish; exit 1; }
req GET /ui/
check "api.ui false: GET /ui/ → 404 ui_off" '[ "$CODE" = 404 ] && [ "$(jqb .error)" = ui_off ]'
check "server still alive" 'server_alive'

finish

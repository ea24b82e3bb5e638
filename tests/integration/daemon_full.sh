#!/bin/bash
# daemon_full.sh — the whole daemon on this host: the real lxcscaled, live (not dry run),
# with test cgroups as containers, the stand-in pct (tests/tools/pct) as persist.pct_path,
# and its REST API on a loopback port, driven with curl.
#
#   - each container's allocation is read from its Proxmox config (pct config, off the loop);
#   - POST /scale/cores goes through the daemon: journalled, pct set with the right argv,
#     the conf updated, shown by /api/v1/containers and /api/v1/decisions, counted in
#     /metrics and sent on /api/v1/events;
#   - this host has no cpu/memory controllers, so the cgroup write fails: the answer and
#     the log must say so (the change is kept in the config only, as a manual `pct set`);
#     a change that cannot be persisted either (persist:false) must fail visibly;
#   - SIGKILL right after a scale (pct slowed down so the persist is still pending), then a
#     restart: the journal replay persists the change; conf and journal agree;
#   - a config read answered after a newer change is not taken as the allocation;
#   - Proxmox tags (tags.ignore, tags.tier_prefix) and an admin's own `pct set`, noticed in
#     persist.config_dir without a reload.
# Real limit writes are proven in the VM (tests/vm/scenarios/80-daemon.sh).
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"

check() { if eval "$2"; then ok "$1"; else bad "$1"; echo "#   code=${CODE:-} body=$(head -c 600 "$W/body" 2>/dev/null)"; fi; }

find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then
	skp "daemon full: needs root and a cgroup v2 mount"
	finish
fi
for b in lxcscaled tests/tools/pct; do
	[ -x "$BUILD/$b" ] || { bad "missing $BUILD/$b (make all tests)"; finish; }
done
command -v curl >/dev/null && command -v jq >/dev/null || { skp "daemon full: needs curl and jq"; finish; }

NAME=lxcscale-it-full-$$
CG=$MOUNT/$NAME
W=$(mktemp -d /tmp/lxcscale-it-full-XXXXXX)
PVE=$W/pve
DPID="" SPID=""
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	remove_test_cgroup "$CG"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir "$CG" "$CG/101" "$CG/102" "$CG/103" "$PVE" || { bad "cannot create test cgroups under $CG"; finish; }
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/argv.log
for id in 101 102 103; do
	printf 'arch: amd64\ncores: 1\nhostname: ct%s\nmemory: 1024\nostype: debian\nswap: 0\n' "$id" >"$PVE/$id.conf"
	echo running >"$PVE/$id.state"
done
conf() { sed -n "s/^$2: //p" "$PVE/$1.conf"; }
conf_soon() { local i; for ((i = 0; i < 50; i++)); do [ "$(conf "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done; return 1; }

PORT=$(free_port)
U=http://127.0.0.1:$PORT

cat >"$W/cfg.yaml" <<EOF
lock_file: $W/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: $W/suggestions.jsonl
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 100
ignore_lxc: [103]
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 8
  min_ram_mb: 1024
  max_ram_mb: 8192
  cooldown_down_seconds: 3600
  total_cores: 64
  total_ram_mb: 65536
cgroup:
  root: $NAME
bpf:
  enabled: false
persist:
  pct_path: $BUILD/tests/tools/pct
  debounce_ms: 100
  retry_base_ms: 100
server:
  host: 127.0.0.1
  port: $PORT
EOF

wait_log() { # pattern tenths [log]
	local i
	for ((i = 0; i < $2; i++)); do
		grep -q -- "$1" "${3:-$W/daemon.log}" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
start_daemon() { # extra env assignments...
	# emptied here, not by the job's own redirection: that runs after the fork, and until
	# then wait_log would read the previous run's "ready:"
	: >"$W/daemon.log"
	env "$@" "$BUILD/lxcscaled" --config "$W/cfg.yaml" --foreground >>"$W/daemon.log" 2>&1 &
	DPID=$!
	wait_log "ready:" 150
}
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	local rc=$?
	DPID=""
	return $rc
}
req() { # METHOD PATH [JSON]
	local args=(-s -o "$W/body" -w '%{http_code}' -X "$1" --max-time 20)
	[ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	CODE=$(curl "${args[@]}" "$U$2")
}
jqb() { jq -r "$1" "$W/body" 2>/dev/null; }
# GET $1 until jq expression $2 is true (the snapshot is published once per tick)
wait_json() {
	local i
	for ((i = 0; i < 50; i++)); do
		req GET "$1"
		[ "$(jqb "$2")" = true ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- 1. start: allocation from the config, API up ---------------------------------------
if start_daemon; then ok "lxcscaled starts live with the REST API on $U"; else
	bad "lxcscaled did not start"; sed 's/^/#   /' "$W/daemon.log" | tail -20; finish
fi
check "start-up reconcile is logged before the first tick" "grep -q 'reconcile: .* persisted' '$W/daemon.log'"
check "allocation of 101 comes from its Proxmox config (pct config 101 --current)" \
	"wait_log 'container 101: allocation from its Proxmox config: 1 cores, 1024 MiB' 50"
check "the stand-in pct was asked with the right argv" \
	"grep -q \"\$(printf 'pct\tconfig\t101\t--current')\" '$PVE/argv.log'"
check "GET /api/v1/containers lists 101 with its config's limits" \
	"wait_json /api/v1/containers '[.containers[] | select(.vmid==101) | .limits.cores==1 and .limits.memory_mb==1024] | any'"
check "... named by its config's hostname (ct101)" \
	"wait_json /api/v1/containers '[.containers[] | select(.vmid==101) | .name==\"ct101\"] | any'"
# no lxc.node in this configuration: empty means this host's name, which is no fault
req GET /health/check
check "GET /health/check without lxc.node: 200 healthy, the node is this host ($(uname -n | cut -d. -f1))" \
	'[ "$CODE" = 200 ] && [ "$(jqb .status)" = healthy ] && [ "$(jqb .checks.configuration.ok)" = true ] && jqb .checks.configuration.detail | grep -qF "this host'"'"'s name ($(uname -n | cut -d. -f1))"'
check "/health/check: the missing cpu/memory controllers are 'unavailable' here, not a fault" \
	'[ "$(jqb .checks.cgroup.state)" = unavailable ] && [ "$(jqb .checks.cgroup.ok)" = true ] && jqb .checks.cgroup.detail | grep -q "limits cannot be written on this host"'
check "/health/check: BPF off (bpf.enabled: false), journal and persist ok" \
	'[ "$(jqb .checks.bpf.state)" = off ] && [ "$(jqb .checks.journal.state)" = ok ] && [ "$(jqb .checks.persist.state)" = ok ]'

# ---- 2. events stream open before the change ---------------------------------------------
curl -s -N --max-time 30 "$U/api/v1/events" >"$W/events" 2>/dev/null &
SPID=$!
for ((i = 0; i < 50; i++)); do grep -q 'lxcscale events' "$W/events" 2>/dev/null && break; sleep 0.1; done

# ---- 3. POST /scale/cores through the daemon ---------------------------------------------
: >"$PVE/argv.log"
req POST /scale/cores '{"lxc_id": 101, "cores": 2}'
check "POST /scale/cores answers 200 in the reference's envelope" \
	"[ '$CODE' = 200 ] && [ \"\$(jqb .status)\" = success ] && [ \"\$(jqb .message)\" = 'CPU cores set to 2 for container 101' ]"
check "the answer carries the daemon's manual decision (1 -> 2 cores)" \
	"[ \"\$(jqb .decision.reason)\" = manual ] && [ \"\$(jqb .decision.cpu.from)\" = 1 ] && [ \"\$(jqb .decision.cpu.to)\" = 2 ]"
check "the failed cgroup write is reported in the answer (no cpu controller here), not hidden" \
	"[ \"\$(jqb .decision.outcome)\" = persist-only ] && jqb .decision.detail | grep -q 'cpu.max: .*cgroup write failed'"
check "and in the log, as a warning" "grep -q 'WARNING.*ct 101: persist-only (manual).*cgroup write failed' '$W/daemon.log'"
seq_scale=$(jqb .decision.seq)
check "journalled: the journal holds whole 64-byte records" \
	"[ -s '$W/journal' ] && [ \$((\$(stat -c %s '$W/journal') % 64)) = 0 ]"
check "persisted: the stand-in pct is called as: pct set 101 --cores 2" \
	"wait_log \"\$(printf 'pct\tset\t101\t--cores\t2')\" 50 '$PVE/argv.log'"
check "101.conf now says cores: 2" "[ \"\$(conf 101 cores)\" = 2 ]"
check "the persist is logged" "wait_log 'ct 101: persisted' 50"
check "the config is read again after the persist (pct config 101 --current after the set)" \
	"wait_log \"\$(printf 'pct\tconfig\t101\t--current')\" 50 '$PVE/argv.log'"
check "GET /api/v1/containers shows 101 with 2 cores and its last decision" \
	"wait_json /api/v1/containers '[.containers[] | select(.vmid==101) | .limits.cores==2 and .last_decision.reason==\"manual\"] | any'"
check "GET /api/v1/decisions lists the manual decision" \
	"wait_json '/api/v1/decisions?since=0' '[.decisions[] | select(.seq==$seq_scale and .vmid==101 and .reason==\"manual\" and .cpu.to==2)] | length == 1'"
check "GET /api/v1/containers/101 has a history" \
	"wait_json /api/v1/containers/101 '.vmid==101 and (.history | length) >= 1'"
check "the decision was sent on /api/v1/events" "wait_log 'event: decision' 30 '$W/events' && grep -q '\"vmid\":101' '$W/events'"
req GET /metrics
check "/metrics counts it (reference and lxcscale_* names)" \
	"[ '$CODE' = 200 ] && grep -q 'lxcscale_decisions_total{reason=\"manual\",outcome=\"persist-only\"} 1' '$W/body' && grep -q '^lxc_autoscale_scaling_actions_total{.*} 1' '$W/body' && grep -q 'lxcscale_container_cpu_limit_cores{vmid=\"101\"}' '$W/body' && grep -q '^lxcscale_actuation_enabled 1' '$W/body'"
if command -v promtool >/dev/null; then
	# Only the reference's own lxc_autoscale_container_memory_mb name may be linted (its unit suffix).
	promtool check metrics <"$W/body" 2>&1 |
		grep -v -x "lxc_autoscale_container_memory_mb metric names should not contain abbreviated units" >"$W/promtool.rest"
	check "promtool check metrics accepts /metrics (but for the reference's _mb name)" "[ ! -s '$W/promtool.rest' ]"
	[ -s "$W/promtool.rest" ] && sed 's/^/#   /' "$W/promtool.rest" | head -10
else
	skp "promtool check metrics: promtool not installed"
fi
req GET /api/v1/model
check "GET /api/v1/model describes the model" "[ '$CODE' = 200 ] && [ \"\$(jqb '.features | length')\" -ge 1 ] && [ \"\$(jqb .trees)\" -ge 1 ]"

# ---- 4. a change that can neither be written nor persisted fails visibly -----------------
: >"$PVE/argv.log"
req POST /api/v1/containers/101/limits '{"memory_mb": 2048, "persist": false}'
check "limits with persist:false on a cgroup without the memory controller: 503 cannot_write_here, saying why" \
	"[ '$CODE' = 503 ] && [ \"\$(jqb .error)\" = cannot_write_here ] && jqb .message | grep -q 'memory: cgroup file or controller not available'"
check "... logged with the cgroup's error" "wait_log 'ERROR.*ct 101: failed (manual).*memory.*' 20"
sleep 0.5
check "... and nothing persisted (no pct set, 101.conf memory stays 1024)" \
	"! grep -q 'set' '$PVE/argv.log' && [ \"\$(conf 101 memory)\" = 1024 ]"
req POST /api/v1/containers/101/limits '{"cores": 0}'
check "limits with cores 0: 400" "[ '$CODE' = 400 ]"
req GET /api/v1/containers/4242
check "an unknown container: 404" "[ '$CODE' = 404 ]"

# ---- 5. a container the daemon does not run: /scale/ram runs pct directly ----------------
printf 'arch: amd64\ncores: 1\nhostname: ct555\nmemory: 512\n' >"$PVE/555.conf"
req POST /scale/ram '{"lxc_id": 555, "memory": 768}'
check "POST /scale/ram for a stopped container (no cgroup): pct set directly, conf updated" \
	"[ '$CODE' = 200 ] && [ \"\$(conf 555 memory)\" = 768 ]"

# ---- 5b. the lxcscale CLI against this daemon: what it prints is what happened -----------
CLI=$BUILD/lxcscale
cli() { OUT=$("$CLI" --url "$U" "$@" 2>"$W/cli.err"); RC=$?; ERR=$(cat "$W/cli.err"); }
cli scale 101 --cores 1
check "scale on a cgroup without the cpu controller: exit 5, says persist-only and NOT in force" \
	"[ \$RC = 5 ] && grep -q '^container 101: persist-only: cores 2 -> 1 (NOT in force)' <<<\"\$OUT\" && grep -q 'detail: .*cgroup write failed' <<<\"\$OUT\""
cli scale 101 --memory 2048 --no-persist
check "scale --no-persist when the cgroup cannot be written: exit 5 with the reason" \
	"[ \$RC = 5 ] && grep -q 'the cgroup cannot be written on this host: .*memory' <<<\"\$ERR\""
cli scale 555 --memory 1024
check "scale on a stopped container (no cgroup): persisted with pct set, exit 0" \
	"[ \$RC = 0 ] && grep -q 'persisted with pct set' <<<\"\$OUT\" && [ \"\$(conf 555 memory)\" = 1024 ]"
cli scale 105 --cores 1
check "scale on a container that does not exist: exit 3, says so (not a 500)" \
	"[ \$RC = 3 ] && grep -q 'container 105 does not exist' <<<\"\$ERR\" && ! grep -q 'contact support' <<<\"\$ERR\""
sed -i '1i lock: backup' "$PVE/555.conf"
cli scale 555 --cores 2
check "scale on a locked container: exit 1, says it is locked and nothing changed" \
	"[ \$RC = 1 ] && grep -q 'container 555 is locked; nothing changed' <<<\"\$ERR\" && [ \"\$(conf 555 cores)\" = 1 ]"
sed -i '/^lock:/d' "$PVE/555.conf"
cli scale 101 --cores 7
check "scale beyond the host's CPUs: exit 2 with the API's reason" "[ \$RC = 2 ] && grep -q 'cores must be' <<<\"\$ERR\""
cli status 4242
check "status of an unknown container: exit 3" "[ \$RC = 3 ]"

cli model show
echo "$OUT" | sed -n '1,4p' | sed 's/^/#   /'
check "model show says what its window is and heads its feature columns" \
	"[ \$RC = 0 ] && grep -Eq '^window: [0-9]+ feature vectors \\((one model for the whole host: 8 x model.window [0-9]+|model.window, per container)\\)' <<<\"\$OUT\" && grep -q '^  FEATURE  *SHARE' <<<\"\$OUT\""
cli decisions --limit 2
check "decisions --limit 2: the newest two, each with its outcome and its full reason below (wrapped)" \
	"[ \$RC = 0 ] && [ \$(grep -c '^[0-9]' <<<\"\$OUT\") = 2 ] && grep -q ' persist-only ' <<<\"\$OUT\" && grep -q '^  *POST /api/v1/containers/{id}/limits; cpu.max: the cgroup write failed' <<<\"\$OUT\" && grep -q '^  *here; config only, not enforced\$' <<<\"\$OUT\""
check "decisions: columns line up by characters (the arrows are 3 bytes, 1 column)" \
	"/usr/bin/python3 -c 'import sys; L = sys.stdin.read().splitlines(); h = L[0].index(\"OUTCOME\"); rows = [l for l in L[1:] if l[:1].isdigit()]; sys.exit(not rows or any(l[h - 1] != \" \" or l[h] == \" \" for l in rows))' <<<\"\$OUT\""

# undo: through the same decision path, refused when the container changed since
cli scale 102 --memory 1536
s1=$(sed -n 's/^  decision seq //p' <<<"$OUT")
cli scale 102 --memory 2048
s2=$(sed -n 's/^  decision seq //p' <<<"$OUT")
cli undo "$s1"
check "undo of an older decision when a later one changed the same limit: refused, says which (exit 5)" \
	"[ \$RC = 5 ] && grep -q 'container 102 changed since decision $s1 (decision $s2: ' <<<\"\$ERR\" && conf_soon 102 memory 2048"
cli undo --container 102
check "undo --container 102: its last decision undone (2048 -> 1536 MiB), named in the new decision" \
	"grep -q '^undo of decision $s2:' <<<\"\$OUT\" && grep -q 'memory 2048 -> 1536 MiB' <<<\"\$OUT\" && conf_soon 102 memory 1536 &&
	 req GET '/api/v1/decisions?since=0&limit=1000' && [ \"\$(jqb '[.decisions[] | select(.detail | test(\"undo of decision $s2\"))] | length')\" = 1 ]"
cli undo --container 102 --since 1h
check "undo --container 102 --since 1h: back to before all of them (1024 MiB)" \
	"grep -q 'memory 1536 -> 1024 MiB' <<<\"\$OUT\" && conf_soon 102 memory 1024"
req GET "/api/v1/decisions?vmid=102&limit=2&newest=true"
check "/api/v1/decisions?vmid=102&limit=2&newest=true: 102's two newest (the undos), oldest first" \
	"[ \"\$(jqb '[.decisions[].vmid] | unique')\" = '[
  102
]' ] && [ \"\$(jqb '.decisions | length')\" = 2 ] && jqb '.decisions[1].detail' | grep -q 'undo of decisions'"
cli undo 999999
check "undo of a decision the daemon does not know: exit 3, says so" "[ \$RC = 3 ] && grep -q 'no decision 999999' <<<\"\$ERR\""
cli undo
check "undo without a seq or --container: exit 2, says what to give" "[ \$RC = 2 ] && grep -q 'give its seq, or --container ID' <<<\"\$ERR\""
cli status
check "status marks the container in ignore_lxc (RUN ign) and says what that means" \
	"grep -q '^103 .* ign ' <<<\"\$OUT\" && grep -q '^RUN ign: in ignore_lxc' <<<\"\$OUT\""
cli scale 103 --memory 2048
check "scale on a container in ignore_lxc: refused without --force (exit 5), says why" \
	"[ \$RC = 5 ] && grep -q 'container 103 is in ignore_lxc.*--force' <<<\"\$ERR\" && [ \"\$(conf 103 memory)\" = 1024 ]"
cli scale 103 --memory 2048 --force
check "... and with --force it goes through (persisted: 103.conf memory 2048)" \
	"grep -q '^container 103: persist-only: memory 1024 -> 2048 MiB' <<<\"\$OUT\" && conf_soon 103 memory 2048"

# ---- 6. SIGHUP: the API is restarted only when its settings changed ----------------------
kill -HUP "$DPID"
check "SIGHUP with the API's settings unchanged: reloaded, the API keeps running" \
	"wait_log 'configuration reloaded' 50 && ! grep -q 'restarting it' '$W/daemon.log' && req GET /api/v1/containers && [ \"\$CODE\" = 200 ]"
printf 'rate_limiting:\n  max_requests_per_minute: 500\n' >>"$W/cfg.yaml"
kill -HUP "$DPID"
check "SIGHUP with a changed API setting: the API is restarted and answers" \
	"wait_log 'the REST API.s settings changed: restarting it' 50 && wait_json /api/v1/containers '.containers | length == 3'"
check "no notifier, pct persistence: libcurl is not even mapped" "! grep -q libcurl /proc/$DPID/maps"
printf 'notifications:\n  webhook_url: "http://127.0.0.1:9/lxcscale-test"\n' >>"$W/cfg.yaml"
kill -HUP "$DPID"
check "SIGHUP with new notifications.*: the notifier is restarted, no restart asked for" \
	"wait_log 'notifications restarted with the new settings' 50 && ! grep -q 'take effect at the next start' '$W/daemon.log'"
check "... and libcurl is loaded for it" "grep -q libcurl /proc/$DPID/maps"

# ---- 6b. dry run: the CLI says nothing changed ---------------------------------------------
sed -i 's/^  dry_run: false$/  dry_run: true/' "$W/cfg.yaml"
n_reloads=$(grep -c 'configuration reloaded' "$W/daemon.log")
kill -HUP "$DPID"
for ((i = 0; i < 50; i++)); do [ "$(grep -c 'configuration reloaded' "$W/daemon.log")" -gt "$n_reloads" ] && break; sleep 0.1; done
before=$(cat "$PVE/101.conf")
cli scale 101 --memory 1536
check "scale in dry run: exit 5, says dry-run and NOT in force, 101.conf unchanged" \
	"[ \$RC = 5 ] && grep -q '^container 101: dry-run: memory 1024 -> 1536 MiB (NOT in force)' <<<\"\$OUT\" && [ \"\$(cat $PVE/101.conf)\" = \"\$before\" ]"
sed -i 's/^  dry_run: true$/  dry_run: false/' "$W/cfg.yaml"

kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=""
if stop_daemon; then ok "SIGTERM: clean stop (exit 0)"; else bad "the daemon did not stop cleanly"; fi

# ---- 7. SIGKILL right after a scale, then restart ----------------------------------------
# pct set takes 3 s now: the kill lands after the journal and before the persist.
if start_daemon PCT_STAND_IN_DELAY_MS=3000 PCT_STAND_IN_ONLY=set; then
	wait_json /api/v1/containers '[.containers[] | select(.vmid==101) | .limits.cores==2] | any'
	req POST /scale/cores '{"lxc_id": 101, "cores": 1}'
	[ "$CODE" = 200 ] && ok "scale to 1 core accepted before the kill" || bad "scale before the kill: $CODE"
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=""
	sleep 3.5 # a pct set the persister had started finishes on its own; that is fine too
	before=$(conf 101 cores)
	echo "# after SIGKILL: 101.conf cores: $before"
	if start_daemon; then ok "restart after SIGKILL"; else bad "no restart after SIGKILL"; fi
	grep -E 'journal|reconcile|ERROR|CRITICAL' "$W/daemon.log" | sed 's/^/#   /'
	check "the restart finds the change open in the journal" \
		"grep -q 'journal $W/journal: [0-9]* records, [1-9][0-9]* open change' '$W/daemon.log' || [ '$before' = 1 ]"
	check "reconcile logs what it did" "grep -q 'reconcile: [0-9]* persisted' '$W/daemon.log'"
	check "conf and journal agree: 101.conf says cores: 1" "[ \"\$(conf 101 cores)\" = 1 ]"
	check "no journal change is left open" \
		"sleep 0.3; req GET /metrics; grep -q '^lxcscale_journal_open_changes 0' '$W/body'"
	stop_daemon
	if start_daemon; then
		check "a second restart has nothing to replay" "grep -q 'open change(s)' '$W/daemon.log' && grep -q ' 0 open change(s)' '$W/daemon.log'"
		stop_daemon
	else
		bad "second restart"
	fi
else
	bad "start with a slow pct"
fi
# ---- 8. a config read that answers after a newer change --------------------------------
# pct config answers 1.5 s after it read the file: the read the daemon asks after the first
# change's persist (1 -> 2 cores) comes back after the second change (2 -> 1), holding the
# first one's cores. Taken as the allocation, it would say 2 cores where 1 is set (in the VM a
# CPU burst then decided the same scale-up again at once); the daemon drops it and uses the
# read asked after the second change's persist.
configs() { grep -c "$(printf '^pct\tconfig\t102\t')" "$PVE/argv.log"; }
last_seq=$(jq -s 'map(.seq) | max' "$W/suggestions.jsonl")
if start_daemon PCT_STAND_IN_ANSWER_DELAY_MS=1500 PCT_STAND_IN_ONLY=config &&
	wait_json /api/v1/containers '[.containers[] | select(.vmid==102) | .limits.cores==1] | any'; then
	req GET "/api/v1/decisions?since=0&limit=1000"
	check "after a restart /api/v1/decisions still lists the last run's decisions, with their outcomes" \
		"[ \"\$(jqb '[.decisions[] | select(.seq == $last_seq)] | length')\" = 1 ] && grep -q 'decisions: [0-9]* of the last run.s read back' '$W/daemon.log' &&
		 [ \"\$(jqb '[.decisions[] | select(.outcome == \"persist-only\")] | length')\" -ge 1 ]"
	: >"$PVE/argv.log"
	req POST /scale/cores '{"lxc_id": 102, "cores": 2}'
	c2=$CODE
	new_seq=$(jqb .decision.seq)
	check "after a restart decisions are numbered on (seq $new_seq after the last run's $last_seq)" \
		"[ '$new_seq' -gt '$last_seq' ] && grep -q 'decisions: numbered on from seq' '$W/daemon.log'"
	check "one number for the decision in the API, the log's outcome line and the suggestions file" \
		"wait_log 'ct 102: .*seq $new_seq:' 20 && grep -q '\"seq\":$new_seq,' '$W/suggestions.jsonl'"
	wait_log 'ct 102: persisted' 50 && for ((i = 0; i < 50; i++)); do [ "$(configs)" -ge 1 ] && break; sleep 0.1; done
	req POST /scale/cores '{"lxc_id": 102, "cores": 1}'
	check "two scales of 102 in a row: 200 and 200" "[ '$c2' = 200 ] && [ '$CODE' = 200 ]"
	# the worker reads one container at a time: the second read starts once the first answered
	for ((i = 0; i < 100; i++)); do [ "$(configs)" -ge 2 ] && break; sleep 0.1; done
	check "the config is read again after each persist" "[ \"\$(configs)\" -ge 2 ]"
	sleep 0.5 # the loop takes answers once per tick
	check "the read from before the second change is not taken as the allocation" \
		"! grep -q 'container 102: allocation from its Proxmox config: 2 cores' '$W/daemon.log'"
	check "102 stays at 1 core in /api/v1/containers" \
		"wait_json /api/v1/containers '[.containers[] | select(.vmid==102) | .limits.cores==1] | any'"
	check "102.conf says cores: 1" "[ \"\$(conf 102 cores)\" = 1 ]"
	stop_daemon
else
	bad "start with a slow pct config"
fi

# ---- 9. a persist that keeps failing makes /health/check unhealthy ------------------------
if start_daemon PCT_STAND_IN_FAIL=255 PCT_STAND_IN_ONLY=set PCT_STAND_IN_FAIL_MESSAGE="storage offline"; then
	req POST /scale/cores '{"lxc_id": 101, "cores": 2}'
	wait_log 'persisting failed' 100
	req GET /health/check
	check "/health/check after a failed persist: 503 unhealthy, persist failed with pct's words" \
		'[ "$CODE" = 503 ] && [ "$(jqb .status)" = unhealthy ] && [ "$(jqb .checks.persist.state)" = failed ] && jqb .checks.persist.detail | grep -q "storage offline"'
	stop_daemon
else
	bad "start with a failing pct set"
fi

# ---- 10. Proxmox tags and an admin's pct set, picked up without a reload -------------------
PCT=$BUILD/tests/tools/pct
sed -i "s|^persist:\$|persist:\n  config_dir: $PVE|" "$W/cfg.yaml"
cat >>"$W/cfg.yaml" <<EOF
tiers:
  gold:
    max_cpu_cores: 4
EOF
"$PCT" set 102 --tags 'web;LXCScale-Ignore'
if start_daemon; then
	ct_is() { wait_json /api/v1/containers "[.containers[] | select(.vmid==$1) | $2] | any"; }
	check "a container tagged lxcscale-ignore (any case) at start: ignored_by tag in the API" \
		"ct_is 102 '.ignored and .ignored_by==\"tag\"' && wait_log 'container 102: Proxmox tag lxcscale-ignore: watched, never scaled' 20"
	check "... ignore_lxc still says ignore_lxc (103)" "ct_is 103 '.ignored_by==\"ignore_lxc\"'"
	cli status 102
	check "status 102 says it is ignored by its Proxmox tag" \
		"grep -q '^102 .* ign ' <<<\"\$OUT\" && grep -q '^ignored: by its Proxmox tag (tags.ignore)' <<<\"\$OUT\""
	cli scale 102 --memory 2048
	check "scale on a tagged container: refused without --force (exit 5), names the tag" \
		"[ \$RC = 5 ] && grep -q 'container 102 has the Proxmox tag lxcscale-ignore.*--force' <<<\"\$ERR\""
	"$PCT" set 102 --tags web
	check "the tag removed with pct set: scaled again within seconds, no reload" \
		"ct_is 102 '.ignored==false and .ignored_by==\"\"' && wait_log 'container 102: Proxmox tag lxcscale-ignore gone: scaled again' 50"
	"$PCT" set 101 --tags lxcscale-tier-gold
	check "tag lxcscale-tier-gold puts 101 in tiers.gold (API tier, log)" \
		"ct_is 101 '.tier==\"gold\"' && wait_log 'container 101: tiers.gold from its Proxmox tag lxcscale-tier-gold' 50"
	cli status 101
	check "status 101 shows its tier" "grep -q '^tier: gold\$' <<<\"\$OUT\""
	"$PCT" set 101 --tags lxcscale-tier-silver
	check "a tier tag naming no tier: a warning, and the global scaling" \
		"wait_log 'container 101: Proxmox tag lxcscale-tier-silver names no tier of the config: the global scaling' 50 && ct_is 101 '.tier==\"\"'"
	"$PCT" set 101 --memory 3072
	check "an admin's pct set --memory: the allocation follows the config without a reload" \
		"wait_log 'container 101: allocation from its Proxmox config: .* 3072 MiB' 50 && ct_is 101 '.limits.memory_mb==3072'"
	stop_daemon
else
	bad "start with persist.config_dir and a tier"
fi

# ---- 11. a config change seen while our own change waits for its persist -----------------
# The watch must not read 102.conf as the allocation before the daemon's change is in it:
# that read would hand back the old cores and the policy would decide the change again.
if start_daemon PCT_STAND_IN_DELAY_MS=2500 PCT_STAND_IN_ONLY=set; then
	reads102() { grep -c "$(printf 'pct\tconfig\t102\t')" "$PVE/argv.log"; }
	wait_log 'container 102: allocation from its Proxmox config' 50
	sleep 0.5
	cli scale 102 --memory 3072
	before=$(reads102)
	PCT_STAND_IN_DELAY_MS=0 "$PCT" set 102 --tags 'web;db'
	sleep 2.2 # the watch looks every 2 s; the persist still waits in the slow pct set
	check "an edit of 102.conf while our change waits for its persist: no config read asked meanwhile" \
		"[ \$(reads102) = $before ] && ct_is 102 '.limits.memory_mb==3072'"
	check "... and once persisted, the config (with the change) is read again" \
		"conf_soon 102 memory 3072 && for ((i = 0; i < 50; i++)); do [ \$(reads102) -gt $before ] && break; sleep 0.1; done; [ \$(reads102) -gt $before ]"
	stop_daemon
else
	bad "start with a slow pct set"
fi
finish

#!/bin/bash
# POST /scale/cores beyond the host's CPUs with the real lxcscaled attached: the reference
# takes 1..128 cores and hands them to `pct set`; a running container's cgroup can be given
# no more than this host's CPUs. So the daemon makes a manual decision clamped to the
# host's CPUs (not persisted by its persister), the API writes the cores asked to the
# config with the reference's `pct set <id> -cores N`, and the answer (message, data,
# cgroup_cores, decision) and the log say so. The daemon then reads the config back
# (persist.config_dir watch): its allocation is the config's. Test cgroups as containers,
# the stand-in pct as persist.pct_path, the API on a loopback port, driven with curl.
# This host has no cpu controller delegated, so the cgroup write itself fails: the answer
# must say "not in force" (the enforced path is pinned with a stand-in daemon in
# api_reference.sh, and proven on a real host by the VM tests).
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"

check() { if eval "$2"; then ok "$1"; else bad "$1"; echo "#   code=${CODE:-} body=$(head -c 600 "$W/body" 2>/dev/null)"; fi; }

find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then
	skp "api daemon cores: needs root and a cgroup v2 mount"
	finish
fi
for b in lxcscaled tests/tools/pct; do
	[ -x "$BUILD/$b" ] || { bad "missing $BUILD/$b (make all tests)"; finish; }
done
command -v curl >/dev/null && command -v jq >/dev/null || { skp "api daemon cores: needs curl and jq"; finish; }

NAME=lxcscale-it-cores-$$
CG=$MOUNT/$NAME
W=$(mktemp -d /tmp/lxcscale-it-cores-XXXXXX)
PVE=$W/pve
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	remove_test_cgroup "$CG"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir "$CG" "$CG/101" "$PVE" || { bad "cannot create test cgroups under $CG"; finish; }
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/argv.log
printf 'arch: amd64\ncores: 1\nhostname: ct101\nmemory: 1024\nostype: debian\nswap: 0\n' >"$PVE/101.conf"
echo running >"$PVE/101.state"
conf() { sed -n "s/^$2: //p" "$PVE/$1.conf"; }
HOST_CPUS=$(nproc)
ASK=$((HOST_CPUS * 2 > 128 ? 128 : HOST_CPUS * 2))
[ "$ASK" -gt "$HOST_CPUS" ] || { skp "api daemon cores: this host has 128 CPUs or more"; finish; }

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
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 256
  min_ram_mb: 512
  max_ram_mb: 8192
  cooldown_down_seconds: 3600
  total_cores: 1024
  total_ram_mb: 65536
cgroup:
  root: $NAME
bpf:
  enabled: false
persist:
  pct_path: $BUILD/tests/tools/pct
  config_dir: $PVE
  debounce_ms: 100
  retry_base_ms: 100
server:
  host: 127.0.0.1
  port: $PORT
EOF

wait_log() { # pattern tenths [file]
	local i
	for ((i = 0; i < $2; i++)); do
		grep -q -- "$1" "${3:-$W/daemon.log}" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
req() { # METHOD PATH [JSON]
	local args=(-s -o "$W/body" -w '%{http_code}' -X "$1" --max-time 20)
	[ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	CODE=$(curl "${args[@]}" "$U$2")
}
jqb() { jq -r "$1" "$W/body" 2>/dev/null; }
wait_json() { # GET $1 until jq expression $2 is true
	local i
	for ((i = 0; i < 50; i++)); do
		req GET "$1"
		[ "$(jqb "$2")" = true ] && return 0
		sleep 0.1
	done
	return 1
}

: >"$W/daemon.log"
"$BUILD/lxcscaled" --config "$W/cfg.yaml" --foreground >>"$W/daemon.log" 2>&1 &
DPID=$!
if wait_log "ready:" 150 && wait_log 'container 101: allocation from its Proxmox config: 1 cores' 50; then
	ok "lxcscaled starts with the API on $U; 101 has 1 core from its config"
else
	bad "lxcscaled did not start"; sed 's/^/#   /' "$W/daemon.log" | tail -20; finish
fi

: >"$PVE/argv.log"
req POST /scale/cores "{\"lxc_id\": 101, \"cores\": $ASK}"
check "POST /scale/cores $ASK cores on a $HOST_CPUS-CPU host → 200 with the reference's message" \
	"[ '$CODE' = 200 ] && [ \"\$(jqb .message)\" = 'CPU cores set to $ASK for container 101' ]"
check "the daemon's manual decision asked the cgroup for this host's $HOST_CPUS CPUs, not $ASK" \
	"[ \"\$(jqb .decision.reason)\" = manual ] && [ \"\$(jqb .decision.cpu.to)\" = $HOST_CPUS ] && [ \"\$(jqb .decision.persist)\" = false ] && jqb .decision.detail | grep -q '$ASK cores asked'"
check "the config got the cores asked, by the reference's argv: pct set 101 -cores $ASK" \
	"grep -qx \"\$(printf 'pct\tset\t101\t-cores\t$ASK')\" '$PVE/argv.log' && [ \"\$(conf 101 cores)\" = $ASK ]"
check "the daemon's persister did not write the clamped value over it" \
	"sleep 0.5; ! grep -q \"\$(printf 'pct\tset\t101\t--cores')\" '$PVE/argv.log' && [ \"\$(conf 101 cores)\" = $ASK ]"
check "the answer says the change is in the config, not in force (no cpu controller on this host)" \
	"jqb .data | grep -q '^cores $ASK written to the config only, not in force: the cgroup cannot be written on this host'"
check "the daemon's log says it: $ASK cores asked, more than this host's $HOST_CPUS CPUs" \
	"wait_log 'container 101: POST /scale/cores asks for $ASK cores, more than this host.s $HOST_CPUS CPUs: its cgroup gets $HOST_CPUS, its config keeps $ASK' 20"
check "... and the API's line" "wait_log 'POST /scale/cores: container 101: cores $ASK written to the config only' 20"
check "the daemon reads the config back: its allocation is $ASK cores" \
	"wait_log 'container 101: allocation from its Proxmox config: $ASK cores' 60 && wait_json /api/v1/containers '[.containers[] | select(.vmid==101) | .limits.cores==$ASK] | any'"
req POST /scale/cores '{"lxc_id": 101, "cores": 129}'
check "129 cores: 400, the reference's text, nothing run" \
	"[ '$CODE' = 400 ] && [ \"\$(jq -c .errors '$W/body')\" = '[\"Cores must be between 1 and 128, got 129\"]' ]"
: >"$PVE/argv.log"
req POST /scale/cores '{"lxc_id": 101, "cores": 1}'
check "1 core (within the host): the daemon's usual way, persisted by its persister (pct set 101 --cores 1)" \
	"[ '$CODE' = 200 ] && [ \"\$(jqb .decision.persist)\" = true ] && [ \"\$(jqb .cgroup_cores)\" = null ] && wait_log \"\$(printf 'pct\tset\t101\t--cores\t1')\" 50 '$PVE/argv.log'"

kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
rc=$?
DPID=""
check "lxcscaled stops cleanly" "[ $rc = 0 ]"
finish

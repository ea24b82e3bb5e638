#!/bin/bash
# asan: skip
# valgrind_daemon.sh — lxcscaled under valgrind memcheck on this host's real cgroup v2 tree
# (dry run, 20 test containers, two created and two removed while it runs, the dashboard's
# files and the /api/v1 reads it makes, a SIGHUP reload, then SIGTERM): 0 errors and 0 bytes
# definitely lost. The live daemon with BPF, cgroup
# limit writes, pct and the REST API runs under valgrind in the VM (tests/vm/scenarios/
# 90-valgrind.sh); this one adds churn of many containers, which is cheap here.
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"
find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then skp "valgrind: needs root and a cgroup v2 mount"; finish; fi
command -v valgrind >/dev/null || { skp "valgrind: not installed"; finish; }
[ -x "$BUILD/lxcscaled" ] || { bad "missing $BUILD/lxcscaled"; finish; }

NAME=lxcscale-test-valgrind-$$
CG=$MOUNT/$NAME
WORK=$(mktemp -d /tmp/lxcscale-test-valgrind-XXXXXX)
VPID="" SLEEPERS=()
cleanup() {
	[ -n "$VPID" ] && kill -KILL "$VPID" 2>/dev/null && wait "$VPID" 2>/dev/null
	for p in "${SLEEPERS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	remove_test_cgroup "$CG"
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CG" || { bad "cannot create $CG"; finish; }
spawn() { mkdir -p "$CG/$1"; sh -c "echo \$\$ > $CG/$1/cgroup.procs; exec sleep 1000" & SLEEPERS+=($!); }
for id in $(seq 101 120); do spawn "$id"; done
PORT=$(free_port)
cat >"$WORK/cfg.yaml" <<EOF
server:
  host: 127.0.0.1
  port: $PORT
lock_file: $WORK/lock
log_file: ""
data_file: $WORK/lxc_metrics.json
model_file: $WORK/model.bin
suggestions_file: $WORK/suggestions.jsonl
journal_file: $WORK/journal
state_dir: $WORK
sample_interval_ms: 200
metrics_interval_seconds: 1
scaling:
  dry_run: true
cgroup:
  root: $NAME
  assumed_cores: 1
  assumed_ram_mb: 1024
bpf:
  enabled: false
model:
  features: [cpu_usage_percent, rolling_mean_cpu, rolling_std_cpu, max_cpu, min_cpu, cpu_trend, time_diff]
EOF
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--track-fds=no --error-exitcode=99 --log-file="$WORK/valgrind.log" \
	"$BUILD/lxcscaled" --config "$WORK/cfg.yaml" --foreground >"$WORK/daemon.log" 2>&1 &
VPID=$!
for ((i = 0; i < 600; i++)); do grep -q "ready:" "$WORK/daemon.log" && break; sleep 0.1; done
if ! grep -q "ready:" "$WORK/daemon.log"; then
	bad "lxcscaled did not get ready under valgrind"; tail -5 "$WORK/daemon.log" | sed 's/^/# /'; finish
fi
sleep 4
spawn 121; spawn 122
{ kill -KILL "${SLEEPERS[0]}" "${SLEEPERS[1]}"; wait "${SLEEPERS[0]}" "${SLEEPERS[1]}"; } 2>/dev/null
sleep 1; rmdir "$CG/101" "$CG/102" 2>/dev/null
# what an open dashboard asks for (the files are served from the binary, zero-copy)
answered=0
for path in /ui/ /ui/app.js /ui/uplot.js /api/v1/host /api/v1/containers /api/v1/containers/103 \
	"/api/v1/decisions?vmid=103&limit=20&newest=true" /api/v1/model; do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PORT$path")" = 200 ] && answered=$((answered + 1))
done
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/api/v1/events" # the live stream, cut
sleep 3
kill -HUP "$VPID"
sleep 4
kill -TERM "$VPID"
wait "$VPID"; rc=$?; VPID=""
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$WORK/valgrind.log" | tail -n1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$WORK/valgrind.log" | tail -n1 | tr -d ,)
echo "# valgrind: exit $rc, ERROR SUMMARY ${errors:-?} errors, definitely lost ${definite:-0} bytes"
grep -E "in use at exit|possibly lost|still reachable" "$WORK/valgrind.log" | sed 's/^==[0-9]*== */# /'
if [ "$rc" = 0 ] && [ "${errors:-x}" = 0 ] && [ "${definite:-0}" = 0 ]; then
	ok "lxcscaled under valgrind (20 containers, churn, SIGHUP, SIGTERM): 0 errors, 0 bytes definitely lost"
else
	bad "lxcscaled under valgrind: exit $rc, ${errors:-?} errors, ${definite:-?} bytes definitely lost"
	grep -A12 "^==[0-9]*== \(Invalid\|Conditional\|Use of\|Mismatched\|.*definitely lost in\)" "$WORK/valgrind.log" | head -60 | sed 's/^/# /'
fi
grep -q "container 121: watching\|container 121" "$WORK/daemon.log" && ok "... it saw the containers created meanwhile" || bad "container 121 not seen under valgrind"
[ "$answered" = 8 ] && ok "... and answered the dashboard's 8 requests (files, host, containers, decisions, model)" ||
	bad "under valgrind: $answered of 8 dashboard requests answered 200"
finish

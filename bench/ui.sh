#!/bin/bash
# bench/ui.sh — what open dashboards cost the daemon: the real lxcscaled (dry run, BPF off)
# with 100 test containers (cgroups under the cgroup v2 root), its CPU time and RSS over
# SECONDS with no dashboard, then with 5 headless chromium tabs on the host view (one
# /api/v1/host + /api/v1/containers every 2 s each, plus the live events stream), then with
# 5 tabs on container views (/api/v1/containers/ID every second). Also each tab's JS heap at
# the start and the end of its phase (bounded buffers: it must not keep growing).
# Phases alternate with a no-dashboard phase between them so drift shows.
#   bench/ui.sh [BUILD]          SECONDS=60 by default (UI_BENCH_SECONDS)
set -uo pipefail
BUILD=${1:-${BUILD:-build}}
cd "$(dirname "$0")/.." || exit 1
BUILD=$(cd "$BUILD" && pwd)
SECONDS_PER=${UI_BENCH_SECONDS:-60}
N=100 TABS=5
MOUNT=""
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ] && { MOUNT=$m; break; }
done
if [ -z "$MOUNT" ] || [ "$(id -u)" != 0 ] || ! command -v chromium >/dev/null || [ ! -f ui/node_modules/playwright-core/index.mjs ]; then
	echo "bench ui: skipped: needs root, chromium and ui/node_modules (make deps)"
	exit 0
fi
NAME=lxcscale-bench-ui-$$
CG=$MOUNT/$NAME
W=$(mktemp -d /tmp/lxcscale-bench-ui-XXXXXX)
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for d in "$CG"/*/; do rmdir "$d" 2>/dev/null; done
	rmdir "$CG" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
mkdir "$CG" || { echo "bench ui: cannot create $CG"; exit 0; }
for ((i = 0; i < N; i++)); do mkdir "$CG/$((1000 + i))"; done
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$W/cfg.yaml" <<YAML
lock_file: $W/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: ""
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 100
scaling:
  dry_run: true
cgroup:
  root: $NAME
  assumed_cores: 1
  assumed_ram_mb: 1024
bpf:
  enabled: false
persist:
  pct_path: /nonexistent/pct
server:
  host: 127.0.0.1
  port: $PORT
YAML
"$BUILD/lxcscaled" --config "$W/cfg.yaml" --foreground >"$W/daemon.log" 2>&1 &
DPID=$!
for ((i = 0; i < 150; i++)); do grep -q "ready:" "$W/daemon.log" && break; sleep 0.1; done
grep -q "ready:" "$W/daemon.log" || { echo "bench ui: the daemon did not start"; tail -3 "$W/daemon.log"; exit 0; }
sleep 3
seen=$(curl -s "http://127.0.0.1:$PORT/api/v1/host" | jq -r .containers)
[ "$seen" = "$N" ] || { echo "bench ui: the daemon sees ${seen:-no} containers, not $N"; exit 0; }
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }
reqs() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^lxc_autoscale_api_requests_total|^api_requests_total/ {s += $NF} END {print s + 0}'; }
echo "setup: lxcscaled (dry run, BPF off, tick 100 ms) with $N empty test containers, $(nproc) CPUs;"
echo "       each phase ${SECONDS_PER} s; $TABS headless chromium tabs ($(chromium --version 2>/dev/null | head -1))"
printf '%-34s %10s %10s %12s %14s\n' phase "cpu %" "RSS MiB" "requests/s" "tab heap MiB"
phase() { # LABEL MODE(none|host|ct)
	local c0 c1 r0 r1 heap=""
	if [ "$2" != none ]; then
		UI_URL=http://127.0.0.1:$PORT UI_MODE=$2 UI_TABS=$TABS UI_SECONDS=$SECONDS_PER \
			node bench/ui_tabs.mjs >"$W/tabs.out" 2>&1 &
		local tp=$!
		sleep 5 # the tabs open and settle before the count starts
		c0=$(cpu_ticks); r0=$(reqs)
		sleep $((SECONDS_PER - 5))
		c1=$(cpu_ticks); r1=$(reqs)
		wait $tp
		heap=$(sed -n 's/^heap //p' "$W/tabs.out")
	else
		c0=$(cpu_ticks); r0=$(reqs)
		sleep $((SECONDS_PER - 5))
		c1=$(cpu_ticks); r1=$(reqs)
	fi
	awk -v l="$1" -v dc=$((c1 - c0)) -v hz="$HZ" -v s=$((SECONDS_PER - 5)) -v rss="$(rss_kb)" -v dr=$((r1 - r0)) -v h="${heap:-–}" \
		'BEGIN { printf "%-34s %10.2f %10.1f %12.1f %14s\n", l, 100 * dc / hz / s, rss / 1024, dr / s, h }'
}
phase "no dashboard" none
phase "$TABS tabs on the host view" host
phase "no dashboard" none
phase "$TABS tabs on container views" ct
phase "no dashboard" none
echo "(cpu %: the daemon's user+system time over the phase, of one CPU; requests/s: its API's"
echo " request counter; tab heap: the tabs' mean JS heap at the start -> end of the phase)"

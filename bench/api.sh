#!/bin/bash
# The API's throughput and tail latency with wrk over loopback, in two setups:
#   1. the server alone (bench/api_bench_server.c: a fixed table of 100 containers as the
#      backend): GET /api/v1/containers (JSON of ~68 KB per answer) encoded for every
#      request, then with containers_generation (re-encoded once per 100 ms tick),
#      GET /health/check (cached probe), GET /metrics, POST /scale/cores through `pct set`
#      with the stand-in pct (one fork+exec per request);
#   2. the real lxcscaled (dry run, BPF off, tick 100 ms) with 100 test containers (cgroups
#      under the cgroup v2 root) as the backend, while its loop runs: every GET the
#      dashboard and the CLI make (containers, one container with its history, decisions,
#      host, model, health, metrics, a dashboard file). Needs root; skipped otherwise.
# Prints requests/s and p50/p99 per case. Figures only: nothing here passes or fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SERVER=$BUILD/bench/api_bench_server
PCT=$PWD/$BUILD/tests/tools/pct
DUR=${API_BENCH_SECONDS:-5}
THREADS=${API_BENCH_THREADS:-2}
CONNS=${API_BENCH_CONNECTIONS:-32}
if ! command -v wrk >/dev/null; then echo "bench api: wrk not installed (tools/deps.sh)"; exit 0; fi
for b in "$SERVER" "$PCT"; do [ -x "$b" ] || { echo "bench api: $b not built (make benches tools)"; exit 1; }; done

T=$(mktemp -d /tmp/lxcscale-bench-api-XXXXXX)
export PCT_STAND_IN_DIR=$T/etc
mkdir -p "$PCT_STAND_IN_DIR"
printf 'cores: 2\nmemory: 2048\nhostname: bench\nrootfs: local-lvm:vm-104-disk-0,size=8G\n' >"$PCT_STAND_IN_DIR/104.conf"
"$SERVER" --port-file "$T/port" --containers 100 --pct "$PCT" --cache 0 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.02; done
U=http://127.0.0.1:$(cat "$T/port")

cat >"$T/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"lxc_id":104,"cores":2}'
wrk.headers["Content-Type"] = "application/json"
LUA

# server CPU time (user+system) in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
TCK=$(getconf CLK_TCK)

# run NAME URL [wrk args] -> one table row. Besides wall-clock rates (which depend on how
# busy the host is), the server's own CPU time per request: the load-independent cost.
run() {
	local name=$1 url=$2; shift 2
	local c0; c0=$(cpu_ticks)
	local out; out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "$@" "$url" 2>&1)
	local c1; c1=$(cpu_ticks)
	local rps p50 p99 non2xx
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	local total; total=$(awk '/requests in/ {print $1}' <<<"$out")
	local us_per; us_per=$(awk -v t="$((c1 - c0))" -v k="$TCK" -v n="${total:-0}" 'BEGIN { if (n > 0) printf "%.1f", t / k * 1e6 / n; else print "?" }')
	local per_core; per_core=$(awk -v u="$us_per" 'BEGIN { if (u + 0 > 0) printf "%.0f", 1e6 / u; else print "?" }')
	printf '%-34s %12s %10s %10s %8s %12s %12s\n' "$name" "${rps:-?}" "${p50:-?}" "${p99:-?}" "${non2xx:-0}" "$us_per" "$per_core"
}

echo "setup: wrk -t$THREADS -c$CONNS -d${DUR}s over loopback, $(nproc) CPUs ($(uname -r)), server thread per connection"
bytes=$(curl -s "$U/api/v1/containers" | wc -c)
echo "GET /api/v1/containers answer: $bytes bytes for 100 containers"
echo "host load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the host lowers requests/s; server CPU µs/request does not depend on it)"
printf '%-34s %12s %10s %10s %8s %12s %12s\n' "case" "requests/s" "p50" "p99" "non-2xx" "srv-cpu-us" "req/s/core"
run "GET /api/v1/containers (100 CTs)" "$U/api/v1/containers"
# the same with the backend's generation (re-encode at most once per 100 ms tick)
kill $pid; wait $pid 2>/dev/null; rm -f "$T/port"
"$SERVER" --port-file "$T/port" --containers 100 --pct "$PCT" --cache 1 &
pid=$!
for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.02; done
U=http://127.0.0.1:$(cat "$T/port")
run "  same, encoded once per 100 ms tick" "$U/api/v1/containers"
run "GET /health/check (cached)" "$U/health/check"
run "GET /metrics" "$U/metrics"
CONNS_POST=${API_BENCH_POST_CONNECTIONS:-8}
CONNS_SAVE=$CONNS; CONNS=$CONNS_POST
run "POST /scale/cores (stand-in pct)" "$U/scale/cores" -s "$T/post.lua"
CONNS=$CONNS_SAVE
echo "(POST uses $CONNS_POST connections: each request forks and execs pct, which edits one file under flock)"
kill $pid; wait $pid 2>/dev/null

# ---- 2. the real daemon as the backend -----------------------------------------------------
CGM=""
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ] && { CGM=$m; break; }
done
if [ "$(id -u)" != 0 ] || [ -z "$CGM" ]; then
	echo "bench api (real daemon): skipped: needs root and a cgroup v2 mount"
	exit 0
fi
NAME=lxcscale-bench-api-$$
mkdir "$CGM/$NAME" || exit 0
for ((i = 0; i < 100; i++)); do mkdir "$CGM/$NAME/$((1000 + i))"; done
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/daemon.yaml" <<YAML
lock_file: $T/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: ""
journal_file: $T/journal
state_dir: $T
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
"$BUILD/lxcscaled" --config "$T/daemon.yaml" --foreground >"$T/daemon.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; for d in "$CGM/$NAME"/*/; do rmdir "$d" 2>/dev/null; done; rmdir "$CGM/$NAME" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 150); do grep -q "ready:" "$T/daemon.log" && break; sleep 0.1; done
U=http://127.0.0.1:$PORT
sleep 5 # a few seconds of history
seen=$(curl -s "$U/api/v1/host" | jq -r .containers)
[ "$seen" = 100 ] || { echo "bench api (real daemon): it sees ${seen:-no} containers, not 100: $(tail -3 "$T/daemon.log")"; exit 0; }
echo
echo "setup 2: lxcscaled (dry run, BPF off, tick 100 ms) with 100 empty test containers as the backend"
echo "GET /api/v1/containers answer: $(curl -s "$U/api/v1/containers" | wc -c) bytes; /api/v1/containers/1000: $(curl -s "$U/api/v1/containers/1000" | wc -c) bytes"
printf '%-34s %12s %10s %10s %8s %12s %12s\n' "case (daemon)" "requests/s" "p50" "p99" "non-2xx" "srv-cpu-us" "req/s/core"
run "GET /api/v1/containers" "$U/api/v1/containers"
run "GET /api/v1/containers/1000" "$U/api/v1/containers/1000"
run "GET /api/v1/decisions?limit=100" "$U/api/v1/decisions?limit=100"
run "GET /api/v1/host" "$U/api/v1/host"
run "GET /api/v1/model" "$U/api/v1/model"
run "GET /health/check" "$U/health/check"
run "GET /metrics" "$U/metrics"
run "GET /ui/app.js" "$U/ui/app.js"
echo "(srv-cpu-us: the daemon's CPU per request, its loop's own ticks included)"

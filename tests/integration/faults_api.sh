#!/bin/bash
# faults_api.sh — the real API server (tests/tools/api_server, the api/ library) under a
# flood: a thousand HTTP clients at once over real TCP, and the same with the process's
# file descriptors nearly exhausted. The server must stay up, answer 200, 429 (rate limit)
# or refuse the connection (its connection limits), never crash or hang; afterwards its fd
# count is back where it was and it answers again. Memory is reported (VmHWM, VmRSS).
#
# Rate limiting never applies to loopback clients, so the test runs in a network namespace
# of its own (unshare -n, root) where 198.51.100.1 (server) and .2 (clients) live on lo;
# nothing on the host's network changes. Without unshare the 429 checks are skipped.
set -u
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
SRV=$BUILD/tests/tools/api_server
PY=/usr/bin/python3
STORM=$TOP/tests/integration/lib/http_storm.py

if [ "${LXCSCALE_IN_NETNS:-}" != 1 ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	exec unshare -n env LXCSCALE_IN_NETNS=1 bash "$0" "$@"
fi

pass=0 failn=0 skipn=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
fail() { echo "FAIL - $1"; failn=$((failn + 1)); }
skip() { echo "skip - $1: $2"; skipn=$((skipn + 1)); }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }
info() { echo "info - $1"; }

[ -x "$SRV" ] || { echo "FAIL - $SRV not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
[ -x "$PY" ] || { echo "skip - API floods: no $PY"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

T=$(mktemp -d /tmp/lxcscale-test-faults-api-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

if [ "${LXCSCALE_IN_NETNS:-}" = 1 ]; then
	ip link set lo up && ip addr add 198.51.100.1/32 dev lo && ip addr add 198.51.100.2/32 dev lo ||
		{ echo "FAIL - network namespace setup"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
	SHOST=198.51.100.1 CSRC=198.51.100.2 NETNS=1
else
	SHOST=127.0.0.1 CSRC= NETNS=0
fi

# start_server NAME [prlimit args] -- [api_server args]: sets SP (pid) and PORT
start_server() {
	local name=$1; shift
	local pre=()
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	rm -f "$T/$name.port"
	"${pre[@]}" "$SRV" --host "$SHOST" --port-file "$T/$name.port" "$@" 2>"$T/$name.log" &
	SP=$!; PIDS+=("$SP")
	local i
	for i in $(seq 1 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	PORT=$(cat "$T/$name.port" 2>/dev/null)
	[ -n "$PORT" ]
}
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# wait_fds PID N: until the fd count is back to N (connection threads finish closing)
wait_fds() {
	local i
	for i in $(seq 1 100); do [ "$(fds "$1")" -le "$2" ] && return 0; sleep 0.1; done
	return 1
}
count() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$2"; }
src=()
[ -n "$CSRC" ] && src=(--source "$CSRC")

# ---- 1. a thousand clients against the default limits (256 connections, 64 per IP) -------
if start_server default -- --rate 120/60; then
	base_fds=$(fds "$SP") base_rss=$(kb "$SP" VmRSS)
	out=$("$PY" "$STORM" "$SHOST" "$PORT" 1000 /routes --hold "${src[@]}" --timeout 60)
	info "default limits, 1000 clients at once: $out; server VmRSS ${base_rss} kB -> $(kb "$SP" VmRSS) kB, VmHWM $(kb "$SP" VmHWM) kB"
	check "1000 clients: the server is still running" 'kill -0 "$SP"'
	check "1000 clients: every answer is 200, 429 or a refused connection (no 5xx, no hang)" '
		[ "$(count status_other "$out")" = 0 ] && [ "$(count timeout "$out")" = 0 ] &&
		[ "$(count status_503 "$out")" = 0 ] &&
		[ $(( $(count status_200 "$out") + $(count status_429 "$out") + $(count closed "$out") + $(count connect_error "$out") )) = 1000 ]'
	check "1000 clients: over-limit connections are refused, the per-IP limit holds (64 answered)" '
		[ $(( $(count status_200 "$out") + $(count status_429 "$out") )) -le 64 ] && [ "$(count closed "$out")" -gt 0 ]'
	check "1000 clients: fds back to the baseline ($base_fds) afterwards" 'wait_fds "$SP" "$base_fds"'
	check "1000 clients: answers again afterwards" '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://$SHOST:$PORT/metrics")" = 200 ]'
	check "1000 clients: the refusals are logged once, not a thousand times" '
		[ "$(grep -c "connection limit" "$T/default.log")" -le 2 ]'
	kill -TERM "$SP"; wait "$SP"; rc=$?
	check "1000 clients: a clean stop afterwards (exit 0)" '[ $rc -eq 0 ]'
else
	fail "api_server did not start"; cat "$T/default.log"
fi

# ---- 2. a thousand clients all admitted: exactly the rate limit's share is served ---------
if start_server wide -- --rate 120/60 --max-conns 1100 --per-ip 0; then
	base_fds=$(fds "$SP") base_rss=$(kb "$SP" VmRSS)
	out=$("$PY" "$STORM" "$SHOST" "$PORT" 1000 /routes --hold "${src[@]}" --timeout 60)
	hwm=$(kb "$SP" VmHWM)
	info "1000 admitted clients (thread per connection): $out; server VmRSS ${base_rss} kB -> $(kb "$SP" VmRSS) kB, VmHWM $hwm kB"
	check "1000 admitted clients: still running, every request answered 200 or 429" '
		kill -0 "$SP" && [ $(( $(count status_200 "$out") + $(count status_429 "$out") )) = 1000 ]'
	if [ "$NETNS" = 1 ]; then
		check "1000 admitted clients from one address: exactly 120 served, 880 rate-limited (429)" '
			[ "$(count status_200 "$out")" = 120 ] && [ "$(count status_429 "$out")" = 880 ]'
	else
		skip "1000 clients: exactly 120 served, 880 rate-limited" "no network namespace (loopback is never rate limited)"
	fi
	# 1000 connection threads; ASan's shadow memory and quarantine roughly triple it
	lim=262144; case $BUILD in *asan*) lim=786432 ;; esac
	check "1000 admitted clients: peak memory bounded (VmHWM $hwm kB < $((lim / 1024)) MiB)" '[ "$hwm" -lt "$lim" ]'
	check "1000 admitted clients: fds back to the baseline" 'wait_fds "$SP" "$base_fds"'
	kill -TERM "$SP"; wait "$SP"
else
	fail "api_server (wide limits) did not start"; cat "$T/wide.log"
fi

# ---- 3. file descriptors exhausted: 40 allowed, 300 clients, 1000 connections allowed ------
if start_server fds prlimit --nofile=40 -- --rate 100000/60 --max-conns 1000 --per-ip 0; then
	base_fds=$(fds "$SP")
	out=$("$PY" "$STORM" "$SHOST" "$PORT" 300 /routes --hold "${src[@]}" --timeout 60)
	info "RLIMIT_NOFILE 40, 300 clients at once: $out"
	check "fds exhausted: the server is still running" 'kill -0 "$SP"'
	check "fds exhausted: no 5xx, no hang; the clients are served as fds free up" '
		[ "$(count status_other "$out")" = 0 ] && [ "$(count timeout "$out")" = 0 ] &&
		[ "$(count status_200 "$out")" -gt 0 ]'
	check "fds exhausted: fds back to the baseline, answers again afterwards" '
		wait_fds "$SP" "$base_fds" &&
		[ "$(curl -s -o /dev/null -w "%{http_code}" "http://$SHOST:$PORT/routes")" = 200 ]'
	kill -TERM "$SP"; wait "$SP"; rc=$?
	check "fds exhausted: a clean stop afterwards (exit 0)" '[ $rc -eq 0 ]'
	check "fds exhausted: accept() failing is logged a few times, not once per attempt" '
		grep -q "Too many open files" "$T/fds.log" && [ "$(grep -c "http:" "$T/fds.log")" -le 10 ]'
else
	fail "api_server under RLIMIT_NOFILE=40 did not start"; cat "$T/fds.log"
fi

echo "$pass passed, $failn failed, $skipn skipped"
[ $failn -eq 0 ]

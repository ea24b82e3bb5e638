#!/bin/bash
# ui_browser.sh — the web dashboard (/ui/, ui/) in a real browser: Debian's chromium,
# headless, driven by playwright-core from npm (tests/ui/dashboard.mjs), against the real
# lxcscaled, live, with test cgroups as containers and the stand-in pct as persist.pct_path:
#   - the page loads with a strict CSP and no console error; the host view lists the
#     containers, the budget, sorts and filters;
#   - a CPU burner started in test container 101 puts a decision mark on its CPU chart, and
#     hovering it shows the decision; a manual scale and an undo from the page reach the
#     stand-in pct (101.conf);
#   - a second daemon with authentication on: the API refuses without the key and the page
#     asks for it;
#   - `lxcscale replay --html` writes a report that opens from file:// and draws every trace.
# Screenshots go to $LXCSCALE_UI_SHOTS when set (docs/img/ keeps the ones the README shows).
# Skipped, with the reason, where chromium, node or playwright-core is missing.
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"

find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then
	skp "dashboard in a browser: needs root and a cgroup v2 mount"
	finish
fi
for b in lxcscaled lxcscale tests/tools/pct tests/tools/cpu_burner; do
	[ -x "$BUILD/$b" ] || { bad "missing $BUILD/$b (make all tests)"; finish; }
done
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ] || ! command -v node >/dev/null || [ ! -f ui/node_modules/playwright-core/index.mjs ]; then
	skp "dashboard in a browser: needs chromium, node and ui/node_modules/playwright-core (make deps)"
	finish
fi
if ! timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom 'data:text/html,<p>x</p>' 2>/dev/null | grep -q '<p>x</p>'; then
	skp "dashboard in a browser: chromium cannot start headless here"
	finish
fi

NAME=lxcscale-it-ui-$$
CG=$MOUNT/$NAME
W=$(mktemp -d /tmp/lxcscale-it-ui-XXXXXX)
PVE=$W/pve
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	pkill -f "cpu_burner -c $CG/" 2>/dev/null
	remove_test_cgroup "$CG"
	remove_test_cgroup "$CG-auth"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir "$CG" "$CG/101" "$CG/102" "$CG/103" "$PVE" || { bad "cannot create test cgroups under $CG"; finish; }
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/argv.log
for id in 101 102 103; do
	printf 'arch: amd64\ncores: 1\nhostname: web%s\nmemory: 1024\nostype: debian\nswap: 0\n' "$id" >"$PVE/$id.conf"
	echo running >"$PVE/$id.state"
done
KEY=ui-test-key-$$-0123456789abcdef

# config NAME PORT AUTH: one daemon's file
config() {
	cat >"$W/$1.yaml" <<YAML
lock_file: $W/$1.lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: $W/$1-suggestions.jsonl
journal_file: $W/$1.journal
state_dir: $W/$1
sample_interval_ms: 200
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 2
  cpu_scale_up_threshold: 60
  cooldown_up_seconds: 2
  cooldown_down_seconds: 3600
  min_ram_mb: 512
  max_ram_mb: 8192
  total_cores: 64
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
  port: $2
authentication:
  enabled: $3
  api_keys: ["$KEY"]
YAML
	mkdir -p "$W/$1"
}
start() { # NAME
	"$BUILD/lxcscaled" --config "$W/$1.yaml" --foreground >"$W/$1.log" 2>&1 &
	PIDS+=($!)
	local i
	for ((i = 0; i < 150; i++)); do grep -q "ready:" "$W/$1.log" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
P1=$(free_port)
P2=$(free_port)
config open "$P1" false
config auth "$P2" true
start open || { bad "lxcscaled (open) did not start: $(tail -3 "$W/open.log" | tr '\n' '|')"; finish; }
ok "lxcscaled starts live with the dashboard on http://127.0.0.1:$P1/ui/"

# the replay report the browser opens from file://
REPORT=""
TRACES=0
if "$BUILD/lxcscale" replay --help 2>&1 | grep -q -- '--html'; then
	# the 7 generated scenarios (the NAB series would add 10 s of replay and nothing to check)
	if "$BUILD/lxcscale" replay --scenario all --no-nab --quiet --html "$W/report.html" >"$W/replay.out" 2>&1; then
		REPORT=$W/report.html
		TRACES=$(/usr/bin/python3 -c 'import json,re,sys; t=open(sys.argv[1]).read(); m=re.search(r"<script type=\"application/json\" id=\"data\">(.*?)</script>", t, re.S); print(len(json.loads(m.group(1))["traces"]))' "$REPORT" 2>/dev/null || echo 0)
	else
		bad "lxcscale replay --html failed: $(tail -3 "$W/replay.out" | tr '\n' '|')"
	fi
else
	skp "replay report in a browser: this lxcscale has no replay --html"
fi

# the second daemon (authentication on) for the key checks: its own container root, so the
# two daemons never both manage one container
mkdir -p "$CG-auth/201"
sed -i "s|^  root: .*|  root: $NAME-auth|" "$W/auth.yaml"
printf 'arch: amd64\ncores: 1\nhostname: auth201\nmemory: 1024\n' >"$PVE/201.conf"
echo running >"$PVE/201.state"
if ! start auth; then
	bad "lxcscaled (authentication on) did not start: $(tail -3 "$W/auth.log" | tr '\n' '|')"
fi

SHOTS=${LXCSCALE_UI_SHOTS:-}
[ -n "$SHOTS" ] && mkdir -p "$SHOTS"
results=0
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }"; results=$((results + 1)) ;;
	"FAIL - "*) bad "${line#FAIL - }"; results=$((results + 1)) ;;
	*) echo "# $line" ;;
	esac
done < <(UI_URL=http://127.0.0.1:$P1 UI_AUTH_URL=http://127.0.0.1:$P2 UI_KEY=$KEY UI_CG=$CG UI_PVE=$PVE \
	UI_BURNER=$BUILD/tests/tools/cpu_burner UI_REPORT=$REPORT UI_REPORT_TRACES=$TRACES UI_SHOTS=$SHOTS \
	UI_CHROMIUM=$CHROMIUM timeout 300 node tests/ui/dashboard.mjs 2>&1)
# a driver that died before its first check (node too old for playwright-core, a broken
# install) must not pass by saying nothing
[ "$results" -ge 20 ] || bad "the browser driver (tests/ui/dashboard.mjs) gave $results results, not the 20+ it checks: node $(node --version 2>&1) with ui/node_modules/playwright-core"
# this host has no cpu/memory controllers: those write failures are expected, nothing else
errs=$(grep "ERROR\|CRITICAL" "$W/open.log" | grep -v 'cgroup file or controller not available')
if [ -z "$errs" ]; then
	ok "no other ERROR in the daemon's log"
else
	bad "the daemon logged errors: $(head -3 <<<"$errs" | tr '\n' '|')"
	grep -A25 "AddressSanitizer\|runtime error" "$W/open.log" | head -40 | sed 's/^/#   /'
fi
finish

#!/bin/bash
# daemon_basics.sh — the real lxcscaled binary: flags, --check-config exit codes, the
# reference files, --print-config round trip (secrets included, or left out with
# --omit-secrets), single instance (refusal naming the PID, SIGKILL leaves nothing blocking), SIGHUP with a broken file keeps the running
# configuration, journal prefixes, sd_notify READY/STOPPING, start with no config at all.
# Waits are bounded (generous) polls for a log line, never timing assertions.
set -u
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
D=$BUILD/lxcscaled
PY=/usr/bin/python3

pass=0 failn=0 skipn=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
fail() { echo "FAIL - $1"; failn=$((failn + 1)); }
skip() { echo "skip - $1: $2"; skipn=$((skipn + 1)); }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

T=$(mktemp -d /tmp/lxcscale-test-daemon-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

# wait_log FILE PATTERN: until a line matches (bounded)
wait_log() {
	local i
	for i in $(seq 1 200); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# wait_count FILE PATTERN N: until PATTERN occurs N times
wait_count() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

[ -x "$D" ] || { echo "FAIL - $D not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# ---- flags ----------------------------------------------------------------------------------
check "--version prints the version" '[ "$("$D" --version)" = "lxcscaled $(cat "$TOP/VERSION")" ]'
check "--help lists the reference flags" '"$D" --help | grep -q -- "--n_estimators N" && "$D" --help | grep -q -- "--ram-upper-limit"'
"$D" --no-such-flag >/dev/null 2>"$T/err"; rc=$?
check "an unknown flag exits 2" '[ $rc -eq 2 ] && grep -q "unknown option: --no-such-flag" "$T/err"'
"$D" --verbosity 5 >/dev/null 2>"$T/err"; rc=$?
check "--verbosity 5 is refused" '[ $rc -eq 2 ] && grep -q -- "--verbosity=5 must be 0, 1 or 2" "$T/err"'

cat >"$T/base.yaml" <<EOF
lock_file: $T/lxcscale.lock
server:
  port: 5000
EOF
out=$("$D" --config "$T/base.yaml" --print-config --contamination 0.1 --n_estimators 50 --max_samples 128 \
	--random_state 7 --spike-threshold 3 --ram-chunk-size 64 --ram-upper-limit 2048 --smoothing-factor 0.5 \
	--dry-run --force-save --verbosity 2 --record /tmp/rec.bin 2>/dev/null)
check "reference flags override the file" 'grep -q "contamination: 0.1$" <<<"$out" && grep -q "n_estimators: 50$" <<<"$out" &&
	grep -q "max_samples: 128$" <<<"$out" && grep -q "random_state: 7$" <<<"$out" && grep -q "spike_threshold: 3$" <<<"$out" &&
	grep -q "ram_chunk_size: 64$" <<<"$out" && grep -q "ram_upper_limit: 2048$" <<<"$out" &&
	grep -q "smoothing_factor: 0.5$" <<<"$out" && grep -q "dry_run: true$" <<<"$out" && grep -q "force_save: true$" <<<"$out" &&
	grep -q "^log_level: DEBUG$" <<<"$out" && grep -q "^record_file: \"/tmp/rec.bin\"$" <<<"$out"'
"$D" --config "$T/base.yaml" --print-config --contamination 0.9 >/dev/null 2>"$T/err"; rc=$?
check "a flag value breaking a rule exits 1 with the rule" '[ $rc -eq 1 ] &&
	grep -qx -- "--contamination: error: model.contamination=0.9 is out of range 0..0.5" "$T/err"'
"$D" --config "$T/base.yaml" --print-config --log-level loud >/dev/null 2>"$T/err"; rc=$?
check "--log-level is validated by the schema" '[ $rc -eq 1 ] && grep -q -- "--log-level: error: log_level=loud must be one of" "$T/err"'

# ---- --check-config --------------------------------------------------------------------------
"$D" --check-config "$TOP/tests/data/lxc_autoscale_ml.yaml" >"$T/out" 2>"$T/err"; rc=$?
check "--check-config: the reference's shipped file is valid (exit 0, 7 ignored keys)" '[ $rc -eq 0 ] &&
	grep -q "configuration OK (7 warnings)" "$T/out" && [ "$(grep -c "is not used by lxcscale and is ignored" "$T/err")" -eq 7 ]'
"$D" --check-config "$TOP/tests/data/lxc_autoscale_ml_v1.yaml" >/dev/null 2>&1
check "--check-config: the reference's v1.0 file with legacy keys is valid" '[ $? -eq 0 ]'
# the files the reference installed, as they were in 2024, in 1.2.0 and now (tests/data/reference/)
bad_ref=""
for v in 2024-09 1.2.0 latest; do
	for f in lxc_autoscale_ml lxc_autoscale_api lxc_monitor; do
		"$D" --check-config "$TOP/tests/data/reference/$v/$f.yaml" >"$T/out" 2>"$T/err" &&
			grep -q "configuration OK" "$T/out" && ! grep -q ": error: " "$T/err" || bad_ref="$bad_ref $v/$f.yaml"
	done
done
check "--check-config: every file the reference installed, in every release, is valid${bad_ref:+ (not:$bad_ref)}" '[ -z "$bad_ref" ]'
"$D" --config "$TOP/tests/data/reference/1.2.0/lxc_autoscale_ml.yaml" --print-config >"$T/out" 2>"$T/err"; rc=$?
check "a kept 1.2.0 lxc_autoscale_ml.yaml sets no 4-core / 16 GiB host budget; a warning per legacy key says why" '[ $rc -eq 0 ] &&
	grep -qx "  total_cores: 0" "$T/out" && grep -qx "  total_ram_mb: 0" "$T/out" && grep -qx "  ram_chunk_size: 0" "$T/out" &&
	[ "$(grep -c "is ignored, as the reference ignores it: in lxcscale it would " "$T/err")" -eq 7 ] &&
	grep -q "lxc_autoscale_ml.yaml:44:3: warning: scaling.total_cores=4 is ignored, as the reference ignores it: in lxcscale it would set the host budget to 4 cores for all containers together; to use it, set scaling.total_cores in lxcscale.yaml" "$T/err"'
"$D" --check-config "$TOP/conf/lxcscale.yaml" >"$T/out" 2>&1
check "--check-config: conf/lxcscale.yaml is valid with no warnings" 'grep -q "configuration OK (0 warnings)" "$T/out"'
printf 'scaling:\n  min_cpu_cores: 8\n  max_cpu_core: 3\n' >"$T/bad.yaml"
"$D" --check-config "$T/bad.yaml" >"$T/out" 2>"$T/err"; rc=$?
check "--check-config: a broken file exits 1 and names file:line:col, key, value and rule" '[ $rc -eq 1 ] &&
	grep -qx "$T/bad.yaml:2:18: error: scaling.min_cpu_cores=8 is greater than scaling.max_cpu_cores=4" "$T/err" &&
	grep -qx "$T/bad.yaml:3:3: error: unknown key '"'"'scaling.max_cpu_core'"'"'; did you mean '"'"'scaling.max_cpu_cores'"'"'?" "$T/err"'
"$D" --check-config "$T/missing.yaml" >/dev/null 2>"$T/err"; rc=$?
check "--check-config: a missing file exits 1" '[ $rc -eq 1 ] && grep -q "cannot open: No such file" "$T/err"'
"$D" --config "$T/bad.yaml" --foreground >/dev/null 2>"$T/err"; rc=$?
check "the daemon refuses to start on a broken file (exit 1, before taking the lock)" '[ $rc -eq 1 ] &&
	grep -q "not starting" "$T/err" && [ ! -e "$T/lxcscale.lock" ]'

# ---- --print-config round trip, --api-config, secrets -----------------------------------------
cat >"$T/secret.yaml" <<EOF
lock_file: $T/lxcscale.lock
authentication:
  enabled: true
  api_keys: ["APIKEY-0123456789abcdef"]
proxmox_api:
  token_secret: "PVETOKEN-0123456789"
tiers:
  web:
    containers: [101, "102"]
    max_cpu_cores: 8
EOF
"$D" --config "$T/secret.yaml" --api-config "$TOP/tests/data/lxc_autoscale_api.yaml" --print-config >"$T/api.yaml" 2>"$T/err"
check "--api-config reads the reference API file into the same configuration (later file wins)" '
	grep -q "^  host: \"0.0.0.0\"$" "$T/api.yaml" && grep -q "^  node: \"proxmox\"$" "$T/api.yaml" &&
	grep -q "max_log_size_mb: 100$" "$T/api.yaml" && grep -q "^  api_keys: \[\]$" "$T/api.yaml"'
"$D" --config "$T/secret.yaml" --print-config >"$T/printed.yaml" 2>"$T/err"
check "--print-config prints the secrets as they are (no placeholder that would load back as the key)" \
	'grep -q "api_keys: \[\"APIKEY-0123456789abcdef\"\]" "$T/printed.yaml" && grep -q "token_secret: \"PVETOKEN-0123456789\"" "$T/printed.yaml" &&
	! grep -q "\*\*\*" "$T/printed.yaml" && ! grep -q "APIKEY-\|PVETOKEN-" "$T/err"'
"$D" --config "$T/printed.yaml" --print-config 2>/dev/null | grep -v '^#' >"$T/printed2.yaml"
grep -v '^#' "$T/printed.yaml" >"$T/printed1.yaml"
check "--print-config output loads back to the same configuration, as it is" 'cmp -s "$T/printed1.yaml" "$T/printed2.yaml"'
"$D" --config "$T/secret.yaml" --print-config --omit-secrets >"$T/public.yaml" 2>"$T/err"
check "--print-config --omit-secrets leaves the secret keys out, as comments" \
	'! grep -q "APIKEY-\|PVETOKEN-\|\*\*\*" "$T/public.yaml" "$T/err" && grep -q "^  # api_keys: left out (a secret" "$T/public.yaml" &&
	grep -q "^  # token_secret: left out (a secret" "$T/public.yaml"'
"$D" --check-config "$T/public.yaml" >/dev/null 2>"$T/err"; rc=$?
check "... a file without the keys, which --check-config refuses while authentication is on (it says why)" \
	'[ $rc -eq 1 ] && grep -q "authentication.enabled=true but authentication.api_keys is empty" "$T/err"'

# ---- start without any configuration file ----------------------------------------------------
if [ -e /etc/lxcscale/lxcscale.yaml ] || [ -e /etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml ]; then
	skip "starts with no configuration file" "this host has a configuration file in /etc"
elif ! unshare -m true 2>/dev/null; then
	skip "starts with no configuration file" "cannot create a mount namespace for a private /run"
else
	# a private /run so the default lock /run/lxcscale.lock cannot meet another test's daemon
	unshare -m sh -c 'mount -t tmpfs lxcscale-test /run && exec "$0" --foreground' "$D" 2>"$T/noconf.log" &
	p=$!; PIDS+=("$p")
	if wait_log "$T/noconf.log" "ready:"; then
		check "starts with no configuration file (built-in defaults)" 'grep -q "configuration: built-in defaults (no configuration file)" "$T/noconf.log"'
		check "the start-up summary says what this host can and cannot do" 'grep -q "host: kernel" "$T/noconf.log" &&
			grep -q "cgroup v2 at \|no cgroup v2 mount" "$T/noconf.log" && grep -q "pct" "$T/noconf.log" &&
			grep -q "BTF\|BPF" "$T/noconf.log"'
		kill -TERM "$p"; wait "$p"; rc=$?
		check "SIGTERM stops it cleanly (exit 0)" '[ $rc -eq 0 ] && grep -q "stopped" "$T/noconf.log"'
	else
		fail "starts with no configuration file"; cat "$T/noconf.log"
	fi
fi

# ---- the survey on a container tree (cgroup.mount pointed at a directory laid out like Proxmox's)
mkdir -p "$T/cg/lxc/101" "$T/cg/lxc/102" "$T/cg/lxc/not-a-vmid"
echo "cpuset cpu io memory pids" >"$T/cg/cgroup.controllers"
echo "cpuset cpu memory pids" >"$T/cg/lxc/cgroup.controllers"
printf 'lock_file: %s\ncgroup:\n  mount: %s\n' "$T/lxcscale.lock" "$T/cg" >"$T/cg.yaml"
"$D" --config "$T/cg.yaml" --foreground 2>"$T/cg.log" &
p=$!; PIDS+=("$p")
if wait_log "$T/cg.log" "ready:"; then
	check "the survey finds the lxc/ root, counts vmid cgroups only, and reads its controllers" '
		grep -q "container root $T/cg/lxc: 2 containers" "$T/cg.log" &&
		grep -q "controllers enabled for containers ($T/cg/lxc/cgroup.controllers): cpuset cpu memory pids" "$T/cg.log" &&
		! grep -q "controller missing" "$T/cg.log"'
	kill -TERM "$p"; wait "$p"
else
	fail "daemon did not start on the container tree"; cat "$T/cg.log"
fi

# ---- single instance --------------------------------------------------------------------------
"$D" --config "$T/base.yaml" --foreground 2>"$T/d1.log" &
p1=$!; PIDS+=("$p1")
if wait_log "$T/d1.log" "ready:"; then
	check "the lock file holds the daemon's PID" '[ "$(cat "$T/lxcscale.lock")" = "$p1" ]'
	"$D" --config "$T/base.yaml" --foreground >/dev/null 2>"$T/d2.err"; rc=$?
	check "a second instance exits 1 naming the first one's PID" '[ $rc -eq 1 ] &&
		grep -qx "lxcscaled: another lxcscaled is running (PID $p1 holds $T/lxcscale.lock)" "$T/d2.err"'
	kill -KILL "$p1"; wait "$p1" 2>/dev/null
	check "a SIGKILLed daemon leaves its PID behind" '[ "$(cat "$T/lxcscale.lock")" = "$p1" ]'
	"$D" --config "$T/base.yaml" --foreground 2>"$T/d3.log" &
	p3=$!; PIDS+=("$p3")
	check "... which does not block the restart" 'wait_log "$T/d3.log" "ready:" && [ "$(cat "$T/lxcscale.lock")" = "$p3" ]'
	kill -TERM "$p3"; wait "$p3"
else
	fail "daemon did not start"; cat "$T/d1.log"
fi

# ---- SIGHUP: a broken file keeps the running configuration ------------------------------------
cp "$T/base.yaml" "$T/hup.yaml"
"$D" --config "$T/hup.yaml" --foreground 2>"$T/hup.log" &
p=$!; PIDS+=("$p")
if wait_log "$T/hup.log" "ready:"; then
	# broken: a valid change (port 6000) next to an error; nothing of it may be applied
	printf 'lock_file: %s\nserver:\n  port: 6000\nscaling:\n  min_cpu_cores: 8\n' "$T/lxcscale.lock" >"$T/hup.yaml"
	kill -HUP "$p"
	wait_log "$T/hup.log" "reload failed"
	check "SIGHUP with a broken file: reported with file:line:col, running configuration kept" '
		grep -q "reload failed: 1 error in the new configuration; keeping the running configuration" "$T/hup.log" &&
		grep -q "$T/hup.yaml:5:18: error: scaling.min_cpu_cores=8 is greater than scaling.max_cpu_cores=4" "$T/hup.log"'
	check "... and the daemon is still running" 'kill -0 "$p"'
	# fixed: the logged change is from the ORIGINAL port, so the broken file never took effect
	printf 'lock_file: %s\nserver:\n  port: 5001\n' "$T/lxcscale.lock" >"$T/hup.yaml"
	kill -HUP "$p"
	wait_log "$T/hup.log" "configuration reloaded"
	check "a later good reload changes 5000 -> 5001 (the broken 6000 was never applied)" '
		grep -q "reload: server.port: 5000 -> 5001" "$T/hup.log" && ! grep -q "6000" <(grep "reload:" "$T/hup.log") &&
		grep -q "configuration reloaded from $T/hup.yaml: 1 change$" "$T/hup.log"'
	kill -TERM "$p"; wait "$p"; rc=$?
	check "stops with exit 0 after reloads" '[ $rc -eq 0 ]'
else
	fail "daemon did not start for the SIGHUP test"; cat "$T/hup.log"
fi

# ---- secrets never reach the log ---------------------------------------------------------------
cat >"$T/sec.yaml" <<EOF
lock_file: $T/lxcscale.lock
log_file: $T/sec-file.log
authentication:
  enabled: true
  api_keys: ["APIKEY-0123456789abcdef"]
proxmox_api:
  token_secret: "PVETOKEN-0123456789"
EOF
"$D" --config "$T/sec.yaml" --foreground 2>"$T/sec.log" &
p=$!; PIDS+=("$p")
if wait_log "$T/sec.log" "ready:"; then
	# a reload whose error involves a secret value
	printf 'lock_file: %s\nproxmox_api:\n  token_secret: "PVETOKEN-0123456789\\x01"\n' "$T/lxcscale.lock" >"$T/sec.yaml"
	kill -HUP "$p"
	wait_log "$T/sec.log" "reload failed"
	kill -TERM "$p"; wait "$p"
	check "secrets appear neither on stderr nor in log_file" '! grep -q "APIKEY-\|PVETOKEN-" "$T/sec.log" "$T/sec-file.log" &&
		grep -q "proxmox_api.token_secret=\*\*\* contains a control character" "$T/sec.log" &&
		grep -q "\[INFO\] ready:" "$T/sec-file.log"'
else
	fail "daemon did not start for the secrets test"; cat "$T/sec.log"
fi

# ---- without --foreground (and not under systemd) it detaches --------------------------------
printf 'lock_file: %s\nlog_file: %s\n' "$T/detach.lock" "$T/detach.log" >"$T/detach.yaml"
# a relative --config: the detached daemon lives in / and must still find it on SIGHUP
(cd "$T" && env -u NOTIFY_SOCKET "$D" --config detach.yaml >/dev/null 2>&1); rc=$?
if [ $rc -eq 0 ] && wait_log "$T/detach.log" "ready:"; then
	dp=$(cat "$T/detach.lock"); PIDS+=("$dp")
	check "without --foreground it detaches into its own session; the lock names the daemon" '
		[ -n "$dp" ] && kill -0 "$dp" && [ "$(ps -o sid= -p "$dp" | tr -d " ")" != "$(ps -o sid= -p $$ | tr -d " ")" ] &&
		grep -q "starting (PID $dp)" "$T/detach.log"'
	kill -HUP "$dp"
	check "the detached daemon reloads its relative --config from / on SIGHUP" '
		wait_log "$T/detach.log" "configuration reloaded from $T/detach.yaml: 0 changes"'
	kill -TERM "$dp"
	for i in $(seq 1 100); do kill -0 "$dp" 2>/dev/null || break; sleep 0.1; done
	check "the detached daemon stops on SIGTERM and empties its lock file" '! kill -0 "$dp" 2>/dev/null &&
		grep -q "stopped" "$T/detach.log" && [ ! -s "$T/detach.lock" ]'
else
	fail "detached start (rc=$rc)"; cat "$T/detach.log" 2>/dev/null
fi

# ---- the CLI ---------------------------------------------------------------------------------------
C=$BUILD/lxcscale
check "lxcscale version / help" '[ "$("$C" version)" = "lxcscale $(cat "$TOP/VERSION")" ] && "$C" help | grep -q "^  version "'
"$C" frobnicate >/dev/null 2>"$T/err"; rc=$?
check "lxcscale: an unknown command exits 2" '[ $rc -eq 2 ] && grep -q "unknown command .frobnicate." "$T/err"'

# ---- systemd: journal priorities and sd_notify --------------------------------------------------
if [ -x "$PY" ]; then
	sock=$T/notify.sock
	"$PY" - "$sock" >"$T/notify.out" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
print("listening", flush=True)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    print("timeout", flush=True)
EOF
	np=$!; PIDS+=("$np")
	wait_log "$T/notify.out" "listening"
	: >"$T/journal.log"
	js=$(stat -c '%d:%i' "$T/journal.log")
	# no --foreground: NOTIFY_SOCKET alone must keep it attached
	NOTIFY_SOCKET=$sock JOURNAL_STREAM=$js WATCHDOG_USEC=200000 "$D" --config "$T/base.yaml" 2>>"$T/journal.log" &
	p=$!; PIDS+=("$p")
	if wait_log "$T/notify.out" "READY=1"; then
		check "sd_notify: the watchdog is pinged from the loop (WATCHDOG_USEC set)" 'wait_log "$T/notify.out" "^WATCHDOG=1"'
		kill -HUP "$p"
		wait_log "$T/notify.out" "RELOADING=1"
		kill -TERM "$p"; wait "$p"; rc=$?
		wait "$np"
		check "sd_notify: READY=1, RELOADING=1 on SIGHUP, STOPPING=1" 'grep -q "^READY=1" "$T/notify.out" &&
			grep -q "RELOADING=1" "$T/notify.out" && grep -q "STOPPING=1" "$T/notify.out" && [ $rc -eq 0 ]'
		check "under the journal, stderr lines carry <N> priorities" 'grep -q "^<6>lxcscaled .* starting" "$T/journal.log" &&
			! grep -q "^20[0-9][0-9]-" "$T/journal.log"'
	else
		fail "sd_notify READY=1 not received"; cat "$T/notify.out" "$T/journal.log"
	fi
else
	skip "sd_notify" "no $PY"
fi

echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]

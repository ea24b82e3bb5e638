#!/bin/bash
# `lxcscale replay` as an admin runs it: deterministic output (twice, and on 1 vs 2 threads),
# a configuration that changes the decisions, the reference's metrics file, and the errors
# (usage → exit 2, bad input → exit 1 with a message).
set -u
BUILD=${BUILD:-build}
TOP=${LXCSCALE_TOP:-.}
BIN=$TOP/$BUILD/lxcscale
. "$(dirname "$0")/lib/report.sh"
need_bin "$BIN"
dir=$(mktemp -d /tmp/lxcscale-test-replay-XXXXXX)
trap 'rm -rf "$dir"' EXIT

"$BIN" replay --scenario fork_storm --seed 7 --jobs 1 >"$dir/a.out" 2>"$dir/a.err"; rc_a=$?
"$BIN" replay --scenario fork_storm --seed 7 --jobs 2 >"$dir/b.out" 2>"$dir/b.err"; rc_b=$?
check "scenario replay exits 0" '[ $rc_a -eq 0 ] && [ $rc_b -eq 0 ]'
check "decisions and scorecard printed" \
	'grep -q "^# lxcscale fork_storm" "$dir/a.out" && grep -q "^# reference fork_storm" "$dir/a.out" && grep -q "incidents relieved %" "$dir/a.out"'
check "same input, same bytes, whatever the thread count" 'cmp -s "$dir/a.out" "$dir/b.out"'
check "decisions name a reason and an allocation change" \
	'grep -Eq "^fork_storm \+[0-9]+s vmid=[0-9]+ cpu=[a-z]+:[0-9.]+->[0-9.]+ mem=[a-z]+:[0-9]+->[0-9]+ reason=" "$dir/a.out"'

"$BIN" replay --scenario fork_storm --seed 8 --quiet >"$dir/c.out"
"$BIN" replay --scenario fork_storm --seed 7 --quiet >"$dir/c7.out"
check "--quiet prints the same scorecard, only" 'cmp -s <(tail -n "$(wc -l <"$dir/c7.out")" "$dir/a.out") "$dir/c7.out"'
check "another seed, another trace" '! cmp -s "$dir/c7.out" "$dir/c.out"'

"$BIN" replay --scenario cpu_burst --policy reference --quiet >"$dir/ref.out"
check "--policy reference prints one column" \
	'head -1 "$dir/ref.out" | grep -q "reference" && ! head -1 "$dir/ref.out" | grep -q "lxcscale"'

"$BIN" replay --scenario cpu_burst --decisions "$dir/dec.txt" --quiet >/dev/null
check "--decisions writes the decisions to a file" 'grep -q "^cpu_burst +" "$dir/dec.txt"'

# a configuration with a higher ceiling: bursts of 2.5-3.8 cores get more than 4 cores
cat >"$dir/wide.yaml" <<'EOF'
scaling:
  max_cpu_cores: 16
  cpu_scale_step: 2
EOF
"$BIN" replay --config "$dir/wide.yaml" --scenario cpu_burst --policy lxcscale >"$dir/wide.out" 2>"$dir/wide.err"
check "--config changes the decisions (ceiling above 4 cores)" \
	'grep -Eq "cpu=increase:[0-9.]+->([5-9]|1[0-6])" "$dir/wide.out"'
printf 'scaling:\n  max_cpu_cores: -3\n' >"$dir/bad.yaml"
"$BIN" replay --config "$dir/bad.yaml" --scenario idle >/dev/null 2>"$dir/bad.err"; rc=$?
check "a bad configuration is refused with its diagnostic (exit 1)" \
	'[ $rc -eq 1 ] && grep -q "max_cpu_cores" "$dir/bad.err"'

if [ -f "$TOP/tests/data/lxc_metrics_reference.json" ]; then
	"$BIN" replay "$TOP/tests/data/lxc_metrics_reference.json" --cores 2 --memory 2048 >"$dir/m.out" 2>&1; rc=$?
	check "a reference lxc_metrics.json replays" '[ $rc -eq 0 ] && grep -q "^# reference ct104" "$dir/m.out"'
else
	skipt "reference metrics file" "tests/data/lxc_metrics_reference.json missing"
fi

"$BIN" replay >/dev/null 2>&1; rc=$?
check "no input: usage, exit 2" '[ $rc -eq 2 ]'
"$BIN" replay --scenario idle "$dir/a.out" >/dev/null 2>&1; rc=$?
check "both FILE and --scenario: usage, exit 2" '[ $rc -eq 2 ]'
"$BIN" replay --scenario idle --policy nope >/dev/null 2>&1; rc=$?
check "unknown --policy: exit 2" '[ $rc -eq 2 ]'
"$BIN" replay --scenario idle --seed -1 >/dev/null 2>&1; rc=$?
check "negative --seed: exit 2" '[ $rc -eq 2 ]'
"$BIN" replay --scenario nope >/dev/null 2>"$dir/e.err"; rc=$?
check "unknown scenario: exit 1, named, and the names listed" '[ $rc -eq 1 ] && grep -q "unknown scenario" "$dir/e.err" && grep -q "the scenarios are: all, idle, .*cpu_burst" "$dir/e.err"'
"$BIN" replay "$dir/missing.rec" >/dev/null 2>"$dir/e.err"; rc=$?
check "missing file: exit 1 with the OS error" '[ $rc -eq 1 ] && grep -q "No such file" "$dir/e.err"'
printf 'LXSCREC\0garbage' >"$dir/short.rec"
"$BIN" replay "$dir/short.rec" >/dev/null 2>"$dir/e.err"; rc=$?
check "truncated recording header: exit 1, says truncated" '[ $rc -eq 1 ] && grep -q "truncated" "$dir/e.err"'

# ---- lxcscaled --record -> lxcscale replay, on real test cgroups ---------------------------
MOUNT=""
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ]; then MOUNT=$m; break; fi
done
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ] || [ ! -x "$TOP/$BUILD/lxcscaled" ] || [ ! -x "$TOP/$BUILD/tests/tools/cpu_burner" ]; then
	skipt "record then replay" "needs root, a cgroup v2 mount, lxcscaled and cpu_burner"
else
	NAME=lxcscale-test-replay-$$
	CG=$MOUNT/$NAME
	DPID="" BPID=""
	cleanup_cg() {
		[ -n "$BPID" ] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
		[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
		local i
		for ((i = 0; i < 50; i++)); do
			for d in "$CG"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
			rmdir "$CG" 2>/dev/null && break
			sleep 0.1
		done
		[ -n "${KEEP:-}" ] || rm -rf "$dir"
	}
	trap cleanup_cg EXIT
	mkdir "$CG" "$CG/101" "$CG/102"
	cat >"$dir/daemon.yaml" <<EOF
lock_file: $dir/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: ""
journal_file: $dir/journal
state_dir: $dir
record_file: $dir/host.rec
sample_interval_ms: 100
metrics_interval_seconds: 0
scaling:
  dry_run: true
  min_cpu_cores: 1
  cooldown_up_seconds: 1
cgroup:
  root: $NAME
  assumed_cores: 0.1
  assumed_ram_mb: 1024
bpf:
  enabled: false
EOF
	"$TOP/$BUILD/lxcscaled" --config "$dir/daemon.yaml" --foreground >"$dir/daemon.log" 2>&1 &
	DPID=$!
	for ((i = 0; i < 100; i++)); do grep -q "container 102: watching" "$dir/daemon.log" 2>/dev/null && break; sleep 0.1; done
	sleep 1
	"$TOP/$BUILD/tests/tools/cpu_burner" -c "$CG/102" -t 2 -s 3 &
	BPID=$!
	wait "$BPID" 2>/dev/null; BPID=""
	sleep 1
	kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=""
	check "lxcscaled --record wrote a recording" '[ -s "$dir/host.rec" ] && grep -q "recording every sample" "$dir/daemon.log"'
	"$BIN" replay "$dir/host.rec" --decisions "$dir/host.dec" >"$dir/host.out" 2>"$dir/host.err"; rc=$?
	check "the daemon's recording replays (closed cleanly: no truncation warning)" \
		'[ $rc -eq 0 ] && ! grep -q warning "$dir/host.err" && grep -q "^total: 2 traces" "$dir/host.out"'
	check "replayed through both policies, one trace per container" \
		'grep -q "^# lxcscale ct102" "$dir/host.dec" && grep -q "^# reference ct101" "$dir/host.dec"'
	check "the burst in container 102 makes lxcscale scale it up in replay" \
		'grep -Eq "^ct102 \+[0-9]+s vmid=102 cpu=increase" "$dir/host.dec"'
	"$BIN" replay "$dir/host.rec" --quiet >"$dir/host2.out" 2>/dev/null
	check "replaying the recording twice gives the same scorecard" 'cmp -s <(tail -n "$(wc -l <"$dir/host2.out")" "$dir/host.out") "$dir/host2.out"'
fi

report

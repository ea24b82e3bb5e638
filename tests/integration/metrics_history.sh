#!/bin/bash
# metrics_history.sh — the running daemon's reference-format metrics history
# (data_file, user/compat/metrics_file_append.c) on disk, with the faults an admin's host brings:
#   - a history cut off in the middle of a cycle (a crash during an append): the daemon
#     keeps the complete cycles, says how many in its log, and goes on appending;
#   - the file removed while the daemon runs: a new history, not an append at a stale
#     offset; replaced by another file (mv): that one is continued;
# and after each step Python's own json module (/usr/bin/python3) must load the file, the
# cycles before must be unchanged, and no <file>.tmp may be left. The trim (every
# max_entries/8 cycles) is covered by tests/unit/test_metrics_file.c at small max_entries.
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"

find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then
	skp "metrics history: needs root and a cgroup v2 mount"
	finish
fi
[ -x "$BUILD/lxcscaled" ] || { bad "missing $BUILD/lxcscaled (make all)"; finish; }
[ -x /usr/bin/python3 ] || { skp "metrics history: /usr/bin/python3 is missing"; finish; }

NAME=lxcscale-it-mh-$$
CG=$MOUNT/$NAME
WORK=$(mktemp -d /tmp/lxcscale-it-mh-XXXXXX)
DPID=""
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	remove_test_cgroup "$CG"
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CG" "$CG/101" "$CG/102" || { bad "cannot create test cgroups under $CG"; finish; }
H=$WORK/lxc_metrics.json
SAMPLE=$TOP/tests/data/lxc_metrics_reference.json

cat >"$WORK/cfg.yaml" <<EOF
lock_file: $WORK/lock
log_file: ""
data_file: $H
model_file: $WORK/model.bin
suggestions_file: $WORK/suggestions.jsonl
journal_file: $WORK/journal
state_dir: $WORK
sample_interval_ms: 100
metrics_interval_seconds: 1
scaling:
  dry_run: true
cgroup:
  root: $NAME
  assumed_cores: 0.1
  assumed_ram_mb: 1024
bpf:
  enabled: false
EOF

# cycles FILE: how many cycles Python's json module reads in FILE (empty on failure)
cycles() { /usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1" 2>/dev/null; }
# wait_cycles N: up to 10 s for the file to hold at least N cycles
wait_cycles() {
	local i n
	for ((i = 0; i < 100; i++)); do
		n=$(cycles "$H")
		[ -n "$n" ] && [ "$n" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# same_prefix N FILE: the first N cycles of $H are FILE's first N
same_prefix() {
	/usr/bin/python3 - "$H" "$2" "$1" <<'EOF'
import json, sys
a, b, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
sys.exit(0 if a[:n] == b[:n] and len(b) >= n else 1)
EOF
}
wait_log() {
	local i
	for ((i = 0; i < $2; i++)); do
		grep -q -- "$1" "$WORK/daemon.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- 1. a history cut off in the middle of its 4th cycle ------------------------------
head -c -2 "$SAMPLE" >"$H"   # the 3 cycles without "\n]"
printf ',\n    {\n        "104": {\n            "cpu_usage_per' >>"$H"
cp "$SAMPLE" "$WORK/sample.json"
: >"$WORK/daemon.log"
"$BUILD/lxcscaled" --config "$WORK/cfg.yaml" --foreground >>"$WORK/daemon.log" 2>&1 &
DPID=$!
if wait_log "ready:" 150; then ok "lxcscaled starts with a cut-off history"; else bad "lxcscaled did not start"; sed 's/^/# /' "$WORK/daemon.log"; finish; fi
if wait_log "keeping the 3 complete cycles" 50; then
	ok "the log says the cut-off cycle was dropped and 3 complete ones kept"
else
	bad "no warning about the cut-off history"; grep -i metrics "$WORK/daemon.log" | sed 's/^/# /'
fi
if wait_cycles 5; then ok "the daemon appends to the recovered history (python3 json.load reads it)"; else bad "history not appended to: $(cycles "$H")"; fi
if same_prefix 3 "$WORK/sample.json"; then ok "the 3 complete cycles are unchanged"; else bad "the kept cycles changed"; fi

# ---- 2. removed behind the daemon's back -------------------------------------------
rm -f "$H"
if wait_cycles 2 && wait_log "removed by someone else" 30; then
	ok "a removed history is started anew (and logged), not appended at a stale offset"
else
	bad "after removal: $(cycles "$H") cycles"
fi

# ---- 3. replaced by another file (mv): that one is continued --------------------------
cp "$SAMPLE" "$WORK/admin.json"
mv "$WORK/admin.json" "$H"
if wait_cycles 5 && same_prefix 3 "$WORK/sample.json"; then
	ok "a replaced history is loaded again and continued"
else
	bad "after replacement: $(cycles "$H") cycles"
fi
n=$(cycles "$H")
if wait_cycles $((n + 2)); then ok "appends go on ($n -> $(cycles "$H") cycles)"; else bad "appends stopped at $n"; fi

kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=""
if [ -n "$(cycles "$H")" ] && [ ! -e "$H.tmp" ]; then ok "after SIGTERM the history loads and no .tmp is left"; else bad "after SIGTERM"; fi
if grep -qiE "metrics history: .*(error|fail)" "$WORK/daemon.log"; then
	bad "the log has metrics history errors"; grep -i "metrics history" "$WORK/daemon.log" | sed 's/^/# /'
else
	ok "no metrics history errors in the log"
fi
finish

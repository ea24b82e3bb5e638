#!/bin/bash
# `lxcscale replay` as an admin runs it: deterministic output (twice, and on 1 vs 2 threads),
# a configuration that changes the decisions, the reference's metrics file (the reference
# column as the reference's own loop decides on it; --pve-configs), and the errors (usage →
# exit 2, bad input → exit 1 with a message).
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

# ---- the reference column on the reference's own histories (tests/data/replay_reference) ----
# What each file holds and what the reference's own loop did on it: tests/data/replay_reference/README.md.
R=$TOP/tests/data/replay_reference
if [ -d "$R" ]; then
	printf 'interval_seconds: 120\n' >"$dir/i120.yaml"
	"$BIN" replay "$R/stamps.json" --config "$dir/i120.yaml" --policy reference >"$dir/st.out" 2>"$dir/st.err"; rc=$?
	check "per-container stamps: the reference evaluates one container a cycle (12 cycles, 12 evaluations)" \
		'[ $rc -eq 0 ] && grep -q "12 cycles (0 stale), 12 evaluations" "$dir/st.err"'
	check "... and scales each of the three busy ones a step at a time: six decisions" \
		'[ "$(grep -c "^ct20[123] +[0-9]*s vmid=20[123] cpu=increase" "$dir/st.out")" -eq 6 ]'
	check "lxc_metrics.json carries no allocation: --cores/--memory assumed, and said so" \
		'grep -q "^lxcscale replay: ct201: 2 cores, 2048 MiB, assumed (--cores/--memory)$" "$dir/st.err"'
	"$BIN" replay "$R/below_min.json" --config "$dir/i120.yaml" --pve-configs "$R/below_min" \
		>"$dir/bm.out" 2>"$dir/bm.err"; rc=$?
	check "--pve-configs: each container's allocation from its <vmid>.conf, and said so" \
		'[ $rc -eq 0 ] && grep -q "^lxcscale replay: ct301: 1 core, 512 MiB, from $R/below_min/301.conf$" "$dir/bm.err" &&
		 grep -q "^lxcscale replay: ct302: 6 cores, 4096 MiB, from " "$dir/bm.err"'
	check "below min_cpu_cores the reference's Scale Down raises it (1 -> 2 cores, 512 -> 1024 MiB)" \
		'grep -q "^ct301 +120s vmid=301 cpu=decrease:1->2 mem=decrease:512->1024 " "$dir/bm.out"'
	check "above max_cpu_cores its Scale Up lowers it (6 -> 4)" 'grep -q "^ct302 +120s vmid=302 cpu=increase:6->4 " "$dir/bm.out"'
	check "a config without cores: the reference skips that container" \
		'grep -q "^lxcscale replay: ct303: .*cores assumed (its config sets none).*skips it)$" "$dir/bm.err" &&
		 [ "$(sed -n "/^# reference ct303/,/^#/p" "$dir/bm.out" | grep -c "^ct303")" -eq 0 ]'
	mkdir -p "$dir/pve"
	printf 'arch: amd64\ncores: many\n' >"$dir/pve/104.conf"
	"$BIN" replay "$TOP/tests/data/lxc_metrics_reference.json" --pve-configs "$dir/pve" >/dev/null 2>"$dir/e.err"; rc=$?
	check "--pve-configs with a bad number: exit 1, file and line named" '[ $rc -eq 1 ] && grep -q "104.conf:2: .many. is not a number" "$dir/e.err"'
	"$BIN" replay "$TOP/tests/data/lxc_metrics_reference.json" --pve-configs "$dir/nope" >/dev/null 2>"$dir/e.err"; rc=$?
	check "--pve-configs DIR missing: exit 1 with the OS error" '[ $rc -eq 1 ] && grep -q "No such file" "$dir/e.err"'
	"$BIN" replay --scenario idle --pve-configs "$R/below_min" >/dev/null 2>&1; rc=$?
	check "--pve-configs with --scenario: usage, exit 2" '[ $rc -eq 2 ]'
else
	skipt "the reference's histories" "tests/data/replay_reference missing"
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

# ---- --html FILE: one self-contained page ------------------------------------------------
# report_check.py FILE TEXT [POLICIES...]: the page's data read back and held against the text
# scorecard the same run printed; prints what is wrong, exits 1 on the first problem.
cat >"$dir/report_check.py" <<'EOF'
import json, re, sys
page, text, policies = open(sys.argv[1], encoding="utf-8").read(), open(sys.argv[2]).read(), sys.argv[3:]
def fail(msg):
    print("report_check: " + msg)
    sys.exit(1)
m = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
if not m:
    fail("no data element")
if "<" in m.group(1):
    fail("a '<' in the data")
d = json.loads(m.group(1))
total = re.search(r"^total: (\d+) traces?, (\d+) steps", text, re.M)
if not total:
    fail("no total line in the text")
if len(d["traces"]) != int(total.group(1)):
    fail("%d traces in the page, %s in the text" % (len(d["traces"]), total.group(1)))
if d["policies"] != policies:
    fail("policies %r, not %r" % (d["policies"], policies))
# the total scorecard: the text's figures, row by row, column by column
lines = text[total.start():].splitlines()[1:1 + len(d["rows"])]
for i, line in enumerate(lines):
    if line[2:34].strip() != d["rows"][i].strip():  # "  %-32s" then the columns
        fail("row %d is %r in the page, %r in the text" % (i, d["rows"][i], line))
    figures = line.split()[-len(policies):]
    page_figures = [d["total"]["cells"][k][i] for k in range(len(policies))]
    if figures != page_figures:
        fail("row %r: %r in the text, %r in the page" % (d["rows"][i], figures, page_figures))
steps = 0
for tr in d["traces"]:
    n = len(tr["t"])
    if not 0 < n <= d["max_points"] or n > tr["steps"]:
        fail("%s: %d points for %d steps" % (tr["name"], n, tr["steps"]))
    if any(b <= a for a, b in zip(tr["t"], tr["t"][1:])):
        fail("%s: times not increasing" % tr["name"])
    if len(tr["cpu_demand"]) != n or len(tr["mem_demand"]) != n:
        fail("%s: demand series of the wrong length" % tr["name"])
    if [r["policy"] for r in tr["runs"]] != policies:
        fail("%s: runs %r" % (tr["name"], [r["policy"] for r in tr["runs"]]))
    for r in tr["runs"]:
        if len(r["cpu_limit"]) != n or len(r["mem_limit"]) != n or r["oom_total"] < len(r["oom"]):
            fail("%s/%s: limit series or kills" % (tr["name"], r["policy"]))
    if len(tr["cells"]) != len(policies) or any(len(c) != len(d["rows"]) for c in tr["cells"]):
        fail("%s: scorecard cells" % tr["name"])
    steps += tr["steps"]
if steps != int(total.group(2)):
    fail("%d steps in the page, %s in the text" % (steps, total.group(2)))
print(" ".join(tr["name"] for tr in d["traces"]))
EOF
"$BIN" replay --scenario all --no-nab --quiet --html "$dir/all.html" >"$dir/all.out" 2>"$dir/all.err"; rc=$?
check "--html writes a page (exit 0, nothing on stderr)" '[ $rc -eq 0 ] && [ -s "$dir/all.html" ] && [ ! -s "$dir/all.err" ]'
check "the page starts as HTML and ends after the report's script" \
	'head -c 15 "$dir/all.html" | grep -q "^<!doctype html>" && tail -n 1 "$dir/all.html" | grep -q "</script></body></html>$"'
check "the page is self-contained: no src, href, link, @import or url() to fetch" \
	'! grep -Eiq "(src|href)[[:space:]]*=|<link|@import|url\(" "$dir/all.html"'
check "no http:// or https:// reference outside uPlot's banner comment" \
	'[ "$(grep -Eo "https?://[^ \"<)]*" "$dir/all.html" | grep -vc "^https://github.com/leeoniya/uPlot")" -eq 0 ]'
check "uPlot, the report's script and its style are inline" \
	'grep -q "uPlot" "$dir/all.html" && grep -q "report.js" "$dir/all.html" && grep -q "report.css" "$dir/all.html"'
python3 "$dir/report_check.py" "$dir/all.html" "$dir/all.out" lxcscale reference >"$dir/check.out"; rc=$?
check "the data parses: one entry per trace, every series complete, the total as the text prints it" \
	'[ $rc -eq 0 ] && [ "$(cat "$dir/check.out")" = "idle steady_noisy diurnal cpu_burst memory_leak fork_storm noisy_neighbour" ] || { cat "$dir/check.out"; false; }'
check "no temporary file left beside the page" '[ -z "$(ls "$dir" | grep "^all\.html\.")" ]'

"$BIN" replay --scenario fork_storm --seed 7 --quiet --html "$dir/fs.html" >"$dir/fs.out"
check "--html leaves the text as it was" 'cmp -s "$dir/fs.out" "$dir/c7.out"'
"$BIN" replay --scenario fork_storm --seed 7 --html "$dir/fs.html" >"$dir/fs-dec.out"
check "--html with the decisions on stdout too" 'cmp -s "$dir/fs-dec.out" "$dir/a.out"'
"$BIN" replay --scenario cpu_burst --policy reference --quiet --html "$dir/ref.html" >"$dir/ref2.out"
python3 "$dir/report_check.py" "$dir/ref.html" "$dir/ref2.out" reference >"$dir/check.out"; rc=$?
check "--policy reference: one run per trace in the page" '[ $rc -eq 0 ] && [ "$(cat "$dir/check.out")" = cpu_burst ] || { cat "$dir/check.out"; false; }'
"$BIN" replay --scenario idle --quiet --html "$dir/ref.html" >/dev/null
check "a second --html replaces the page whole" \
	'python3 "$dir/report_check.py" "$dir/ref.html" <("$BIN" replay --scenario idle --quiet) lxcscale reference >"$dir/check.out" && [ "$(cat "$dir/check.out")" = idle ]'
if [ -f "$TOP/tests/data/lxc_metrics_reference.json" ]; then
	"$BIN" replay "$TOP/tests/data/lxc_metrics_reference.json" --quiet --html "$dir/m.html" >"$dir/m2.out" 2>/dev/null
	check "a reference lxc_metrics.json: one entry per container" \
		'python3 "$dir/report_check.py" "$dir/m.html" "$dir/m2.out" lxcscale reference >"$dir/check.out" && grep -q "ct104" "$dir/check.out"'
fi

"$BIN" replay --scenario idle --quiet --html /nonexistent/dir/x.html >"$dir/nx.out" 2>"$dir/nx.err"; rc=$?
check "--html into a folder that does not exist: exit 1, the file and the reason named" \
	'[ $rc -eq 1 ] && grep -qx "lxcscale replay: cannot write /nonexistent/dir/x.html: No such file or directory" "$dir/nx.err"'
check "... after the scorecard, which still printed" 'grep -q "^total: 1 trace" "$dir/nx.out"'
"$BIN" replay --scenario idle --quiet --html "$dir" >/dev/null 2>"$dir/nx.err"; rc=$?
check "--html onto a folder: exit 1 with the reason" '[ $rc -eq 1 ] && grep -q "^lxcscale replay: cannot write $dir: " "$dir/nx.err"'
"$BIN" replay --scenario idle --html "" >/dev/null 2>&1; rc=$?
check "--html with an empty name: usage, exit 2" '[ $rc -eq 2 ]'
check "--help describes --html" '"$BIN" replay --help | grep -q -- "--html FILE"'

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

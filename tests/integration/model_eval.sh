#!/bin/bash
# model_eval.sh — `lxcscale model eval` as an admin runs it: a real CSV (the shared ADBench
# thyroid set, gzip) gives one valid JSON object with the expected fields and an AUC that
# says the model works; malformed input and bad options give their exit status (1 input,
# 2 usage) and a message naming the problem, never a JSON result. Takes about a second.
set -uo pipefail
BUILD=${BUILD:-build}
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$TOP/$BUILD/lxcscale
[ -x "$bin" ] || bin=$BUILD/lxcscale
shared=${LXCSCALE_SHARED:-}
[ -n "$shared" ] || { [ -d "$TOP/../shared/data/adbench" ] && shared=$TOP/../shared; }
[ -n "$shared" ] || shared=/work/shared
tmp=$(mktemp -d /tmp/lxcscale-model-eval-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/lib/report.sh"

# expect STATUS STDERR-PATTERN WHAT -- args...
expect() {
	local want=$1 pat=$2 what=$3; shift 4
	"$bin" model eval "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" = "$want" ] && grep -q -- "$pat" "$tmp/err" && [ ! -s "$tmp/out" ]; then
		ok "$what (exit $rc)"
	else
		bad "$what: exit $rc, want $want; stderr: $(head -c 200 "$tmp/err"); stdout: $(head -c 100 "$tmp/out")"
	fi
}

data=$shared/data/adbench/thyroid.csv.gz
if [ ! -r "$data" ]; then
	skipt "model eval on thyroid" "$data not found (set LXCSCALE_SHARED)"
else
	if "$bin" model eval --input "$data" --seed 3 >"$tmp/json" 2>"$tmp/err"; then
		if /usr/bin/python3 - "$tmp/json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["rows"] == 3772 and o["features"] == 6, o
assert o["label_column"] == "label" and o["trees"] == 100 and o["max_samples"] == 256
assert o["contamination"] == "auto" and o["offset"] == -0.5 and o["seed"] == 3
assert 0 < o["anomalies"] < o["rows"] and abs(o["anomaly_rate"] - o["anomalies"] / 3772) < 1e-6
assert 0.95 < o["auc"] <= 1.0, o["auc"]   # sklearn: 0.9777 +- 0.0024
assert len(o["top_features"]) == 5 and all(f["name"].startswith("f") for f in o["top_features"])
t = o["timings_ms"]
assert t["read"] >= 0 and t["train"] > 0 and t["score"] > 0
PY
		then ok "thyroid: one JSON object with rows, features, anomalies, auc > 0.95, timings"
		else bad "thyroid: JSON content: $(cat "$tmp/json")"; fi
	else
		bad "thyroid: exit $? ($(cat "$tmp/err"))"
	fi
	"$bin" model eval --input "$data" --trees 20 --max-samples 100 --contamination 0.05 --seed 1 >"$tmp/json2" 2>/dev/null
	if /usr/bin/python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["trees"] == 20 and o["max_samples"] == 100 and o["contamination"] == 0.05
assert abs(o["anomalies"] - 0.05 * 3772) <= 2, o["anomalies"]
' "$tmp/json2"; then ok "options: --trees, --max-samples, --contamination 0.05 flags 5 % of rows"
	else bad "options: $(cat "$tmp/json2")"; fi
fi

printf 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n1.5,2.5,3.5\n' >"$tmp/nolabel.csv"
if "$bin" model eval --input "$tmp/nolabel.csv" >"$tmp/json3" 2>"$tmp/err" &&
   /usr/bin/python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["features"] == 3 and o["label_column"] is None and "auc" not in o
' "$tmp/json3"; then ok "unlabelled CSV: all columns are features, no auc"
else bad "unlabelled CSV: $(cat "$tmp/json3" "$tmp/err")"; fi

printf 'a,b,label\n1,2,0\n3,x,1\n' >"$tmp/cell.csv"
printf 'a,b,label\n1,2,0\n3,4\n' >"$tmp/ragged.csv"
printf 'a,b,label\n1,2,0\n3,4,7\n' >"$tmp/label.csv"
printf 'a,b,label\n1,2,0\n3,nan,1\n' >"$tmp/nan.csv"
printf 'a,b\n' >"$tmp/empty.csv"
expect 1 "line 3: column 2 (b): not a finite number" "a non-numeric cell names its line and column" -- --input "$tmp/cell.csv"
expect 1 "line 3: 2 cells, expected 3" "a short row is refused" -- --input "$tmp/ragged.csv"
expect 1 "label 7 is not 0 or 1" "a label that is not 0/1 is refused" -- --input "$tmp/label.csv"
expect 1 "not a finite number" "NaN in the data is refused" -- --input "$tmp/nan.csv"
expect 1 "no data rows" "a header without rows is refused" -- --input "$tmp/empty.csv"
expect 1 "cannot open" "a missing file is refused" -- --input "$tmp/missing.csv"
expect 1 "no column named" "an unknown label column is refused" -- --input "$tmp/nolabel.csv" --label-column zz
expect 2 "invalid value for --trees" "--trees 0 is a usage error" -- --input "$tmp/nolabel.csv" --trees 0
expect 2 "invalid value for --contamination" "--contamination 0.7 is a usage error" -- --input "$tmp/nolabel.csv" --contamination 0.7
expect 2 "invalid value for --seed" "a negative seed is a usage error" -- --input "$tmp/nolabel.csv" --seed -1
expect 2 "unknown option" "an unknown option is a usage error" -- --input "$tmp/nolabel.csv" --frobnicate 1
expect 2 "--input is required" "--input is required" -- --trees 5

report

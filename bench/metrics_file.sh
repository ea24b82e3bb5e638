#!/bin/bash
# bench/metrics_file.sh — the reference-format metrics history (/var/log/lxc_metrics.json)
# with 1 000 synthetic containers: peak RSS and bytes written per cycle of the writer
# (in-place appends, trim every max/8 cycles) next to the design it replaced (every cycle
# kept serialised in memory, the whole file rewritten each cycle), in one run.
#
# The old design is run for 100 cycles only (it writes the whole, growing file every cycle:
# 1 000 cycles would be ~300 GB of writes); its RSS and bytes per cycle grow linearly with
# the cycles kept, so the 1 000-cycle figures are its per-cycle growth x 1 000, printed as
# such. The files go to a tmpfs (/dev/shm) so the shared disk is spared; the byte counts
# are what the writer hands to the kernel. Both writers' files after the same cycles are
# compared byte for byte; the restart's load and the import reader are timed on the
# 1 300-cycle file. About 30 s.
set -uo pipefail
BUILD=${1:-${BUILD:-build}}
TOP=$(cd "$(dirname "$0")/.." && pwd)
bin=$TOP/$BUILD/bench/metrics_file
[ -x "$bin" ] || { echo "bench metrics_file: $bin not built (make benches)"; exit 1; }
N=${MF_CONTAINERS:-1000}
dir=$(mktemp -d /dev/shm/lxcscale-bench-mf-XXXXXX)
trap 'rm -rf "$dir"' EXIT

field() { sed -nE "s/.*\b$1=([^ ]+).*/\1/p" <<<"$2"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

before=$(timeout 600 "$bin" before "$dir/before.json" "$N" 100 1000) || { echo "before: failed"; exit 1; }
same100=$(timeout 600 "$bin" after "$dir/after100.json" "$N" 100 1000) || { echo "after: failed"; exit 1; }
if cmp -s "$dir/before.json" "$dir/after100.json"; then identical=yes; else identical=NO; fi
rm -f "$dir/before.json" "$dir/after100.json"
after=$(timeout 600 "$bin" after "$dir/m.json" "$N" 1300 1000) || { echo "after: failed"; exit 1; }
size=$(stat -c %s "$dir/m.json")
load=$(timeout 600 "$bin" load "$dir/m.json" 1000) || { echo "load: failed"; exit 1; }
read=$(timeout 600 "$bin" read "$dir/m.json") || { echo "read: failed"; exit 1; }
if /usr/bin/python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); sys.exit(0 if len(l) > 0 else 1)' "$dir/m.json"; then py=yes; else py=NO; fi

cb=$(field cycle_bytes "$after")
b_rss=$(field hwm_mb "$before")
row() { printf '%-46s %12s %20s %10s\n' "$@"; }
echo "metrics history, $N containers, max_entries 1000 (slack $(field slack "$after")), one cycle = $(mb "$cb") MB of JSON"
row "" "peak RSS MB" "MB written / cycle" "ms/cycle"
row "before: in memory, whole file rewritten; 100 cyc" "$b_rss" "$(mb "$(field bytes_last_cycle "$before")") at cycle 100" "$(field ms_per_cycle "$before")"
row "before, extrapolated to 1000 cycles" "~$(awk -v r="$b_rss" -v c="$cb" 'BEGIN { printf "%.0f", r + 900 * c / 1048576 }')" "~$(mb $((cb * 1000)))" "-"
row "after: index + appends in place; 100 cyc" "$(field hwm_mb "$same100")" "$(mb "$cb")" "$(field ms_per_cycle "$same100")"
row "after, 1300 cycles: RSS at cycle 1000" "$(field rss_mb_at_max "$after")" "$(mb "$cb") (appends)" "-"
row "after, 1300 cycles (2 trims): whole run" "$(field hwm_mb "$after")" "$(mb "$(field bytes_per_cycle_mean "$after")") mean" "$(field ms_per_cycle "$after")"
row "after, steady state: one trim period" "-" "$(mb "$(field bytes_per_cycle_steady "$after")") mean" "-"
row "after, the one cycle that trims" "-" "$(mb "$(field max_cycle_bytes "$after")")" "-"
row "restart: load $(field cycles "$load") cycles, $(mb "$size") MB" "$(field hwm_mb "$load")" "0" "$(field s "$load")s"
row "import-metrics' reader over that file" "$(field hwm_mb "$read")" "0" "$(field s "$read")s"
echo "same bytes from both writers after 100 cycles: $identical; python3 json.load of the 1300-cycle file: $py"

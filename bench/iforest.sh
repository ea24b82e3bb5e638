#!/bin/bash
# bench/iforest.sh — the iforest library next to scikit-learn on the same rows, in one run.
# scikit-learn (Debian's python3-sklearn via /usr/bin/python3) writes 100 k x 26 rows and
# times its own fit / scoring / rebuild; build/bench/iforest then measures ours on the same
# file and prints one table with both and the ratios. Without scikit-learn only our figures
# are printed. Takes about a minute (sklearn's single-row calls are slow).
set -uo pipefail
BUILD=${1:-${BUILD:-build}}
TOP=$(cd "$(dirname "$0")/.." && pwd)
bin=$TOP/$BUILD/bench/iforest
[ -x "$bin" ] || { echo "bench iforest: $bin not built (make benches)"; exit 1; }
tmp=$(mktemp -d /tmp/lxcscale-bench-iforest-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if timeout 600 /usr/bin/python3 "$TOP/tests/iforest_export_sklearn.py" bench 100000 26 "$tmp" >"$tmp/sk.txt"; then
	timeout 600 "$bin" "$tmp/X.f64" 100000 26 "$tmp/sk.txt"
else
	echo "(scikit-learn reference unavailable: python3-sklearn missing? showing lxcscale only)"
	timeout 600 "$bin"
fi

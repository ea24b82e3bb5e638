#!/bin/bash
# Run every libFuzzer target in FUZZDIR (default build/fuzz) for FUZZ_SECONDS each.
#
#   tests/fuzz/run.sh [FUZZDIR] [TARGET...]
#
# `make fuzz` calls this with FUZZ_SECONDS=300, tests/integration/fuzz.sh with 30.
# Each target starts from its seeds in tests/fuzz/corpus/<target>/ (never written to) plus a
# working corpus kept in FUZZDIR/corpus/<target>/ (grows from run to run; delete it to
# start over), with tests/fuzz/<target>.dict when present. A crash, a sanitizer report,
# a timeout (FUZZ_TIMEOUT s for one input), a leak or a single allocation above
# FUZZ_MALLOC_MB is a failure; libFuzzer's reproducer is kept as
# FUZZDIR/crashes/<target>-crash-<sha1> and named in the FAIL line (re-run it with
# `FUZZDIR/<target> FILE`). Prints per target the executions, the edge coverage (cov) and
# features (ft) libFuzzer reached, then "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
FUZZDIR=${1:-build/fuzz}
shift || true
SECONDS_EACH=${FUZZ_SECONDS:-30}
TIMEOUT_EACH=${FUZZ_TIMEOUT:-25}
MALLOC_MB=${FUZZ_MALLOC_MB:-512}
export ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The API target runs the stand-in pct from the normal build when there is one.
if [ -z "${LXCSCALE_FUZZ_PCT:-}" ] && [ -x "$TOP/build/tests/tools/pct" ]; then
	export LXCSCALE_FUZZ_PCT=$TOP/build/tests/tools/pct
fi

pass=0 fail=0 skip=0
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in tests/fuzz/*.c; do targets+=("$(basename "$src" .c)"); done
fi

for t in "${targets[@]}"; do
	bin=$FUZZDIR/$t
	if [ ! -x "$bin" ]; then
		echo "skip - fuzz $t: $bin not built (make fuzzers; needs clang and libfuzzer-14-dev)"
		skip=$((skip + 1))
		continue
	fi
	work=$FUZZDIR/corpus/$t
	crashes=$FUZZDIR/crashes
	mkdir -p "$work" "$crashes"
	seeds=()
	[ -d "tests/fuzz/corpus/$t" ] && seeds=("tests/fuzz/corpus/$t")
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
	log=$(mktemp)
	timeout -k 10 $((SECONDS_EACH * 3 + 120)) "$bin" -max_total_time="$SECONDS_EACH" \
		-print_final_stats=1 -timeout="$TIMEOUT_EACH" -rss_limit_mb=2048 \
		-malloc_limit_mb="$MALLOC_MB" -error_exitcode=77 -timeout_exitcode=78 \
		-artifact_prefix="$crashes/$t-" "${dict[@]}" "$work" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	cov=$(grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
	corp=$(find "$work" -type f | wc -l)
	summary="${execs:-?} executions in ${SECONDS_EACH}s, ${cov:-cov: ?}, working corpus $corp"
	if [ $rc -eq 0 ]; then
		echo "ok - fuzz $t: $summary"
		pass=$((pass + 1))
	else
		artifact=$(sed -n "s/.*Test unit written to //p" "$log" | tail -n1)
		echo "FAIL - fuzz $t: exit $rc, $summary, reproducer ${artifact:-none}"
		grep -aE 'ERROR:|SUMMARY:|runtime error|#[0-9]+ 0x[0-9a-f]+ in ' "$log" | head -n 25 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
	rm -f "$log"
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

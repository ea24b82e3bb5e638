#!/bin/bash
# The test runner behind `make test`, `make unit` and `make vmtest`.
#
# Suites:
#   unit         every cmocka binary in $BUILD/tests/test_*
#   asan         the same binaries built with ASan+UBSan (build/asan)
#   integration  every tests/integration/*.sh (real processes, real HTTP, real cgroups)
#   asan-integration  the same scripts against the ASan+UBSan binaries (BUILD=build/asan),
#                except those marked "# asan: skip" (they measure, audit or bring their own
#                sanitizers); a leak or a sanitizer report makes the program fail its checks
#   vm           tests/vm/run.sh: the real-kernel tests in a qemu VM
# Each suite's own summary is printed as it runs (cmocka's lines, or a script's closing
# "N passed, N failed"); the last line adds them all up, so a run that ran nothing shows it.
set -uo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
BUILD=${2:-build}
export BUILD LXCSCALE_TOP=$PWD
export CMOCKA_MESSAGE_OUTPUT=STDOUT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Limits per suite, in seconds: far above what each takes (the slowest unit binary under
# ASan takes about a minute, the slowest script a few, the VM about 9), there to end a hang.
UNIT_LIMIT=${UNIT_LIMIT:-600} INTEGRATION_LIMIT=${INTEGRATION_LIMIT:-900} VM_LIMIT=${VM_LIMIT:-2400}

total_pass=0 total_fail=0 total_skip=0
run_t0=$SECONDS
failed_suites=()

# count_cmocka LOGFILE -> sets p f s from cmocka's closing lines
count_cmocka() {
	p=$(grep -aoE '^\[  PASSED  \] [0-9]+' "$1" | awk '{s+=$NF} END{print s+0}')
	f=$(grep -aoE '^\[  FAILED  \] [0-9]+' "$1" | awk '{s+=$NF} END{print s+0}')
	s=$(grep -aoE '^\[  SKIPPED \] [0-9]+' "$1" | awk '{s+=$NF} END{print s+0}')
}

# count_plain LOGFILE -> sets p f s from the script's last "N passed, N failed[, N skipped]" line
count_plain() {
	local line
	line=$(tr -d '\r' <"$1" | grep -aE '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' | tail -n1)
	p=$(sed -nE 's/.*\b([0-9]+) passed.*/\1/p' <<<"$line"); p=${p:-0}
	f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line"); f=${f:-0}
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line"); s=${s:-0}
}

# A suite runs under `timeout` (in its own process group, which timeout makes), with its
# output in a file that `tail` follows: a hung test ends as a failure after its limit, and a
# process it left behind holding the output open cannot stall the run (a pipe would wait for
# it forever). Whatever is left in the group afterwards is named, killed and counted.
run_suite() { # name kind limit_seconds cmd...
	local name=$1 kind=$2 limit=$3; shift 3
	local log; log=$(mktemp)
	local t0=$SECONDS
	echo "=== $name"
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 &
	local pid=$!
	tail -n +1 -f --pid="$pid" "$log"
	wait "$pid"
	local rc=$?
	if [ "$kind" = cmocka ]; then count_cmocka "$log"; else count_plain "$log"; fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "$name: still running after its limit of ${limit}s: stopped, counted as one failure"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exited $rc without reporting a failed test; counted as one failure"
		f=1
	fi
	if [ "$kind" != cmocka ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "$name: reported no result line; counted as one failure"
		f=1
	fi
	if kill -0 -- "-$pid" 2>/dev/null; then
		echo "$name: left processes running (killed now), counted as one failure:"
		ps -o pid=,args= -g "$pid" 2>/dev/null | sed 's/^/    /'
		kill -KILL -- "-$pid" 2>/dev/null
		f=$((f + 1))
	fi
	echo "--- $name: $((SECONDS - t0)) s"
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
	[ "$f" -gt 0 ] && failed_suites+=("$name")
	rm -f "$log"
}

run_integration() { # build label
	local s
	for s in tests/integration/*.sh; do
		[ -f "$s" ] || continue
		if [ "$1" = build/asan ] && grep -q '^# asan: skip' "$s"; then
			continue
		fi
		BUILD=$1 run_suite "$2 $(basename "$s")" plain "$INTEGRATION_LIMIT" bash "$s"
	done
}

run_unit() { # dir label
	local t
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		run_suite "$2 $(basename "$t")" cmocka "$UNIT_LIMIT" "$t"
	done
}

case $what in
unit)        run_unit "$BUILD" unit ;;
asan)        run_unit build/asan asan ;;
integration) run_integration "$BUILD" integration ;;
asan-integration) run_integration build/asan asan-integration ;;
vm)          run_suite "vm" plain "$VM_LIMIT" bash tests/vm/run.sh "$BUILD" ;;
all)
	run_unit "$BUILD" unit
	run_unit build/asan asan
	run_integration "$BUILD" integration
	run_integration build/asan asan-integration
	if [ -f tests/vm/run.sh ]; then run_suite "vm" plain "$VM_LIMIT" bash tests/vm/run.sh "$BUILD"; fi
	;;
*) echo "usage: tests/run.sh unit|asan|integration|asan-integration|vm|all [BUILD]" >&2; exit 2 ;;
esac

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
	printf 'failed suite: %s\n' "${failed_suites[@]}"
fi
echo "time: $((SECONDS - run_t0)) s"
echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]

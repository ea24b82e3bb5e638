#!/bin/bash
# bpf_host.sh — lxcscale's BPF programs on this host's real kernel and cgroup v2 tree.
#
# Runs tests/tools/bpf_scenario (see its top comment) twice: with the programs attached as
# tp_btf and with the raw_tp fallback forced, so both copies of every program are loaded
# and checked. CPU burners run in one test cgroup, a sleeper in a second, nothing in a
# third; the checks compare cgroups with each other and with the kernel's cpu.stat.
# Needs root; prints a skip line otherwise. Takes about 5 s.
set -uo pipefail
BUILD=${BUILD:-build}
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
tool=$TOP/$BUILD/tests/tools/bpf_scenario
[ -x "$tool" ] || tool=$BUILD/tests/tools/bpf_scenario

pass=0 fail=0 skip=0
add_counts() { # the closing line of one run
	local line
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -n1)
	if [ -z "$line" ]; then fail=$((fail + 1)); echo "FAIL - bpf_scenario $2 printed no result line"; return; fi
	pass=$((pass + $(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")))
	fail=$((fail + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
	skip=$((skip + $(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")))
}

if [ ! -x "$tool" ]; then
	echo "FAIL - $tool not built (make tools)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "skip - BPF on the host: needs root to load BPF programs and create cgroups"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [ ! -d /sys/fs/cgroup/unified ] && ! grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts; then
	echo "skip - BPF on the host: no cgroup v2 mount"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
root=/sys/fs/cgroup/unified
[ -d $root ] || root=/sys/fs/cgroup

for mode in --tp_btf --raw; do
	out=$(timeout -k 5 60 "$tool" runq --root $root ${mode/--tp_btf/} 2>&1)
	rc=$?
	sed -E "s/^(ok|FAIL|skip) - /\1 - [${mode#--}] /; /^[0-9]+ passed, /d" <<<"$out"
	add_counts "$out" "runq $mode"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL' <<<"$out"; then
		echo "FAIL - bpf_scenario runq $mode exited $rc"; fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

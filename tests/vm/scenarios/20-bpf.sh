# 20-bpf.sh — issue 5: lxcscale's BPF programs on a stock Debian kernel with every
# cgroup controller (the host has no memory controller). Proxmox-shaped containers
# lxc/42x..44x with tasks in ns. bpf_scenario (tests/tools/bpf_scenario.c) loads the
# programs through user/collect/bpf_loader.c exactly as the daemon does and prints the checks:
#   memhigh  a memory hog under memory.high: reclaim stall time lands on its container
#   oom      a hog over memory.max (no memory.high): exactly one OOM ring-buffer event,
#            naming the container and the victim
#   dreclaim a hog larger than the VM: global direct reclaim stall time on its container,
#            then one OOM event for the global OOM kill
#   runq     CPU burners / sleeper / idle containers, as tp_btf and as raw_tp: CO-RE
#            relocations and the verifier of this (older) kernel, not only the host's
. /lxcscale/lib.sh

# run TAG ARGS...: one bpf_scenario run; its lines tagged, its own closing line dropped,
# a non-zero exit without a FAIL line reported as a failure
run() {
	_tag=$1; shift
	_out=$(bpf_scenario "$@" 2>&1); _rc=$?
	echo "$_out" | grep -v ' passed, ' | sed "s/^\(ok\|FAIL\|skip\) - /\1 - [bpf $_tag] /"
	[ "$_rc" = 0 ] || echo "$_out" | grep -q '^FAIL' || fail "bpf_scenario $*: exit $_rc"
}

run memhigh memhigh --root "$CG" --lxc 420
run oom oom --root "$CG" --lxc 421
run tp_btf runq --root "$CG" --lxc 430
run raw_tp runq --raw --root "$CG" --lxc 440
run dreclaim dreclaim --root "$CG" --lxc 450

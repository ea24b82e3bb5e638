# 00-harness.sh — the guest is what the other scenarios rely on: Proxmox-shaped cgroups,
# the filesystems the daemon mounts or reads, the project's programs on PATH.
. /lxcscale/lib.sh

grep -q '^cgroup2 /sys/fs/cgroup cgroup2 .*nsdelegate.*memory_recursiveprot' /proc/mounts &&
	ok "cgroup2 on /sys/fs/cgroup with nsdelegate,memory_recursiveprot" ||
	fail "cgroup2 mount options: $(grep cgroup2 /proc/mounts)"
check "bpffs on /sys/fs/bpf" grep -q '^bpf /sys/fs/bpf bpf' /proc/mounts
check "tracefs on /sys/kernel/tracing" test -e /sys/kernel/tracing/events/sched/sched_switch
check "BTF of the running kernel" test -s /sys/kernel/btf/vmlinux
for c in cpu memory cpuset io pids; do
	grep -qw "$c" "$CG/lxc/cgroup.subtree_control" && ok "controller $c enabled for containers" ||
		fail "controller $c not in lxc/cgroup.subtree_control: $(cat "$CG/lxc/cgroup.subtree_control")"
done
for id in $VM_CTS; do
	check "lxc/$id/ns exists with memory.max on lxc/$id" test -e "$CG/lxc/$id/ns" -a -e "$CG/lxc/$id/memory.max"
	check "lxc/$id has a process in ns" ct_populated "$id"
done
check "PSI: /proc/pressure/cpu" test -r /proc/pressure/cpu
check "tools on PATH (cpuburn, memhog, cgroup_vmcheck)" sh -c 'command -v cpuburn && command -v memhog && command -v cgroup_vmcheck' >/dev/null
for b in lxcscaled lxcscale; do
	if [ -x "/lxcscale/bin/$b" ]; then
		check "$b runs in the guest (--help)" sh -c "$b --help >/dev/null 2>&1 || $b --version >/dev/null 2>&1"
	else
		skip "$b in the guest: not built"
	fi
done

# ct_spawn/ct_remove work and leave nothing behind
ct_create 490 && pid=$(ct_spawn 490 sleep 1000)
wait_until 5 ct_populated 490 && ok "ct_spawn puts a process into lxc/490/ns (pid $pid)" || fail "ct_spawn into lxc/490/ns"
check "ct_remove kills it and removes lxc/490" ct_remove 490

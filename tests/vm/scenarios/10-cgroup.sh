# 10-cgroup.sh — issue 4: the cgroup library against the real kernel.
# Discovery and a full sample, every write rule (incl. the refused unsafe memory.max),
# cpu.max throttling in cpu.stat, PSI trigger latency with a CPU burner, memory.events
# notifications (memory.high breach, OOM kill) and a container removed in mid-read.
. /lxcscale/lib.sh

cgroup_vmcheck discover 101 102

ct_create 401 && cgroup_vmcheck writes 401
ct_create 402 && cgroup_vmcheck throttle 402
ct_create 403 && cgroup_vmcheck psi 403
ct_create 404 && ct_create 405 && cgroup_vmcheck memevents 404 405
cgroup_vmcheck gone 410

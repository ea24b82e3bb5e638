# 61-lxc-systemd.sh — a real unprivileged Debian 12 container whose init is systemd.
# vm-timeout: 200
#
# The rootfs is a debootstrap minbase (tests/vm/lxc-assets.sh), shifted to the idmap, on a
# virtio disk. systemd inside builds its own tree below ns/ (init.scope, system.slice/...);
# what runs in a service there must still count for the container:
#   611  a CPU burst in a service -> cpu.max raised; a working set growing in a service ->
#        memory.max ahead, 0 oom_kill, `free -m` (procps) inside shows the new total; then the
#        idle shrink through memory.high, 0 oom_kill; then, the daemon stopped, BPF alone:
#        on-CPU time, run-queue wake-ups and reclaim stalls of services in
#        ns/system.slice land on the container (against its cpu.stat), none of its time on
#        the host's share (against the root's cpu.stat)
. /lxcscale/lib.sh
. /lxcscale/vm.env
if [ "${VM_LXC:-0}" != 1 ]; then
	fail "real LXC: the VM has no lxc/lxcfs (see the harness's messages)"
	exit 0
fi
. /lxcscale/pve.sh
pve_live_daemon /tmp/d61 || exit 0

[ -d "$PVE_DEBIAN_DISK/etc/systemd" ] || { fail "611: no systemd container disk (see the harness's messages)"; kill $DPID; exit 0; }
printf 'cores: 1\nmemory: 128\nswap: 0\n' | pve_ct_conf 611 debian
t0=$(now_ms)
if ! pct start 611 2>"$W/start.err"; then
	fail "pct start 611 (systemd): $(cat "$W/start.err") $(grep -m3 ERROR /var/log/lxc/611.log | tr '\n' '|')"
	kill $DPID
	exit 0
fi
booted() { st=$(in_ct 611 systemctl is-system-running 2>/dev/null); [ "$st" = running ] || [ "$st" = degraded ]; }
if wait_until 90 booted; then
	info "611: pct start -> systemd $(in_ct 611 systemctl is-system-running): $(($(now_ms) - t0)) ms"
	ok "611: systemd runs as the container's init (unprivileged, idmap 100000)"
else
	fail "611: systemd not up: $(in_ct 611 systemctl is-system-running 2>&1) $(in_ct 611 systemctl --failed --no-legend 2>&1 | head -3 | tr '\n' '|')"
fi
[ -d "$CG/lxc/611/ns/init.scope" ] && [ -d "$CG/lxc/611/ns/system.slice" ] &&
	ok "611: systemd's own tree below ns/ (init.scope, system.slice)" ||
	fail "611: below ns/: $(ls "$CG/lxc/611/ns" | grep -v '\.' | tr '\n' ' ')"
wait_until 10 log_has "container 611: allocation from its Proxmox config" &&
	ok "611: found by the daemon, its config read" || fail "611: not found: $(grep 611 "$W/daemon.log" | tail -3 | tr '\n' '|')"

in_ct 611 systemd-run --unit=burn /usr/local/lxcscale/cpu_burner -t 2 -s 15 >/dev/null 2>&1
wait_until 5 test -d "$CG/lxc/611/ns/system.slice/burn.service" &&
	ok "611: the burst runs in ns/system.slice/burn.service" || fail "611: no burn.service cgroup"
wait_until 15 cpu_max_is 611 "200000 100000" && ok "611 burst in a service: cpu.max raised to 2 cores" ||
	fail "611 burst: cpu.max $(cat "$CG/lxc/611/cpu.max"): $(grep 611 "$W/daemon.log" | tail -3 | tr '\n' '|')"
in_ct 611 systemctl stop burn >/dev/null 2>&1

in_ct 611 systemd-run --unit=hog /usr/local/lxcscale/memhog -m 200 -r 12 -H 40 >/dev/null 2>&1
grown() { [ "$(cat "$CG/lxc/611/memory.current")" -ge $((200 * 1048576)) ]; }
wait_until 40 grown
mx=$(($(cat "$CG/lxc/611/memory.max") / 1048576))
cur=$(($(cat "$CG/lxc/611/memory.current") / 1048576))
kills=$(sed -n 's/^oom_kill //p' "$CG/lxc/611/memory.events")
[ "$mx" -gt 128 ] && [ "$cur" -ge 200 ] && ok "611 growth in hog.service: memory.max ahead of the working set (128 -> $mx MiB, usage $cur MiB)" ||
	fail "611 growth: memory.max $mx MiB, usage $cur MiB"
[ "$kills" = 0 ] && ok "611 growth: 0 oom_kill" || fail "611 growth: oom_kill $kills"
ft=$(in_ct 611 free -m | awk '/^Mem:/ { print $2 }')
[ "$ft" = "$mx" ] && ok "611 growth: free -m inside (procps, lxcfs) shows the new total: $ft MiB" ||
	fail "611 growth: free -m inside says $ft MiB, memory.max $mx MiB"
in_ct 611 systemctl stop hog >/dev/null 2>&1
shrunk() { [ "$(cat "$CG/lxc/611/memory.max")" -lt $((mx * 1048576)) ]; }
if wait_until 30 shrunk; then
	ok "611 idle: memory shrunk ($mx -> $(($(cat "$CG/lxc/611/memory.max") / 1048576)) MiB, high $(($(cat "$CG/lxc/611/memory.high") / 1048576)) MiB)"
else
	fail "611 idle: memory.max still $mx MiB: $(grep 611 "$W/daemon.log" | tail -3 | tr '\n' '|')"
fi
kills=$(sed -n 's/^oom_kill //p' "$CG/lxc/611/memory.events")
[ "$kills" = 0 ] && ok "611 idle shrink: 0 oom_kill" || fail "611 idle shrink: oom_kill $kills"
n=$(grep -c 'ct 611: memory shrink.*abandoned' "$W/daemon.log")
[ "$n" -le 1 ] && ok "611 idle: no shrink flap ($n abandoned shrinks)" ||
	fail "611 idle: $n abandoned shrinks: $(grep -m2 'ct 611: memory shrink' "$W/daemon.log" | tr '\n' '|')"

# Attribution, with the daemon stopped (its limits stay as they are): BPF loaded on its own
# while a burner and a hog run in services below ns/system.slice; the hog grows against a
# memory.high set just above the container's usage, so it stalls in reclaim.
kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" && ok "SIGTERM: the daemon stops" || { fail "the daemon does not stop"; kill -9 $DPID; }
bpf_scenario attribute --root "$CG" --lxc 611 --secs 5 >"$W/attr.out" 2>&1 &
apid=$!
if wait_until 20 grep -q '^ready' "$W/attr.out"; then
	high0=$(cat "$CG/lxc/611/memory.high") max0=$(cat "$CG/lxc/611/memory.max")
	base=$(cat "$CG/lxc/611/memory.current")
	echo $((base + 160 * 1048576)) >"$CG/lxc/611/memory.max" # room: a stall, never an OOM kill
	echo $((base + 24 * 1048576)) >"$CG/lxc/611/memory.high"
	in_ct 611 systemd-run --unit=attrburn /usr/local/lxcscale/cpu_burner -t 1 -s 3 >/dev/null 2>&1
	in_ct 611 systemd-run --unit=attrhog /usr/local/lxcscale/memhog -m 64 -r 32 -H 2 >/dev/null 2>&1
	wait $apid
	echo "$high0" >"$CG/lxc/611/memory.high"
	in_ct 611 systemctl stop attrhog >/dev/null 2>&1
	echo "$max0" >"$CG/lxc/611/memory.max"
	grep -v '^ready$\| passed, ' "$W/attr.out" | sed 's/^\(ok\|FAIL\|skip\) - /\1 - [611 attribution] /'
	grep -q '^FAIL' "$W/attr.out" || grep -q '^ok' "$W/attr.out" || fail "611 attribution: $(tail -3 "$W/attr.out" | tr '\n' '|')"
	in_ct 611 systemctl stop attrburn attrhog >/dev/null 2>&1
else
	kill $apid 2>/dev/null
	fail "611 attribution: BPF not ready: $(tail -3 "$W/attr.out" | tr '\n' '|')"
fi

t0=$(now_ms)
pct shutdown 611 --timeout 10 2>"$W/stop.err" && info "611: pct shutdown (systemd halts): $(($(now_ms) - t0)) ms" ||
	fail "611: pct shutdown: $(cat "$W/stop.err")"

grep -q "ERROR\|CRITICAL" "$W/daemon.log" && info "daemon errors: $(grep 'ERROR\|CRITICAL' "$W/daemon.log" | head -3 | tr '\n' '|')"
exit 0

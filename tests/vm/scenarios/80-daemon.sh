# 80-daemon.sh — the whole daemon without BPF, against a REAL LXC container: the real
# lxcscaled, live (not dry run), deciding by itself from the cgroup files and PSI triggers
# alone (bpf.enabled: false, as on a host without BTF), the pct stand-in driving lxc
# (tests/vm/guest/pve.sh), its REST API on loopback.
#   801  an unprivileged busybox container, cores: 1: a CPU burst makes the daemon raise
#        cpu.max and widen cpuset.cpus by itself, call `pct set 801 --cores 2`, the conf
#        follows, the decision is listed by /api/v1/decisions; then 10 bursts started
#        inside, the first one included (without BPF there is no idle tier, so the first
#        burst is seen within the quiet period): burst start -> cpu.max write, and the PSI
#        trigger -> decision time of the scale-ups the trigger woke
#   SIGTERM stops it
# With BPF, 30 bursts, memory growth and a manual POST /scale/ram on real containers:
# 60-lxc.sh, 61-lxc-systemd.sh. Timings are info lines, never asserted.
. /lxcscale/lib.sh
. /lxcscale/vm.env
if [ "${VM_LXC:-0}" != 1 ]; then
	fail "real LXC: the VM has no lxc/lxcfs (see the harness's messages)"
	exit 0
fi
. /lxcscale/pve.sh
PVE_DAEMON_YAML='bpf:
  enabled: false' pve_live_daemon /tmp/d80 || exit 0
log_has "BPF: off (bpf.enabled: false)" && ok "BPF off: the daemon says so at start" ||
	fail "BPF off: not in the start-up lines: $(grep -m4 -i 'bpf' "$W/daemon.log" | cut -c1-160 | tr '\n' '|')"

printf 'cores: 1\nmemory: 64\nswap: 0\n' | pve_ct_conf 801 busybox
if ! pct start 801 2>"$W/start.err"; then
	fail "pct start 801: $(cat "$W/start.err")"
	kill $DPID
	exit 0
fi
wait_until 10 log_has "container 801: allocation from its Proxmox config" &&
	ok "801: found and its allocation read from the Proxmox config (pct config --current)" ||
	fail "801: no allocation from the config: $(grep -m2 '801' "$W/daemon.log" | tr '\n' '|')"

# ---- 801: one burst, followed through --------------------------------------------------------
in_ct 801 cpu_burner -t 2 -s 20 >/dev/null 2>&1 &
BURN=$!
if wait_until 15 cpu_max_is 801 "200000 100000"; then
	ok "burst: the daemon raised cpu.max to 2 cores without BPF"
	# cpu.max is written first and the cpuset right after it: wait for the second write
	wait_until 3 sh -c "[ \"\$(cat $CG/lxc/801/cpuset.cpus)\" = 0-1 ]" &&
		ok "burst: the daemon widened cpuset.cpus to 0-1" ||
		fail "burst: cpuset.cpus is '$(cat "$CG/lxc/801/cpuset.cpus")': $(grep -m2 'cpuset not' "$W/daemon.log" | cut -c1-200 | tr '\n' '|')"
	wait_until 5 sh -c "grep -q \"\$(printf 'pct\tset\t801\t--cores\t2')\" $W/argv.log" &&
		ok "burst: the daemon called pct set 801 --cores 2" ||
		fail "burst: no 'pct set 801 --cores 2': $(grep 801 "$W/argv.log" | tail -3 | tr '\n' '|')"
	wait_until 5 sh -c "[ \"\$(sed -n 's/^cores: //p' $PVE/801.conf)\" = 2 ]" &&
		ok "burst: 801.conf says cores: 2" || fail "burst: 801.conf cores: $(conf 801 cores)"
	get "/api/v1/decisions?since=0&limit=1000" | grep -q '"vmid":801,"cpu":{"change":"up"' &&
		ok "burst: the decision is in /api/v1/decisions" || fail "burst: no cpu-up decision for 801 in /api/v1/decisions"
else
	fail "burst: cpu.max not raised within 15 s: $(cat "$CG/lxc/801/cpu.max"); $(grep 801 "$W/daemon.log" | tail -4 | cut -c1-200 | tr '\n' '|')"
fi
in_ct 801 killall cpu_burner 2>/dev/null
kill $BURN 2>/dev/null
wait_until 20 cpu_max_is 801 "100000 100000" && ok "quiet: back to 1 core" ||
	fail "quiet: cpu.max $(cat "$CG/lxc/801/cpu.max")"
wait_until 5 sh -c "[ \"\$(sed -n 's/^cores: //p' $PVE/801.conf)\" = 1 ]" &&
	ok "quiet: 801.conf follows the scale-down (cores: 1)" || fail "quiet: 801.conf cores: $(conf 801 cores)"

# ---- 801: reaction over 10 bursts ------------------------------------------------------------
pve_bursts 801 10 90 "real container, BPF off (PSI triggers and cgroup files)"
info "801: $(pct_sets 801) pct set calls (persist debounce 50 ms)"

kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" && ok "SIGTERM: the daemon stops" || { fail "the daemon does not stop"; kill -9 $DPID; }
grep -q "ERROR\|CRITICAL" "$W/daemon.log" && info "daemon errors: $(grep 'ERROR\|CRITICAL' "$W/daemon.log" | head -3 | tr '\n' '|')"
exit 0

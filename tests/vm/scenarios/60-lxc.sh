# 60-lxc.sh — the daemon against REAL LXC containers, started the way Proxmox starts them.
# vm-timeout: 480
#
# Containers are unprivileged busybox containers (Debian's lxc 5.0 and lxcfs 5.0 in the VM;
# tests/vm/guest/pve.sh), created and started with `pct start` (the stand-in runs lxc-start on
# a config generated as pve-container generates it), while a pvestatd stand-in rebalances
# cpusets from `cores` as Proxmox's pvestatd does (every 2 s here instead of 10, to contest
# the daemon's writes more often). lxcscaled runs live with BPF.
#   601  started after the daemon: found, its config read; ns/ belongs to the container's
#        root (uid 100000) and the daemon writes only lxc/601; a CPU burst raises cpu.max,
#        cpuset and `cores`, and `nproc` inside (lxcfs) follows up and back down
#   602  cores: 1 with cpulimit: 1 (common on Proxmox): a burst scales it once, not in a loop
#   601  `pct reboot` under the daemon (cgroups removed and created again): no error loop,
#        and the next burst is still handled
#   601  reaction: 30 bursts started inside the container (one burner in it waits for each
#        go and stamps the start, so lxc-attach is not in the figure) -> the decision's
#        cpu.max write, p50/p99, and what woke each decision (pve_bursts in pve.sh)
#   603  a memory working set growing inside: memory.max ahead of it, 0 oom_kill, and
#        MemTotal inside shows the new total; POST /scale/ram: cgroup, config, the
#        daemon's own /api/v1 view and MemTotal inside agree
#   604  `lxc-stop` while the daemon's `pct set` for it is still running: a reported
#        outcome, and the next daemon start reconciles with nothing left open
#   605  a fork storm inside (1500 processes): the daemon's loop and API keep answering
# Timings are info lines, never asserted.
. /lxcscale/lib.sh
. /lxcscale/vm.env
if [ "${VM_LXC:-0}" != 1 ]; then
	fail "real LXC: the VM has no lxc/lxcfs (see the harness's messages)"
	exit 0
fi
. /lxcscale/pve.sh
pve_live_daemon /tmp/d60 || exit 0

# ---- 601: started after the daemon ----------------------------------------------------------
printf 'cores: 1\nmemory: 128\nswap: 0\n' | pve_ct_conf 601 busybox
t0=$(now_ms)
if ! pct start 601 2>"$W/start.err"; then
	fail "pct start 601 (lxc-start): $(cat "$W/start.err") $(grep -m3 ERROR /var/log/lxc/601.log | tr '\n' '|')"
	kill $DPID
	exit 0
fi
t1=$(now_ms)
info "pct start 601 (unprivileged busybox, lxc-start -d + RUNNING): $((t1 - t0)) ms"
ok "pct start 601: a real unprivileged container runs (init pid $(lxc-info -n 601 -pH))"
info "cgroup2 options with a container running: $(grep '^cgroup2 /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f4)"
[ -d "$CG/lxc.monitor/601" ] && [ -d "$CG/lxc/601/ns" ] &&
	ok "601: the Proxmox layout: lxc/601 (limits), lxc/601/ns (tasks), lxc.monitor/601 (monitor)" ||
	fail "601: layout: $(cd "$CG" && find lxc/601 lxc.monitor -maxdepth 1 -type d | tr '\n' ' ')"
owner=$(stat -c %u:%g "$CG/lxc/601/ns/cgroup.procs")
case $owner in
*:100000 | 100000:*) ok "601: ns/ is delegated to the container's root (cgroup.procs $owner, idmap base 100000)" ;;
*) fail "601: ns/cgroup.procs is owned by $owner" ;;
esac
owner=$(stat -c %u:%g "$CG/lxc/601/cgroup.procs")
[ "$owner" = 0:0 ] && ok "601: lxc/601, where the daemon writes the limits, stays host root's" ||
	fail "601: lxc/601/cgroup.procs is owned by $owner"
if wait_until 10 log_has "container 601: allocation from its Proxmox config"; then
	t2=$(now_ms)
	ok "601: the daemon found the container started after it and read its config"
	info "601: lxc-start returned -> config read by the daemon: $((t2 - t1)) ms (poll 100 ms)"
else
	fail "601: not found within 10 s: $(grep 601 "$W/daemon.log" | tail -3 | tr '\n' '|')"
fi
log_has "lxc.monitor" && fail "the daemon mentions lxc.monitor: $(grep -m2 lxc.monitor "$W/daemon.log" | tr '\n' '|')" ||
	ok "lxc.monitor/601 is not taken for a container"
ct_sees() { [ "$(in_ct "$1" nproc)" = "$2" ] && [ "$(memtotal_in "$1")" = "$3" ]; }
wait_until 5 ct_sees 601 1 128 &&
	ok "601 inside (lxcfs): nproc 1, MemTotal 128 MiB" ||
	fail "601 inside: nproc $(in_ct 601 nproc), MemTotal $(memtotal_in 601) MiB"

# the burst: two busy threads inside, for up to 20 s
t0=$(now_ms)
in_ct 601 cpu_burner -t 2 -s 20 >/dev/null 2>&1 &
BURN=$!
if wait_until 15 cpu_max_is 601 "200000 100000"; then
	info "601: burst start (lxc-attach) -> cpu.max 2 cores: $(($(now_ms) - t0)) ms"
	ok "601 burst: cpu.max raised to 2 cores"
else
	fail "601 burst: cpu.max is $(cat "$CG/lxc/601/cpu.max"): $(grep 601 "$W/daemon.log" | tail -4 | tr '\n' '|')"
fi
wait_until 5 sh -c "[ \"\$(sed -n 's/^cores: //p' $PVE/601.conf)\" = 2 ]" &&
	ok "601 burst: persisted (601.conf cores: 2)" || fail "601 burst: 601.conf cores: $(conf 601 cores)"
wait_until 5 nproc_in_is 601 2 && ok "601 burst: nproc inside is 2 (cpuset 0-1 through lxcfs)" ||
	fail "601 burst: nproc inside $(in_ct 601 nproc), cpuset $(cat "$CG/lxc/601/cpuset.cpus")"
sleep 5 # two pvestatd cycles
[ "$(cat "$CG/lxc/601/cpu.max")" = "200000 100000" ] && nproc_in_is 601 2 &&
	ok "601 burst: pvestatd's rebalancing leaves 2 CPUs (config and cgroup agree)" ||
	fail "601 burst: after pvestatd: cpu.max $(cat "$CG/lxc/601/cpu.max"), nproc $(in_ct 601 nproc)"
kill $BURN 2>/dev/null
in_ct 601 killall cpu_burner 2>/dev/null
if wait_until 30 cpu_max_is 601 "100000 100000"; then
	ok "601 quiet: cpu.max back to 1 core"
else
	fail "601 quiet: cpu.max $(cat "$CG/lxc/601/cpu.max")"
fi
wait_until 5 sh -c "[ \"\$(sed -n 's/^cores: //p' $PVE/601.conf)\" = 1 ]" &&
	ok "601 quiet: persisted (601.conf cores: 1)" || fail "601 quiet: 601.conf cores: $(conf 601 cores)"
wait_until 5 nproc_in_is 601 1 && ok "601 quiet: nproc inside is 1 again (cpuset narrowed)" ||
	fail "601 quiet: nproc inside $(in_ct 601 nproc), cpuset $(cat "$CG/lxc/601/cpuset.cpus"), conf cores $(conf 601 cores)"

# ---- 601: reaction over 30 bursts ----------------------------------------------------------------
pve_bursts 601 30 160 "real container, BPF on"

# ---- 602: cpulimit ---------------------------------------------------------------------------
printf 'cores: 1\ncpulimit: 1\nmemory: 128\nswap: 0\n' | pve_ct_conf 602 busybox
if pct start 602 2>"$W/start.err"; then
	wait_until 10 log_has "container 602: allocation from its Proxmox config"
	n0=$(pct_sets 602)
	in_ct 602 cpu_burner -t 2 -s 12 >/dev/null 2>&1 &
	BURN=$!
	wait_until 15 cpu_max_is 602 "200000 100000" && ok "602 (cpulimit: 1) burst: cpu.max raised to 2 cores" ||
		fail "602 burst: cpu.max $(cat "$CG/lxc/602/cpu.max")"
	sleep 8
	n1=$(pct_sets 602)
	info "602 burst: $((n1 - n0)) pct set calls in ~10 s of burst; conf: cores $(conf 602 cores), cpulimit $(conf 602 cpulimit)"
	[ $((n1 - n0)) -le 3 ] && ok "602 burst: scaled once, not in a loop ($((n1 - n0)) pct set)" ||
		fail "602 burst: $((n1 - n0)) pct set calls: $(grep "$(printf 'set\t602')" "$W/argv.log" | tail -4 | tr '\t\n' ' |')"
	[ "$(conf 602 cpulimit)" = 2 ] && [ "$(conf 602 cores)" = 2 ] &&
		ok "602 burst: cores and cpulimit persisted together (2 and 2)" ||
		fail "602 burst: conf cores $(conf 602 cores) cpulimit $(conf 602 cpulimit)"
	kill $BURN 2>/dev/null
	in_ct 602 killall cpu_burner 2>/dev/null
	pct stop 602
else
	fail "pct start 602: $(cat "$W/start.err")"
fi

# ---- 601: pct reboot under the daemon ----------------------------------------------------------
errs0=$(grep 'WARNING\|ERROR' "$W/daemon.log" | grep -vc 'loop: a tick')
t0=$(now_ms)
if pct reboot 601 2>"$W/reboot.err"; then
	info "pct reboot 601 (lxc-stop -t, lxc-start): $(($(now_ms) - t0)) ms"
	ok "pct reboot 601: stopped and started again (cgroups removed and created)"
else
	fail "pct reboot 601: $(cat "$W/reboot.err")"
fi
sleep 3
errs1=$(grep 'WARNING\|ERROR' "$W/daemon.log" | grep -vc 'loop: a tick')
[ $((errs1 - errs0)) -le 4 ] && ok "601 reboot: no error loop in the daemon ($((errs1 - errs0)) warnings)" ||
	fail "601 reboot: $((errs1 - errs0)) warnings: $(grep 'WARNING\|ERROR' "$W/daemon.log" | tail -4 | tr '\n' '|')"
in_ct 601 cpu_burner -t 2 -s 10 >/dev/null 2>&1 &
BURN=$!
wait_until 15 cpu_max_is 601 "200000 100000" && ok "601 after the reboot: a burst is handled (cpu.max 2 cores)" ||
	fail "601 after the reboot: cpu.max $(cat "$CG/lxc/601/cpu.max"): $(grep 601 "$W/daemon.log" | tail -3 | tr '\n' '|')"
# the dashboard's run-queue chart: BPF's p99 in the container's API history
runq_seen() { get /api/v1/containers/601 | grep -q '"runq_p99_us":[1-9]'; }
wait_until 10 runq_seen && ok "601 burst: /api/v1/containers/601 history carries BPF's run-queue p99 (runq_p99_us > 0)" ||
	fail "601 burst: no runq_p99_us > 0 in the history: $(get /api/v1/containers/601 | grep -o '"runq_p99_us":[0-9.]*' | sort | uniq -c | tr '\n' ' ')"
kill $BURN 2>/dev/null
in_ct 601 killall cpu_burner 2>/dev/null
pct stop 601

# ---- 603: memory grows inside ------------------------------------------------------------------
printf 'cores: 1\nmemory: 128\nswap: 0\n' | pve_ct_conf 603 busybox
if pct start 603 2>"$W/start.err"; then
	wait_until 10 log_has "container 603: allocation from its Proxmox config"
	in_ct 603 memhog -m 200 -r 12 -H 30 >/dev/null 2>&1 &
	HOG=$!
	grown() { [ "$(cat "$CG/lxc/603/memory.current")" -ge $((190 * 1048576)) ]; }
	wait_until 40 grown
	mx=$(($(cat "$CG/lxc/603/memory.max") / 1048576))
	cur=$(($(cat "$CG/lxc/603/memory.current") / 1048576))
	kills=$(sed -n 's/^oom_kill //p' "$CG/lxc/603/memory.events")
	[ "$mx" -gt 128 ] && [ "$cur" -ge 190 ] && ok "603 growth: memory.max raised ahead of the working set (128 -> $mx MiB, usage $cur MiB)" ||
		fail "603 growth: memory.max $mx MiB, usage $cur MiB"
	[ "$kills" = 0 ] && ok "603 growth: 0 oom_kill" || fail "603 growth: oom_kill $kills"
	wait_until 5 sh -c "[ \"\$(sed -n 's/^memory: //p' $PVE/603.conf)\" = $mx ]" &&
		ok "603 growth: persisted (603.conf memory: $mx)" || fail "603 growth: 603.conf memory: $(conf 603 memory), cgroup $mx"
	# busybox's free asks sysinfo(2), which lxcfs cannot answer: /proc/meminfo is what it serves
	ft=$(memtotal_in 603)
	[ "$ft" = "$(($(cat "$CG/lxc/603/memory.max") / 1048576))" ] &&
		ok "603 growth: MemTotal inside shows the new total ($ft MiB)" || fail "603 growth: MemTotal inside says $ft MiB"
	kill $HOG 2>/dev/null
	in_ct 603 killall memhog 2>/dev/null
	out=$(wget -q -O - --header 'Content-Type: application/json' --post-data '{"lxc_id": 603, "memory": 256}' \
		"$U/scale/ram" 2>&1)
	echo "$out" | grep -q '"status":"success"' && ok "603 manual: POST /scale/ram 256 answered success" ||
		fail "603 manual: POST /scale/ram: $out"
	# 320 -> 256 goes down: a stepwise shrink through memory.high, then memory.max. The
	# container is idle now, so the policy may go on shrinking it after the manual change
	# (cooldown_down_seconds: 1 here): what must hold is that the manual 256 was applied and
	# persisted, and that the cgroup, the daemon's view and the container's MemTotal then
	# agree, whatever the value by then.
	wait_until 10 sh -c "grep -q \"\$(printf 'set\t603\t.*--memory\t256')\" $W/argv.log" &&
		ok "603 manual: persisted (pct set 603 --memory 256)" ||
		fail "603 manual: no pct set 603 --memory 256: $(grep "$(printf 'set\t603')" "$W/argv.log" | tail -3 | tr '\t\n' ' |')"
	get "/api/v1/decisions?since=0&limit=1000" | sed 's/,{"seq"/\n/g' | grep -q '"vmid":603,.*"to_mb":256.*"outcome":"applied' &&
		ok "603 manual: the decision for 256 MiB says applied" ||
		fail "603 manual decision: $(get "/api/v1/decisions?since=0&limit=1000" | sed 's/,{"seq"/\n/g' | grep '"vmid":603' | tail -2 | cut -c1-300 | tr '\n' '|')"
	agree() {
		mm=$(($(cat "$CG/lxc/603/memory.max") / 1048576))
		view=$(get /api/v1/containers/603 | sed -n 's/.*"limits":{[^}]*"memory_mb":\([0-9]*\).*/\1/p')
		inside=$(memtotal_in 603)
		cf=$(conf 603 memory)
		[ "$mm" = "$view" ] && [ "$view" = "$inside" ] && [ "$inside" = "$cf" ]
	}
	wait_until 15 agree &&
		ok "603 after the manual change: memory.max, the daemon's /api/v1 view, MemTotal inside and 603.conf agree ($mm MiB)" ||
		fail "603 after the manual change: memory.max $mm, /api/v1 memory_mb $view, MemTotal inside $inside, 603.conf $cf"
	# the dashboard's memory chart draws memory.high from the API
	high_agrees() {
		mh=$(cat "$CG/lxc/603/memory.high")
		api_mh=$(get /api/v1/containers/603 | sed -n 's/.*"limits":{[^}]*"memory_high_mb":\([0-9]*\).*/\1/p')
		[ "$mh" != max ] && [ "$api_mh" = $((mh / 1048576)) ]
	}
	wait_until 10 high_agrees && ok "603: /api/v1 limits.memory_high_mb is the cgroup's memory.high ($api_mh MiB)" ||
		fail "603: memory.high $mh, /api/v1 memory_high_mb ${api_mh:-none}"
	pct stop 603
else
	fail "pct start 603: $(cat "$W/start.err")"
fi

kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" && ok "SIGTERM: the daemon stops" || { fail "the daemon does not stop"; kill -9 $DPID; }

# ---- 604: lxc-stop while the daemon persists; 605: a fork storm --------------------------------
# a second daemon whose `pct set` takes 3 s, so the stop lands while the persist runs
printf 'cores: 1\nmemory: 128\nswap: 0\n' | pve_ct_conf 604 busybox
printf 'cores: 1\nmemory: 256\nswap: 0\n' | pve_ct_conf 605 busybox
pct start 604 2>"$W/start.err" || fail "pct start 604: $(cat "$W/start.err")"
pct start 605 2>"$W/start.err" || fail "pct start 605: $(cat "$W/start.err")"
PCT_STAND_IN_DELAY_MS=3000 PCT_STAND_IN_ONLY=set lxcscaled --config "$W/cfg.yaml" --foreground >"$W/daemon2.log" 2>&1 &
DPID=$!
log2_has() { grep -q -- "$1" "$W/daemon2.log"; }
wait_until 60 log2_has "ready:" || fail "the second daemon did not start: $(tail -3 "$W/daemon2.log" | tr '\n' '|')"
wait_until 10 log2_has "container 604: allocation from its Proxmox config"
in_ct 604 cpu_burner -t 2 -s 10 >/dev/null 2>&1 &
if wait_until 15 cpu_max_is 604 "200000 100000"; then
	usleep 300000 # the persist is in its 3 s now
	t0=$(now_ms)
	lxc-stop -n 604 -k
	info "604: lxc-stop -k during the persist took $(($(now_ms) - t0)) ms"
	if wait_until 15 sh -c "grep 'ct 604\|container 604' '$W/daemon2.log' | grep -qi 'persist'"; then
		ok "604 stopped during the persist: the outcome is reported ($(grep 'ct 604\|container 604' "$W/daemon2.log" | grep -i persist | tail -1 | cut -c25-160))"
	else
		fail "604: no persist outcome logged: $(grep '604' "$W/daemon2.log" | tail -4 | tr '\n' '|')"
	fi
	[ "$(conf 604 cores)" = 2 ] && ok "604: the config holds what the cgroup had (cores: 2)" ||
		info "604: 604.conf cores $(conf 604 cores) after the stop"
else
	fail "604 burst: cpu.max $(cat "$CG/lxc/604/cpu.max")"
fi
# 605: a fork storm of 1500 sleeping processes; the loop and the API must keep answering
in_ct 605 sh -c 'i=0; while [ $i -lt 1500 ]; do sleep 60 & i=$((i + 1)); done; wait' >/dev/null 2>&1 &
STORM=$!
slow=0 answered=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	t0=$(now_ms)
	get /api/v1/containers/605 | grep -q '"vmid":605' && answered=$((answered + 1))
	dt=$(($(now_ms) - t0)); [ $dt -gt $slow ] && slow=$dt
	usleep 500000
done
pids=$(cat "$CG/lxc/605/pids.current")
info "605 fork storm: pids.current $pids, slowest /api/v1/containers/605 answer ${slow} ms"
[ "$answered" = 10 ] && [ "$pids" -ge 500 ] && kill -0 $DPID 2>/dev/null &&
	ok "605 fork storm ($pids tasks): the daemon answered 10 of 10 API requests and runs on" ||
	fail "605 fork storm: $answered of 10 answered, pids $pids"
lxc-stop -n 605 -k
kill $STORM 2>/dev/null
kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" || { fail "the second daemon does not stop"; kill -9 $DPID; }
# the next start reconciles: nothing may be left open in the journal
lxcscaled --config "$W/cfg.yaml" --foreground >"$W/daemon3.log" 2>&1 &
DPID=$!
log3_has() { grep -q -- "$1" "$W/daemon3.log"; }
if wait_until 60 log3_has "reconcile:"; then
	grep 'reconcile: ct ' "$W/daemon3.log" | cut -c25- | sed 's/^/info - /'
	line=$(grep -m1 'reconcile: [0-9]* persisted' "$W/daemon3.log" | cut -c25-)
	echo "$line" | grep -q ' 0 left open' && ok "next start: $line" || fail "next start: $line"
else
	fail "next start: no reconcile line: $(tail -3 "$W/daemon3.log" | tr '\n' '|')"
fi
kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" || kill -9 $DPID
grep -q "ERROR\|CRITICAL" "$W/daemon2.log" && info "second daemon errors: $(grep 'ERROR\|CRITICAL' "$W/daemon2.log" | head -3 | tr '\n' '|')"
info "pvestatd: $(grep -c modified "$W/pvestatd.log") cpuset changes: $(tail -3 "$W/pvestatd.log" | tr '\n' '|')"
grep -q "ERROR\|CRITICAL" "$W/daemon.log" && info "daemon errors: $(grep 'ERROR\|CRITICAL' "$W/daemon.log" | head -3 | tr '\n' '|')"
exit 0

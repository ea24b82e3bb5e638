# 70-actuate.sh — issue 7: the actuator, journal, persister and reconcile on the real kernel.
# actuate_driver (tests/tools) runs the real code; the stand-in `pct` (tests/tools/pct, found
# on PATH as the daemon would find /usr/sbin/pct) keeps <vmid>.conf files in $PVE.
#   701  CPU bursts: PSI trigger -> cpu.max + cpuset widening + pct set; latency p50/p99
#   702  a steady memory leak: memory.max raised ahead of it, 0 oom_kill
#   703  shrinking an idle container: done, usage below target, 0 oom_kill
#   704  shrinking a busy container that cannot fit: abandoned, memory.high restored, 0 oom_kill
#   705  SIGKILL of the driver at random points, then reconcile: cgroup == config every time
#   706  a stopped container (no cgroup): the change is persisted only
. /lxcscale/lib.sh

PVE=/tmp/actuate-pve
J=/tmp/actuate-journal
rm -rf "$PVE" "$J"*
mkdir -p "$PVE"
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/pct.log

# ct_setup ID CORES_AS_CPU_MAX CPUSET MEM_MB CONF_CORES
ct_setup() {
	ct_create "$1" || return 1
	echo "$2" > "$CG/lxc/$1/cpu.max"
	echo "$3" > "$CG/lxc/$1/cpuset.cpus"
	echo "$3" > "$CG/lxc/$1/ns/cpuset.cpus"
	echo $(($4 * 1048576)) > "$CG/lxc/$1/memory.max"
	echo $(($4 * 1048576 / 1024 * 1016)) > "$CG/lxc/$1/memory.high"
	printf 'arch: amd64\ncores: %s\nhostname: ct%s\nmemory: %s\nswap: 0\n' "$5" "$1" "$4" > "$PVE/$1.conf"
	echo running > "$PVE/$1.state"
}

conf() { sed -n "s/^$2: //p" "$PVE/$1.conf"; }

# pct_running: a stand-in `pct` is still running (busybox has no pgrep; one grep, no fork
# per process: cmdline starts with "pct\0set\0...")
pct_running() { grep -qsa '^pct' /proc/[0-9]*/cmdline; }
no_pct_running() { ! pct_running; }

# ---- 701: CPU bursts ---------------------------------------------------------------------
ct_setup 701 "50000 100000" 0 256 1
actuate_driver --journal $J.701 burst 701 20
grep -q "$(printf 'pct\tset\t701\t--cores\t2')\$" "$PVE/pct.log" &&
	ok "burst: pct called as: pct set 701 --cores 2" ||
	fail "burst: no 'pct set 701 --cores 2' in the stand-in's log: $(grep 701 "$PVE/pct.log" | head -3)"
[ "$(grep -c "$(printf 'set\t701\t')" "$PVE/pct.log")" -ge 40 ] &&
	ok "burst: one pct call per change (up and down, 20 rounds)" ||
	fail "burst: $(grep -c "$(printf 'set\t701\t')" "$PVE/pct.log") pct calls for 40 changes"
[ "$(conf 701 cores)" = 1 ] && ok "burst: 701.conf follows (cores: 1 after the last scale-down)" ||
	fail "burst: 701.conf says cores: $(conf 701 cores)"

# ---- 702: a steady leak toward the limit, headroom up to 320 MiB --------------------------
ct_setup 702 "max 100000" 0-1 128 2
echo 0 > "$CG/lxc/702/memory.swap.max" 2>/dev/null
actuate_driver --journal $J.702 leak 702 128 320 64 192
want=$(( $(cat "$CG/lxc/702/memory.max") / 1048576 ))
[ "$(conf 702 memory)" = "$want" ] && ok "leak: 702.conf memory: $want (persisted, coalesced)" ||
	fail "leak: 702.conf memory: $(conf 702 memory), cgroup $want MiB"

# ---- 703/704: shrinking -------------------------------------------------------------------
ct_setup 703 "max 100000" 0-1 256 2
echo 0 > "$CG/lxc/703/memory.swap.max" 2>/dev/null
actuate_driver --journal $J.703 shrink 703 256 128 24 idle 300
[ "$(conf 703 memory)" = 128 ] && ok "shrink idle: 703.conf memory: 128" ||
	fail "shrink idle: 703.conf memory: $(conf 703 memory)"

ct_setup 704 "max 100000" 0-1 256 2
echo 0 > "$CG/lxc/704/memory.swap.max" 2>/dev/null
actuate_driver --journal $J.704 shrink 704 256 128 150 busy 40
[ "$(conf 704 memory)" = 256 ] && ok "shrink busy: 704.conf memory stays 256" ||
	fail "shrink busy: 704.conf memory: $(conf 704 memory)"

# ---- 705: SIGKILL anywhere, then reconcile ------------------------------------------------
ct_setup 705 "200000 100000" 0-1 256 2
echo 0 > "$CG/lxc/705/memory.swap.max" 2>/dev/null
pid=$(ct_spawn 705 sleep 100000)
agree=0 rounds=10
for r in $(seq 1 $rounds); do
	c0=$(conf 705 cores) m0=$(conf 705 memory)
	c=$(( RANDOM % 2 + 1 )) m=$(( (RANDOM % 3 + 2) * 64 ))
	PCT_STAND_IN_DELAY_MS=$(( RANDOM % 200 )) actuate_driver --journal $J.705 \
		apply 705 "$c0" "$c" "$m0" "$m" >/dev/null 2>&1 &
	d=$!
	usleep $(( RANDOM % 300000 ))
	kill -9 $d 2>/dev/null
	wait $d 2>/dev/null
	# a stand-in pct left behind by the killed driver finishes on its own (whole-file writes)
	wait_until 10 no_pct_running ||
		info "kill round $r: a stand-in pct still runs after 10 s"
	out=$(actuate_driver --journal $J.705 reconcile 705 2>&1)
	cc=$(conf 705 cores) cm=$(conf 705 memory)
	if [ "$(cat "$CG/lxc/705/cpu.max")" = "$((cc * 100000)) 100000" ] &&
		[ "$(cat "$CG/lxc/705/memory.max")" = "$((cm * 1048576))" ] &&
		echo "$out" | grep -q 'open=0$'; then
		agree=$((agree + 1))
	else
		info "kill round $r: cgroup $(cat "$CG/lxc/705/cpu.max") / $(cat "$CG/lxc/705/memory.max"), config cores $cc memory $cm; $(echo "$out" | tail -2 | tr '\n' ' ')"
	fi
done
[ "$agree" = "$rounds" ] &&
	ok "kill anywhere: after $rounds SIGKILLs + reconcile, cgroup and config agree, journal empty" ||
	fail "kill anywhere: they agree in only $agree of $rounds rounds"
[ "$(sed -n 's/^oom_kill //p' "$CG/lxc/705/memory.events")" = 0 ] &&
	ok "kill anywhere: 0 oom_kill" || fail "kill anywhere: oom_kill $(sed -n 's/^oom_kill //p' "$CG/lxc/705/memory.events")"
kill "$pid" 2>/dev/null

# ---- 706: the container stops between the decision and the write --------------------------
ct_setup 706 "200000 100000" 0-1 256 2
ct_remove 706
echo stopped > "$PVE/706.state"
out=$(actuate_driver --journal $J.706 apply 706 2 3 256 512 2>&1)
echo "$out" | grep -q '^applied .*status=persist-only' && echo "$out" | grep -q '^persisted ' &&
	ok "stopped: no cgroup -> persisted only" || fail "stopped: $(echo "$out" | tail -3 | tr '\n' ' ')"
[ "$(conf 706 cores)" = 3 ] && [ "$(conf 706 memory)" = 512 ] &&
	ok "stopped: 706.conf cores: 3 memory: 512 (applies at its next start)" ||
	fail "stopped: 706.conf cores $(conf 706 cores) memory $(conf 706 memory)"

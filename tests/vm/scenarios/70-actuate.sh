# 70-actuate.sh — the actuator, journal, persister and reconcile on real LXC containers.
# actuate_driver (tests/tools) runs the real code without the daemon's policy, so each step can
# be forced and the driver killed anywhere. The containers are unprivileged busybox containers
# started with `pct start` (tests/vm/guest/pve.sh): lxc-start creates their cgroups with
# Proxmox's initial limits, and the pct stand-in hot-applies `pct set --memory` to the running
# container as Proxmox does, so the driver's writes meet the runtime's own.
#   703  shrinking an idle container: done, usage below target, 0 oom_kill
#   704  shrinking a busy container that cannot fit: abandoned, memory.high restored, 0 oom_kill
#   705  SIGKILL of the driver at random points, then reconcile: cgroup == config every time
#   706  a container stopped with `pct stop` (cgroup gone): the change is persisted only
# The actuator's CPU burst and memory leak paths run on real containers under the daemon in
# 60-lxc (601 bursts, 603 a growing working set) and 61-lxc-systemd (611).
. /lxcscale/lib.sh
. /lxcscale/vm.env
if [ "${VM_LXC:-0}" != 1 ]; then
	fail "real LXC: the VM has no lxc/lxcfs (see the harness's messages)"
	exit 0
fi
. /lxcscale/pve.sh

J=/tmp/actuate-journal
rm -f "$J"*
export PCT_STAND_IN_LOG=/tmp/actuate-pct.log
: >"$PCT_STAND_IN_LOG"

# ct_setup ID CORES MEM_MB: a busybox container with that config, started as Proxmox starts it
ct_setup() {
	printf 'cores: %s\nmemory: %s\nswap: 0\n' "$2" "$3" | pve_ct_conf "$1" busybox || {
		fail "$1: cannot create its rootfs and config"
		return 1
	}
	pct start "$1" 2>/tmp/start.err && return 0
	fail "pct start $1: $(cat /tmp/start.err) $(grep -m3 ERROR "/var/log/lxc/$1.log" | tr '\n' '|')"
	return 1
}

# pct_running: a stand-in `pct` is still running (busybox has no pgrep; one grep, no fork
# per process: cmdline starts with "pct\0set\0...")
pct_running() { grep -qsa '^pct' /proc/[0-9]*/cmdline; }
no_pct_running() { ! pct_running; }
oom_kills() { sed -n 's/^oom_kill //p' "$CG/lxc/$1/memory.events"; }

# ---- 703/704: shrinking -------------------------------------------------------------------
if ct_setup 703 2 256; then
	actuate_driver --journal $J.703 shrink 703 256 128 24 idle 300
	[ "$(conf 703 memory)" = 128 ] && ok "shrink idle: 703.conf memory: 128" ||
		fail "shrink idle: 703.conf memory: $(conf 703 memory)"
	[ "$(oom_kills 703)" = 0 ] && ok "shrink idle: 0 oom_kill in the container" ||
		fail "shrink idle: oom_kill $(oom_kills 703)"
	pct stop 703
fi

if ct_setup 704 2 256; then
	actuate_driver --journal $J.704 shrink 704 256 128 150 busy 40
	[ "$(conf 704 memory)" = 256 ] && ok "shrink busy: 704.conf memory stays 256" ||
		fail "shrink busy: 704.conf memory: $(conf 704 memory)"
	pct stop 704
fi

# ---- 705: SIGKILL anywhere, then reconcile ------------------------------------------------
if ct_setup 705 2 256; then
	# the quota the daemon would have left (Proxmox starts a container without cpulimit at "max")
	echo "200000 100000" > "$CG/lxc/705/cpu.max"
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
	[ "$(oom_kills 705)" = 0 ] && ok "kill anywhere: 0 oom_kill" || fail "kill anywhere: oom_kill $(oom_kills 705)"
	lxc-info -n 705 -s | grep -q RUNNING && ok "kill anywhere: the container still runs" ||
		fail "kill anywhere: 705 is $(lxc-info -n 705 -s)"
	pct stop 705
fi

# ---- 706: the container was stopped between the decision and the write ------------------
if ct_setup 706 2 256; then
	pct stop 706 2>/tmp/stop.err || fail "pct stop 706: $(cat /tmp/stop.err)"
	[ -d "$CG/lxc/706" ] && fail "stopped: lxc/706 is still there after pct stop"
	out=$(actuate_driver --journal $J.706 apply 706 2 1 256 512 2>&1)
	echo "$out" | grep -q '^applied .*status=persist-only' && echo "$out" | grep -q '^persisted ' &&
		ok "stopped: no cgroup -> persisted only" || fail "stopped: $(echo "$out" | tail -3 | tr '\n' ' ')"
	[ "$(conf 706 cores)" = 1 ] && [ "$(conf 706 memory)" = 512 ] &&
		ok "stopped: 706.conf cores: 1 memory: 512" ||
		fail "stopped: 706.conf cores $(conf 706 cores) memory $(conf 706 memory)"
	if pct start 706 2>/tmp/start.err; then
		[ "$(cat "$CG/lxc/706/memory.max")" = $((512 * 1048576)) ] &&
			[ "$(cat "$CG/lxc/706/cpuset.cpus")" = 0 ] && nproc_in_is 706 1 &&
			ok "stopped: the next pct start applies it (memory.max 512 MiB, cpuset 0, nproc 1 inside)" ||
			fail "stopped: after pct start: memory.max $(cat "$CG/lxc/706/memory.max"), cpuset $(cat "$CG/lxc/706/cpuset.cpus"), nproc $(in_ct 706 nproc)"
		pct stop 706
	else
		fail "pct start 706 after the change: $(cat /tmp/start.err)"
	fi
fi

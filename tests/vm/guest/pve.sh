# pve.sh — the VM as a Proxmox host runs containers (sourced by /init and by scenarios).
#
# /init calls pve_host_setup once: the kernel modules (fuse, virtio-blk, ext4), securityfs
# for AppArmor, devpts, lxcfs on /var/lib/lxcfs (as Proxmox's lxcfs.service), and the
# systemd container's disk, when run.sh attached one, mounted as its rootfs storage.
# Scenarios use the rest: containers are created as Proxmox keeps them (a <vmid>.conf in
# $PVE, the pct stand-in's folder) and started and stopped through `pct` (tests/tools/pct
# with PCT_STAND_IN_LXC=1, which runs lxc-start/lxc-stop on a config generated the way
# pve-container generates it). Use container ids 6xx and up: the harness's imitation
# containers 101 and 102 are recreated before every scenario.
#
#   pve_ct_conf ID KIND [KEY: VALUE lines on stdin]   write $PVE/ID.conf for a busybox or
#                                                   debian container (unprivileged), its rootfs
#   in_ct ID CMD ARGS...      run CMD inside (lxc-attach; the test programs are at
#                             /usr/local/lxcscale inside)
#   pve_stop_all              stop every running container (the harness calls it after each
#                             scenario)

PVE=${PVE:-/etc/pve/lxc}
PVE_STORAGE=/var/lib/vz
PVE_DEBIAN_DISK=$PVE_STORAGE/debian-disk
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LXC=1 PCT_STAND_IN_STORAGE=$PVE_STORAGE

pve_host_setup() {
	PVE_SETUP_ERROR=""
	for m in $(cat /lxcscale/modules/order); do
		insmod "/lxcscale/modules/$m" 2>/tmp/insmod.err ||
			{ PVE_SETUP_ERROR="insmod $m: $(cat /tmp/insmod.err)"; return 1; }
	done
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null
	hostname pve
	mkdir -p "$PVE" "$PVE_STORAGE" /var/lib/lxcfs /var/log/lxc /run/lxc
	lxcfs /var/lib/lxcfs >/var/log/lxcfs.log 2>&1 &
	wait_until 10 grep -q ' /var/lib/lxcfs fuse' /proc/mounts ||
		{ PVE_SETUP_ERROR="lxcfs did not mount: $(head -3 /var/log/lxcfs.log)"; return 1; }
	# lxcfs mounts cgroup2 in its own mount namespace without options, and a cgroup2 mount in
	# the initial user namespace sets the hierarchy's flags for every mount: nsdelegate and
	# memory_recursiveprot are gone. Proxmox's systemd mounts with them; put them back.
	echo "info - vm: cgroup2 after lxcfs started: $(grep '^cgroup2 /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f4)" >&3
	mount -o remount,nsdelegate,memory_recursiveprot /sys/fs/cgroup ||
		{ PVE_SETUP_ERROR="cannot remount cgroup2 with nsdelegate,memory_recursiveprot"; return 1; }
	if [ -n "${VM_CT_DISK:-}" ]; then
		mkdir -p "$PVE_DEBIAN_DISK"
		wait_until 10 test -b "$VM_CT_DISK" # devtmpfs adds the node once virtio-blk probed it
		mount -t ext4 "$VM_CT_DISK" "$PVE_DEBIAN_DISK" ||
			{ PVE_SETUP_ERROR="cannot mount the systemd container's disk $VM_CT_DISK"; return 1; }
	fi
	return 0
}

# pve_ct_conf ID busybox|debian: the container's rootfs and <vmid>.conf; extra conf lines
# (e.g. "cpulimit: 1") come on stdin
pve_ct_conf() {
	_id=$1 _kind=$2
	case $_kind in
	busybox)
		rm -rf "$PVE_STORAGE/subvol-$_id-disk-0"
		cp -a /lxcscale/ct-busybox "$PVE_STORAGE/subvol-$_id-disk-0" || return 1
		_rootfs="local:subvol-$_id-disk-0,size=1G" _ostype=unmanaged ;;
	debian)
		[ -d "$PVE_DEBIAN_DISK/etc" ] || return 1
		_rootfs="local:debian-disk,size=1G" _ostype=debian ;;
	*) return 1 ;;
	esac
	{
		echo "arch: amd64"
		echo "hostname: ct$_id"
		echo "ostype: $_ostype"
		echo "rootfs: $_rootfs"
		echo "unprivileged: 1"
		cat
		# busybox's init halts on SIGUSR1 (LXC's default SIGPWR means nothing to it)
		[ "$_kind" = busybox ] && echo "lxc.signal.halt: SIGUSR1"
		echo "lxc.mount.entry: /lxcscale/tools usr/local/lxcscale none bind,ro,create=dir 0 0"
	} >"$PVE/$_id.conf"
}

in_ct() {
	_id=$1; shift
	lxc-attach -n "$_id" --clear-env -v PATH=/usr/local/lxcscale:/usr/sbin:/usr/bin:/sbin:/bin -- "$@"
}

pve_stop_all() {
	for _d in /sys/fs/cgroup/lxc/*/; do
		_id=$(basename "$_d")
		[ -f "$PVE/$_id.conf" ] && lxc-stop -n "$_id" -k >/dev/null 2>&1
	done
	return 0
}

# ---- a live daemon beside real containers (60-lxc, 61-lxc-systemd) --------------------------
# pve_live_daemon DIR: a pvestatd stand-in (every 2 s instead of 10, to contest the daemon's
# writes more often), then lxcscaled live with BPF, its REST API on 127.0.0.1:5000, pct
# calls logged to DIR/argv.log; sets W, U and DPID. Returns 1 (after a FAIL line) if the
# daemon does not get ready. The helpers below read $W and $U. Top-level YAML in
# PVE_DAEMON_YAML is added to its configuration (80-daemon: "bpf: {enabled: false}").
conf() { sed -n "s/^$2: //p" "$PVE/$1.conf"; }
cpu_max_is() { [ "$(cat "$CG/lxc/$1/cpu.max")" = "$2" ]; }
nproc_in_is() { [ "$(in_ct "$1" nproc 2>/dev/null)" = "$2" ]; }
log_has() { grep -q -- "$1" "$W/daemon.log"; }
get() { wget -q -O - "$U$1" 2>/dev/null; }
pct_sets() { grep -c "$(printf '^pct\tset\t%s\t' "$1")" "$W/argv.log" 2>/dev/null; }
memtotal_in() { in_ct "$1" cat /proc/meminfo | awk '/^MemTotal/ { print int($2 / 1024) }'; }

pve_live_daemon() {
	W=$1
	rm -rf "$W" && mkdir -p "$W"
	export PCT_STAND_IN_LOG=$W/argv.log
	ip link set lo up 2>/dev/null
	U=http://127.0.0.1:5000
	pvestatd --interval-ms 2000 >"$W/pvestatd.log" 2>&1 &
	cat >"$W/cfg.yaml" <<EOF
lock_file: $W/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: $W/suggestions.jsonl
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 100
ignore_lxc: [101, 102]
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 2
  cpu_scale_step: 1
  cpu_scale_up_threshold: 75
  cpu_scale_down_threshold: 30
  min_ram_mb: 64
  max_ram_mb: 320
  ram_scale_step_mb: 64
  ram_scale_up_threshold: 60
  ram_scale_down_threshold: 10
  cooldown_up_seconds: 0
  cooldown_down_seconds: 1
  smoothing_factor: 1
  total_cores: 64
  total_ram_mb: 65536
model:
  n_estimators: 20
persist:
  pct_path: /lxcscale/tools/pct
  debounce_ms: 50
server:
  host: 127.0.0.1
  port: 5000
${PVE_DAEMON_YAML:-}
EOF

	lxcscaled --config "$W/cfg.yaml" --foreground >"$W/daemon.log" 2>&1 &
	DPID=$!
	if ! wait_until 60 log_has "ready:"; then
		fail "lxcscaled starts live beside real LXC: $(tail -5 "$W/daemon.log" | tr '\n' '|')"
		return 1
	fi
	ok "lxcscaled starts live (journal, persister, REST API) on a host with lxcfs and LXC"
}

# ---- reaction: bursts inside a real container ------------------------------------------------
# pve_bursts ID COUNT SECONDS LABEL: container ID (1 core, max_cpu_cores 2, under the live
# daemon) runs COUNT bursts within SECONDS. One cpu_burner inside waits for /ctl/go<i>
# (polling with nanosleep: no process is forked between bursts, which would itself be load),
# stamps the burst's start as the burn begins (wall ms: the clock is the host's) and burns 2
# threads for 1.5 s (the decision comes within ~0.2 s); the next go waits until the daemon
# brought the container back to 1 core.
# The decision's time_ms is stamped right before its cgroup write (as in /api/v1/decisions).
# lxc-attach is itself load under emulation: the first go waits until the container is
# quiet after it. Prints burst start -> cpu.max write p50/p99 and, from the decisions' log
# lines, what woke each scale-up and how long after that event the decision came.
pve_bursts() {
	_id=$1 _cnt=$2 _secs=$3 _label=$4
	_ctl=$PVE_STORAGE/subvol-$_id-disk-0/ctl # a folder in its rootfs, /ctl inside
	mkdir -p "$_ctl" && chmod 755 "$_ctl" && rm -f "$_ctl"/go* "$_ctl/end"
	_out=$W/bursts-$_id.out
	in_ct "$_id" cpu_burner -w /ctl/go -n "$_cnt" -t 2 -s 1.5 >"$_out" 2>&1 &
	_loop=$!
	wait_until 20 grep -q ready "$_out" || fail "$_id reaction: the burner inside did not start: $(head -3 "$_out")"
	wait_until 20 cpu_max_is "$_id" "100000 100000" ||
		info "$_id reaction: still at $(cat "$CG/lxc/$_id/cpu.max") after lxc-attach"
	_log0=$(wc -l <"$W/daemon.log")
	_n=0 _end=$(($(date +%s) + _secs))
	while [ $_n -lt "$_cnt" ] && [ "$(date +%s)" -lt $_end ]; do
		_n=$((_n + 1))
		touch "$_ctl/go$_n"
		if ! wait_until 10 cpu_max_is "$_id" "200000 100000"; then
			fail "$_id reaction burst $_n: cpu.max not raised within 10 s: $(tail -2 "$_out" | tr '\n' '|') $(grep "$_id" "$W/daemon.log" | tail -4 | cut -c1-200 | tr '\n' '|')"
			break
		fi
		wait_until 20 cpu_max_is "$_id" "100000 100000" || { fail "$_id reaction burst $_n: cpu.max not lowered after it"; break; }
	done
	touch "$_ctl/end"
	grep -q 'loop: a tick' "$W/daemon.log" && info "$_id reaction: $(grep -m3 'loop: a tick' "$W/daemon.log" | cut -c25-200 | tr '\n' '|')"

	_ups=$(get "/api/v1/decisions?since=0&limit=1000" | tr '}' '\n' |
		sed -n "s/.*\"seq\":[0-9]*,\"time_ms\":\([0-9]*\),\"vmid\":$_id,\"cpu\":{\"change\":\"up\".*/\1/p")
	_lat="" _k=0
	for _st in $(sed -n 's/^start [0-9]* \([0-9]*\)$/\1/p' "$_out"); do
		for _up in $_ups; do
			[ "$_up" -ge "$_st" ] || continue
			_lat="$_lat $((_up - _st))" _k=$((_k + 1))
			if [ $((_up - _st)) -gt 1000 ]; then # what the daemon did meanwhile, to find out why
				_from=$(date -d @$((_st / 1000 - 1)) +%H:%M:%S) _to=$(date -d @$((_up / 1000 + 1)) +%H:%M:%S)
				info "$_id slow burst ($((_up - _st)) ms, $_from..$_to): $(awk -v a="$_from" -v b="$_to" -v id="$_id" \
					'{ t = substr($2, 1, 8) } t >= a && t <= b && (index($0, id) || /WARN|ERROR|tick|budget/)' "$W/daemon.log" |
					cut -c12-220 | head -12 | tr '\n' '|')"
			fi
			break
		done
	done
	if [ $_k -gt 0 ]; then
		info "$_id reaction, $_label: burst start inside -> cpu.max write $(pve_p50_p99 $_lat) over $_k bursts (first $(echo $_lat | cut -d' ' -f1) ms; tick 100 ms, TCG VM; all:$_lat)"
	fi

	# what woke each scale-up (the decision's log line says it); cpu_psi is PSI trigger -> decision
	sed -n "$((_log0 + 1)),\$p" "$W/daemon.log" | awk -v id="$_id" '
	index($0, "container " id ": CPU - Scale Up") {
		if (!match($0, /woken by: [a-z_]+/)) { bad++; next }
		c = substr($0, RSTART + 10, RLENGTH - 10)
		ms = ""
		if (match($0, /, [0-9.]+ ms before/)) ms = substr($0, RSTART + 2, RLENGTH - 12)
		print c, ms
	}
	END { if (bad) print "unnamed", bad }' >"$W/wakes-$_id"
	_wakes=""
	for _c in $(cut -d' ' -f1 "$W/wakes-$_id" | sort -u); do
		_ms=$(awk -v c="$_c" '$1 == c && $2 != "" { print $2 }' "$W/wakes-$_id")
		_kc=$(awk -v c="$_c" '$1 == c' "$W/wakes-$_id" | wc -l)
		if [ -n "$_ms" ]; then
			_wakes="$_wakes $_c $_kc (wake -> decision $(pve_p50_p99 $_ms));"
		else
			_wakes="$_wakes $_c $_kc;"
		fi
	done
	info "$_id reaction, $_label: what woke the scale-ups:$_wakes"
	# between 1 and 2 cores, a second scale-up with no scale-down between is the same change
	# decided again (it came from a stale allocation: a config read from before the first)
	_again=$(sed -n "$((_log0 + 1)),\$p" "$W/daemon.log" | awk -v id="$_id" '
	index($0, "container " id ": CPU - Scale Up") { if (up) n++; up = 1 }
	index($0, "container " id ": CPU - Scale Down") { up = 0 }
	END { print n + 0 }')
	[ "$_again" = 0 ] && ok "$_id reaction: no scale-up decided again before a scale-down" ||
		fail "$_id reaction: $_again scale-ups decided again right after one (no scale-down between)"
	[ -s "$W/wakes-$_id" ] && ! grep -q '^unnamed' "$W/wakes-$_id" &&
		ok "$_id reaction: every scale-up decision names what woke it ($(wc -l <"$W/wakes-$_id") decisions)" ||
		fail "$_id reaction: scale-ups without a wake named: $(grep '^unnamed' "$W/wakes-$_id") of $(wc -l <"$W/wakes-$_id")"
	[ $_k -ge "$_cnt" ] && ok "$_id reaction: $_k bursts inside a real container scaled up and back down" ||
		fail "$_id reaction: only $_k of $_n bursts matched a scale-up ($(grep -c '^start' "$_out") started)"
	kill $_loop 2>/dev/null
}

# pve_p50_p99 N...: "p50 X ms, p99 Y ms" (nearest rank)
pve_p50_p99() {
	_s=$(for _v in "$@"; do echo "$_v"; done | sort -n)
	_c=$#
	_i99=$(((_c * 99 + 99) / 100)); [ $_i99 -gt $_c ] && _i99=$_c
	echo "p50 $(echo "$_s" | sed -n "$(((_c + 1) / 2))p") ms, p99 $(echo "$_s" | sed -n "${_i99}p") ms"
}

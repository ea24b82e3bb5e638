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
# daemon does not get ready. The helpers below read $W and $U.
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
EOF

	lxcscaled --config "$W/cfg.yaml" --foreground >"$W/daemon.log" 2>&1 &
	DPID=$!
	if ! wait_until 60 log_has "ready:"; then
		fail "lxcscaled starts live beside real LXC: $(tail -5 "$W/daemon.log" | tr '\n' '|')"
		return 1
	fi
	ok "lxcscaled starts live (BPF, journal, persister, REST API) on a host with lxcfs and LXC"
}

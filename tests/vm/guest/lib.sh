# lib.sh — helpers for VM scenarios (sourced: `. /lxcscale/lib.sh`).
#
# Results: print one line per check, anchored at the line start:
#   ok - what           FAIL - what: why          skip - what: reason
#   info - a measured figure (not counted)
# Containers are Proxmox-shaped: limits on /sys/fs/cgroup/lxc/<vmid>, tasks in
# /sys/fs/cgroup/lxc/<vmid>/ns. The harness creates the standard ones ($VM_CTS) before
# every scenario and removes every container after it, so a scenario may change limits
# freely; create extra ones with ct_create (use ids of your own, e.g. 4xx for issue 4).

CG=/sys/fs/cgroup
CT_CONTROLLERS="+cpu +memory +cpuset +io +pids"

ok()   { echo "ok - $*"; }
fail() { echo "FAIL - $*"; }
skip() { echo "skip - $*"; }
info() { echo "info - $*"; }

# check "what" CMD ARGS...: ok when CMD exits 0, else FAIL with its exit status
check() {
	_what=$1; shift
	if "$@"; then ok "$_what"; else fail "$_what: exit $?"; fi
}

# wait_until SECONDS CMD ARGS...: poll CMD every 0.1 s until it succeeds; 1 on timeout
wait_until() {
	_end=$(( $(date +%s) + $1 )); shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		usleep 100000
	done
	return 0
}

# ct_create ID: lxc/ID with controllers for ns, and lxc/ID/ns
ct_create() {
	mkdir -p "$CG/lxc/$1" || return 1
	echo "$CT_CONTROLLERS" > "$CG/lxc/$1/cgroup.subtree_control" || return 1
	mkdir -p "$CG/lxc/$1/ns"
}

# ct_spawn ID CMD ARGS...: run CMD in the background inside lxc/ID/ns; prints its pid
ct_spawn() {
	_id=$1; shift
	sh -c 'echo 0 > "$0" && exec "$@"' "$CG/lxc/$_id/ns/cgroup.procs" "$@" </dev/null >/dev/null 2>&1 &
	echo $!
}

# ct_populated ID: true while any process is in the container
ct_populated() { grep -q '^populated 1' "$CG/lxc/$1/cgroup.events" 2>/dev/null; }

# ct_remove ID: kill everything in the container and remove its cgroups
ct_remove() {
	_d=$CG/lxc/$1
	[ -d "$_d" ] || return 0
	echo 1 > "$_d/cgroup.kill" 2>/dev/null
	wait_until 10 sh -c "! grep -q '^populated 1' '$_d/cgroup.events'" || return 1
	find "$_d" -depth -type d -exec rmdir {} \; 2>/dev/null
	[ ! -d "$_d" ]
}

# ct_read ID FILE: a container file's contents
ct_read() { cat "$CG/lxc/$1/$2"; }

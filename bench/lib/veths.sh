# bench/lib/veths.sh — sourced by benches that need Proxmox-named veth pairs (not a bench
# itself: bench/run.sh runs bench/*.sh only).
#
#   veths_create FIRST_VMID COUNT   creates veth<vmid>i0 (host side, as Proxmox names it)
#                                   with peer lxsv<vmid>p for each vmid, in one `ip -batch`;
#                                   deletes them when the shell exits. Fails (status 1)
#                                   when they cannot be created here.

veths_delete() {
	local first=$1 n=$2 batch i
	batch=$(mktemp)
	for ((i = 0; i < n; i++)); do echo "link del veth$((first + i))i0"; done >"$batch"
	ip -force -batch "$batch" >/dev/null 2>&1
	rm -f "$batch"
}

veths_create() {
	local first=$1 n=$2 batch i
	command -v ip >/dev/null && [ "$(id -u)" = 0 ] || return 1
	batch=$(mktemp)
	for ((i = 0; i < n; i++)); do
		echo "link add veth$((first + i))i0 type veth peer name lxsv$((first + i))p"
	done >"$batch"
	trap "veths_delete $first $n" EXIT
	ip -batch "$batch" >/dev/null 2>&1
	local rc=$?
	rm -f "$batch"
	return $((rc != 0))
}

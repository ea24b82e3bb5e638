#!/bin/bash
# bench/ctextra.sh BUILD — a container's network counters as the daemon reads them at every
# sample (its veth peers' rx_bytes and tx_bytes, held open and read with pread) against
# open/read/close per file, on 1 000 real veth pairs named as Proxmox names them
# (veth<vmid>i0), created here with `ip -batch` and deleted afterwards. Needs root.
set -uo pipefail
BUILD=${1:-build}
bin=$BUILD/bench/ctextra
N=${CTEXTRA_CONTAINERS:-1000}
FIRST=${CTEXTRA_FIRST_VMID:-70000}
[ -x "$bin" ] || { echo "bench ctextra: $bin not built (make benches)"; exit 1; }
. "$(dirname "$0")/lib/veths.sh"
if ! veths_create "$FIRST" "$N"; then
	echo "bench ctextra: skipped (needs root, iproute2 and veth pairs)"
	exit 0
fi
echo "setup: $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo))"
"$bin" -n "$N" -b "$FIRST" -r 21

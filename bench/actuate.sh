#!/bin/bash
# bench/actuate.sh — journal cost per change (on /var/tmp, a disk, and /dev/shm, memory)
# and a burst of persists through the persister vs the reference's one-pct-per-change.
set -uo pipefail
BUILD=${1:-${BUILD:-build}}
cd "$(dirname "$0")/.."
if [ ! -x "$BUILD/bench/actuate" ]; then echo "bench actuate: $BUILD/bench/actuate not built"; exit 1; fi
PCT=$BUILD/tests/tools/pct
[ -x "$PCT" ] || { echo "bench actuate: $PCT not built (make tests)"; exit 1; }
echo "host: $(nproc) CPUs, $(uname -r); /var/tmp on $(df --output=fstype /var/tmp | tail -1)"
timeout -k 5 300 "$BUILD/bench/actuate" -d /var/tmp -p "$(realpath "$PCT")" -n 2000 -c 10
timeout -k 5 120 "$BUILD/bench/actuate" -d /dev/shm -n 2000
# the same burst with a pct that costs 250 ms per call (the real one: ~0.5-2 s, unmeasured here)
timeout -k 5 300 "$BUILD/bench/actuate" -J -d /var/tmp -p "$(realpath "$PCT")" -n 200 -c 10 -D 250

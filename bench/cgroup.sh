#!/bin/bash
# bench/cgroup.sh BUILD — µs for one full container sample and for 1000 containers,
# on a fake tree in tmpfs (all 16 files) and on real cgroups under the host's cgroup2
# mount (only the files that exist there), each next to the open/read/close baseline.
set -uo pipefail
BUILD=${1:-build}
bin=$BUILD/bench/cgroup
[ -x "$bin" ] || { echo "bench cgroup: $bin not built (make benches)"; exit 1; }
echo "setup: $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), median of 21 rounds"
real=
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ] && [ -w "$m" ]; then real=$m; break; fi
done
fake=/dev/shm
[ -d "$fake" ] && [ -w "$fake" ] || fake=${TMPDIR:-/tmp}
args=(-n 1000 --fake "$fake")
[ -n "$real" ] && [ "$(id -u)" = 0 ] && args+=(--real "$real")
timeout 300 "$bin" "${args[@]}"

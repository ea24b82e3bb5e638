# Shared by the tests/integration/*.sh that run the real lxcscaled on this host's cgroup v2
# tree (daemon_dryrun, daemon_full, faults_daemon, valgrind_daemon). Sourced, never run on
# its own. It moves to the top of the tree, makes BUILD absolute (the daemon and its config
# outlive the caller's cwd), defines the result lines (`ok`, `bad`, `skp` take the whole
# message; `finish` prints "N passed, N failed, N skipped" and exits non-zero on a failure)
# and `find_cgroup2_mount`, which sets MOUNT to the cgroup v2 mount or leaves it empty.
BUILD=${BUILD:-build}
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
cd "$TOP" || exit 1
BUILD=$(cd "$BUILD" && pwd)

pass=0 fail=0 skip=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; fail=$((fail + 1)); }
skp() { echo "skip - $*"; skip=$((skip + 1)); }
finish() { echo "$pass passed, $fail failed, $skip skipped"; exit $((fail > 0)); }

# a free loopback port (the kernel picks it; the daemon binds it a moment later)
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

find_cgroup2_mount() {
	local m
	MOUNT=""
	for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ]; then MOUNT=$m; return 0; fi
	done
	return 1
}

# remove_test_cgroup DIR: rmdir DIR's child cgroups, then DIR, retrying for up to 5 s
# (a just-killed task can keep a cgroup busy briefly).
remove_test_cgroup() {
	local i d
	for ((i = 0; i < 50; i++)); do
		for d in "$1"/*/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

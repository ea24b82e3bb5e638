#!/bin/bash
# unit_sandbox.sh — does lxcscaled run inside the sandbox its systemd unit declares?
#
# There is no systemd manager on the test machines, so this builds the same sandbox by
# hand from conf/lxcscaled.service itself: a private mount namespace in which every mount
# is read-only except /proc, /dev and the unit's ReadWritePaths=, StateDirectory= and
# LogsDirectory= (ProtectSystem=strict + ProtectKernelTunables=yes), a private /tmp and
# /run (with the lock file that the unit's tmpfiles entry creates), and the unit's
# CapabilityBoundingSet= with no_new_privs (setpriv). /var/log and /var/lib are temporary
# directories there, so the host's are never written. The daemon then runs with its
# default paths on a real container-shaped cgroup (a process in <root>/101), loads its BPF
# programs, pins its maps, opens PSI triggers, writes the lock, data_file and its state,
# and must log no permission or read-only error. A control run with /var/log left
# read-only must fail to write data_file, so the check can fail.
set -uo pipefail
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
UNIT=$TOP/conf/lxcscaled.service

pass=0 fail=0 skip=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL - $1"; fail=$((fail + 1)); }
skp() { echo "skip - $1"; skip=$((skip + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "$pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; exit; }

if [ "$(id -u)" != 0 ]; then skp "the unit's sandbox: needs root"; finish; fi
for t in unshare setpriv; do
	command -v $t >/dev/null || { skp "the unit's sandbox: $t is missing"; finish; }
done
CGMOUNT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -z "$CGMOUNT" ]; then skp "the unit's sandbox: no cgroup v2 mount"; finish; fi

T=$(mktemp -d /var/tmp/lxcscale-test-sandbox.XXXXXX)
CG=$CGMOUNT/lxcscale-test-sandbox-$$
HOLDER=
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	[ -d "$CG/101" ] && rmdir "$CG/101"
	[ -d "$CG" ] && rmdir "$CG"
	rm -rf "/sys/fs/bpf/lxcscale-test-sandbox-$$"
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
# The sandbox mounts a private /tmp, so a checkout under /tmp would vanish inside it:
# run a copy of the daemon from the test folder (on /var/tmp, read-only in the sandbox).
install -m 0755 "$BUILD/lxcscaled" "$T/lxcscaled"

# what the unit says
rw_paths=$(sed -n 's/^ReadWritePaths=//p' "$UNIT")
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
state=$(sed -n 's/^StateDirectory=//p' "$UNIT")
logs=$(sed -n 's/^LogsDirectory=//p' "$UNIT")
setpriv_caps=-all
for c in $caps; do c=${c#CAP_}; setpriv_caps="$setpriv_caps,+${c,,}"; done
check "the unit declares ProtectSystem=strict, ProtectKernelTunables=yes, NoNewPrivileges=yes and its paths" \
	sh -c "grep -qx ProtectSystem=strict '$UNIT' && grep -qx ProtectKernelTunables=yes '$UNIT' && \
		grep -qx NoNewPrivileges=yes '$UNIT' && [ -n '$rw_paths' ] && [ -n '$caps' ] && [ '$state' = lxcscale ] && [ '$logs' = lxcscale ]"

# a container-shaped cgroup with a process in it
mkdir -p "$CG/101"
sleep 600 &
HOLDER=$!
echo "$HOLDER" >"$CG/101/cgroup.procs"
PORT=$((20000 + $$ % 20000))
cat >"$T/lxcscale.yaml" <<EOF
log_level: DEBUG
metrics_interval_seconds: 1
cgroup:
  root: $(basename "$CG")
bpf:
  pin_path: /sys/fs/bpf/lxcscale-test-sandbox-$$
server:
  port: $PORT
EOF

# inner.sh RW_PATHS...: builds the sandbox in the current (new) mount namespace, runs the
# daemon for a few seconds, and reports what it finds inside.
cat >"$T/inner.sh" <<'EOF'
set -u
T=$1 CAPS=$2 BIN=$3; shift 3
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs /run && install -m 0644 /dev/null /run/lxcscale.lock   # tmpfiles
mount -t tmpfs -o mode=1777 tmpfs /tmp                                                  # PrivateTmp
mkdir -p "$T/varlog/lxcscale" "$T/varlib/lxcscale"
mount --bind "$T/varlog" /var/log && mount --bind "$T/varlib" /var/lib
rw=("$@" /var/lib/lxcscale /var/log/lxcscale)
for p in "${rw[@]}"; do
	p=${p#-}
	[ -e "$p" ] && mount --rbind "$p" "$p"
done
under_rw() { local m=$1 p; for p in "${rw[@]}"; do p=${p#-}; case $m in "$p" | "$p"/*) return 0 ;; esac; done; return 1; }
awk '{ print $5 }' /proc/self/mountinfo | sort -u | while read -r m; do
	case $m in /proc | /proc/* | /dev | /dev/*) continue ;; esac
	under_rw "$m" && continue
	mount -o remount,bind,ro "$m" 2>/dev/null
done
exec 3>/var/log/lxcscale/daemon-test.log   # LogsDirectory: $T/varlog/lxcscale outside
touch /etc/.lxcscale-rw-probe 2>/dev/null && { echo "SANDBOX-BROKEN: /etc writable"; rm -f /etc/.lxcscale-rw-probe; }
setpriv --bounding-set="$CAPS" --inh-caps=-all --no-new-privs -- \
	"$BIN" --foreground --config "$T/lxcscale.yaml" >&3 2>&3 &
pid=$!
for i in $(seq 100); do grep -q 'ready:' /var/log/lxcscale/daemon-test.log 2>/dev/null && break; sleep 0.1; done
sleep 3
echo "lock: $(cat /run/lxcscale.lock) pid: $pid"
ls /sys/fs/bpf/ | grep -q "^$(basename "$(sed -n 's/^  pin_path: //p' "$T/lxcscale.yaml")")\$" && echo "pins: $(ls "$(sed -n 's/^  pin_path: //p' "$T/lxcscale.yaml")" | tr '\n' ' ')"
grep -c '' /proc/$pid/status >/dev/null && echo "caps: $(grep CapBnd /proc/$pid/status)"
kill -TERM $pid
wait $pid
echo "exit: $?"
EOF

run_sandbox() { # label caps rw-paths...
	local label=$1 with_caps=$2; shift 2
	unshare --mount --propagation private bash "$T/inner.sh" "$T" "$with_caps" "$T/lxcscaled" "$@" \
		>"$T/$label.out" 2>&1
	mv "$T/varlog/lxcscale/daemon-test.log" "$T/$label.log" 2>/dev/null
}

# shellcheck disable=SC2086
run_sandbox full "$setpriv_caps" $rw_paths
out=$T/full.out log=$T/full.log
sed 's/^/# /' "$out"
check "the sandbox is read-only outside ReadWritePaths" sh -c "! grep -q SANDBOX-BROKEN '$out'"
check "lxcscaled starts in the unit's sandbox and reaches ready" grep -q 'ready:' "$log"
check "it ran with exactly the unit's capability bounding set" \
	sh -c "want=\$(setpriv --bounding-set='$setpriv_caps' -- grep CapBnd /proc/self/status); grep -q \"caps: \$want\" '$out'"
check "no permission, read-only or capability error in its log" \
	sh -c "[ -s '$log' ] && ! grep -Eqi 'read-only|permission denied|operation not permitted|EPERM|EROFS' '$log'"
check "the lock file (/run/lxcscale.lock, from tmpfiles) held its PID" \
	sh -c "grep -Eq '^lock: ([0-9]+) pid: \\1\$' '$out'"
if [ -r /sys/kernel/btf/vmlinux ]; then
	check "BPF programs attached and maps pinned under the writable /sys/fs/bpf" \
		sh -c "grep -q 'BPF: attached' '$log' && grep -q '^pins: .*lxs_' '$out'"
else
	skp "BPF in the sandbox: no kernel BTF"
fi
check "it sampled the container and wrote data_file into /var/log (replaced by a rename)" \
	sh -c "grep -q '\"101\"' '$T/varlog/lxc_metrics.json'"
check "it stopped cleanly on SIGTERM" grep -qx 'exit: 0' "$out"

# control: the same without /var/log writable must fail to write data_file
rm -f "$T/varlog/lxc_metrics.json"
rw_no_log=$(printf '%s\n' $rw_paths | grep -vx /var/log | paste -sd' ' -)
# shellcheck disable=SC2086
run_sandbox control "$setpriv_caps" $rw_no_log
check "control: with /var/log read-only, data_file is not written and the log says why" \
	sh -c "[ ! -e '$T/varlog/lxc_metrics.json' ] && grep -qi 'read-only' '$T/control.log'"

# controls for two capabilities: without them the daemon still runs, with less
# shellcheck disable=SC2086
run_sandbox nobpf "${setpriv_caps/,+bpf/}" $rw_paths
check "control: without CAP_BPF no BPF program loads (cgroup files only) and the log says so" \
	sh -c "grep -q 'ready:' '$T/nobpf.log' && ! grep -q 'BPF: attached' '$T/nobpf.log' && grep -q 'BPF off' '$T/nobpf.log'"
if grep -q 'PSI trigger window 2000 ms' "$log"; then
	# the kernel honours CAP_SYS_RESOURCE only in the initial user namespace
	skp "PSI windows below 2 s with CAP_SYS_RESOURCE: this kernel forces 2 s here even with it (not the initial user namespace)"
else
	check "PSI triggers opened with the configured 500 ms window (CAP_SYS_RESOURCE)" \
		sh -c "! grep -q 'no .* PSI trigger' '$log'"
	# shellcheck disable=SC2086
	run_sandbox nores "${setpriv_caps/,+sys_resource/}" $rw_paths
	check "control: without CAP_SYS_RESOURCE the kernel forces 2 s PSI windows" \
		grep -q 'PSI trigger window 2000 ms' "$T/nores.log"
fi
finish

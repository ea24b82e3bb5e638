#!/bin/bash
# The stand-in pct (tests/tools/pct.c) behaves like Proxmox's for what lxcscale calls:
# config edits in PVE's format, single/double-dash options, lock refusal with the real text,
# snapshots, clone, start/stop/destroy, resize, the argv log, and the injected slowness,
# failure and hang. Other tests trust it, so it is tested on its own here.
set -u
BUILD=${BUILD:-build}
PCT=${LXCSCALE_TOP:-.}/$BUILD/tests/tools/pct
. "$(dirname "$0")/lib/report.sh"
need_bin "$PCT"
dir=$(mktemp -d /tmp/lxcscale-test-pct-XXXXXX)
trap 'rm -rf "$dir"' EXIT
export PCT_STAND_IN_DIR=$dir/etc PCT_STAND_IN_LOG=$dir/argv.log
mkdir -p "$PCT_STAND_IN_DIR"
conf=$PCT_STAND_IN_DIR/104.conf
cat >"$conf" <<'EOF'
#web server
arch: amd64
cores: 2
hostname: web
memory: 2048
rootfs: local-lvm:vm-104-disk-0,size=8G
swap: 512
lxc.cgroup2.cpuset.cpus: 0-1
EOF
echo running >"$PCT_STAND_IN_DIR/104.state"

"$PCT" set 104 -cores 4 && "$PCT" set 104 --memory 4096 && "$PCT" set 104 --swap=256
check "set with -opt, --opt and --opt=value" \
	'grep -qx "cores: 4" "$conf" && grep -qx "memory: 4096" "$conf" && grep -qx "swap: 256" "$conf"'
check "raw lxc.* line and description kept" \
	'grep -qx "lxc.cgroup2.cpuset.cpus: 0-1" "$conf" && grep -qx "#web server" "$conf"'

out=$("$PCT" config 104)
want=$'description: web server\narch: amd64\ncores: 4\nhostname: web\nmemory: 4096\nrootfs: local-lvm:vm-104-disk-0,size=8G\nswap: 256\nlxc.cgroup2.cpuset.cpus: 0-1'
check "config prints description first, keys sorted, raw keys last" '[ "$out" = "$want" ]'
check "status prints running" '[ "$("$PCT" status 104)" = "status: running" ]'

err=$("$PCT" set 104 -cores abc 2>&1); rc=$?
check "bad integer: 400 text, exit 255" \
	'[ $rc -eq 255 ] && grep -q "^400 Parameter verification failed." <<<"$err" && grep -q "^cores: type check (.integer.) failed - got .abc." <<<"$err"'
err=$("$PCT" set 104 -bogus 1 2>&1); rc=$?
check "unknown option refused" '[ $rc -eq 255 ] && grep -q "^Unknown option: bogus" <<<"$err"'
err=$("$PCT" config 999 2>&1); rc=$?
check "missing config: real message" \
	"[ \$rc -eq 255 ] && [ \"\$err\" = \"Configuration file 'nodes/pve/lxc/999.conf' does not exist\" ]"

"$PCT" set 104 --lock backup
before=$(cat "$conf")
err=$("$PCT" set 104 -cores 8 2>&1); rc=$?
check "locked: 'CT is locked (backup)', exit 255, config unchanged" \
	'[ $rc -eq 255 ] && [ "$err" = "CT is locked (backup)" ] && [ "$(cat "$conf")" = "$before" ]'
err=$("$PCT" snapshot 104 snapx 2>&1); rc=$?
check "locked: snapshot refused too" '[ $rc -eq 255 ] && [ "$err" = "CT is locked (backup)" ]'
check "list shows the lock" \
	'"$PCT" list | grep -qE "^104 +running +backup +web"'
"$PCT" unlock 104
check "unlock removes lock:" '! grep -q "^lock:" "$conf"'

"$PCT" snapshot 104 snap1 --description "first one" && "$PCT" set 104 -cores 6 && "$PCT" snapshot 104 snap2
check "snapshot sections written with parent chain" \
	'grep -qx "\[snap1\]" "$conf" && grep -qx "\[snap2\]" "$conf" && grep -qx "parent: snap2" "$conf" && grep -qx "parent: snap1" "$conf"'
ls=$("$PCT" listsnapshot 104)
check "listsnapshot shows the chain and 'You are here!'" \
	'grep -q "snap1" <<<"$ls" && grep -q "snap2" <<<"$ls" && grep -q "You are here!" <<<"$ls"'
err=$("$PCT" snapshot 104 snap1 2>&1); rc=$?
check "duplicate snapshot refused" "[ \$rc -eq 255 ] && [ \"\$err\" = \"snapshot name 'snap1' already used\" ]"
err=$("$PCT" snapshot 104 -rf 2>&1); rc=$?
check "'-rf' is an option, not a name" '[ $rc -eq 255 ] && grep -q "Unknown option: rf" <<<"$err"'
"$PCT" rollback 104 snap1
check "rollback restores the snapshot's values" \
	'[ "$("$PCT" config 104 | grep ^cores)" = "cores: 4" ] && [ "$("$PCT" status 104)" = "status: stopped" ]'
"$PCT" delsnapshot 104 snap1
check "delsnapshot removes the section and re-parents" \
	'! grep -qx "\[snap1\]" "$conf" && ! grep -q "^parent: snap1" "$conf"'
err=$("$PCT" delsnapshot 104 nope 2>&1); rc=$?
check "delsnapshot of a missing snapshot" "[ \$rc -eq 255 ] && [ \"\$err\" = \"snapshot 'nope' does not exist\" ]"

"$PCT" clone 104 105 --hostname copy --snapname snap2
check "clone from a snapshot with a new hostname" \
	'grep -qx "hostname: copy" "$PCT_STAND_IN_DIR/105.conf" && grep -qx "cores: 6" "$PCT_STAND_IN_DIR/105.conf" && ! grep -q "^\[" "$PCT_STAND_IN_DIR/105.conf"'
err=$("$PCT" clone 104 105 2>&1); rc=$?
check "clone onto an existing id refused" '[ $rc -eq 255 ] && grep -q "already exists" <<<"$err"'
"$PCT" start 105
err=$("$PCT" destroy 105 2>&1); rc=$?
check "destroy of a running CT refused" '[ $rc -eq 255 ] && [ "$err" = "CT 105 is running - destroy failed" ]'
"$PCT" stop 105 && "$PCT" destroy 105
check "stop then destroy removes the config" '[ ! -e "$PCT_STAND_IN_DIR/105.conf" ]'

"$PCT" resize 104 rootfs +2G
check "resize +2G: 8G -> 10G" '"$PCT" config 104 | grep -qx "rootfs: local-lvm:vm-104-disk-0,size=10G"'
err=$("$PCT" resize 104 rootfs 4G 2>&1); rc=$?
check "resize cannot shrink" '[ $rc -eq 255 ] && [ "$err" = "unable to shrink disk size" ]'

: >"$PCT_STAND_IN_LOG"
"$PCT" set 104 --description $'a\tb' >/dev/null 2>&1
"$PCT" config 104 >/dev/null
printf 'pct\tset\t104\t--description\ta\\tb\npct\tconfig\t104\n' >"$dir/want.log"
check "argv log: one tab-separated line per call, tabs escaped" 'cmp -s "$PCT_STAND_IN_LOG" "$dir/want.log"'

before=$(cat "$conf")
err=$(PCT_STAND_IN_FAIL=7 PCT_STAND_IN_FAIL_MESSAGE="boom" "$PCT" set 104 -cores 3 2>&1); rc=$?
check "injected failure: status and message, nothing changed" \
	'[ $rc -eq 7 ] && [ "$err" = "boom" ] && [ "$(cat "$conf")" = "$before" ]'
PCT_STAND_IN_FAIL=7 PCT_STAND_IN_ONLY=snapshot,clone "$PCT" set 104 -cores 3; rc=$?
check "PCT_STAND_IN_ONLY limits the injection to named subcommands" '[ $rc -eq 0 ] && grep -qx "cores: 3" "$conf"'
timeout 1 env PCT_STAND_IN_HANG=1 "$PCT" set 104 -cores 5; rc=$?
check "injected hang is killed by timeout, nothing changed" '[ $rc -eq 124 ] && grep -qx "cores: 3" "$conf"'
start=$(date +%s%N)
PCT_STAND_IN_DELAY_MS=300 "$PCT" status 104 >/dev/null
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check "injected delay is at least the requested time" '[ $elapsed -ge 300 ]'

# concurrent writers of different keys all land (flock + rename)
for k in cores memory swap cpuunits; do
	case $k in cores) v=7;; memory) v=1024;; swap) v=128;; cpuunits) v=200;; esac
	"$PCT" set 104 --$k $v &
done
wait
check "concurrent sets all land" \
	'grep -qx "cores: 7" "$conf" && grep -qx "memory: 1024" "$conf" && grep -qx "swap: 128" "$conf" && grep -qx "cpuunits: 200" "$conf"'

ln -s "$PCT" "$dir/pvesh"; ln -s "$PCT" "$dir/pvecm"
check "pvesh get /nodes/pve/status prints JSON" '"$dir/pvesh" get /nodes/pve/status | grep -q "\"memory\""'
check "pvesh with an unknown node fails" '! "$dir/pvesh" get /nodes/other/status 2>/dev/null'
check "pvecm status" '"$dir/pvecm" status | grep -q "^Quorate: *Yes"'

report

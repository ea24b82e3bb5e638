#!/bin/bash
# package.sh — the Debian package, end to end: build it (make deb: dpkg-buildpackage +
# lintian), install it into a fresh Debian 12 root made with debootstrap, check what it
# installed (the configuration passes lxcscaled --check-config, the unit passes
# systemd-analyze verify, migrate-config works on a reference file, logrotate accepts its
# rules, completion completes), then purge it and compare the root's file list with the
# one from before the install: nothing may be left behind.
#
# The Debian root is cached in /var/cache/lxcscale-pkgtest/root-<key> (key: the packages it
# holds, i.e. the .deb's run-time dependencies + systemd + logrotate), built once with
# debootstrap from deb.debian.org (about 1.5 min) and copied for each run, so the install
# always starts from a pristine root. Needs root, debootstrap and dpkg-buildpackage.
set -uo pipefail
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
CACHE=${LXCSCALE_PKGTEST_CACHE:-/var/cache/lxcscale-pkgtest}
MIRROR=${LXCSCALE_PKGTEST_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

pass=0 fail=0 skip=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL - $1"; fail=$((fail + 1)); }
skp() { echo "skip - $1"; skip=$((skip + 1)); }
check() { # what command...
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	skp "the package test: needs root (chroot, debootstrap)"
	finish
fi
for t in debootstrap dpkg-buildpackage lintian; do
	if ! command -v "$t" >/dev/null 2>&1; then
		skp "the package test: $t is missing (make deps)"
		finish
	fi
done

WORK=$(mktemp -d /var/tmp/lxcscale-pkgtest.XXXXXX)
R=$WORK/root
cleanup() {
	mountpoint -q "$R/proc" 2>/dev/null && umount "$R/proc"
	rm -rf "$WORK"
}
trap cleanup EXIT

# ---- build ------------------------------------------------------------------------------
start=$(date +%s)
if (cd "$TOP" && DEB_BUILD_OPTIONS=nocheck tools/deb.sh) >"$WORK/deb.log" 2>&1; then
	ok "make deb builds the package and lintian reports no error or warning ($(($(date +%s) - start)) s)"
else
	bad "make deb"
	sed 's/^/# /' "$WORK/deb.log" | tail -30
	finish
fi
DEB=$(ls "$TOP"/build/deb/lxcscale_*.deb | head -n1)
# lintian's informational tags are overridden with a reason (debian/lxcscale.lintian-overrides)
# (stderr only says that lintian runs as root)
lintian --pedantic --info "$DEB" >"$WORK/lintian.log" 2>"$WORK/lintian.err"
check "lintian: no tag at all, pedantic and info included" test ! -s "$WORK/lintian.log"
[ -s "$WORK/lintian.log" ] && sed 's/^/# /' "$WORK/lintian.log"

# ---- the Debian 12 root ------------------------------------------------------------------
deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g' | grep -v '^$' | sort -u)
include=$(printf '%s\n' $deps systemd logrotate | sort -u | paste -sd, -)
key=$(printf '%s %s' "$SUITE" "$include" | sha256sum | cut -c1-12)
BASE=$CACHE/root-$key
if [ ! -d "$BASE" ]; then
	mkdir -p "$CACHE"
	rm -rf "$BASE.tmp"
	start=$(date +%s)
	if timeout 900 debootstrap --variant=minbase --include="$include" "$SUITE" "$BASE.tmp" "$MIRROR" \
		>"$WORK/debootstrap.log" 2>&1 && mv "$BASE.tmp" "$BASE"; then
		ok "debootstrap $SUITE with $include ($(($(date +%s) - start)) s, cached in $BASE)"
		# roots made for other dependency lists are stale now
		find "$CACHE" -mindepth 1 -maxdepth 1 -name 'root-*' ! -name "root-$key" -exec rm -rf {} +
	else
		bad "debootstrap $SUITE"
		tail -20 "$WORK/debootstrap.log" | sed 's/^/# /'
		rm -rf "$BASE.tmp"
		finish
	fi
fi
cp -a "$BASE" "$R"
mount -t proc proc "$R/proc"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

# A host that ran LXC AutoScale ML: its configuration is there before the install.
mkdir -p "$R/etc/lxc_autoscale_ml"
cp "$TOP/tests/data/lxc_autoscale_ml.yaml" "$R/etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml"

# Everything but the kernel's file systems; dpkg's logs and ldconfig's cache change on any
# install, and systemd-analyze (the test's, not the package's) leaves
# /run/systemd/systemd-units-load behind.
file_list() {
	(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \) -prune -o -print |
		grep -vE '^\./(var/log/dpkg\.log|var/log/alternatives\.log|var/cache/ldconfig/aux-cache|run/systemd/systemd-units-load)$' | sort)
}
file_list >"$WORK/before"
cp /dev/null "$WORK/before-status" && cp "$R/var/lib/dpkg/status" "$WORK/before-status"

# ---- install ------------------------------------------------------------------------------
cp "$DEB" "$R/lxcscale.deb"
in_root dpkg -i /lxcscale.deb >"$WORK/install.log" 2>&1
rc=$?
rm -f "$R/lxcscale.deb"
check "dpkg -i installs it into a fresh Debian 12 root" test "$rc" -eq 0
[ "$rc" -ne 0 ] && sed 's/^/# /' "$WORK/install.log"
check "postinst points to lxcscale migrate-config when lxc_autoscale_ml.yaml exists" \
	grep -q 'lxcscale migrate-config --output /etc/lxcscale/lxcscale.yaml --force' "$WORK/install.log"
check "the daemon, the CLI, the unit, the tmpfiles and logrotate files, the man pages and completion are installed" \
	test -x "$R/usr/sbin/lxcscaled" -a -x "$R/usr/bin/lxcscale" -a -f "$R/lib/systemd/system/lxcscaled.service" \
	-a -f "$R/usr/lib/tmpfiles.d/lxcscale.conf" -a -f "$R/etc/logrotate.d/lxcscale" \
	-a -f "$R/usr/share/man/man8/lxcscaled.8.gz" -a -f "$R/usr/share/man/man1/lxcscale.1.gz" \
	-a -f "$R/usr/share/man/man5/lxcscale.yaml.5.gz" -a -f "$R/usr/share/bash-completion/completions/lxcscale"
check "/etc/lxcscale/lxcscale.yaml is a conffile" \
	sh -c "chroot '$R' dpkg-query -W -f='\${Conffiles}' lxcscale | grep -q ' /etc/lxcscale/lxcscale.yaml '"
check "lxcscaled --check-config /etc/lxcscale/lxcscale.yaml passes inside the root" \
	sh -c "chroot '$R' lxcscaled --check-config /etc/lxcscale/lxcscale.yaml | grep -q 'configuration OK (0 warnings)'"
check "the installed lxcscaled runs with only the package's dependencies (--version)" \
	sh -c "chroot '$R' lxcscaled --version | grep -qx 'lxcscaled $(cat "$TOP/VERSION")'"
check "postinst created the lock file the unit makes writable (tmpfiles)" test -f "$R/run/lxcscale.lock"
check "the unit is neither enabled nor started by the install" \
	test ! -e "$R/etc/systemd/system/multi-user.target.wants/lxcscaled.service"

in_root systemd-analyze verify --man=no /lib/systemd/system/lxcscaled.service >"$WORK/verify.log" 2>&1
rc=$?
check "systemd-analyze verify lxcscaled.service: exit 0 and no message" test "$rc" -eq 0 -a ! -s "$WORK/verify.log"
sed 's/^/# /' "$WORK/verify.log"
# the management-routes drop-in the package ships as an example verifies with the unit
mkdir -p "$R/etc/systemd/system/lxcscaled.service.d"
cp "$R/usr/share/doc/lxcscale/examples/management-routes.conf" "$R/etc/systemd/system/lxcscaled.service.d/"
in_root systemd-analyze verify --man=no lxcscaled.service >"$WORK/verify2.log" 2>&1
rc=$?
rm -rf "$R/etc/systemd/system/lxcscaled.service.d" "$R/run/systemd/systemd-units-load"
check "systemd-analyze verify with the management-routes drop-in: exit 0 and no message" \
	test "$rc" -eq 0 -a ! -s "$WORK/verify2.log"
sed 's/^/# /' "$WORK/verify2.log"
docs_ok=1
for d in $(sed -n 's/^Documentation=//p' "$R/lib/systemd/system/lxcscaled.service"); do
	page=${d#man:}; name=${page%(*}; sec=${page##*(}; sec=${sec%)}
	[ -f "$R/usr/share/man/man$sec/$name.$sec.gz" ] || { echo "# no page for $d"; docs_ok=0; }
done
check "every Documentation= man page of the unit is in the package" test "$docs_ok" = 1
check "the unit's ExecStart is the installed daemon" grep -qx 'ExecStart=/usr/sbin/lxcscaled --foreground' \
	"$R/lib/systemd/system/lxcscaled.service"

out=$(in_root lxcscale migrate-config --output /root/migrated.yaml 2>&1)
check "lxcscale migrate-config converts the reference file inside the root" \
	sh -c "printf '%s' \"\$1\" | grep -q 'changed      lock_file' && chroot '$R' lxcscaled --check-config /root/migrated.yaml >/dev/null" _ "$out"
rm -f "$R/root/migrated.yaml"
# A host that kept the 1.2.0 files: the legacy keys the reference ignores (total_cores: 4,
# total_ram_mb: 16384, ...) are not carried over; the report and the new file say why.
mkdir -p "$R/root/old"
cp "$TOP/tests/data/reference/1.2.0/lxc_autoscale_ml.yaml" "$TOP/tests/data/reference/1.2.0/lxc_monitor.yaml" "$R/root/old/"
out=$(in_root lxcscale migrate-config /root/old/lxc_autoscale_ml.yaml --api-config /root/old/lxc_monitor.yaml \
	--output /root/migrated.yaml 2>&1)
check "migrate-config of a kept 1.2.0 file and its lxc_monitor.yaml leaves the 4-core / 16 GiB budget out, saying why" \
	sh -c "printf '%s' \"\$1\" | grep -q 'ignored      scaling.total_cores = 4, as the reference does: ' && \
		printf '%s' \"\$1\" | grep -q 'renamed      monitoring.check_interval -> metrics_interval_seconds = 60' && \
		grep -qx '  total_cores: 0' '$R/root/migrated.yaml' && grep -q 'had total_cores: 4; ' '$R/root/migrated.yaml' && \
		chroot '$R' lxcscaled --check-config /root/migrated.yaml | grep -q 'configuration OK (0 warnings)'" _ "$out"
rm -rf "$R/root/old" "$R/root/migrated.yaml"
# the admin follows the postinst's advice; reinstalling keeps the migrated conffile and
# no longer prints the advice
in_root lxcscale migrate-config --output /etc/lxcscale/lxcscale.yaml --force >"$WORK/migrate.log" 2>&1
cp "$DEB" "$R/lxcscale.deb"
in_root dpkg -i /lxcscale.deb >"$WORK/reinstall.log" 2>&1
rc=$?
rm -f "$R/lxcscale.deb"
check "after migrate-config, a reinstall keeps the migrated conffile and stays quiet" \
	sh -c "[ $rc -eq 0 ] && head -1 '$R/etc/lxcscale/lxcscale.yaml' | grep -q 'written by .lxcscale migrate-config.' && \
		! grep -q 'lxcscale migrate-config' '$WORK/reinstall.log' && \
		chroot '$R' lxcscaled --check-config /etc/lxcscale/lxcscale.yaml >/dev/null"
check "logrotate accepts /etc/logrotate.d/lxcscale" sh -c "chroot '$R' logrotate -d /etc/logrotate.d/lxcscale >'$WORK/logrotate.log' 2>&1"
check "bash completion completes the migrate-config command" \
	sh -c "chroot '$R' bash -c 'source /usr/share/bash-completion/completions/lxcscale; COMP_WORDS=(lxcscale migr); COMP_CWORD=1; _lxcscale; echo \${COMPREPLY[*]}' | grep -qx migrate-config"

# What the daemon leaves when it has run (it cannot run in a chroot without cgroups):
# its state, its logs, a rotated suggestions file. Purge must take them too.
mkdir -p "$R/var/lib/lxcscale" "$R/var/log/lxcscale"
echo model >"$R/var/lib/lxcscale/model.bin"
echo journal >"$R/var/lib/lxcscale/journal"
echo '{}' >"$R/var/log/lxcscale/suggestions.jsonl"
echo '{}' >"$R/var/log/lxcscale/suggestions.jsonl.1"

# ---- purge --------------------------------------------------------------------------------
in_root dpkg --purge lxcscale >"$WORK/purge.log" 2>&1
check "dpkg --purge removes it" test $? -eq 0
file_list >"$WORK/after"
if diff "$WORK/before" "$WORK/after" >"$WORK/left.diff"; then
	ok "after purge the root's file list is the one from before the install"
else
	bad "after purge the root's file list is the one from before the install"
	sed 's/^/# /' "$WORK/left.diff" | head -40
fi
check "after purge dpkg's status is the one from before the install" cmp -s "$WORK/before-status" "$R/var/lib/dpkg/status"
finish

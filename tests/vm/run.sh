#!/bin/bash
# tests/vm/run.sh BUILD — the real-kernel tests: one qemu VM boot runs every scenario.
#
# Called by `tests/run.sh vm` (`make vmtest`) and by `make test`. Needs root and the
# packages of `make deps` (qemu-system-x86, busybox-static, cpio, xz-utils).
#
# What happens
#   1. Kernel: the package behind Debian's `linux-image-amd64` is resolved each run
#      (`apt-cache depends`: the ABI changes with security updates), downloaded with
#      `apt-get download` (never installed), unpacked with `dpkg-deb -x`, and its bzImage
#      turned into an ELF vmlinux (tests/vm/extract-vmlinux.sh) that qemu boots directly.
#      Cached in /var/cache/lxcscale-vm/<package>/ (first run: a few seconds; then cached).
#   2. initramfs (cpio newc, $BUILD/vm/initramfs.cpio): busybox-static, tests/vm/guest/init
#      as /init, tests/vm/guest/lib.sh as /lxcscale/lib.sh, the project's programs
#      ($BUILD/lxcscaled, $BUILD/lxcscale -> /lxcscale/bin; $BUILD/tests/tools/* ->
#      /lxcscale/tools; $BUILD/bpf/*.bpf.o -> /lxcscale/bpf) with the shared libraries
#      `ldd` names, at the same paths, and tests/vm/scenarios/ -> /lxcscale/scenarios.
#      Real LXC (tests/vm/lxc-assets.sh): Debian's lxc, lxcfs, apparmor and their libraries
#      (apt-get download, cached per candidate version in $CACHE/lxc-*), the fuse/virtio-blk/
#      ext4 modules of the same kernel package (kept beside the vmlinux), a busybox container
#      template shifted to the unprivileged idmap, and a Debian minbase + systemd image
#      (debootstrap, cached as $CACHE/ct-debian-*.img, attached as a snapshot). The guest
#      switch_roots into a tmpfs, loads the modules and starts lxcfs (tests/vm/guest/pve.sh);
#      scenarios that source pve.sh start containers with `pct start` (tests/tools/pct in
#      its LXC mode runs lxc-start on a config generated as pve-container generates it).
#   3. qemu: `-M pc -smp 2 -m 768`, software emulation (TCG) unless a hardware kvm_intel /
#      kvm_amd module is loaded (the paravirtual /dev/kvm of our CI machines hangs guests),
#      under a host `timeout`. Kernel messages go to the first serial port
#      ($BUILD/vm/console.log), results to the second ($BUILD/vm/results.log).
#   4. The guest's /init mounts proc, sysfs, devtmpfs, cgroup2 (nsdelegate,
#      memory_recursiveprot), bpffs, tracefs; enables +cpu +memory +cpuset +io +pids in the
#      root and in lxc/; then for every scenario, in name order: fresh standard containers
#      lxc/101/ns and lxc/102/ns (each with a `sleep` standing in for the container's
#      init), the scenario under a timeout in its own cgroup, then every process it left
#      is killed and every container removed. A guest watchdog ends a run that hangs.
#   5. Here: the result lines are printed, counted, and the closing line
#      "N passed, N failed, N skipped" is printed. A VM that does not reach the end
#      (panic, hang, timeout) is a failure, never a pass.
#
# Adding a scenario (no edit here): drop an executable-or-not shell script into
# tests/vm/scenarios/NN-name.sh. In the guest it runs as root with PATH =
# /lxcscale/bin:/lxcscale/tools:/bin, so `lxcscaled`, `lxcscale` and every
# tests/tools/ program are callable by name. Start with `. /lxcscale/lib.sh` for
# ok/fail/skip/info, check, wait_until, ct_create, ct_spawn, ct_remove, ct_read.
# Print one anchored line per check: "ok - what", "FAIL - what: why",
# "skip - what: reason"; "info - ..." lines carry measured figures and are not counted.
# Use container ids of your own (e.g. 4xx) besides the standard 101 and 102. A
# scenario that reports nothing, exits non-zero without a FAIL line, or overruns its
# timeout is counted as a failure. Data files may sit next to it in
# tests/vm/scenarios/ (subfolders are copied too; only top-level *.sh are run).
#
# Knobs (environment)
#   LXCSCALE_VM_ONLY=substr        run only scenarios whose file name contains substr
#   LXCSCALE_VM_SCENARIOS=dir      take the scenarios from dir instead of tests/vm/scenarios
#   LXCSCALE_VM_TIMEOUT=720        host-side limit for the whole VM run, seconds
#   LXCSCALE_VM_SCENARIO_TIMEOUT=90  per-scenario limit in the guest, seconds (a scenario may
#                                  raise its own with a "# vm-timeout: SECONDS" line)
#   LXCSCALE_VM_MEM=768            guest memory, MiB
#   LXCSCALE_VM_ACCEL=tcg|kvm      force the accelerator
#   LXCSCALE_VM_CACHE=/var/cache/lxcscale-vm   kernel cache
#   LXCSCALE_VM_KERNEL=/path/vmlinux           use this kernel, no download
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-${BUILD:-build}}
VMDIR=$BUILD/vm
CACHE=${LXCSCALE_VM_CACHE:-/var/cache/lxcscale-vm}
TIMEOUT=${LXCSCALE_VM_TIMEOUT:-720}
SCENARIO_TIMEOUT=${LXCSCALE_VM_SCENARIO_TIMEOUT:-90}
MEM=${LXCSCALE_VM_MEM:-768}
ONLY=${LXCSCALE_VM_ONLY:-}
SCENARIOS=${LXCSCALE_VM_SCENARIOS:-tests/vm/scenarios}
VM_CTS="101 102"

pass=0 failn=0 skipn=0
. tests/vm/lxc-assets.sh
report() { # the closing line, then exit
	echo "$pass passed, $failn failed, $skipn skipped"
	[ "$failn" -eq 0 ]
	exit
}
hfail() { echo "FAIL - $*"; failn=$((failn + 1)); }

if [ "$(id -u)" != 0 ]; then
	echo "skip - vm: needs root (kernel cache in $CACHE, cgroup setup in the guest)"
	skipn=1
	report
fi
for tool in qemu-system-x86_64 cpio apt-get apt-cache dpkg-deb xz ldd timeout flock; do
	command -v "$tool" >/dev/null || { hfail "vm: $tool not found (run make deps)"; report; }
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	{ hfail "vm: no static /bin/busybox (package busybox-static; run make deps)"; report; }

# ---- 1. kernel ---------------------------------------------------------------------------
resolve_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

get_kernel() { # prints the vmlinux path
	if [ -n "${LXCSCALE_VM_KERNEL:-}" ]; then
		echo "$LXCSCALE_VM_KERNEL"
		return 0
	fi
	mkdir -p "$CACHE" || return 1
	exec 9>"$CACHE/.lock"
	flock -w 600 9 || { echo "vm: kernel cache lock busy" >&2; return 1; }
	local pkg dir tmp kver
	pkg=$(resolve_pkg)
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1
		pkg=$(resolve_pkg)
	fi
	if [ -z "$pkg" ]; then # no archive: fall back to the newest cached kernel
		dir=$(ls -dt "$CACHE"/linux-image-*/ 2>/dev/null | head -n1)
		[ -n "$dir" ] && [ -s "$dir/vmlinux" ] || { echo "vm: cannot resolve linux-image-amd64" >&2; return 1; }
		echo "${dir%/}/vmlinux"
		return 0
	fi
	dir=$CACHE/$pkg
	if [ ! -s "$dir/vmlinux" ] || [ "$(cat "$dir/modules/wanted" 2>/dev/null)" != "$LXC_MODULES" ]; then
		tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX") || return 1
		echo "vm: fetching $pkg into $dir" >&2
		if ! (cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >/dev/null 2>"$tmp/apt.err"); then
			apt-get update -qq >/dev/null 2>&1
			(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >/dev/null 2>"$tmp/apt.err") ||
				{ cat "$tmp/apt.err" >&2; rm -rf "$tmp"; return 1; }
		fi
		dpkg-deb -x "$tmp"/*.deb "$tmp/root" || { rm -rf "$tmp"; return 1; }
		mkdir -p "$tmp/out"
		tests/vm/extract-vmlinux.sh "$tmp"/root/boot/vmlinuz-* >"$tmp/out/vmlinux" || { rm -rf "$tmp"; return 1; }
		cp "$tmp"/root/boot/config-* "$tmp/out/config" 2>/dev/null
		kver=$(ls "$tmp/root/lib/modules" | head -n1)
		lxc_modules "$tmp/root" "$kver" "$tmp/out/modules" || { rm -rf "$tmp"; return 1; }
		echo "$LXC_MODULES" >"$tmp/out/modules/wanted"
		echo "$pkg" >"$tmp/out/package"
		rm -rf "$dir" && mv "$tmp/out" "$dir" && rm -rf "$tmp" || return 1
		# keep only the current kernel: old ABIs vanish from the archive anyway
		for old in "$CACHE"/linux-image-*/; do
			[ "${old%/}" != "$dir" ] && rm -rf "$old"
		done
	fi
	flock -u 9
	echo "$dir/vmlinux"
}

t_start=$(date +%s.%N)
VMLINUX=$(get_kernel) && [ -s "$VMLINUX" ] || { hfail "vm: could not get a Debian kernel"; report; }
t_kernel=$(date +%s.%N)

# ---- 2. initramfs --------------------------------------------------------------------------
ROOT=$VMDIR/root
rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,run,root,etc} \
	"$ROOT"/lxcscale/{bin,tools,bpf,scenarios} || { hfail "vm: cannot create $ROOT"; report; }
cp /bin/busybox "$ROOT/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -s busybox "$ROOT/bin/$applet"
done
cp tests/vm/guest/init "$ROOT/init" && chmod 755 "$ROOT/init"
cp tests/vm/guest/lib.sh "$ROOT/lxcscale/lib.sh"
cp tests/vm/valgrind.supp "$ROOT/lxcscale/valgrind.supp"

elves=()
for f in "$BUILD/lxcscaled" "$BUILD/lxcscale"; do
	[ -x "$f" ] && [ -f "$f" ] && cp "$f" "$ROOT/lxcscale/bin/" && elves+=("$f")
done
for f in "$BUILD"/tests/tools/*; do
	[ -x "$f" ] && [ -f "$f" ] && cp "$f" "$ROOT/lxcscale/tools/" && elves+=("$f")
done
cp "$BUILD"/bpf/*.bpf.o "$ROOT/lxcscale/bpf/" 2>/dev/null
# valgrind memcheck, when the host has it (scenario 90 runs the daemon under it): the
# launcher, the tool and its preloads at the paths valgrind was built for, and the detached
# symbols of ld.so and libc (libc6-dbg) that memcheck needs to redirect strlen and friends.
if [ -x /usr/bin/valgrind.bin ] && [ -x /usr/libexec/valgrind/memcheck-amd64-linux ]; then
	mkdir -p "$ROOT/usr/libexec/valgrind" "$ROOT/usr/bin"
	cp /usr/bin/valgrind.bin "$ROOT/usr/bin/" && elves+=(/usr/bin/valgrind.bin)
	for f in memcheck-amd64-linux vgpreload_core-amd64-linux.so vgpreload_memcheck-amd64-linux.so \
		default.supp; do
		cp "/usr/libexec/valgrind/$f" "$ROOT/usr/libexec/valgrind/"
	done
	for lib in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6; do
		id=$(readelf -n "$lib" 2>/dev/null | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
		dbg=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
		[ -n "$id" ] && [ -f "$dbg" ] && cp --parents "$dbg" "$ROOT/"
	done
fi
# the shared libraries of every program, at the paths the dynamic loader looks for them
if [ ${#elves[@]} -gt 0 ]; then
	for lib in $(ldd "${elves[@]}" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
		[ -e "$lib" ] && cp -L --parents "$lib" "$ROOT/" 2>/dev/null
	done
fi
# real LXC (tests/vm/lxc-assets.sh): lxc, lxcfs and apparmor's parser from Debian's packages,
# the kernel modules they need, a busybox container template shifted to the unprivileged
# idmap, and the systemd container's disk image (a read-write snapshot of the cached file)
lxc_root() {
	local stage lxcelves f lib b
	stage=$(lxc_stage) || return 1
	mkdir -p "$ROOT"/{usr,lib,etc,var/lib/lxc,var/lib/lxcfs,var/log/lxc,sbin,run/lock/lxc} || return 1
	for d in usr lib etc var; do
		[ -d "$stage/$d" ] && cp -a "$stage/$d/." "$ROOT/$d/"
	done
	for d in bin sbin; do
		[ -d "$stage/$d" ] && cp -a "$stage/$d/." "$ROOT/$d/"
	done
	rm -rf "$ROOT"/usr/share/doc "$ROOT"/usr/share/man "$ROOT"/usr/share/locale "$ROOT"/usr/share/lintian \
		"$ROOT"/usr/share/lxc/templates "$ROOT"/usr/lib/systemd "$ROOT"/etc/init.d "$ROOT"/etc/apparmor.d/abstractions/ubuntu-*
	# only the lxc tools the tests use (each is about 1 MB)
	for f in "$ROOT"/usr/bin/lxc-*; do
		case ${f##*/} in
		lxc-start | lxc-stop | lxc-attach | lxc-info | lxc-wait | lxc-cgroup | lxc-ls) ;;
		*) rm -f "$f" ;;
		esac
	done
	# their libraries: from the packages when there, else this host's (same Debian release)
	lxcelves=$(find "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/sbin" "$ROOT/usr/libexec" "$ROOT/usr/lib/x86_64-linux-gnu/lxc" \
		"$ROOT/usr/lib/x86_64-linux-gnu/lxcfs" -type f -perm -u+x 2>/dev/null)
	for lib in $(LD_LIBRARY_PATH=$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu \
		ldd $lxcelves "$ROOT"/usr/lib/x86_64-linux-gnu/lxcfs/liblxcfs.so 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
		case $lib in /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;; *) continue ;; esac # not in $ROOT
		b=$(basename "$lib")
		[ -e "$ROOT/lib/x86_64-linux-gnu/$b" ] || [ -e "$ROOT/usr/lib/x86_64-linux-gnu/$b" ] ||
			cp -L --parents "$lib" "$ROOT/"
	done
	mkdir -p "$ROOT/lxcscale/modules"
	cp "$(dirname "$VMLINUX")"/modules/* "$ROOT/lxcscale/modules/" || return 1
	echo "root:100000:65536" >"$ROOT/etc/subuid"
	echo "root:100000:65536" >"$ROOT/etc/subgid"
	grep -q '^root:' "$ROOT/etc/passwd" 2>/dev/null || echo "root:x:0:0:root:/root:/bin/sh" >>"$ROOT/etc/passwd"
	grep -q '^root:' "$ROOT/etc/group" 2>/dev/null || echo "root:x:0:" >>"$ROOT/etc/group"
	busybox_rootfs "$ROOT/lxcscale/ct-busybox" || return 1
	chown -hR "$CT_IDMAP_BASE:$CT_IDMAP_BASE" "$ROOT/lxcscale/ct-busybox"
	cp tests/vm/guest/pve.sh "$ROOT/lxcscale/pve.sh"
}
lxc_ok=1
lxc_root || { lxc_ok=0; hfail "vm: could not assemble real LXC for the guest (see the messages above)"; }
ct_image=""
if [ "$lxc_ok" = 1 ]; then
	ct_image=$(ct_debian_image) || { ct_image=""; hfail "vm: could not build the systemd container image"; }
fi
cp -r "$SCENARIOS"/. "$ROOT/lxcscale/scenarios/"
if [ -n "$ONLY" ]; then
	for s in "$ROOT"/lxcscale/scenarios/*.sh; do
		case $(basename "$s") in *"$ONLY"*) ;; *) rm -f "$s" ;; esac
	done
fi
nscen=$(ls "$ROOT"/lxcscale/scenarios/*.sh 2>/dev/null | wc -l)
[ "$nscen" -gt 0 ] || { hfail "vm: no scenario to run${ONLY:+ (LXCSCALE_VM_ONLY=$ONLY)}"; report; }
cat >"$ROOT/lxcscale/vm.env" <<EOF
VM_CTS="$VM_CTS"
VM_SCENARIO_TIMEOUT=$SCENARIO_TIMEOUT
VM_WATCHDOG=$((TIMEOUT > 60 ? TIMEOUT - 20 : TIMEOUT * 2 / 3))
VM_LXC=$lxc_ok
VM_CT_DISK=$([ -n "$ct_image" ] && echo /dev/vda)
EOF
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet) >"$VMDIR/initramfs.cpio" ||
	{ hfail "vm: building the initramfs failed"; report; }
t_initrd=$(date +%s.%N)

# ---- 3. boot ---------------------------------------------------------------------------------
accel=${LXCSCALE_VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if { [ -e /sys/module/kvm_intel ] || [ -e /sys/module/kvm_amd ]; } && [ -w /dev/kvm ]; then
		accel=kvm
	fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
*) accel_args=(-accel tcg,thread=multi -cpu max) ;;
esac
rm -f "$VMDIR/console.log" "$VMDIR/results.log"
echo "vm: $(basename "$(dirname "$VMLINUX")"), $accel, $nscen scenario(s), initramfs $(($(stat -c %s "$VMDIR/initramfs.cpio") / 1048576)) MiB"
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -M pc "${accel_args[@]}" -smp 2 -m "$MEM" \
	-nodefaults -no-user-config -display none -no-reboot -monitor none \
	-serial "file:$VMDIR/console.log" -serial "file:$VMDIR/results.log" \
	${ct_image:+-drive "file=$ct_image,if=virtio,format=raw,snapshot=on"} \
	-kernel "$VMLINUX" -initrd "$VMDIR/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 oops=panic quiet psi=1" </dev/null >"$VMDIR/qemu.log" 2>&1
qrc=$?
t_end=$(date +%s.%N)

# ---- 4. results ------------------------------------------------------------------------------
touch "$VMDIR/results.log"
tr -d '\r' <"$VMDIR/results.log" >"$VMDIR/results.txt"
cat "$VMDIR/results.txt"
pass=$(grep -c '^ok - ' "$VMDIR/results.txt")
failn=$(grep -c '^FAIL - ' "$VMDIR/results.txt")
skipn=$(grep -c '^skip - ' "$VMDIR/results.txt")
if ! grep -q '^vm-harness: done$' "$VMDIR/results.txt"; then
	why="qemu exit $qrc"
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="killed by the ${TIMEOUT}s host timeout"
	hfail "vm: the guest did not finish ($why): crash or hang"
	echo "--- last console lines ($VMDIR/console.log)"
	tail -n 30 "$VMDIR/console.log" 2>/dev/null | tr -d '\r'
	tail -n 5 "$VMDIR/qemu.log" 2>/dev/null
fi
awk -v a="$t_start" -v b="$t_kernel" -v c="$t_initrd" -v d="$t_end" \
	'BEGIN { printf "vm: kernel %.1f s, initramfs %.1f s, boot+scenarios %.1f s\n", b-a, c-b, d-c }'
report

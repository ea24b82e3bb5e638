# tests/vm/lxc-assets.sh — what the VM needs to run real LXC containers (sourced by run.sh).
#
# A Proxmox host starts a container with Debian's LXC (`lxc-start`, liblxc) and gives it
# lxcfs for /proc and /sys/devices/system/cpu. The VM gets the same programs, never
# installed on this host: the .debs are taken with `apt-get download`, unpacked with
# `dpkg-deb -x` and cached in $CACHE/lxc-<version>/ (keyed by the archive's candidate
# versions, so a security update brings a new cache). Three things are built here:
#
#   lxc_stage            the unpacked lxc, lxcfs and library packages (a root tree to copy)
#   lxc_modules KDIR     the kernel modules the guest loads (fuse for lxcfs; virtio-blk and
#                        ext4 for the systemd container's disk), closed over modules.dep,
#                        from the same kernel package as the vmlinux; listed in load order
#   ct_debian_image      a Debian 12 minbase rootfs whose init is systemd, made with
#                        debootstrap, shifted to the unprivileged idmap (uid 0 -> 100000, as
#                        Proxmox leaves an unprivileged container's disk) and written into an
#                        ext4 image that the guest gets as a read-write snapshot (the cached
#                        file is never modified)
#
# The functions print the path they built on stdout and diagnostics on stderr; each returns
# non-zero on failure so run.sh can report the cause.

LXC_PKGS="lxc liblxc1 liblxc-common lxcfs libapparmor1 libseccomp2 libcap2 libselinux1
	libpcre2-8-0 libfuse3-3 fuse3 apparmor"
# the modules the guest needs; their dependencies are added from modules.dep
# (crc32c_generic: ext4 asks the crypto API for crc32c at mount time, which modules.dep cannot say)
LXC_MODULES="fuse virtio_pci virtio_blk crc32c_generic ext4"
CT_DEBIAN_MIRROR=${LXCSCALE_VM_MIRROR:-http://deb.debian.org/debian}
CT_DEBIAN_SUITE=bookworm
CT_IDMAP_BASE=100000

# the candidate versions of the packages, one token: the cache key
lxc_versions_key() {
	apt-cache policy lxc lxcfs 2>/dev/null | awk '/Candidate:/ { printf "%s-", $2 }' | tr -c 'A-Za-z0-9.+-' _
}

lxc_stage() { # prints the stage directory
	local key dir tmp
	key=$(lxc_versions_key)
	case $key in *none*|"") apt-get update -qq >/dev/null 2>&1; key=$(lxc_versions_key) ;; esac
	if [ -z "$key" ] || [ "${key#*none}" != "$key" ]; then # offline: the newest cached stage
		dir=$(ls -dt "$CACHE"/lxc-*/ 2>/dev/null | head -n1)
		[ -n "$dir" ] && [ -f "$dir/.done" ] || { echo "vm: cannot resolve the lxc packages" >&2; return 1; }
		echo "${dir%/}/stage"
		return 0
	fi
	dir=$CACHE/lxc-${key%-}
	if [ ! -f "$dir/.done" ]; then
		tmp=$(mktemp -d "$CACHE/.lxc.XXXXXX") || return 1
		echo "vm: fetching $(echo $LXC_PKGS | wc -w) lxc/lxcfs packages into $dir" >&2
		# shellcheck disable=SC2086
		(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download $LXC_PKGS >/dev/null 2>"$tmp/apt.err") ||
			{ cat "$tmp/apt.err" >&2; rm -rf "$tmp"; return 1; }
		mkdir -p "$tmp/stage"
		for deb in "$tmp"/*.deb; do
			dpkg-deb -x "$deb" "$tmp/stage" || { rm -rf "$tmp"; return 1; }
		done
		ls "$tmp"/*.deb | sed 's|.*/||' >"$tmp/stage/.packages"
		rm -f "$tmp"/*.deb
		touch "$tmp/.done"
		rm -rf "$dir" && mv "$tmp" "$dir" || return 1
		for old in "$CACHE"/lxc-*/; do
			[ "${old%/}" != "$dir" ] && rm -rf "$old"
		done
	fi
	echo "$dir/stage"
}

# lxc_modules KROOT KVER OUT: copy the wanted modules and their dependencies from an unpacked
# kernel package (KROOT/lib/modules/KVER) into OUT/, and write OUT/order (load order)
lxc_modules() {
	local kroot=$1 kver=$2 out=$3 mdir dep m line f
	mdir=$kroot/lib/modules/$kver
	[ -f "$mdir/modules.dep" ] || depmod -b "$kroot" "$kver" || return 1
	mkdir -p "$out" && : >"$out/order"
	for m in $LXC_MODULES; do
		line=$(grep -E "/$m\.ko(\.xz|\.zst)?:" "$mdir/modules.dep" | head -n1)
		[ -n "$line" ] || { echo "vm: module $m not in $mdir/modules.dep" >&2; return 1; }
		# modules.dep lists "mod: dep1 dep2 ...", deps in reverse load order
		for f in $(echo "${line#*:}" | tr ' ' '\n' | tac) "${line%%:*}"; do
			[ -n "$f" ] || continue
			grep -qxF "$(basename "$f")" "$out/order" && continue
			case $f in
			*.xz) xz -dc "$mdir/$f" >"$out/$(basename "${f%.xz}")" || return 1; f=${f%.xz} ;;
			*.zst) zstd -qdc "$mdir/$f" >"$out/$(basename "${f%.zst}")" || return 1; f=${f%.zst} ;;
			*) cp "$mdir/$f" "$out/" || return 1 ;;
			esac
			basename "$f" >>"$out/order"
		done
	done
}

ct_debian_image() { # prints the image path
	local img=$CACHE/ct-debian-$CT_DEBIAN_SUITE.img tmp t0
	[ -s "$img" ] && { echo "$img"; return 0; }
	command -v debootstrap >/dev/null && command -v mkfs.ext4 >/dev/null ||
		{ echo "vm: debootstrap and mkfs.ext4 are needed for the systemd container (make deps)" >&2; return 1; }
	tmp=$(mktemp -d "$CACHE/.ctdeb.XXXXXX") || return 1
	t0=$(date +%s)
	echo "vm: debootstrap $CT_DEBIAN_SUITE minbase + systemd-sysv for the systemd container" >&2
	if ! debootstrap --variant=minbase --include=systemd-sysv,procps "$CT_DEBIAN_SUITE" "$tmp/rootfs" \
		"$CT_DEBIAN_MIRROR" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 5 "$tmp/debootstrap.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp"/rootfs/var/cache/apt/archives/*.deb "$tmp"/rootfs/var/lib/apt/lists/* \
		"$tmp"/rootfs/usr/share/doc "$tmp"/rootfs/usr/share/man "$tmp"/rootfs/usr/share/locale
	echo ct-debian >"$tmp/rootfs/etc/hostname"
	# units that need hardware or a network the container does not have
	for u in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
		e2scrub_all.timer fstrim.timer; do
		ln -sf /dev/null "$tmp/rootfs/etc/systemd/system/$u"
	done
	mkdir -p "$tmp/rootfs/usr/local/lxcscale"
	python3 tests/vm/shift-ids.py "$tmp/rootfs" "$CT_IDMAP_BASE" >&2 || { rm -rf "$tmp"; return 1; }
	mkfs.ext4 -q -F -L ct-debian -E root_owner=$CT_IDMAP_BASE:$CT_IDMAP_BASE -d "$tmp/rootfs" \
		"$tmp/img" 400M || { rm -rf "$tmp"; return 1; }
	mv "$tmp/img" "$img" && rm -rf "$tmp" || return 1
	echo "vm: systemd container image built in $(($(date +%s) - t0)) s ($(du -h "$img" | cut -f1) allocated)" >&2
	echo "$img"
}

# busybox_rootfs DIR: a container rootfs whose init is busybox (inittab: rcS mounts tmpfs)
busybox_rootfs() {
	local r=$1 a
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,tmp,run,root,etc/init.d,var/log,usr/lib/x86_64-linux-gnu,usr/lib64,usr/local/lxcscale}
	ln -s usr/lib "$r/lib"
	ln -s usr/lib64 "$r/lib64"
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	ln -sf ../bin/busybox "$r/sbin/init"
	# the test programs bind-mounted at /usr/local/lxcscale are linked against glibc
	cp -L /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6 "$r/usr/lib/x86_64-linux-gnu/"
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/usr/lib64/"
	printf '::sysinit:/etc/init.d/rcS\n::shutdown:/bin/umount -a -r\n' >"$r/etc/inittab"
	printf '#!/bin/sh\nmount -t tmpfs tmpfs /tmp\nmount -t tmpfs tmpfs /run\necho up > /run/booted\n' \
		>"$r/etc/init.d/rcS"
	chmod 755 "$r/etc/init.d/rcS"
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	echo "root:x:0:" >"$r/etc/group"
}

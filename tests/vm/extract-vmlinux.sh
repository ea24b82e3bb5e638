#!/bin/bash
# extract-vmlinux.sh BZIMAGE > vmlinux
#
# Gets the uncompressed ELF kernel out of a bzImage (Debian's /boot/vmlinuz-*), so qemu
# can boot it directly through its PVH note: decompressing inside an emulated guest costs
# 1-4 s per boot. The bzImage holds one compressed payload after the setup code; we look
# for each known compression magic (xz, zstd, gzip), try to decompress from every offset
# where it occurs, and keep the first result that is an ELF file. Trailing data after the
# payload is expected and ignored. Exit status 1 when nothing decompressed to an ELF.
set -uo pipefail
img=${1:?usage: extract-vmlinux.sh BZIMAGE}
[ -r "$img" ] || { echo "extract-vmlinux: cannot read $img" >&2; exit 1; }
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT

is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# offsets (0-based) of a byte pattern given as a grep -P regex
offsets() { LC_ALL=C grep -obUaP "$1" "$img" 2>/dev/null | cut -d: -f1; }

try() { # magic-regex decompress-command...
	local magic=$1 off; shift
	for off in $(offsets "$magic"); do
		tail -c +$((off + 1)) "$img" | "$@" >"$tmp" 2>/dev/null
		if [ -s "$tmp" ] && is_elf "$tmp"; then
			cat "$tmp"
			exit 0
		fi
	done
}

try '\xfd\x37\x7a\x58\x5a\x00' xz -dc --single-stream
try '\x28\xb5\x2f\xfd' zstd -dcq
try '\x1f\x8b\x08' gzip -dc
echo "extract-vmlinux: no xz/zstd/gzip payload that decompresses to an ELF in $img" >&2
exit 1

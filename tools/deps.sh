#!/bin/sh
# Install exactly the Debian packages lxcscale's build and tests need.
# Idempotent and silent when everything is already present. Run as root.
set -eu

PKGS="
make gcc clang llvm pkg-config bpftool
libbpf-dev libelf-dev zlib1g-dev libzstd-dev libyaml-dev libjson-c-dev
libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev
qemu-system-x86 busybox-static cpio kmod xz-utils
debootstrap e2fsprogs dpkg-dev debhelper fakeroot lintian groff-base bash-completion
python3 python3-sklearn python3-yaml valgrind curl jq iproute2 tmux
prometheus
libfuzzer-14-dev libclang-rt-14-dev
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "make deps: these packages are missing and installing them needs root:$missing" >&2
	exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null

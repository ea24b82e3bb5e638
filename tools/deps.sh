#!/bin/sh
# Install exactly the Debian packages lxcscale's build and tests need, then the dashboard's
# npm packages (ui/package.json, pinned by ui/package-lock.json: uPlot, embedded by the
# build, and playwright-core, which drives chromium in the browser tests).
# Idempotent and silent when everything is already present. Run as root.
set -eu
cd "$(dirname "$0")/.."

PKGS="
make gcc clang llvm pkg-config bpftool
libbpf-dev libelf-dev zlib1g-dev libzstd-dev libyaml-dev libjson-c-dev
libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev
qemu-system-x86 busybox-static cpio kmod xz-utils
debootstrap e2fsprogs dpkg-dev debhelper fakeroot lintian groff-base bash-completion
python3 python3-sklearn python3-yaml valgrind curl jq iproute2 tmux chromium wrk
prometheus
libfuzzer-14-dev libclang-rt-14-dev
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# node and npm: Debian's, unless a node with its own npm is already there (NodeSource's
# nodejs package carries npm and conflicts with Debian's npm package)
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

npm_packages() {
	# `npm ci` when ui/node_modules is missing or older than the lock file
	if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
		echo "make deps: npm ci in ui/ (uPlot, playwright-core)"
		(cd ui && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	fi
}

if [ -z "$missing" ]; then
	npm_packages
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "make deps: these packages are missing and installing them needs root:$missing" >&2
	exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
npm_packages

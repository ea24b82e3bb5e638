#!/bin/sh
# Build the Debian package (`make deb`): export the source tree (tracked and new files,
# nothing ignored, so no build/ output leaks in) into build/deb/lxcscale-<version>/, run
# dpkg-buildpackage there, then lintian on the result. The .deb lands in build/deb/.
# DEB_BUILD_OPTIONS passes through (nocheck skips the unit tests in the build).
set -eu
cd "$(dirname "$0")/.."
version=$(cat VERSION)
out=build/deb
src=$out/lxcscale-$version
rm -rf "$out"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "$1" && cp --parents -P "$1" "$2"' _ {} "$src"
# uPlot, which the build embeds, comes from npm (make deps), not from git: the two files the
# build reads, with its licence and version
for f in package.json LICENSE dist/uPlot.iife.min.js dist/uPlot.min.css; do
	[ -f ui/node_modules/uplot/$f ] || { echo "make deb: ui/node_modules/uplot/$f is missing: run make deps" >&2; exit 1; }
	cp --parents ui/node_modules/uplot/$f "$src"
done
(
	cd "$src"
	export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$(nproc)"
	dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -40 ../build.log >&2; exit 1; }
)
deb=$(ls "$out"/lxcscale_"$version"_*.deb)
echo "built $deb (log: $out/build.log)"
if command -v lintian >/dev/null 2>&1; then
	lintian --info --display-info --pedantic --fail-on error,warning "$deb" "$out"/lxcscale_"$version"_*.changes
fi

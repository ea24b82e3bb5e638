#!/bin/bash
# `make bench`: runs every benchmark and prints its figures with its setup.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
export BUILD
for b in bench/*.sh; do
	[ -f "$b" ] || continue
	[ "$(basename "$b")" = run.sh ] && continue # this runner: running it again would recurse
	echo "=== $(basename "$b" .sh)"
	bash "$b" "$BUILD" || echo "bench $(basename "$b"): exited $?"
done

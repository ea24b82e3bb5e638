#!/bin/bash
# man_covers_help.sh BUILD MANPAGE — every option each `lxcscale <command> --help` lists is
# described in that command's entry of lxcscale.1 (the lines after its `.\" command: NAME`
# marker, up to the next marker or section), or under COMMON OPTIONS (`.\" command: common`).
# Run by tests/unit/test_config_man.c.
set -euo pipefail
build=$1 man=$2
block() { # NAME: the entry's roff text
	awk -v c="$1" '$0 == ".\\\" command: " c { on = 1; next } /^\.\\" command: / || /^\.SH / { on = 0 } on' "$man"
}
common=$(block common)
[ -n "$common" ] || { echo "lxcscale.1 has no '.\\\" command: common' block" >&2; exit 1; }
bad=0
for c in $("$build/lxcscale" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
	text=$(block "$c")
	if [ -z "$text" ]; then
		echo "lxcscale.1 has no '.\\\" command: $c' entry" >&2
		bad=1
		continue
	fi
	[ "$c" = help ] && continue # its "--help" is the command list, with the others' options
	for f in $("$build/lxcscale" "$c" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		r=$(printf '%s' "$f" | sed 's/-/\\-/g')
		if ! grep -qF -- "$r" <<<"$text" && ! grep -qF -- "$r" <<<"$common"; then
			echo "lxcscale.1: the entry of '$c' does not describe $f (lxcscale $c --help lists it)" >&2
			bad=1
		fi
	done
done
exit $bad

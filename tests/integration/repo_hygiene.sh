#!/bin/bash
# Repository hygiene: no merge-conflict markers in tracked files, every shell script parses,
# every #include follows the table in user/README.md (tools/check_includes.py).
cd "${LXCSCALE_TOP:-$(dirname "$0")/../..}" || exit 1
pass=0 fail=0
if git rev-parse --git-dir >/dev/null 2>&1; then
	hits=$(git grep -nE '^(<<<<<<< |>>>>>>> |=======$)' -- ':!vmlinux' 2>/dev/null | head -5)
	if [ -z "$hits" ]; then echo "ok - no merge-conflict markers in tracked files"; pass=$((pass+1))
	else echo "FAIL - merge-conflict markers: $hits"; fail=$((fail+1)); fi
	bad=""
	for f in $(git ls-files '*.sh' .ci/run); do bash -n "$f" 2>/dev/null || bad="$bad $f"; done
	if [ -z "$bad" ]; then echo "ok - every shell script parses"; pass=$((pass+1))
	else echo "FAIL - shell scripts that do not parse:$bad"; fail=$((fail+1)); fi
	if out=$(python3 tools/check_includes.py 2>&1); then echo "ok - includes follow user/README.md"; pass=$((pass+1))
	else echo "FAIL - includes that user/README.md does not allow:"; echo "$out" | sed 's/^/  /'; fail=$((fail+1)); fi
else
	echo "skip - not a git checkout"
	echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]

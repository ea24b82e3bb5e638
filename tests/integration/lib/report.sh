# Shared by tests/integration/*.sh: the result lines the runner counts. Sourced, never run
# on its own. `ok WHAT`, `bad WHAT`, `skipt WHAT REASON` print one line each and count it;
# `check WHAT EXPR` is ok or bad on `eval EXPR`; `report` prints the closing
# "N passed, N failed, N skipped" line and returns non-zero when anything failed;
# `need_bin PATH...` ends the script with one failure when a binary is not built.
pass=0 fail=0 skip=0
ok()    { echo "ok - $1"; pass=$((pass + 1)); }
bad()   { echo "FAIL - $1"; fail=$((fail + 1)); }
skipt() { echo "skip - $1: $2"; skip=$((skip + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
report() { echo "$pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; }
need_bin() {
	local b
	for b in "$@"; do
		if [ ! -x "$b" ]; then echo "FAIL - $b is not built"; echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
	done
}

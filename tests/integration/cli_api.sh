#!/bin/bash
# The lxcscale CLI's API commands against the real API server with no daemon attached:
# `scale` falls back to the reference routes (checked through the stand-in pct's argv log),
# the documented exit codes (2 usage, 4 no daemon, 1 unreachable / API error), --json,
# and the API URL and key taken from a config file.
set -u
. "$(dirname "$0")/lib/api.sh"
CLI=$TOP/$BUILD/lxcscale
TAB=$'\t'
[ -x "$CLI" ] || { bad "$CLI is built"; finish; exit 1; }

make_ct 104 2 2048
start_server --auth --key clikey || { bad "server starts"; finish; exit 1; }
clear_log
out=$("$CLI" scale 104 --cores 3 --memory 1024 --url "$U" --api-key clikey 2>&1); rc=$?
check "scale without the daemon falls back to /scale/cores and /scale/ram (exit 0)" \
	'[ $rc -eq 0 ] && grep -q "CPU cores set to 3 for container 104" <<<"$out" && grep -q "RAM set to 1024 MB" <<<"$out"'
check "…which ran pct set -cores 3 and pct set -memory 1024" \
	'[ "$(cat "$PCT_STAND_IN_LOG")" = "pct${TAB}set${TAB}104${TAB}-cores${TAB}3"$'"'\n'"'"pct${TAB}set${TAB}104${TAB}-memory${TAB}1024" ]'
out=$("$CLI" scale 104 --cores 2 --url "$U" --api-key clikey --json 2>&1); rc=$?
check "scale --json prints the API's JSON" '[ $rc -eq 0 ] && jq -e ".status == \"success\"" <<<"$out" >/dev/null'
"$CLI" scale 104 --cores 2 --url "$U" 2>"$T/err"; rc=$?
check "no key → exit 1 with the API's message" '[ $rc -eq 1 ] && grep -q "Missing API key" "$T/err"'
LXCSCALE_API_KEY=clikey "$CLI" scale 104 --cores 1.5 --url "$U" 2>"$T/err"; rc=$?
check "fractional cores without the daemon → exit 4" '[ $rc -eq 4 ] && grep -q "need the daemon" "$T/err"'
LXCSCALE_API_KEY=clikey "$CLI" scale 104 --memory 1024 --no-persist --url "$U" 2>/dev/null; rc=$?
check "--no-persist without the daemon → exit 4" '[ $rc -eq 4 ]'
LXCSCALE_API_KEY=clikey "$CLI" scale 104 --cores 99 --url "$U" 2>"$T/err"; rc=$?
check "validation errors (HTTP 400) are listed, exit 2 (usage)" '[ $rc -eq 2 ] && grep -q "cores must be" "$T/err"'
for cmd in status decisions top "status 104"; do
	LXCSCALE_API_KEY=clikey "$CLI" $cmd --url "$U" $( [ "$cmd" = top ] && echo "--iterations 1") >/dev/null 2>"$T/err"; rc=$?
	check "$cmd without the daemon → exit 4" '[ $rc -eq 4 ] && grep -q "not attached" "$T/err"'
done
"$CLI" status --url http://127.0.0.1:1 2>/dev/null; rc=$?
check "unreachable API → exit 1" '[ $rc -eq 1 ]'
"$CLI" scale 99 --cores 2 2>/dev/null; rc=$?
check "bad id → usage exit 2" '[ $rc -eq 2 ]'
"$CLI" scale 104 2>"$T/err"; rc=$?
check "scale without --cores/--memory → exit 2, says what is missing" '[ $rc -eq 2 ] && grep -q "nothing to change: give --cores N and/or --memory MB" "$T/err"'
"$CLI" scale 2>"$T/err"; rc=$?
check "scale without an id → exit 2, asks which container" '[ $rc -eq 2 ] && grep -q "which container" "$T/err"'
LXCSCALE_API_KEY=clikey "$CLI" --url "$U" --json status 104 >"$T/out" 2>&1; rc=$?
check "global options before the command reach it (lxcscale --url U --json status 104: exit 4, no daemon)" \
	'[ $rc -eq 4 ] && grep -q "not attached" "$T/out"'
"$CLI" --url 2>"$T/err"; rc=$?
check "a global option without its value → exit 2, says so" '[ $rc -eq 2 ] && grep -q -- "--url needs a value" "$T/err"'
"$CLI" status --url ftp://x 2>/dev/null; rc=$?
check "non-http URL → exit 2" '[ $rc -eq 2 ]'
"$CLI" status --help >"$T/help"; rc=$?
check "--help documents the exit codes" '[ $rc -eq 0 ] && grep -q "exit status" "$T/help"'

# a web server that is not lxcscale: its 404 is not "no such container"
mkdir -p "$T/www"
OPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$T/www" && exec /usr/bin/python3 -m http.server "$OPORT" --bind 127.0.0.1) >/dev/null 2>&1 &
OPID=$!
for ((i = 0; i < 50; i++)); do curl -s -o /dev/null "http://127.0.0.1:$OPORT/" && break; sleep 0.1; done
for cmd in status "status 104" decisions "model show"; do
	"$CLI" $cmd --url "http://127.0.0.1:$OPORT" >/dev/null 2>"$T/err"; rc=$?
	check "$cmd against a web server that is not lxcscale → exit 1, says so" \
		'[ $rc -eq 1 ] && grep -q "is --url an lxcscale API" "$T/err"'
done
kill "$OPID" 2>/dev/null; wait "$OPID" 2>/dev/null

# URL and key from a config file
cat >"$T/lxcscale.yaml" <<CONF
server:
  host: "0.0.0.0"
  port: $PORT
authentication:
  enabled: true
  api_keys: ["clikey"]
CONF
clear_log
out=$("$CLI" scale 104 --cores 2 --config "$T/lxcscale.yaml" 2>&1); rc=$?
check "URL (0.0.0.0 → loopback) and key read from --config" '[ $rc -eq 0 ] && [ "$(log_lines)" = 1 ]'
finish

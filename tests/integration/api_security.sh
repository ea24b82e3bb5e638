#!/bin/bash
# The API's defences over real HTTP: X-API-Key (401/403/500 bodies, public routes, ?api_key=
# taken on the reference's routes only, with a once-per-client warning and never the key in
# the log, non-ASCII keys), the per-IP rate limit (429 body and headers, counting down,
# 127.0.0.1 and ::1 exempt but not the rest of 127/8, rejected requests never reach pct),
# the body limit, CSRF (query
# strings and non-JSON bodies cannot drive mutating routes), the non-loopback warning,
# and a hostile-input suite: malformed JSON, wrong types, overflowing numbers, 10 MB
# bodies, slow clients, unicode, path tricks and option injection. Every hostile request
# must get the right 4xx, never run pct, never change the config, never crash the server.
set -u
. "$(dirname "$0")/lib/api.sh"

make_ct 104 2 2048
conf_sum() { md5sum "$PCT_STAND_IN_DIR/104.conf" | cut -d' ' -f1; }

# ---- authentication ----
start_server --auth --key 's3cret-key' --key 'second-key' || { bad "server starts"; finish; exit 1; }
req POST /scale/cores '{"lxc_id":104,"cores":3}'
check "no key → 401 with the reference's text (header or api_key parameter)" \
	'[ "$CODE" = 401 ] && [ "$(jqb .message)" = "Missing API key. Provide via X-API-Key header or api_key parameter." ]'
req GET /api/v1/containers
check "no key on lxcscale's own /api/v1 → 401 naming the header only" \
	'[ "$CODE" = 401 ] && [ "$(jqb .message)" = "Missing API key. Provide it in the X-API-Key header." ]'
req POST /scale/cores '{"lxc_id":104,"cores":3}' -H 'X-API-Key: wrong'
check "wrong key → 403 Invalid API key" '[ "$CODE" = 403 ] && [ "$(jqb .message)" = "Invalid API key" ]'
req POST /scale/cores '{"lxc_id":104,"cores":3}' -H 'X-API-Key: s3cret-ke'
check "a prefix of the key → 403" '[ "$CODE" = 403 ]'
req POST /scale/cores '{"lxc_id":104,"cores":3}' -H 'X-API-Key: s3cret-keyX'
check "the key plus a byte → 403" '[ "$CODE" = 403 ]'
req POST /scale/cores '{"lxc_id":104,"cores":3}' -H 'X-API-Key: ключ-ü'
check "non-ASCII key → 403, not 500" '[ "$CODE" = 403 ]'
req POST "/scale/cores?api_key=wrong" '{"lxc_id":104,"cores":3}'
check "a wrong ?api_key= → 403" '[ "$CODE" = 403 ] && [ "$(jqb .message)" = "Invalid API key" ]'
req POST "/scale/cores?api_key=s3cret-key" '{"lxc_id":104,"cores":3}' -H 'X-API-Key: wrong'
check "the header wins over ?api_key= (a wrong header, a right parameter → 403)" '[ "$CODE" = 403 ]'
req GET "/api/v1/containers?api_key=s3cret-key"
check "?api_key= is not taken by lxcscale's own /api/v1 → 401" '[ "$CODE" = 401 ]'
check "nothing reached pct so far" '[ "$(log_lines)" = 0 ]'
req POST "/scale/cores?api_key=s3cret-key" '{"lxc_id":104,"cores":3}'
check "?api_key= accepted on a reference route, as the reference does" '[ "$CODE" = 200 ] && grep -qx "cores: 3" "$PCT_STAND_IN_DIR/104.conf"'
req GET "/resource/lxc/status?lxc_id=104&api_key=second-key"
check "?api_key= on a GET reference route (with other parameters)" '[ "$CODE" = 200 ] && [ "$(jqb .data)" = "status: running" ]'
req GET "/routes?api_key=s3cret-key"
check "?api_key= on /routes" '[ "$CODE" = 200 ]'
check "a warning that the header is safer, once for this client" \
	'[ "$(grep -c "client 127.0.0.1 sent its API key as ?api_key= in the URL" "$T/server.log")" = 1 ] && grep -q "send it in the X-API-Key header instead" "$T/server.log"'
check "the key itself is never logged" '! grep -q -e s3cret-key -e second-key "$T/server.log"'
req POST /scale/cores '{"lxc_id":104,"cores":2}' -H 'X-API-Key: second-key'
check "any configured key works" '[ "$CODE" = 200 ] && grep -qx "cores: 2" "$PCT_STAND_IN_DIR/104.conf"'
for p in / /health/check /metrics; do
	req GET "$p"
	check "public route $p needs no key" '[ "$CODE" = 200 ]'
done
for p in /routes "/resource/lxc/status?lxc_id=104" /api/v1/containers; do
	req GET "$p"
	check "protected route $p needs a key" '[ "$CODE" = 401 ]'
done
start_server --auth
req POST /scale/cores '{"lxc_id":104,"cores":3}' -H 'X-API-Key: anything'
check "auth enabled without keys → 500 API authentication misconfigured" \
	'[ "$CODE" = 500 ] && [ "$(jqb .message)" = "API authentication misconfigured" ]'

# ---- rate limiting (needs a non-loopback source address: this host's own) ----
ext=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -n1)
if [ -z "$ext" ]; then
	skipt "rate limit from a non-loopback address" "this host has no non-loopback IPv4 address"
else
	start_server --host "$ext" --rate 5/60
	U=http://$ext:$PORT
	clear_log
	rems=""
	for i in 1 2 3 4 5; do
		req GET "/resource/lxc/status?lxc_id=104"
		rems="$rems$(header x-ratelimit-remaining)"
	done
	check "X-RateLimit-Remaining counts down 4..0, limit 5" '[ "$rems" = 43210 ] && [ "$(header x-ratelimit-limit)" = 5 ]'
	reset=$(header x-ratelimit-reset); now=$(date +%s)
	check "X-RateLimit-Reset is an epoch second within the window" '[ "$reset" -gt "$now" ] && [ "$reset" -le $((now + 61)) ]'
	req GET "/resource/lxc/status?lxc_id=104"
	check "6th request → 429 with the reference's body" \
		'[ "$CODE" = 429 ] && [ "$(jqb .error)" = "Rate limit exceeded. Please try again later." ] && [ "$(jqb .limit)" = 5 ] && [ "$(jqb .window_seconds)" = 60 ] && [ "$(jqb .status)" = error ]'
	ra=$(header retry-after)
	check "Retry-After and retry_after_seconds agree, 1..61" \
		'[ "$ra" = "$(jqb .retry_after_seconds)" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 61 ] && [ "$(header x-ratelimit-remaining)" = 0 ]'
	check "rate-limited requests never reach pct" '[ "$(grep -c status "$PCT_STAND_IN_LOG")" = 5 ]'
	req GET /metrics
	check "/metrics is not rate-limited" '[ "$CODE" = 200 ]'
	req GET /health/check
	check "/health/check is rate-limited" '[ "$CODE" = 429 ]'
	U=http://127.0.0.1:$PORT
	# the server listens on $ext only; loopback exemption is checked on a loopback server below
	if grep -q "not a loopback address" "$T/server.log"; then ok "non-loopback bind without auth: warning logged"; else bad "non-loopback bind without auth: warning logged"; fi
fi
start_server --rate 2/60
for i in 1 2 3 4 5 6; do req GET "/resource/lxc/status?lxc_id=104"; done
check "127.0.0.1 is exempt (6 requests over a limit of 2)" '[ "$CODE" = 200 ] && [ -z "$(header x-ratelimit-limit)" ]'
# the reference exempts 127.0.0.1 and ::1 only: another loopback address is limited
if curl -s -o /dev/null --interface 127.0.0.2 --max-time 5 "$U/health/check" 2>/dev/null; then
	codes=""
	for i in 1 2 3; do
		req GET "/resource/lxc/status?lxc_id=104" '' --interface 127.0.0.2
		codes="$codes$CODE "
	done
	check "127.0.0.2 is not exempt: the 3rd request over a limit of 2 → 429 (the health probe counted too)" \
		'[ "$codes" = "200 429 429 " ] && [ "$(jqb .error)" = "Rate limit exceeded. Please try again later." ]'
else
	skipt "127.0.0.2 is rate-limited" "cannot send from 127.0.0.2 here"
fi
start_server --host ::1 --rate 2/60
if curl -s -o /dev/null -g --max-time 5 "http://[::1]:$PORT/health/check" 2>/dev/null; then
	for i in 1 2 3 4; do CODE=$(curl -s -g -o "$T/body" -w '%{http_code}' "http://[::1]:$PORT/resource/lxc/status?lxc_id=104"); done
	check "::1 is exempt (4 requests over a limit of 2)" '[ "$CODE" = 200 ]'
else
	skipt "::1 is exempt" "no IPv6 loopback here"
fi

# ---- hostile input: every request must be refused and change nothing ----
start_server --max-body 65536
sum0=$(conf_sum)
clear_log
hostile() { # name expected-code method path body [curl args]
	local name=$1 want=$2
	shift 2
	req "$@"
	check "hostile: $name → $want" '[ "$CODE" = "$want" ]'
}
hostile "malformed JSON" 400 POST /scale/cores '{"lxc_id":104,"cores":'
hostile "JSON array body" 400 POST /scale/cores '[104,2]'
hostile "trailing garbage after JSON" 400 POST /scale/cores '{"lxc_id":104,"cores":2} x'
hostile "empty object" 400 POST /scale/cores '{}'
hostile "cores as boolean" 400 POST /scale/cores '{"lxc_id":104,"cores":true}'
hostile "cores as fraction" 400 POST /scale/cores '{"lxc_id":104,"cores":2.5}'
hostile "cores as exponent string" 400 POST /scale/cores '{"lxc_id":104,"cores":"1e1"}'
hostile "cores null" 400 POST /scale/cores '{"lxc_id":104,"cores":null}'
hostile "cores object" 400 POST /scale/cores '{"lxc_id":104,"cores":{"n":2}}'
hostile "cores 0" 400 POST /scale/cores '{"lxc_id":104,"cores":0}'
hostile "cores 129" 400 POST /scale/cores '{"lxc_id":104,"cores":129}'
hostile "negative cores" 400 POST /scale/cores '{"lxc_id":104,"cores":-1}'
hostile "id overflowing int64" 400 POST /scale/cores '{"lxc_id":99999999999999999999999,"cores":2}'
hostile "id 2^63 as string" 400 POST /scale/cores '{"lxc_id":"9223372036854775808","cores":2}'
hostile "id 1e400 (infinity)" 400 POST /scale/cores '{"lxc_id":1e400,"cores":2}'
hostile "id below 100" 400 POST /scale/cores '{"lxc_id":99,"cores":2}'
hostile "id above 999999" 400 POST /scale/cores '{"lxc_id":1000000,"cores":2}'
hostile "id with spaces" 400 POST /scale/cores '{"lxc_id":" 104","cores":2}'
hostile "id '104; rm -rf /'" 400 POST /scale/cores '{"lxc_id":"104; rm -rf /","cores":2}'
hostile "memory 63" 400 POST /scale/ram '{"lxc_id":104,"memory":63}'
hostile "memory 1048577" 400 POST /scale/ram '{"lxc_id":104,"memory":1048577}'
hostile "disk_size 10241" 400 POST /scale/storage/increase '{"lxc_id":104,"disk_size":10241}'
hostile "snapshot name -rf (option injection)" 400 POST /snapshot/create '{"lxc_id":104,"snapshot_name":"-rf"}'
hostile "snapshot name --delete" 400 POST /snapshot/create '{"lxc_id":104,"snapshot_name":"--delete"}'
hostile "snapshot name with ;" 400 POST /snapshot/create '{"lxc_id":104,"snapshot_name":"a;reboot"}'
hostile "snapshot name with ../" 400 POST /snapshot/rollback '{"lxc_id":104,"snapshot_name":"../../etc"}'
hostile "snapshot name 41 chars" 400 POST /snapshot/create "{\"lxc_id\":104,\"snapshot_name\":\"$(printf 'a%.0s' $(seq 41))\"}"
hostile "snapshot name unicode" 400 POST /snapshot/create '{"lxc_id":104,"snapshot_name":"snäp"}'
hostile "snapshot name with NUL escape" 400 POST /snapshot/create '{"lxc_id":104,"snapshot_name":"a\u0000b"}'
hostile "snapshot name as number" 400 POST /snapshot/create '{"lxc_id":104,"snapshot_name":5}'
hostile "clone name -x" 400 POST /clone/create '{"lxc_id":104,"new_lxc_id":107,"new_lxc_name":"-x"}'
hostile "clone name with space" 400 POST /clone/create '{"lxc_id":104,"new_lxc_id":107,"new_lxc_name":"a b"}'
hostile "clone onto itself" 400 POST /clone/create '{"lxc_id":104,"new_lxc_id":104,"new_lxc_name":"x"}'
hostile "node name -v" 400 GET "/resource/node/status?node_name=-v"
hostile "node name with /" 400 GET "/resource/node/status?node_name=pve%2F..%2Fcluster"
hostile "deeply nested JSON" 400 POST /scale/cores "$(printf '[%.0s' $(seq 100))$(printf ']%.0s' $(seq 100))"
hostile "invalid UTF-8 in JSON" 400 POST /scale/cores $'{"lxc_id":104,"cores":"\xff\xfe"}'
CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X POST --data 'lxc_id=104&cores=2' "$U/scale/cores")
check "hostile: form-encoded body (CSRF) → 400" '[ "$CODE" = 400 ]'
CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data '{"lxc_id":104,"cores":2}' "$U/scale/cores")
check "hostile: text/plain JSON body (CSRF) → 400, the reason in detail" '[ "$CODE" = 400 ] && [ "$(jqb .detail)" = "Content-Type must be application/json" ]'
hostile "query string on a mutating route (CSRF)" 400 POST "/scale/cores?lxc_id=104&cores=2" ''
hostile "path trick /scale//cores" 404 POST /scale//cores '{"lxc_id":104,"cores":2}'
hostile "path trick /scale/./cores" 404 POST /scale/./cores '{"lxc_id":104,"cores":2}' --path-as-is
hostile "path trick /scale/cores/" 404 POST /scale/cores/ '{"lxc_id":104,"cores":2}'
hostile "path trick %2E%2E" 404 POST /scale/%2E%2E/scale/cores '{"lxc_id":104,"cores":2}' --path-as-is
hostile "path trick ../" 404 GET "/api/v1/containers/../../metrics" '' --path-as-is
hostile "v1 id with sign" 400 GET "/api/v1/containers/+104"
hostile "v1 id 0104567" 400 GET "/api/v1/containers/0104567"
hostile "GET with a 2-deep unicode query" 400 GET "/resource/lxc/status?lxc_id=%E2%91%A0%E2%91%A1%E2%91%A2"

errs=$(req POST /scale/cores '{"lxc_id":"x","cores":"y"}'; jq -r '.errors | length' "$T/body")
check "a 400 lists every failing field" '[ "$errs" = 2 ]'

dd if=/dev/zero bs=1M count=10 2>/dev/null | tr '\0' ' ' >"$T/big"
CODE=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H 'Expect:' --data-binary @"$T/big" "$U/scale/cores")
check "hostile: 10 MB body → 413" '[ "$CODE" = 413 ]'
curl -s -o "$T/body" -D "$T/headers" -X POST -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' -H 'Expect:' --data-binary @"$T/big" "$U/scale/cores"
# the server answers and closes while curl is still sending, so curl itself reports a send error
check "hostile: 10 MB chunked body (no Content-Length) → 413" 'grep -q "^HTTP/1.1 413" "$T/headers" && [ "$(jqb .message)" = "Request body too large" ]'
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Junk: $(head -c 40000 /dev/zero | tr '\0' a)" "$U/")
check "hostile: 40 KB header → refused with a 4xx" '[ "$CODE" -ge 400 ] && [ "$CODE" -lt 500 ]'

# slow clients: half-sent requests must not block anyone else
exec 7<>/dev/tcp/127.0.0.1/"$PORT"; printf 'POST /scale/cores HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"lxc' >&7
exec 8<>/dev/tcp/127.0.0.1/"$PORT"; printf 'GET /health/ch' >&8
req GET /health/check
check "slow clients do not block other requests" '[ "$CODE" = 200 ]'
exec 7>&- 8>&-

check "hostile requests ran no pct command (the health probe's pct list aside)" '[ "$(grep -vc "^pct.list$" "$PCT_STAND_IN_LOG")" = 0 ]'
check "hostile requests left the config unchanged" '[ "$(conf_sum)" = "$sum0" ]'
check "server survived all of it" 'server_alive'
req GET /metrics
check "metric labels stay bounded (unmatched paths share one label)" \
	'! grep -q "scale//cores" "$T/body" && grep -q "endpoint=\"unmatched\"" "$T/body"'

# slowloris: one address holding many half-open connections only blocks itself, and the
# idle timeout frees them
if [ -n "$ext" ]; then
	start_server --host 0.0.0.0 --conn-timeout 2
	trap '' PIPE # writes to connections the server refused must not kill this script
	fds=()
	for i in $(seq 1 70); do
		exec {fd}<>/dev/tcp/127.0.0.1/"$PORT" 2>/dev/null || break
		printf 'GET / HTTP/1.1\r\nHost: x\r\n' >&$fd 2>/dev/null
		fds+=("$fd")
	done
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$ext:$PORT/health/check")
	check "slowloris from one address: others are still served" '[ "$CODE" = 200 ]'
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT/health/check")
	check "…and that address hits its per-IP connection limit" '[ "$CODE" != 200 ]'
	sleep 3
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/health/check")
	check "idle half-open connections are dropped after the connection timeout" '[ "$CODE" = 200 ]'
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	trap - PIPE
	check "non-loopback bind without auth logs the warning at start" 'grep -q "0.0.0.0:.*not a loopback address" "$T/server.log"'
fi

finish

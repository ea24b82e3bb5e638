#!/bin/bash
# Optional TLS: with a certificate and key the API speaks HTTPS only; half a TLS config or
# an unreadable file stops start-up with a message instead of silently serving plain HTTP.
set -u
. "$(dirname "$0")/lib/api.sh"

if ! command -v openssl >/dev/null; then
	skipt "TLS" "openssl is not installed (needed only to make a test certificate)"
	finish; exit $?
fi
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
make_ct 104
start_server --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { bad "TLS server starts"; finish; exit 1; }
CODE=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/cert.pem" "https://127.0.0.1:$PORT/resource/lxc/status?lxc_id=104")
check "HTTPS request verified against the certificate → 200" '[ "$CODE" = 200 ] && [ "$(jqb .data)" = "status: running" ]'
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/")
check "plain HTTP on the TLS port gets no HTTP answer" '[ "$CODE" = 000 ] || [ "$CODE" -ge 400 ]'
stop_server

"$SERVER" --port-file "$T/p2" --tls-cert "$T/cert.pem" 2>"$T/err2"; rc=$?
check "certificate without key: refuses to start" '[ $rc -ne 0 ] && grep -q "both a certificate and a key" "$T/err2"'
"$SERVER" --port-file "$T/p3" --tls-cert "$T/cert.pem" --tls-key "$T/missing.pem" 2>"$T/err3"; rc=$?
check "unreadable key file: refuses to start" '[ $rc -ne 0 ] && grep -q "missing.pem" "$T/err3"'
"$SERVER" --port-file "$T/p4" --host "not-an-ip" 2>"$T/err4"; rc=$?
check "non-numeric server.host: refuses to start (no name lookups)" '[ $rc -ne 0 ] && grep -q "not a numeric" "$T/err4"'
finish

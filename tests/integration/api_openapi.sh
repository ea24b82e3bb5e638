#!/bin/bash
# api/openapi.yaml and the routes actually served agree: every (method, path) in GET /routes
# is documented and every documented operation is served (/routes is generated from the
# same table that dispatches requests). Also probes each documented path over HTTP so a
# table entry without a working handler would show up as 404/405.
set -u
. "$(dirname "$0")/lib/api.sh"
SPEC=$TOP/api/openapi.yaml

# the whole file is YAML a generator or a validator can load (the awk below reads its lines)
CODE=""
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	err=$(/usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d["openapi"] and d["paths"]' "$SPEC" 2>&1 | tail -3)
	check "openapi.yaml loads as YAML (python3-yaml)" '[ -z "$err" ]'
	[ -n "$err" ] && echo "$err" | sed 's/^/#   /'
else
	skp "openapi.yaml as YAML: /usr/bin/python3 has no yaml module (python3-yaml, make deps)"
fi

start_server || { bad "server starts"; finish; exit 1; }
req GET /routes
check "GET /routes answers" '[ "$CODE" = 200 ]'
jq -r '.[] | "\(.methods | split(",") | map(select(. != "HEAD" and . != "OPTIONS")) | .[0]) \(.url)"' "$T/body" \
	| sort >"$T/served"
awk '
	/^paths:/ { inpaths = 1; next }
	inpaths && /^[^ ]/ { inpaths = 0 }
	inpaths && /^  \/[^ ]*:$/ { path = $1; sub(/:$/, "", path); next }
	inpaths && /^    (get|post|delete|put|patch):/ { m = $1; sub(/:$/, "", m); print toupper(m), path }
' "$SPEC" | sort >"$T/documented"
check "openapi.yaml documents operations" '[ "$(wc -l <"$T/documented")" -ge 20 ]'
missing=$(comm -23 "$T/served" "$T/documented")
extra=$(comm -13 "$T/served" "$T/documented")
check "every served route is in openapi.yaml" '[ -z "$missing" ]'
[ -n "$missing" ] && echo "$missing" | sed 's/^/#   undocumented: /'
check "every documented operation is served" '[ -z "$extra" ]'
[ -n "$extra" ] && echo "$extra" | sed 's/^/#   not served: /'

# each documented operation reaches a handler (no 404/405)
unreachable=""
while read -r m p; do
	p=${p//\{id\}/104}
	p=${p//\{file\}/app.js}
	code=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' -d '{}' "$U$p" --max-time 5)
	case $code in 404|405|000) unreachable="$unreachable $m:$p:$code" ;; esac
done <"$T/documented"
check "every documented operation reaches a handler" '[ -z "$unreachable" ]'
[ -n "$unreachable" ] && echo "#  $unreachable"
finish

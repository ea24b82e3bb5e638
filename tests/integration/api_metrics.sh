#!/bin/bash
# /metrics after real traffic: the reference's series as its metrics.py writes them (names,
# HELP texts, `endpoint` the matched rule's path, its routes only) and lxcscale's own
# lxcscale_api_* series by route name for every route; the names are there and filled, the text
# passes a strict exposition-format checker (lib/expocheck.py; promtool as well when it is
# installed), the checker itself rejects broken text, and every label stays bounded:
# unknown paths, odd methods and thousands of container ids cannot grow the output.
set -u
. "$(dirname "$0")/lib/api.sh"
CHECKER=$(dirname "$0")/lib/expocheck.py

make_ct 104 2 2048
start_server || { bad "server starts"; finish; exit 1; }
req POST /scale/cores '{"lxc_id":104,"cores":3}'
req POST /scale/ram '{"lxc_id":104,"memory":3072}'
req POST /scale/storage/increase '{"lxc_id":104,"disk_size":1}'
req POST /scale/cores '{"lxc_id":104,"cores":"x"}'
req POST /scale/ram '{"lxc_id":777,"memory":1024}'          # pct fails: no such CT
req GET "/resource/lxc/config?lxc_id=104"
req GET /nope
curl -s -o /dev/null -X FOO "$U/"
req GET "/resource/vm/status?lxc_id=104"
req GET /api/v1/containers
req GET /scale/cores
req OPTIONS /scale/cores
req GET /metrics
cp "$T/body" "$T/m1"
check "Content-Type is the 0.0.4 text format" 'header content-type | grep -q "text/plain; version=0.0.4"'

for name in lxc_autoscale_api_requests_total lxc_autoscale_api_request_duration_seconds_bucket \
	lxc_autoscale_scaling_actions_total lxc_autoscale_scaling_failures_total \
	lxc_autoscale_container_cpu_cores lxc_autoscale_container_memory_mb; do
	check "$name is exposed and filled" 'grep -q "^$name{" "$T/m1"'
done
check "scaling action counted per container/resource/action" \
	'grep -qx "lxc_autoscale_scaling_actions_total{container_id=\"104\",resource=\"cpu\",action=\"set\"} 1" "$T/m1" && grep -qx "lxc_autoscale_scaling_actions_total{container_id=\"104\",resource=\"storage\",action=\"increase\"} 1" "$T/m1"'
check "failures carry a reason (invalid_request, command_failed)" \
	'grep -q "reason=\"invalid_request\"} 1" "$T/m1" && grep -qx "lxc_autoscale_scaling_failures_total{container_id=\"777\",resource=\"ram\",reason=\"command_failed\"} 1" "$T/m1"'
check "gauges follow /resource/lxc/config" \
	'grep -qx "lxc_autoscale_container_cpu_cores{container_id=\"104\"} 3" "$T/m1" && grep -qx "lxc_autoscale_container_memory_mb{container_id=\"104\"} 3072" "$T/m1"'
check "unknown paths → endpoint=unmatched, odd methods → method=other" \
	'grep -q "endpoint=\"unmatched\",status=\"404\"" "$T/m1" && grep -q "method=\"other\"" "$T/m1"'

check "the reference's endpoint label is the matched rule's path (/scale/cores, not scale_cores)" \
	'grep -qx "lxc_autoscale_api_requests_total{method=\"POST\",endpoint=\"/scale/cores\",status=\"200\"} 1" "$T/m1" && grep -qx "lxc_autoscale_api_requests_total{method=\"GET\",endpoint=\"/resource/vm/status\",status=\"200\"} 1" "$T/m1" && grep -q "^lxc_autoscale_api_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/scale/storage/increase\",le=\"0.005\"}" "$T/m1"'
check "no route name in the reference's series" \
	'! grep -E "^lxc_autoscale_api_[a-z_]+\{[^}]*endpoint=\"[a-z_0-9]+\"" "$T/m1" | grep -v "endpoint=\"unmatched\"" | grep -q .'
check "lxcscale's own routes are not in the reference's series" '! grep "^lxc_autoscale_api_" "$T/m1" | grep -q "/api/v1"'
check "a wrong method is unmatched (405), OPTIONS counts under the path, as Flask does" \
	'grep -qx "lxc_autoscale_api_requests_total{method=\"GET\",endpoint=\"unmatched\",status=\"405\"} 1" "$T/m1" && grep -qx "lxc_autoscale_api_requests_total{method=\"OPTIONS\",endpoint=\"/scale/cores\",status=\"200\"} 1" "$T/m1"'
check "the reference's HELP texts" \
	'grep -qx "# HELP lxc_autoscale_api_requests_total Total API requests" "$T/m1" && grep -qx "# HELP lxc_autoscale_api_request_duration_seconds API request duration in seconds" "$T/m1" && grep -qx "# HELP lxc_autoscale_scaling_actions_total Total scaling actions performed" "$T/m1" && grep -qx "# HELP lxc_autoscale_scaling_failures_total Total scaling action failures" "$T/m1" && grep -qx "# HELP lxc_autoscale_container_cpu_cores Current CPU cores allocated" "$T/m1" && grep -qx "# HELP lxc_autoscale_container_memory_mb Current memory allocated in MB" "$T/m1"'
check "lxcscale_api_requests_total: every route by name, /api/v1 included" \
	'grep -qx "lxcscale_api_requests_total{method=\"POST\",endpoint=\"scale_cores\",status=\"200\"} 1" "$T/m1" && grep -qx "lxcscale_api_requests_total{method=\"GET\",endpoint=\"v1_containers\",status=\"503\"} 1" "$T/m1" && grep -q "^lxcscale_api_request_duration_seconds_count{method=\"GET\",endpoint=\"v1_containers\"} 1" "$T/m1"'

out=$(/usr/bin/python3 "$CHECKER" "$T/m1" 2>&1)
check "exposition passes the strict checker" '[ -z "$out" ]'
[ -n "$out" ] && echo "$out" | head -5 | sed 's/^/#   /'
printf '# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="1"} 2\nbad line here\n' >"$T/broken"
check "the checker rejects broken text (duplicate series, bad line, no HELP)" \
	'! /usr/bin/python3 "$CHECKER" "$T/broken" >/dev/null'
printf '# HELP h x\n# TYPE h histogram\nh_bucket{le="1.0"} 5\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 3\n' >"$T/broken2"
check "the checker rejects a non-cumulative histogram" '! /usr/bin/python3 "$CHECKER" "$T/broken2" >/dev/null'
if command -v promtool >/dev/null; then
	promtool check metrics <"$T/m1" >"$T/promtool.out" 2>&1
	# The reference's own name lxc_autoscale_container_memory_mb must stay (existing dashboards use
	# it); promtool's lint flags its unit suffix. Any other finding is a failure.
	grep -v -x "lxc_autoscale_container_memory_mb metric names should not contain abbreviated units" "$T/promtool.out" >"$T/promtool.rest"
	check "promtool check metrics (only the reference's own _mb name is linted)" '[ ! -s "$T/promtool.rest" ]'
	[ -s "$T/promtool.rest" ] && sed "s/^/#   /" "$T/promtool.rest" | head -10
else
	skipt "promtool check metrics" "promtool not installed (Debian's prometheus package installs and starts a full server)"
fi

# label bounds: 1100 distinct container ids and 200 distinct unknown paths (the last `next`
# is dropped: curl would take it as one more request without a URL and complain)
for i in $(seq 1000 2099); do printf 'url = "%s/scale/cores"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata = "{\\"lxc_id\\":%d,\\"cores\\":0}"\noutput = /dev/null\nnext\n' "$U" "$i"; done | sed '$d' >"$T/curlcfg"
curl -s -K "$T/curlcfg"
for i in $(seq 1 200); do printf 'url = "%s/unknown/%d"\noutput = /dev/null\nnext\n' "$U" "$i"; done | sed '$d' >"$T/curlcfg2"
curl -s -K "$T/curlcfg2"
req GET /metrics
cp "$T/body" "$T/m2"
ids=$(grep -o 'container_id="[^"]*"' "$T/m2" | sort -u | wc -l)
check "container_id values are capped (1024 ids + other + unknown)" '[ "$ids" -le 1026 ] && grep -q "container_id=\"other\"" "$T/m2"'
check "no unknown path appears as a label" '! grep -q "/unknown/" "$T/m2"'
out=$(/usr/bin/python3 "$CHECKER" "$T/m2" 2>&1)
check "exposition still valid after the flood" '[ -z "$out" ]'
check "exposition size stays bounded (< 512 KiB)" '[ "$(wc -c <"$T/m2")" -lt 524288 ]'

finish

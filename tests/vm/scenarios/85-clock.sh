# 85-clock.sh — the wall clock stepping under the live daemon: an NTP step, an admin's
# `date -s`, a host resumed from suspend. Every interval in the daemon (tick timer,
# cooldowns, the persister's debounce, timeouts) must run on CLOCK_MONOTONIC and carry on as
# if nothing happened; only the timestamps people read (decisions, the metrics file) follow
# the new wall clock. faults_clock.sh audits the source for this on the host; here the VM's
# clock is really stepped (the host's cannot be), 2 days back and then 3 days forward:
#   851  CPU bursts scaled up and down by the daemon itself before, after the step back
#        (a cooldown measured on the wall clock would block for 2 days) and, after the step
#        forward, a manual POST /scale/cores persisted through the debounced persister
# Each step is checked by: ticks still counted (lxcscale_loop_ticks_total), a decision
# taken, the Proxmox config following, and the new date in decisions and the metrics file.
# Between the first two bursts 851 is tagged lxcscale-ignore with pct set (noticed in
# persist.config_dir, no reload): a burst then changes nothing, and once the tag is gone
# the next burst is scaled again.
. /lxcscale/lib.sh

PVE=/tmp/d85-pve
W=/tmp/d85
rm -rf "$PVE" "$W"
mkdir -p "$PVE" "$W"
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/argv.log
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
U=http://127.0.0.1:5000

ct_create 851 || { fail "create lxc/851"; exit 0; }
echo "100000 100000" > "$CG/lxc/851/cpu.max"
echo 0 > "$CG/lxc/851/cpuset.cpus"
echo 0 > "$CG/lxc/851/ns/cpuset.cpus"
echo $((128 * 1048576)) > "$CG/lxc/851/memory.max"
printf 'arch: amd64\ncores: 1\nhostname: ct851\nmemory: 128\nswap: 0\n' > "$PVE/851.conf"
echo running > "$PVE/851.state"
sleep 100000 </dev/null >/dev/null 2>&1 &
echo $! > "$CG/lxc/851/ns/cgroup.procs"

cat > "$W/cfg.yaml" <<EOF
lock_file: $W/lock
log_file: ""
data_file: $W/lxc_metrics.json
metrics_interval_seconds: 1
model_file: ""
suggestions_file: ""
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 100
ignore_lxc: [101, 102]
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 2
  cpu_scale_step: 1
  cpu_scale_up_threshold: 75
  cpu_scale_down_threshold: 30
  min_ram_mb: 128
  max_ram_mb: 128
  cooldown_up_seconds: 2
  cooldown_down_seconds: 2
  smoothing_factor: 1
  total_cores: 64
  total_ram_mb: 65536
model:
  n_estimators: 20
bpf:
  enabled: false
persist:
  pct_path: /lxcscale/tools/pct
  debounce_ms: 300
  config_dir: $PVE
server:
  host: 127.0.0.1
  port: 5000
EOF

cpu_max_is() { [ "$(cat "$CG/lxc/$1/cpu.max")" = "$2" ]; }
conf_is() { [ "$(sed -n "s/^$2: //p" "$PVE/$1.conf")" = "$3" ]; }
log_has() { grep -q -- "$1" "$W/daemon.log"; }
get() { wget -q -O - "$U$1" 2>/dev/null; }
ticks() { get /metrics | sed -n 's/^lxcscale_loop_ticks_total \([0-9]*\).*/\1/p'; }
# step SECONDS: move the wall clock (CLOCK_REALTIME) by SECONDS, like `date -s`
step() { date -u -s "$(date -u -d "@$(( $(date +%s) + $1 ))" '+%Y-%m-%d %H:%M:%S')" >/dev/null; }
# burst WHAT: a CPU burner in 851 until the daemon raises cpu.max (20 s at most), then
# quiet until it lowers it again
burst() {
	_pid=$(ct_spawn 851 cpu_burner -t 1 -s 40)
	if wait_until 20 cpu_max_is 851 "200000 100000"; then
		ok "$1: the daemon scaled 851 up by itself (cpu.max 200000 100000)"
	else
		fail "$1: cpu.max not raised within 20 s: $(cat "$CG/lxc/851/cpu.max")"
		grep '851' "$W/daemon.log" | tail -5 | sed 's/^/info - log: /'
	fi
	kill "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	wait_until 5 conf_is 851 cores 2 && ok "$1: persisted after the debounce (851.conf cores: 2)" ||
		fail "$1: 851.conf cores: $(sed -n 's/^cores: //p' "$PVE/851.conf")"
	wait_until 20 cpu_max_is 851 "100000 100000" && ok "$1: and back down once quiet (cooldown 2 s)" ||
		fail "$1: cpu.max not lowered after the burst: $(cat "$CG/lxc/851/cpu.max")"
	wait_until 5 conf_is 851 cores 1 || fail "$1: 851.conf did not follow the scale-down"
}
# ticking WHAT: the tick counter moves over a second of monotonic sleep
ticking() {
	_t0=$(ticks)
	sleep 1
	_t1=$(ticks)
	[ -n "$_t0" ] && [ -n "$_t1" ] && [ "$_t1" -gt "$_t0" ] &&
		ok "$1: the loop still ticks ($_t0 -> $_t1 ticks over 1 s)" ||
		fail "$1: ticks ${_t0:-?} -> ${_t1:-?}"
}

real0=$(date +%s)
mono0=$(cut -d. -f1 /proc/uptime)
lxcscaled --config "$W/cfg.yaml" --foreground > "$W/daemon.log" 2>&1 &
DPID=$!
if ! wait_until 30 log_has "ready:"; then
	fail "lxcscaled starts live in the VM: $(tail -5 "$W/daemon.log" | tr '\n' '|')"
	kill $DPID 2>/dev/null
	exit 0
fi
ok "lxcscaled starts live"
burst "before any step"

# the Proxmox tag: a burst while it is there is left alone
/lxcscale/tools/pct set 851 --tags lxcscale-ignore
if wait_until 10 log_has "container 851: Proxmox tag lxcscale-ignore: watched, never scaled"; then
	ok "tag lxcscale-ignore set with pct set: noticed without a reload"
	decided=$(grep -c 'container 851: CPU - ' "$W/daemon.log")
	_pid=$(ct_spawn 851 cpu_burner -t 1 -s 40)
	sleep 5 # the bursts above are scaled within 2 s
	cpu_max_is 851 "100000 100000" && [ "$(grep -c 'container 851: CPU - ' "$W/daemon.log")" = "$decided" ] &&
		ok "a 5 s burst in the tagged 851: no decision, cpu.max stays 100000 100000" ||
		fail "the tagged 851 was changed: cpu.max $(cat "$CG/lxc/851/cpu.max"), $(grep 'container 851: CPU - ' "$W/daemon.log" | tail -1)"
	kill "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
else
	fail "the tag lxcscale-ignore was not noticed within 10 s"
fi
/lxcscale/tools/pct set 851 --delete tags
wait_until 10 log_has "container 851: Proxmox tag lxcscale-ignore gone: scaled again" &&
	ok "tag removed with pct set --delete tags: scaled again (the next burst shows it)" ||
	fail "the tag's removal was not noticed within 10 s"

step -172800
info "wall clock stepped back 2 days: $(date -u '+%Y-%m-%d %H:%M:%S')"
ticking "after the step back"
burst "after the step back"

step 259200
today=$(date -u +%Y-%m-%d)
info "wall clock stepped forward 3 days: $(date -u '+%Y-%m-%d %H:%M:%S')"
ticking "after the step forward"
t0=$(( $(date +%s) * 1000 ))
out=$(wget -q -O - --header 'Content-Type: application/json' --post-data '{"lxc_id": 851, "cores": 2}' \
	"$U/scale/cores" 2>&1)
echo "$out" | grep -q '"status":"success"' && ok "after the step forward: POST /scale/cores answered success" ||
	fail "after the step forward: POST /scale/cores: $out"
wait_until 5 conf_is 851 cores 2 && ok "after the step forward: the manual change is persisted (851.conf cores: 2)" ||
	fail "after the step forward: 851.conf cores: $(sed -n 's/^cores: //p' "$PVE/851.conf")"
# the newest decision's wall-clock stamp is today's (new) time, not the old one
last=$(get "/api/v1/decisions?since=0&limit=1000" | tr '}' '\n' | sed -n 's/.*"time_ms":\([0-9]*\),"vmid":851.*/\1/p' | tail -n1)
if [ -n "$last" ] && [ "$last" -ge $((t0 - 60000)) ] && [ "$last" -le $((t0 + 60000)) ]; then
	ok "decisions carry the new wall-clock time"
else
	fail "the newest decision's time_ms is ${last:-none}, the wall clock says $t0"
fi
wait_until 5 grep -q "\"timestamp\": \"$today" "$W/lxc_metrics.json" &&
	ok "the metrics file's newest cycle carries the new date ($today)" ||
	fail "no cycle dated $today in the metrics file: $(grep -o '"timestamp": "[^"]*"' "$W/lxc_metrics.json" | tail -n1)"

# back to the real time: what passed on the monotonic clock since the start
step $(( real0 + $(cut -d. -f1 /proc/uptime) - mono0 - $(date +%s) ))
ticking "after the clock was set right again"
if grep -q "ERROR\|CRITICAL" "$W/daemon.log"; then
	fail "the daemon logged errors: $(grep 'ERROR\|CRITICAL' "$W/daemon.log" | head -3 | tr '\n' '|')"
else
	ok "no ERROR in the daemon's log through three clock steps"
fi
kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" && ok "SIGTERM: the daemon stops" || { fail "the daemon does not stop"; kill -9 $DPID; }
exit 0

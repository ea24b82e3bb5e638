# 80-daemon.sh — the whole daemon on the real kernel: the REAL lxcscaled, live (not dry
# run), deciding by itself, with the stand-in pct (tests/tools/pct) keeping <vmid>.conf
# files, and its REST API on loopback.
#   801  CPU bursts without BPF: the daemon raises cpu.max and widens cpuset.cpus by itself,
#        calls `pct set 801 --cores 2`, the conf follows; burst start -> cgroup write for 10
#        bursts, the first one included (without BPF there is no idle tier, so the first
#        burst is seen within the quiet period). The same on real LXC containers with BPF,
#        30 bursts, and memory growth: 60-lxc.sh, 61-lxc-systemd.sh
#   803  a manual POST /scale/ram over loopback (busybox wget): applied to the cgroup,
#        persisted, listed by /api/v1/decisions
# Timings are printed as info lines, never asserted.
. /lxcscale/lib.sh

PVE=/tmp/d80-pve
W=/tmp/d80
rm -rf "$PVE" "$W"
mkdir -p "$PVE" "$W"
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/argv.log
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
U=http://127.0.0.1:5000

# ct_setup ID CPU_MAX CPUSET MEM_MB CONF_CORES: cgroup limits and a conf that agree
ct_setup() {
	ct_create "$1" || return 1
	echo "$2" > "$CG/lxc/$1/cpu.max"
	echo "$3" > "$CG/lxc/$1/cpuset.cpus"
	echo "$3" > "$CG/lxc/$1/ns/cpuset.cpus"
	echo $(($4 * 1048576)) > "$CG/lxc/$1/memory.max"
	echo $(($4 * 1048576 / 1024 * 1016)) > "$CG/lxc/$1/memory.high"
	echo 0 > "$CG/lxc/$1/memory.swap.max" 2>/dev/null
	printf 'arch: amd64\ncores: %s\nhostname: ct%s\nmemory: %s\nswap: 0\n' "$5" "$1" "$4" > "$PVE/$1.conf"
	echo running > "$PVE/$1.state"
}
conf() { sed -n "s/^$2: //p" "$PVE/$1.conf"; }
cpu_max_is() { [ "$(cat "$CG/lxc/$1/cpu.max")" = "$2" ]; }
log_has() { grep -q -- "$1" "$W/daemon.log"; }
get() { wget -q -O - "$U$1" 2>/dev/null; }

ct_setup 801 "100000 100000" 0 64 1
ct_setup 803 "100000 100000" 0-1 128 1
sleep 100000 </dev/null >/dev/null 2>&1 & # stand-ins for the containers' init
echo $! > "$CG/lxc/801/ns/cgroup.procs"
sleep 100000 </dev/null >/dev/null 2>&1 &
echo $! > "$CG/lxc/803/ns/cgroup.procs"

cat > "$W/cfg.yaml" <<EOF
lock_file: $W/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: $W/suggestions.jsonl
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 100
ignore_lxc: [101, 102, 803]
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 2
  cpu_scale_step: 1
  cpu_scale_up_threshold: 75
  cpu_scale_down_threshold: 30
  min_ram_mb: 64
  max_ram_mb: 320
  ram_scale_step_mb: 64
  ram_scale_up_threshold: 60
  ram_scale_down_threshold: 10
  cooldown_up_seconds: 0
  cooldown_down_seconds: 1
  smoothing_factor: 1
  total_cores: 64
  total_ram_mb: 65536
model:
  n_estimators: 20
bpf:
  enabled: false
persist:
  pct_path: /lxcscale/tools/pct
  debounce_ms: 50
server:
  host: 127.0.0.1
  port: 5000
EOF

lxcscaled --config "$W/cfg.yaml" --foreground > "$W/daemon.log" 2>&1 &
DPID=$!
if ! wait_until 30 log_has "ready:"; then
	fail "lxcscaled starts live in the VM: $(tail -5 "$W/daemon.log" | tr '\n' '|')"
	kill $DPID 2>/dev/null
	exit 0
fi
ok "lxcscaled starts live (journal, reconcile, persister, REST API)"
wait_until 10 log_has "container 803: allocation from its Proxmox config" &&
	ok "allocation read from the Proxmox config (pct config --current), off the loop" ||
	fail "no allocation from the config: $(grep -m2 'allocation' "$W/daemon.log" | tr '\n' '|')"

# ---- 801: CPU bursts ---------------------------------------------------------------------
lat="" n=0 since=0 first=1 end=$(( $(date +%s) + 30 ))
while [ "$(date +%s)" -lt "$end" ]; do
	t0=$(now_ms)
	pid=$(ct_spawn 801 cpu_burner -t 1 -s 20)
	if ! wait_until 10 cpu_max_is 801 "200000 100000"; then
		kill "$pid" 2>/dev/null
		fail "burst $((n + 1)): cpu.max not raised within 10 s: $(cat "$CG/lxc/801/cpu.max")"
		grep '801' "$W/daemon.log" | tail -8 | sed 's/^/info - log: /'
		get /api/v1/containers/801 | head -c 600 | sed 's/^/info - api: /'; echo
		break
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# the decision that raised it: its time_ms is stamped right before the cgroup write
	js=$(get "/api/v1/decisions?since=$since&limit=1000")
	seq=$(echo "$js" | sed -n 's/.*"next_since":\([0-9]*\).*/\1/p')
	# the first cpu-up of 801 stamped at or after the burst's start
	ts=""
	for x in $(echo "$js" | tr '}' '\n' | sed -n 's/.*"seq":[0-9]*,"time_ms":\([0-9]*\),"vmid":801,"cpu":{"change":"up".*/\1/p'); do
		[ "$x" -ge "$t0" ] && { ts=$x; break; }
	done
	reason=$(echo "$js" | tr '{' '\n' | grep -A20 '"vmid":801,"cpu":' | sed -n 's/.*"reason":"\([a-z]*\)".*/\1/p' | head -n1)
	[ -n "$seq" ] && since=$seq
	if [ -n "$ts" ]; then
		lat="$lat $((ts - t0))"
		n=$((n + 1))
	fi
	if [ $first = 1 ]; then
		first=0
		c=$(cat "$CG/lxc/801/cpuset.cpus")
		[ "$c" = "0-1" ] && ok "burst: the daemon widened cpuset.cpus to 0-1" ||
			fail "burst: cpuset.cpus is '$c'"
		wait_until 5 sh -c "grep -q \"\$(printf 'pct\tset\t801\t--cores\t2')\" $PVE/argv.log" &&
			ok "burst: the daemon called pct set 801 --cores 2" ||
			fail "burst: no 'pct set 801 --cores 2': $(grep 801 "$PVE/argv.log" | tail -3 | tr '\n' '|')"
		wait_until 5 sh -c "[ \"\$(sed -n 's/^cores: //p' $PVE/801.conf)\" = 2 ]" &&
			ok "burst: 801.conf says cores: 2" || fail "burst: 801.conf cores: $(conf 801 cores)"
		[ -n "$ts" ] && ok "burst: the decision is in /api/v1/decisions (reason $reason)" ||
			fail "burst: no cpu-up decision for 801 in /api/v1/decisions"
	fi
	# back down once quiet, so the next burst starts from 1 core
	wait_until 15 cpu_max_is 801 "100000 100000" || { fail "burst $n: cpu.max not lowered after the burst"; break; }
	[ $n -ge 10 ] && break
done
if [ $n -gt 0 ]; then
	sorted=$(echo $lat | tr ' ' '\n' | sort -n)
	p50=$(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p")
	i99=$(( (n * 99 + 99) / 100 )); [ $i99 -gt $n ] && i99=$n
	p99=$(echo "$sorted" | sed -n "${i99}p")
	info "daemon burst start -> cpu.max write: p50 ${p50} ms, p99 ${p99} ms over $n bursts (BPF off, first $(echo $lat | cut -d" " -f1) ms; tick 100 ms, cooldown_up 0, TCG VM; all: $lat)"
	[ $n -ge 10 ] && ok "burst: $n bursts scaled up and back down by the daemon itself" ||
		ok "burst: $n bursts scaled up and back down by the daemon itself (fewer than 10 fit in 30 s here)"
fi
c=$(grep -c "$(printf 'set\t801\t')" "$PVE/argv.log")
info "burst: $c pct set calls for 801 (persist debounce 50 ms)"
wait_until 5 sh -c "[ \"\$(sed -n 's/^cores: //p' $PVE/801.conf)\" = 1 ]" &&
	ok "burst: 801.conf follows the last scale-down (cores: 1)" || fail "burst: 801.conf cores: $(conf 801 cores)"

# ---- 803: manual POST /scale/ram over loopback -------------------------------------------
out=$(wget -q -O - --header 'Content-Type: application/json' --post-data '{"lxc_id": 803, "memory": 192}' \
	"$U/scale/ram" 2>&1)
echo "$out" | grep -q '"status":"success"' && ok "manual: POST /scale/ram answered success" ||
	fail "manual: POST /scale/ram: $out"
m=$(cat "$CG/lxc/803/memory.max")
[ "$m" = $((192 * 1048576)) ] && ok "manual: memory.max of 803 is 192 MiB as soon as the answer came" ||
	fail "manual: memory.max of 803 is $m"
wait_until 5 sh -c "[ \"\$(sed -n 's/^memory: //p' $PVE/803.conf)\" = 192 ]" &&
	ok "manual: persisted (pct set 803 --memory 192, 803.conf memory: 192)" || fail "manual: 803.conf memory: $(conf 803 memory)"
get "/api/v1/decisions?since=0&limit=1000" | grep -q '"vmid":803,"cpu":{"change":"none"[^}]*},"memory":{"change":"set","from_mb":128,"to_mb":192}' &&
	ok "manual: /api/v1/decisions lists 803 128 -> 192 MiB" || fail "manual: no such decision in /api/v1/decisions"
log_has "Scaling container 803" && ok "manual: logged like every decision" || fail "manual: not in the log"

kill $DPID
wait_until 10 sh -c "! kill -0 $DPID 2>/dev/null" && ok "SIGTERM: the daemon stops" || { fail "the daemon does not stop"; kill -9 $DPID; }
grep -q "ERROR\|CRITICAL" "$W/daemon.log" && info "daemon errors: $(grep 'ERROR\|CRITICAL' "$W/daemon.log" | head -3 | tr '\n' '|')"
exit 0

# 90-valgrind.sh — the live daemon under valgrind memcheck on the real kernel, through the
# paths only this VM can run: BPF programs loaded, the cgroup limits written (a decision by
# the daemon itself and manual ones over the REST API), `pct set` spawned by the persister,
# a container removed while watched, a SIGHUP reload, then SIGTERM. Passes with 0 errors
# and 0 bytes definitely lost (valgrind's own exit code and summary). The host's
# valgrind_daemon.sh covers the dry-run daemon with churn; this covers actuation.
# busybox 1.35's wget crashes with -T, so no wget timeout here.
# valgrind on TCG runs the daemon ~100x slower than natively: the checks wait long.
# vm-timeout: 480
. /lxcscale/lib.sh

VG=/usr/bin/valgrind.bin
[ -x "$VG" ] && [ -x /usr/libexec/valgrind/memcheck-amd64-linux ] ||
	{ skip "valgrind: not installed on the host that built the VM"; exit 0; }

PVE=/tmp/d90-pve
W=/tmp/d90
rm -rf "$PVE" "$W"
mkdir -p "$PVE" "$W"
export PCT_STAND_IN_DIR=$PVE PCT_STAND_IN_LOG=$PVE/argv.log
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
U=http://127.0.0.1:5000

# ct_setup ID MEM_MB: one core, MEM_MB, and a conf that agrees
ct_setup() {
	ct_create "$1" || return 1
	echo "100000 100000" > "$CG/lxc/$1/cpu.max"
	echo 0 > "$CG/lxc/$1/cpuset.cpus"
	echo 0 > "$CG/lxc/$1/ns/cpuset.cpus"
	echo $(($2 * 1048576)) > "$CG/lxc/$1/memory.max"
	printf 'arch: amd64\ncores: 1\nhostname: ct%s\nmemory: %s\nswap: 0\n' "$1" "$2" > "$PVE/$1.conf"
	echo running > "$PVE/$1.state"
	sleep 100000 </dev/null >/dev/null 2>&1 &
	echo $! > "$CG/lxc/$1/ns/cgroup.procs"
}
ct_setup 901 128
ct_setup 902 128
ct_setup 903 128

cat > "$W/cfg.yaml" <<EOF
lock_file: $W/lock
log_file: ""
data_file: $W/lxc_metrics.json
metrics_interval_seconds: 2
model_file: $W/model.bin
suggestions_file: $W/suggestions.jsonl
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 200
ignore_lxc: [101, 102]
scaling:
  dry_run: false
  min_cpu_cores: 1
  max_cpu_cores: 2
  cpu_scale_step: 1
  cpu_scale_up_threshold: 75
  cpu_scale_down_threshold: 30
  min_ram_mb: 128
  max_ram_mb: 256
  cooldown_up_seconds: 0
  cooldown_down_seconds: 600
  smoothing_factor: 1
  total_cores: 64
  total_ram_mb: 65536
model:
  n_estimators: 20
bpf:
  enabled: true
persist:
  pct_path: /lxcscale/tools/pct
  debounce_ms: 100
server:
  host: 127.0.0.1
  port: 5000
EOF

cpu_max_is() { [ "$(cat "$CG/lxc/$1/cpu.max")" = "$2" ]; }
conf_is() { [ "$(sed -n "s/^$2: //p" "$PVE/$1.conf")" = "$3" ]; }
log_has() { grep -q -- "$1" "$W/daemon.log"; }

$VG --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--track-fds=no --error-exitcode=99 --num-callers=24 --log-file="$W/valgrind.log" \
	--suppressions=/lxcscale/valgrind.supp \
	/lxcscale/bin/lxcscaled --config "$W/cfg.yaml" --foreground > "$W/daemon.log" 2>&1 &
VPID=$!
up() { cut -d' ' -f1 /proc/uptime; }
t0=$(up)
if ! wait_until 360 log_has "ready:"; then
	fail "lxcscaled under valgrind did not get ready in 360 s: $(tail -3 "$W/daemon.log" | tr '\n' '|')"
	tail -20 "$W/valgrind.log" | sed 's/^/info - vg: /'
	kill -9 $VPID 2>/dev/null
	exit 0
fi
ok "lxcscaled starts live under valgrind (BPF, journal, persister, REST API)"
info "ready under valgrind after $(awk "BEGIN{printf \"%.1f\", $(up) - $t0}") s"
log_has "bpf: " && info "$(grep -m1 'bpf: ' "$W/daemon.log")"

# the daemon's own decision: a burst in 901
pid=$(ct_spawn 901 cpu_burner -t 1 -s 90)
wait_until 90 cpu_max_is 901 "200000 100000" && ok "a burst in 901: the daemon raised cpu.max by itself" ||
	fail "a burst in 901: cpu.max still $(cat "$CG/lxc/901/cpu.max")"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
wait_until 30 conf_is 901 cores 2 && ok "... and pct set persisted it (901.conf cores: 2)" ||
	fail "901.conf cores: $(sed -n 's/^cores: //p' "$PVE/901.conf")"

# manual ones over loopback
out=$(wget -S -O - --header 'Content-Type: application/json' \
	--post-data '{"lxc_id": 902, "memory": 192}' "$U/scale/ram" 2>&1)
if echo "$out" | grep -q '"status":"success"'; then
	ok "POST /scale/ram answered success"
else
	fail "POST /scale/ram: $(echo "$out" | tr '\n' '|')"
	tail -8 "$W/daemon.log" | sed 's/^/info - log: /'
fi
[ "$(cat "$CG/lxc/902/memory.max")" = $((192 * 1048576)) ] && ok "902 memory.max is 192 MiB" ||
	fail "902 memory.max is $(cat "$CG/lxc/902/memory.max")"
out=$(wget -q -O - --header 'Content-Type: application/json' \
	--post-data '{"lxc_id": 902, "cores": "x"}' "$U/scale/cores" 2>&1)
wget -q -O /dev/null "$U/api/v1/containers/902" && ok "GET /api/v1/containers/902 answered" ||
	fail "GET /api/v1/containers/902"
wait_until 30 conf_is 902 memory 192 && ok "902.conf memory: 192 (persisted)" ||
	fail "902.conf memory: $(sed -n 's/^memory: //p' "$PVE/902.conf")"

# a container goes away while watched, then a reload
ct_remove 903 && ok "903 removed while the daemon watches it" || fail "could not remove 903"
sleep 5
kill -HUP $VPID
wait_until 60 log_has "reload" || info "no reload line in the log"
sleep 3
kill -TERM $VPID
t0=$(up)
wait_until 120 sh -c "! kill -0 $VPID 2>/dev/null" || { fail "the daemon under valgrind does not stop"; kill -9 $VPID; }
wait $VPID
rc=$?
info "SIGTERM to exit (with the leak check) under valgrind: $(awk "BEGIN{printf \"%.1f\", $(up) - $t0}") s"
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$W/valgrind.log" | tail -n1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$W/valgrind.log" | tail -n1 | tr -d ,)
info "valgrind: exit $rc, ERROR SUMMARY ${errors:-?} errors, definitely lost ${definite:-0} bytes"
grep -E "in use at exit|possibly lost|still reachable" "$W/valgrind.log" | sed 's/^==[0-9]*== */info - vg: /'
if [ "$rc" = 0 ] && [ "${errors:-x}" = 0 ] && [ "${definite:-0}" = 0 ]; then
	ok "lxcscaled under valgrind, live with BPF and actuation: 0 errors, 0 bytes definitely lost"
else
	fail "lxcscaled under valgrind: exit $rc, ${errors:-?} errors, ${definite:-?} bytes definitely lost"
	grep -o "Syscall param [^ ]*" "$W/valgrind.log" | sort | uniq -c | sed 's/^/info - vg: /'
	grep -A14 "^==[0-9]*== \(Invalid\|Conditional\|Use of\|Mismatched\|Syscall param\|.*definitely lost in\)" \
		"$W/valgrind.log" | head -80 | sed 's/^/info - vg: /'
fi
exit 0

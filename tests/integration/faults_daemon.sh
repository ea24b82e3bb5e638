#!/bin/bash
# faults_daemon.sh — lxcscaled (the real binary, dry run on test cgroups of this host's
# cgroup v2 tree) when its surroundings fail:
#   - SIGHUP after the configuration file vanished, became a directory, or answers EIO
#     (a symlink to /proc/self/mem): the reload fails with a message, the running
#     configuration stays, the daemon keeps sampling; a later good file reloads;
#   - file descriptors exhausted: with RLIMIT_NOFILE far too low for its containers the
#     daemon keeps running and says why containers are not watched; with almost no fds at
#     all it refuses to start with a message instead of crashing; a low soft limit under a
#     high hard one (systemd's default 1024:524288) is raised at start.
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then skp "daemon faults: needs root and a cgroup v2 mount"; finish; fi
[ -x "$BUILD/lxcscaled" ] || { bad "missing $BUILD/lxcscaled"; finish; }

NAME=lxcscale-test-faults-$$
CG=$MOUNT/$NAME
WORK=$(mktemp -d /tmp/lxcscale-test-faults-daemon-XXXXXX)
DPID="" SLEEPERS=()
cleanup() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for p in "${SLEEPERS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	remove_test_cgroup "$CG"
	[ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$CG" || { bad "cannot create $CG"; finish; }
for id in $(seq 101 160); do
	mkdir "$CG/$id"
	sh -c "echo \$\$ > $CG/$id/cgroup.procs; exec sleep 1000" &
	SLEEPERS+=($!)
done

write_config() { # $1 = file, $2 = sample_interval_ms
	cat >"$1" <<EOF
lock_file: $WORK/lock
log_file: ""
data_file: $WORK/lxc_metrics.json
model_file: ""
suggestions_file: $WORK/suggestions.jsonl
journal_file: $WORK/journal
state_dir: $WORK
sample_interval_ms: $2
metrics_interval_seconds: 1
scaling:
  dry_run: true
cgroup:
  root: $NAME
  assumed_cores: 1
  assumed_ram_mb: 1024
bpf:
  enabled: false
model:
  features: [cpu_usage_percent, rolling_mean_cpu, rolling_std_cpu, max_cpu, min_cpu, cpu_trend, time_diff]
EOF
}
wait_log() { # pattern tenths [log]
	local i
	for ((i = 0; i < $2; i++)); do
		grep -q -- "$1" "${3:-$WORK/daemon.log}" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
count_log() { grep -c -- "$1" "${2:-$WORK/daemon.log}" 2>/dev/null; }
wait_count() { # pattern n
	local i
	for ((i = 0; i < 50; i++)); do [ "$(count_log "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}

# ---- 1. the configuration file vanishes, becomes a directory, answers EIO ---------------
write_config "$WORK/cfg.yaml" 200
"$BUILD/lxcscaled" --config "$WORK/cfg.yaml" --foreground >"$WORK/daemon.log" 2>&1 &
DPID=$!
if wait_log "ready:" 150; then
	ok "lxcscaled runs on 60 test containers"
	rm "$WORK/cfg.yaml"
	kill -HUP "$DPID"
	check "SIGHUP with the file deleted: reload fails with a message" 'wait_count "reload failed" 1'
	check "... the daemon still runs" 'kill -0 "$DPID"'
	mkdir "$WORK/cfg.yaml"
	kill -HUP "$DPID"
	check "SIGHUP with a directory where the file was: reload fails, daemon runs" 'wait_count "reload failed" 2 && kill -0 "$DPID"'
	rmdir "$WORK/cfg.yaml"
	ln -s /proc/self/mem "$WORK/cfg.yaml"
	kill -HUP "$DPID"
	check "SIGHUP with a file that answers EIO: reload fails, daemon runs" 'wait_count "reload failed" 3 && kill -0 "$DPID"'
	rm "$WORK/cfg.yaml"
	# the running configuration is the old one: the metrics history is still rewritten
	m0=$(stat -c %Y.%y "$WORK/lxc_metrics.json" 2>/dev/null)
	sleep 2.5
	m1=$(stat -c %Y.%y "$WORK/lxc_metrics.json" 2>/dev/null)
	check "the running configuration keeps working after the failed reloads (metrics history still written)" '[ -n "$m1" ] && [ "$m1" != "$m0" ]'
	write_config "$WORK/cfg.yaml" 300
	kill -HUP "$DPID"
	check "the file back (with a change): the next SIGHUP reloads it" 'wait_log "sample_interval_ms: 200 -> 300" 50'
	kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=""
	check "stops with exit 0" '[ $rc -eq 0 ]'
else
	bad "lxcscaled did not start"; sed 's/^/# /' "$WORK/daemon.log" | tail -20
fi
grep -E "reload failed" "$WORK/daemon.log" | head -3 | sed 's/^/# /'

# ---- 2. file descriptors exhausted -------------------------------------------------------
write_config "$WORK/cfg.yaml" 200
prlimit --nofile=48 "$BUILD/lxcscaled" --config "$WORK/cfg.yaml" --foreground >"$WORK/fds.log" 2>&1 &
DPID=$!
if wait_log "ready:" 150 "$WORK/fds.log"; then
	sleep 2
	check "RLIMIT_NOFILE 48 with 60 containers: the daemon keeps running" 'kill -0 "$DPID"'
	check "... and says why (too many open files named in the log)" 'grep -qi "too many open files\|EMFILE\|file descriptors" "$WORK/fds.log"'
	kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=""
	check "... and stops with exit 0" '[ $rc -eq 0 ]'
else
	if kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; fi
	wait "$DPID"; rc=$?; DPID=""
	check "RLIMIT_NOFILE 48 with 60 containers: refused with a message, not a crash (exit $rc)" '[ $rc -ge 1 ] && [ $rc -lt 128 ] && [ -s "$WORK/fds.log" ]'
fi
grep -iE "too many|EMFILE|descriptor" "$WORK/fds.log" | head -3 | sed 's/^/# /'

# a low soft limit under a high hard limit (systemd's 1024:524288): the daemon raises it
HARD=$(ulimit -Hn)
prlimit --nofile=48:$HARD "$BUILD/lxcscaled" --config "$WORK/cfg.yaml" --foreground >"$WORK/fds3.log" 2>&1 &
DPID=$!
if wait_log "ready:" 150 "$WORK/fds3.log"; then
	sleep 2
	soft=$(awk '/^Max open files/ {print $4}' "/proc/$DPID/limits")
	check "soft RLIMIT_NOFILE 48 under a hard $HARD: raised to $soft, every container watched, no EMFILE" '
		[ "$soft" = "$HARD" ] && ! grep -qi "too many open files" "$WORK/fds3.log" &&
		[ "$(ls "/proc/$DPID/fd" | wc -l)" -gt 300 ]'
	kill -TERM "$DPID"; wait "$DPID"
else
	bad "lxcscaled did not start under prlimit 48:$HARD"
fi
DPID=""

prlimit --nofile=6 "$BUILD/lxcscaled" --config "$WORK/cfg.yaml" --foreground >"$WORK/fds2.log" 2>&1 &
DPID=$!
for ((i = 0; i < 100; i++)); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DPID" 2>/dev/null; then
	check "RLIMIT_NOFILE 6: still running, stops with exit 0" 'kill -TERM "$DPID"; wait "$DPID"'
else
	wait "$DPID"; rc=$?
	check "RLIMIT_NOFILE 6: refuses to start naming the cause, not a crash (exit $rc)" '[ $rc -ge 1 ] && [ $rc -lt 128 ] && grep -q "cannot start: .*Too many open files" "$WORK/fds2.log"'
	sed 's/^/# /' "$WORK/fds2.log" | tail -3
fi
DPID=""
finish

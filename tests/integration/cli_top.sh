#!/bin/bash
# cli_top.sh — `lxcscale top` in a real terminal: tmux (80x24) runs it against the real
# lxcscaled (dry run, test cgroups as containers, its API on a loopback port); keys go in
# with send-keys and the screen comes back with capture-pane. Checked: the first frame,
# sorting and reversing, the filter, the detail view and back, q and Ctrl-C leaving the
# terminal as it was (main screen, canonical mode), and the plain table through a pipe.
set -uo pipefail
. "$(dirname "$0")/lib/daemon.sh"

find_cgroup2_mount
if [ "$(id -u)" != 0 ] || [ -z "$MOUNT" ]; then
	skp "lxcscale top: needs root and a cgroup v2 mount (the daemon it shows)"
	finish
fi
command -v tmux >/dev/null || { skp "lxcscale top in a terminal: tmux is not installed (make deps)"; finish; }
for b in lxcscaled lxcscale; do
	[ -x "$BUILD/$b" ] || { bad "missing $BUILD/$b (make all)"; finish; }
done

NAME=lxcscale-it-top-$$
CG=$MOUNT/$NAME
W=$(mktemp -d /tmp/lxcscale-it-top-XXXXXX)
SOCK=$W/tmux.sock
DPID=""
cleanup() {
	tmux -S "$SOCK" kill-server 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	remove_test_cgroup "$CG"
	rm -rf "$W"
}
trap cleanup EXIT
mkdir "$CG" "$CG/101" "$CG/102" "$CG/103" || { bad "cannot create test cgroups under $CG"; finish; }
PORT=$(free_port)
U=http://127.0.0.1:$PORT
cat >"$W/cfg.yaml" <<EOF
lock_file: $W/lock
log_file: ""
data_file: ""
model_file: ""
suggestions_file: $W/suggestions.jsonl
journal_file: $W/journal
state_dir: $W
sample_interval_ms: 100
scaling:
  dry_run: true
cgroup:
  root: $NAME
  assumed_cores: 1
  assumed_ram_mb: 1024
bpf:
  enabled: false
persist:
  pct_path: /nonexistent/pct
server:
  host: 127.0.0.1
  port: $PORT
EOF
"$BUILD/lxcscaled" --config "$W/cfg.yaml" --foreground >"$W/daemon.log" 2>&1 &
DPID=$!
for ((i = 0; i < 150; i++)); do grep -q "ready:" "$W/daemon.log" && break; sleep 0.1; done
for ((i = 0; i < 50; i++)); do
	[ "$(curl -s "$U/api/v1/containers" | jq '.containers | length' 2>/dev/null)" = 3 ] && break
	sleep 0.1
done
[ "$(curl -s "$U/api/v1/containers" | jq '.containers | length' 2>/dev/null)" = 3 ] ||
	{ bad "the daemon does not list the 3 test containers: $(tail -3 "$W/daemon.log" | tr '\n' '|')"; finish; }

screen() { tmux -S "$SOCK" capture-pane -p -t top; }
# wait_screen TEXT [tenths]: until the pane shows TEXT
wait_screen() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done
	return 1
}
# the VMID column of the list's rows, in screen order
vmids() { screen | sed -n '3,22p' | awk '$1 ~ /^[0-9]+$/ { print $1 }' | tr '\n' ' '; }
keys() { tmux -S "$SOCK" send-keys -t top "$@"; sleep 0.2; }

SESSIONS=0
start_top() { # a new tmux server each time: a server still shutting down takes its sessions along
	tmux -S "$SOCK" kill-server 2>/dev/null
	SESSIONS=$((SESSIONS + 1))
	SOCK=$W/tmux-$SESSIONS.sock
	tmux -S "$SOCK" new-session -d -s top -x 80 -y 24 \
		"stty -a | grep -o -- '-\?icanon' | head -1 | sed 's/^/BEFORE:/'; $BUILD/lxcscale --url $U top --interval 0.5; echo TOP-EXIT=\$?; stty -a | grep -o -- '-\?icanon' | head -1 | sed 's/^/AFTER:/'; sleep 60"
}

start_top
if wait_screen "3 containers"; then
	ok "top draws its first frame in 80x24 (title, header, 3 containers)"
else
	bad "top's first frame: $(screen | head -5 | tr '\n' '|')"
fi
# check_screen MESSAGE CONDITION: the condition is tried for up to 3 s (top redraws after each
# key at once; a loaded machine may take a moment)
check_screen() {
	local i
	for ((i = 0; i < 30; i++)); do eval "$2" && { ok "$1"; return; }; sleep 0.1; done
	bad "$1"
	screen | sed 's/^/#   /'
}
check_screen "the header names the columns, sparklines included" "screen | sed -n 2p | grep -q '^VMID   NAME .*CPU(4m) .*MEM(4m) .*LAST'"
check_screen "rows in VMID order by default" '[ "$(vmids)" = "101 102 103 " ]'
[ -n "${LXCSCALE_TOP_CAPTURE:-}" ] && screen >"$LXCSCALE_TOP_CAPTURE/top-list.txt" # for notes and docs
check_screen "the alternate screen is on while top runs" '[ "$(tmux -S "$SOCK" display -p -t top "#{alternate_on}")" = 1 ]'
keys v
check_screen "v again: VMID order reversed, and the title says so" '[ "$(vmids)" = "103 102 101 " ] && screen | head -1 | grep -q "sort: vmid (reversed)"'
keys c
check_screen "c: sorted by CPU" 'screen | head -1 | grep -q "sort: cpu"'
keys / 1 0 2 Enter
check_screen "/102 Enter: only container 102 is shown" '[ "$(vmids)" = "102 " ] && screen | head -1 | grep -q "filter: 102"'
keys Escape
check_screen "Esc: the filter is cleared" '[ "$(echo $(vmids) | wc -w)" = 3 ]'
keys v # from the CPU order back to VMID order (ascending)
keys Enter
if wait_screen "last decisions" 30; then
	check_screen "Enter: the selected container's detail (limits, usage, pressure, decisions)" \
		'screen | head -1 | grep -q "container 101" && screen | grep -q "^limits " && screen | grep -q "^pressure " && screen | grep -q "^policy "'
	[ -n "${LXCSCALE_TOP_CAPTURE:-}" ] && screen >"$LXCSCALE_TOP_CAPTURE/top-detail.txt"
else
	bad "Enter: no detail view"; screen | sed 's/^/#   /'
fi
keys Escape
check_screen "Esc: back to the list" 'wait_screen "3 containers" 20 && ! screen | grep -q "last decisions"'
keys Space
check_screen "space: paused (said in the title)" 'screen | head -1 | grep -q PAUSED'
keys q
if wait_screen "TOP-EXIT=" 30; then
	check_screen "q: top exits 0" 'screen | grep -q "TOP-EXIT=0"'
	check_screen "... the terminal is restored: main screen, canonical mode as before" \
		'[ "$(tmux -S "$SOCK" display -p -t top "#{alternate_on}")" = 0 ] && screen | grep -q "AFTER:icanon" && screen | grep -q "BEFORE:icanon" && ! screen | grep -q "^VMID   NAME"'
else
	bad "q: top did not exit"; screen | sed 's/^/#   /'
fi
screen | sed -n '1,4p' | sed 's/^/# after q: /'

start_top
wait_screen "3 containers" >/dev/null
tmux -S "$SOCK" send-keys -t top C-c
if wait_screen "TOP-EXIT=" 30; then
	check_screen "Ctrl-C: top exits and the terminal is restored too" \
		'screen | grep -q "AFTER:icanon" && [ "$(tmux -S "$SOCK" display -p -t top "#{alternate_on}")" = 0 ]'
else
	bad "Ctrl-C: top did not exit"; screen | sed 's/^/#   /'
fi

out=$("$BUILD/lxcscale" --url "$U" top --iterations 2 --interval 0.2 | cat); rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^VMID' <<<"$out")" = 2 ] && ! grep -q $'\033' <<<"$out"; then
	ok "through a pipe: the plain table, once per frame, no escape sequences"
else
	bad "top through a pipe: rc $rc: $(head -c 300 <<<"$out")"
fi
finish

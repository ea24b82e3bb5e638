# Shared by tests/integration/api_*.sh: start the real API server (tests/tools/api_server)
# on an ephemeral loopback port with the stand-in pct, make requests with curl, and count
# results. Sourced, never run on its own (the runner only runs tests/integration/*.sh).
BUILD=${BUILD:-build}
TOP=${LXCSCALE_TOP:-$(pwd)}
SERVER=$TOP/$BUILD/tests/tools/api_server
PCT=$TOP/$BUILD/tests/tools/pct
. "$(dirname "${BASH_SOURCE[0]}")/report.sh"
# check also shows the last response when it fails
check() { if eval "$2"; then ok "$1"; else bad "$1"; echo "#   code=${CODE:-} body=$(head -c 400 "$T/body" 2>/dev/null)"; fi; }
finish() { stop_server; report; }

need_bin "$SERVER" "$PCT"

T=$(mktemp -d /tmp/lxcscale-test-api-XXXXXX)
SRV_PID=
# never leave a server behind (it would also keep the runner's pipe open)
cleanup() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
trap 'cleanup; exit 143' TERM INT
export PCT_STAND_IN_DIR=$T/etc PCT_STAND_IN_LOG=$T/argv.log
mkdir -p "$PCT_STAND_IN_DIR"
ln -s "$PCT" "$T/pvesh"; ln -s "$PCT" "$T/pvecm"

# a container like a real one
make_ct() { # id [cores] [memory]
	cat >"$PCT_STAND_IN_DIR/$1.conf" <<CONF
arch: amd64
cores: ${2:-2}
hostname: ct$1
memory: ${3:-2048}
net0: name=eth0,bridge=vmbr0,ip=dhcp,type=veth
ostype: debian
rootfs: local-lvm:vm-$1-disk-0,size=8G
swap: 512
CONF
	echo running >"$PCT_STAND_IN_DIR/$1.state"
}

start_server() { # extra api_server args...
	stop_server
	rm -f "$T/port"
	"$SERVER" --port-file "$T/port" --pct "$PCT" --pvesh "$T/pvesh" --pvecm "$T/pvecm" \
		--node pve --host-cpus 8 "$@" 2>>"$T/server.log" &
	SRV_PID=$!
	for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.02; done
	if [ ! -s "$T/port" ]; then echo "# server did not start:"; tail -5 "$T/server.log"; return 1; fi
	PORT=$(cat "$T/port")
	U=http://127.0.0.1:$PORT
}

# Stopping also checks the server shut down cleanly: a sanitizer report (build/asan) or a
# crash makes the exit status non-zero and counts as a failure.
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
		local rc=$?
		SRV_PID=
		if [ "$rc" -ne 0 ]; then
			bad "API server exited with status $rc"
			grep -E "ERROR|runtime error|SUMMARY" "$T/server.log" | head -5 | sed 's/^/#   /'
		fi
	fi
}

server_alive() { [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; }

# req METHOD PATH [JSON-BODY] [curl args...] -> $CODE, $T/body, $T/headers
req() {
	local m=$1 p=$2 b=${3-}
	shift 2; [ $# -gt 0 ] && shift
	local args=(-s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" --max-time 20)
	[ -n "$b" ] && args+=(-H 'Content-Type: application/json' --data-binary "$b")
	CODE=$(curl "${args[@]}" "$@" "$U$p")
}
body() { cat "$T/body"; }
jqb() { jq -r "$1" "$T/body" 2>/dev/null; }
header() { tr -d '\r' <"$T/headers" | awk -v h="$(echo "$1" | tr A-Z a-z)" -F': ' 'tolower($1)==h {print $2}'; }
log_lines() { [ -f "$PCT_STAND_IN_LOG" ] && wc -l <"$PCT_STAND_IN_LOG" || echo 0; }
last_argv() { tail -n1 "$PCT_STAND_IN_LOG" 2>/dev/null; }
clear_log() { : >"$PCT_STAND_IN_LOG"; }

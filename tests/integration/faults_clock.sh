#!/bin/bash
# asan: skip
# faults_clock.sh — the clock jumping (NTP step, an admin's `date -s`, a VM resumed) must not
# stretch or shrink an interval anywhere in the daemon, the API or the libraries.
#
# Every interval (tick timers, timeouts, backoff, rate-limit windows, condition-variable
# waits) must be measured on CLOCK_MONOTONIC; the wall clock is only for timestamps people
# read (log lines, the metrics file, journal records, decisions). The clock of this shared
# host cannot be stepped, so the VM scenario tests/vm/scenarios/85-clock.sh steps the guest's
# clock under the live daemon; this audits the source the way a reviewer would and fails on
# a regression before any VM boots:
#   1. clock_gettime(CLOCK_REALTIME), time(), gettimeofday() only in the wall-clock helpers
#      listed below, each with its reason;
#   2. every file that calls pthread_cond_timedwait() sets its condition variables to
#      CLOCK_MONOTONIC (pthread_condattr_setclock) — the default clock is CLOCK_REALTIME;
#   3. timerfd_create() only with CLOCK_MONOTONIC or CLOCK_BOOTTIME;
#   4. no sem_timedwait/pthread_mutex_timedlock/select-with-absolute-time on the wall clock.
set -u
TOP=${LXCSCALE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$TOP" || exit 1
pass=0 failn=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
fail() { echo "FAIL - $1"; failn=$((failn + 1)); }

# file:function that may read the wall clock, and why
ALLOW='
user/base/log.c:log line timestamps
user/daemon/daemon.c:daemon_wall_ms, wall time of samples and decisions (metrics file, API)
user/act/journal.c:now_ms, record timestamps in the persist journal
user/act/notifier.c:event time shown in notifications
user/cli/cmd_daemon.c:the clock shown by `lxcscale top`
user/compat/suggestions.c:timestamps of written suggestions
user/score/model.c:last_rebuild_ms, the wall time of the last rebuild shown by /api/v1/model
user/cli/cmd_import.c:age of a metrics history, whose records carry wall-clock timestamps
api/http.c:api_wall_ms, rate-limit reset epoch and timestamps in answers
'
SRC=$(ls user/*.c api/*.c cgroup/*.c iforest/*.c 2>/dev/null)

bad=""
for f in $SRC; do
	hits=$(grep -nE 'CLOCK_REALTIME|gettimeofday *\(|[^_a-zA-Z]time *\( *(NULL|0|&)' "$f" | grep -v '^\s*[0-9]*:\s*/\?\*')
	[ -z "$hits" ] && continue
	grep -q "^$f:" <<<"$ALLOW" || bad+="$f: $hits"$'\n'
done
if [ -z "$bad" ]; then
	ok "the wall clock is read only by the listed timestamp helpers"
else
	fail "wall-clock reads outside the allowed timestamp helpers (use CLOCK_MONOTONIC for intervals):"
	printf '%s' "$bad" | sed 's/^/    /'
fi

# each timedwait's condition variable must be initialised with a CLOCK_MONOTONIC attribute
# somewhere, and the deadline computed within the 12 lines before it must not be wall time
bad=$(/usr/bin/python3 - $SRC <<'PY'
import re, sys
files = {f: open(f, errors="replace").read() for f in sys.argv[1:]}
mono_conds = set()
for text in files.values():
    if not re.search(r"pthread_condattr_setclock\s*\([^)]*CLOCK_MONOTONIC", text):
        continue
    for m in re.finditer(r"pthread_cond_init\s*\(\s*&?([\w.>-]+)\s*,\s*([^)\s]+)\s*\)", text):
        if m.group(2) != "NULL":
            mono_conds.add(re.split(r"->|\.", m.group(1))[-1])
bad = []
for f, text in files.items():
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.search(r"pthread_cond_timedwait\s*\(\s*&?([\w.>-]+)", line)
        if not m:
            continue
        name = re.split(r"->|\.", m.group(1))[-1]
        if name not in mono_conds:
            bad.append(f"{f}:{i+1}: {name} is not a CLOCK_MONOTONIC condition variable")
        if any("CLOCK_REALTIME" in l for l in lines[max(0, i - 12):i]):
            bad.append(f"{f}:{i+1}: deadline computed on CLOCK_REALTIME")
print("\n".join(bad))
PY
)
if [ -z "$bad" ]; then
	ok "every pthread_cond_timedwait waits on a CLOCK_MONOTONIC condition variable with a monotonic deadline"
else
	fail "pthread_cond_timedwait on the wall clock:"
	printf '%s\n' "$bad" | sed 's/^/    /'
fi

bad=$(grep -nE 'timerfd_create *\(' $SRC | grep -vE 'CLOCK_MONOTONIC|CLOCK_BOOTTIME')
if [ -z "$bad" ]; then ok "timerfds run on CLOCK_MONOTONIC/CLOCK_BOOTTIME"; else fail "timerfd on another clock: $bad"; fi

bad=$(grep -nE 'sem_timedwait|pthread_mutex_timedlock|pthread_rwlock_timed|mq_timed' $SRC)
if [ -z "$bad" ]; then ok "no other absolute-deadline waits on the wall clock"; else fail "absolute wall-clock waits: $bad"; fi

echo "$pass passed, $failn failed, 0 skipped"
[ $failn -eq 0 ]

#!/bin/bash
# bench/daemon.sh — the daemon loop's own cost per tick with 100 test containers,
# every container every tick vs quiet sampling vs quiet + idle sampling, and with the BPF programs (see bench/daemon.c).
BUILD=${1:-${BUILD:-build}}
"$BUILD/bench/daemon" -n 100 -s 10 -i 100 -q 0      # every container every tick (the old way)
"$BUILD/bench/daemon" -n 100 -s 10 -i 100 -I 0      # quiet containers every quiet_sample_interval_ms
"$BUILD/bench/daemon" -n 100 -s 10 -i 100           # and idle ones every idle_sample_interval_ms
"$BUILD/bench/daemon" -n 100 -s 10 -i 100 -b

#!/bin/bash
# bench/daemon.sh — the daemon loop's own cost per tick with 100 test containers,
# without and with the BPF programs (see bench/daemon.c).
BUILD=${1:-${BUILD:-build}}
"$BUILD/bench/daemon" -n 100 -s 10 -i 100
"$BUILD/bench/daemon" -n 100 -s 10 -i 100 -b

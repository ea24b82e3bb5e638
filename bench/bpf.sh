#!/bin/bash
# bench/bpf.sh — cost of lxcscale's BPF programs under pipe ping-pong (see bench/bpf.c).
set -uo pipefail
BUILD=${1:-${BUILD:-build}}
cd "$(dirname "$0")/.."
if [ ! -x "$BUILD/bench/bpf" ]; then echo "bench bpf: $BUILD/bench/bpf not built"; exit 1; fi
# tp_btf (what runs on every kernel with BTF), then the raw_tp fallback for comparison.
timeout -k 5 120 "$BUILD/bench/bpf" -d "${BPF_BENCH_SECS:-3}" -p "${BPF_BENCH_PAIRS:-2}"
echo
timeout -k 5 120 "$BUILD/bench/bpf" -d "${BPF_BENCH_SECS:-3}" -p "${BPF_BENCH_PAIRS:-2}" -r

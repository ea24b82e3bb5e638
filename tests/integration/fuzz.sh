#!/bin/bash
# asan: skip
# Every libFuzzer target (tests/fuzz/*.c, built by `make fuzzers` into build/fuzz) for
# 30 s from its seed corpus, as part of `make test`. `make fuzz` runs them longer.
# Prints executions and coverage per target; a crash fails and keeps the reproducer.
cd "${LXCSCALE_TOP:-$(dirname "$0")/../..}" || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-30} exec tests/fuzz/run.sh build/fuzz

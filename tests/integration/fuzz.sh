#!/bin/bash
# asan: skip
# Every libFuzzer target (tests/fuzz/*.c, built by `make fuzzers` into build/fuzz) for
# 10 s from its seed corpus (the corpus replayed, then new inputs), as part of `make test`;
# `make fuzz` runs them for FUZZ_SECONDS (300 by default).
# Prints executions and coverage per target; a crash fails and keeps the reproducer.
cd "${LXCSCALE_TOP:-$(dirname "$0")/../..}" || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-10} exec tests/fuzz/run.sh build/fuzz

#!/bin/bash
# bench/replay.sh — the standard scorecard: lxcscale against the reference system's rule.
#
# Every generated scenario (seed 1) and every NAB EC2 CPU series in the shared data are run
# through both policies with `lxcscale replay`; the per-trace scorecards come first, the
# total last. Figures are simulated: see user/sim/container_model.c for the container model and
# user/sim/replay.h for how each policy is set up. Run by `make bench`.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
bin=$BUILD/lxcscale
if [ ! -x "$bin" ]; then
	echo "bench replay: $bin not built"
	exit 1
fi
echo "setup: lxcscale replay --scenario all --seed 1 (generated scenarios on 1 s steps,"
echo "       NAB series on 10 s steps, 100 % = 4 cores; every trace starts at 2 cores / 2048 MiB)"
echo "       lxcscale: the built-in configuration (conf/lxcscale.yaml values), features, score/model.c"
echo "       (streaming forests) and decide/policy.c evaluated every step, limits in force next step"
echo "       reference: the reference's own loop (user/sim/reference_loop.h: its 26 features, one"
echo "       scikit-learn forest retrained from scratch each cycle, its confidence and rule; same scaling"
echo "       keys), 60 s samples, 600 s cycle, limits in force 2 s after a decision"
echo "       host: $(nproc) CPUs, $(uname -r)"
start=$(date +%s.%N)
"$bin" replay --scenario all --seed 1 --quiet --per-scenario
rc=$?
end=$(date +%s.%N)
echo "wall time: $(echo "$end - $start" | bc) s"

# Slack is bounded by the floors and the thresholds, not only by the policy: the same
# generated scenarios with Autopilot-like low floors (1 core, 512 MiB) for comparison.
floor=$(mktemp /tmp/lxcscale-bench-replay-XXXXXX.yaml)
trap 'rm -f "$floor"' EXIT
printf 'scaling:\n  min_cpu_cores: 1\n  min_ram_mb: 512\n' >"$floor"
echo
echo "setup: the generated scenarios again, with scaling.min_cpu_cores 1 and min_ram_mb 512"
"$bin" replay --scenario all --no-nab --seed 1 --quiet --config "$floor" || rc=$?
exit $rc

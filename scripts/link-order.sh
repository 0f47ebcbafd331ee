#!/bin/sh
# scripts/link-order.sh: rewrites scripts/link-order.txt, the order in which lld places the
# release binary's functions (scripts/build-release.sh), from a profile of the agent.
#
# The profile is bench/pod-start.sh's workload (static pods: two-container pods started and
# deleted one by one, then PODS at once, then deleted) with the agent under `perf record -g`:
# every function of the binary seen in a sample, as the leaf or as a caller, in the order first
# seen (start-up, then the pod paths); scripts/link_order.py writes the list, the functions of
# small input sections first (see there). Run it again when the pod paths change much; a stale
# list costs memory (functions no longer listed are placed as without a list), never correctness.
#
# Sampling misses functions that run briefly, and each one missed brings its window back in:
# 30 runs at 50,000 samples a second found 3,941 functions where 20 at 20,000 found 2,631, and
# the agent idle after pod churn mapped 2 MiB less code (docs/benchmarks.md).
#
# Environment: RUNS (default 30), PODS (default 100), PERF_FREQ (samples a second, default
# 50000), KEEP (set: the work directory with the profile and the link map is kept). Needs what
# bench/pod-start.sh needs, and perf (Debian's linux-perf). Root.
set -eu
cd "$(dirname "$0")/.."
command -v perf >/dev/null 2>&1 || { echo "link-order.sh: perf is missing: apt-get install linux-perf" >&2; exit 1; }
work="$(mktemp -d /tmp/swiftlet-linkorder.XXXXXX)"
trap 'rm -rf "$work"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
LINK_MAP="$work/link.map" AGENT_PERF="$work/agent.perf" AGENT_PERF_FREQ="${PERF_FREQ:-50000}" \
    RUNS="${RUNS:-30}" PODS="${PODS:-100}" OUT="$work" sh bench/pod-start.sh >"$work/bench.txt"
perf script -i "$work/agent.perf" --no-demangle -F ip,sym,dso 2>/dev/null \
    | python3 scripts/link_order.py "$work/link.map" >"$work/link-order.txt"
mv "$work/link-order.txt" scripts/link-order.txt
echo "link-order.sh: scripts/link-order.txt: $(grep -vc '^#' scripts/link-order.txt) functions; rebuild with scripts/build-release.sh" >&2

#!/bin/sh
# Pod start latency of the agent against crun, and the agent's and monitors' memory.
#
# 1. Latency: from a manifest appearing in the agent's manifest directory to both containers of
#    a two-container pod having exec'd (each container's first act is `touch` of a file on a
#    shared hostPath, which the harness watches), against the same pod made by hand with crun:
#    `ip netns add` + two `crun run -d` joining it, each touching its file the same way. The agent
#    also gives the pod an address on its node bridge (veth, IPAM); crun's pod has loopback only.
# 2. Memory: the agent's RSS freshly started, idle after the latency runs (at once and 12 s
#    later), with 100 one-container pods running (at once, and after the agent's heap scavenger
#    ran), after deleting them, and the monitors' RSS and PSS per pod (PSS shares the pages all
#    monitors map from the same files).
# 3. Responsiveness: the agent's healthz (127.0.0.1:10248 in its namespace) asked every 100 ms
#    by curl from the latency runs to the end, PODS at once included: p50, p99 and the slowest.
#    PODS may be up to 1,000 (the node gets a /22 and --max-pods to match).
#
# Environment: RUNS (default 30), PODS (default 100), OUT (default bench/results), SMAPS (a
# directory: the agent's /proc/PID/smaps and the pages of its code it has mapped, saved there at
# each memory reading), AGENT_PERF (a file: the agent runs under `perf record -g -F
# AGENT_PERF_FREQ (20000)` writing it, the unstripped build of the same binary so that perf
# names its functions; scripts/link-order.sh uses this).
# Needs root, what scripts/build-release.sh needs (run here), crun, iproute2. Uses only loopback and namespaces
# it creates; removes everything it made.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
runs="${RUNS:-30}"
pods="${PODS:-100}"
out="${OUT:-bench/results}"
mkdir -p "$out"
# The binaries as they ship (scripts/build-release.sh): the static Swift runtime and lld's link
# options set how many pages of the binary the agent maps, and the monitor is plain C linked
# statically (SwiftPM's swiftlet-monitor links libswiftCore, whose pages every monitor maps).
bin=.build/release-static
work="$(mktemp -d /tmp/swiftlet-podbench.XXXXXX)"
sh scripts/build-release.sh "$bin" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; rm -rf "$work"; exit 1; }
agent_pid=""
perf_pid=""
poller_pid=""
cleanup() {
    [ -n "$poller_pid" ] && kill "$poller_pid" 2>/dev/null
    if [ -n "$agent_pid" ]; then
        kill "$agent_pid" 2>/dev/null || true
        # Under perf the agent is perf's child: perf writes its file once the agent has gone.
        wait "${perf_pid:-$agent_pid}" 2>/dev/null || true
    fi
    python3 bench/pod_start.py cleanup "$work" || true
    ip netns del swiftlet-podbench-node 2>/dev/null
    rm -f /tmp/swiftlet-podbench-crun.err
    rm -rf "$work"
    for c in /sys/fs/cgroup/*/swiftlet-podbench /sys/fs/cgroup/swiftlet-podbench /sys/fs/cgroup/*/crun-podbench*; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
opts="--data-dir $work/data --run-dir $work/run --cgroup-parent swiftlet-podbench"
"$bin/swiftlet" images import $opts "$work/fixtures/busybox" >/dev/null
mkdir -p "$work/manifests"
# The agent's node is a network namespace of its own (its bridge and rules stay there).
ip netns add swiftlet-podbench-node
ip netns exec swiftlet-podbench-node ip link set lo up
agent="$bin/swiftlet"
set --
if [ -n "${AGENT_PERF:-}" ]; then
    # build-release.sh strips a copy of this one: same code at the same addresses.
    agent=.build-release/release/swiftlet
    set -- perf record -q -g -F "${AGENT_PERF_FREQ:-20000}" -o "$AGENT_PERF" --
fi
"$@" nsenter --net=/run/netns/swiftlet-podbench-node "$agent" agent $opts --pod-manifests "$work/manifests" \
    --log-dir "$work/logs" --node-name bench --file-check-frequency 20 \
    --pod-cidr 10.42.0.0/22 --max-pods $((pods + 10)) \
    --monitor-path "$bin/swiftlet-monitor" >"$work/agent.log" 2>&1 &
agent_pid=$!
sleep 2
if [ -n "${AGENT_PERF:-}" ]; then
    # perf's child became the agent (nsenter execs it); perf ends when it does.
    perf_pid=$agent_pid
    agent_pid=$(pgrep -P "$perf_pid" | head -n 1)
fi
# shellcheck disable=SC2016 # expanded by the inner shell
ip netns exec swiftlet-podbench-node sh -c 'while :; do
    curl -s -o /dev/null -m 5 -w "%{http_code} %{time_total}\n" http://127.0.0.1:10248/healthz; sleep 0.1; done' >"$work/healthz.txt" &
poller_pid=$!
python3 bench/pod_start.py run "$work" "$bin/swiftlet" "$agent_pid" "$runs" "$pods" | tee "$out/pod-start.txt"
kill "$poller_pid" 2>/dev/null && wait "$poller_pid" 2>/dev/null || true
poller_pid=""
python3 - "$work/healthz.txt" <<'PY' | tee -a "$out/pod-start.txt"
import sys
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
ok = sorted(float(t) * 1000 for code, t in lines if code == "200")
bad = sum(1 for code, _ in lines if code != "200")
pick = lambda p: ok[min(len(ok) - 1, int(len(ok) * p))]
print(f"agent healthz during the runs: {len(ok)} answers, p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, "
      f"slowest {ok[-1]:.1f} ms; {bad} failed or timed out")
PY

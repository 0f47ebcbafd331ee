#!/bin/sh
# Pod start latency of the agent against crun, and the agent's and monitors' memory.
#
# 1. Latency: from a manifest appearing in the agent's manifest directory to both containers of
#    a two-container pod having exec'd (each container's first act is `touch` of a file on a
#    shared hostPath, which the harness watches), against the same pod made by hand with crun:
#    `ip netns add` + two `crun run -d` joining it, each touching its file the same way. The agent
#    also gives the pod an address on its node bridge (veth, IPAM); crun's pod has loopback only.
# 2. Memory: the agent's RSS freshly started, idle after the latency runs, with 100 one-container
#    pods running (at once, and after the agent's heap scavenger ran), after deleting them, and
#    the monitors' RSS and PSS per pod (PSS shares the pages all monitors map from the same files).
#
# Environment: RUNS (default 30), PODS (default 100), OUT (default bench/results).
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
cleanup() {
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
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
sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
opts="--data-dir $work/data --run-dir $work/run --cgroup-parent swiftlet-podbench"
"$bin/swiftlet" images import $opts "$work/fixtures/busybox" >/dev/null
mkdir -p "$work/manifests"
# The agent's node is a network namespace of its own (its bridge and rules stay there).
ip netns add swiftlet-podbench-node
ip netns exec swiftlet-podbench-node ip link set lo up
nsenter --net=/run/netns/swiftlet-podbench-node "$bin/swiftlet" agent $opts --pod-manifests "$work/manifests" \
    --log-dir "$work/logs" --node-name bench --file-check-frequency 20 --healthz-port 0 \
    --monitor-path "$bin/swiftlet-monitor" >"$work/agent.log" 2>&1 &
agent_pid=$!
sleep 2
python3 bench/pod_start.py run "$work" "$bin/swiftlet" "$agent_pid" "$runs" "$pods" | tee "$out/pod-start.txt"

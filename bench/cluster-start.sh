#!/bin/sh
# Pod start through the whole cluster: `swiftlet server` with its own agent on one node (a
# network namespace of its own), real kubectl: `kubectl apply` of a one-pod Deployment until a
# watch sees the pod Running, p50/p99 over RUNS runs (and the slowest run's stages, and the
# runs' Warning events), then a PODS-replica Deployment until all pods are Running; then the
# server's RSS (API server, controllers and agent in one process).
# No peer runs side by side: neither kubelet nor k3s is installable here (see
# docs/benchmarks.md for the published figures this is compared with).
#
# Environment: RUNS (default 30), PODS (default 100), OUT (default bench/results), BIN (a
# directory holding swiftlet and swiftlet-monitor; default: a release build made here).
# Needs root, kubectl, iproute2. Uses only a network namespace it creates; removes everything.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
. bench/cluster-common.sh
runs="${RUNS:-30}"
pods="${PODS:-100}"
out="${OUT:-bench/results}"
mkdir -p "$out"
release_binaries
work="$(mktemp -d /tmp/swiftlet-clusterbench.XXXXXX)"
netns="swiftlet-clusterbench"
server_pid=""
cleanup() {
    set +e
    [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    remove_pods swiftlet-clusterbench "$work"
    ip netns del "$netns" 2>/dev/null
    rm -rf "$work"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
"$BIN/swiftlet" images import --data-dir "$work/data/agent" "$work/fixtures/busybox" >/dev/null
ip netns add "$netns"
ip netns exec "$netns" ip link set lo up
nsenter --net="/run/netns/$netns" "$BIN/swiftlet" server --data-dir "$work/data" --write-kubeconfig "$work/kubeconfig.yaml" \
    --node-name bench --run-dir "$work/run" --cgroup-parent swiftlet-clusterbench --log-dir "$work/logs" \
    --monitor-path "$BIN/swiftlet-monitor" --max-pods 250 >"$work/server.log" 2>&1 &
server_pid=$!
k() { nsenter --net="/run/netns/$netns" kubectl --kubeconfig "$work/kubeconfig.yaml" "$@"; }
wait_node_ready bench "$work/server.log"
nsenter --net="/run/netns/$netns" python3 bench/cluster_start.py "$work/kubeconfig.yaml" "$runs" "$pods" | tee "$out/cluster-start.txt"
rss_kib="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
echo "swiftlet server + agent RSS with $pods pods: $((rss_kib / 1024)) MiB" | tee -a "$out/cluster-start.txt"

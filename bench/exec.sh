#!/bin/sh
# kubectl exec latency and port-forward throughput through the whole path: `swiftlet server`
# with its own agent (a network namespace of its own), a busybox pod serving a 64 MiB file,
# real kubectl 1.32 (WebSocket) and 1.27 (SPDY). The time swiftlet takes is measured apart from
# kubectl's own start: a WebSocket client without kubectl, and `kubectl get pod` as kubectl's
# floor; `nsenter -a` into the same container is the host's own floor. No Kubernetes peer runs
# here (no kubelet or containerd is installable); see docs/benchmarks.md.
#
# Environment: RUNS (default 20), OUT (default bench/results), BIN (a directory holding swiftlet
# and swiftlet-monitor; default: a release build made here), KUBECTL_1_27 (default the Cloud
# SDK's). Needs root, kubectl, curl, python3, iproute2. Uses only a network namespace it
# creates; removes everything.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
. bench/cluster-common.sh
runs="${RUNS:-20}"
out="${OUT:-bench/results}"
kubectl127="${KUBECTL_1_27:-/usr/lib/google-cloud-sdk/bin/kubectl.1.27}"
mkdir -p "$out"
release_binaries
work="$(mktemp -d /tmp/swiftlet-execbench.XXXXXX)"
netns="swiftlet-execbench"
server_pid=""
cleanup() {
    set +e
    [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    remove_pods swiftlet-execbench "$work"
    ip netns del "$netns" 2>/dev/null
    rm -rf "$work"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
k() { nsenter --net="/run/netns/$netns" kubectl --kubeconfig "$work/kubeconfig.yaml" "$@"; }
sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
"$BIN/swiftlet" images import --data-dir "$work/data/agent" "$work/fixtures/busybox" >/dev/null
ip netns add "$netns"
ip netns exec "$netns" ip link set lo up
# An address for the node (its InternalIP, where the API server reaches the kubelet API).
ip netns exec "$netns" ip link add eth0 type veth peer name eth0-peer
ip netns exec "$netns" ip link set eth0-peer up
ip netns exec "$netns" ip addr add 10.250.0.1/24 dev eth0
ip netns exec "$netns" ip link set eth0 up
nsenter --net="/run/netns/$netns" "$BIN/swiftlet" server --data-dir "$work/data" --write-kubeconfig "$work/kubeconfig.yaml" \
    --node-name bench --node-ip 10.250.0.1 --run-dir "$work/run" --cgroup-parent swiftlet-execbench --log-dir "$work/logs" \
    --monitor-path "$BIN/swiftlet-monitor" >"$work/server.log" 2>&1 &
server_pid=$!
wait_node_ready bench "$work/server.log"
k run shell --image=busybox --image-pull-policy=IfNotPresent --restart=Never -- \
    sh -c 'mkdir -p /www && head -c 67108864 /dev/zero > /www/big && exec httpd -f -p 8080 -h /www' >/dev/null
k wait --for=condition=Ready pod/shell --timeout=60s >/dev/null
pod_ip="$(k get pod shell -o 'jsonpath={.status.podIP}')"
container_pid="$(pgrep -f 'httpd -f -p 8080 -h /www' | head -1)"
# The file is written before httpd starts; wait until it answers.
for _ in $(seq 100); do
    nsenter --net="/run/netns/$netns" curl -sf -o /dev/null "http://$pod_ip:8080/big" && break
    sleep 0.1
done
{
    echo "swiftlet $(git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
    nsenter --net="/run/netns/$netns" python3 bench/exec_bench.py "$work/kubeconfig.yaml" "$runs" shell "$container_pid" "$pod_ip" "$kubectl127"
} | tee "$out/exec.txt"

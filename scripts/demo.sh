#!/bin/sh
# The quickest way to see swiftlet work: installs the build dependencies, builds swiftlet,
# builds a busybox image from Debian's busybox-static and imports it, then starts
# `swiftlet server` (API server, controllers and this machine's agent in one process), waits for
# its node to be Ready, creates examples/static-web.yaml (a web server and a client) and a
# one-replica Deployment with real kubectl, shows `kubectl get nodes,pods`, fetches the page from
# the pod's address and prints the client's logs through `kubectl logs`; then stops it all.
# Everything runs in a network namespace of its own ("swiftlet-demo"), so the bridge and firewall
# rules made for pod networking never touch this machine's network.
# Needs root. Environment:
#   SWIFTLET_DEMO_DIR   where demo state goes (default /tmp/swiftlet-demo); removed at the end
#   SWIFTLET_SKIP_APT=1 do not run apt-get
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
dir="${SWIFTLET_DEMO_DIR:-/tmp/swiftlet-demo}"
sh scripts/install-deps.sh
swift build
bin="$(swift build --show-bin-path)"
mkdir -p "$dir"
server=""
netns=swiftlet-demo
cleanup() {
    set +e
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    # The server stops without stopping pods (as kubelet does); the demo's pods go with it.
    for pid in $(cat $(find /sys/fs/cgroup -path '*swiftlet-demo*' -name cgroup.procs) 2>/dev/null); do kill -9 "$pid"; done
    sleep 0.5
    for c in /sys/fs/cgroup/*/swiftlet-demo /sys/fs/cgroup/swiftlet-demo; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    grep " $dir/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
    ip netns del "$netns" 2>/dev/null
    rm -rf "$dir"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
in_node() { nsenter --net="/run/netns/$netns" "$@"; }
k() { in_node kubectl --kubeconfig "$dir/kubeconfig.yaml" "$@"; }
sh rootfs-fixtures/build.sh "$dir/fixtures"
"$bin/swiftlet" images import --data-dir "$dir/data/agent" "$dir/fixtures/busybox"
ip netns add "$netns"
ip netns exec "$netns" ip link set lo up
# The node's "NIC" (one end of a veth pair; this kernel may have no dummy devices): its address
# is the node's InternalIP, which the server uses to reach the agent's kubelet API for `kubectl logs`.
ip netns exec "$netns" ip link add eth0 type veth peer name eth0-peer
ip netns exec "$netns" ip addr add 192.168.77.10/24 dev eth0
ip netns exec "$netns" ip link set eth0-peer up
ip netns exec "$netns" ip link set eth0 up
ip netns exec "$netns" ip route add default dev eth0
# nsenter enters only the network namespace (ip netns exec would add a mount namespace).
nsenter --net="/run/netns/$netns" "$bin/swiftlet" server --data-dir "$dir/data" --write-kubeconfig "$dir/kubeconfig.yaml" \
    --node-name demo --run-dir "$dir/run" --cgroup-parent swiftlet-demo --log-dir "$dir/logs" 2>"$dir/server.log" &
server=$!
echo "waiting for the node to be Ready..."
i=0
until [ "$(k get node demo -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
    i=$((i + 1))
    [ $i -gt 300 ] && { tail -40 "$dir/server.log"; echo "node not Ready after 30 s" >&2; exit 1; }
    sleep 0.1
done
k apply -f examples/static-web.yaml
k create deployment hello --image=busybox -- sh -c 'echo hello from $(hostname); exec sleep 3600'
k wait --for=condition=Ready pod/web --timeout=60s
k wait --for=condition=Available deployment/hello --timeout=60s
echo "--- kubectl get nodes -o wide"
k get nodes -o wide
echo "--- kubectl get pods -o wide"
k get pods -o wide
ip=$(k get pod web -o 'jsonpath={.status.podIP}')
echo "--- the node reaches the pod at $ip:"
in_node curl -s "http://$ip:8080/"
sleep 2
echo "--- kubectl logs web -c client --tail 2"
k logs web -c client --tail 2
echo "--- kubectl logs deployment/hello"
k logs deployment/hello
echo "--- kubectl delete pod web: it stops within its grace period"
k delete pod web
echo "stopping the server"

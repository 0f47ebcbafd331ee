#!/bin/sh
# The quickest way to see swiftlet work: installs the build dependencies, builds swiftlet,
# builds a busybox image from Debian's busybox-static, imports it, starts the agent with a
# manifest directory holding examples/static-web.yaml (a web server and a client), shows the
# pod and its logs, then removes the manifest, waits for the pod to stop and stops the agent.
# The agent runs in a network namespace of its own ("swiftlet-demo"), so the bridge and
# firewall rules it makes for pod networking never touch this machine's network.
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
mkdir -p "$dir/manifests"
agent=""
# The pod's cgroups are removed by swiftlet; the parent it created is ours to remove.
cleanup() {
    [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
    ip netns del swiftlet-demo 2>/dev/null
    rm -rf "$dir"
    for c in /sys/fs/cgroup/*/swiftlet-demo /sys/fs/cgroup/swiftlet-demo; do [ -d "$c" ] && rmdir "$c"; done
    true
}
trap cleanup EXIT
sh rootfs-fixtures/build.sh "$dir/fixtures"
opts="--data-dir $dir/data --run-dir $dir/run --cgroup-parent swiftlet-demo"
"$bin/swiftlet" images import $opts "$dir/fixtures/busybox"
ip netns add swiftlet-demo
ip netns exec swiftlet-demo ip link set lo up
# nsenter enters only the network namespace (ip netns exec would add a mount namespace).
nsenter --net=/run/netns/swiftlet-demo "$bin/swiftlet" agent $opts --pod-manifests "$dir/manifests" \
    --log-dir "$dir/logs" --node-name demo 2>"$dir/agent.log" &
agent=$!
cp examples/static-web.yaml "$dir/manifests/"
echo "waiting for the pod to be ready..."
i=0
until "$bin/swiftlet" pods $opts 2>/dev/null | grep -q ' 2/2 '; do
    i=$((i + 1))
    [ $i -gt 60 ] && { cat "$dir/agent.log"; echo "pod not ready after 30 s" >&2; exit 1; }
    sleep 0.5
done
sleep 4
"$bin/swiftlet" pods $opts
ip=$("$bin/swiftlet" pods $opts | awk 'NR==2 {print $7}')
echo "--- the node reaches the pod at $ip:"
ip netns exec swiftlet-demo busybox wget -qO- "http://$ip:8080/"
echo "--- the agent's healthz:"
ip netns exec swiftlet-demo busybox wget -qO- http://127.0.0.1:10248/healthz; echo
echo "--- swiftlet logs web-demo -c client"
"$bin/swiftlet" logs $opts --log-dir "$dir/logs" web-demo -c client
echo "--- removing the manifest: the pod stops within its grace period"
rm "$dir/manifests/static-web.yaml"
until [ -z "$("$bin/swiftlet" pods $opts | tail -n +2)" ]; do sleep 0.5; done
echo "pod stopped; stopping the agent"

#!/bin/sh
# Per-pod network plumbing: swiftlet's BridgeNetwork (rtnetlink from the C shim, host-local
# address file, one process) against the same steps with iproute2 in its fastest form, pod by
# pod and interleaved in one run (bench/pod-network-bench/main.swift).
#
# Setup = veth with the peer created directly in the pod namespace as eth0, enslaved to the
# bridge and up; lo and eth0 up, the pod address, the default route via the bridge. swiftlet
# also allocates the address (a file in its state directory); `ip` gets that address and its
# batch file ready-made. With ip that is 2 processes: `ip -n NODE link add ... netns POD` and
# `ip -n POD -batch FILE` (iproute2 cannot switch namespaces inside one batch).
# Teardown = delete the host veth (the kernel deletes eth0 with it); swiftlet also frees the
# address. Pod namespaces are made beforehand (not timed), as the runtime makes them: two per
# round, one for each tool; which tool goes first alternates between rounds.
# The +hostPort rows repeat swiftlet's setup/teardown with one hostPort (one nft transaction
# each way, libnftables in process); ip has no counterpart for them.
#
# Environment: PODS (default 200), WARMUP (pods not counted, default 10),
# OUT (results dir, default bench/results). Needs root, iproute2; builds a release binary.
# The node is a network namespace of its own: the host's network is not touched.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
pods="${PODS:-200}"
warmup="${WARMUP:-10}"
out="${OUT:-bench/results}"
tag="swlb$$"
state="$(mktemp -d /tmp/swiftlet-netbench.XXXXXX)"

cleanup() {
    i=1
    while [ "$i" -le "$pods" ]; do
        ip netns del "$tag-p${i}s" 2>/dev/null || true
        ip netns del "$tag-p${i}i" 2>/dev/null || true
        i=$((i + 1))
    done
    ip netns del "$tag-node" 2>/dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

swift build -c release --product pod-network-bench >/dev/null
bin="$(swift build -c release --show-bin-path)/pod-network-bench"

ip netns add "$tag-node"
ip -n "$tag-node" link set lo up
i=1
while [ "$i" -le "$pods" ]; do
    ip netns add "$tag-p${i}s"
    ip netns add "$tag-p${i}i"
    i=$((i + 1))
done

mkdir -p "$out"
echo "$(date -u +%Y-%m-%d) $(uname -r) $(ip -V)" | tee "$out/pod-network.md"
"$bin" "$tag-node" "$tag-p" "$pods" "$warmup" "$state" | tee -a "$out/pod-network.md"

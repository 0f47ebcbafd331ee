#!/bin/sh
# Cluster DNS: the agent's resolver (bench/cluster-dns-server, release build) against unbound
# and dnsmasq serving the same records from local data, in one run, with dnsperf.
#
# Records: SERVICES ClusterIP services (A, SRV for the named port, PTR) in 20 namespaces and
# SERVICES/10 headless services with three ready pods each; the same names go into unbound's
# local-data and dnsmasq's host-record/srv-host. "Forwarded" names (host-N.example.org) live on
# an upstream dnsmasq that all three forward to; after a warm-up pass they are answered from
# each server's cache.
#
# Two measurements per server and query set, taken in turn (swiftlet, unbound, dnsmasq):
#   throughput  dnsperf -l DURATION -c 8 -q 200 (as fast as the server answers)
#   latency     dnsperf -Q RATE -l DURATION -v (fixed load; p50/p90/p99 from per-query times)
# Every server gets THREADS threads (unbound num-threads, swiftlet UDP workers sharing the port
# with SO_REUSEPORT; dnsmasq always has one); dnsperf runs on the same 2 cores.
#
# Environment: SERVICES (default 1000), THREADS (default 1), DURATION (seconds, default 10), RATE (latency phase
# queries/s, default 10000), OUT (results dir, default bench/results). Needs root, dnsperf and
# unbound (scripts/debian-packages-bench), dnsmasq (scripts/debian-packages). Everything runs in a network namespace of its
# own: the host's network is not touched.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
services="${SERVICES:-1000}"
threads="${THREADS:-1}"
duration="${DURATION:-10}"
rate="${RATE:-10000}"
out="${OUT:-bench/results}"
ns="swdns$$"
dir="$(mktemp -d /tmp/swiftlet-dnsbench.XXXXXX)"
pids=""
for tool in dnsperf unbound dnsmasq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "cluster-dns.sh: $tool is missing: apt-get install $(grep -v '^#' scripts/debian-packages-bench | tr '\n' ' ')dnsmasq-base" >&2; exit 1; }
done

cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

swift build -c release --product cluster-dns-server >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
server="$(swift build -c release --show-bin-path)/cluster-dns-server"
mkdir -p "$out"
python3 bench/cluster_dns.py setup "$dir" "$services" "$threads"

ip netns add "$ns"
ip -n "$ns" link set lo up
for a in 10.99.0.1 10.99.0.2 10.99.0.3 10.99.0.9; do ip -n "$ns" addr add "$a/32" dev lo; done
run() { nsenter --net="/run/netns/$ns" "$@"; }

# Daemons are started directly (not through the function, whose subshell would get the pid
# and leave them running at cleanup); nsenter execs them, so $! is theirs.
nsenter --net="/run/netns/$ns" dnsmasq -k --conf-file="$dir/upstream.conf" --pid-file="$dir/upstream.pid" 2>"$dir/upstream.log" &
pids="$pids $!"
nsenter --net="/run/netns/$ns" "$server" --listen 10.99.0.1:53 --records "$dir/records.json" \
    --resolv-conf "$dir/resolv.conf" --workers "$threads" >"$dir/swiftlet.log" 2>&1 &
pids="$pids $!"
nsenter --net="/run/netns/$ns" unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1 &
pids="$pids $!"
nsenter --net="/run/netns/$ns" dnsmasq -k --conf-file="$dir/dnsmasq.conf" --pid-file="$dir/dnsmasq.pid" 2>"$dir/dnsmasq.log" &
pids="$pids $!"

# Wait until all three answer.
for a in 10.99.0.1 10.99.0.2 10.99.0.3; do
    i=0
    until run dig +short +time=1 +tries=1 "@$a" svc-1.ns-1.svc.cluster.local >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 50 ] || { echo "cluster-dns: $a does not answer" >&2; cat "$dir"/*.log >&2; exit 1; }
        sleep 0.2
    done
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$out/cluster-dns-$stamp"
mkdir -p "$results"
for set in cluster forwarded; do
    for pair in swiftlet:10.99.0.1 unbound:10.99.0.2 dnsmasq:10.99.0.3; do
        name="${pair%%:*}"
        addr="${pair#*:}"
        # Warm-up: one pass fills the forwarders' caches.
        run dnsperf -s "$addr" -d "$dir/$set.txt" -n 1 >/dev/null 2>&1 || true
        run dnsperf -s "$addr" -d "$dir/$set.txt" -l "$duration" -c 8 -q 200 >"$results/$set-$name-throughput.txt" 2>&1
    done
    for pair in swiftlet:10.99.0.1 unbound:10.99.0.2 dnsmasq:10.99.0.3; do
        name="${pair%%:*}"
        addr="${pair#*:}"
        run dnsperf -s "$addr" -d "$dir/$set.txt" -l "$duration" -Q "$rate" -v >"$results/$set-$name-latency.txt" 2>&1
    done
done

echo "cluster-dns: $services services, $((services / 10)) headless, $threads thread(s), ${duration}s per run, latency at $rate q/s"
python3 bench/cluster_dns.py summary "$results"/*-throughput.txt
python3 bench/cluster_dns.py latency "$results"/*-latency.txt
# The per-query logs are large: keep only their summaries.
for f in "$results"/*-latency.txt; do grep -v '^> ' "$f" >"$f.summary" && rm "$f"; done

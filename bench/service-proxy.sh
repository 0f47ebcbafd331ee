#!/bin/sh
# The service proxy, measured against its peers in one run (results as markdown rows):
#
# 1. Rule updates (bench/service-proxy-bench rules): for each SIZES entry (services:endpoints
#    per service), ServiceProxy's full sync and one-service sync (an endpoint of one service
#    replaced: update + sync), with its default 16 shard tables and with one table, against
#    the same ruleset written as nft text through libnftables in process, the way kube-proxy's
#    nftables mode writes it (a full regeneration; and the one-service change), each in a
#    network namespace of its own.
# 2. kube-proxy's iptables mode: a full `iptables-restore --noflush` of the equivalent nat
#    table (bench/service_proxy_peers.py), nft and legacy backends, in a namespace of its own.
# 3. Data path: wrk from a client pod to an nginx pod, directly and through a ClusterIP
#    programmed by ServiceProxy among WRK_SERVICES other services, alternating, keep-alive and
#    a new connection per request, each run from a fresh client pod (see service_proxy_peers.py),
#    with the services in 16 shard tables and in one.
#    nginx is Debian's binary extracted from its package (`apt-get download nginx`), not
#    installed, so no service is started on this machine.
#
# Environment: SIZES (default "100:10 1000:10 3000:10"; empty: data path only), ROUNDS (one-service syncs per size,
# default 50; full syncs ROUNDS/5), IPT_ROUNDS (default 5), WRK_SERVICES (default 1000),
# WRK_ROUNDS (default 3), WRK_SECONDS (default 8), WRK_SHARDS (shard counts to compare on the
# data path, default "16 1"), OUT (results dir, default bench/results).
# Needs root, nftables, iptables, wrk, python3; builds a release binary. Everything runs in
# network namespaces this script makes and removes: the host's network is not touched.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
sizes="${SIZES-100:10 1000:10 3000:10}"
rounds="${ROUNDS:-50}"
ipt_rounds="${IPT_ROUNDS:-5}"
wrk_services="${WRK_SERVICES:-1000}"
wrk_rounds="${WRK_ROUNDS:-3}"
wrk_seconds="${WRK_SECONDS:-8}"
wrk_shards="${WRK_SHARDS:-16 1}"
out="${OUT:-bench/results}"
tag="swspb$$"
work="$(mktemp -d /tmp/swiftlet-proxybench.XXXXXX)"
nginx_pid=""

cleanup() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    for ns in ours peer single ipt node server client; do ip netns del "$tag-$ns" 2>/dev/null || true; done
    for ns in $(ip netns list | sed -n "s/^\($tag-c[0-9]*\).*/\1/p"); do ip netns del "$ns"; done
    rm -rf "$work"
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

for tool in nft iptables-nft-restore iptables-legacy-restore wrk python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nftables iptables wrk python3)" >&2; exit 1; }
done
swift build -c release --product service-proxy-bench >/dev/null
bin="$(swift build -c release --show-bin-path)/service-proxy-bench"

mkdir -p "$out"
result="$out/service-proxy.md"
echo "$(date -u +%Y-%m-%d) $(uname -r) $(nft --version) $(iptables --version)" | tee "$result"
echo "" | tee -a "$result"
echo "| rule update | runs | p50 ms | p95 ms | p50 vs ServiceProxy |" | tee -a "$result"
echo "|---|---:|---:|---:|---:|" | tee -a "$result"
for size in $sizes; do
    services="${size%%:*}"
    endpoints="${size##*:}"
    for ns in ours peer single ipt; do ip netns add "$tag-$ns"; done
    "$bin" rules "$tag-ours" "$tag-peer" "$tag-single" "$services" "$endpoints" "$rounds" | tee -a "$result"
    python3 bench/service_proxy_peers.py iptables "$tag-ipt" "$services" "$endpoints" "$ipt_rounds" | tee -a "$result"
    for ns in ours peer single ipt; do ip netns del "$tag-$ns"; done
done

# Data path: node with a bridge, a server pod (nginx) and a client pod.
mkdir -p "$work/nginx"
(cd "$work/nginx" && apt-get download -q nginx >/dev/null 2>&1 && dpkg-deb -x nginx_*.deb root)
cat > "$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server { listen 8080; location / { return 200 "ok\n"; } }
}
EOF
for ns in node server client; do ip netns add "$tag-$ns"; ip -n "$tag-$ns" link set lo up; done
ip -n "$tag-node" link add br0 type bridge
ip -n "$tag-node" addr add 10.80.0.1/24 dev br0
ip -n "$tag-node" link set br0 up
ip netns exec "$tag-node" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
n=2
for pod in server client; do
    ip link add "${tag}h$n" netns "$tag-node" type veth peer name eth0 netns "$tag-$pod"
    ip -n "$tag-node" link set "${tag}h$n" master br0 up
    ip -n "$tag-$pod" addr add "10.80.0.$n/24" dev eth0
    ip -n "$tag-$pod" link set eth0 up
    ip -n "$tag-$pod" route add default via 10.80.0.1
    n=$((n + 1))
done
nsenter --net="/run/netns/$tag-server" "$work/nginx/root/usr/sbin/nginx" -c "$work/nginx.conf" -p "$work" -g "user root;" &
nginx_pid=$!
echo "" | tee -a "$result"
echo "wrk -t1 -c16 from a client pod to nginx in a server pod on the same node; $wrk_services other services programmed ($(nproc) cores shared by client, server and kernel):" | tee -a "$result"
echo "" | tee -a "$result"
echo "| traffic | runs | requests/s | p50 ms | p99 ms | vs pod IP | errors |" | tee -a "$result"
echo "|---|---:|---:|---:|---:|---:|---|" | tee -a "$result"
for shards in $wrk_shards; do
    # Only the bench node's own proxy tables are removed between configurations.
    for table in $(ip netns exec "$tag-node" nft list tables ip | sed -n 's/^table ip \(swiftlet-proxy[-0-9]*\)$/\1/p'); do
        ip netns exec "$tag-node" nft delete table ip "$table"
    done
    "$bin" program "$tag-node" "$wrk_services" 10 10.111.0.10 10.80.0.2 "$shards"
    i=0
    until nsenter --net="/run/netns/$tag-client" curl -s --max-time 1 http://10.111.0.10/ >/dev/null; do
        i=$((i + 1)); [ "$i" -lt 50 ] || { echo "nginx did not answer through the ClusterIP" >&2; exit 1; }; sleep 0.2
    done
    echo "| $shards shard table(s): | | | | | | |" | tee -a "$result"
    python3 bench/service_proxy_peers.py wrk "$tag-node" "$tag-c" http://10.80.0.2:8080/ http://10.111.0.10/ "$wrk_rounds" "$wrk_seconds" | tee -a "$result"
done

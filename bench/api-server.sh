#!/bin/sh
# API server benchmark: swiftlet server (SQLite store, whole API path), swiftlet server on an etcd
# datastore of its own (--datastore-endpoint), and bare etcd 3.4, the store under kube-apiserver
# (no kube-apiserver or k3s is installable here), driven by the same client: create COUNT pods,
# list them (JSON, and protobuf as client-go asks), and watch event latency (bench/api_server.py).
#
# Environment: COUNT (default 1000), SAMPLES (watch samples, default 300), WATCHERS (watch
# connections of the fan-out phase, default 50; 0 leaves it out), OUT (bench/results),
# ON_ETCD (default 1; 0 leaves out swiftlet on etcd).
# Needs a release build (built here) and etcd-server (installed here from Debian). Listens on
# 127.0.0.1 only; removes its data directories and stops what it started.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
count="${COUNT:-1000}"
samples="${SAMPLES:-300}"
watchers="${WATCHERS:-50}"
out="${OUT:-bench/results}"
mkdir -p "$out"
command -v etcd >/dev/null || apt-get install -y -q etcd-server >/dev/null
${SKIP_BUILD:+:} swift build -c release --product swiftlet >/dev/null
bin="${BIN:-$(swift build -c release --show-bin-path)}"
work="$(mktemp -d /tmp/swiftlet-apibench.XXXXXX)"
server_pid=""
etcd_pid=""
server2_pid=""
etcd2_pid=""
cleanup() {
    set +e
    for pid in "$server_pid" "$server2_pid" "$etcd_pid" "$etcd2_pid"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
"$bin/swiftlet" server --data-dir "$work/server" --http-listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
etcd --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster default=http://127.0.0.1:23800 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
# The datastore of the swiftlet server on etcd: a member of its own, so the bare-etcd run and it
# do not share keys or disk queues.
etcd --data-dir "$work/etcd2" --listen-client-urls http://127.0.0.1:23791 --advertise-client-urls http://127.0.0.1:23791 \
    --listen-peer-urls http://127.0.0.1:23801 --initial-advertise-peer-urls http://127.0.0.1:23801 \
    --initial-cluster default=http://127.0.0.1:23801 >"$work/etcd2.log" 2>&1 &
etcd2_pid=$!
for port in 23790 23791; do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
        sleep 0.1
    done
done
if [ "${ON_ETCD:-1}" = 1 ]; then
    "$bin/swiftlet" server --data-dir "$work/server2" --http-listen 127.0.0.1:0 \
        --datastore-endpoint http://127.0.0.1:23791 >"$work/server2.log" 2>&1 &
    server2_pid=$!
fi
listening() {
    for _ in $(seq 100); do
        url="$(sed -n 's/^swiftlet server listening on \(http:[^ ]*\)$/\1/p' "$1" 2>/dev/null || true)"
        [ -n "$url" ] && { echo "$url"; return; }
        sleep 0.1
    done
    cat "$1" >&2
    echo "swiftlet server ($1) did not start" >&2
    exit 1
}
url="$(listening "$work/server.log")"
url2=""
[ -n "$server2_pid" ] && url2="$(listening "$work/server2.log")"
# shellcheck disable=SC2086 # url2 is one word or none
python3 bench/api_server.py "$url" http://127.0.0.1:23790 "$count" "$samples" "$watchers" $url2 | tee "$out/api-server.txt"
rss_kib="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
echo "swiftlet server RSS with $count pods: $((rss_kib / 1024)) MiB" | tee -a "$out/api-server.txt"
if [ -n "$server2_pid" ]; then
    rss_kib="$(awk '/VmRSS/ {print $2}' "/proc/$server2_pid/status")"
    echo "swiftlet server on etcd, RSS with $count pods: $((rss_kib / 1024)) MiB" | tee -a "$out/api-server.txt"
fi

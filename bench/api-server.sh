#!/bin/sh
# API server benchmark: swiftlet server (SQLite store, whole API path) against etcd 3.4, the
# store under kube-apiserver (no kube-apiserver or k3s is installable here), driven by the
# same client: create COUNT pods, list them, and watch event latency (bench/api_server.py).
#
# Environment: COUNT (default 1000), SAMPLES (watch samples, default 300), OUT (bench/results).
# Needs a release build (built here) and etcd-server (installed here from Debian). Listens on
# 127.0.0.1 only; removes its data directories and stops what it started.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
count="${COUNT:-1000}"
samples="${SAMPLES:-300}"
out="${OUT:-bench/results}"
mkdir -p "$out"
command -v etcd >/dev/null || apt-get install -y -q etcd-server >/dev/null
${SKIP_BUILD:+:} swift build -c release --product swiftlet >/dev/null
bin="${BIN:-$(swift build -c release --show-bin-path)}"
work="$(mktemp -d /tmp/swiftlet-apibench.XXXXXX)"
server_pid=""
etcd_pid=""
cleanup() {
    set +e
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null
    rm -rf "$work"
    true
}
trap cleanup EXIT
"$bin/swiftlet" server --data-dir "$work/server" --http-listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
etcd --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster default=http://127.0.0.1:23800 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
url=""
for _ in $(seq 100); do
    url="$(sed -n 's/^swiftlet server listening on \(http:[^ ]*\)$/\1/p' "$work/server.log" 2>/dev/null || true)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log"; echo "swiftlet server did not start" >&2; exit 1; }
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:23790/health >/dev/null && break
    sleep 0.1
done
python3 bench/api_server.py "$url" http://127.0.0.1:23790 "$count" "$samples" | tee "$out/api-server.txt"
rss_kib="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
echo "swiftlet server RSS with $count pods: $((rss_kib / 1024)) MiB" | tee -a "$out/api-server.txt"

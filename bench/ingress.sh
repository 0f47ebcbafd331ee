#!/bin/sh
# Ingress: the agent's ingress proxy (bench/ingress-proxy-server, release build) against nginx
# (Debian's) configured as the same reverse proxy to the same backends, in one run, with wrk.
#
# Both proxies listen on 10.98.0.1 inside a network namespace of this script's own and forward
# every request to two backends (10.98.0.2:8080 and 10.98.0.3:8080: one nginx answering
# `return 200` with a short body, so the backends cost little and the same for both) over
# keep-alive connections (nginx: upstream keepalive 32, proxy_http_version 1.1, like
# ingress-nginx). Each proxy gets two threads: swiftlet's event loop group on this 2-core
# machine, nginx worker_processes 2.
#
# Each proxy also serves HTTPS (TLS 1.3, an ECDSA P-256 self-signed certificate for both: nginx's
# made with openssl, swiftlet's its default certificate), HTTP/1.1 with keep-alive as wrk speaks it.
#
# Rounds alternate swiftlet and nginx, for http and https: wrk -t2 -cCONNECTIONS -dDURATION
# --latency; after each round the proxy's memory is read (nginx: master and workers; see memory() in
# bench/ingress-common.sh), and its CPU time (cpu_ticks). The report gives per proxy and scheme the median
# requests/s, the median p99 latency, the median CPU microseconds per request and the largest memory
# figures of its rounds, and the ratios swiftlet/nginx; CPU per request also as its user part (the
# proxy's own work; the system part is mostly the kernel's TCP, about the same for both).
#
# Environment: ROUNDS (default 3), DURATION (seconds, default 10), CONNECTIONS (default 64),
# SCHEMES (default "http https"; "http" alone for a server that serves no HTTPS),
# OUT (results dir, default bench/results), NGINX (an nginx binary; default: nginx on PATH, else
# extracted from Debian's nginx package with apt-get download, without installing it), SERVER (an
# ingress-proxy-server binary already built, e.g. in scripts/build-release.sh's .build-release with
# `--product ingress-proxy-server`; default: `swift build -c release --product ingress-proxy-server`).
# Needs root (a network namespace), wrk (scripts/debian-packages-bench) and openssl. The host's
# network is not touched.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
. bench/ingress-common.sh
ns="swing$$"
command -v wrk >/dev/null 2>&1 || { echo "ingress.sh: wrk is missing: apt-get install wrk" >&2; exit 1; }
dir="$(mktemp -d /tmp/swiftlet-ingressbench.XXXXXX)"
pids=""

cleanup() {
    stop_pids
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

find_nginx

proxy_server
mkdir -p "$out" "$dir/backends" "$dir/proxy"
# The backends: one nginx answering a short body on two addresses.
nginx_backends_conf "$dir/backends"
nginx_proxy_conf "$dir/proxy" 10.98.0.1:8081 10.98.0.1:8443 10.98.0.2:8080 10.98.0.3:8080

bench_namespace "$ns"
client() { nsenter --net="/run/netns/$ns" "$@"; }

nsenter --net="/run/netns/$ns" "$nginx" -e "$dir/nginx-stderr.log" -g 'daemon off;' -p "$dir/backends" -c "$dir/backends/nginx.conf" 2>"$dir/backends.log" &
pids="$pids $!"
nsenter --net="/run/netns/$ns" "$nginx" -e "$dir/nginx-stderr.log" -g 'daemon off;' -p "$dir/proxy" -c "$dir/proxy/nginx.conf" 2>"$dir/nginx-proxy.log" &
nginx_pid=$!
pids="$pids $nginx_pid"
nsenter --net="/run/netns/$ns" "$server" 10.98.0.1:8082 10.98.0.1:8444 10.98.0.2:8080 10.98.0.3:8080 >"$dir/swiftlet.log" 2>&1 &
swiftlet_pid=$!
pids="$pids $swiftlet_pid"

swiftlet_http=http://10.98.0.1:8082/ swiftlet_https=https://10.98.0.1:8444/
nginx_http=http://10.98.0.1:8081/ nginx_https=https://10.98.0.1:8443/
wait_answering "$dir/*.log" http://10.98.0.2:8080/ $(proxy_urls)

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$out/ingress-$stamp"
mkdir -p "$results"
ingress_rounds "$results"
python3 bench/ingress_report.py "$results" "$rounds"
echo "raw wrk output: $results ($(cat "$dir/nginx-version"))"

#!/bin/sh
# Ingress: what one proxied request costs the proxy, counted rather than timed. Timings on these
# machines swing by a third from one run to the next (a VM with neighbours); counts of calls do not,
# so they show a change to the data path in one run: glibc's malloc, libswiftCore's swift_retain,
# system calls and epoll_ctl calls per request of the release ingress-proxy-server.
#
# The proxy listens on 10.98.0.1 in a network namespace of this script's own, in front of
# bench/ingress.sh's two nginx backends (nginx_backends_conf). After a warm-up of 5,000 requests,
# `ab -k -c 8 -n REQUESTS` runs through it twice: once under `perf stat` with uprobes on malloc and
# swift_retain (perf probe; each hit costs about a microsecond, so that pass says nothing of speed),
# once with the raw_syscalls:sys_enter and syscalls:sys_enter_epoll_ctl tracepoints. Counts are
# of the proxy process (every thread), divided by REQUESTS.
#
# Environment: REQUESTS (default 100000), SCHEME (http, the default, or https), SERVER (an
# ingress-proxy-server binary; default: `swift build -c release --product ingress-proxy-server`),
# NGINX (as in bench/ingress.sh). Needs root, perf (linux-perf), ab (apache2-utils) and curl. The
# uprobes it adds are removed when it ends; it refuses to run if they exist already (another run's).
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
. bench/ingress-common.sh
requests="${REQUESTS:-100000}"
scheme="${SCHEME:-http}"
ns="swcnt$$"
for tool in perf ab curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "ingress-counts.sh: $tool is missing" >&2; exit 1; }
done
dir="$(mktemp -d /tmp/swiftlet-ingresscounts.XXXXXX)"
pids=""
probes=""

cleanup() {
    stop_pids
    for probe in $probes; do perf probe -q -d "$probe" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

find_nginx
proxy_server
libc="$(ldd "$server" | awk '$1 == "libc.so.6" { print $3 }')"
swiftcore="$(ldd "$server" | awk '$1 == "libswiftCore.so" { print $3 }')"
[ -n "$libc" ] && [ -n "$swiftcore" ] || { echo "ingress-counts.sh: $server does not link libc and libswiftCore dynamically" >&2; exit 1; }
if perf probe -l 2>/dev/null | grep -q -e 'probe_libc:malloc ' -e 'probe_libswiftCore:swift_retain '; then
    echo "ingress-counts.sh: the uprobes probe_libc:malloc or probe_libswiftCore:swift_retain exist already; remove them (perf probe -d NAME)" >&2
    exit 1
fi
perf probe -q -x "$libc" -a malloc
probes="probe_libc:malloc"
perf probe -q -x "$swiftcore" -a swift_retain
probes="$probes probe_libswiftCore:swift_retain"

mkdir -p "$dir/backends"
nginx_backends_conf "$dir/backends"
bench_namespace "$ns"
run() { nsenter --net="/run/netns/$ns" "$@"; }
client() { run "$@"; }
# nsenter itself in the background, not `run`: a backgrounded shell function is a subshell, whose
# PID is not the server's (perf would count the subshell, and the cleanup would kill only it).
nsenter --net="/run/netns/$ns" "$nginx" -e "$dir/nginx-stderr.log" -g 'daemon off;' -p "$dir/backends" -c "$dir/backends/nginx.conf" >"$dir/backends.log" 2>&1 &
pids="$pids $!"
nsenter --net="/run/netns/$ns" "$server" 10.98.0.1:8082 10.98.0.1:8444 10.98.0.2:8080 10.98.0.3:8080 >"$dir/swiftlet.log" 2>&1 &
server_pid=$!
pids="$pids $server_pid"
if [ "$scheme" = https ]; then url=https://10.98.0.1:8444/; else url=http://10.98.0.1:8082/; fi
wait_answering "$dir/*.log" "$url"

run ab -q -k -n 5000 -c 8 "$url" >/dev/null
# count EVENTS...: perf stat of the proxy over one ab pass; prints "event count" lines.
count() {
    events=$(echo "$@" | tr ' ' ',')
    perf stat -x, -e "$events" -p "$server_pid" -o "$dir/stat" -- nsenter --net="/run/netns/$ns" \
        ab -q -k -n "$requests" -c 8 "$url" >"$dir/ab.txt"
    grep -q "^Failed requests: *0" "$dir/ab.txt" || { echo "ingress-counts.sh: ab saw failed requests" >&2; cat "$dir/ab.txt" >&2; exit 1; }
    awk -F, '!/^#/ && NF > 2 { print $3, $1 }' "$dir/stat"
}
{ count probe_libc:malloc probe_libswiftCore:swift_retain; count raw_syscalls:sys_enter syscalls:sys_enter_epoll_ctl; } |
    awk -v n="$requests" -v scheme="$scheme" '
        { name[$1] = $2 }
        END {
            printf "ingress proxy, %s, per request (%d requests):\n", scheme, n
            printf "  malloc        %6.2f\n", name["probe_libc:malloc"] / n
            printf "  swift_retain  %6.2f\n", name["probe_libswiftCore:swift_retain"] / n
            printf "  system calls  %6.2f\n", name["raw_syscalls:sys_enter"] / n
            printf "  epoll_ctl     %6.2f\n", name["syscalls:sys_enter_epoll_ctl"] / n
        }'

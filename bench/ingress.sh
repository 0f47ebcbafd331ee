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
# --latency; after each round the proxy's memory is read (nginx: master and workers; see memory()
# below), and its CPU time (see cpu_ticks). The report gives per proxy and scheme the median
# requests/s, the median p99 latency, the median CPU microseconds per request and the largest memory
# figures of its rounds, and the ratios swiftlet/nginx.
#
# Environment: ROUNDS (default 3), DURATION (seconds, default 10), CONNECTIONS (default 64),
# OUT (results dir, default bench/results), NGINX (an nginx binary; default: nginx on PATH, else
# extracted from Debian's nginx package with apt-get download, without installing it), SERVER (an
# ingress-proxy-server binary already built, e.g. in scripts/build-release.sh's .build-release with
# `--product ingress-proxy-server`; default: `swift build -c release --product ingress-proxy-server`).
# Needs root (a network namespace), wrk (scripts/debian-packages-bench) and openssl. The host's
# network is not touched.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-64}"
out="${OUT:-bench/results}"
ns="swing$$"
command -v wrk >/dev/null 2>&1 || { echo "ingress.sh: wrk is missing: apt-get install wrk" >&2; exit 1; }
dir="$(mktemp -d /tmp/swiftlet-ingressbench.XXXXXX)"
pids=""

cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

nginx="${NGINX:-$(command -v nginx || true)}"
if [ -z "$nginx" ]; then
    (cd "$dir" && apt-get download nginx >/dev/null 2>&1) || { echo "ingress.sh: no nginx, and apt-get download nginx failed" >&2; exit 1; }
    dpkg-deb -x "$dir"/nginx_*.deb "$dir/nginx-root"
    nginx="$dir/nginx-root/usr/sbin/nginx"
fi
"$nginx" -v 2>"$dir/nginx-version" || { cat "$dir/nginx-version" >&2; exit 1; }

if [ -n "${SERVER:-}" ]; then
    server="$SERVER"
else
    swift build -c release --product ingress-proxy-server >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
    server="$(swift build -c release --show-bin-path)/ingress-proxy-server"
fi
mkdir -p "$out" "$dir/backends" "$dir/proxy"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench.example" \
    -keyout "$dir/proxy/key.pem" -out "$dir/proxy/cert.pem" >/dev/null 2>&1

# nginx without its package's files: every path in the work directory.
common="pid PID; error_log DIR/error.log warn; events { worker_connections 4096; }"
cat >"$dir/backends/nginx.conf" <<CONF
worker_processes 1;
$(echo "$common" | sed "s|PID|$dir/backends/nginx.pid|; s|DIR|$dir/backends|")
http {
    access_log off;
    client_body_temp_path $dir/backends/body; proxy_temp_path $dir/backends/proxy;
    fastcgi_temp_path $dir/backends/fastcgi; uwsgi_temp_path $dir/backends/uwsgi; scgi_temp_path $dir/backends/scgi;
    keepalive_requests 1000000;
    server { listen 10.98.0.2:8080; location / { return 200 "hello from backend 1\n"; } }
    server { listen 10.98.0.3:8080; location / { return 200 "hello from backend 2\n"; } }
}
CONF
cat >"$dir/proxy/nginx.conf" <<CONF
worker_processes 2;
$(echo "$common" | sed "s|PID|$dir/proxy/nginx.pid|; s|DIR|$dir/proxy|")
http {
    access_log off;
    client_body_temp_path $dir/proxy/body; proxy_temp_path $dir/proxy/proxy;
    fastcgi_temp_path $dir/proxy/fastcgi; uwsgi_temp_path $dir/proxy/uwsgi; scgi_temp_path $dir/proxy/scgi;
    keepalive_requests 1000000;
    upstream bench { server 10.98.0.2:8080; server 10.98.0.3:8080; keepalive 32; }
    ssl_certificate $dir/proxy/cert.pem;
    ssl_certificate_key $dir/proxy/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 10.98.0.1:8081;
        listen 10.98.0.1:8443 ssl;
        location / {
            proxy_pass http://bench;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_set_header X-Forwarded-Port \$server_port;
            proxy_set_header X-Real-IP \$remote_addr;
        }
    }
}
CONF

ip netns add "$ns"
ip -n "$ns" link set lo up
for a in 10.98.0.1 10.98.0.2 10.98.0.3; do ip -n "$ns" addr add "$a/32" dev lo; done
run() { nsenter --net="/run/netns/$ns" "$@"; }

nsenter --net="/run/netns/$ns" "$nginx" -e "$dir/nginx-stderr.log" -g 'daemon off;' -p "$dir/backends" -c "$dir/backends/nginx.conf" 2>"$dir/backends.log" &
pids="$pids $!"
nsenter --net="/run/netns/$ns" "$nginx" -e "$dir/nginx-stderr.log" -g 'daemon off;' -p "$dir/proxy" -c "$dir/proxy/nginx.conf" 2>"$dir/nginx-proxy.log" &
nginx_pid=$!
pids="$pids $nginx_pid"
nsenter --net="/run/netns/$ns" "$server" 10.98.0.1:8082 10.98.0.1:8444 10.98.0.2:8080 10.98.0.3:8080 >"$dir/swiftlet.log" 2>&1 &
swiftlet_pid=$!
pids="$pids $swiftlet_pid"

for url in http://10.98.0.2:8080/ http://10.98.0.1:8081/ http://10.98.0.1:8082/ https://10.98.0.1:8443/ https://10.98.0.1:8444/; do
    i=0
    until run curl -sfk -o /dev/null "$url"; do
        i=$((i + 1))
        [ "$i" -lt 100 ] || { echo "ingress.sh: $url does not answer" >&2; cat "$dir"/*.log >&2; exit 1; }
        sleep 0.1
    done
done

# Memory in KiB of a process and its children (nginx's workers): resident (VmRSS, which counts
# pages shared between nginx's processes once per process), proportional (Pss: shared pages
# divided among the processes mapping them) and anonymous (RssAnon: what the proxy allocated,
# which is what running the proxy inside the agent adds, the agent's code being there anyway).
memory() {
    rss=0; pss=0; anon=0
    for p in "$1" $(ps -o pid= --ppid "$1"); do
        rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
        anon=$((anon + $(awk '/^RssAnon:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
        pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "rss_kib $rss pss_kib $pss anon_kib $anon"
}

# CPU time (utime + stime, clock ticks) of a process and its children: divided by the requests of a
# round it gives the proxy's CPU per request, steadier on a shared machine than requests/s, which
# also depends on how much of the 2 cores wrk and the backends take.
cpu_ticks() {
    ticks=0
    for p in "$1" $(ps -o pid= --ppid "$1"); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$ticks"
}

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$out/ingress-$stamp"
mkdir -p "$results"
# A warm-up for each, then the measured rounds.
for url in http://10.98.0.1:8082/ http://10.98.0.1:8081/ https://10.98.0.1:8444/ https://10.98.0.1:8443/; do
    run wrk -t2 -c"$connections" -d2s "$url" >/dev/null
done
r=1
while [ "$r" -le "$rounds" ]; do
    for scheme in http https; do
        for name in swiftlet nginx; do
            case "$name:$scheme" in
                swiftlet:http) url=http://10.98.0.1:8082/ pid=$swiftlet_pid ;;
                nginx:http) url=http://10.98.0.1:8081/ pid=$nginx_pid ;;
                swiftlet:https) url=https://10.98.0.1:8444/ pid=$swiftlet_pid ;;
                nginx:https) url=https://10.98.0.1:8443/ pid=$nginx_pid ;;
            esac
            before=$(cpu_ticks "$pid")
            run wrk -t2 -c"$connections" -d"${duration}s" --latency "$url" >"$results/$name-$scheme-$r.txt"
            echo "cpu_ticks $(( $(cpu_ticks "$pid") - before )) hz $(getconf CLK_TCK)" >>"$results/$name-$scheme-$r.txt"
            memory "$pid" >>"$results/$name-$scheme-$r.txt"
        done
    done
    r=$((r + 1))
done

python3 - "$results" "$rounds" <<'PY'
import re, statistics, sys
results, rounds = sys.argv[1], int(sys.argv[2])
def unit(value, suffix):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[suffix]
print(f"{'proxy':<9} {'scheme':<6} {'req/s':>10} {'p99 ms':>8} {'CPU us/req':>10} {'RSS MiB':>8} {'PSS MiB':>8} {'anon MiB':>9} {'errors':>7}")
rows = {}
for scheme in ("http", "https"):
    for name in ("swiftlet", "nginx"):
        rps, p99, cpu, errors = [], [], [], 0
        memory = {"rss": [], "pss": [], "anon": []}
        for r in range(1, rounds + 1):
            text = open(f"{results}/{name}-{scheme}-{r}.txt").read()
            rps.append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
            requests = int(re.search(r"(\d+) requests in", text).group(1))
            ticks, hz = map(int, re.search(r"cpu_ticks (\d+) hz (\d+)", text).groups())
            cpu.append(ticks / hz * 1e6 / max(requests, 1))
            m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", text, re.M)
            p99.append(unit(m.group(1), m.group(2)))
            for kind in memory:
                memory[kind].append(int(re.search(kind + r"_kib (\d+)", text).group(1)))
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
            errors += int(m.group(1)) if m else 0
            m = re.search(r"Socket errors: (.*)", text)
            if m:
                errors += sum(int(x) for x in re.findall(r"\d+", m.group(1)))
        row = (statistics.median(rps), statistics.median(p99), max(memory["rss"]) / 1024,
               max(memory["pss"]) / 1024, max(memory["anon"]) / 1024, errors, statistics.median(cpu))
        rows[(name, scheme)] = row
        print(f"{name:<9} {scheme:<6} {row[0]:>10.0f} {row[1]:>8.2f} {row[6]:>10.1f} {row[2]:>8.1f} {row[3]:>8.1f} {row[4]:>9.1f} {row[5]:>7}")
for scheme in ("http", "https"):
    s, n = rows[("swiftlet", scheme)], rows[("nginx", scheme)]
    print(f"swiftlet/nginx {scheme}: req/s {s[0] / n[0]:.2f}x, p99 {s[1] / n[1]:.2f}x, CPU per request {s[6] / n[6]:.2f}x, RSS {s[2] / n[2]:.2f}x, "
          f"PSS {s[3] / n[3]:.2f}x, anonymous {s[4] / n[4]:.2f}x")
PY
echo "raw wrk output: $results ($(cat "$dir/nginx-version"))"

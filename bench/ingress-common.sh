# Shared by bench/ingress.sh (the IngressProxy module on its own) and bench/ingress-agent.sh (the
# agent's ingress): the nginx peer, the memory and CPU readings, the rounds and the report.
# Sourced (POSIX sh); the functions expect `dir` (the bench's scratch directory) to be set.

# The settings both benches read (their headers say what each means).
rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-64}"
schemes="${SCHEMES:-http https}"
out="${OUT:-bench/results}"

# stop_pids: ends the processes the bench started in the background (`pids`), by PID, and waits
# for them; for the scripts' cleanup.
stop_pids() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
}

# proxy_urls: swiftlet's and nginx's URL for each of `schemes` (swiftlet_http, nginx_http, ...).
proxy_urls() {
    for scheme in $schemes; do eval echo "\$swiftlet_$scheme \$nginx_$scheme"; done
}

# wait_answering LOGS URL...: waits up to 10 s for each URL to answer curl run by `client`;
# otherwise prints the end of LOGS (a glob) and exits.
wait_answering() {
    logs=$1
    shift
    for url in "$@"; do
        i=0
        until client curl -sfk -o /dev/null "$url"; do
            i=$((i + 1))
            # shellcheck disable=SC2086 # LOGS is a glob
            [ "$i" -lt 100 ] || { echo "$0: $url does not answer" >&2; tail -n 30 $logs >&2; exit 1; }
            sleep 0.1
        done
    done
}

# find_nginx: sets `nginx` to NGINX, else nginx on PATH, else one extracted from Debian's package
# with apt-get download (not installed).
find_nginx() {
    nginx="${NGINX:-$(command -v nginx || true)}"
    if [ -z "$nginx" ]; then
        (cd "$dir" && apt-get download nginx >/dev/null 2>&1) || { echo "$0: no nginx, and apt-get download nginx failed" >&2; exit 1; }
        dpkg-deb -x "$dir"/nginx_*.deb "$dir/nginx-root"
        nginx="$dir/nginx-root/usr/sbin/nginx"
    fi
    "$nginx" -v 2>"$dir/nginx-version" || { cat "$dir/nginx-version" >&2; exit 1; }
}

# nginx_paths DIR: the directives that keep an nginx's files in DIR (none of its package's paths).
nginx_paths() {
    echo "pid $1/nginx.pid; error_log $1/error.log warn; events { worker_connections 4096; }"
}
nginx_temp_paths() {
    echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fastcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"
}

# proxy_server: sets `server` to SERVER (an ingress-proxy-server binary), else to a release build
# of it (its log in $dir/build.log).
proxy_server() {
    if [ -n "${SERVER:-}" ]; then
        server="$SERVER"
    else
        swift build -c release --product ingress-proxy-server >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
        server="$(swift build -c release --show-bin-path)/ingress-proxy-server"
    fi
}

# bench_namespace NS: the network namespace the module benches run in, lo up with the proxies'
# address (10.98.0.1) and the two backends' (10.98.0.2, 10.98.0.3).
bench_namespace() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    for a in 10.98.0.1 10.98.0.2 10.98.0.3; do ip -n "$1" addr add "$a/32" dev lo; done
}

# nginx_backends_conf DIR: DIR/nginx.conf, one nginx answering a short body on 10.98.0.2:8080 and
# 10.98.0.3:8080 (the backends cost little, and the same for every proxy in front of them).
nginx_backends_conf() {
    cat >"$1/nginx.conf" <<CONF
worker_processes 1;
$(nginx_paths "$1")
http {
    access_log off;
    $(nginx_temp_paths "$1")
    keepalive_requests 1000000;
    server { listen 10.98.0.2:8080; location / { return 200 "hello from backend 1\n"; } }
    server { listen 10.98.0.3:8080; location / { return 200 "hello from backend 2\n"; } }
}
CONF
}

# nginx_proxy_conf DIR HTTP_LISTEN HTTPS_LISTEN UPSTREAM...: DIR/nginx.conf, nginx as ingress-nginx
# configures it as a reverse proxy (upstream keepalive 32, proxy_http_version 1.1, the
# X-Forwarded-* headers), two workers, HTTPS with DIR/cert.pem (made here: ECDSA P-256,
# self-signed, like swiftlet's default certificate).
nginx_proxy_conf() {
    conf_dir=$1 http_listen=$2 https_listen=$3
    shift 3
    servers=""
    for upstream in "$@"; do servers="$servers server $upstream;"; done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench.example" \
        -keyout "$conf_dir/key.pem" -out "$conf_dir/cert.pem" >/dev/null 2>&1
    cat >"$conf_dir/nginx.conf" <<CONF
worker_processes 2;
$(nginx_paths "$conf_dir")
http {
    access_log off;
    $(nginx_temp_paths "$conf_dir")
    keepalive_requests 1000000;
    upstream bench {$servers keepalive 32; }
    ssl_certificate $conf_dir/cert.pem;
    ssl_certificate_key $conf_dir/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen $http_listen;
        listen $https_listen ssl;
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
}

# The processes a reading covers: PID, and its children too when the second argument is
# "children" (nginx's workers; not the agent's, which are the pods' monitors).
processes() {
    echo "$1"
    [ "${2:-}" = children ] && ps -o pid= --ppid "$1"
    true
}

# memory PID [children]: in KiB, resident (VmRSS, which counts pages shared between nginx's
# processes once per process), proportional (Pss: shared pages divided among the processes
# mapping them) and anonymous (RssAnon: what the process allocated).
memory() {
    rss=0; pss=0; anon=0
    for p in $(processes "$@"); do
        rss=$((rss + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
        anon=$((anon + $(awk '/^RssAnon:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
        pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "rss_kib $rss pss_kib $pss anon_kib $anon"
}

# cpu_ticks PID [children]: CPU time (utime + stime) and user time (utime), in clock ticks.
# Divided by the requests of a round they give the proxy's CPU per request, steadier on a shared
# machine than requests/s, which also depends on how much of the 2 cores wrk and the backends
# take; the user part is the proxy's own work (the system part is mostly the kernel's TCP, about
# the same for both proxies).
cpu_ticks() {
    ticks=0 user=0
    for p in $(processes "$@"); do
        set -- $(awk '{print $14 + $15, $14}' "/proc/$p/stat" 2>/dev/null || echo 0 0)
        ticks=$((ticks + $1)) user=$((user + $2))
    done
    echo "$ticks $user"
}

# ingress_rounds RESULTS: a warm-up of each proxy, then ROUNDS rounds alternating swiftlet and
# nginx over each of `schemes` (http, https), `wrk -t2 -cCONNECTIONS -dDURATION --latency` run by `client`; after
# each round the proxy's CPU time and memory. Expects rounds, duration, connections, the URLs
# swiftlet_http, swiftlet_https, nginx_http, nginx_https, the PIDs swiftlet_pid and nginx_pid,
# and `client CMD...` running CMD on the load generator's host.
ingress_rounds() {
    for url in $(proxy_urls); do
        client wrk -t2 -c"$connections" -d2s "$url" >/dev/null
    done
    r=1
    while [ "$r" -le "$rounds" ]; do
        for scheme in $schemes; do
            for name in swiftlet nginx; do
                case "$name:$scheme" in
                    swiftlet:http) url=$swiftlet_http pid=$swiftlet_pid whose="" ;;
                    nginx:http) url=$nginx_http pid=$nginx_pid whose=children ;;
                    swiftlet:https) url=$swiftlet_https pid=$swiftlet_pid whose="" ;;
                    nginx:https) url=$nginx_https pid=$nginx_pid whose=children ;;
                esac
                set -- "$1" $(cpu_ticks "$pid" $whose)
                client wrk -t2 -c"$connections" -d"${duration}s" --latency "$url" >"$1/$name-$scheme-$r.txt"
                set -- "$1" "$2" "$3" $(cpu_ticks "$pid" $whose)
                echo "cpu_ticks $(($4 - $2)) user_ticks $(($5 - $3)) hz $(getconf CLK_TCK)" >>"$1/$name-$scheme-$r.txt"
                memory "$pid" $whose >>"$1/$name-$scheme-$r.txt"
            done
        done
        r=$((r + 1))
    done
}

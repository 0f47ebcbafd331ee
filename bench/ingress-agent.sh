#!/bin/sh
# Ingress through the agent, as issue 14 and a user's cluster have it: `swiftlet agent`'s ingress
# proxy on the node's :80 and :443 serving an Ingress to the pods of a Deployment, against nginx
# (Debian's) configured as the same reverse proxy to the same pods on the same node, with wrk on
# another host ("outside the cluster"), in one run.
#
# Hosts, each a network namespace of this script's own, joined by a veth pair:
#   node    `swiftlet server --disable-agent` and `swiftlet agent` joined to it (two processes, as
#           on a worker, so the agent's memory is its own), 10.97.0.1; the two backend pods on
#           the agent's pod network; nginx as the peer proxy on :8081 and :8443.
#   client  wrk, 10.97.0.2.
# The backend pods run nginx (`return 200` with a short body) from the host's /usr through
# hostPath volumes in the busybox test image, so the backends cost little and the same for
# both proxies. The Ingress has one rule (`/`, Prefix, no host) to their Service; HTTPS uses the
# agent's default certificate (ECDSA P-256, self-signed) and nginx's own (the same kind).
#
# Rounds and report as in bench/ingress.sh (bench/ingress-common.sh, bench/ingress_report.py).
# swiftlet's CPU and memory are the agent process's (its pods' monitors and containers are not
# counted); "idle" below is the agent's memory with its two pods, before any request.
#
# Environment: ROUNDS (default 3), DURATION (seconds, default 10), CONNECTIONS (default 64),
# SCHEMES (default "http https"), OUT
# (results dir, default bench/results), BIN (a directory holding swiftlet and swiftlet-monitor;
# default: a release build made here), NGINX (as in bench/ingress.sh; the pods need the host's
# /usr/sbin/nginx, scripts/debian-packages-bench), HOLD (set: after the setup, print the agent's
# and nginx's PIDs and the URLs and keep everything up until interrupted, for profiling by hand).
# Needs root, kubectl, wrk, openssl, iproute2. Uses only the namespaces and cgroups it creates and
# removes them.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
. bench/ingress-common.sh
. bench/cluster-common.sh
for tool in wrk kubectl openssl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "ingress-agent.sh: $tool is missing" >&2; exit 1; }
done
[ -x /usr/sbin/nginx ] || { echo "ingress-agent.sh: the pods run the host's /usr/sbin/nginx: apt-get install nginx" >&2; exit 1; }
release_binaries
dir="$(mktemp -d /tmp/swiftlet-ingressagent.XXXXXX)"
node="swia-node$$"
client_ns="swia-client$$"
cgroup="swiftlet-ingressbench$$"
server_pid="" agent_pid="" nginx_pid=""

cleanup() {
    set +e
    for pid in $nginx_pid $agent_pid $server_pid; do kill "$pid" 2>/dev/null; done
    for pid in $nginx_pid $agent_pid $server_pid; do wait "$pid" 2>/dev/null; done
    remove_pods "$cgroup" "$dir"
    ip netns del "$client_ns" 2>/dev/null
    ip netns del "$node" 2>/dev/null
    rm -rf "$dir"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

find_nginx
mkdir -p "$out" "$dir/proxy"
# (Processes started in the background run nsenter itself, so that $! is theirs: a function run
# with & would be a subshell whose kill leaves them running.)
on_node() { nsenter --net="/run/netns/$node" "$@"; }
client() { nsenter --net="/run/netns/$client_ns" "$@"; }
k() { on_node kubectl --kubeconfig "$dir/kubeconfig.yaml" "$@"; }

sh rootfs-fixtures/build.sh "$dir/fixtures" >/dev/null
"$BIN/swiftlet" images import --data-dir "$dir/agent" "$dir/fixtures/busybox" >/dev/null
ip netns add "$node"
ip netns add "$client_ns"
ip -n "$node" link set lo up
ip -n "$client_ns" link set lo up
ip -n "$node" link add eth0 type veth peer name eth0 netns "$client_ns"
ip -n "$node" addr add 10.97.0.1/24 dev eth0
ip -n "$client_ns" addr add 10.97.0.2/24 dev eth0
ip -n "$node" link set eth0 up
ip -n "$client_ns" link set eth0 up
ip -n "$node" route add default dev eth0

nsenter --net="/run/netns/$node" "$BIN/swiftlet" server --disable-agent --data-dir "$dir/server" --https-listen 10.97.0.1:6443 \
    --write-kubeconfig "$dir/kubeconfig.yaml" >"$dir/server.log" 2>&1 &
server_pid=$!
i=0
until [ -s "$dir/server/server/token" ] && [ -s "$dir/kubeconfig.yaml" ]; do
    i=$((i + 1))
    [ "$i" -lt 300 ] || { tail -30 "$dir/server.log"; echo "the server did not start" >&2; exit 1; }
    sleep 0.1
done
nsenter --net="/run/netns/$node" "$BIN/swiftlet" agent --server https://10.97.0.1:6443 --token "$(cat "$dir/server/server/token")" \
    --node-name bench --node-ip 10.97.0.1 --data-dir "$dir/agent" --run-dir "$dir/run" --log-dir "$dir/logs" \
    --cgroup-parent "$cgroup" --monitor-path "$BIN/swiftlet-monitor" >"$dir/agent.log" 2>&1 &
agent_pid=$!
wait_node_ready bench "$dir/agent.log"

cat >"$dir/backend.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend}
spec:
  replicas: 2
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers:
      - name: nginx
        image: busybox
        command:
        - sh
        - -c
        - |
          cat >/tmp/nginx.conf <<CONF
          user nobody nogroup; worker_processes 1; daemon off; pid /tmp/nginx.pid; error_log stderr warn;
          events { worker_connections 4096; }
          http { access_log off; keepalive_requests 1000000;
            client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fastcgi;
            uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
            server { listen 8080; location / { return 200 "hello from $(hostname)\n"; } } }
          CONF
          exec /usr/sbin/nginx -e stderr -c /tmp/nginx.conf
        volumeMounts:
        - {name: usr, mountPath: /usr, readOnly: true}
        - {name: lib, mountPath: /lib, readOnly: true}
        - {name: lib64, mountPath: /lib64, readOnly: true}
      volumes:
      # Debian 12 merges /usr: /lib and /lib64 are links into it (the loader nginx names).
      - {name: usr, hostPath: {path: /usr}}
      - {name: lib, hostPath: {path: /usr/lib}}
      - {name: lib64, hostPath: {path: /usr/lib64}}
---
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: backend}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: backend, port: {number: 8080}}}}
YAML
k apply -f "$dir/backend.yaml" >/dev/null
# Ready when both pods answer (a pod that exits at once is Ready for a moment).
pods_answer() {
    [ "$(echo $pod_ips | wc -w)" -eq 2 ] || return 1
    for ip in $pod_ips; do on_node curl -sf -o /dev/null "http://$ip:8080/" || return 1; done
}
pod_ips="" i=0
until pods_answer; do
    i=$((i + 1))
    [ "$i" -lt 600 ] || { k get pods -o wide; tail -30 "$dir/agent.log"; echo "the backend pods do not answer" >&2; exit 1; }
    sleep 0.2
    pod_ips="$(k get pods -l app=backend --field-selector=status.phase=Running -o 'jsonpath={.items[*].status.podIP}' 2>/dev/null || true)"
done
upstreams=""
for ip in $pod_ips; do upstreams="$upstreams $ip:8080"; done
# shellcheck disable=SC2086 # one argument per upstream
nginx_proxy_conf "$dir/proxy" 10.97.0.1:8081 10.97.0.1:8443 $upstreams
nsenter --net="/run/netns/$node" "$nginx" -e "$dir/proxy/stderr.log" -g 'daemon off;' -p "$dir/proxy" -c "$dir/proxy/nginx.conf" 2>"$dir/nginx-proxy.log" &
nginx_pid=$!

swiftlet_http=http://10.97.0.1/ swiftlet_https=https://10.97.0.1/
nginx_http=http://10.97.0.1:8081/ nginx_https=https://10.97.0.1:8443/
wait_answering "$dir/agent.log" $(proxy_urls)

if [ -n "${HOLD:-}" ]; then
    # For profiling by hand: the cluster stays up until this script is interrupted.
    echo "HOLD: agent pid $agent_pid, nginx pid $nginx_pid; client netns $client_ns; URLs $swiftlet_http $swiftlet_https $nginx_http $nginx_https"
    while :; do sleep 3600 & wait $!; done
fi
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$out/ingress-agent-$stamp"
mkdir -p "$results"
swiftlet_pid=$agent_pid
echo "idle $(memory "$agent_pid")" >"$results/agent-idle.txt"
ingress_rounds "$results"
python3 bench/ingress_report.py "$results" "$rounds"
# What serving the load added to the agent: its largest anonymous memory after a round, less
# its anonymous memory before the first.
cat "$results"/swiftlet-*.txt | awk -v idle="$(awk '{print $7}' "$results/agent-idle.txt")" -v rss="$(awk '{print $3}' "$results/agent-idle.txt")" '
    /anon_kib/ { if ($6 > max) max = $6 }
    END { printf "agent before the rounds (two pods, no request yet): RSS %.1f MiB, anonymous %.1f MiB; the rounds added %.1f MiB anonymous\n", rss / 1024, idle / 1024, (max - idle) / 1024 }'

echo "pods: $pod_ips; raw wrk output: $results ($(cat "$dir/nginx-version"))"

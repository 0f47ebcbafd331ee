# Shared by the benches that run a cluster (bench/cluster-start.sh, bench/exec.sh,
# bench/ingress-agent.sh): their binaries, waiting for the node, and removing what its pods left.
# Sourced (POSIX sh).

# release_binaries: BIN (the directory holding swiftlet and swiftlet-monitor) as given, else a
# release build made here.
release_binaries() {
    if [ -z "${BIN:-}" ]; then
        swift build -c release >/dev/null
        BIN="$(swift build -c release --show-bin-path)"
    fi
}

# wait_node_ready NODE LOG: waits up to 30 s for NODE to be Ready (kubectl through the bench's
# function `k`); otherwise prints LOG's last lines and exits.
wait_node_ready() {
    ready=""
    for _ in $(seq 300); do
        ready="$(k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)"
        [ "$ready" = "True" ] && return 0
        sleep 0.1
    done
    tail -30 "$2"
    echo "$0: the node did not become Ready" >&2
    exit 1
}

# remove_pods CGROUP DIR: kills what the pods left running (containers in the cgroups named
# CGROUP under the bench's --cgroup-parent, and their monitors, which run the state under DIR),
# removes those cgroups and unmounts what is mounted under DIR. Pods outlive their agent by
# design, so a bench that stops the agent must do this.
remove_pods() {
    for pid in $(cat $(find /sys/fs/cgroup -path "*$1*" -name cgroup.procs) 2>/dev/null) \
        $(pgrep -f "swiftlet-monitor.*$2" || true); do
        kill -9 "$pid" 2>/dev/null || true
    done
    sleep 0.5
    for c in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    grep " $2/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
    true
}

#!/bin/sh
# install.sh: installs swiftlet as a systemd service, k3s' installer as the model
# (https://get.k3s.io). On a machine with systemd, as root:
#
#   Server (the control plane and a node):
#     INSTALL_SWIFTLET_BIN=/path/to/swiftlet sh install.sh
#   Agent (a worker joining that server):
#     INSTALL_SWIFTLET_BIN=/path/to/swiftlet SWIFTLET_URL=https://10.0.0.1:6443 \
#       SWIFTLET_TOKEN=K10... sh install.sh
#
# Environment variables:
#   - SWIFTLET_URL
#     The server to join, https://HOST:PORT. Given, swiftlet is installed as an agent
#     (swiftlet-agent.service), else as a server (swiftlet.service). http:// is refused.
#   - SWIFTLET_TOKEN / SWIFTLET_TOKEN_FILE
#     An agent's join token (K10<CA hash>::...), or a file holding it; one is required with
#     SWIFTLET_URL. The server's own is in /var/lib/swiftlet/server/token. The agent joins once
#     (checking the token against the server's CA) before anything is installed, so a wrong
#     URL or token fails the install with the reason.
#   - SWIFTLET_NODE_NAME
#     The node's name (default: the host name).
#   - SWIFTLET_*
#     Every variable starting with SWIFTLET_ (and the proxy variables) is kept in the
#     service's environment file, /etc/systemd/system/<service>.service.env (mode 0600: it
#     holds the token).
#   - INSTALL_SWIFTLET_BIN
#     The swiftlet binary to install (built by scripts/build-release.sh; swiftlet-monitor must
#     be next to it). Without it, the binaries already in INSTALL_SWIFTLET_BIN_DIR are used:
#     there are no downloads.
#   - INSTALL_SWIFTLET_EXEC or script arguments
#     The command and flags the service runs: `server` or `agent` (default from SWIFTLET_URL),
#     then flags, e.g. INSTALL_SWIFTLET_EXEC="--node-label zone=a" or
#     `sh install.sh agent --node-label zone=a`. Flags can also go in
#     /etc/swiftlet/config.yaml (keys are the flag names), read by the service and by
#     `swiftlet pods`, `swiftlet logs`... alike.
#   - INSTALL_SWIFTLET_SKIP_ENABLE
#     true: do not enable or start the service.
#   - INSTALL_SWIFTLET_SKIP_START
#     true: enable the service but do not start it.
#   - INSTALL_SWIFTLET_FORCE_RESTART
#     true: restart the service even when nothing changed.
#   - INSTALL_SWIFTLET_BIN_DIR
#     Where the binaries and the uninstall and killall scripts go (default /usr/local/bin).
#   - INSTALL_SWIFTLET_SYSTEMD_DIR
#     Where the unit and its environment file go (default /etc/systemd/system).
#   - INSTALL_SWIFTLET_PRINT_UNIT
#     true: print the unit that would be written and exit, changing nothing (the units in
#     the repository's systemd/ are this output with the defaults).
#
# Re-running it is safe: files are rewritten, and the service is restarted only when the
# binary, the unit or the environment changed. It writes swiftlet-killall.sh (stops swiftlet
# and everything it runs) and swiftlet-uninstall.sh or swiftlet-agent-uninstall.sh (that, then
# removes every file, cgroup, interface, route, nftables table and mount swiftlet made, and
# puts back the kernel modules and ip_forward as they were before the first install).
set -eu
set -o noglob

# --- helpers for messages ---
info() {
    echo '[INFO] ' "$@"
}
warn() {
    echo '[WARN] ' "$@" >&2
}
fatal() {
    echo '[ERROR] ' "$@" >&2
    exit 1
}

# --- quote arguments for a systemd ExecStart= line, one per line ---
quote() {
    for arg in "$@"; do
        printf '%s\n' "$arg" | sed "s/'/'\\\\''/g;1s/^/'/;\$s/\$/'/"
    done
}

quote_indent() {
    for arg in "$@"; do
        printf ' \\\n\t%s' "$(quote "$arg")"
    done
}

# --- systemd must be the init system ---
verify_system() {
    command -v systemctl >/dev/null 2>&1 || fatal 'systemctl not found: install.sh installs swiftlet as a systemd service'
    [ -d /run/systemd/system ] || fatal 'systemd is not running as the init system (no /run/systemd/system): install.sh installs a systemd service'
    [ "$(id -u)" -eq 0 ] || fatal 'run install.sh as root (it writes /usr/local/bin, /etc/systemd/system and /etc/swiftlet)'
}

# --- SWIFTLET_URL is empty or https:// ---
verify_url() {
    case "${SWIFTLET_URL:-}" in
        "") ;;
        https://*) ;;
        *) fatal "Only https:// URLs are supported for SWIFTLET_URL (have ${SWIFTLET_URL}): the server serves its API over HTTPS, e.g. SWIFTLET_URL=https://10.0.0.1:6443" ;;
    esac
}

# --- the command, the service name and the paths ---
setup_env() {
    case "${1:-}" in
        (-*|"")
            if [ -z "${SWIFTLET_URL:-}" ]; then
                CMD_SWIFTLET=server
            else
                CMD_SWIFTLET=agent
            fi
            ;;
        (server|agent)
            CMD_SWIFTLET=$1
            shift
            ;;
        (*)
            fatal "unknown command '$1': swiftlet installs as 'server' or 'agent'"
            ;;
    esac
    verify_url
    if [ "$CMD_SWIFTLET" = agent ]; then
        [ -n "${SWIFTLET_URL:-}" ] || fatal "an agent needs the server's URL: SWIFTLET_URL=https://SERVER:6443"
        if [ -z "${SWIFTLET_TOKEN:-}" ] && [ -z "${SWIFTLET_TOKEN_FILE:-}" ]; then
            fatal "Defaulted the command to 'agent' because SWIFTLET_URL is set, but SWIFTLET_TOKEN or SWIFTLET_TOKEN_FILE is not: the server's token is in /var/lib/swiftlet/server/token on the server"
        fi
        if [ -n "${SWIFTLET_TOKEN_FILE:-}" ] && [ ! -r "${SWIFTLET_TOKEN_FILE}" ]; then
            fatal "SWIFTLET_TOKEN_FILE ${SWIFTLET_TOKEN_FILE} cannot be read"
        fi
        SYSTEM_NAME=swiftlet-agent
    else
        [ -z "${SWIFTLET_URL:-}" ] || fatal "a server cannot join another server (SWIFTLET_URL is set): leave it out to install a server, or install an agent"
        # A server's SWIFTLET_TOKEN is the cluster's (k3s' K3S_TOKEN): servers sharing an etcd
        # datastore (--datastore-endpoint) start with the first one's token.
        if [ -n "${SWIFTLET_TOKEN_FILE:-}" ] && [ ! -r "${SWIFTLET_TOKEN_FILE}" ]; then
            fatal "SWIFTLET_TOKEN_FILE ${SWIFTLET_TOKEN_FILE} cannot be read"
        fi
        SYSTEM_NAME=swiftlet
    fi
    CMD_ARGS=$(quote_indent "$@")
    EXEC_ARGS_FILE=$(mktemp)
    trap 'rm -f "$EXEC_ARGS_FILE"' EXIT
    # The flags, one per line, for the join check (set -o noglob keeps them literal).
    for arg in "$@"; do printf '%s\n' "$arg"; done > "$EXEC_ARGS_FILE"

    BIN_DIR=${INSTALL_SWIFTLET_BIN_DIR:-/usr/local/bin}
    SYSTEMD_DIR=${INSTALL_SWIFTLET_SYSTEMD_DIR:-/etc/systemd/system}
    FILE_SERVICE=${SYSTEMD_DIR}/${SYSTEM_NAME}.service
    FILE_ENV=${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env
    UNINSTALL_SH=${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh
    KILLALL_SH=${BIN_DIR}/swiftlet-killall.sh
    ETC_DIR=/etc/swiftlet
    DATA_DIR=/var/lib/swiftlet
    PRE_INSTALL_HASHES=$(get_installed_hashes)
}

get_installed_hashes() {
    sha256sum "${BIN_DIR}/swiftlet" "${BIN_DIR}/swiftlet-monitor" "${FILE_SERVICE}" "${FILE_ENV}" 2>&1 || true
}

# --- the binaries: INSTALL_SWIFTLET_BIN and the swiftlet-monitor next to it ---
verify_binary() {
    if [ -z "${INSTALL_SWIFTLET_BIN:-}" ]; then
        [ -x "${BIN_DIR}/swiftlet" ] && [ -x "${BIN_DIR}/swiftlet-monitor" ] ||
            fatal "INSTALL_SWIFTLET_BIN is not set and ${BIN_DIR}/swiftlet is not installed: set INSTALL_SWIFTLET_BIN=/path/to/swiftlet (scripts/build-release.sh builds it; there are no downloads)"
        SOURCE_BIN=${BIN_DIR}/swiftlet
    else
        SOURCE_BIN=${INSTALL_SWIFTLET_BIN}
    fi
    SOURCE_MONITOR=$(dirname "${SOURCE_BIN}")/swiftlet-monitor
    [ -f "${SOURCE_BIN}" ] && [ -x "${SOURCE_BIN}" ] || fatal "INSTALL_SWIFTLET_BIN ${SOURCE_BIN} is not an executable file"
    [ -f "${SOURCE_MONITOR}" ] && [ -x "${SOURCE_MONITOR}" ] ||
        fatal "swiftlet-monitor must be next to ${SOURCE_BIN} (${SOURCE_MONITOR} is missing)"
    VERSION=$("${SOURCE_BIN}" --version 2>&1) || fatal "${SOURCE_BIN} does not run on this machine: ${VERSION}"
}

install_binary() {
    info "Installing ${VERSION} to ${BIN_DIR}"
    mkdir -p "${BIN_DIR}"
    for pair in "${SOURCE_BIN}:swiftlet" "${SOURCE_MONITOR}:swiftlet-monitor"; do
        source=${pair%:*}
        target=${BIN_DIR}/${pair##*:}
        cmp -s "${source}" "${target}" && continue
        cp "${source}" "${target}.tmp"
        chmod 755 "${target}.tmp"
        mv -f "${target}.tmp" "${target}"
    done
}

# --- an agent joins once before anything is installed: a wrong URL or token stops here ---
verify_join() {
    [ "$CMD_SWIFTLET" = agent ] || return 0
    # Each join gives the node a new credential and retires the running agent's: a re-run
    # that changes nothing does not join again.
    if [ -f "${FILE_ENV}" ] && [ "$(env_text)" = "$(cat "${FILE_ENV}")" ] && systemctl is-active --quiet "${SYSTEM_NAME}"; then
        info "${SYSTEM_NAME} runs with this URL and token already"
        return 0
    fi
    info "Checking ${SWIFTLET_URL} and the token"
    created_data=
    [ -d "${DATA_DIR}" ] || created_data=yes
    set +e
    # One argument per line of the file (noglob keeps them literal).
    # shellcheck disable=SC2046
    output=$(IFS='
'; "${SOURCE_BIN}" agent $(cat "$EXEC_ARGS_FILE") --join-only 2>&1)
    status=$?
    set -e
    if [ $status -ne 0 ]; then
        # Nothing of a failed check stays behind.
        [ -z "${created_data}" ] || rm -rf "${DATA_DIR}"
        fatal "cannot join ${SWIFTLET_URL}: $(printf '%s\n' "$output" | grep -v '^[0-9T:.+-]* *\(info\|debug\|notice\|warning\)' | sed -e 's/^Error: //' | tail -n 3)"
    fi
    info "$(printf '%s\n' "$output" | tail -n 1)"
}

# --- what the uninstall puts back: modules and ip_forward as they were before the first install ---
record_host_state() {
    mkdir -p "${ETC_DIR}"
    chmod 755 "${ETC_DIR}"
    [ -f "${ETC_DIR}/before-install" ] && return 0
    {
        echo "# The host before swiftlet was first installed; swiftlet-uninstall.sh restores it."
        echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo 0)"
        loaded=
        for module in br_netfilter overlay; do
            [ -d "/sys/module/${module}" ] && loaded="${loaded} ${module}"
        done
        echo "modules_loaded='${loaded# }'"
        if [ -d /var/log/pods ]; then echo "had_pod_logs=yes"; else echo "had_pod_logs=no"; fi
    } > "${ETC_DIR}/before-install"
}

# --- swiftlet-killall.sh: stop swiftlet and everything it runs, keep its files ---
create_killall() {
    info "Creating killall script ${KILLALL_SH}"
    cat > "${KILLALL_SH}.tmp" << 'EOF'
#!/bin/sh
# Stops swiftlet's services and everything they started: pods (their processes, cgroups,
# namespaces and mounts), the containers' monitors, the node bridge, pod routes and
# swiftlet's nftables tables. Files stay (swiftlet-uninstall.sh removes them).
#
# --shutdown (the services' ExecStopPost): while the system shuts down, and only then, stops
# the pods' processes and nothing else; a restart or stop of the service leaves them running.
# Left to systemd's final kill, a container whose PID 1 ignores SIGTERM (a PID namespace's
# init gets only the signals it handles) holds the shutdown for 90 s before SIGKILL. Here
# they get SIGTERM and 5 s, then SIGKILL; their monitors record the exits, and the agent
# restarts them by restartPolicy when the machine is back, as after a power cut.
[ "$(id -u)" -eq 0 ] || exec sudo "$0" "$@"

# The pods' cgroups: below the services' slice (swiftlet.slice/kubepods) or, for an agent
# started by hand, swiftlet/ at the root; every hierarchy (cgroup v2, or each v1 controller).
pod_cgroups() {
    for mount in $(awk '$3 == "cgroup2" || $3 == "cgroup" {print $2}' /proc/self/mounts); do
        for parent in swiftlet.slice/kubepods swiftlet; do
            [ -d "$mount/$parent" ] && echo "$mount/$parent"
        done
    done
}
pod_pids() {
    for dir in $(pod_cgroups); do find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null; done
}

if [ "${1:-}" = --shutdown ]; then
    [ "$(systemctl is-system-running 2>/dev/null)" = stopping ] || exit 0
    pids=$(pod_pids)
    [ -n "$pids" ] || exit 0
    echo "swiftlet-killall: the system is shutting down: stopping the pods' processes"
    kill -TERM $pids 2>/dev/null
    for i in $(seq 25); do
        [ -n "$(pod_pids)" ] || exit 0
        sleep 0.2
    done
    for dir in $(pod_cgroups); do [ -f "$dir/cgroup.kill" ] && echo 1 > "$dir/cgroup.kill"; done
    pids=$(pod_pids)
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    exit 0
fi

set -x
for service in /etc/systemd/system/swiftlet*.service; do
    [ -s "$service" ] && systemctl stop "$(basename "$service")"
done

# The containers' monitors outlive the services (KillMode=process keeps them, as k3s keeps
# containerd's shims); found by their executable.
for exe in /proc/[0-9]*/exe; do
    case "$(readlink "$exe" 2>/dev/null)" in
        */swiftlet-monitor|*/swiftlet) pid=${exe#/proc/}; kill -9 "${pid%/exe}" 2>/dev/null ;;
    esac
done

kill_and_remove_cgroups() {
    for dir in $(pod_cgroups); do
        [ -f "$dir/cgroup.kill" ] && echo 1 > "$dir/cgroup.kill"
        for i in 1 2 3 4 5 6 7 8 9 10; do
            pids=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
            [ -z "$pids" ] && break
            kill -9 $pids 2>/dev/null
            sleep 0.2
        done
        find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
}
{ set +x; } 2>/dev/null
kill_and_remove_cgroups
set -x
systemctl stop swiftlet.slice 2>/dev/null

# Mounts under swiftlet's directories (the pods' namespace files, memory-backed volumes),
# deepest first.
do_unmount() {
    { set +x; } 2>/dev/null
    while read -r _ path _; do
        case "$path" in "$1"|"$1"/*) echo "$path" ;; esac
    done < /proc/self/mounts | sort -r | while read -r path; do umount -l "$path"; done
    set -x
}
do_unmount /run/swiftlet
do_unmount /var/lib/swiftlet

# The node's network: the bridge, pod veths left over, routes to other nodes' pods (swiftlet
# marks its routes with protocol 83) and swiftlet's own nftables tables. Nothing else of the
# host's network or firewall is touched.
ip link delete swiftlet0 2>/dev/null
for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^swl'); do
    ip link delete "$link" 2>/dev/null
done
ip route flush proto 83 2>/dev/null
if command -v nft >/dev/null 2>&1; then
    nft list tables 2>/dev/null | while read -r _ family name; do
        case "$name" in swiftlet|swiftlet-*) nft delete table "$family" "$name" ;; esac
    done
fi
exit 0
EOF
    chmod 755 "${KILLALL_SH}.tmp"
    mv -f "${KILLALL_SH}.tmp" "${KILLALL_SH}"
}

# --- <service>-uninstall.sh: killall, then remove everything swiftlet made ---
create_uninstall() {
    info "Creating uninstall script ${UNINSTALL_SH}"
    cat > "${UNINSTALL_SH}.tmp" << EOF
#!/bin/sh
# Uninstalls ${SYSTEM_NAME}: stops everything (swiftlet-killall.sh), removes the service, the
# binaries, swiftlet's state, configuration and pod logs, and restores what the first install
# found (kernel modules loaded, net.ipv4.ip_forward).
[ "\$(id -u)" -eq 0 ] || exec sudo "\$0" "\$@"
set -x
${KILLALL_SH}

systemctl disable ${SYSTEM_NAME} 2>/dev/null
rm -f ${FILE_SERVICE} ${FILE_ENV}
systemctl daemon-reload
systemctl reset-failed ${SYSTEM_NAME} 2>/dev/null
systemctl reset-failed swiftlet.slice 2>/dev/null

remove_uninstall() {
    rm -f ${UNINSTALL_SH}
}
trap remove_uninstall EXIT

if ls ${SYSTEMD_DIR}/swiftlet*.service >/dev/null 2>&1; then
    set +x; echo 'Another swiftlet service is installed: leaving the binaries and state in place'; set -x
    exit
fi

# Put the host back as the first install found it.
if [ -f ${ETC_DIR}/before-install ]; then
    . ${ETC_DIR}/before-install
    for module in br_netfilter overlay; do
        case " \$modules_loaded " in *" \$module "*) ;; *) modprobe -r \$module 2>/dev/null ;; esac
    done
    echo "\$ip_forward" > /proc/sys/net/ipv4/ip_forward
    [ "\$had_pod_logs" = yes ] || rm -rf /var/log/pods
fi

rm -rf ${ETC_DIR} ${DATA_DIR} /run/swiftlet
rm -f ${BIN_DIR}/swiftlet ${BIN_DIR}/swiftlet-monitor ${KILLALL_SH}
EOF
    chmod 755 "${UNINSTALL_SH}.tmp"
    mv -f "${UNINSTALL_SH}.tmp" "${UNINSTALL_SH}"
}

# --- the environment file: SWIFTLET_* (the token) and proxies, mode 0600 ---
env_text() {
    env | grep -E '^SWIFTLET_[A-Z0-9_]+=' | sort || true
    env | grep -E -i '^(NO|HTTP|HTTPS)_PROXY=' | sort || true
}

create_env_file() {
    info "env: Creating environment file ${FILE_ENV}"
    mkdir -p "${SYSTEMD_DIR}"
    (umask 077 && env_text > "${FILE_ENV}.tmp")
    chmod 0600 "${FILE_ENV}.tmp"
    mv -f "${FILE_ENV}.tmp" "${FILE_ENV}"
}

# --- the unit (systemd/swiftlet.service and systemd/swiftlet-agent.service in the repository) ---
unit_text() {
    if [ "$CMD_SWIFTLET" = server ]; then
        description="swiftlet: Kubernetes control plane and node"
        ready="the API serves and the node's agent answers healthz"
    else
        description="swiftlet agent: Kubernetes node"
        ready="the agent has joined and answers healthz"
    fi
    cat << EOF
[Unit]
Description=${description}
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
# READY=1 once ${ready} (sd_notify).
Type=notify
NotifyAccess=main
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${FILE_ENV}
# The pods' cgroups go beside this service's, in swiftlet.slice/kubepods: inside it, a
# restart would fail (systemd starts the new process in the unit's own cgroup, which the
# kernel refuses once it has child cgroups with controllers).
Slice=swiftlet.slice
# Only swiftlet itself stops with the service: containers and their monitors keep running
# across restarts and upgrades (swiftlet-killall.sh stops them).
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${BIN_DIR}/swiftlet ${CMD_SWIFTLET}${CMD_ARGS}
# At system shutdown only: the pods stop here instead of holding the shutdown (the script's
# --shutdown says why).
ExecStopPost=-${KILLALL_SH} --shutdown
EOF
}

create_service_file() {
    info "systemd: Creating service file ${FILE_SERVICE}"
    unit_text > "${FILE_SERVICE}.tmp"
    chmod 0644 "${FILE_SERVICE}.tmp"
    mv -f "${FILE_SERVICE}.tmp" "${FILE_SERVICE}"
}

# --- enable, and start unless nothing changed ---
service_enable_and_start() {
    if ! grep -qs memory /sys/fs/cgroup/cgroup.controllers && ! [ -d /sys/fs/cgroup/memory ]; then
        warn 'no memory cgroup controller: memory limits of pods will not be enforced'
    fi
    [ "${INSTALL_SWIFTLET_SKIP_ENABLE:-}" = true ] && return
    info "systemd: Enabling ${SYSTEM_NAME} unit"
    systemctl enable "${FILE_SERVICE}" >/dev/null 2>&1
    systemctl daemon-reload >/dev/null
    [ "${INSTALL_SWIFTLET_SKIP_START:-}" = true ] && return
    POST_INSTALL_HASHES=$(get_installed_hashes)
    if [ "${PRE_INSTALL_HASHES}" = "${POST_INSTALL_HASHES}" ] && [ "${INSTALL_SWIFTLET_FORCE_RESTART:-}" != true ] &&
        systemctl is-active --quiet "${SYSTEM_NAME}"; then
        info 'No change detected so skipping service start'
        return
    fi
    info "systemd: Starting ${SYSTEM_NAME} (waits until it serves)"
    if ! systemctl restart "${SYSTEM_NAME}"; then
        journalctl -u "${SYSTEM_NAME}" --no-pager -n 20 >&2 2>/dev/null || true
        fatal "${SYSTEM_NAME} did not start (log above; journalctl -u ${SYSTEM_NAME})"
    fi
}

# --- what to do next ---
print_next_steps() {
    [ "$CMD_SWIFTLET" = server ] || { info "Node joined ${SWIFTLET_URL}; see it with kubectl get nodes on the server"; return; }
    [ "${INSTALL_SWIFTLET_SKIP_START:-}" = true ] || [ "${INSTALL_SWIFTLET_SKIP_ENABLE:-}" = true ] && return
    info "Admin kubeconfig: /etc/swiftlet/swiftlet.yaml (mode 0600, root only). Point kubectl at it:"
    info "    export KUBECONFIG=/etc/swiftlet/swiftlet.yaml; kubectl get nodes"
    info "  or copy it to ~/.kube/config (for another machine, replace 127.0.0.1 in it with this server's address)."
    info "Join workers with: SWIFTLET_URL=https://<this server's address>:6443 SWIFTLET_TOKEN=\$(cat /var/lib/swiftlet/server/token) sh install.sh"
}

# --- INSTALL_SWIFTLET_EXEC joins the script's arguments ---
# Shell metacharacters in it are escaped, so it is split into words but never run.
eval set -- $(printf '%s' "${INSTALL_SWIFTLET_EXEC:-}" | sed -e 's/\([][!#$%&()*;<>?`{|}]\)/\\\1/g;') $(quote "$@")

if [ "${INSTALL_SWIFTLET_PRINT_UNIT:-}" = true ]; then
    setup_env "$@"
    unit_text
    exit 0
fi

{
    verify_system
    setup_env "$@"
    verify_binary
    verify_join
    install_binary
    record_host_state
    create_killall
    create_uninstall
    create_env_file
    create_service_file
    service_enable_and_start
    print_next_steps
}

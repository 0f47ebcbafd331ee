# Tests/vm/scenarios/cluster.sh: the install story of issue 13 on three Debian 12 VMs (systemd
# 252 as PID 1, cgroup v2 with controllers), each booted once (agent2 twice: it reboots).
# Sourced by run.sh after lib.sh, with VM_RUN set and the share's bin/ holding swiftlet,
# swiftlet-monitor, install.sh, snapshot.sh and busybox-oci.tar.
#
#  1. snapshot of every VM (Tests/vm/guest/snapshot.sh)
#  2. install.sh installs a server; its kubeconfig (0600) and token exist
#  3. on agent1, installs that must fail do, with the reason, and leave nothing behind:
#     an http:// URL, no token, a wrong secret, a wrong CA hash, a URL nobody answers
#     (meanwhile agent2 installs); then agent1 installs with the URL and token; kubectl get
#     nodes shows the three Ready; re-running install.sh on agent1 changes nothing and
#     restarts nothing
#  4. a Deployment with memory and CPU limits: memory.max and cpu.max of its containers'
#     cgroups under swiftlet.slice/kubepods, the eBPF device program attached, node
#     allocatable on kubepods
#  5. agent2 reboots; meanwhile on agent1 a memory hog is OOM-killed and reported OOMKilled
#     (memory.events), and systemctl restart swiftlet-agent keeps its containers (same
#     PIDs, a new agent process); agent2 comes back with the service, a new boot ID and
#     its pod's container started again
#  6. the uninstall scripts leave every VM as the snapshot found it
# Steps on different VMs overlap (in_parallel) where the story allows: under TCG emulation
# every step is slow, and CI runs this.

SERVER_IP=192.168.100.10
AGENT1_IP=192.168.100.11
AGENT2_IP=192.168.100.12
KUBECONFIG_HOST=$VM_RUN/kubeconfig.yaml
PARENT=/sys/fs/cgroup/swiftlet.slice/kubepods

kc() {
    vm_host kubectl --kubeconfig "$KUBECONFIG_HOST" --cache-dir "$VM_RUN/kube-cache" --request-timeout=120s "$@"
}

STEP_START=$(date +%s)
step() {
    now=$(date +%s)
    [ -z "${STEP_NAME:-}" ] || echo "--- done: $STEP_NAME ($((now - STEP_START)) s)" | tee -a "$VM_RUN/timings"
    STEP_NAME=$*
    STEP_START=$now
    echo "=== $*"
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# wait_for TIMEOUT DESCRIPTION COMMAND...: polls COMMAND every 3 s for TIMEOUT seconds of wall
# clock (each poll runs kubectl, seconds on a loaded machine).
wait_for() {
    timeout=$1 what=$2
    shift 2
    wait_start=$(date +%s)
    until "$@" >/dev/null 2>&1; do
        [ $(( $(date +%s) - wait_start )) -lt "$timeout" ] || { "$@" || true; fail "$what: not within ${timeout}s"; }
        sleep 3
    done
    echo "    $what ($(( $(date +%s) - wait_start ))s)"
}

# install_must_fail VM ENV EXPECTED: install.sh with ENV fails and says EXPECTED; nothing stays.
install_must_fail() {
    vm=$1 env=$2 expected=$3
    out=$(vm_exec "$vm" 300 "cd /tmp && env $env INSTALL_SWIFTLET_BIN=/tmp/swiftlet-bin/swiftlet sh /tmp/swiftlet-bin/install.sh 2>&1") &&
        fail "install.sh with $env succeeded: $out"
    printf '%s\n' "$out" | grep -q -- "$expected" || fail "install.sh with $env did not say \"$expected\": $out"
    echo "    refused: $(printf '%s\n' "$out" | grep ERROR | head -n 1)"
    vm_exec "$vm" 60 'for f in /usr/local/bin/swiftlet /usr/local/bin/swiftlet-monitor /etc/systemd/system/swiftlet-agent.service /var/lib/swiftlet /etc/swiftlet; do [ ! -e $f ] || { echo "left behind: $f"; exit 1; }; done' ||
        fail "a failed install left files behind"
}

node_ready() {
    [ "$(kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

all_nodes_ready() {
    node_ready server && node_ready agent1 && node_ready agent2
}

service_active() {
    vm_exec "$1" 60 "systemctl is-active --quiet $2"
}

# The PIDs in the containers' cgroups of a VM, sorted.
container_pids() {
    vm_exec "$1" 60 "cat $PARENT/pod*/*/cgroup.procs | sort -n | tr '\n' ' '"
}

pod_on() {
    kc get pods -l app=web -o jsonpath="{range .items[?(@.spec.nodeName==\"$1\")]}{.metadata.name}{end}"
}

web_running_on() {
    pod=$(pod_on "$1")
    [ -n "$pod" ] && [ "$(kc get pod "$pod" -o jsonpath='{.status.containerStatuses[0].ready}')" = true ]
}

step "boot three VMs"
vm_start server "$SERVER_IP"
vm_start agent1 "$AGENT1_IP"
vm_start agent2 "$AGENT2_IP"
for vm in server agent1 agent2; do vm_wait_boot "$vm" 1 600 || fail "$vm did not boot"; done

# snapshot VM WHEN: the VM's state (Tests/vm/guest/snapshot.sh) into share/vms/VM/WHEN.txt.
snapshot() {
    vm_exec "$1" 300 "sh /share/bin/snapshot.sh > /share/vms/$1/$2.txt" || fail "snapshot of $1"
}

prepare_and_snapshot() {
    # run.sh's VM_PREPARE (developing the harness only, e.g. a debug build's Swift libraries).
    if [ -f "$VM_RUN/share/bin/prepare.sh" ]; then vm_run "$1" 'sh /share/bin/prepare.sh' || fail "prepare $1"; fi
    snapshot "$1" before
    # What a user copies to the machine: install.sh and the binaries, on its own disk (/tmp,
    # outside the snapshots). Run from the 9p share, every install paid for reading the
    # 100-150 MB binary through it again.
    vm_exec "$1" 300 'mkdir -p /tmp/swiftlet-bin && cp /share/bin/swiftlet /share/bin/swiftlet-monitor /share/bin/install.sh /tmp/swiftlet-bin/' ||
        fail "copying the binaries into $1"
}

step "snapshot before install"
in_parallel "prepare_and_snapshot server" "prepare_and_snapshot agent1" "prepare_and_snapshot agent2" || fail "snapshots"

step "install the server"
vm_run server 'cd /tmp && INSTALL_SWIFTLET_BIN=/tmp/swiftlet-bin/swiftlet sh /tmp/swiftlet-bin/install.sh' || fail "server install"
service_active server swiftlet || fail "swiftlet.service is not active"
vm_run server 'stat -c "%a %U %n" /etc/swiftlet/swiftlet.yaml /etc/systemd/system/swiftlet.service.env /var/lib/swiftlet/server/token
    systemctl show -p Type -p KillMode -p Delegate -p Slice -p Restart -p LimitNOFILE -p TasksMax swiftlet
    cat /proc/$(systemctl show -p MainPID --value swiftlet)/cgroup' > "$VM_RUN/server-install.txt" || fail "server files"
cat "$VM_RUN/server-install.txt"
grep -q '^600 root /etc/swiftlet/swiftlet.yaml' "$VM_RUN/server-install.txt" || fail "the kubeconfig is not 0600 root"
grep -q '^600 root /etc/systemd/system/swiftlet.service.env' "$VM_RUN/server-install.txt" || fail "the env file is not 0600"
grep -q 'KillMode=process' "$VM_RUN/server-install.txt" && grep -q 'Delegate=yes' "$VM_RUN/server-install.txt" &&
    grep -q 'Type=notify' "$VM_RUN/server-install.txt" || fail "unit properties"
grep -q '0::/swiftlet.slice/swiftlet.service' "$VM_RUN/server-install.txt" || fail "the server does not run in swiftlet.slice"
TOKEN=$(vm_exec server 60 'cat /var/lib/swiftlet/server/token') || fail "no token"
vm_exec server 60 'cat /etc/swiftlet/swiftlet.yaml' | sed "s#https://127.0.0.1:#https://$SERVER_IP:#" > "$KUBECONFIG_HOST"
vm_run server 'swiftlet images import /share/bin/busybox-oci.tar' || fail "image import on the server"

install_agent() {
    vm_run "$1" "cd /tmp && SWIFTLET_URL=https://$SERVER_IP:6443 SWIFTLET_TOKEN='$TOKEN' INSTALL_SWIFTLET_BIN=/tmp/swiftlet-bin/swiftlet sh /tmp/swiftlet-bin/install.sh" ||
        fail "$1 install"
    vm_run "$1" 'swiftlet images import /share/bin/busybox-oci.tar' || fail "image import on $1"
}

refused_installs_then_install() {
    install_must_fail agent1 "SWIFTLET_URL=http://$SERVER_IP:6443 SWIFTLET_TOKEN=$TOKEN" "Only https:// URLs are supported"
    install_must_fail agent1 "SWIFTLET_URL=https://$SERVER_IP:6443" "SWIFTLET_TOKEN or SWIFTLET_TOKEN_FILE is not"
    install_must_fail agent1 "SWIFTLET_URL=https://$SERVER_IP:6443 SWIFTLET_TOKEN=${TOKEN%:*}:wrongsecretwrongsecret" "refused the join token (401"
    install_must_fail agent1 "SWIFTLET_URL=https://$SERVER_IP:6443 SWIFTLET_TOKEN=K10$(printf '0%.0s' $(seq 64))::${TOKEN#*::}" "token CA hash does not match"
    install_must_fail agent1 "SWIFTLET_URL=https://$SERVER_IP:7443 SWIFTLET_TOKEN=$TOKEN" "after 5 attempts"
    install_agent agent1
}

step "installs that must fail on agent1, then the two agents"
in_parallel refused_installs_then_install "install_agent agent2" || fail "agent installs"
wait_for 600 "three nodes Ready" all_nodes_ready
kc get nodes -o wide

step "install.sh again on agent1 changes nothing"
before=$(vm_exec agent1 60 'systemctl show -p MainPID --value swiftlet-agent')
out=$(vm_exec agent1 300 "cd /tmp && SWIFTLET_URL=https://$SERVER_IP:6443 SWIFTLET_TOKEN='$TOKEN' INSTALL_SWIFTLET_BIN=/tmp/swiftlet-bin/swiftlet sh /tmp/swiftlet-bin/install.sh") ||
    fail "re-install: $out"
printf '%s\n' "$out" | grep -q 'No change detected so skipping service start' || fail "re-install restarted: $out"
after=$(vm_exec agent1 60 'systemctl show -p MainPID --value swiftlet-agent')
[ "$before" = "$after" ] || fail "re-install changed the agent's PID ($before -> $after)"
echo "    same agent process $after"

step "a Deployment with limits runs under swiftlet.slice/kubepods"
cat > "$VM_RUN/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:oci-archive
        command: ["sleep", "1000000"]
        resources:
          limits: {memory: 64Mi, cpu: 500m}
EOF
kc apply -f "$VM_RUN/web.yaml" || fail "apply"
wait_for 600 "a web pod ready on agent1" web_running_on agent1
wait_for 600 "a web pod ready on agent2" web_running_on agent2
kc get pods -o wide
for vm in agent1 agent2; do
    vm_run "$vm" "set -e
        ctr=\$(ls -d $PARENT/pod*/web_*)
        echo memory.max \$(cat \$ctr/memory.max) cpu.max \$(cat \$ctr/cpu.max) oom.group \$(cat \$ctr/memory.oom.group)
        echo procs \$(cat \$ctr/cgroup.procs)
        echo kubepods memory.max \$(cat $PARENT/memory.max) cpu.weight \$(cat $PARENT/cpu.weight)
        test \"\$(cat \$ctr/memory.max)\" = 67108864
        test \"\$(cat \$ctr/cpu.max)\" = '50000 100000'
        test \"\$(cat \$ctr/memory.oom.group)\" = 1
        test -n \"\$(cat \$ctr/cgroup.procs)\"
        test \"\$(cat $PARENT/memory.max)\" != max
        pid=\$(head -n 1 \$ctr/cgroup.procs)
        # Inside, /sys/fs/cgroup is the container's own group, with its limit.
        test \"\$(cat /proc/\$pid/root/sys/fs/cgroup/memory.max)\" = 67108864
        # The eBPF device program, for a process in the container's cgroup and namespaces:
        # /dev/null opens, a device node outside the list can be made but not opened.
        in_ctr() { sh -c 'echo \$\$ > \$0/cgroup.procs && exec nsenter -t \$1 -m -p sh -c \"\$2\"' \$ctr \$pid \"\$1\"; }
        in_ctr ': < /dev/null'
        in_ctr 'mknod /tmp/kmsg c 1 11'
        ! in_ctr ': < /tmp/kmsg' 2>/dev/null" || fail "limits on $vm"
done

# The pod's first container: its ID, restart count and when it started.
container_of() {
    kc get pod "$1" -o jsonpath='{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].state.running.startedAt}'
}

boot_id() {
    kc get node "$1" -o jsonpath='{.status.nodeInfo.bootID}'
}

hog_oom_killed() {
    [ "$(kc get pod hog -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}')" = OOMKilled ]
}

oom_hog_on_agent1() {
    cat > "$VM_RUN/hog.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  nodeName: agent1
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox:oci-archive
    command: ["sh", "-c", "x=0123456789; while :; do x=$x$x; done"]
    resources:
      limits: {memory: 32Mi}
EOF
    kc apply -f "$VM_RUN/hog.yaml" || fail "apply hog"
    wait_for 600 "hog terminated with reason OOMKilled" hog_oom_killed
    kc get pod hog -o jsonpath='{.status.containerStatuses[0].state.terminated}'; echo
    [ "$(kc get pod hog -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" = 137 ] || fail "exit code not 137"
}

restart_keeps_pods_on_agent1() {
    agent_before=$(vm_exec agent1 60 'systemctl show -p MainPID --value swiftlet-agent') || fail "agent pid"
    before=$(container_pids agent1) || fail "pids"
    [ -n "$before" ] || fail "no container processes on agent1"
    vm_run agent1 'systemctl restart swiftlet-agent && systemctl is-active swiftlet-agent && systemctl show -p NRestarts -p MainPID swiftlet-agent' ||
        fail "restart"
    agent_after=$(vm_exec agent1 60 'systemctl show -p MainPID --value swiftlet-agent') || fail "agent pid"
    [ "$agent_before" != "$agent_after" ] || fail "the agent process did not change ($agent_before): no restart happened"
    after=$(container_pids agent1) || fail "pids"
    [ "$before" = "$after" ] || fail "the containers changed across the restart: $before -> $after"
    echo "    agent process $agent_before -> $agent_after, same container processes: $after"
    wait_for 300 "agent1 Ready after the restart" node_ready agent1
    wait_for 300 "agent1's web pod still ready" web_running_on agent1
}

web_restarted_on_agent2() {
    pod=$(pod_on agent2)
    [ -n "$pod" ] && web_running_on agent2 && [ "$pod $(container_of "$pod")" != "$REBOOT_POD $REBOOT_CONTAINER" ]
}

new_boot_of_agent2() {
    id=$(boot_id agent2)
    [ -n "$id" ] && [ "$id" != "$REBOOT_BOOT_ID" ]
}

# cpu_sample VM SERVICE: "<CPU ticks of the service's main process> <guest uptime in ticks>".
cpu_sample() {
    vm_exec "$1" 60 "awk -v up=\$(cut -d' ' -f1 /proc/uptime) '{print \$14 + \$15, int(up * 100)}' /proc/\$(systemctl show -p MainPID --value $2)/stat"
}

# cpu_share BEFORE AFTER: the percentage of one vCPU used between two cpu_samples.
cpu_share() {
    echo "$1 $2" | awk '{ if ($4 > $2) printf "%.1f", 100 * ($3 - $1) / ($4 - $2); else print "?" }'
}

step "agent2 reboots; meanwhile a memory hog is OOM-killed and swiftlet-agent restarts on agent1"
# For the record, not checked: what the server's swiftlet uses while agent2 is away.
SERVER_CPU_BEFORE=$(cpu_sample server swiftlet)
REBOOT_POD=$(pod_on agent2)
REBOOT_CONTAINER=$(container_of "$REBOOT_POD")
REBOOT_BOOT_ID=$(boot_id agent2)
echo "    agent2 before the reboot: boot $REBOOT_BOOT_ID, pod $REBOOT_POD, container $REBOOT_CONTAINER"
vm_send agent2 'systemctl reboot --no-block'
oom_hog_on_agent1
restart_keeps_pods_on_agent1
vm_wait_boot agent2 2 900 || fail "agent2 did not come back"
echo "    the server's swiftlet used $(cpu_share "$SERVER_CPU_BEFORE" "$(cpu_sample server swiftlet)")% of its vCPU meanwhile (emulated time)"
vm_run agent2 'systemctl is-system-running --wait; systemd-analyze; systemd-analyze blame | head -n 5' || true
wait_for 600 "swiftlet-agent active after the reboot" service_active agent2 swiftlet-agent
wait_for 600 "agent2 reports its new boot" new_boot_of_agent2
wait_for 600 "agent2 Ready after the reboot" node_ready agent2
# A reboot that outlasts the pods' 300 s toleration of an unreachable node gets them evicted by
# the server, as Kubernetes does (an overloaded CI host emulating the VM once took 13 minutes to
# boot it): the agent then has no pod to restart. That case is told apart by the server's own
# TaintManagerEviction event for the pod, and then the Deployment must be whole again instead.
evicted_during_reboot() {
    [ -n "$(kc get events --field-selector "reason=TaintManagerEviction,involvedObject.name=$REBOOT_POD" -o name)" ]
}
web_deployment_ready() {
    [ "$(kc get deployment web -o jsonpath='{.status.readyReplicas}')" = 3 ]
}
if evicted_during_reboot; then
    echo "    agent2's reboot outlasted the toleration: the server evicted $REBOOT_POD (TaintManagerEviction)"
    wait_for 600 "the web Deployment ready again after the eviction" web_deployment_ready
else
    wait_for 600 "agent2's web pod started again and ready" web_restarted_on_agent2
    echo "    agent2 after the reboot: boot $(boot_id agent2), pod $(pod_on agent2), container $(container_of "$(pod_on agent2)")"
    vm_run agent2 "cat $PARENT/pod*/web_*/cgroup.procs" || fail "no container process on agent2 after the reboot"
fi

uninstall_and_snapshot() {
    vm_run "$1" "/usr/local/bin/$2 >/tmp/uninstall.log 2>&1; echo uninstall exit \$?; rm -f /tmp/uninstall.log" || fail "uninstall on $1"
    snapshot "$1" after
}

step "uninstall leaves no trace"
in_parallel "uninstall_and_snapshot agent1 swiftlet-agent-uninstall.sh" "uninstall_and_snapshot agent2 swiftlet-agent-uninstall.sh" ||
    fail "agent uninstalls"
uninstall_and_snapshot server swiftlet-uninstall.sh
traces=0
for vm in server agent1 agent2; do
    if ! diff -u "$VM_RUN/share/vms/$vm/before.txt" "$VM_RUN/share/vms/$vm/after.txt" > "$VM_RUN/$vm-trace.diff"; then
        echo "$vm: the uninstall left traces:"
        cat "$VM_RUN/$vm-trace.diff"
        traces=1
    fi
done
[ "$traces" = 0 ] || fail "uninstall left traces (diffs above)"
echo "    no trace on any VM"

step "power off"
in_parallel "vm_stop server" "vm_stop agent1" "vm_stop agent2" || fail "power off"
step "end"

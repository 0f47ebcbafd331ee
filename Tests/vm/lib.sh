# Tests/vm/lib.sh: boot and drive test VMs (sourced by run.sh and the scenarios; POSIX sh).
#
# Every VM is a QEMU process (software emulation: TCG) started inside a network namespace the
# harness creates, with a tap on a bridge there, so the VMs reach each other and the host's
# network is never touched. The bridge has 192.168.100.1; VM addresses are given to vm_start.
# Each VM boots its own qcow2 overlay of the image from build-image.sh and mounts the run's
# share directory at /share (9p), where its commands arrive (see vm-runner in build-image.sh).
#
# Variables (set before sourcing, or defaults):
#   VM_IMAGE   the image directory (build-image.sh's output)
#   VM_RUN     this run's directory: share/, <vm>/disk.qcow2, <vm>/console.log, <vm>/pid
#   VM_NETNS   the network namespace to create (default swl-vm-<pid>)
#   VM_SMP, VM_MEM   vCPUs and MiB per VM (default 1 and 1024). One vCPU: with three VMs on
#              two shared host cores, a guest's second vCPU mostly waits for a host thread
#              while the first spins on a lock it holds (soft lockups in the consoles), and
#              the whole scenario took a third longer (543 s against 409 s, same build).
#              One-CPU nodes also run swiftlet with a single cooperative thread.

VM_NETNS=${VM_NETNS:-swl-vm-$$}
VM_SMP=${VM_SMP:-1}
VM_MEM=${VM_MEM:-1024}
VM_BRIDGE=br0
VM_GATEWAY=192.168.100.1
VM_NAMES=""

vm_log() { echo "[vm $(date +%H:%M:%S)] $*" >&2; }

# vm_network_up: the namespace, its bridge with the gateway address, loopback.
vm_network_up() {
    ip netns add "$VM_NETNS"
    ip -n "$VM_NETNS" link set lo up
    ip -n "$VM_NETNS" link add "$VM_BRIDGE" type bridge
    ip -n "$VM_NETNS" addr add "$VM_GATEWAY/24" dev "$VM_BRIDGE"
    ip -n "$VM_NETNS" link set "$VM_BRIDGE" up
    mkdir -p "$VM_RUN/share/vms" "$VM_RUN/share/bin"
}

# vm_start NAME IP: boots a VM at IP/24 in the background.
vm_start() {
    name=$1 ip=$2
    dir=$VM_RUN/$name
    mkdir -p "$dir" "$VM_RUN/share/vms/$name/cmd"
    qemu-img create -q -f qcow2 -F raw -b "$VM_IMAGE/rootfs.img" "$dir/disk.qcow2"
    index=$(printf '%s' "$ip" | cut -d. -f4)
    tap=tap$index
    ip -n "$VM_NETNS" tuntap add "$tap" mode tap
    ip -n "$VM_NETNS" link set "$tap" master "$VM_BRIDGE" up
    ip netns exec "$VM_NETNS" qemu-system-x86_64 -accel tcg -cpu max -smp "$VM_SMP" -m "$VM_MEM" \
        -kernel "$VM_IMAGE/vmlinuz" -initrd "$VM_IMAGE/initrd.img" \
        -append "console=ttyS0 root=/dev/vda rw quiet no_timer_check net.ifnames=0 systemd.hostname=$name swiftlet.ip=$ip/24 swiftlet.gw=$VM_GATEWAY" \
        -drive "file=$dir/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
        -net none -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:$(printf '%02x' "$index")" \
        -virtfs "local,path=$VM_RUN/share,mount_tag=share,security_model=none,multidevs=remap" \
        -display none -monitor none -serial "file:$dir/console.log" \
        -pidfile "$dir/pid" >"$dir/qemu.log" 2>&1 &
    VM_NAMES="$VM_NAMES $name"
    vm_log "$name: booting at $ip"
}

# vm_boots NAME: how many times the VM's runner has started (one per boot).
vm_boots() { ls "$VM_RUN/share/vms/$1" 2>/dev/null | grep -c '^boot-' || true; }

# vm_wait_boot NAME COUNT TIMEOUT: waits until the VM booted COUNT times.
vm_wait_boot() {
    name=$1 count=$2 timeout=$3 waited=0
    while [ "$(vm_boots "$name")" -lt "$count" ]; do
        if grep -q 'Kernel panic' "$VM_RUN/$name/console.log" 2>/dev/null; then
            vm_log "$name: the kernel panicked; console:"
            tail -n 40 "$VM_RUN/$name/console.log" >&2
            return 1
        fi
        if [ "$waited" -ge "$timeout" ]; then
            vm_log "$name: not up after ${timeout}s; console:"
            tail -n 40 "$VM_RUN/$name/console.log" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    vm_log "$name: up (boot $count, ${waited}s)"
}

# vm_exec NAME TIMEOUT SCRIPT: runs SCRIPT (sh) as root in the VM, prints its output, returns
# its exit status (124 when it did not finish within TIMEOUT seconds).
vm_exec() {
    name=$1 timeout=$2 script=$3
    dir=$VM_RUN/share/vms/$name/cmd
    n=$(( $(ls "$dir" | grep -c '\.sh$' || true) + 1 ))
    id=$(printf '%03d' "$n")
    printf '%s\n' "$script" > "$dir/$id.sh.tmp"
    mv "$dir/$id.sh.tmp" "$dir/$id.sh"
    waited=0
    while [ ! -f "$dir/$id.rc" ]; do
        if [ "$waited" -ge $((timeout * 5)) ]; then
            vm_log "$name: command $id did not finish within ${timeout}s: $script"
            cat "$dir/$id.out" 2>/dev/null >&2
            return 124
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    cat "$dir/$id.out"
    return "$(cat "$dir/$id.rc")"
}

# vm_run NAME SCRIPT: vm_exec with a 600 s limit, logging the command.
vm_run() {
    vm_log "$1: $2"
    vm_exec "$1" 600 "$2"
}

# vm_pid NAME: the QEMU process of the VM.
vm_pid() { cat "$VM_RUN/$1/pid" 2>/dev/null; }

# vm_send NAME SCRIPT: queues SCRIPT in the VM without waiting for it (a reboot or a poweroff,
# which never report back: the runner marks a command .running before it starts it, so it is
# not run again after the reboot).
vm_send() {
    dir=$VM_RUN/share/vms/$1/cmd
    n=$(( $(ls "$dir" | grep -c '\.sh$' || true) + 1 ))
    id=$(printf '%03d' "$n")
    printf '%s\n' "$2" > "$dir/$id.sh.tmp"
    mv "$dir/$id.sh.tmp" "$dir/$id.sh"
    vm_log "$1: sent $2"
}

# vm_stop NAME: powers the VM off (its runner calls poweroff), then waits for QEMU to exit;
# kills it after 60 s.
vm_stop() {
    name=$1
    pid=$(vm_pid "$name")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    vm_send "$name" 'systemctl poweroff --no-block'
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 60 ]; do sleep 1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        vm_log "$name: still running after poweroff; killing QEMU ($pid)"
        kill "$pid" 2>/dev/null
        sleep 1
        kill -9 "$pid" 2>/dev/null || true
    fi
}

# in_parallel JOB...: runs each JOB (a shell command, usually a function of the scenario with
# its arguments) in a background subshell, its output in $VM_RUN/jobs/; then prints the
# outputs in order, each line prefixed with its job. Fails when any job failed. The VMs are
# separate machines: steps on different VMs overlap, steps on one VM must not (vm_exec
# numbers a VM's commands by counting them).
in_parallel() {
    mkdir -p "$VM_RUN/jobs"
    index=0
    for job in "$@"; do
        index=$((index + 1))
        ( eval "$job" ) > "$VM_RUN/jobs/$index.log" 2>&1 &
        echo $! > "$VM_RUN/jobs/$index.pid"
    done
    index=0
    failed=""
    for job in "$@"; do
        index=$((index + 1))
        wait "$(cat "$VM_RUN/jobs/$index.pid")" || failed="$failed [$job]"
        label=$(printf '%s' "$job" | cut -c1-40)
        sed "s|^|[$label] |" "$VM_RUN/jobs/$index.log"
        rm -f "$VM_RUN/jobs/$index.log" "$VM_RUN/jobs/$index.pid"
    done
    [ -z "$failed" ] || { vm_log "failed in parallel:$failed"; return 1; }
}

# vm_network_down: kills any QEMU still running (by its pid file) and removes the namespace.
vm_network_down() {
    for name in $VM_NAMES; do
        pid=$(vm_pid "$name")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null
            sleep 1
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    ip netns del "$VM_NETNS" 2>/dev/null || true
}

# vm_host SCRIPT...: runs a command on the host inside the VMs' network (kubectl, curl).
vm_host() { ip netns exec "$VM_NETNS" "$@"; }

#!/bin/sh
# Start-to-exit latency of a one-container pod running /bin/true: `swiftlet run` against
# `runc run` and `crun run` on the same busybox rootfs, side by side in one hyperfine run.
#
# Every tool does comparable work: new mount, PID, network, IPC and UTS namespaces, a cgroup
# with memory and pids limits, default capabilities, the same RuntimeDefault seccomp policy
# (`swiftlet seccomp-profile`), masked paths, then exec and reap. swiftlet also overlays the
# image layers (the OCI runtimes get a ready rootfs directory, as containerd's snapshotter would
# prepare it), writes the pod's hosts files and parses and validates the Pod manifest.
# crun refuses this host's hybrid cgroups, so it runs inside `unshare -m` with the empty
# cgroup2 tree unmounted (see ../shared/notes/host-facts.md); that costs it ~1 ms.
#
# Environment: RUNS (default 50), WARMUP (default 5), OUT (results dir, default bench/results),
# KEEP=1 keeps the work directory (for strace and friends).
# Needs root, a release build (built here), hyperfine, runc, crun (scripts/install-deps.sh).
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
runs="${RUNS:-50}"
warmup="${WARMUP:-5}"
out="${OUT:-bench/results}"
work="$(mktemp -d /tmp/swiftlet-bench.XXXXXX)"
cleanup() {
    runc delete -f swiftlet-bench-runc >/dev/null 2>&1 || true
    rm -rf "$work"
    for c in /sys/fs/cgroup/*/swiftlet-bench /sys/fs/cgroup/*/swiftlet-bench-oci /sys/fs/cgroup/swiftlet-bench*; do
        [ -d "$c" ] && rmdir "$c" 2>/dev/null
    done
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
[ "${KEEP:-0}" = 1 ] && trap - EXIT
mkdir -p "$out"

swift build -c release >/dev/null
bin="$(swift build -c release --show-bin-path)/swiftlet"
sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
opts="--data-dir $work/data --run-dir $work/run --cgroup-parent swiftlet-bench"
"$bin" images import $opts "$work/fixtures/busybox" >/dev/null

cat > "$work/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bench}
spec:
  containers:
  - name: c
    image: busybox
    command: ["/bin/true"]
    resources: {limits: {memory: 64Mi}}
YAML

# The OCI bundle: the busybox layer unpacked, runc's default spec with the same limits.
mkdir -p "$work/bundle/rootfs"
layer="$(python3 - "$work/fixtures/busybox" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
man = json.load(open(d + "/blobs/" + idx["manifests"][0]["digest"].replace(":", "/")))
print(d + "/blobs/" + man["layers"][0]["digest"].replace(":", "/"))
PY
)"
tar -xzf "$layer" -C "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec)
# The same RuntimeDefault policy swiftlet enforces, resolved for the default capabilities.
"$bin" seccomp-profile > "$work/seccomp.json"
python3 - "$work/bundle/config.json" "$work/seccomp.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 1024}}
c["linux"]["namespaces"] = [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount"]]
c["linux"]["cgroupsPath"] = "/swiftlet-bench-oci"
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))
json.dump(c, open(p, "w"))
PY

hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$out/container-start.json" \
    -n swiftlet "$bin run $opts $work/pod.yaml" \
    -n runc "runc run -b $work/bundle swiftlet-bench-runc" \
    -n crun "unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run -b $work/bundle swiftlet-bench-crun'" \
    >/dev/null
python3 bench/report.py "$out/container-start.json"

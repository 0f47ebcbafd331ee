#!/bin/sh
# scripts/isolation-probe.sh: runs one probe of a container's environment (ids and groups, HOME,
# oom_score_adj, /sys/fs/cgroup, cgroup membership, capabilities, the hosts files under a
# read-only root) under `swiftlet run` and under `crun run`, and prints both side by side.
#
# crun gets the OCI spec containerd's CRI plugin would write for the same Guaranteed pod with
# readOnlyRootFilesystem (containerd's default capabilities, masked and read-only paths, a
# read-only cgroup mount, the hosts files bound read-only, additionalGids holding the primary
# gid, oomScoreAdj -997), so differences come from the runtimes, not from the specs. crun refuses
# this host's hybrid cgroups, so it runs under `unshare -m` with the empty cgroup2 tree unmounted
# (see the host facts); that also hides the cgroup2 tree from its containers.
#
# Environment: SWIFTLET (default: the debug build's swiftlet, built here), KEEP=1 keeps the
# work directory. Needs root, crun, python3, busybox-static (scripts/debian-packages).
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
work="$(mktemp -d /tmp/swiftlet-probe.XXXXXX)"
parent="swiftlet-probe-$$"
cleanup() {
    crun delete -f "$parent-crun" >/dev/null 2>&1 || true
    for c in /sys/fs/cgroup/*/"$parent" /sys/fs/cgroup/*/"$parent-oci"; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rm -rf "$work"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
[ "${KEEP:-0}" = 1 ] && trap - EXIT

if [ -z "${SWIFTLET:-}" ]; then
    swift build --product swiftlet >/dev/null 2>&1
    swift build --product swiftlet-monitor >/dev/null 2>&1
    SWIFTLET="$(swift build --show-bin-path)/swiftlet"
fi
sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
opts="--data-dir $work/data --run-dir $work/run --cgroup-parent $parent"
"$SWIFTLET" images import $opts "$work/fixtures/busybox" >/dev/null

# The probe: one section per line, identical for both runtimes.
cat > "$work/probe.sh" <<'PROBE'
echo "id: $(id)"
echo "HOME: ${HOME:-<unset>}"
echo "oom_score_adj: $(cat /proc/self/oom_score_adj)"
echo "/sys/fs/cgroup: $(ls /sys/fs/cgroup | tr '\n' ' ')"
echo "memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max 2>/dev/null || echo none)"
echo "cgroup mount: $(grep -E ' /sys/fs/cgroup(/memory)? ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1 | tr '\n' ' ')"
echo "in root cgroup: $(grep -c ':/$' /proc/self/cgroup) of $(wc -l < /proc/self/cgroup) hierarchies"
echo "caps: $(grep -E '^Cap(Bnd|Eff)' /proc/self/status | tr '\t\n' '  ')"
for f in /etc/resolv.conf /etc/hosts /etc/hostname; do
    (: >> "$f") 2>/dev/null && echo "$f: writable" || echo "$f: read-only"
done
echo "nofile: $(ulimit -n)"
PROBE

cat > "$work/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  restartPolicy: Never
  containers:
  - name: probe
    image: busybox
    command: ["sh", "-c", "$(sed 's/\\/\\\\/g; s/"/\\"/g' "$work/probe.sh" | awk '{printf "%s\\n", $0}')"]
    resources: {limits: {cpu: 250m, memory: 64Mi}}
    securityContext: {readOnlyRootFilesystem: true}
YAML

# The OCI bundle: the busybox layer unpacked; the spec containerd's CRI plugin would write.
mkdir -p "$work/bundle/rootfs" "$work/pod-files"
layer="$(python3 - "$work/fixtures/busybox" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
man = json.load(open(d + "/blobs/" + idx["manifests"][0]["digest"].replace(":", "/")))
print(d + "/blobs/" + man["layers"][0]["digest"].replace(":", "/"))
PY
)"
tar -xzf "$layer" -C "$work/bundle/rootfs"
printf '127.0.0.1\tlocalhost\n' > "$work/pod-files/hosts"
echo probe > "$work/pod-files/hostname"
echo 'nameserver 127.0.0.53' > "$work/pod-files/resolv.conf"
cp "$work/probe.sh" "$work/bundle/rootfs/probe.sh"
(cd "$work/bundle" && crun spec)
python3 - "$work/bundle/config.json" "$work/pod-files" "$parent-oci" <<'PY'
import json, resource, sys
path, files, cgroup = sys.argv[1:4]
c = json.load(open(path))
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]  # containerd's defaultUnixCaps
p = c["process"]
p["terminal"] = False
p["args"] = ["sh", "/probe.sh"]
p["env"] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=probe"]
p["user"] = {"uid": 0, "gid": 0, "additionalGids": [0]}  # containerd's ensureAdditionalGids
p["capabilities"] = {k: caps for k in ["bounding", "effective", "permitted"]}
nofile = min(1048576, resource.getrlimit(resource.RLIMIT_NOFILE)[1])  # as swiftlet caps it
p["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}]
p["oomScoreAdj"] = -997  # kubelet's Guaranteed score
c["root"]["readonly"] = True
for name in ["hosts", "hostname", "resolv.conf"]:  # containerd: Readonly = readOnlyRootFilesystem
    c["mounts"].append({"destination": "/etc/" + name, "type": "bind", "source": files + "/" + name,
                        "options": ["rbind", "rprivate", "ro"]})
c["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "cpu": {"quota": 25000, "period": 100000}}
c["linux"]["cgroupsPath"] = "/" + cgroup
c["linux"]["maskedPaths"] += ["/sys/devices/virtual/powercap"]
json.dump(c, open(path, "w"))
PY

echo "== swiftlet run"
"$SWIFTLET" run $opts --log-dir "$work/logs" "$work/pod.yaml" 2>"$work/swiftlet.err" || true
cat "$work/logs/probe.log" 2>/dev/null || true
grep -E 'warning|error' "$work/swiftlet.err" || true
echo "== crun run (containerd's spec)"
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run -b $work/bundle $parent-crun" 2>&1 || true
echo "== crun run, oomScoreAdj clamped to our own (containerd's restrict_oom_score_adj)"
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["oomScoreAdj"] = int(open("/proc/self/oom_score_adj").read())
json.dump(c, open(sys.argv[1], "w"))
PY
unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run -b $work/bundle $parent-crun" 2>&1 || true

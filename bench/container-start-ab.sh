#!/bin/sh
# Before/after cost of a runtime change: start-to-exit latency of the same one-container pod
# (container-start.sh's) under two swiftlet builds, with `runc run` as the reference, in
# interleaved rounds (A B runc, then runc B A, ...) so that the load of a shared machine hits
# all three alike. Reports p50/p95 of each and the median of the paired differences NEW - OLD.
#
# Environment: OLD (required: a swiftlet binary built from the base commit, with its
# swiftlet-monitor beside it), NEW (default: the release build here, built), ROUNDS (default
# 100), WARMUP (default 5). Needs root, runc, python3 (scripts/install-deps.sh).
# Making OLD: `git stash; swift build -c release --product swiftlet; cp .build/release/swiftlet*
# /tmp/old/; git stash pop` (or a worktree at the base commit).
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
[ -n "${OLD:-}" ] && [ -x "$OLD" ] || { echo "container-start-ab.sh: set OLD to the base build's swiftlet" >&2; exit 1; }
if [ -z "${NEW:-}" ]; then
    swift build -c release --product swiftlet >/dev/null 2>&1
    swift build -c release --product swiftlet-monitor >/dev/null 2>&1
    NEW="$(swift build -c release --show-bin-path)/swiftlet"
fi
work="$(mktemp -d /tmp/swiftlet-ab.XXXXXX)"
cleanup() {
    runc delete -f swiftlet-ab-runc >/dev/null 2>&1 || true
    rm -rf "$work"
    for c in /sys/fs/cgroup/*/swiftlet-ab /sys/fs/cgroup/*/swiftlet-ab-oci; do
        [ -d "$c" ] && rmdir "$c" 2>/dev/null
    done
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

sh rootfs-fixtures/build.sh "$work/fixtures" >/dev/null
opts="--data-dir $work/data --run-dir $work/run --cgroup-parent swiftlet-ab"
"$NEW" images import $opts "$work/fixtures/busybox" >/dev/null
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
"$NEW" seccomp-profile > "$work/seccomp.json"
python3 - "$work/bundle/config.json" "$work/seccomp.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 1024}}
c["linux"]["namespaces"] = [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount"]]
c["linux"]["cgroupsPath"] = "/swiftlet-ab-oci"
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))
json.dump(c, open(p, "w"))
PY

python3 - "$OLD" "$NEW" "$work" "${ROUNDS:-100}" "${WARMUP:-5}" <<'PY'
import statistics, subprocess, sys, time
old, new, work, rounds, warmup = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
opts = ["--data-dir", work + "/data", "--run-dir", work + "/run", "--cgroup-parent", "swiftlet-ab"]
cmds = {"old": [old, "run"] + opts + [work + "/pod.yaml"], "new": [new, "run"] + opts + [work + "/pod.yaml"],
        "runc": ["runc", "run", "-b", work + "/bundle", "swiftlet-ab-runc"]}
times = {k: [] for k in cmds}
for i in range(warmup + rounds):
    order = list(cmds) if i % 2 == 0 else list(reversed(list(cmds)))
    for k in order:
        t = time.perf_counter()
        subprocess.run(cmds[k], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i >= warmup:
            times[k].append((time.perf_counter() - t) * 1000)
pairs = [n - o for n, o in zip(times["new"], times["old"])]
base = statistics.median(times["old"])
print("command  rounds   p50 ms   p95 ms   p50 vs old")
for k, v in times.items():
    s = sorted(v)
    print(f"{k:8} {len(v):6} {statistics.median(v):8.2f} {s[max(0, int(len(s) * 0.95) - 1)]:8.2f} {statistics.median(v) / base:11.2f}x")
print(f"paired new - old: median {statistics.median(pairs):+.2f} ms")
PY

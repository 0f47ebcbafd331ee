"""Harness for bench/pod-start.sh: pod start latency (agent vs crun) and memory."""
import json
import os
import shutil
import subprocess
import sys
import time

BUSYBOX_LAYER_CMD = None


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def wait_for(paths, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(os.path.exists(p) for p in paths):
            return time.monotonic()
        time.sleep(0.0002)
    raise TimeoutError(f"timed out waiting for {paths}")


def pod_yaml(name, marks):
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{{name: marks, hostPath: {{path: {marks}}}}}]
  containers:
  - {{name: a, image: busybox, command: ["sh", "-c", "touch /marks/a; exec sleep 100000"], volumeMounts: [{{name: marks, mountPath: /marks}}]}}
  - {{name: b, image: busybox, command: ["sh", "-c", "touch /marks/b; exec sleep 100000"], volumeMounts: [{{name: marks, mountPath: /marks}}]}}
"""


def status_dir(work):
    return os.path.join(work, "data", "pod-status")


def wait_pods(work, count, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = os.listdir(status_dir(work)) if os.path.isdir(status_dir(work)) else []
        if len(entries) == count:
            if count == 0:
                return
            running = 0
            for uid in entries:
                try:
                    status = json.load(open(os.path.join(status_dir(work), uid, "status.json")))
                except (OSError, ValueError):
                    continue
                if all("running" in (c.get("state") or {}) for c in status.get("containerStatuses", [])):
                    running += 1
            if running == count:
                return
        time.sleep(0.05)
    raise TimeoutError(f"pods did not reach {count}")


def agent_latency(work, runs):
    times = []
    manifests = os.path.join(work, "manifests")
    for i in range(runs):
        marks = os.path.join(work, f"marks-agent-{i}")
        os.makedirs(marks)
        tmp = os.path.join(manifests, f".p{i}.tmp")
        with open(tmp, "w") as f:
            f.write(pod_yaml(f"p{i}", marks))
        t0 = time.monotonic()
        os.rename(tmp, os.path.join(manifests, f"p{i}.yaml"))
        t1 = wait_for([os.path.join(marks, "a"), os.path.join(marks, "b")])
        times.append(t1 - t0)
        os.remove(os.path.join(manifests, f"p{i}.yaml"))
        wait_pods(work, 0)
    return times


def crun_bundle(work, name, marks_dir):
    bundle = os.path.join(work, "crun", name)
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(rootfs, exist_ok=True)
    index = json.load(open(os.path.join(work, "fixtures/busybox/index.json")))
    manifest = json.load(open(os.path.join(work, "fixtures/busybox/blobs", *index["manifests"][0]["digest"].split(":"))))
    layer = os.path.join(work, "fixtures/busybox/blobs", *manifest["layers"][0]["digest"].split(":"))
    subprocess.run(["tar", "-xzf", layer, "-C", rootfs], check=True)
    spec = subprocess.run(["crun", "spec"], cwd=bundle, check=True)
    config = json.load(open(os.path.join(bundle, "config.json")))
    config["process"]["terminal"] = False
    config["process"]["args"] = ["sh", "-c", f"touch /marks/{name}; exec sleep 100000"]
    config["mounts"].append({"destination": "/marks", "type": "bind", "source": marks_dir, "options": ["rbind", "rw"]})
    config["linux"]["namespaces"] = [{"type": t} for t in ["pid", "ipc", "uts", "mount"]] + [
        {"type": "network", "path": "/run/netns/swiftlet-podbench"}]
    config["linux"]["resources"] = {"pids": {"limit": 1024}}
    config["linux"]["cgroupsPath"] = f"/crun-podbench-{name}"
    json.dump(config, open(os.path.join(bundle, "config.json"), "w"))
    return bundle


def crun(args):
    # crun refuses hybrid cgroups unless the empty cgroup2 tree is out of sight. Its output goes
    # to a file: a detached container inherits it, so a pipe would never reach EOF.
    with open("/tmp/swiftlet-podbench-crun.err", "w+b") as err:
        result = subprocess.run(["unshare", "-m", "sh", "-c",
                                 "umount /sys/fs/cgroup/unified 2>/dev/null; exec crun " + " ".join(args)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        err.seek(0)
        result.stderr = err.read()
    return result


def crun_latency(work, runs):
    marks = os.path.join(work, "marks-crun")
    os.makedirs(marks, exist_ok=True)
    bundles = {n: crun_bundle(work, n, marks) for n in ("a", "b")}
    times = []
    for i in range(runs):
        for n in ("a", "b"):
            p = os.path.join(marks, n)
            if os.path.exists(p):
                os.remove(p)
        t0 = time.monotonic()
        subprocess.run(["ip", "netns", "add", "swiftlet-podbench"], check=True)
        for n in ("a", "b"):
            r = crun(["run", "-d", "-b", bundles[n], f"podbench-{n}"])
            if r.returncode != 0:
                raise RuntimeError(r.stderr.decode())
        t1 = wait_for([os.path.join(marks, "a"), os.path.join(marks, "b")])
        times.append(t1 - t0)
        for n in ("a", "b"):
            crun(["delete", "-f", f"podbench-{n}"])
        subprocess.run(["ip", "netns", "del", "swiftlet-podbench"], check=True)
    return times


def rss_kb(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_text(pid):
    """VmRSS and, in parentheses, its anonymous part (RssAnon), in MiB."""
    return f"{rss_kb(pid) / 1024:.1f} MiB ({rss_kb(pid, 'RssAnon') / 1024:.1f} anonymous)"


# The agent's MemoryScavenger trims the heap every 10 s: readings "settled" wait one period more.
SETTLE = 12


def pss_kb(pid):
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def save_smaps(agent_pid, label):
    """With SMAPS=DIR, the agent's /proc/PID/smaps at each memory reading, for finding what grew."""
    directory = os.environ.get("SMAPS")
    if directory:
        os.makedirs(directory, exist_ok=True)
        shutil.copyfile(f"/proc/{agent_pid}/smaps", os.path.join(directory, f"{label}.smaps"))
        # And which pages of the binary's code are mapped (pagemap bit 63), by file offset.
        with open(f"/proc/{agent_pid}/maps") as maps, open(f"/proc/{agent_pid}/pagemap", "rb") as pagemap, \
                open(os.path.join(directory, f"{label}.pages"), "w") as out:
            for line in maps:
                fields = line.split()
                if len(fields) < 6 or not fields[5].endswith("/swiftlet") or "x" not in fields[1]:
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                offset = int(fields[2], 16)
                pagemap.seek(start // 4096 * 8)
                entries = pagemap.read((end - start) // 4096 * 8)
                for i in range(len(entries) // 8):
                    if int.from_bytes(entries[i * 8:i * 8 + 8], "little") >> 63:
                        out.write(f"{offset + i * 4096:x}\n")


def memory(work, agent_pid, count):
    idle = rss_kb(agent_pid)
    # Idle means quiet: read again once the scavenger has had its period, as the readings below.
    time.sleep(SETTLE)
    idle_settled = rss_text(agent_pid)
    save_smaps(agent_pid, "idle")
    manifests = os.path.join(work, "manifests")
    for i in range(count):
        with open(os.path.join(manifests, f".m{i}.tmp"), "w") as f:
            f.write(f"""apiVersion: v1
kind: Pod
metadata: {{name: m{i}}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{{name: c, image: busybox, command: ["sleep", "100000"]}}]
""")
        os.rename(os.path.join(manifests, f".m{i}.tmp"), os.path.join(manifests, f"m{i}.yaml"))
    t0 = time.monotonic()
    wait_pods(work, count, timeout=300)
    all_running = time.monotonic() - t0
    time.sleep(1)
    loaded = rss_kb(agent_pid)
    time.sleep(SETTLE)
    settled = rss_text(agent_pid)
    save_smaps(agent_pid, "loaded")
    monitors = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"swiftlet-monitor") and work.encode() in b" ".join(cmd):
            monitors.append(int(pid))
    monitor_rss = [rss_kb(p) for p in monitors]
    monitor_pss = [pss_kb(p) for p in monitors]
    for i in range(count):
        os.remove(os.path.join(manifests, f"m{i}.yaml"))
    wait_pods(work, 0, timeout=300)
    time.sleep(SETTLE)
    save_smaps(agent_pid, "after")
    return idle, idle_settled, loaded, settled, rss_text(agent_pid), all_running, monitor_rss, monitor_pss


def report(name, values, base):
    p50 = percentile(values, 50) * 1000
    p95 = percentile(values, 95) * 1000
    print(f"{name:<10} {len(values):>5} {p50:>8.2f} {p95:>8.2f} {percentile(values, 50) / base:>15.2f}x")


def main():
    if sys.argv[1] == "cleanup":
        work = sys.argv[2]
        for n in ("a", "b"):
            crun(["delete", "-f", f"podbench-{n}"])
        subprocess.run(["ip", "netns", "del", "swiftlet-podbench"], stderr=subprocess.DEVNULL)
        # Pods the agent had no time to stop: their monitors and containers, then mounts.
        pods = os.path.join(work, "data", "pods")
        for dirpath, _, files in os.walk(pods):
            if "state.json" in files:
                state = json.load(open(os.path.join(dirpath, "state.json")))
                for key in ("containerPid", "monitorPid"):
                    try:
                        os.kill(state[key], 9)
                    except (ProcessLookupError, KeyError):
                        pass
        time.sleep(0.5)
        for line in reversed(open("/proc/self/mounts").read().splitlines()):
            target = line.split()[1]
            if target.startswith(work):
                subprocess.run(["umount", "-l", target], stderr=subprocess.DEVNULL)
        return
    work, swiftlet, agent_pid, runs, pods = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    fresh = rss_text(agent_pid)
    save_smaps(agent_pid, "fresh")
    agent = agent_latency(work, runs)
    crun_times = crun_latency(work, runs)
    base = percentile(agent, 50)
    print("two-container pod start, manifest (or first command) to both containers exec'd")
    print(f"{'command':<10} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'p50 vs agent':>16}")
    report("agent", agent, base)
    report("crun", crun_times, base)
    idle, idle_settled, loaded, settled, after, all_running, mon_rss, mon_pss = memory(work, agent_pid, pods)
    print()
    print(f"agent RSS freshly started: {fresh}")
    print(f"agent RSS idle after the latency runs: {idle / 1024:.1f} MiB; {SETTLE} s later: {idle_settled}")
    print(f"agent RSS with {pods} pods: {loaded / 1024:.1f} MiB")
    print(f"agent RSS with {pods} pods, {SETTLE} s later: {settled}; {SETTLE} s after deleting them: {after}")
    print(f"{pods} pods from manifests to all Running (status written): {all_running:.2f} s")
    if mon_rss:
        print(f"monitors: {len(mon_rss)}; RSS per monitor p50 {percentile(mon_rss, 50) / 1024:.2f} MiB; "
              f"PSS per monitor p50 {percentile(mon_pss, 50) / 1024:.2f} MiB")


if __name__ == "__main__":
    main()

"""Pod start through the whole cluster path: `kubectl apply` of a one-pod Deployment until a
watch sees the pod Running (Deployment -> ReplicaSet -> pod -> scheduler -> agent -> runtime ->
status), p50/p99 over RUNS; then a 100-replica Deployment until all are Running. For both it
prints when the pods were created, bound to the node, given an address (the agent made the
sandbox) and Running (from the watch), so the time can be placed at the controllers, the
scheduler or the agent; for the one-pod runs also the slowest run's stages and the Warning
events the runs left (what explains a slow one).

Usage (inside the server's network namespace): cluster_start.py KUBECONFIG RUNS PODS
"""
import base64
import http.client
import json
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def kubeconfig(path):
    text = open(path).read()
    server = re.search(r"server: https://([^:\s]+):(\d+)", text)
    ca = re.search(r"certificate-authority-data: (\S+)", text).group(1)
    token = re.search(r"token: (\S+)", text).group(1)
    ca_file = tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False)
    ca_file.write(base64.b64decode(ca).decode())
    ca_file.close()
    return server.group(1), int(server.group(2)), ca_file.name, token


class Watcher:
    """Records when each pod is first seen created, bound to a node and Running, keyed by its
    `app` label, so the 100-replica run can say which stage the time goes to."""

    def __init__(self, host, port, ca, token):
        self.host, self.port, self.token = host, port, token
        self.context = ssl.create_default_context(cafile=ca)
        self.running = {}
        self.created = {}
        self.bound = {}
        # The first status with the pod's address: the agent made its sandbox and network.
        self.addressed = {}
        self.cond = threading.Condition()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.context)
        c.request("GET", "/api/v1/namespaces/default/pods?watch=1", headers={"Authorization": f"Bearer {self.token}"})
        r = c.getresponse()
        while True:
            line = r.readline()
            if not line:
                return
            event = json.loads(line)
            pod = event["object"]
            if event["type"] == "DELETED":
                continue
            now = time.perf_counter()
            app = pod["metadata"].get("labels", {}).get("app")
            name = pod["metadata"]["name"]
            with self.cond:
                self.created.setdefault(app, {}).setdefault(name, now)
                if pod.get("spec", {}).get("nodeName"):
                    self.bound.setdefault(app, {}).setdefault(name, now)
                status = pod.get("status", {})
                if status.get("podIP"):
                    self.addressed.setdefault(app, {}).setdefault(name, now)
                if pod.get("status", {}).get("phase") != "Running":
                    continue
                self.running.setdefault(app, {}).setdefault(name, now)
                self.cond.notify_all()

    def wait(self, app, count, timeout=120):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.running.get(app, {})) >= count, timeout=timeout):
                raise SystemExit(f"{app}: {len(self.running.get(app, {}))} of {count} pods Running after {timeout} s")
            return max(self.running[app].values())


def deployment(name, replicas):
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}}}})


def kubectl(config, *args, stdin=None):
    subprocess.run(["kubectl", "--kubeconfig", config, *args], input=stdin, text=True, check=True, capture_output=True)


def delete_and_wait(config, name):
    kubectl(config, "delete", "deployment", name, "--wait=true")
    deadline = time.time() + 120
    while time.time() < deadline:
        out = subprocess.run(["kubectl", "--kubeconfig", config, "get", "pods", "-l", f"app={name}", "-o", "name"],
                             text=True, capture_output=True).stdout
        if not out.strip():
            return
        time.sleep(0.2)


def main():
    config, runs, pods = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    watcher = Watcher(*kubeconfig(config))
    time.sleep(0.5)
    latencies, applies, created, bound = [], [], [], []
    for i in range(runs):
        name = f"bench-{i}"
        start = time.perf_counter()
        kubectl(config, "apply", "-f", "-", stdin=deployment(name, 1))
        applies.append(time.perf_counter() - start)
        latencies.append(watcher.wait(name, 1) - start)
        with watcher.cond:
            created.append(min(watcher.created[name].values()) - start)
            bound.append(min(watcher.bound[name].values()) - start)
        delete_and_wait(config, name)
    slowest = max(range(runs), key=lambda i: latencies[i])
    print(f"one-pod Deployment, kubectl apply -> pod Running (watch), {runs} runs:")
    print(f"  p50 {pct(latencies, 50) * 1000:.0f} ms   p99 {pct(latencies, 99) * 1000:.0f} ms   "
          f"(of which kubectl apply itself: p50 {pct(applies, 50) * 1000:.0f} ms)")
    print(f"  p50 from the start of kubectl apply: pod created {pct(created, 50) * 1000:.0f} ms, "
          f"bound {pct(bound, 50) * 1000:.0f} ms, Running {pct(latencies, 50) * 1000:.0f} ms")
    print(f"  slowest run: kubectl apply {applies[slowest] * 1000:.0f} ms, pod created {created[slowest] * 1000:.0f} ms, "
          f"bound {bound[slowest] * 1000:.0f} ms, Running {latencies[slowest] * 1000:.0f} ms")
    # Warnings (FailedMount, FailedCreatePodSandBox, BackOff...) explain a slow run.
    warnings = subprocess.run(["kubectl", "--kubeconfig", config, "get", "events", "-A", "--field-selector", "type=Warning",
                               "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}"],
                              text=True, capture_output=True).stdout.splitlines()
    print(f"  warning events: {len(warnings)}")
    for line in sorted(set(warnings)):
        print(f"    {line}")
    start = time.perf_counter()
    kubectl(config, "apply", "-f", "-", stdin=deployment("bench-many", pods))
    done = watcher.wait("bench-many", pods, timeout=300)
    print(f"{pods}-replica Deployment, kubectl apply -> all {pods} pods Running: {done - start:.2f} s")
    # Where the time went: when the first, middle and last pod reached each stage.
    for stage, seen in (("created", watcher.created), ("bound", watcher.bound), ("podIP", watcher.addressed),
                        ("Running", watcher.running)):
        times = sorted(t - start for t in seen.get("bench-many", {}).values())
        if times:
            print(f"  {stage:8} first {times[0]:.2f} s   10% {pct(times, 10):.2f} s   half {pct(times, 50):.2f} s   "
                  f"90% {pct(times, 90):.2f} s   last {times[-1]:.2f} s")


if __name__ == "__main__":
    main()

"""API server benchmark: swiftlet server against etcd 3.4 (the store under kube-apiserver).

Usage: api_server.py SWIFTLET_URL ETCD_URL COUNT WATCH_SAMPLES WATCHERS [SWIFTLET_ON_ETCD_URL]

The same client (Python's http.client, one keep-alive connection, JSON) drives both:
  create  COUNT pods one after another (swiftlet: POST /api/v1/namespaces/bench/pods;
          etcd: POST /v3/kv/put of the same pod JSON under /registry/pods/bench/<name>)
  list    all COUNT pods, 20 times (swiftlet: GET .../pods; etcd: /v3/kv/range over the prefix);
          swiftlet again with Accept: application/vnd.kubernetes.protobuf (client-go's default),
          which the server encodes item by item from the stored JSON
  watch   latency from sending an update to receiving its watch event, WATCH_SAMPLES times
          (swiftlet: PATCH a label, event on GET ...?watch=1; etcd: put, event on /v3/watch)
  fan-out WATCHERS watch connections on another namespace (prefix) while WRITERS clients
          create COUNT pods there: the latency from sending each create to each watcher
          receiving its event (p50/p99 over every watcher and event), and whether every
          watcher got every event (none dropped or closed)
swiftlet does the whole API (decode, defaults, validation, admission, the store with
synchronous=FULL, encode); etcd is only the store, with its default fsync per commit.
etcd stores the very objects swiftlet answered the creates with (defaults and managedFields
included), as kube-apiserver would store them, so both lists carry the same pods. A list is
timed until its whole body has arrived; the client's own JSON parsing is left out of both
(it parses swiftlet's objects but only etcd's outer envelope), and the count is checked after.
"""
import base64
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def pod(i):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"bench-{i}", "labels": {"app": "bench"}},
        "spec": {"nodeName": "bench-node", "containers": [{
            "name": "c", "image": "busybox", "command": ["sleep", "3600"],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
    }


def fan_pod(i):
    p = pod(i)
    p["metadata"]["name"] = f"fan-{i}"
    return p


def request(c, method, path, body=None, ctype="application/json", accept=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": ctype} if data is not None else {}
    if accept:
        headers["Accept"] = accept
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    payload = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {payload[:300]!r}")
    return payload


def fields(data):
    """Top-level (number, bytes) of a protobuf message's length-delimited fields (others skipped)."""
    i, out = 0, []

    def varint():
        nonlocal i
        value, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7
    while i < len(data):
        key = varint()
        if key & 7 == 0:
            varint()
        elif key & 7 == 2:
            n = varint()
            out.append((key >> 3, data[i:i + n]))
            i += n
        else:
            raise SystemExit(f"unexpected wire type {key & 7}")
    return out


def b64(s):
    return base64.b64encode(s.encode()).decode()


# The objects swiftlet stored, by index: what etcd stores too.
created = {}


class Swiftlet:
    name = "swiftlet"

    def __init__(self, url):
        self.url = url
        self.c = conn(url)
        request(self.c, "POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})
        request(self.c, "POST", "/api/v1/nodes", {"metadata": {"name": "bench-node"}})

    def create(self, i):
        created[i] = json.loads(request(self.c, "POST", "/api/v1/namespaces/bench/pods", pod(i)))

    def list(self):
        return request(self.c, "GET", "/api/v1/namespaces/bench/pods")

    def list_protobuf(self):
        return request(self.c, "GET", "/api/v1/namespaces/bench/pods", accept="application/vnd.kubernetes.protobuf")

    @staticmethod
    def count(body):
        return len(json.loads(body)["items"])

    @staticmethod
    def count_protobuf(body):
        # k8s\0, runtime.Unknown{typeMeta=1, raw=2}, PodList{metadata=1, items=2}
        assert body[:4] == b"k8s\0", body[:20]
        raw = [v for n, v in fields(body[4:]) if n == 2][0]
        return sum(1 for n, _ in fields(raw) if n == 2)

    def update(self, i, n):
        request(self.c, "PATCH", f"/api/v1/namespaces/bench/pods/bench-{i}",
                {"metadata": {"labels": {"n": str(n)}}}, "application/merge-patch+json")

    def fanout_setup(self):
        request(self.c, "POST", "/api/v1/namespaces", {"metadata": {"name": "fanout"}})

    def fanout_create(self, c, i):
        request(c, "POST", "/api/v1/namespaces/fanout/pods", fan_pod(i))

    def fanout_watch(self, on_name, ready):
        """Reads events as raw lines and takes the pod's name with a regex: 50 watchers parsing
        every 2.5 KB pod in Python would measure the client."""
        c = conn(self.url)
        # Each watcher on connections of its own (they start from 50 threads at once).
        rv = json.loads(request(c, "GET", "/api/v1/namespaces/fanout/pods?limit=1"))["metadata"]["resourceVersion"]
        c.request("GET", f"/api/v1/namespaces/fanout/pods?watch=1&resourceVersion={rv}")
        r = c.getresponse()
        ready()
        name = re.compile(rb'"name":"(fan-\d+)"')
        while True:
            line = r.readline()
            if not line:
                return
            m = name.search(line)
            if m:
                on_name(m.group(1).decode())

    def watch(self, on_event, ready):
        c = conn(self.url)
        rv = json.loads(request(self.c, "GET", "/api/v1/namespaces/bench/pods?limit=1"))["metadata"]["resourceVersion"]
        c.request("GET", f"/api/v1/namespaces/bench/pods?watch=1&resourceVersion={rv}")
        r = c.getresponse()
        ready.set()
        while True:
            line = r.readline()
            if not line:
                return
            event = json.loads(line)
            on_event(event["object"]["metadata"].get("labels", {}).get("n"))


class Etcd:
    name = "etcd"

    def __init__(self, url):
        self.url = url
        self.c = conn(url)

    def key(self, i):
        return f"/registry/pods/bench/bench-{i}"

    def create(self, i):
        request(self.c, "POST", "/v3/kv/put", {"key": b64(self.key(i)), "value": b64(json.dumps(created.get(i, pod(i))))})

    def list(self):
        start = "/registry/pods/bench/"
        end = start[:-1] + chr(ord(start[-1]) + 1)
        return request(self.c, "POST", "/v3/kv/range", {"key": b64(start), "range_end": b64(end)})

    @staticmethod
    def count(body):
        return len(json.loads(body)["kvs"])

    def update(self, i, n):
        p = json.loads(json.dumps(created.get(i, pod(i))))
        p["metadata"].setdefault("labels", {})["n"] = str(n)
        request(self.c, "POST", "/v3/kv/put", {"key": b64(self.key(i)), "value": b64(json.dumps(p))})

    def fanout_setup(self):
        pass

    def fanout_create(self, c, i):
        # The object swiftlet stored for the same index (defaults, managedFields), renamed.
        value = created.get(i, pod(i))
        value = dict(value, metadata=dict(value["metadata"], name=f"fan-{i}"))
        request(c, "POST", "/v3/kv/put", {"key": b64(f"/registry/pods/fanout/fan-{i}"), "value": b64(json.dumps(value))})

    def watch_stream(self, start):
        """An etcd watch of every key under `start` through the JSON gateway: the response."""
        c = conn(self.url)
        end = start[:-1] + chr(ord(start[-1]) + 1)
        body = json.dumps({"create_request": {"key": b64(start), "range_end": b64(end)}}).encode()
        c.request("POST", "/v3/watch", body=body, headers={"Content-Type": "application/json"})
        return c.getresponse()

    def fanout_watch(self, on_name, ready):
        """Takes each event's key from the stream without decoding the (base64) values."""
        start = "/registry/pods/fanout/"
        r = self.watch_stream(start)
        keys = re.compile(rb'"key":"([A-Za-z0-9+/=]+)"')
        created_seen = False
        buffer = b""
        while True:
            chunk = r.read1(65536)
            if not chunk:
                return
            buffer += chunk
            if not created_seen and b'"created":true' in buffer:
                created_seen = True
                ready()
            # Only whole keys match (closing quote included); a key cut by the chunk boundary
            # stays in the kept tail and matches with the next chunk.
            last = 0
            for m in keys.finditer(buffer):
                last = m.end()
                key = base64.b64decode(m.group(1)).decode()
                if key.startswith(start):
                    on_name(key[len(start):])
            buffer = buffer[last:] if last else buffer[-256:]

    def watch(self, on_event, ready):
        r = self.watch_stream("/registry/pods/bench/")
        decoder = json.JSONDecoder()
        buffer = ""
        while True:
            chunk = r.read1(65536).decode()
            if not chunk:
                return
            buffer += chunk
            while True:
                buffer = buffer.lstrip()
                try:
                    message, end_index = decoder.raw_decode(buffer)
                except ValueError:
                    break
                buffer = buffer[end_index:]
                result = message.get("result", {})
                if result.get("created"):
                    ready.set()
                for event in result.get("events", []):
                    value = json.loads(base64.b64decode(event["kv"]["value"]))
                    on_event(value["metadata"]["labels"].get("n"))


def measure(target, count, samples):
    results = {}
    times = []
    start = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        target.create(i)
        times.append(time.perf_counter() - t)
    results["create_total_s"] = time.perf_counter() - start
    results["create"] = times
    def lists(label, list_all, count_items):
        times = []
        for _ in range(20):
            t = time.perf_counter()
            body = list_all()
            times.append(time.perf_counter() - t)
            n = count_items(body)
            assert n == count, f"{target.name} listed {n} of {count} ({label})"
        results[label.replace(" ", "_") + "_bytes"] = len(body)
        results[label] = times

    lists("list", target.list, target.count)
    if hasattr(target, "list_protobuf"):
        lists("list protobuf", target.list_protobuf, target.count_protobuf)

    arrived = {}
    cond = threading.Condition()

    def on_event(n):
        if n is None:
            return
        with cond:
            arrived[n] = time.perf_counter()
            cond.notify_all()

    ready = threading.Event()
    threading.Thread(target=target.watch, args=(on_event, ready), daemon=True).start()
    ready.wait(10)
    time.sleep(0.2)
    times = []
    for s in range(samples):
        key = f"{s}"
        t = time.perf_counter()
        target.update(s % count, key)
        with cond:
            if not cond.wait_for(lambda: key in arrived, timeout=10):
                raise SystemExit(f"{target.name}: no watch event for update {s}")
            times.append(arrived[key] - t)
    results["watch"] = times
    return results


def fanout(target, count, watchers, writers=4):
    """WATCHERS watches of the `fanout` prefix while WRITERS clients create COUNT pods there."""
    target.fanout_setup()
    sent = {}
    arrivals = [dict() for _ in range(watchers)]
    lock = threading.Lock()
    ready = threading.Semaphore(0)

    def watcher(index):
        seen = arrivals[index]

        def on_name(name):
            now = time.perf_counter()
            with lock:
                seen.setdefault(name, now)
        target.fanout_watch(on_name, ready.release)

    for index in range(watchers):
        threading.Thread(target=watcher, args=(index,), daemon=True).start()
    for _ in range(watchers):
        if not ready.acquire(timeout=30):
            raise SystemExit(f"{target.name}: a watcher did not start")
    time.sleep(0.5)

    def writer(first):
        c = conn(target.url)
        for i in range(first, count, writers):
            with lock:
                sent[f"fan-{i}"] = time.perf_counter()
            target.fanout_create(c, i)

    start = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created_s = time.perf_counter() - start
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            if all(len(seen) >= count for seen in arrivals):
                break
        time.sleep(0.1)
    with lock:
        latencies = [seen[name] - sent[name] for seen in arrivals for name in seen if name in sent]
        fewest = min(len(seen) for seen in arrivals)
    return {"latencies": latencies, "fewest": fewest, "created_s": created_s}


def main():
    # argv: swiftlet (SQLite) URL, bare etcd URL, COUNT, SAMPLES, WATCHERS[, swiftlet-on-etcd URL]
    swiftlet_url, etcd_url, count, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    watchers = int(sys.argv[5])
    targets = [Swiftlet(swiftlet_url)]
    if len(sys.argv) > 6:
        on_etcd = Swiftlet(sys.argv[6])
        on_etcd.name = "swiftlet on etcd"
        targets.append(on_etcd)
    targets.append(Etcd(etcd_url))
    runs = [(t.name, measure(t, count, samples)) for t in targets]
    fanouts = [(t.name, fanout(t, count, watchers)) for t in targets] if watchers > 0 else []
    base = dict(runs)["etcd"]
    print(f"{count} pods, {samples} watch samples; ratios are swiftlet / etcd (below 1: swiftlet faster)")
    for name, s in runs[:-1]:
        print(f"{'what':<22} {name + ' p50':>18} {'p99':>8} {'etcd p50':>9} {'p99':>8} {'p50 ratio':>9}")
        for what in ("create", "list", "list protobuf", "watch"):
            a50, a99 = pct(s[what], 50) * 1000, pct(s[what], 99) * 1000
            # etcd has no protobuf list of its own: the same range read is the baseline.
            base_what = "list" if what == "list protobuf" else what
            b50, b99 = pct(base[base_what], 50) * 1000, pct(base[base_what], 99) * 1000
            print(f"{what + ' (ms)':<22} {a50:>18.2f} {a99:>8.2f} {b50:>9.2f} {b99:>8.2f} {a50 / b50:>9.2f}")
        print(f"{'create all (s)':<22} {s['create_total_s']:>18.2f} {'':>8} {base['create_total_s']:>9.2f}")
        print(f"{'list body (KiB)':<22} {s['list_bytes'] / 1024:>18.0f} {'':>8} {base['list_bytes'] / 1024:>9.0f}")
        print(f"{'protobuf body (KiB)':<22} {s['list_protobuf_bytes'] / 1024:>18.0f}")
    for name, f in fanouts:
        lat = f["latencies"]
        print(f"fan-out, {name}: {watchers} watchers, {count} creates by 4 clients in {f['created_s']:.2f} s: "
              f"delivery p50 {pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms, "
              f"max {max(lat) * 1000:.1f} ms; fewest events at one watcher {f['fewest']} of {count}")


if __name__ == "__main__":
    main()

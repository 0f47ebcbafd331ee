"""`kubectl exec` latency and `kubectl port-forward` throughput, with the time spent in swiftlet
(API server, agent, runtime) separated from kubectl's own start:

- kubectl exec POD -- true (1.32: WebSocket v5; 1.27: SPDY/3.1), wall time per run;
- kubectl get pod POD -o name: kubectl's start, config and one API round trip (its floor);
- the same exec without kubectl: a WebSocket v5 client here (TLS, upgrade through the API
  server, frames until the close) — the time swiftlet takes for an exec;
- nsenter -t PID -a true: entering the container with util-linux, the host's own floor;
- port-forward: a 64 MiB download through `kubectl port-forward` vs straight from the pod IP.

Usage (inside the server's network namespace):
  exec_bench.py KUBECONFIG RUNS POD CONTAINER_PID POD_IP KUBECTL_1_27
"""
import base64
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
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


def timed(argv):
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr}")
    return elapsed


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def websocket_exec(host, port, context, token, pod):
    """One `true` through the API server over WebSocket v5; returns ms and the status JSON."""
    start = time.perf_counter()
    raw = socket.create_connection((host, port))
    # As Go (kubectl) does: without it the request waits behind the TLS Finished for a
    # delayed ACK (40 ms on Linux), which is the client's cost, not the server's.
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = context.wrap_socket(raw, server_hostname=host)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.sendall((
        f"GET /api/v1/namespaces/default/pods/{pod}/exec?command=true&stdout=true&stderr=true HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n"
    ).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    status = b""
    while True:
        b0, b1 = read_exact(conn, 2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(read_exact(conn, 2), "big")
        elif length == 127:
            length = int.from_bytes(read_exact(conn, 8), "big")
        payload = read_exact(conn, length)
        opcode = b0 & 0x0F
        if opcode == 2 and payload[:1] == b"\x03":
            status += payload[1:]
        if opcode == 8:
            # Answer the close (masked, as a client must), as kubectl does.
            conn.sendall(bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2]))
            break
    conn.close()
    return (time.perf_counter() - start) * 1000, status.decode()


def main():
    config, runs, pod, container_pid, pod_ip, kubectl127 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
    host, port, ca, token = kubeconfig(config)
    context = ssl.create_default_context(cafile=ca)
    kubectl = ["kubectl", "--kubeconfig", config]
    rows = []

    def measure(name, fn):
        fn()  # warm-up (discovery cache, connections)
        values = [fn() for _ in range(runs)]
        rows.append((name, pct(values, 50), pct(values, 90)))

    measure("kubectl get pod (kubectl's own floor)", lambda: timed(kubectl + ["get", "pod", pod, "-o", "name"]))
    measure("kubectl 1.32 exec -- true (WebSocket v5)", lambda: timed(kubectl + ["exec", pod, "--", "true"]))
    measure("kubectl 1.27 exec -- true (SPDY/3.1)", lambda: timed([kubectl127, "--kubeconfig", config, "exec", pod, "--", "true"]))
    statuses = []

    def direct():
        ms, status = websocket_exec(host, port, context, token, pod)
        statuses.append(status)
        return ms
    measure("WebSocket v5 exec -- true without kubectl (swiftlet's share)", direct)
    if not all('"Success"' in s for s in statuses):
        raise RuntimeError(f"an exec did not succeed: {statuses[:3]}")
    measure("nsenter -t PID -a true (entering the container, host tools)",
            lambda: timed(["nsenter", "-t", container_pid, "-a", "true"]))

    print(f"exec latency, {runs} runs after one warm-up (ms)")
    print(f"{'':68} {'p50':>8} {'p90':>8}")
    for name, p50, p90 in rows:
        print(f"{name:68} {p50:8.1f} {p90:8.1f}")

    # Port-forward throughput: one local port, a 64 MiB file from busybox httpd.
    forward = subprocess.Popen(kubectl + ["port-forward", f"pod/{pod}", "18080:8080"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        line = forward.stdout.readline()
        if "Forwarding from" not in line:
            raise RuntimeError(f"port-forward: {line}")

        def speed(url):
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download}", url], check=True,
                                 capture_output=True, text=True).stdout
            return float(out) / (1 << 20)
        forwarded = [speed("http://127.0.0.1:18080/big") for _ in range(3)]
        direct_speed = [speed(f"http://{pod_ip}:8080/big") for _ in range(3)]
    finally:
        forward.kill()
        forward.wait()
    f, d = pct(forwarded, 50), pct(direct_speed, 50)
    print("port-forward throughput, 64 MiB, median of 3 (MiB/s)")
    print(f"{'kubectl port-forward (kubectl 1.32, SPDY in WebSocket)':68} {f:8.1f}")
    print(f"{'straight to the pod IP (no forward)':68} {d:8.1f}")
    print(f"{'ratio':68} {f / d:8.2f}")


main()

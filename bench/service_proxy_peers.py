#!/usr/bin/env python3
"""Peers for bench/service-proxy.sh.

iptables NETNS SERVICES ENDPOINTS ROUNDS
    Writes the nat table kube-proxy's iptables mode would write for SERVICES services of
    ENDPOINTS endpoints each (KUBE-SERVICES, a KUBE-SVC chain per service with statistic
    random jumps, a KUBE-SEP chain per endpoint with masquerade-mark and DNAT) and times a full
    `iptables-restore --noflush` of it (what every iptables-mode sync did before kube-proxy
    1.27's partial syncs), with the nft backend and the legacy one, inside NETNS. Prints
    markdown table rows.
wrk NODE_NETNS CLIENT_PREFIX DIRECT_URL SERVICE_URL ROUNDS SECONDS
    Runs wrk against the pod directly and through the ClusterIP, alternating, with keep-alive
    connections and with a new connection per request. Each run comes from a fresh client pod
    (namespace CLIENT_PREFIX<n>, address 10.80.0.<10+n> on NODE_NETNS's bridge br0): with a
    new connection per request one run opens tens of thousands of connections, whose TIME_WAIT
    and conntrack entries would otherwise slow whichever run comes next. Prints rows.
"""
import base64
import hashlib
import statistics
import subprocess
import sys
import time

CLUSTER_CIDR = "10.64.0.0/11"


def chain(prefix, name):
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return prefix + digest[:16]


def endpoint_ip(index):
    block = index // 254
    return "10.%d.%d.%d" % (64 + block // 256, block % 256, index % 254 + 1)


def iptables_rules(services, endpoints):
    chains = [":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-POSTROUTING - [0:0]"]
    rules = [
        "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
        "-A KUBE-POSTROUTING -j MASQUERADE --random-fully",
    ]
    for i in range(services):
        ip = "10.96.%d.%d" % (i // 250, i % 250 + 1)
        svc = chain("KUBE-SVC-", "bench/svc-%d:http" % i)
        chains.append(":%s - [0:0]" % svc)
        rules.append("-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"bench/svc-%d:http cluster IP\" -m tcp --dport 80 -j %s" % (ip, i, svc))
        rules.append("-A %s ! -s %s -d %s/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ" % (svc, CLUSTER_CIDR, ip))
        for k in range(endpoints):
            address = endpoint_ip(i * endpoints + k)
            sep = chain("KUBE-SEP-", "bench/svc-%d:http %s" % (i, address))
            chains.append(":%s - [0:0]" % sep)
            remaining = endpoints - k
            if remaining > 1:
                rules.append("-A %s -m statistic --mode random --probability %.10f -j %s" % (svc, 1.0 / remaining, sep))
            else:
                rules.append("-A %s -j %s" % (svc, sep))
            rules.append("-A %s -s %s/32 -j KUBE-MARK-MASQ" % (sep, address))
            rules.append("-A %s -p tcp -m tcp -j DNAT --to-destination %s:8080" % (sep, address))
    return "*nat\n" + "\n".join(chains + rules) + "\nCOMMIT\n"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[int(round(p / 100 * (len(ordered) - 1)))]


def iptables(netns, services, endpoints, rounds):
    text = iptables_rules(services, endpoints).encode()
    label = "%d svc / %d ep" % (services, services * endpoints)
    for tool in ["iptables-nft-restore", "iptables-legacy-restore"]:
        command = ["nsenter", "--net=/run/netns/" + netns, tool, "--noflush"]
        subprocess.run(command, input=text, check=True)  # creates the chains: not counted
        times = []
        for _ in range(rounds):
            start = time.monotonic()
            subprocess.run(command, input=text, check=True)
            times.append((time.monotonic() - start) * 1000)
        print("| %s: %s full restore (kube-proxy iptables mode) | %d | %.1f | %.1f | |"
              % (label, tool, len(times), percentile(times, 50), percentile(times, 95)))


def client(node, prefix, index):
    """A client pod on the node's bridge; returns its namespace name."""
    name = "%s%d" % (prefix, index)
    host = "%sv%d" % (prefix[-6:], index)
    commands = [
        ["ip", "netns", "add", name],
        ["ip", "-n", name, "link", "set", "lo", "up"],
        ["ip", "link", "add", host, "netns", node, "type", "veth", "peer", "name", "eth0", "netns", name],
        ["ip", "-n", node, "link", "set", host, "master", "br0", "up"],
        ["ip", "-n", name, "addr", "add", "10.80.0.%d/24" % (10 + index), "dev", "eth0"],
        ["ip", "-n", name, "link", "set", "eth0", "up"],
        ["ip", "-n", name, "route", "add", "default", "via", "10.80.0.1"],
        ["nsenter", "--net=/run/netns/" + name, "sysctl", "-q", "net.ipv4.ip_local_port_range=1024 65535"],
    ]
    for command in commands:
        subprocess.run(command, check=True)
    return name


def wrk_once(netns, url, seconds, close):
    command = ["nsenter", "--net=/run/netns/" + netns, "wrk", "-t1", "-c16", "-d%ds" % seconds, "--latency", url]
    if close:
        command[4:4] = ["-H", "Connection: close"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {}
    for line in output.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif len(words) == 2 and words[0] in ("50%", "99%"):
            value = words[1]
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
            unit = next(u for u in ("us", "ms", "s") if value.endswith(u))
            result[words[0]] = float(value[: -len(unit)]) * scale[unit]
        elif "Non-2xx" in line or "Socket errors" in line:
            result["errors"] = line.strip()
    return result


def wrk(node, prefix, direct, service, rounds, seconds):
    index = 0
    for close in (False, True):
        mode = "new connection per request" if close else "keep-alive"
        results = {"pod IP": [], "ClusterIP": []}
        for _ in range(rounds):
            for name, url in (("pod IP", direct), ("ClusterIP", service)):
                index += 1
                netns = client(node, prefix, index)
                try:
                    results[name].append(wrk_once(netns, url, seconds, close))
                finally:
                    subprocess.run(["ip", "netns", "del", netns], check=False)
        base = statistics.median(r["rps"] for r in results["pod IP"])
        for name in ("pod IP", "ClusterIP"):
            runs = results[name]
            rps = statistics.median(r["rps"] for r in runs)
            errors = "; ".join(sorted({r["errors"] for r in runs if "errors" in r}))
            print("| %s, %s | %d x %ds | %.0f | %.3f | %.3f | %.2fx | %s |" % (
                mode, name, len(runs), seconds, rps, statistics.median(r["50%"] for r in runs),
                statistics.median(r["99%"] for r in runs), rps / base, errors))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "iptables":
        iptables(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 8 and sys.argv[1] == "wrk":
        wrk(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7]))
    else:
        sys.exit(__doc__)

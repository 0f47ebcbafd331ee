"""bench/cluster-dns.sh helper.

  cluster_dns.py setup DIR SERVICES THREADS   writes the same records for every server:
      records.json (swiftlet), unbound.conf, dnsmasq.conf, upstream.conf (the forwarded
      names' authority), cluster.txt and forwarded.txt (dnsperf query files)
  cluster_dns.py latency FILE...         p50/p90/p99/p99.9 (ms) of `dnsperf -v` outputs
  cluster_dns.py summary FILE...         QPS and average latency of dnsperf outputs
"""
import json
import re
import sys

ZONE = "cluster.local"
SWIFTLET, UNBOUND, DNSMASQ, UPSTREAM = "10.99.0.1", "10.99.0.2", "10.99.0.3", "10.99.0.9"
FORWARDED = 200


def setup(out, count, threads):
    services, slices = [], []
    unbound = [
        "server:",
        "  interface: %s" % UNBOUND,
        "  port: 53",
        "  do-daemonize: no",
        "  chroot: \"\"",
        "  username: \"\"",
        "  pidfile: \"\"",
        "  use-syslog: no",
        "  logfile: \"\"",
        "  verbosity: 0",
        "  num-threads: %d" % threads,
        "  access-control: 10.0.0.0/8 allow",
        "  do-ip6: no",
        "  so-rcvbuf: 4m",
        "  msg-cache-size: 32m",
        "  rrset-cache-size: 64m",
        "  do-not-query-localhost: no",
        # The same cache policy as swiftlet (k3s' `cache 30`): at most 30 s.
        "  cache-max-ttl: 30",
        "  cache-max-negative-ttl: 30",
        "  local-zone: \"%s.\" static" % ZONE,
        "  local-zone: \"42.10.in-addr.arpa.\" static",
        "  local-zone: \"43.10.in-addr.arpa.\" static",
    ]
    dnsmasq = [
        "no-resolv", "no-hosts", "bind-interfaces", "listen-address=%s" % DNSMASQ, "port=53",
        "server=%s" % UPSTREAM, "cache-size=10000", "max-cache-ttl=30", "local-ttl=5", "local=/%s/" % ZONE,
    ]
    cluster = []
    for i in range(count):
        ns = "ns-%d" % (i % 20)
        name = "svc-%d" % i
        fqdn = "%s.%s.svc.%s" % (name, ns, ZONE)
        ip = "10.43.%d.%d" % (i // 250, i % 250 + 1)
        services.append({"metadata": {"name": name, "namespace": ns},
                         "spec": {"clusterIP": ip, "clusterIPs": [ip],
                                  "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}})
        unbound.append("  local-data: \"%s. 5 IN A %s\"" % (fqdn, ip))
        unbound.append("  local-data: \"_http._tcp.%s. 5 IN SRV 0 100 80 %s.\"" % (fqdn, fqdn))
        unbound.append("  local-data-ptr: \"%s 5 %s.\"" % (ip, fqdn))
        dnsmasq.append("host-record=%s,%s" % (fqdn, ip))
        dnsmasq.append("srv-host=_http._tcp.%s,%s,80,0,100" % (fqdn, fqdn))
        cluster.append("%s A" % fqdn)
        if i % 10 == 0:
            cluster.append("_http._tcp.%s SRV" % fqdn)
    # Headless services: three ready pods each.
    for i in range(count // 10):
        ns = "ns-%d" % (i % 20)
        name = "hl-%d" % i
        fqdn = "%s.%s.svc.%s" % (name, ns, ZONE)
        services.append({"metadata": {"name": name, "namespace": ns},
                         "spec": {"clusterIP": "None", "ports": [{"name": "http", "port": 8080}]}})
        endpoints = []
        for k in range(3):
            ip = "10.42.%d.%d" % (i // 80, (i % 80) * 3 + k + 1)
            endpoints.append({"addresses": [ip], "conditions": {"ready": True}})
            dashed = ip.replace(".", "-")
            unbound.append("  local-data: \"%s. 5 IN A %s\"" % (fqdn, ip))
            unbound.append("  local-data: \"%s.%s. 5 IN A %s\"" % (dashed, fqdn, ip))
            dnsmasq.append("host-record=%s,%s" % (fqdn, ip))
            dnsmasq.append("host-record=%s.%s,%s" % (dashed, fqdn, ip))
        slices.append({"metadata": {"name": name + "-abcde", "namespace": ns,
                                    "labels": {"kubernetes.io/service-name": name}},
                       "addressType": "IPv4", "endpoints": endpoints,
                       "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]})
        cluster.append("%s A" % fqdn)
    unbound += ["forward-zone:", "  name: \".\"", "  forward-addr: %s" % UPSTREAM]
    upstream = ["no-resolv", "no-hosts", "bind-interfaces", "listen-address=%s" % UPSTREAM, "port=53",
                "local-ttl=300", "local=/example.org/"]
    forwarded = []
    for i in range(FORWARDED):
        upstream.append("host-record=host-%d.example.org,192.0.2.%d" % (i, i % 250 + 1))
        forwarded.append("host-%d.example.org A" % i)
    files = {
        "records.json": json.dumps({"services": services, "endpointSlices": slices}),
        "unbound.conf": "\n".join(unbound) + "\n",
        "dnsmasq.conf": "\n".join(dnsmasq) + "\n",
        "upstream.conf": "\n".join(upstream) + "\n",
        "cluster.txt": "\n".join(cluster) + "\n",
        "forwarded.txt": "\n".join(forwarded) + "\n",
        "resolv.conf": "nameserver %s\n" % UPSTREAM,
    }
    for name, text in files.items():
        with open("%s/%s" % (out, name), "w") as f:
            f.write(text)


def percentile(values, p):
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def latency(paths):
    print("%-32s %9s %8s %8s %8s %8s %8s" % ("run", "answers", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "errors"))
    for path in paths:
        values, errors = [], 0
        for line in open(path):
            if not line.startswith("> "):
                continue
            parts = line.split()
            if parts[1] not in ("NOERROR", "NXDOMAIN"):
                errors += 1
            try:
                values.append(float(parts[-1]) * 1000)
            except ValueError:
                errors += 1
        values.sort()
        if not values:
            print("%-32s no answers" % path.split("/")[-1])
            continue
        print("%-32s %9d %8.3f %8.3f %8.3f %8.3f %8d" % (
            path.split("/")[-1], len(values), percentile(values, 50), percentile(values, 90),
            percentile(values, 99), percentile(values, 99.9), errors))


def summary(paths):
    print("%-32s %10s %8s %10s %10s" % ("run", "QPS", "lost %", "avg ms", "max ms"))
    for path in paths:
        text = open(path).read()
        qps = re.search(r"Queries per second:\s+([\d.]+)", text)
        lost = re.search(r"Queries lost:\s+\d+ \(([\d.]+)%\)", text)
        avg = re.search(r"Average Latency \(s\):\s+([\d.]+) \(min [\d.]+, max ([\d.]+)\)", text)
        if not qps:
            print("%-32s failed" % path.split("/")[-1])
            continue
        print("%-32s %10.0f %8s %10.3f %10.3f" % (
            path.split("/")[-1], float(qps.group(1)), lost.group(1) if lost else "?",
            float(avg.group(1)) * 1000 if avg else 0, float(avg.group(2)) * 1000 if avg else 0))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "latency":
        latency(sys.argv[2:])
    elif sys.argv[1] == "summary":
        summary(sys.argv[2:])

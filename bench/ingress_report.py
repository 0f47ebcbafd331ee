"""The report of bench/ingress.sh and bench/ingress-agent.sh: per proxy and scheme the median
requests/s, median p99 latency and median CPU microseconds per request of its rounds, its largest
memory figures, and the ratios swiftlet/nginx.

Usage: ingress_report.py RESULTS ROUNDS
RESULTS holds NAME-SCHEME-ROUND.txt per round (wrk --latency output, then the lines
"cpu_ticks T user_ticks U hz H" and "rss_kib R pss_kib P anon_kib A"), NAME swiftlet or nginx,
SCHEME http or https (a scheme without files is left out).
"""
import os
import re
import statistics
import sys

results, rounds = sys.argv[1], int(sys.argv[2])


def unit(value, suffix):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[suffix]


schemes = [s for s in ("http", "https") if os.path.exists(f"{results}/swiftlet-{s}-1.txt")]
print(f"{'proxy':<9} {'scheme':<6} {'req/s':>10} {'p99 ms':>8} {'CPU us/req':>10} {'user us/req':>11} {'RSS MiB':>8} {'PSS MiB':>8} {'anon MiB':>9} {'errors':>7}")
rows = {}
for scheme in schemes:
    for name in ("swiftlet", "nginx"):
        rps, p99, cpu, user, errors = [], [], [], [], 0
        memory = {"rss": [], "pss": [], "anon": []}
        for r in range(1, rounds + 1):
            text = open(f"{results}/{name}-{scheme}-{r}.txt").read()
            rps.append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
            requests = int(re.search(r"(\d+) requests in", text).group(1))
            ticks, user_ticks, hz = map(int, re.search(r"cpu_ticks (\d+) user_ticks (\d+) hz (\d+)", text).groups())
            cpu.append(ticks / hz * 1e6 / max(requests, 1))
            user.append(user_ticks / hz * 1e6 / max(requests, 1))
            m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", text, re.M)
            p99.append(unit(m.group(1), m.group(2)))
            for kind in memory:
                memory[kind].append(int(re.search(kind + r"_kib (\d+)", text).group(1)))
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
            errors += int(m.group(1)) if m else 0
            m = re.search(r"Socket errors: (.*)", text)
            if m:
                errors += sum(int(x) for x in re.findall(r"\d+", m.group(1)))
        row = (statistics.median(rps), statistics.median(p99), max(memory["rss"]) / 1024,
               max(memory["pss"]) / 1024, max(memory["anon"]) / 1024, errors, statistics.median(cpu), statistics.median(user))
        rows[(name, scheme)] = row
        print(f"{name:<9} {scheme:<6} {row[0]:>10.0f} {row[1]:>8.2f} {row[6]:>10.1f} {row[7]:>11.1f} {row[2]:>8.1f} {row[3]:>8.1f} {row[4]:>9.1f} {row[5]:>7}")
for scheme in schemes:
    s, n = rows[("swiftlet", scheme)], rows[("nginx", scheme)]
    print(f"swiftlet/nginx {scheme}: req/s {s[0] / n[0]:.2f}x, p99 {s[1] / n[1]:.2f}x, CPU per request {s[6] / n[6]:.2f}x (user {s[7] / n[7]:.2f}x), RSS {s[2] / n[2]:.2f}x, "
          f"PSS {s[3] / n[3]:.2f}x, anonymous {s[4] / n[4]:.2f}x")

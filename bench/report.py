"""Prints p50/p95 per command of a hyperfine JSON export and the ratio to the first command."""
import json
import sys


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


data = json.load(open(sys.argv[1]))["results"]
base = data[0]
base_p50 = percentile(base["times"], 50)
print(f"{'command':<10} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'p50 vs ' + base['command']:>16}")
for r in data:
    p50 = percentile(r["times"], 50) * 1000
    p95 = percentile(r["times"], 95) * 1000
    ratio = percentile(r["times"], 50) / base_p50
    print(f"{r['command']:<10} {len(r['times']):>5} {p50:>8.2f} {p95:>8.2f} {ratio:>15.2f}x")

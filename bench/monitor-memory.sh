#!/bin/sh
# The per-container monitor's own memory before and after attach support, side by side in one
# run (bench/monitor_memory.py says what is measured). Environment: BASE (git revision of the
# monitor before, default 8d9d6c2), OUT (default bench/results). Needs python3, git and the Swift
# toolchain at /opt/swift/usr/bin. Starts only its own processes and removes them.
set -eu
cd "$(dirname "$0")/.."
exec python3 bench/monitor_memory.py

#!/bin/sh
# The quickest way to see swiftlet work: installs the build dependencies, builds swiftlet,
# builds the busybox test image from Debian's busybox-static, imports it, and runs the
# two-container pod in examples/web-pod.yaml once (init container, web server, client).
# Needs root. Environment:
#   SWIFTLET_DEMO_DIR   where demo state goes (default /tmp/swiftlet-demo); removed at the end
#   SWIFTLET_SKIP_APT=1 do not run apt-get
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
dir="${SWIFTLET_DEMO_DIR:-/tmp/swiftlet-demo}"
sh scripts/install-deps.sh
swift build
bin="$(swift build --show-bin-path)/swiftlet"
mkdir -p "$dir"
# The pod's cgroups are removed by swiftlet; the parent it created is ours to remove.
trap 'rm -rf "$dir"; for c in /sys/fs/cgroup/*/swiftlet-demo /sys/fs/cgroup/swiftlet-demo; do [ -d "$c" ] && rmdir "$c"; done; true' EXIT
sh rootfs-fixtures/build.sh "$dir/fixtures"
opts="--data-dir $dir/data --run-dir $dir/run --cgroup-parent swiftlet-demo"
"$bin" images import $opts "$dir/fixtures/busybox"
"$bin" images ls $opts
"$bin" run $opts examples/web-pod.yaml

#!/bin/sh
# Installs the Debian packages listed in scripts/debian-packages. Idempotent; needs root.
#   libseccomp-dev libcap-dev zlib1g-dev  linked by the C shim (seccomp, capabilities, gunzip)
#   busybox-static                        the test and demo images are built from it
#   iproute2 nftables                     network tests and the host check
#   crun runc hyperfine strace            peers and tools for the benchmarks in bench/
#   python3-kubernetes curl               the Python client test; HTTP checks in the cluster tests
#   qemu-system-x86 debootstrap ...       the VM tests (Tests/vm): emulator, image, guest kernel
#   kubernetes-client                     only when no kubectl is installed (the tests drive kubectl)
# Environment: SWIFTLET_SKIP_APT=1 skips everything (for machines set up by hand).
set -eu
[ "${SWIFTLET_SKIP_APT:-0}" = 1 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: run as root (apt-get needs it)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2046 # one word per package, on purpose
apt-get install -y -qq --no-install-recommends \
    $(grep -v '^#' "$(dirname "$0")/debian-packages") >/dev/null
# kubectl: the build machines have Google's (its 1.32 dispatcher at /usr/bin/kubectl); elsewhere
# Debian's kubernetes-client (1.20) drives swiftlet server just as well.
command -v kubectl >/dev/null || apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null

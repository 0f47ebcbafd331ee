#!/bin/sh
# Tests/vm/run.sh [SCENARIO...]
#
# Runs the VM scenarios (Tests/vm/scenarios/*.sh; default: all) on Debian 12 VMs under QEMU
# software emulation, with what a user would install: a swiftlet binary with the Swift runtime
# linked in (no Swift toolchain in the VMs) and install.sh. Steps:
#   1. the binaries, by VM_BUILD:
#        debug (default; what `swift test` runs): the debug build's objects linked like the
#          release (Tests/vm/link-debug.sh, seconds; needs `swift build` first)
#        release: scripts/build-release.sh, exactly what a user installs (10-20 min on two
#          cores when nothing is built yet; reused when up to date)
#      or VM_BINARIES names a directory holding swiftlet and swiftlet-monitor (all of it is
#      copied to the VMs' /share/bin)
#   2. the VM image (build-image.sh; cached in .build/vm)
#   3. the busybox test image (rootfs-fixtures/build.sh), imported inside the VMs
#   4. a network namespace with a bridge, and the scenario's VMs on it (lib.sh)
# VM_PREPARE names a script run in every VM before its first snapshot: for developing the
# harness only (a debug build's Swift libraries, say); the test sets none.
# Each run's files (console logs, command outputs, snapshots, the services' journals on
# failure) stay in .build/vm/runs/<time>-<scenario>/ (the last five runs). Exits non-zero when
# a scenario fails or cannot run. Needs root and the packages in scripts/debian-packages
# (qemu-system-x86, qemu-utils, debootstrap, linux-image-amd64...). docs/install.md says how
# long it takes.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH="/opt/swift/usr/bin:$PATH:/usr/sbin:/sbin"

[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (VMs on a bridge in a network namespace)" >&2; exit 1; }
for tool in qemu-system-x86_64 qemu-img kubectl ip; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool not found (scripts/debian-packages)" >&2; exit 1; }
done

scenarios=${*:-$(cd "$HERE/scenarios" && ls *.sh | sed 's/\.sh$//')}
start=$(date +%s)

if [ -z "${VM_BINARIES:-}" ]; then
    case "${VM_BUILD:-debug}" in
        debug)
            VM_BINARIES=$REPO/.build/vm/binaries-debug
            sh "$HERE/link-debug.sh" "$VM_BINARIES" || { echo "run.sh: linking the debug build failed" >&2; exit 1; }
            ;;
        release)
            VM_BINARIES=$REPO/.build/release-static
            sh "$REPO/scripts/build-release.sh" "$VM_BINARIES" >"$REPO/.build/vm-release-build.log" 2>&1 ||
                { tail -n 40 "$REPO/.build/vm-release-build.log" >&2; echo "run.sh: the release build failed" >&2; exit 1; }
            ;;
        *) echo "run.sh: VM_BUILD=${VM_BUILD} is neither debug nor release" >&2; exit 1 ;;
    esac
fi
sh "$HERE/build-image.sh" || exit 1
sh "$REPO/rootfs-fixtures/build.sh" "$REPO/.build/test-fixtures" >/dev/null || { echo "run.sh: rootfs-fixtures/build.sh failed" >&2; exit 1; }
prepared=$(date +%s)
echo "run.sh: binaries, image and fixtures ready in $((prepared - start)) s"

# Earlier runs' files are kept for looking into failures, the last five only (each VM's disk
# overlay holds a few hundred MB).
ls -1d "$REPO"/.build/vm/runs/*/ 2>/dev/null | sort | head -n -5 | while read -r old; do rm -rf "$old"; done

status=0
for scenario in $scenarios; do
    VM_RUN=$REPO/.build/vm/runs/$(date +%Y%m%d-%H%M%S)-$scenario
    mkdir -p "$VM_RUN"
    (
        VM_IMAGE=$REPO/.build/vm/image
        VM_NETNS=swl-vm-$$-$scenario
        . "$HERE/lib.sh"
        collect() {
            code=$?
            if [ "$code" != 0 ]; then
                for name in $VM_NAMES; do
                    pid=$(vm_pid "$name")
                    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
                    vm_exec "$name" 60 'journalctl --no-pager -u "swiftlet*" -n 300' > "$VM_RUN/$name/journal.log" 2>&1
                    echo "--- $name: last lines of the swiftlet journal ($VM_RUN/$name/journal.log)" >&2
                    tail -n 30 "$VM_RUN/$name/journal.log" >&2
                done
            fi
            vm_network_down
            exit "$code"
        }
        trap collect EXIT
        trap 'exit 130' INT TERM
        vm_network_up
        # Hard links where possible: the binary is 100-150 MB and every run keeps its share.
        cp -Rl "$VM_BINARIES"/. "$VM_RUN/share/bin/" 2>/dev/null || cp -R "$VM_BINARIES"/. "$VM_RUN/share/bin/"
        cp "$REPO/install.sh" "$HERE/guest/snapshot.sh" "$REPO/.build/test-fixtures/busybox-oci.tar" "$VM_RUN/share/bin/"
        [ -z "${VM_PREPARE:-}" ] || cp "$VM_PREPARE" "$VM_RUN/share/bin/prepare.sh"
        echo "run.sh: scenario $scenario in $VM_RUN"
        . "$HERE/scenarios/$scenario.sh"
    ) 2>&1 | tee "$VM_RUN/output.log"
    code=$(tail -n 1 "$VM_RUN/output.log" | grep -c '^=== end$' || true)
    if grep -q '^FAIL: ' "$VM_RUN/output.log" || [ "$code" = 0 ]; then
        echo "run.sh: scenario $scenario FAILED (logs in $VM_RUN)" >&2
        status=1
    else
        echo "run.sh: scenario $scenario passed"
    fi
done
echo "run.sh: done in $(( $(date +%s) - start )) s"
exit $status

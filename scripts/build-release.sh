#!/bin/sh
# scripts/build-release.sh [OUTDIR]
#
# Builds what install.sh installs, for machines without a Swift toolchain (one command; see
# docs/install.md):
#   OUTDIR/swiftlet          `swift build -c release --static-swift-stdlib`, linked by lld with the
#                            options of scripts/release-libs.sh (RELEASE_LD_OPTIONS): the Swift runtime,
#                            Foundation (with its ICU data) and Dispatch inside the binary, and
#                            libseccomp, libcap, zlib, zstd, libcrypto and libsqlite3 linked from
#                            Debian's static archives; stripped. Still dynamic: glibc, libstdc++
#                            and libgcc_s (in every Debian install) and libnftables (Debian ships
#                            no libnftables.a; package libnftables1).
#   OUTDIR/swiftlet-monitor  the per-container monitor, plain C built with cc, linked statically
#                            (no Swift runtime, unlike `swift build`'s, which links libswiftCore; no
#                            ld.so and libc.so pages either: one monitor per container, each under
#                            1 MiB RSS), stripped. It calls nothing of glibc's that needs NSS.
#   OUTDIR/SHA256SUMS
#
# The code is laid out for the agent's memory: every function in a section of its own
# (-function-sections) and lld places the functions the agent runs together, in the order of
# scripts/link-order.txt (a profile of the agent starting and stopping pods, made by
# scripts/link-order.sh), so that they share pages; see docs/benchmarks.md ("The binary's code
# laid out for the agent"). A function missing from the list (the code changed since) is placed
# as without it: the list may be stale, never wrong. A .build-release made before
# -function-sections was added kept its objects compiled without it (SwiftPM 6.3 did not
# recompile them for the new flag): remove the directory once.
#
# OUTDIR defaults to .build/release-static. The SwiftPM build directory is .build-release, so
# this can run while a `swift build` or `swift test` holds .build.
#
# Environment: SWIFT (default: swift on PATH, else /opt/swift/usr/bin/swift), CC (default cc),
# SWIFT_BUILD_FLAGS (extra flags for swift build, e.g. "-j 2"), LINK_MAP (a file: lld writes its
# map of the link there; scripts/link-order.sh reads it).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/.build/release-static}
SCRATCH=$REPO/.build-release
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
CC=${CC:-cc}

fatal() { echo "build-release: $*" >&2; exit 1; }
[ -x "$SWIFT" ] || fatal "no swift toolchain at $SWIFT (set SWIFT=)"
. "$REPO/scripts/release-libs.sh"

STATIC=$SCRATCH/static-libs
release_static_libs "$STATIC"

# The linker and its options as a SwiftPM toolset (a flag such as -Xswiftc -use-ld=lld would
# reach every compile too). The toolchain's own ld.lld, beside swift.
LLD=$(dirname "$(readlink -f "$SWIFT")")/ld.lld
[ -x "$LLD" ] || fatal "no ld.lld beside $SWIFT: the toolchain ships one since Swift 5.9"
mkdir -p "$SCRATCH"
# The list by a name of its content: SwiftPM relinks when the link command changes, not when a
# file it names does.
order_file="$SCRATCH/link-order-$(sha256sum "$REPO/scripts/link-order.txt" | cut -c1-16).txt"
cp "$REPO/scripts/link-order.txt" "$order_file"
link_options="$RELEASE_LD_OPTIONS --symbol-ordering-file=$order_file --no-warn-symbol-ordering"
[ -n "${LINK_MAP:-}" ] && link_options="$link_options -Map=$LINK_MAP"
# shellcheck disable=SC2086 # one JSON string per option, on purpose
options=$(printf '"%s", ' $link_options)
printf '{"schemaVersion": "1.0", "linker": {"path": "%s", "extraCLIOptions": [%s]}}\n' \
    "$LLD" "${options%, }" > "$SCRATCH/toolset.json"

start=$(date +%s)
# shellcheck disable=SC2086 # SWIFT_BUILD_FLAGS is a list of flags
"$SWIFT" build --package-path "$REPO" --scratch-path "$SCRATCH" -c release --product swiftlet \
    --static-swift-stdlib -Xlinker -L"$STATIC" --toolset "$SCRATCH/toolset.json" \
    -Xswiftc -Xfrontend -Xswiftc -function-sections ${SWIFT_BUILD_FLAGS:-}
mkdir -p "$OUT"
cp "$SCRATCH/release/swiftlet" "$OUT/swiftlet.tmp"
strip "$OUT/swiftlet.tmp"
mv "$OUT/swiftlet.tmp" "$OUT/swiftlet"
"$CC" -O2 -Wall -D_GNU_SOURCE -static -o "$OUT/swiftlet-monitor.tmp" "$REPO/Monitor/monitor.c"
strip "$OUT/swiftlet-monitor.tmp"
mv "$OUT/swiftlet-monitor.tmp" "$OUT/swiftlet-monitor"

release_check_binary "$OUT/swiftlet"
(cd "$OUT" && sha256sum swiftlet swiftlet-monitor > SHA256SUMS)
echo "build-release: $OUT/swiftlet $(du -h "$OUT/swiftlet" | cut -f1), swiftlet-monitor $(du -h "$OUT/swiftlet-monitor" | cut -f1), in $(( $(date +%s) - start )) s" >&2

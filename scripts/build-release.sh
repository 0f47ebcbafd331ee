#!/bin/sh
# scripts/build-release.sh [OUTDIR]
#
# Builds what install.sh installs, for machines without a Swift toolchain (one command; see
# docs/install.md):
#   OUTDIR/swiftlet          `swift build -c release --static-swift-stdlib`: the Swift runtime,
#                            Foundation (with its ICU data) and Dispatch inside the binary, and
#                            libseccomp, libcap, zlib, zstd, libcrypto and libsqlite3 linked from
#                            Debian's static archives; stripped. Still dynamic: glibc, libstdc++
#                            and libgcc_s (in every Debian install) and libnftables (Debian ships
#                            no libnftables.a; package libnftables1).
#   OUTDIR/swiftlet-monitor  the per-container monitor, plain C built with cc (no Swift runtime
#                            at all, unlike `swift build`'s, which links libswiftCore), stripped.
#   OUTDIR/SHA256SUMS
#
# OUTDIR defaults to .build/release-static. The SwiftPM build directory is .build-release, so
# this can run while a `swift build` or `swift test` holds .build.
#
# Environment: SWIFT (default: swift on PATH, else /opt/swift/usr/bin/swift), CC (default cc),
# SWIFT_BUILD_FLAGS (extra flags for swift build, e.g. "-j 2").
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/.build/release-static}
SCRATCH=$REPO/.build-release
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
CC=${CC:-cc}

fatal() { echo "build-release: $*" >&2; exit 1; }
[ -x "$SWIFT" ] || fatal "no swift toolchain at $SWIFT (set SWIFT=)"

# Static archives first on the library path: the linker takes the first libfoo it finds, and
# this directory holds only the .a files, so -lseccomp etc. link them instead of the .so.
LIBDIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
STATIC=$SCRATCH/static-libs
mkdir -p "$STATIC"
for lib in seccomp cap z zstd crypto sqlite3; do
    [ -f "$LIBDIR/lib$lib.a" ] || fatal "$LIBDIR/lib$lib.a missing: apt-get install libseccomp-dev libcap-dev zlib1g-dev libzstd-dev libssl-dev libsqlite3-dev"
    ln -sf "$LIBDIR/lib$lib.a" "$STATIC/lib$lib.a"
done

start=$(date +%s)
# shellcheck disable=SC2086 # SWIFT_BUILD_FLAGS is a list of flags
"$SWIFT" build --package-path "$REPO" --scratch-path "$SCRATCH" -c release --product swiftlet \
    --static-swift-stdlib -Xlinker -L"$STATIC" ${SWIFT_BUILD_FLAGS:-}
mkdir -p "$OUT"
cp "$SCRATCH/release/swiftlet" "$OUT/swiftlet.tmp"
strip "$OUT/swiftlet.tmp"
mv "$OUT/swiftlet.tmp" "$OUT/swiftlet"
"$CC" -O2 -Wall -D_GNU_SOURCE -o "$OUT/swiftlet-monitor.tmp" "$REPO/Monitor/monitor.c"
strip "$OUT/swiftlet-monitor.tmp"
mv "$OUT/swiftlet-monitor.tmp" "$OUT/swiftlet-monitor"

# What the binary still needs from the system, checked rather than assumed.
unexpected=$(ldd "$OUT/swiftlet" | awk '{print $1}' | grep -v -E '^(linux-vdso|/lib64/ld-linux|libc\.so|libm\.so|libstdc\+\+|libgcc_s|libnftables|libmnl|libnftnl|libxtables|libjansson|libgmp)' || true)
[ -z "$unexpected" ] || fatal "unexpected shared libraries in $OUT/swiftlet: $unexpected"
(cd "$OUT" && sha256sum swiftlet swiftlet-monitor > SHA256SUMS)
echo "build-release: $OUT/swiftlet $(du -h "$OUT/swiftlet" | cut -f1), swiftlet-monitor $(du -h "$OUT/swiftlet-monitor" | cut -f1), in $(( $(date +%s) - start )) s" >&2

#!/bin/sh
# Tests/vm/link-debug.sh [OUTDIR]
#
# What the VM test installs when it runs from `swift test`: the debug build's own object
# files (`swift build` made them) linked again the way scripts/build-release.sh links the
# release binary: the Swift runtime, Foundation and Dispatch static (-static-stdlib), and the C
# libraries from Debian's static archives, by lld with the same options (scripts/release-libs.sh,
# which both source); stripped.
# It runs where no Swift toolchain is installed, like the release binary, and takes
# seconds where a release build takes 10-20 minutes on two cores (docs/install.md).
# Unoptimised code: the scenario is slower in the VMs than with the release binary.
#
# The link command is SwiftPM's own, read from .build/debug.yaml (the llbuild manifest `swift
# build` wrote), with the output path changed and the static libraries first on the path.
# One object is added: the debug objects were compiled against the shared Foundation, whose
# autolink entries lack what the static one needs (CoreFoundation, _FoundationICU...); an
# empty file importing Foundation compiled with -static-stdlib carries those entries, as the
# objects of `swift build --static-swift-stdlib` do (that build cannot run here: `swift test`
# holds .build's lock, and it would replace the binary the other tests run).
#
# Output in OUTDIR (default .build/vm/binaries-debug): swiftlet, swiftlet-monitor (built with
# cc as in build-release.sh: SwiftPM's links libswiftCore); the link's files in OUTDIR.work.
# Needs `swift build` first.
set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$REPO/.build/vm/binaries-debug}
WORK=$OUT.work
MANIFEST=$REPO/.build/debug.yaml
CC=${CC:-cc}

fatal() { echo "link-debug: $*" >&2; exit 1; }
. "$REPO/scripts/release-libs.sh"

[ -f "$MANIFEST" ] || fatal "$MANIFEST not found: run swift build first"
# The line after the description of the executable's link step holds its arguments as a JSON
# array of plain strings.
ARGS=$(awk '/^    description: "Linking .*\/debug\/swiftlet"$/ { getline; print; exit }' "$MANIFEST")
case "$ARGS" in
    '    args: ["'*'"]') ;;
    *) fatal "no link command for swiftlet in $MANIFEST (SwiftPM's manifest format changed?)" ;;
esac

STATIC=$REPO/.build/vm/static-libs
mkdir -p "$OUT" "$WORK"
release_static_libs "$STATIC"

# One argument per line, then into "$@": -o gets our path, -g goes (the output is
# stripped), -static-stdlib is added when SwiftPM did not add it.
printf '%s\n' "$ARGS" | sed -e 's/^    args: \["//' -e 's/"\]$//' -e 's/","/\n/g' > "$WORK/link-args"
grep -q '\\' "$WORK/link-args" && fatal "escaped characters in the link command of $MANIFEST: not handled"
# The static archives' directory goes first: the linker takes the first libfoo it finds.
set --
next_is_output=
while IFS= read -r arg; do
    if [ -n "$next_is_output" ]; then
        arg=$OUT/swiftlet.tmp
        next_is_output=
    fi
    [ "$arg" = -o ] && next_is_output=yes
    [ "$arg" = -g ] || [ "$arg" = -static-stdlib ] && continue
    set -- "$@" "$arg"
    [ $# = 1 ] && set -- "$@" -L "$STATIC"
done < "$WORK/link-args"
start=$(date +%s)
SWIFTC=$1
printf '%s\n' '// Autolink entries of the static Foundation (Tests/vm/link-debug.sh).' 'import Foundation' > "$WORK/static-deps.swift"
"$SWIFTC" -static-stdlib -parse-as-library -module-name SwiftletStaticDeps -c "$WORK/static-deps.swift" -o "$WORK/static-deps.o" ||
    fatal "cannot compile the static Foundation's autolink object"
# Linked as the release is (scripts/release-libs.sh): lld, RELEASE_LD_OPTIONS.
for option in $RELEASE_LD_OPTIONS; do set -- "$@" -Xlinker "$option"; done
"$@" "$WORK/static-deps.o" -static-stdlib -use-ld=lld >"$WORK/link.log" 2>&1 || { cat "$WORK/link.log" >&2; fatal "the link failed"; }
strip "$OUT/swiftlet.tmp"
mv "$OUT/swiftlet.tmp" "$OUT/swiftlet"
"$CC" -O2 -D_GNU_SOURCE -static -o "$OUT/swiftlet-monitor.tmp" "$REPO/Monitor/monitor.c" 2>"$WORK/monitor.log" ||
    { cat "$WORK/monitor.log" >&2; fatal "cc Monitor/monitor.c failed"; }
strip "$OUT/swiftlet-monitor.tmp"
mv "$OUT/swiftlet-monitor.tmp" "$OUT/swiftlet-monitor"

release_check_binary "$OUT/swiftlet"
echo "link-debug: $OUT/swiftlet $(du -h "$OUT/swiftlet" | cut -f1) in $(( $(date +%s) - start )) s" >&2

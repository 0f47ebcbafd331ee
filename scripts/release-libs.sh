# scripts/release-libs.sh: how the installable binary is linked, sourced by
# scripts/build-release.sh and Tests/vm/link-debug.sh so that the release and the debug build
# the VM test installs link the same libraries and are checked against the same list.
# The caller defines fatal().

# How the binary is linked: by LLVM's lld (the toolchain's ld.lld) with these options, given
# by build-release.sh through a SwiftPM toolset and by Tests/vm/link-debug.sh with -Xlinker.
# They keep pages of the binary that every swiftlet process would map out of its memory
# (measured in docs/benchmarks.md, "Agent memory: how the binary is linked"):
# - --no-export-dynamic: the static Swift runtime's link arguments (static-stdlib-args.lnk)
#   export every symbol, 58,000 of them, whose .dynsym/.gnu.hash/.dynstr the dynamic loader
#   reads at start; nothing resolves a symbol of the executable at run time.
# - -z pack-relative-relocs: the 160,000 relative relocations of the position-independent
#   executable as DT_RELR bitmaps (33 KB) instead of RELA entries (3.8 MB, all read at start).
#   The executable stays position independent (ASLR); glibc 2.36 or later loads it (Debian 12
#   has 2.36; an older loader refuses it naming GLIBC_ABI_DT_RELR).
RELEASE_LD_OPTIONS="--no-export-dynamic -z pack-relative-relocs"

# release_static_libs DIR: links Debian's static archives of the C libraries swiftlet uses
# into DIR, which the link puts first on its library path: the linker takes the first libfoo
# it finds, and DIR holds only the .a files, so -lseccomp etc. link them instead of the .so.
release_static_libs() {
    libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
    mkdir -p "$1"
    for lib in seccomp cap z zstd crypto sqlite3; do
        [ -f "$libdir/lib$lib.a" ] || fatal "$libdir/lib$lib.a missing: apt-get install libseccomp-dev libcap-dev zlib1g-dev libzstd-dev libssl-dev libsqlite3-dev"
        ln -sf "$libdir/lib$lib.a" "$1/lib$lib.a"
    done
}

# release_check_binary BINARY: what the binary still needs from the system, checked rather
# than assumed: glibc, libstdc++, libgcc_s and libnftables with its dependencies (Debian ships
# no libnftables.a); and that RELEASE_LD_OPTIONS reached the linker (a toolset SwiftPM ignored,
# or another linker, would leave the RELA relocations in: no DT_RELR).
release_check_binary() {
    unexpected=$(ldd "$1" | awk '{print $1}' | grep -v -E '^(linux-vdso|/lib64/ld-linux|libc\.so|libm\.so|libstdc\+\+|libgcc_s|libnftables|libmnl|libnftnl|libxtables|libjansson|libgmp)' || true)
    [ -z "$unexpected" ] || fatal "unexpected shared libraries in $1: $unexpected"
    readelf -d "$1" | grep -q '(RELR)' || fatal "$1 has no DT_RELR: it was not linked with RELEASE_LD_OPTIONS"
}

#!/bin/sh
# rootfs-fixtures/build.sh OUTDIR
#
# Builds the small test images swiftlet's tests and demos use, from Debian's busybox-static,
# with nothing but sh, tar, gzip and sha256sum (plus mkdir/cp/ln/mv/rm/wc): no umoci, skopeo
# or docker. Writes:
#
#   OUTDIR/busybox/             OCI image layout, one gzip layer: /bin/busybox, one symlink per
#                               applet in /bin, /etc/passwd (root, nobody, app:1000), /etc/group,
#                               /tmp (1777), /root, /home/app (1000:1000), /var, /proc, /sys, /dev.
#                               Cmd ["sh"]; ref name docker.io/library/busybox:latest
#   OUTDIR/configured/          OCI image layout, docker.io/swiftlet/configured:1.0, two layers:
#                               1 = busybox + /srv/data/old.txt, /srv/gone.txt, /opt/dir/{a,b};
#                               2 = whiteout of /srv/gone.txt, /opt/dir opaque with only c,
#                                   /srv/hello.txt ("hello from layer 2").
#                               Entrypoint ["/bin/echo","entry"], Cmd ["from-cmd"], User 1000:1000,
#                               WorkingDir /srv, Env PATH, FOO=from-image, GREETING=hello.
#   OUTDIR/busybox-docker.tar   `docker save` archive of busybox, RepoTags ["busybox:docker-archive"]
#   OUTDIR/busybox-oci.tar      busybox as an OCI archive (tar of a layout), ref name
#                               docker.io/library/busybox:oci-archive
#
# Idempotent: anything already in OUTDIR is kept (delete it to rebuild). Each output is built
# under a temporary name and renamed, so an interrupted run leaves no half-written image.
# Deterministic for a given busybox binary: fixed mtimes, sorted names, numeric owners, gzip -n.
# Works without root (ownership is set in the tar headers, not on disk).
#
# Environment:
#   BUSYBOX   static busybox to package (default /bin/busybox, from `apt-get install busybox-static`)
set -eu

BUSYBOX=${BUSYBOX:-/bin/busybox}
EPOCH=1704067200                # 2024-01-01T00:00:00Z: mtime of every file and image
CREATED=2024-01-01T00:00:00Z
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

fatal() {
    echo "build.sh: $*" >&2
    exit 1
}

[ $# -eq 1 ] || fatal "usage: build.sh OUTDIR"
[ -x "$BUSYBOX" ] || fatal "$BUSYBOX not found; install it with: apt-get install busybox-static"
for tool in tar gzip sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || fatal "$tool is required"
done

OUT=$1
mkdir -p "$OUT"
WORK="$OUT/.work.$$"
trap 'rm -rf "$WORK"' EXIT INT TERM
mkdir -p "$WORK"

# The OCI architecture name of this machine (busybox runs natively, so the image matches it).
case $(uname -m) in
    x86_64) ARCH=amd64 ;;
    aarch64 | arm64) ARCH=arm64 ;;
    armv7l | armv6l) ARCH=arm ;;
    i386 | i686) ARCH=386 ;;
    ppc64le) ARCH=ppc64le ;;
    s390x) ARCH=s390x ;;
    riscv64) ARCH=riscv64 ;;
    *) fatal "unsupported machine $(uname -m)" ;;
esac

sha() {
    set -- "$(sha256sum "$1")"
    echo "${1%% *}"
}

# tar_dir SRC OUT.tar [tar options]: a layer tar of SRC's content, deterministic, owned by 0:0.
tar_dir() {
    src=$1 out=$2
    shift 2
    tar --format=gnu --sort=name --mtime=@$EPOCH --owner=0 --group=0 --numeric-owner \
        -C "$src" -cf "$out" "$@" .
}

# busybox_rootfs DIR: the busybox root filesystem described above.
busybox_rootfs() {
    root=$1
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home/app" \
        "$root/var" "$root/proc" "$root/sys" "$root/dev"
    cp "$BUSYBOX" "$root/bin/busybox"
    for applet in $("$BUSYBOX" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
        'app:x:1000:1000:app:/home/app:/bin/sh' >"$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'app:x:1000:' >"$root/etc/group"
    chmod 0755 "$root" "$root/bin" "$root/etc" "$root/home" "$root/home/app" "$root/var" \
        "$root/proc" "$root/sys" "$root/dev" "$root/bin/busybox"
    chmod 0644 "$root/etc/passwd" "$root/etc/group"
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
}

# rootfs_layer DIR OUT.tar: DIR as a layer, with /home/app owned by app (1000:1000).
rootfs_layer() {
    tar_dir "$1" "$2" --exclude=./home/app
    tar --format=gnu --mtime=@$EPOCH --owner=1000 --group=1000 --numeric-owner --no-recursion \
        -C "$1" -rf "$2" ./home/app
}

# busybox_layer: $WORK/busybox.tar, built once per run.
busybox_layer() {
    if [ ! -f "$WORK/busybox.tar" ]; then
        busybox_rootfs "$WORK/busybox-root"
        rootfs_layer "$WORK/busybox-root" "$WORK/busybox.tar"
    fi
}

# blob LAYOUT FILE: moves FILE into LAYOUT's blob store; sets BLOB_HEX and BLOB_SIZE.
blob() {
    BLOB_SIZE=$(($(wc -c <"$2")))
    BLOB_HEX=$(sha "$2")
    mv "$2" "$1/blobs/sha256/$BLOB_HEX"
}

# config_json RUNTIME_CONFIG DIFF_ID_HEX...: an OCI image configuration.
config_json() {
    runtime=$1
    shift
    ids= history= sep=
    for id in "$@"; do
        ids="$ids$sep\"sha256:$id\""
        history="$history$sep{\"created\":\"$CREATED\",\"created_by\":\"rootfs-fixtures/build.sh\"}"
        sep=,
    done
    printf '{"architecture":"%s","os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
        "$ARCH" "$CREATED" "$runtime" "$ids" "$history"
}

# oci_layout DEST REF RUNTIME_CONFIG LAYER.tar...: an OCI image layout at DEST (built in
# DEST.tmp, then renamed) with gzip layers, its index naming the image REF.
oci_layout() {
    dest=$1 ref=$2 runtime=$3
    shift 3
    tmp="$dest.tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp/blobs/sha256"
    diff_ids= layers= sep=
    for layer in "$@"; do
        diff_ids="$diff_ids $(sha "$layer")"
        gzip -n -9 -c "$layer" >"$tmp/layer.gz"
        blob "$tmp" "$tmp/layer.gz"
        layers="$layers$sep{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$BLOB_HEX\",\"size\":$BLOB_SIZE}"
        sep=,
    done
    # shellcheck disable=SC2086 # word splitting of the diff ID list is intended
    config_json "$runtime" $diff_ids >"$tmp/config.json"
    blob "$tmp" "$tmp/config.json"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
        "$BLOB_HEX" "$BLOB_SIZE" "$layers" >"$tmp/manifest.json"
    blob "$tmp" "$tmp/manifest.json"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
        "$BLOB_HEX" "$BLOB_SIZE" "$ARCH" "$ref" >"$tmp/index.json"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
    rm -rf "$dest"
    mv "$tmp" "$dest"
}

BUSYBOX_CONFIG="{\"Env\":[\"$PATH_ENV\"],\"Cmd\":[\"sh\"]}"

# --- busybox: OCI layout -------------------------------------------------------------------
if [ ! -f "$OUT/busybox/index.json" ]; then
    busybox_layer
    oci_layout "$WORK/busybox" docker.io/library/busybox:latest "$BUSYBOX_CONFIG" "$WORK/busybox.tar"
    rm -rf "$OUT/busybox"
    mv "$WORK/busybox" "$OUT/busybox"
fi

# --- configured: two layers with a whiteout and an opaque directory ------------------------
if [ ! -f "$OUT/configured/index.json" ]; then
    lower="$WORK/configured-1"
    busybox_rootfs "$lower"
    mkdir -p "$lower/srv/data" "$lower/opt/dir"
    echo old >"$lower/srv/data/old.txt"
    echo gone >"$lower/srv/gone.txt"
    echo a >"$lower/opt/dir/a"
    echo b >"$lower/opt/dir/b"
    chmod 0755 "$lower/srv" "$lower/srv/data" "$lower/opt" "$lower/opt/dir"
    chmod 0644 "$lower/srv/data/old.txt" "$lower/srv/gone.txt" "$lower/opt/dir/a" "$lower/opt/dir/b"
    rootfs_layer "$lower" "$WORK/configured-1.tar"

    upper="$WORK/configured-2"
    mkdir -p "$upper/srv" "$upper/opt/dir"
    : >"$upper/srv/.wh.gone.txt"
    : >"$upper/opt/dir/.wh..wh..opq"
    echo c >"$upper/opt/dir/c"
    echo "hello from layer 2" >"$upper/srv/hello.txt"
    chmod 0755 "$upper" "$upper/srv" "$upper/opt" "$upper/opt/dir"
    chmod 0644 "$upper/srv/.wh.gone.txt" "$upper/opt/dir/.wh..wh..opq" "$upper/opt/dir/c" "$upper/srv/hello.txt"
    tar_dir "$upper" "$WORK/configured-2.tar"

    runtime="{\"User\":\"1000:1000\",\"Env\":[\"$PATH_ENV\",\"FOO=from-image\",\"GREETING=hello\"],\"Entrypoint\":[\"/bin/echo\",\"entry\"],\"Cmd\":[\"from-cmd\"],\"WorkingDir\":\"/srv\"}"
    oci_layout "$WORK/configured" docker.io/swiftlet/configured:1.0 "$runtime" \
        "$WORK/configured-1.tar" "$WORK/configured-2.tar"
    rm -rf "$OUT/configured"
    mv "$WORK/configured" "$OUT/configured"
fi

# --- busybox-docker.tar: `docker save` format ---------------------------------------------
if [ ! -f "$OUT/busybox-docker.tar" ]; then
    busybox_layer
    dir="$WORK/docker"
    layer_id=$(sha "$WORK/busybox.tar")
    mkdir -p "$dir/$layer_id"
    cp "$WORK/busybox.tar" "$dir/$layer_id/layer.tar"
    echo 1.0 >"$dir/$layer_id/VERSION"
    config_json "$BUSYBOX_CONFIG" "$layer_id" >"$dir/config.json"
    config_hex=$(sha "$dir/config.json")
    mv "$dir/config.json" "$dir/$config_hex.json"
    printf '[{"Config":"%s.json","RepoTags":["busybox:docker-archive"],"Layers":["%s/layer.tar"]}]' \
        "$config_hex" "$layer_id" >"$dir/manifest.json"
    printf '{"busybox":{"docker-archive":"%s"}}' "$layer_id" >"$dir/repositories"
    tar --format=gnu --sort=name --mtime=@$EPOCH --owner=0 --group=0 --numeric-owner -C "$dir" \
        -cf "$WORK/busybox-docker.tar" "$config_hex.json" "$layer_id" manifest.json repositories
    mv "$WORK/busybox-docker.tar" "$OUT/busybox-docker.tar"
fi

# --- busybox-oci.tar: an OCI layout in a tar ----------------------------------------------
if [ ! -f "$OUT/busybox-oci.tar" ]; then
    busybox_layer
    oci_layout "$WORK/oci" docker.io/library/busybox:oci-archive "$BUSYBOX_CONFIG" "$WORK/busybox.tar"
    tar --format=gnu --sort=name --mtime=@$EPOCH --owner=0 --group=0 --numeric-owner -C "$WORK/oci" \
        -cf "$WORK/busybox-oci.tar" oci-layout index.json blobs
    mv "$WORK/busybox-oci.tar" "$OUT/busybox-oci.tar"
fi

#!/bin/sh
# Pull time of a multi-layer image from a local registry: `swiftlet images pull` against
# `skopeo copy` to a directory and containerd's `ctr images pull`, the same image from the same
# registry, side by side in interleaved rounds of one run.
#
# The registry is Debian's docker-registry (distribution 2.8) with TLS from a test CA and
# htpasswd authentication, on a host of its own: a network namespace with the registry at
# 10.89.0.1, where the pulls run too (the host's network is not touched). The image is built with
# umoci: LAYERS layers (default 6) of LAYER_MB MiB each (default 10: half random bytes, half
# base64 text, so gzip has work both ways), on top of nothing. Every tool starts from an empty
# store each run (an untimed preparation) and verifies digests:
# - swiftlet: resolve, download (3 layers at once, its default and containerd's), verify, unpack
#   every layer into its layer store (overlayfs lower directories), each blob fsynced and each
#   layer syncfs'd before it is named — what the agent does for a pod; swiftlet-6: the same
#   with 6 layers at once, skopeo's concurrency;
# - skopeo copy docker://… dir:…: resolve, download (up to 6 layers at once), verify, fsync
#   each blob; no unpack;
# - ctr images pull: resolve, download (3 at once), verify, unpack into containerd's overlayfs
#   snapshotter — what kubelet gets from containerd. A fresh containerd (own root, state and
#   socket, CRI plugin off) is started for each run; its start is not timed.
#
# Environment: RUNS (rounds, default 5), WARMUP (untimed rounds, default 1), LAYERS, LAYER_MB, OUT (results dir, default
# bench/results), SWIFTLET_BUILD_ARGS (extra `swift build` arguments, e.g. --scratch-path DIR),
# SWIFTLET (a swiftlet binary to measure instead of building the release one: for trying the
# script out; recorded results use the release build).
# Needs root, docker-registry, skopeo, umoci, containerd, apache2-utils, openssl, python3
# (scripts/debian-packages, scripts/debian-packages-bench); builds a release binary.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
runs="${RUNS:-5}"
warmup="${WARMUP:-1}"
layers="${LAYERS:-6}"
layer_mb="${LAYER_MB:-10}"
out="${OUT:-bench/results}"
build_args="${SWIFTLET_BUILD_ARGS:-}"
ns="swlimg$$"
ip=10.89.0.1
work="$(mktemp -d /tmp/swiftlet-imgbench.XXXXXX)"

cleanup() {
    [ -f "$work/registry.pid" ] && kill "$(cat "$work/registry.pid")" 2>/dev/null || true
    [ -f "$work/containerd.pid" ] && kill "$(cat "$work/containerd.pid")" 2>/dev/null || true
    sleep 0.3
    grep " $work/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM

for tool in docker-registry skopeo umoci containerd ctr htpasswd openssl python3; do
    command -v "$tool" >/dev/null || { echo "image-pull.sh: $tool is missing (apt-get install $(grep -v '^#' scripts/debian-packages-bench | tr '\n' ' '))" >&2; exit 1; }
done

if [ -n "${SWIFTLET:-}" ]; then
    bin="$SWIFTLET"
else
    # shellcheck disable=SC2086
    swift build -c release --product swiftlet $build_args >/dev/null
    # shellcheck disable=SC2086
    bin="$(swift build -c release --show-bin-path $build_args)/swiftlet"
fi
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }

# The registry host: a veth pair inside the namespace, the registry on one end.
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add reg0 type veth peer name reg1
ip -n "$ns" addr add "$ip/24" dev reg0
ip -n "$ns" link set reg0 up
ip -n "$ns" link set reg1 up

cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca-key.pem -out ca.pem -days 2 \
    -subj "/CN=bench CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server-key.pem -out server.csr -subj /CN=registry 2>/dev/null
printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$ip" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
mkdir -p certs && cp ca.pem certs/ca.crt
htpasswd -Bbn bench bench-pw > htpasswd
cat > registry.yml <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: "$ip:5000", tls: {certificate: $work/server.pem, key: $work/server-key.pem}}
auth: {htpasswd: {realm: bench, path: $work/htpasswd}}
EOF
# nsenter execs the registry, so $! is the registry itself (a shell function run in the
# background would be a subshell, and killing it would leave the registry running).
nsenter --net="/run/netns/$ns" docker-registry serve registry.yml > registry.log 2>&1 &
echo $! > registry.pid
i=0
until in_ns curl -s -o /dev/null --cacert ca.pem "https://$ip:5000/v2/"; do
    i=$((i + 1)); [ "$i" -gt 100 ] && { cat registry.log; exit 1; }; sleep 0.1
done

# The image.
umoci init --layout layout >/dev/null
umoci new --image layout:bench >/dev/null
n=1
while [ "$n" -le "$layers" ]; do
    mkdir -p "l$n/data"
    head -c $((layer_mb * 524288)) /dev/urandom > "l$n/data/random-$n"
    head -c $((layer_mb * 393216)) /dev/urandom | base64 > "l$n/data/text-$n"
    tar -C "l$n" -cf "l$n.tar" .
    umoci raw add-layer --image layout:bench "l$n.tar" >/dev/null
    rm -rf "l$n" "l$n.tar"
    n=$((n + 1))
done
ref="$ip:5000/bench/app:v1"
in_ns skopeo copy --quiet --dest-creds bench:bench-pw --dest-cert-dir certs oci:layout:bench "docker://$ref"
compressed=$(du -sb layout/blobs | awk '{print $1}')

cat > registries.yaml <<EOF
configs:
  "$ip:5000":
    auth: {username: bench, password: bench-pw}
    tls: {ca_file: $work/ca.pem}
EOF
cat > containerd.toml <<EOF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
EOF

# One fresh containerd per run (killed and its directories removed before the next).
cat > ctr-prepare.sh <<EOF
#!/bin/sh
[ -f $work/containerd.pid ] && kill \$(cat $work/containerd.pid) 2>/dev/null && sleep 0.5
grep " $work/ctd" /proc/self/mounts | awk '{print \$2}' | sort -r | while read -r m; do umount -l "\$m"; done
rm -rf $work/ctd && mkdir -p $work/ctd
nsenter --net=/run/netns/$ns containerd --config $work/containerd.toml --root $work/ctd/root --state $work/ctd/state --address $work/ctd/sock > $work/ctd.log 2>&1 &
echo \$! > $work/containerd.pid
i=0
until ctr -a $work/ctd/sock version >/dev/null 2>&1; do i=\$((i + 1)); [ \$i -gt 100 ] && exit 1; sleep 0.1; done
EOF
chmod +x ctr-prepare.sh

case "$out" in
/*) ;;
*) out="$OLDPWD/$out" ;;
esac
mkdir -p "$out"
result="$out/image-pull"
{
    echo "# image pull, $(date -u +%Y-%m-%d), $(uname -r), $layers layers x $layer_mb MiB ($compressed bytes compressed)"
    echo "swiftlet $("$bin" --version | head -1); $(skopeo --version); ctr $(ctr --version | awk '{print $3}')"
} | tee "$result.md"
# Interleaved rounds (bench/image_pull.py): the load of a shared machine changes over minutes.
pull="nsenter --net=/run/netns/$ns"
{
    printf 'swiftlet\trm -rf %s/swl\t%s %s images pull -q --data-dir %s/swl --registry-config %s/registries.yaml %s\n' \
        "$work" "$pull" "$bin" "$work" "$work" "$ref"
    printf 'swiftlet-6\trm -rf %s/swl\t%s %s images pull -q --max-concurrent-downloads 6 --data-dir %s/swl --registry-config %s/registries.yaml %s\n' \
        "$work" "$pull" "$bin" "$work" "$work" "$ref"
    printf 'skopeo\trm -rf %s/skopeo\t%s skopeo copy --quiet --src-creds bench:bench-pw --src-cert-dir %s/certs docker://%s dir:%s/skopeo\n' \
        "$work" "$pull" "$work" "$ref" "$work"
    printf 'ctr\t%s/ctr-prepare.sh\t%s ctr -a %s/ctd/sock images pull --user bench:bench-pw --tlscacert %s/ca.pem %s >/dev/null\n' \
        "$work" "$pull" "$work" "$work" "$ref"
} > commands.tsv
python3 "$OLDPWD/bench/image_pull.py" commands.tsv "$runs" "$warmup" "$result.json"
python3 "$OLDPWD/bench/report.py" "$result.json" | tee -a "$result.md"

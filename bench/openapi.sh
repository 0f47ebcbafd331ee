#!/bin/sh
# OpenAPI documents: size of /openapi/v2 (JSON and protobuf) and of the v3 index and
# documents, the time of the first request of each (building the document) and of later ones
# (the kept bytes), and the server's RSS before and after the documents are built. No peer
# runs here (no kube-apiserver is installable): the numbers stand alone.
#
# Environment: ROUNDS (repeated requests per document, default 50), OUT (bench/results),
# BIN (a directory holding swiftlet; default: a release build made here), SKIP_BUILD.
# Listens on 127.0.0.1 only; removes its data directory and stops the server it started.
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
rounds="${ROUNDS:-50}"
out="${OUT:-bench/results}"
mkdir -p "$out"
${SKIP_BUILD:+:} swift build -c release --product swiftlet >/dev/null
bin="${BIN:-$(swift build -c release --show-bin-path)}"
work="$(mktemp -d /tmp/swiftlet-openapibench.XXXXXX)"
server_pid=""
cleanup() {
    set +e
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
    true
}
trap cleanup EXIT
# An interrupt or kill ends the script through its EXIT trap (dash runs no EXIT trap for a
# signal it dies of, and a signal trap that only cleans up would let the script go on).
trap 'exit 1' INT TERM
"$bin/swiftlet" server --data-dir "$work/server" --http-listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 100); do
    url="$(sed -n 's/^swiftlet server listening on \(http:[^ ]*\)$/\1/p' "$work/server.log" 2>/dev/null || true)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log"; echo "swiftlet server did not start" >&2; exit 1; }
until curl -sf "$url/readyz" >/dev/null; do sleep 0.1; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
protobuf="application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
{
    echo "swiftlet $("$bin/swiftlet" --version 2>/dev/null || echo '?') OpenAPI documents, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "RSS before any document: $(( $(rss) / 1024 )) MiB"
    # name, path, Accept
    for spec in "v2-json|/openapi/v2|application/json" "v2-protobuf|/openapi/v2|$protobuf" \
        "v3-index|/openapi/v3|application/json" "v3-api-v1|/openapi/v3/api/v1|application/json" \
        "v3-apps-v1|/openapi/v3/apis/apps/v1|application/json"; do
        name="${spec%%|*}" rest="${spec#*|}"
        path="${rest%%|*}" accept="${rest#*|}"
        first="$(curl -s -o "$work/$name" -w '%{time_total}' -H "Accept: $accept" "$url$path")"
        size="$(wc -c <"$work/$name")"
        : >"$work/times"
        for _ in $(seq "$rounds"); do
            curl -s -o /dev/null -w '%{time_total}\n' -H "Accept: $accept" "$url$path" >>"$work/times"
        done
        sort -n "$work/times" | awk -v name="$name" -v size="$size" -v first="$first" '
            { t[NR] = $1 }
            END { printf "%-12s %8d bytes  first %6.1f ms  then p50 %5.1f ms  p90 %5.1f ms (%d requests)\n",
                  name, size, first * 1000, t[int(NR * 0.5) + 1] * 1000, t[int(NR * 0.9) + 1] * 1000, NR }'
    done
    echo "RSS after every document: $(( $(rss) / 1024 )) MiB"
} | tee "$out/openapi.txt"

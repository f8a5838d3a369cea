#!/usr/bin/env bash
# Instructions per request, which the machine's load does not move: the server runs under
# valgrind's callgrind; one keep-alive client sends WARMUP requests, the counters are zeroed,
# it sends REQUESTS more, and the instructions counted since (every thread of the server,
# the log writer's included) are divided by REQUESTS.
#
# usage: bench/instructions.sh PATH COMMAND...   (COMMAND serves on 127.0.0.1:18400)
#   e.g. bench/instructions.sh / target/release/example-site serve --bind 127.0.0.1:18400
#        RUST_LOG=warn bench/instructions.sh / target/release/example-site serve --bind ...
# env:   REQUESTS=2000 WARMUP=200 HEADERS="Accept-Encoding: gzip" (one header, optional)
#        OUT (a folder to keep the callgrind dump in, for callgrind_annotate)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
path=$1; shift
requests=${REQUESTS:-2000}
warmup=${WARMUP:-200}
out=${OUT:-$(mktemp -d)}; mkdir -p "$out"
source bench/lib.sh
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$@" >"$out/server.log" 2>"$out/valgrind.log" &
vg=$!
trap 'kill -INT $vg 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/18400) 2>/dev/null && break; sleep 0.2; done
client() {
    python3 - "$path" "$1" "${HEADERS:-}" <<'EOF'
import http.client, sys
path, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3]
headers = dict([tuple(h.strip() for h in extra.split(":", 1))]) if extra else {}
c = http.client.HTTPConnection("127.0.0.1", 18400)
for _ in range(n):
    c.request("GET", path, headers=headers)
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
EOF
}
client "$warmup"
callgrind_control -z "$vg" >/dev/null 2>&1
client "$requests"
callgrind_control -d "$vg" >/dev/null 2>&1
kill -INT "$vg" 2>/dev/null || true
wait "$vg" 2>/dev/null || true
trap - EXIT
# The dump taken after the zeroing: the file with the highest part number.
dump=$(ls -1v "$out"/callgrind.out* | grep -v '\.out$' | tail -1 || true)
[ -n "$dump" ] || dump="$out/callgrind.out"
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
echo "path=$path requests=$requests instructions/request=$(( total / requests )) dump=$dump"

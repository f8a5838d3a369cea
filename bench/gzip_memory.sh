#!/usr/bin/env bash
# GZip streaming memory: starts the example site with GZipMiddleware alone
# (bench/gzip_settings.toml), records its idle resident memory (VmRSS), downloads a streamed
# response (/stream-big/?mb=MB, 64 KiB chunks) with `Accept-Encoding: gzip` while sampling
# VmRSS every 100 ms, checks the download decompresses to exactly MB MiB, and prints
# peak - idle. The requirement: under 50 MB above idle for MB=100. Exits 1 if the download is
# wrong or the limit is exceeded.
#
# usage: bench/gzip_memory.sh   env: MB=100 LIMIT_MB=50 PORT=18095
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${MB:-100}
limit_mb=${LIMIT_MB:-50}
port=${PORT:-18095}
settings=${SETTINGS:-bench/gzip_settings.toml}
cargo build -q --release -p example-site --bin example-site
site=target/release/example-site
source bench/lib.sh
bench_start
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

RUST_LOG=warn "$site" serve --bind 127.0.0.1:$port --settings "$settings" >/dev/null 2>&1 &
server=$!
pids+=($server)
wait_port $port
# Warm up (runtime threads, first-request allocations) on a small stream, then settle.
curl -sf -H 'Accept-Encoding: gzip' -o /dev/null "http://127.0.0.1:$port/stream-big/?mb=1"
sleep 0.5
idle=$(rss_kb $server)

curl -sf -H 'Accept-Encoding: gzip' -D "$work/headers" -o "$work/body.gz" "http://127.0.0.1:$port/stream-big/?mb=$mb" &
client=$!
pids+=($client)
peak=$idle
while kill -0 $client 2>/dev/null; do
    now=$(rss_kb $server)
    [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.1
done
wait $client
unset 'pids[-1]'

grep -qi '^content-encoding: gzip' "$work/headers" || { echo "the stream was not gzipped" >&2; exit 1; }
expected=$(( mb * 1024 * 1024 ))
got=$(gzip -dc < "$work/body.gz" | wc -c)
[ "$got" -eq "$expected" ] || { echo "decompressed $got bytes, expected $expected" >&2; exit 1; }
delta_kb=$(( peak - idle ))
echo "stream=${mb}MiB gzip=$(stat -c %s "$work/body.gz")B decompressed=${got}B idle=${idle}kB peak=${peak}kB peak-idle=${delta_kb}kB ($(( delta_kb / 1024 )) MiB) limit=${limit_mb}MiB"
[ "$delta_kb" -lt $(( limit_mb * 1024 )) ] || { echo "over the limit" >&2; exit 1; }

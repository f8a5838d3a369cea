#!/usr/bin/env bash
# GZip throughput: the example site with GZipMiddleware alone (bench/gzip_settings.toml)
# against a plain hyper server that gzips the same body per request with the same flate2
# settings (example-site/examples/inline_hyper.rs --gzip: zlib-rs, level 6), in one run, both
# pinned to core 0 and wrk to core 1, every request sending `Accept-Encoding: gzip`.
# The two servers are measured alternately, ROUNDS times each, so a change in the machine's
# background load hits both alike. Prints the mean requests/second of each and their ratio
# (the requirement: ratio >= 0.90 on /big/), and the servers' CPU time per request (user +
# system, from /proc/PID/stat) with its ratio: on a shared machine the request rates swing
# with other load by tens of percent, the CPU cost per request much less.
#
# usage: bench/gzip.sh [PATH ...]   (default paths: /big/)
# env: DURATION=5s (per round) ROUNDS=3 CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-32}
settings=${SETTINGS:-bench/gzip_settings.toml}
paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/big/)
cargo build -q --release -p example-site --bin example-site --example inline_hyper
site=target/release/example-site
inline=target/release/examples/inline_hyper
site_port=${SITE_PORT:-18090}; inline_port=${INLINE_PORT:-18091}
source bench/lib.sh
bench_start

RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind 127.0.0.1:$site_port --settings "$settings" >/dev/null 2>&1 &
site_pid=$!
pids+=($site_pid)
wait_port $site_port
for path in "${paths[@]}"; do
    # The uncompressed body, and the headers of the compressed answer minus what hyper writes
    # itself and Content-Encoding (the reference adds that when it compresses).
    curl -sf -o "$work/body" "http://127.0.0.1:$site_port$path"
    mapfile -t hdrs < <(curl -sf -H 'Accept-Encoding: gzip' -D - -o "$work/gz" "http://127.0.0.1:$site_port$path" \
        | tr -d '\r' | sed 1d | grep -v -i -E '^(date|content-length|content-encoding|transfer-encoding|connection):' | grep -v '^$')
    # Both servers must really compress: the site's answer decompresses to the plain body.
    gzip -dc < "$work/gz" | cmp -s - "$work/body" || { echo "path=$path: the site's gzip answer does not decompress to its body" >&2; exit 1; }
    taskset -c $server_cpu "$inline" 127.0.0.1:$inline_port --gzip "--body-file=$work/body" "${hdrs[@]}" &
    pids+=($!)
    wait_port $inline_port
    curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$inline_port$path" | gzip -dc | cmp -s - "$work/body" \
        || { echo "path=$path: the reference's gzip answer does not decompress to the body" >&2; exit 1; }
    site_all=(); inline_all=(); site_req=0; inline_req=0; site_cpu=0; inline_cpu=0
    for _ in $(seq 1 "$rounds"); do
        read -r r n c < <(measure "$site_pid" "http://127.0.0.1:$site_port$path" -H 'Accept-Encoding: gzip')
        site_all+=("$r"); site_req=$(( site_req + n )); site_cpu=$(( site_cpu + c ))
        read -r r n c < <(measure "${pids[-1]}" "http://127.0.0.1:$inline_port$path" -H 'Accept-Encoding: gzip')
        inline_all+=("$r"); inline_req=$(( inline_req + n )); inline_cpu=$(( inline_cpu + c ))
    done
    site_rps=$(mean "${site_all[@]}"); inline_rps=$(mean "${inline_all[@]}")
    site_us=$(us_per_request "$site_cpu" "$site_req")
    inline_us=$(us_per_request "$inline_cpu" "$inline_req")
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
    ratio=$(python3 -c "print(f'{$site_rps / $inline_rps:.3f}')")
    echo "path=$path rounds: example-site ${site_all[*]} / inline ${inline_all[*]}"
    echo "path=$path body=$(stat -c %s "$work/body")B gzip=$(stat -c %s "$work/gz")B example-site+GZip=${site_rps} req/s inline-hyper+flate2=${inline_rps} req/s ratio=${ratio}"
    echo "path=$path cpu/request: example-site+GZip=${site_us} us inline-hyper+flate2=${inline_us} us ratio(inline/site)=$(python3 -c "print(f'{$inline_us / $site_us:.3f}')")"
done

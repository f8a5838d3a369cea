#!/usr/bin/env bash
# Loopback load benchmark: the example site (its default middleware stack) against a plain
# hyper server that writes the same headers inline, in one run, with the server and wrk pinned
# to different cores. Prints requests/second for each and their ratio.
#
# usage: bench/load.sh [PATH ...]   (default paths: /)   env: DURATION=10s CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-10s}
conns=${CONNECTIONS:-32}
paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/)
cargo build -q --release -p example-site --bin example-site --example inline_hyper
site=target/release/example-site
inline=target/release/examples/inline_hyper
cores=$(nproc)
server_cpu=0; client_cpu=$(( cores > 1 ? 1 : 0 ))
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
rps() { wrk -t1 -c"$conns" -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }

RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind 127.0.0.1:18080 ${SETTINGS:+--settings "$SETTINGS"} >/dev/null 2>&1 &
pids+=($!)
wait_port 18080
for path in "${paths[@]}"; do
    # The same headers and body as the site's answer, minus what hyper writes itself.
    mapfile -t hdrs < <(curl -s -D - -o /tmp/load_body "http://127.0.0.1:18080$path" \
        | tr -d '\r' | sed 1d | grep -v -i -E '^(date|content-length|transfer-encoding|connection):' | grep -v '^$')
    taskset -c $server_cpu "$inline" 127.0.0.1:18081 "--body=$(cat /tmp/load_body)" "${hdrs[@]}" &
    pids+=($!)
    wait_port 18081
    site_rps=$(taskset -c $client_cpu bash -c "$(declare -f rps); conns=$conns duration=$duration rps http://127.0.0.1:18080$path")
    inline_rps=$(taskset -c $client_cpu bash -c "$(declare -f rps); conns=$conns duration=$duration rps http://127.0.0.1:18081$path")
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
    ratio=$(python3 -c "print(f'{$site_rps / $inline_rps:.3f}')")
    echo "path=$path headers=${#hdrs[@]} example-site=${site_rps} req/s inline-hyper=${inline_rps} req/s ratio=${ratio}"
done

#!/usr/bin/env bash
# Loopback load benchmark: the example site against a plain hyper server that writes the same
# body and headers inline, in one run, with the servers on core 0 and wrk on core 1. Two
# stacks: `seed` (bench/seed-stack.toml: the four seed middleware) and `default`
# (example-site/settings.toml: Django's default stack, GZip, ConditionalGet and the seed).
# Prints requests/second for each and their ratio.
#
# usage: bench/load.sh [PATH ...]   (default: /)
# env:   DURATION=10s CONNECTIONS=32 STACKS="seed default"
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
duration=${DURATION:-10s}
conns=${CONNECTIONS:-32}
stacks=${STACKS:-seed default}
paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/)
cargo build -q --release -p example-site --bin example-site --example inline_hyper
site=target/release/example-site
inline=target/release/examples/inline_hyper
cores=$(nproc)
server_cpu=0; client_cpu=$(( cores > 1 ? 1 : 0 ))
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
rps() { taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }
stop_last() { kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

for stack in $stacks; do
    case $stack in
        seed) settings=bench/seed-stack.toml ;;
        default) settings=example-site/settings.toml ;;
        *) echo "unknown stack $stack" >&2; exit 2 ;;
    esac
    RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind 127.0.0.1:18080 --settings "$settings" >/dev/null 2>&1 &
    pids+=($!)
    wait_port 18080
    for path in "${paths[@]}"; do
        # The same body and headers as the site's answer, minus what hyper writes itself.
        mapfile -t hdrs < <(curl -s -D - -o "$work/body" "http://127.0.0.1:18080$path" \
            | tr -d '\r' | sed 1d | grep -v -i -E '^(date|content-length|transfer-encoding|connection):' | grep -v '^$')
        taskset -c $server_cpu "$inline" 127.0.0.1:18081 "--body-file=$work/body" "${hdrs[@]}" &
        pids+=($!)
        wait_port 18081
        site_rps=$(rps "http://127.0.0.1:18080$path")
        inline_rps=$(rps "http://127.0.0.1:18081$path")
        stop_last
        ratio=$(python3 -c "print(f'{$site_rps / $inline_rps:.3f}')")
        echo "stack=$stack path=$path headers=${#hdrs[@]} example-site=${site_rps} req/s inline-hyper=${inline_rps} req/s ratio=${ratio}"
    done
    stop_last
done

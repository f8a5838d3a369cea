#!/usr/bin/env bash
# Loopback load benchmark: the example site against a plain hyper server
# (example-site/examples/inline_hyper.rs) that writes the same body and headers inline, in one
# run, both servers pinned to core 0 and wrk to core 1. Two stacks: `seed`
# (bench/seed-stack.toml: the four seed middleware) and `default` (example-site/settings.toml:
# Django's default stack, GZip, ConditionalGet and the seed). The servers are measured
# alternately, ROUNDS times each, so a change in the machine's background load hits both alike;
# prints the mean requests/second of each with their ratio and the median of the per-round
# ratios (each site round paired with the inline round right after it), and the servers' CPU
# time per request (user + system, /proc/PID/stat) with its ratio (inline / site).
#
# usage: bench/load.sh [PATH ...]   (default: /)
# env:   DURATION=5s (per round) ROUNDS=3 CONNECTIONS=32 STACKS="seed default"
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-32}
stacks=${STACKS:-seed default}
paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/)
cargo build -q --release -p example-site --bin example-site --example inline_hyper
site=target/release/example-site
inline=target/release/examples/inline_hyper
source bench/lib.sh
bench_start

for stack in $stacks; do
    case $stack in
        seed) settings=bench/seed-stack.toml ;;
        default) settings=example-site/settings.toml ;;
        *) echo "unknown stack $stack" >&2; exit 2 ;;
    esac
    RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind 127.0.0.1:18080 --settings "$settings" >/dev/null 2>&1 &
    site_pid=$!
    pids+=($site_pid)
    wait_port 18080
    for path in "${paths[@]}"; do
        # The same body and headers as the site's answer, minus what hyper writes itself, and
        # the same framing: chunked when the site's answer has no Content-Length (the seed
        # stack has no CommonMiddleware to set it, as in Django).
        curl -s -D "$work/head" -o "$work/body" "http://127.0.0.1:18080$path"
        mapfile -t hdrs < <(tr -d '\r' <"$work/head" | sed 1d \
            | grep -v -i -E '^(date|content-length|transfer-encoding|connection):' | grep -v '^$')
        framing=()
        grep -q -i '^transfer-encoding: chunked' "$work/head" && framing=(--chunked)
        taskset -c $server_cpu "$inline" 127.0.0.1:18081 "--body-file=$work/body" "${framing[@]}" "${hdrs[@]}" &
        pids+=($!)
        wait_port 18081
        site_all=(); inline_all=(); site_req=0; inline_req=0; site_cpu=0; inline_cpu=0
        for _ in $(seq 1 "$rounds"); do
            read -r r n c < <(measure "$site_pid" "http://127.0.0.1:18080$path")
            site_all+=("$r"); site_req=$(( site_req + n )); site_cpu=$(( site_cpu + c ))
            read -r r n c < <(measure "${pids[-1]}" "http://127.0.0.1:18081$path")
            inline_all+=("$r"); inline_req=$(( inline_req + n )); inline_cpu=$(( inline_cpu + c ))
        done
        stop_last
        site_rps=$(mean "${site_all[@]}"); inline_rps=$(mean "${inline_all[@]}")
        site_us=$(us_per_request "$site_cpu" "$site_req"); inline_us=$(us_per_request "$inline_cpu" "$inline_req")
        # Each site round is followed by an inline round: the median of those pairs' ratios is
        # the least moved by a burst of the machine's other load.
        paired=$(python3 -c "import statistics, sys; s, i = sys.argv[1].split(), sys.argv[2].split(); print(f'{statistics.median(float(a) / float(b) for a, b in zip(s, i)):.3f}')" "${site_all[*]}" "${inline_all[*]}")
        echo "stack=$stack path=$path headers=${#hdrs[@]} ${framing[*]:-} example-site=${site_rps} req/s inline-hyper=${inline_rps} req/s ratio=$(python3 -c "print(f'{$site_rps / $inline_rps:.3f}')") paired-median=${paired}" \
            "cpu/request: example-site=${site_us} us inline-hyper=${inline_us} us ratio(inline/site)=$(python3 -c "print(f'{$inline_us / $site_us:.3f}')")"
    done
    stop_last
done

#!/usr/bin/env bash
# Two builds of the site against each other: Django's default stack (example-site/settings.toml),
# log off, on `/`, measured alternately ROUNDS times (both servers on core 0, wrk on core 1), so
# a change in the machine's load hits both alike. Prints each round's rates, CPU time per
# request and the ratio B / A; the median of those ratios is the figure to report.
#
# usage: bench/ab.sh SITE_BIN_A SITE_BIN_B [PATH]
# env:   DURATION=3s ROUNDS=5 CONNECTIONS=64
set -euo pipefail
cd "$(dirname "$0")/.."
a_bin=$1; b_bin=$2; path=${3:-/}
conns=${CONNECTIONS:-64}; duration=${DURATION:-3s}
source bench/lib.sh
bench_start
RUST_LOG=warn taskset -c "$server_cpu" "$a_bin" serve --bind 127.0.0.1:18191 >/dev/null 2>&1 &
a=$!; pids+=($a)
RUST_LOG=warn taskset -c "$server_cpu" "$b_bin" serve --bind 127.0.0.1:18192 >/dev/null 2>&1 &
b=$!; pids+=($b)
wait_port 18191; wait_port 18192
ratios=()
for round in $(seq 1 "${ROUNDS:-5}"); do
    read -r rate_a n_a ticks_a < <(measure "$a" "http://127.0.0.1:18191$path")
    read -r rate_b n_b ticks_b < <(measure "$b" "http://127.0.0.1:18192$path")
    ratio=$(python3 -c "print(f'{$rate_b / $rate_a:.3f}')")
    ratios+=("$ratio")
    echo "round $round: A $rate_a req/s ($(us_per_request "$ticks_a" "$n_a") us CPU)  B $rate_b req/s ($(us_per_request "$ticks_b" "$n_b") us CPU)  B/A $ratio"
done
python3 -c "import statistics, sys; print(f'median B/A by rate: {statistics.median(float(x) for x in sys.argv[1:]):.3f}')" "${ratios[@]}"

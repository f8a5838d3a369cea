#!/usr/bin/env bash
# The seed's async promise: a middleware that awaits an external call on every request.
# `bench.UpstreamMiddleware` (example-site/examples/bench_site.rs) sits innermost in Django's
# default stack (example-site/settings.toml) and GETs a loopback upstream that answers after
# DELAY_MS (inline_hyper --delay-ms: a timer, no CPU), through a pooled keep-alive hyper
# client, before the view runs. Each connection count is measured two ways:
#
# * closed loop (wrk --latency): every connection sends its next request as soon as the last
#   is answered, so the rate climbs until a core is full; past that, by Little's law, the mean
#   latency is connections / rate whatever the server does (printed as `little=`), so latency
#   there measures the machine, not a serialisation. The row prints both cores' busy share
#   (from /proc/stat: at 100 % the CPU is the limit) and the site's CPU time per request;
# * open loop (h2load --h1 --rps, with OPEN=1, the default): the same connections, each
#   sending RATE / connections requests a second (RATE default 6000, below the CPU limit of
#   this 2-core machine), so the latency percentiles (from h2load's per-request log) show
#   whether anything queues requests while the CPU has room.
#
# The settings raise SERVER_MAX_CONNECTIONS above the largest count (its default, 1024, keeps
# the rest of 2 000 connections in the listen backlog, unanswered). With DJANGO=1 the reference
# Django site (uvicorn, one worker) runs the same middleware as an async Django middleware
# (bench/django_upstream.py); with AXUM=1 the axum peer (bench/axum-peer, UPSTREAM set) does
# it as a `from_fn` layer with the same hyper-util client.
#
# `inline` rows: inline_hyper --delay-ms on core 0, a server that only waits (no stack, no
# client), measured first at each count: what the load generator and the machine add alone.
#
# The servers are pinned to core 0; the load generator and the upstream share core 1.
#
# usage: bench/async.sh [CONNECTIONS ...]   (default: 10 100 1000 2000 5000)
# env:   DURATION=5 (seconds) DELAY_MS=20 RATE=6000 OPEN=1 DJANGO=0 AXUM=0
#        NO_BUILD (set: use the binaries as built)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-5}; duration=${duration%s}
delay=${DELAY_MS:-20}
rate=${RATE:-6000}
levels=("$@"); [ ${#levels[@]} -gt 0 ] || levels=(10 100 1000 2000 5000)
# The load generator, the site and the upstream each hold one descriptor per connection.
ulimit -n "$(ulimit -Hn)"
if [ -z "${NO_BUILD:-}" ]; then
    cargo build -q --release -p example-site --example bench_site --example inline_hyper
    [ "${AXUM:-0}" != 1 ] || cargo build -q --release --manifest-path bench/axum-peer/Cargo.toml
fi
site=target/release/examples/bench_site
inline=target/release/examples/inline_hyper
source bench/lib.sh
bench_start

sed 's/^    "example_site.middleware.StatusHeaderMiddleware",$/&\n    "bench.UpstreamMiddleware",/' \
    example-site/settings.toml >"$work/settings.toml"
grep -q bench.UpstreamMiddleware "$work/settings.toml"
echo 'SERVER_MAX_CONNECTIONS = 20000' >>"$work/settings.toml"
taskset -c $client_cpu "$inline" 127.0.0.1:18290 --body=ok "--delay-ms=$delay" &
pids+=($!)
UPSTREAM=127.0.0.1:18290 taskset -c $server_cpu "$site" 127.0.0.1:18280 "$work/settings.toml" >/dev/null 2>&1 &
site_pid=$!; pids+=($site_pid)
wait_port 18290; wait_port 18280
check() { # NAME PORT: the answer carries the upstream's status
    curl -sf -D - -o /dev/null "http://127.0.0.1:$2/" | tr -d '\r' | grep -q -i '^x-upstream: 200' \
        || { echo "$1's answer has no X-Upstream: 200" >&2; exit 1; }
}
check site 18280
servers=("site:18280:$site_pid")
# The reference: a server on the site's core that only waits DELAY_MS (no stack, no client),
# so its rows show what the load generator and the machine add on their own.
taskset -c $server_cpu "$inline" 127.0.0.1:18291 --body=ok "--delay-ms=$delay" &
ref_pid=$!; pids+=($ref_pid)
wait_port 18291
servers=("inline:18291:$ref_pid" "${servers[@]}")
if [ "${AXUM:-0}" = 1 ]; then
    head -c 100 /dev/zero >"$work/big"
    UPSTREAM=127.0.0.1:18290 taskset -c $server_cpu bench/axum-peer/target/release/axum-peer 127.0.0.1:18282 "$work/big" &
    axum_pid=$!; pids+=($axum_pid)
    wait_port 18282; check axum 18282
    servers+=("axum:18282:$axum_pid")
fi
if [ "${DJANGO:-0}" = 1 ]; then
    venv=${DJANGO_VENV:-/tmp/django-conformance-venv}
    bash ../shared/conformance/django/setup.sh >/dev/null
    cp bench/django_upstream.py "$work/"
    UPSTREAM=127.0.0.1:18290 DJANGO_SETTINGS_MODULE=django_upstream PYTHONPATH="$work" \
        taskset -c $server_cpu "$venv/bin/python" -m uvicorn asgi:application \
        --app-dir ../shared/conformance/django/site --host 127.0.0.1 --port 18281 --workers 1 \
        --no-server-header --no-date-header --log-level warning --lifespan off --backlog 8192 >"$work/django.log" 2>&1 &
    django_pid=$!; pids+=($django_pid)
    wait_port 18281
    check django 18281
    servers+=("django:18281:$django_pid")
fi

cpu_line() { grep "^cpu$1 " /proc/stat; }
busy() { # two /proc/stat cpuN lines: the share of the time between them the core was busy
    python3 -c "
a = list(map(int, '$1'.split()[1:])); b = list(map(int, '$2'.split()[1:]))
d = [y - x for x, y in zip(a, b)]
print(f'{100 * (sum(d) - d[3] - d[4]) / max(sum(d), 1):.0f}%')"
}
# `percentiles FILE`: p50 and p99 (ms) of h2load's per-request log (third column: µs).
percentiles() {
    python3 -c "
import sys
v = sorted(int(l.split()[2]) for l in open('$1') if l.strip())
q = lambda p: v[min(len(v) - 1, int(p * len(v)))] / 1000
print(f'{q(0.5):.1f}ms {q(0.99):.1f}ms {len(v)}')"
}

for c in "${levels[@]}"; do
    for s in "${servers[@]}"; do
        IFS=: read -r name port pid <<<"$s"
        a0=$(cpu_line 0); a1=$(cpu_line 1); before=$(cpu_ticks "$pid")
        out=$(taskset -c "$client_cpu" wrk -t1 -c"$c" -d"${duration}s" --timeout 10s --latency "http://127.0.0.1:$port/")
        after=$(cpu_ticks "$pid"); b0=$(cpu_line 0); b1=$(cpu_line 1)
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        n=$(awk '/requests in/ {print $1}' <<<"$out")
        p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        errors=$(grep -o 'Socket errors:.*' <<<"$out" || echo 'Socket errors: none')
        little=$(python3 -c "print(f'{$c / max($rps, 0.001) * 1000:.0f}ms')")
        echo "server=$name connections=$c closed: rate=$rps req/s (connections/${delay}ms = $(( c * 1000 / delay ))) p50=$p50 p99=$p99 little=$little core0=$(busy "$a0" "$b0") core1=$(busy "$a1" "$b1") cpu/request=$(us_per_request $(( after - before )) "$n") us $errors"
        if [ "${OPEN:-1}" = 1 ] && [ "$name" != django ]; then
            per=$(python3 -c "print(f'{$rate / $c:.3f}')")
            rm -f "$work/h2.log"
            a0=$(cpu_line 0); before=$(cpu_ticks "$pid")
            out=$(taskset -c "$client_cpu" h2load --h1 -t1 -c"$c" --rps="$per" -D "$duration" --log-file="$work/h2.log" "http://127.0.0.1:$port/" 2>&1)
            after=$(cpu_ticks "$pid"); b0=$(cpu_line 0)
            read -r o50 o99 on < <(percentiles "$work/h2.log")
            ok=$(awk '/^requests:/ {print $8, "succeeded,", $10, "failed"}' <<<"$out")
            echo "server=$name connections=$c open: offered=$rate req/s answered=$(( on / duration )) req/s p50=$o50 p99=$o99 core0=$(busy "$a0" "$b0") cpu/request=$(us_per_request $(( after - before )) "$on") us ($ok)"
        fi
    done
done

#!/usr/bin/env bash
# The seed's async promise: a middleware that awaits an external call on every request.
# `bench.UpstreamMiddleware` (example-site/examples/bench_site.rs) sits innermost in Django's
# default stack (example-site/settings.toml) and GETs a loopback upstream that answers after
# DELAY_MS (inline_hyper --delay-ms: a timer, no CPU), through a pooled keep-alive hyper
# client, before the view runs. wrk (--latency) drives `/` with a growing number of
# connections; each row prints the request rate, p50/p99 latency, wrk's socket errors, the
# site's CPU time per request, and what the rate would be if every connection waited only for
# the upstream (connections / delay). With DJANGO=1 the reference Django site (uvicorn, one
# worker) is measured at the same points with the same middleware as an async Django
# middleware (asyncio streams, a keep-alive connection pool): bench/django_upstream.py.
#
# The site is pinned to core 0; wrk and the upstream share core 1.
#
# usage: bench/async.sh [CONNECTIONS ...]   (default: 10 100 1000 2000 5000)
# env:   DURATION=10s DELAY_MS=20 DJANGO=0 NO_BUILD (set: use the binaries as built)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-10s}
delay=${DELAY_MS:-20}
levels=("$@"); [ ${#levels[@]} -gt 0 ] || levels=(10 100 1000 2000 5000)
# wrk, the site and the upstream each hold one descriptor per connection, the site two.
ulimit -n "$(ulimit -Hn)"
[ -n "${NO_BUILD:-}" ] || cargo build -q --release -p example-site --example bench_site --example inline_hyper
site=target/release/examples/bench_site
inline=target/release/examples/inline_hyper
cores=$(nproc)
server_cpu=0; client_cpu=$(( cores > 1 ? 1 : 0 ))
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
source bench/lib.sh

sed 's/^    "example_site.middleware.StatusHeaderMiddleware",$/&\n    "bench.UpstreamMiddleware",/' \
    example-site/settings.toml >"$work/settings.toml"
grep -q bench.UpstreamMiddleware "$work/settings.toml"
taskset -c $client_cpu "$inline" 127.0.0.1:18290 --body=ok "--delay-ms=$delay" &
pids+=($!)
UPSTREAM=127.0.0.1:18290 taskset -c $server_cpu "$site" 127.0.0.1:18280 "$work/settings.toml" >/dev/null 2>&1 &
site_pid=$!; pids+=($site_pid)
wait_port 18290; wait_port 18280
curl -sf -D - -o /dev/null http://127.0.0.1:18280/ | tr -d '\r' | grep -q -i '^x-upstream: 200' \
    || { echo "the site's answer has no X-Upstream: 200" >&2; exit 1; }
servers=("site:18280:$site_pid")
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
    curl -sf -D - -o /dev/null http://127.0.0.1:18281/ | tr -d '\r' | grep -q -i '^x-upstream: 200' \
        || { echo "Django's answer has no X-Upstream: 200" >&2; cat "$work/django.log" >&2; exit 1; }
    servers+=("django:18281:$django_pid")
fi

for c in "${levels[@]}"; do
    for s in "${servers[@]}"; do
        IFS=: read -r name port pid <<<"$s"
        before=$(cpu_ticks "$pid")
        out=$(taskset -c "$client_cpu" wrk -t1 -c"$c" -d"$duration" --timeout 10s --latency "http://127.0.0.1:$port/")
        after=$(cpu_ticks "$pid")
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        n=$(awk '/requests in/ {print $1}' <<<"$out")
        p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        errors=$(grep -o 'Socket errors:.*' <<<"$out" || echo 'Socket errors: none')
        non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
        echo "server=$name connections=$c rate=$rps req/s (connections/${delay}ms = $(( c * 1000 / delay ))) p50=$p50 p99=$p99 cpu/request=$(us_per_request $(( after - before )) "$n") us non-2xx=${non2xx:-0} $errors"
    done
done

#!/usr/bin/env bash
# Site cache load benchmark: pages (`/cached/`, `/big/`) served by the example site three ways, in one run, with
# the server on core 0 and wrk on core 1:
#   uncached  example-site/settings.toml (no cache middleware: the view runs every time)
#   locmem    example-site/settings-cache.toml (UpdateCache first, FetchFromCache last, LocMemCache)
#   redis     the same stack with CACHES.default = RedisCache on a throwaway redis-server
# Prints requests/second per row and each row's ratio to the uncached row (ratios are what to
# compare on a shared machine; absolute numbers move with the load of other processes).
#
# usage: bench/site-cache.sh [PATH ...]   (default: /cached/ /big/)
# env:   DURATION=8s CONNECTIONS=32
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || { echo "SKIP: the redis row needs redis-server" >&2; }
paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/cached/ /big/)
duration=${DURATION:-8s}
conns=${CONNECTIONS:-32}
cargo build -q --release -p example-site --bin example-site
site=target/release/example-site
source bench/lib.sh
bench_start

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rps() { taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }

rows=(uncached:example-site/settings.toml locmem:example-site/settings-cache.toml)
if command -v redis-server >/dev/null; then
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
    pids+=($!)
    wait_port "$redis_port"
    # settings-cache.toml with the cache moved to Redis.
    sed '/^\[CACHES.default\]/,$d' example-site/settings-cache.toml > "$work/settings-redis.toml"
    printf '[CACHES.default]\nBACKEND = "django.core.cache.backends.redis.RedisCache"\nLOCATION = "redis://127.0.0.1:%s/0"\n' \
        "$redis_port" >> "$work/settings-redis.toml"
    rows+=("redis:$work/settings-redis.toml")
fi

declare -A base_rps
for row in "${rows[@]}"; do
    name=${row%%:*}; settings=${row#*:}
    port=$(free_port)
    RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind "127.0.0.1:$port" --settings "$settings" >/dev/null 2>&1 &
    pids+=($!)
    wait_port "$port"
    for path in "${paths[@]}"; do
        url="http://127.0.0.1:$port$path"
        # Two requests first: the first fills the cache, the second must come from it (Age).
        curl -s -o /dev/null "$url"
        if [ "$name" != uncached ] && ! curl -s -D - -o /dev/null "$url" | grep -qi '^age:'; then
            echo "row $name: $path was not served from the cache" >&2; exit 1
        fi
        r=$(rps "$url")
        base=${base_rps[$path]:-$r}; base_rps[$path]=$base
        ratio=$(python3 -c "print(f'{$r / $base:.2f}')")
        echo "row=$name path=$path rps=$r ratio_to_uncached=$ratio"
    done
    stop_last
done

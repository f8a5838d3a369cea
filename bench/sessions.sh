#!/usr/bin/env bash
# Session engines, in one run: Django's default stack (example-site/settings.toml) serving a
# session-reading view (`/session/get/?k=k`, with the cookie of a session that holds k) with
#
#   signed    SESSION_ENGINE = signed_cookies (the session is in the cookie)
#   sqlite    db on SQLite (the site's default; a file beside the settings, migrated at start),
#             with Django's default CONN_MAX_AGE = 0: a new connection for each request
#   sqlite600 the same with CONN_MAX_AGE = 600 (persistent connections, as the PostgreSQL rows)
#   pg        db on PostgreSQL (a throwaway cluster: initdb in a temp dir, as the tests do)
#   cached    cached_db on Redis (a throwaway redis-server) + the same PostgreSQL
#
# and, with DJANGO=1 (default), the same view of the Django reference site
# (../shared/conformance/django/site) on uvicorn with `db` sessions on the same PostgreSQL
# server (its own database, migrated by Django's `migrate`). Every server answers
# `k=v` first. The servers run on core 0, wrk (CONNECTIONS, default 64), PostgreSQL and Redis
# on core 1; the servers are measured in turn, ROUNDS times, and the script prints each mean
# rate, its paired median ratio to `signed` (and ours on PostgreSQL to Django's), and the CPU
# time per request of the server (PostgreSQL's and Redis's own work is not in it; for
# `cached`, Redis's CPU time per request is printed beside it).
#
# usage: bench/sessions.sh
# env:   DURATION=5s ROUNDS=3 CONNECTIONS=64 DJANGO=1 NO_BUILD (set: use the binary as built)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || { echo "SKIP: redis-server is not installed" >&2; exit 0; }
pgbin=/usr/lib/postgresql/15/bin
[ -x $pgbin/initdb ] || { echo "SKIP: PostgreSQL 15 is not installed" >&2; exit 0; }
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-64}
[ -n "${NO_BUILD:-}" ] || cargo build -q --release -p example-site --bin example-site
site=target/release/example-site
source bench/lib.sh
bench_start
chmod 755 "$work"
pgdir="$work/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    [ -d "$pgdir/data" ] && as_pg "$pgbin/pg_ctl -D $pgdir/data -m immediate -w stop" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
paired() { python3 -c "import statistics, sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(f'{statistics.median(float(x) / float(y) for x, y in zip(a, b)):.3f}')" "$1" "$2"; }

# PostgreSQL (fsync off: the view only reads) and Redis, on the load generator's core.
pg_port=18500; redis_port=18501
mkdir -p "$pgdir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdir"
as_pg "$pgbin/initdb -A trust -U postgres -E UTF8 --no-sync -D $pgdir/data" >/dev/null
as_pg "taskset -c $client_cpu $pgbin/pg_ctl -D $pgdir/data -l $pgdir/log -w -t 20 \
    -o '-p $pg_port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start" >/dev/null
for db in rust django; do as_pg "$pgbin/createdb -h 127.0.0.1 -p $pg_port -U postgres $db"; done
taskset -c $client_cpu redis-server --port $redis_port --save '' --appendonly no --daemonize no >/dev/null &
pids+=($!); redis_pid=$!
wait_port $redis_port

# One settings file per engine, from the site's own.
pg="DATABASES = { default = { ENGINE = \"django.db.backends.postgresql\", NAME = \"rust\", USER = \"postgres\", HOST = \"127.0.0.1\", PORT = $pg_port, CONN_MAX_AGE = 600 } }"
variant() { # NAME ENGINE [DATABASES line] [extra line]
    # SQLite: a file per server (each migrates its own at start).
    local db=${3:-"DATABASES = { default = { ENGINE = \"django.db.backends.sqlite3\", NAME = \"$1.sqlite3\" } }"}
    sed -e "s|^SESSION_ENGINE = .*|SESSION_ENGINE = \"django.contrib.sessions.backends.$2\"|" \
        -e "s|^DATABASES = .*|$db|" "${SITE_SETTINGS:-example-site/settings.toml}" >"$work/$1.toml"
    [ -z "${4:-}" ] || echo "$4" >>"$work/$1.toml"
    grep -q "backends.$2\"" "$work/$1.toml"
}
variant signed signed_cookies
variant sqlite db
variant sqlite600 db "DATABASES = { default = { ENGINE = \"django.db.backends.sqlite3\", NAME = \"sqlite600.sqlite3\", CONN_MAX_AGE = 600 } }"
variant pg db "$pg"
variant cached cached_db "$pg" "CACHES = { default = { BACKEND = \"django.core.cache.backends.redis.RedisCache\", LOCATION = \"redis://127.0.0.1:$redis_port\" } }"
RUST_LOG=warn "$site" migrate --settings "$work/pg.toml" >/dev/null

names=(); ports=(); spids=(); cookies=()
port=18510
for name in signed sqlite sqlite600 pg cached; do
    RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind 127.0.0.1:$port --settings "$work/$name.toml" >"$work/$name.log" 2>&1 &
    pids+=($!); spids+=($!); names+=($name); ports+=($port)
    port=$(( port + 1 ))
done
if [ "${DJANGO:-1}" = 1 ]; then
    venv=${DJANGO_VENV:-/tmp/django-conformance-venv}
    bash ../shared/conformance/django/setup.sh >/dev/null
    "$venv/bin/python" -c 'import psycopg' 2>/dev/null || "$venv/bin/pip" install -q "psycopg[binary]"
    cat >"$work/django_sessions.py" <<EOF
from settings import *  # noqa: F401,F403 -- the reference site's settings, then db sessions
SESSION_ENGINE = "django.contrib.sessions.backends.db"
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "django", "USER": "postgres",
                         "HOST": "127.0.0.1", "PORT": $pg_port, "CONN_MAX_AGE": 600}}
EOF
    dj_env=(env DJANGO_SETTINGS_MODULE=django_sessions "PYTHONPATH=$work:$PWD/../shared/conformance/django/site")
    "${dj_env[@]}" "$venv/bin/python" -m django migrate -v 0
    "${dj_env[@]}" taskset -c $server_cpu "$venv/bin/python" -m uvicorn asgi:application \
        --app-dir ../shared/conformance/django/site --host 127.0.0.1 --port $port --workers 1 \
        --no-server-header --no-date-header --log-level warning --lifespan off >"$work/django.log" 2>&1 &
    pids+=($!); spids+=($!); names+=(django); ports+=($port)
fi
for i in "${!names[@]}"; do
    wait_port "${ports[$i]}" || { echo "${names[$i]} did not start:" >&2; cat "$work/${names[$i]}.log" >&2; exit 1; }
    url="http://127.0.0.1:${ports[$i]}"
    cookie=$(curl -sf -D - -o /dev/null "$url/session/set/?k=v" | tr -d '\r' \
        | sed -n 's/^[Ss]et-[Cc]ookie: \(sessionid=[^;]*\).*/\1/p')
    [ -n "$cookie" ] || { echo "${names[$i]}: no session cookie" >&2; cat "$work/${names[$i]}.log" >&2 || true; exit 1; }
    got=$(curl -sf -H "Cookie: $cookie" "$url/session/get/?k=k")
    [ "$got" = "k=v" ] || { echo "${names[$i]}: /session/get/ said '$got'" >&2; exit 1; }
    cookies+=("$cookie")
done

declare -A rates=() req=() cpu=()
redis_ticks=0
for n in "${names[@]}"; do rates[$n]=; req[$n]=0; cpu[$n]=0; done
for _ in $(seq 1 "$rounds"); do
    for i in "${!names[@]}"; do
        n=${names[$i]}
        before=$(cpu_ticks "$redis_pid")
        read -r r c t < <(measure "${spids[$i]}" "http://127.0.0.1:${ports[$i]}/session/get/?k=k" -H "Cookie: ${cookies[$i]}")
        [ "$n" != cached ] || redis_ticks=$(( redis_ticks + $(cpu_ticks "$redis_pid") - before ))
        rates[$n]+=" $r"; req[$n]=$(( ${req[$n]} + c )); cpu[$n]=$(( ${cpu[$n]} + t ))
    done
done
for n in "${names[@]}"; do
    # shellcheck disable=SC2086
    line="engine=$n rate=$(mean ${rates[$n]}) req/s cpu/request=$(us_per_request "${cpu[$n]}" "${req[$n]}") us vs-signed=$(paired "${rates[$n]}" "${rates[signed]}")"
    [ -z "${rates[django]:-}" ] || [ "$n" = django ] || line+=" vs-django=$(paired "${rates[$n]}" "${rates[django]}")"
    [ "$n" != cached ] || line+=" redis-cpu/request=$(us_per_request "$redis_ticks" "${req[$n]}") us"
    echo "$line"; echo "rounds: ${rates[$n]}" >&2
done

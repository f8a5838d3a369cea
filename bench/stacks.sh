#!/usr/bin/env bash
# The full stacks as first-class rows: the example site with Django's default stack
# (`default`: example-site/settings.toml) and with the conformance stack (`conformance`:
# ../shared/conformance/settings.toml), each with the request log on (as `example-site serve`
# starts: RUST_LOG unset, lines to a file) and off (RUST_LOG=warn), against the inline
# reference (example-site/examples/inline_hyper.rs) answering the same bytes. On `/big/` every
# request sends `Accept-Encoding: gzip` and the reference does the work the stack must do:
# gzip at level 6 with a reused deflater (`--gzip`); on every path it hashes the body for
# ConditionalGetMiddleware's MD5 ETag per request (`--etag`), so the ratio measures our
# overhead, not Django's policy.
#
# All servers are pinned to core 0 and wrk to core 1; the servers of one stack and path are
# measured in turn, ROUNDS times (log on, log off, inline, log on, ...), so a change in the
# machine's background load hits them alike. Prints, per stack and path, each server's mean
# req/s, the paired medians of the per-round ratios (log on / inline, log off / inline,
# log on / log off) and CPU time per request (user + system, /proc/PID/stat).
# With DJANGO=1 the reference Django site (../shared/conformance/django, uvicorn, one worker)
# is measured in the same rounds of the conformance stack (its settings are that stack's).
# With AXUM=1 the axum 0.8 + tower-http peer (bench/axum-peer: the same headers, gzip, ETag,
# signed session cookie and CSRF check) is measured in the same rounds of the default stack;
# the differences of its headers from the site's are printed (framing: it streams gzip chunked).
#
# usage: bench/stacks.sh [PATH ...]   (default: / /big/)
# env:   DURATION=5s ROUNDS=3 CONNECTIONS=64 STACKS="default conformance" DJANGO=0
#        SITE_BIN (default target/release/example-site: another build to measure)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-64}
stacks=${STACKS:-default conformance}
paths=("$@"); [ ${#paths[@]} -gt 0 ] || paths=(/ /big/)
[ -n "${SITE_BIN:-}" ] || cargo build -q --release -p example-site --bin example-site --example inline_hyper
site=${SITE_BIN:-target/release/example-site}
if [ "${AXUM:-0}" = 1 ]; then
    cargo build -q --release --manifest-path bench/axum-peer/Cargo.toml
fi
inline=target/release/examples/inline_hyper
source bench/lib.sh
bench_start
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
# `paired A B`: the median of the per-round ratios of two space-separated lists of rates.
paired() { python3 -c "import statistics, sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(f'{statistics.median(float(x) / float(y) for x, y in zip(a, b)):.3f}')" "$1" "$2"; }

for stack in $stacks; do
    case $stack in
        default) settings=example-site/settings.toml ;;
        conformance) settings=../shared/conformance/settings.toml ;;
        *) echo "unknown stack $stack" >&2; exit 2 ;;
    esac
    # Log on: the default filter (info), written to a file as a deployment would (a terminal
    # or journald pipe costs the same write per batch). Log off: warnings only.
    taskset -c $server_cpu "$site" serve --bind 127.0.0.1:18180 --settings "$settings" >"$work/log-on" 2>&1 &
    on_pid=$!; pids+=($on_pid)
    RUST_LOG=warn taskset -c $server_cpu "$site" serve --bind 127.0.0.1:18181 --settings "$settings" >/dev/null 2>&1 &
    off_pid=$!; pids+=($off_pid)
    django_pid=
    if [ "${DJANGO:-0}" = 1 ] && [ "$stack" = conformance ]; then
        taskset -c $server_cpu bash ../shared/conformance/django/serve.sh 18183 >/dev/null 2>&1 &
        django_pid=$!; pids+=($django_pid)
        wait_port 18183
    fi
    wait_port 18180; wait_port 18181
    for path in "${paths[@]}"; do
        gz=(); ref=(--etag)
        if [ "$path" = /big/ ]; then gz=(-H 'Accept-Encoding: gzip'); ref=(--gzip --etag); fi
        # The reference answers the site's headers minus what hyper writes itself and what
        # it computes per request (Content-Encoding, ETag), and the same framing.
        curl -sf "${gz[@]}" -D "$work/head" -o "$work/raw" "http://127.0.0.1:18181$path"
        curl -sf -o "$work/body" "http://127.0.0.1:18181$path"
        mapfile -t hdrs < <(tr -d '\r' <"$work/head" | sed 1d \
            | grep -v -i -E '^(date|content-length|transfer-encoding|connection|content-encoding|etag):' | grep -v '^$')
        framing=()
        grep -q -i '^transfer-encoding: chunked' "$work/head" && framing=(--chunked)
        taskset -c $server_cpu "$inline" 127.0.0.1:18182 "--body-file=$work/body" "${ref[@]}" "${framing[@]}" "${hdrs[@]}" &
        inline_pid=$!; pids+=($inline_pid)
        wait_port 18182
        # Both answer the same: the same headers (but Date and the length of a gzip answer,
        # whose padding is random), the same ETag, the same decoded body.
        curl -sf "${gz[@]}" -D "$work/ihead" -o "$work/iraw" "http://127.0.0.1:18182$path"
        norm() { tr -d '\r' <"$1" | grep -v -i -E '^(date|content-length):' | sort; }
        if ! diff <(norm "$work/head") <(norm "$work/ihead") >"$work/diff"; then
            echo "stack=$stack path=$path: the reference's headers differ from the site's:" >&2; cat "$work/diff" >&2; exit 1
        fi
        decode() { if [ ${#gz[@]} -gt 0 ]; then gzip -dc <"$1"; else cat "$1"; fi; }
        cmp -s <(decode "$work/raw") <(decode "$work/iraw") || { echo "stack=$stack path=$path: bodies differ" >&2; exit 1; }
        names=(on off inline); ports=(18180 18181 18182); spids=($on_pid $off_pid $inline_pid)
        if [ -n "$django_pid" ]; then
            names+=(django); ports+=(18183)
            # serve.sh execs uvicorn: the script's PID is the server's.
            spids+=($django_pid)
        fi
        if [ "${AXUM:-0}" = 1 ] && [ "$stack" = default ]; then
            curl -sf -o "$work/big" "http://127.0.0.1:18181/big/"
            taskset -c $server_cpu bench/axum-peer/target/release/axum-peer 127.0.0.1:18184 "$work/big" &
            axum_pid=$!; pids+=($axum_pid)
            wait_port 18184
            curl -sf "${gz[@]}" -D "$work/ahead" -o "$work/araw" "http://127.0.0.1:18184$path"
            cmp -s <(decode "$work/raw") <(decode "$work/araw") || { echo "stack=$stack path=$path: the axum peer's body differs" >&2; exit 1; }
            anorm() { norm "$1" | grep -v -i -E '^transfer-encoding:' | tr 'A-Z' 'a-z'; }
            echo "  axum peer's headers against the site's (< site, > axum): $(diff <(anorm "$work/head") <(anorm "$work/ahead") | grep '^[<>]' | tr '\n' ' ')"
            names+=(axum); ports+=(18184); spids+=($axum_pid)
        fi
        declare -A all=() req=() cpu=()
        for n in "${names[@]}"; do all[$n]=; req[$n]=0; cpu[$n]=0; done
        for _ in $(seq 1 "$rounds"); do
            for i in "${!names[@]}"; do
                n=${names[$i]}
                read -r r c t < <(measure "${spids[$i]}" "http://127.0.0.1:${ports[$i]}$path" "${gz[@]}")
                all[$n]+=" $r"; req[$n]=$(( ${req[$n]} + c )); cpu[$n]=$(( ${cpu[$n]} + t ))
            done
        done
        for n in "${!names[@]}"; do
            case ${names[$n]} in inline|axum) kill "${spids[$n]}"; wait "${spids[$n]}" 2>/dev/null || true ;; esac
        done
        line="stack=$stack path=$path headers=${#hdrs[@]} ${framing[*]:-}${ref[*]:-}"
        for n in "${names[@]}"; do
            # shellcheck disable=SC2086
            line+=" $n=$(mean ${all[$n]}) req/s ($(us_per_request "${cpu[$n]}" "${req[$n]}") us CPU)"
        done
        line+=" | paired medians: on/inline=$(paired "${all[on]}" "${all[inline]}") off/inline=$(paired "${all[off]}" "${all[inline]}") on/off=$(paired "${all[on]}" "${all[off]}")"
        [ -n "$django_pid" ] && line+=" off/django=$(paired "${all[off]}" "${all[django]}")"
        [ -n "${all[axum]:-}" ] && line+=" off/axum=$(paired "${all[off]}" "${all[axum]}")"
        line+=" | CPU ratio inline/off=$(ratio "$(us_per_request "${cpu[inline]}" "${req[inline]}")" "$(us_per_request "${cpu[off]}" "${req[off]}")")"
        echo "$line"
        echo "  log lines written by the log-on server so far: $(wc -l <"$work/log-on")"
    done
    for p in $on_pid $off_pid $django_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    pids=()
done

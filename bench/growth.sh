#!/usr/bin/env bash
# Cost growth, in one run:
# 1. request rate on `/` against the number of middleware: chains of 0, 10, 25 and 50
#    header-setting middleware (`bench.HeaderMiddlewareN` of example-site/examples/
#    bench_site.rs, each its own header) and nothing else, measured in turn ROUNDS times;
#    prints each chain's mean rate, CPU per request, the paired median of its rate against
#    the 0-middleware chain, and the CPU cost per added middleware (slope of CPU/request);
# 2. memory per idle keep-alive connection: IDLE (default 10 000) connections each send one
#    request to `/`, read the answer and stay open; (VmRSS after - VmRSS before) / IDLE, for
#    the site with Django's default stack (example-site/settings.toml) and for the inline
#    reference (example-site/examples/inline_hyper.rs) the same way. The kernel's socket
#    buffers are not in VmRSS: the figure is the server's own memory per connection. The
#    site's settings raise SERVER_MAX_CONNECTIONS above IDLE (at its default, 1024, the server
#    closes the connection idle the longest for each new one);
# 3. HTTP/2 (h2load, cleartext with prior knowledge, CONNECTIONS connections of H2_STREAMS
#    concurrent streams each) on `/` against the site with Django's default stack (log off)
#    and the inline reference answering the same headers and body with the same ETag,
#    alternately ROUNDS times: mean rates, paired median ratio, CPU per request.
#
# usage: bench/growth.sh
# env:   DURATION=5s ROUNDS=3 CONNECTIONS=64 COUNTS="0 10 25 50" IDLE=10000 H2_STREAMS=10
#        PARTS="rate memory h2" (the parts to run)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}
conns=${CONNECTIONS:-64}
read -r -a counts <<<"${COUNTS:-0 10 25 50}"
idle=${IDLE:-10000}
ulimit -n "$(ulimit -Hn)"  # each process holds IDLE descriptors (and the hard limit here is 20 000)
[ -n "${NO_BUILD:-}" ] || cargo build -q --release -p example-site --bin example-site --example bench_site --example inline_hyper
bench_site=target/release/examples/bench_site
source bench/lib.sh
bench_start

parts=${PARTS:-rate memory h2}
# 1. rate against the number of middleware
if [[ " $parts " == *" rate "* ]]; then
ports=(); spids=()
for i in "${!counts[@]}"; do
    n=${counts[$i]}
    {
        echo 'DEBUG = false'
        echo 'SECRET_KEY = "x-bench-0123456789012345678901234567890123456789012345"'
        echo 'ALLOWED_HOSTS = ["127.0.0.1"]'
        echo 'MIDDLEWARE = ['
        for (( k = 0; k < n; k++ )); do echo "    \"bench.HeaderMiddleware$k\","; done
        echo ']'
    } >"$work/n$n.toml"
    port=$(( 18300 + i ))
    taskset -c $server_cpu "$bench_site" 127.0.0.1:$port "$work/n$n.toml" >/dev/null 2>&1 &
    pids+=($!); spids+=($!); ports+=($port)
done
for i in "${!counts[@]}"; do
    wait_port "${ports[$i]}"
    got=$(curl -sf -D - -o /dev/null "http://127.0.0.1:${ports[$i]}/" | grep -c -i '^x-bench-' || true)
    [ "$got" = "${counts[$i]}" ] || { echo "chain of ${counts[$i]}: $got x-bench headers" >&2; exit 1; }
done
declare -A all=() req=() cpu=()
for n in "${counts[@]}"; do all[$n]=; req[$n]=0; cpu[$n]=0; done
for _ in $(seq 1 "$rounds"); do
    for i in "${!counts[@]}"; do
        n=${counts[$i]}
        read -r r c t < <(measure "${spids[$i]}" "http://127.0.0.1:${ports[$i]}/")
        all[$n]+=" $r"; req[$n]=$(( ${req[$n]} + c )); cpu[$n]=$(( ${cpu[$n]} + t ))
    done
done
us=()
for n in "${counts[@]}"; do
    u=$(us_per_request "${cpu[$n]}" "${req[$n]}"); us+=("$n:$u")
    # shellcheck disable=SC2086
    echo "middleware=$n rate=$(mean ${all[$n]}) req/s cpu/request=$u us paired-median-vs-0=$(python3 -c "import statistics, sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(f'{statistics.median(float(x) / float(y) for x, y in zip(a, b)):.3f}')" "${all[$n]}" "${all[${counts[0]}]}")"
done
python3 - "${us[@]}" <<'EOF'
import sys
pts = [tuple(map(float, a.split(":"))) for a in sys.argv[1:]]
n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
print(f"CPU per added middleware (least-squares slope): {slope * 1000:.0f} ns")
EOF
for p in "${spids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
fi
# Django's default stack, with room for IDLE connections.
cp "${SITE_SETTINGS:-example-site/settings.toml}" "$work/site.toml"
echo "SERVER_MAX_CONNECTIONS = $(( idle + 1000 ))" >>"$work/site.toml"

# 2. memory per idle keep-alive connection
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
idle_conns() {
    # Opens $2 connections to port $1, one request each, answers read; holds them until stdin
    # closes. Prints "ready" when all are open.
    python3 - "$1" "$2" <<'EOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"the server closed connection {len(socks) + 1}")
        got += chunk
    head, _, rest = got.partition(b"\r\n\r\n")
    length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), None)
    if length is not None:
        while len(rest) < length:
            rest += s.recv(65536)
    elif b"chunked" in head.lower():
        while not rest.endswith(b"0\r\n\r\n"):
            rest += s.recv(65536)
    socks.append(s)
print("ready", flush=True)
time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 3)
EOF
}
mem_row() {
    local name=$1 port=$2 pid=$3 before after
    wait_port "$port"
    # Warm up: the allocator's arenas and the runtime's threads exist before the baseline.
    taskset -c "$client_cpu" wrk -t1 -c64 -d2s "http://127.0.0.1:$port/" >/dev/null
    sleep 1
    before=$(rss_kb "$pid")
    idle_conns "$port" "$idle" > "$work/ready" &
    local client=$!
    for _ in $(seq 1 600); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    after=$(rss_kb "$pid")
    wait "$client" || true
    echo "server=$name idle-connections=$idle rss-before=${before} KB rss-after=${after} KB per-connection=$(python3 -c "print(f'{($after - $before) * 1024 / $idle:.0f}')") bytes"
}
if [[ " $parts " == *" memory "* ]]; then
    RUST_LOG=warn taskset -c $server_cpu target/release/example-site serve --bind 127.0.0.1:18310 --settings "$work/site.toml" >/dev/null 2>&1 &
    pids+=($!)
    mem_row example-site-default-stack 18310 $!
    curl -sf -o "$work/body" http://127.0.0.1:18310/
    taskset -c $server_cpu target/release/examples/inline_hyper 127.0.0.1:18311 "--body-file=$work/body" &
    pids+=($!)
    mem_row inline-hyper 18311 $!
fi

# 3. HTTP/2
if [[ " $parts " == *" h2 "* ]]; then
    command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
    RUST_LOG=warn taskset -c $server_cpu target/release/example-site serve --bind 127.0.0.1:18320 --settings "$work/site.toml" >/dev/null 2>&1 &
    h2_site=$!; pids+=($h2_site)
    wait_port 18320
    curl -sf -D "$work/head" -o "$work/body" http://127.0.0.1:18320/
    mapfile -t hdrs < <(tr -d '\r' <"$work/head" | sed 1d \
        | grep -v -i -E '^(date|content-length|transfer-encoding|connection|etag):' | grep -v '^$')
    taskset -c $server_cpu target/release/examples/inline_hyper 127.0.0.1:18321 "--body-file=$work/body" --etag "${hdrs[@]}" &
    h2_inline=$!; pids+=($h2_inline)
    wait_port 18321
    for port in 18320 18321; do
        curl -sf --http2-prior-knowledge -o /dev/null -w '%{http_version}' "http://127.0.0.1:$port/" | grep -q '^2' \
            || { echo "port $port does not answer HTTP/2 with prior knowledge" >&2; exit 1; }
    done
    h2() { # PID PORT: "REQ_PER_S REQUESTS CPU_TICKS" of one h2load run
        local before after out
        before=$(cpu_ticks "$1")
        out=$(taskset -c "$client_cpu" h2load -t1 -c"$conns" -m"${H2_STREAMS:-10}" -D "${duration%s}" "http://127.0.0.1:$2/" 2>&1)
        after=$(cpu_ticks "$1")
        grep -q ' 0 failed' <<<"$out" || { echo "h2load: failures" >&2; echo "$out" >&2; exit 1; }
        echo "$(awk '/^finished in/ {print $4}' <<<"$out") $(awk '/^requests:/ {print $8}' <<<"$out") $(( after - before ))"
    }
    srates=; irates=; sreq=0; ireq=0; scpu=0; icpu=0
    for _ in $(seq 1 "$rounds"); do
        read -r r c t < <(h2 $h2_site 18320); srates+=" $r"; sreq=$(( sreq + c )); scpu=$(( scpu + t ))
        read -r r c t < <(h2 $h2_inline 18321); irates+=" $r"; ireq=$(( ireq + c )); icpu=$(( icpu + t ))
    done
    # shellcheck disable=SC2086
    echo "h2 connections=$conns streams=${H2_STREAMS:-10} site=$(mean $srates) req/s inline=$(mean $irates) req/s paired-median=$(python3 -c "import statistics, sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(f'{statistics.median(float(x) / float(y) for x, y in zip(a, b)):.3f}')" "$srates" "$irates") cpu/request site=$(us_per_request $scpu $sreq) us inline=$(us_per_request $icpu $ireq) us"
fi

# Shared by the loopback benchmarks (sourced). Expects $client_cpu, $conns and $duration.

# `bench_start`: what every loopback benchmark sets up first: the server's core and the load
# generator's (`server_cpu`, `client_cpu`: different ones when there are two), a work folder
# (`work`) and the processes started (`pids`), which an exit trap kills and removes. A script
# with more to clean up (sessions.sh) sets its own trap after it; one that only sources this
# file for its functions (soak.sh, instructions.sh) does not call it.
bench_start() {
    local cores
    cores=$(nproc)
    server_cpu=0; client_cpu=$(( cores > 1 ? 1 : 0 ))
    work=$(mktemp -d)
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
}

# `stop_last`: stops the last process started (the end of `pids`) and forgets it.
stop_last() { kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# `measure PID URL [WRK ARGS...]`: "REQ_PER_S REQUESTS CPU_TICKS" of one wrk run against the
# server PID.
measure() {
    local pid=$1 url=$2 before after out
    shift 2
    before=$(cpu_ticks "$pid")
    out=$(taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"$duration" "$@" "$url")
    after=$(cpu_ticks "$pid")
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '/requests in/ {print $1}' <<<"$out") $(( after - before ))"
}

mean() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:]]; print(f'{sum(v)/len(v):.1f}')" "$@"; }

# `us_per_request TICKS REQUESTS`: CPU microseconds per request.
us_per_request() { python3 -c "print(f'{$1 / $(getconf CLK_TCK) * 1e6 / $2:.2f}')"; }

#!/usr/bin/env bash
# Runs the HTTP scenarios recorded against real Django 6.1.3 against the example site, one set
# after the other:
#   ../shared/conformance   (74 scenarios, the core stack)       with --urlconf site
#   ../shared/conformance2  (32 scenarios: auth, LoginRequired,  with --urlconf conformance2
#                            CORS, locale, CSP, cache_page)
# The site runs with each set's settings.toml as it is: a MIDDLEWARE entry or setting the site
# does not know makes it refuse to start, and the run fails. A scenario that fails and is not
# listed in tests/conformance/known_failures.txt fails this script.
#
# usage: scripts/conformance.sh [--set conformance|conformance2] [--only PATTERN]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="${SHARED_DIR:-$root/../shared}"

sets=(conformance conformance2)
if [ "${1:-}" = --set ]; then
    sets=("$2")
    shift 2
fi

cargo build -q -p example-site
bin="${CARGO_TARGET_DIR:-$root/target}/debug/example-site"
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
known="$root/tests/conformance/known_failures.txt"

# run_set NAME URLCONF [runner args...]: serves the site for the set, runs its scenarios, and
# prints the set's closing line; returns 1 on a failure not listed in known_failures.txt.
run_set() {
    local name=$1 urlconf=$2
    shift 2
    local conf="$shared/$name"
    [ -d "$conf" ] || { echo "$name: $conf not found" >&2; return 1; }
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    RUST_LOG=warn "$bin" --urlconf "$urlconf" serve --bind "127.0.0.1:$port" \
        --settings "$conf/settings.toml" > "$work/$name-server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "$name: the example site did not start with $conf/settings.toml:"
        cat "$work/$name-server.log"
        return 1
    fi

    set +e
    python3 "$conf/run_scenarios.py" --base-url "http://127.0.0.1:$port" \
        --scenarios "$conf/scenarios" --compare "$conf/golden/django.json" "$@" \
        > "$work/$name-result.txt" 2>&1
    set -e
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    grep -E '^(PASS|FAIL) ' "$work/$name-result.txt" | sort > "$work/$name-status.txt" || true
    tail -n 1 "$work/$name-result.txt"

    local unexpected=0 status id
    while read -r status id; do
        if [ "$status" = FAIL ] && ! grep -qE "^$id( |$)" "$known" 2>/dev/null; then
            echo "$name: unexpected failure: $id"
            unexpected=1
        fi
    done < "$work/$name-status.txt"
    if [ "$unexpected" = 1 ]; then
        echo "--- details ---"
        cat "$work/$name-result.txt"
        echo "--- server log (last 50 lines) ---"
        tail -n 50 "$work/$name-server.log"
        return 1
    fi
    # The closing line CI reads: the scenarios that pass against the recorded Django answers.
    echo "$name: $(grep -c '^PASS' "$work/$name-status.txt") passed, $(grep -c '^FAIL' "$work/$name-status.txt") failed (all failures are listed in tests/conformance/known_failures.txt)"
}

failed=0
for set in "${sets[@]}"; do
    case $set in
        conformance) urlconf=site ;;
        conformance2) urlconf=conformance2 ;;
        *) echo "unknown set $set (conformance or conformance2)" >&2; exit 2 ;;
    esac
    run_set "$set" "$urlconf" "$@" || failed=1
done
exit "$failed"

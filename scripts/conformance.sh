#!/usr/bin/env bash
# Runs ../shared/conformance (HTTP scenarios recorded against real Django 6.1.3) against the
# example site. The site runs with the conformance settings file; entries of its MIDDLEWARE
# that are not ported yet are left out (and listed). A scenario that fails and is not listed in
# tests/conformance/known_failures.txt fails this script.
#
# usage: scripts/conformance.sh [--only PATTERN]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="${SHARED_DIR:-$root/../shared}"
conf="$shared/conformance"
[ -d "$conf" ] || { echo "conformance: $conf not found" >&2; exit 1; }

cargo build -q -p example-site
bin="${CARGO_TARGET_DIR:-$root/target}/debug/example-site"
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" middleware --registered > "$work/registered.txt"
python3 - "$conf/settings.toml" "$work/registered.txt" "$work/settings.toml" <<'PY'
import re, sys, tomllib
src, registered, out = sys.argv[1:]
names = set(open(registered).read().split())
text = open(src).read()
mw = tomllib.loads(text)["MIDDLEWARE"]
missing = [m for m in mw if m not in names]
kept = [m for m in mw if m in names]
for m in missing:
    print(f"conformance: not ported yet, left out: {m}")
body = re.sub(r"MIDDLEWARE = \[.*?\]", "MIDDLEWARE = [\n" + "".join(f'    "{m}",\n' for m in kept) + "]", text, flags=re.S)
open(out, "w").write(body)
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --settings "$work/settings.toml" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
done

set +e
python3 "$conf/run_scenarios.py" --base-url "http://127.0.0.1:$port" \
    --compare "$conf/golden/django.json" "$@" > "$work/result.txt" 2>&1
set -e
grep -E '^(PASS|FAIL) ' "$work/result.txt" | sort > "$work/status.txt" || true
tail -n 1 "$work/result.txt"

known="$root/tests/conformance/known_failures.txt"
unexpected=0
while read -r status id; do
    if [ "$status" = FAIL ] && ! grep -qE "^$id( |$)" "$known" 2>/dev/null; then
        echo "conformance: unexpected failure: $id"
        unexpected=1
    fi
done < "$work/status.txt"
if [ "$unexpected" = 1 ]; then
    echo "--- details ---"
    cat "$work/result.txt"
    echo "--- server log (last 50 lines) ---"
    tail -n 50 "$work/server.log"
    exit 1
fi
# The closing line CI reads: the scenarios that pass against the recorded Django answers.
echo "conformance: $(grep -c '^PASS' "$work/status.txt") passed, $(grep -c '^FAIL' "$work/status.txt") failed (all failures are listed in tests/conformance/known_failures.txt)"

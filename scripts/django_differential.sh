#!/usr/bin/env bash
# Runs the reference Django site (../shared/conformance/django/serve.sh) and the example site
# side by side, both with the conformance settings, and compares their answers to requests the
# recorded scenarios do not contain (tests/differential/probe.py). Skips, visibly, when the
# reference site cannot be set up (no Python >= 3.12, no PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${SHARED_DIR:-$(pwd)/../shared}"
django_dir="$shared/conformance/django"
[ -x "$django_dir/serve.sh" ] || [ -f "$django_dir/serve.sh" ] || { echo "SKIP: $django_dir not found"; exit 0; }
if ! bash "$django_dir/setup.sh" >/dev/null 2>&1; then
    echo "SKIP: the reference Django site could not be set up (needs Python >= 3.12 and PyPI)"
    exit 0
fi
cargo build -q -p example-site
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
dport=$(free_port); oport=$(free_port)
work=$(mktemp -d)
bash "$django_dir/serve.sh" "$dport" > "$work/django.log" 2>&1 &
dpid=$!
RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/debug/example-site" serve --bind "127.0.0.1:$oport" --settings "$shared/conformance/settings.toml" > "$work/ours.log" 2>&1 &
opid=$!
trap 'kill $dpid $opid 2>/dev/null || true; rm -rf "$work"' EXIT
for port in $dport $oport; do
    for _ in $(seq 1 150); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.2
    done
done
python3 tests/differential/probe.py "$dport" "$oport"
# Seeded random requests beyond the hand-written probes (tests/differential/fuzz.py); a fixed
# seed so a failure reproduces, enough requests to reach every route in several shapes.
python3 tests/differential/fuzz.py "$dport" "$oport" --count 1500 --seed 1

#!/usr/bin/env bash
# Soak test: the example site (release build, example-site/settings.toml: Django's default stack
# with sessions, CSRF, auth and messages) under mixed traffic for a while — pages, CSRF form
# posts, and logins (login page, POST credentials, /private/, logout) — with its resident
# memory sampled every few seconds and every failed or unexpected answer counted
# (bench/soak.py). Exits 1 if there was any error or the server died.
#
# usage: bench/soak.sh [SECONDS]   (default 600: ten minutes)
# env:   BIN=path (a release example-site already built; default: build it)
#        WORKERS=8 SAMPLE=5 (seconds between RSS samples) PORT=18097
#        LOGIN_SHARE=0.02 (the issue's login flood: WORKERS=64 LOGIN_SHARE=0.29)
#        SETTINGS_EXTRA='PASSWORD_HASHING_WORKERS = 512' (top-level settings added to a copy of
#        example-site/settings.toml, in a temporary folder with its own db.sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}
port=${PORT:-18097}
cargo build -q --release -p example-site --bin example-site
source bench/lib.sh
dir=$(mktemp -d)
{ printf '%s\n' "${SETTINGS_EXTRA:-}"; cat example-site/settings.toml; } >"$dir/settings.toml"
RUST_LOG=warn "${CARGO_TARGET_DIR:-target}"/release/example-site serve --bind 127.0.0.1:$port \
    --settings "$dir/settings.toml" >"${SOAK_LOG:-/dev/null}" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
wait_port $port
status=0
python3 bench/soak.py --port $port --pid $pid --duration "$duration" \
    --workers "${WORKERS:-8}" --sample "${SAMPLE:-5}" --login-share "${LOGIN_SHARE:-0.02}" || status=$?
if ! kill -0 $pid 2>/dev/null; then
    echo "the server died during the soak" >&2
    exit 1
fi
# SIGTERM: the server must stop cleanly (exit 0) after the load.
kill -TERM $pid
wait $pid && echo "server stopped cleanly" || { echo "server exited with $?" >&2; status=1; }
trap - EXIT
rm -rf "$dir"
exit $status

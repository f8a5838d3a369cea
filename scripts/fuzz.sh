#!/usr/bin/env bash
# Runs the cargo fuzz targets in fuzz/ (nightly toolchain and cargo-fuzz needed:
# `cargo install cargo-fuzz`), each for SECONDS, growing fuzz/corpus/<target>/ in place.
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script; after the fix, copy
# it into the corpus as regression-<name> so `cargo test` (tests/tests/fuzz_corpora.rs) replays it.
#
# usage: scripts/fuzz.sh SECONDS [TARGET...]     (default: every target, one after another)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
cd fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -O
failed=0
for t in "${targets[@]}"; do
    log=$(mktemp)
    if cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$seconds" \
        -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
        echo "$t: ${seconds}s, ${runs:-?} runs, 0 crashes, corpus $(ls "corpus/$t" | wc -l) files"
    else
        echo "$t: CRASH (input in fuzz/artifacts/$t/)"; grep -E 'panicked|ERROR|SUMMARY' "$log" | head -5
        failed=1
    fi
    rm -f "$log"
done
exit $failed

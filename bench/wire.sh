#!/usr/bin/env bash
# Wire formats against Django 6.1.3: runs the criterion benchmarks of
# middleware-builtin/benches/wire.rs and bench/django_wire.py (Django's own functions) on the same
# inputs (bench/wire_inputs.json), then prints ns/op for both and the ratio Django / ours.
# Ours is criterion's median; Django's is the best of 5 timeit repeats (favouring Django).
# Needs the venv of scripts/django_crosscheck.sh (made here if missing, when Python >= 3.12 is).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=".venv/django-6.1.3"
if [ ! -x "$venv/bin/python" ]; then
    py=""
    for cand in "${DJANGO_PYTHON:-}" ~/.pyenv/versions/3.12*/bin/python ~/.pyenv/versions/3.13*/bin/python python3.12 python3.13; do
        [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 || continue
        if "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py=$cand; break; fi
    done
    [ -n "$py" ] || { echo "SKIP: no Python >= 3.12 for Django 6.1.3"; exit 0; }
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q django==6.1.3 || { echo "SKIP: could not install django==6.1.3"; exit 0; }
fi
cargo bench -q -p middleware-builtin --bench wire >/dev/null 2>&1
django=$(mktemp)
"$venv/bin/python" bench/django_wire.py >"$django"
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
python3 - "$django" "$target/criterion/wire" <<'PY'
import json, os, sys
django_file, crit = sys.argv[1], sys.argv[2]
django, note = {}, ""
for line in open(django_file):
    if line.startswith("#"):
        note = line[1:].strip()
        continue
    name, ns = line.split()
    django[name] = float(ns)
print("| operation | Django 6.1.3 (ns/op) | ours (ns/op) | ratio |")
print("|---|---:|---:|---:|")
worst = None
for name, d in django.items():
    est = json.load(open(os.path.join(crit, name, "new", "estimates.json")))
    ours = est["median"]["point_estimate"]
    ratio = d / ours
    worst = ratio if worst is None else min(worst, ratio)
    print("| %s | %.0f | %.0f | %.1f× |" % (name, d, ours, ratio))
print()
print("%s; lowest ratio %.1f×" % (note, worst))
PY
rm -f "$django"

#!/usr/bin/env bash
# Re-runs the interop checks with a live Django 6.1.3: values signed by our code must verify in
# Django (check_rust_values.py), session / CSRF / messages values must go both ways
# (check_rust_wire.py, run with the other check_*.py), and Django's cache session backend must
# share a Redis with ours (when redis-server is installed), and Django's db session backend a
# SQLite file and a PostgreSQL database with ours, and logins through auth_user there. Needs
# Python >= 3.12 (pyenv's is used when present) and PyPI; skips with a visible message when neither is available.
set -euo pipefail
cd "$(dirname "$0")/.."
py=""
for cand in "${DJANGO_PYTHON:-}" ~/.pyenv/versions/3.12*/bin/python ~/.pyenv/versions/3.13*/bin/python python3.12 python3.13; do
    [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 || continue
    if "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py=$cand; break; fi
done
if [ -z "$py" ]; then
    echo "SKIP: no Python >= 3.12 found for the live Django cross-check"
    exit 0
fi
venv=".venv/django-6.1.3"
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q django==6.1.3 || { echo "SKIP: could not install django==6.1.3"; exit 0; }
fi
# argon2-cffi and bcrypt, for the hashers of Django's default PASSWORD_HASHERS that need them.
"$venv/bin/python" -c 'import argon2, bcrypt' 2>/dev/null || "$venv/bin/pip" install -q argon2-cffi bcrypt || echo "note: could not install argon2-cffi / bcrypt (their hash checks will skip)"
# The `redis` client, for Django's RedisCache in the shared-Redis sessions test.
"$venv/bin/python" -c 'import redis' 2>/dev/null || "$venv/bin/pip" install -q redis || echo "note: could not install redis (the shared-Redis sessions test will skip)"
# psycopg, for Django's PostgreSQL backend in the shared-PostgreSQL sessions test.
"$venv/bin/python" -c 'import psycopg' 2>/dev/null || "$venv/bin/pip" install -q "psycopg[binary]" || echo "note: could not install psycopg (the shared-PostgreSQL sessions test will skip)"
out=$(mktemp)
RUST_SIGNING_OUT="$out" cargo test -q -p middleware-core --test django_signing_fixtures >/dev/null
"$venv/bin/python" tests/fixtures/django/check_rust_values.py "$out"
for extra in tests/fixtures/django/check_*.py; do
    case "$extra" in */check_rust_values.py) continue ;; esac
    "$venv/bin/python" "$extra"
done
rm -f "$out"
if command -v redis-server >/dev/null 2>&1; then
    if ! res=$(DJANGO_PYTHON="$PWD/$venv/bin/python" cargo test -q -p middleware-builtin --lib \
        django_and_rust_share_redis_sessions -- --nocapture 2>&1); then
        echo "$res" | tail -30
        exit 1
    fi
    echo "$res" | grep -E "SKIP|test result" || true
else
    echo "SKIP: redis-server not found (shared-Redis sessions test)"
fi
# Django's `db` session backend and ours on one database: a shared SQLite file, then a shared
# PostgreSQL database (a cluster the test starts; skipped, loudly, without PostgreSQL).
if ! res=$(DJANGO_PYTHON="$PWD/$venv/bin/python" cargo test -q -p middleware-builtin --features sqlite,postgres --lib \
    django_and_rust_share_db_sessions -- --nocapture 2>&1); then
    echo "$res" | tail -30
    exit 1
fi
echo "$res" | grep -E "SKIP|shared|test result" || true
# Django's `cached_db` session backend and ours on one database and one Redis (a redis-server
# the test starts): a SQLite file, then PostgreSQL (skipped, loudly, without it or psycopg).
if command -v redis-server >/dev/null 2>&1; then
    if ! res=$(DJANGO_PYTHON="$PWD/$venv/bin/python" cargo test -q -p middleware-builtin --features sqlite,postgres --lib \
        django_and_rust_share_cached_db_sessions -- --nocapture 2>&1); then
        echo "$res" | tail -30
        exit 1
    fi
    echo "$res" | grep -E "SKIP|shared|test result" || true
else
    echo "SKIP: redis-server not found (shared cached_db sessions test)"
fi
# Logins shared through auth_user and django_session: a login on Django is that user on ours
# and back, a logout on either ends both, a password change on either ends the other's
# session. On a shared SQLite file, then a shared PostgreSQL database.
if ! res=$(DJANGO_PYTHON="$PWD/$venv/bin/python" cargo test -q -p middleware-builtin --features sqlite,postgres \
    --test model_backend django_and_rust_share_logins -- --nocapture 2>&1); then
    echo "$res" | tail -30
    exit 1
fi
echo "$res" | grep -E "SKIP|shared|test result" || true
# Redirects and flat pages written by Django's ORM into a database our migrate made, served by
# ours.
if ! res=$(DJANGO_PYTHON="$PWD/$venv/bin/python" cargo test -q -p middleware-builtin --features sqlite \
    --test flatpages django_orm_redirects_and_flatpages_are_served -- --nocapture 2>&1); then
    echo "$res" | tail -30
    exit 1
fi
echo "$res" | grep -E "SKIP|ORM|test result" || true

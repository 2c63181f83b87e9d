#!/usr/bin/env bash
# Runs the whole suite: every database test on SQLite and on a throwaway
# PostgreSQL cluster that this script starts (as the `postgres` user when run
# as root) and removes afterwards; then the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

find_pg_bin() {
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin /usr/local/bin /usr/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}
PGBIN="$(find_pg_bin)" || { echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql" >&2; exit 1; }

PGROOT="$(mktemp -d /tmp/gongzhi-pg.XXXXXX)"
PGPORT="${GONGZHI_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}"
as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = "0" ]; then chown postgres "$PGROOT"; fi
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap cleanup EXIT

as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
  || as_pg "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/log" -w \
  -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" start >/dev/null
export GONGZHI_TEST_PG="postgres://postgres@127.0.0.1:$PGPORT/postgres"
echo "throwaway PostgreSQL on port $PGPORT"

# The Open311 conformance test drives an independent client (PyPI `georeport`) from a venv.
export GONGZHI_OPEN311_PYTHON="$(bash tests/open311/setup.sh)"
# The meetings' iCalendar export is parsed by an independent parser (PyPI `icalendar`) from a venv.
export GONGZHI_ICAL_PYTHON="$(bash tests/ical/setup.sh)"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked -- --test-threads "${GONGZHI_TEST_THREADS:-4}"

if [ "${GONGZHI_SKIP_E2E:-0}" != "1" ]; then
  cargo build -p gongzhi --locked
  GONGZHI_BIN="$PWD/target/debug/gongzhi" bash e2e/run.sh
fi

# The whole OpenAPI document fuzzed by schemathesis: 0 server errors on
# SQLite and PostgreSQL, GONGZHI_FUZZ_SECONDS (default 60) per engine.
if [ "${GONGZHI_SKIP_FUZZ:-0}" != "1" ]; then
  cargo build -p gongzhi --locked
  GONGZHI_FUZZ_SECONDS="${GONGZHI_FUZZ_SECONDS:-60}" GONGZHI_BIN="$PWD/target/debug/gongzhi" bash tests/schemathesis/run.sh
fi

#!/usr/bin/env bash
# Fuzzes the whole JSON API through its own OpenAPI document with schemathesis
# (PyPI): every operation, generated and edge-case inputs, as an
# administrator (who reaches every handler). Passes only with 0 server errors
# (5xx) — on SQLite (the demo city) and on PostgreSQL ($GONGZHI_TEST_PG, a
# fresh database with a roster imported). Bounded in time:
# GONGZHI_FUZZ_SECONDS per engine (default 60). The seed is fixed
# (GONGZHI_FUZZ_SEED, default 20261201) so that a red run is reproduced by
# running it again; set GONGZHI_FUZZ_SEED=random to explore new inputs.
#
#   GONGZHI_BIN=target/debug/gongzhi GONGZHI_TEST_PG=postgres://… tests/schemathesis/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
BIN="${GONGZHI_BIN:-$ROOT/target/debug/gongzhi}"
ST="$(bash tests/schemathesis/setup.sh)"
SECS="${GONGZHI_FUZZ_SECONDS:-60}"
SEED="${GONGZHI_FUZZ_SEED:-20261201}"
SEED_ARGS=()
[ "$SEED" = random ] || SEED_ARGS=(--seed "$SEED")
WORK="$(mktemp -d /tmp/gongzhi-fuzz.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() {
  for _ in $(seq 1 600); do
    curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "fuzz: server at $1 did not start" >&2
  return 1
}

# A bearer token for USER/PASS at BASE.
token() {
  local base="$1" user="$2" pass="$3" jar="$WORK/jar-$RANDOM"
  curl -fsS -c "$jar" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$pass\"}" "$base/api/v1/auth/login" >/dev/null
  curl -fsS -b "$jar" -H 'content-type: application/json' -d '{"name":"fuzz"}' \
    "$base/api/v1/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

fuzz() {
  local name="$1" base="$2" tok="$3"
  echo "fuzz: $name: schemathesis over $base/api/openapi.json for up to ${SECS}s"
  "$ST" run "$base/api/openapi.json" \
    --url "$base" \
    --checks not_a_server_error \
    --phases examples,coverage,fuzzing \
    --max-time "$SECS" \
    --workers 2 \
    --request-timeout 30 \
    --suppress-health-check all \
    --warnings off \
    "${SEED_ARGS[@]}" \
    -H "Authorization: Bearer $tok" \
    --report junit --report-dir "$ROOT/target/fuzz-$name" \
    2>&1 | tail -n 40
  return "${PIPESTATUS[0]}"
}

status=0

# SQLite: the demo city
PORT="$(free_port)"
"$BIN" demo --data-dir "$WORK/demo" --listen "127.0.0.1:$PORT" >"$WORK/demo.log" 2>&1 &
PIDS+=($!)
BASE="http://127.0.0.1:$PORT"
wait_up "$BASE"
TOK="$(token "$BASE" admin gongzhi-demo)"
fuzz sqlite "$BASE" "$TOK" || status=1

# PostgreSQL: a fresh database, an administrator and a roster
if [ -n "${GONGZHI_TEST_PG:-}" ]; then
  DBNAME="gz_fuzz_$RANDOM$RANDOM"
  python3 - "$GONGZHI_TEST_PG" "$DBNAME" <<'PY'
import sys, subprocess, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
subprocess.run(["psql", "-h", u.hostname, "-p", str(u.port or 5432), "-U", u.username or "postgres",
                "-d", u.path.lstrip("/") or "postgres", "-qc", f"CREATE DATABASE {sys.argv[2]}"], check=True)
PY
  PGURL="${GONGZHI_TEST_PG%/*}/$DBNAME"
  echo 'fuzz-password-1' | "$BIN" admin create-user root --admin --database-url "$PGURL" --data-dir "$WORK/pg" >/dev/null
  {
    echo 'district,street,community,compound,building,unit,number,kind,area_m2,area_basis,owner_key,owner_name,phone'
    for i in $(seq 1 12); do
      echo "綦江区,文龙街道,九龙社区,千山美林,6栋,1单元,$((100 + i)),flat,$((80 + i)).50,registered,o$i,业主$i,1380000$((1000 + i))"
    done
    echo '綦江区,文龙街道,九龙社区,千山美林,6栋,,S1,shop,72.00,surveyed,o13,商户,'
  } >"$WORK/roster.csv"
  "$BIN" import roster "$WORK/roster.csv" --database-url "$PGURL" --data-dir "$WORK/pg" >/dev/null
  PORT="$(free_port)"
  "$BIN" serve --database-url "$PGURL" --data-dir "$WORK/pg" --listen "127.0.0.1:$PORT" >"$WORK/pg.log" 2>&1 &
  PIDS+=($!)
  BASE="http://127.0.0.1:$PORT"
  wait_up "$BASE"
  TOK="$(token "$BASE" root fuzz-password-1)"
  fuzz postgres "$BASE" "$TOK" || status=1
else
  echo "fuzz: GONGZHI_TEST_PG is not set: the PostgreSQL run needs it (scripts/test.sh sets it)" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  echo "fuzz: server errors found; server logs:" >&2
  tail -n 50 "$WORK"/*.log >&2 || true
fi
exit "$status"

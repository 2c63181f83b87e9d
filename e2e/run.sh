#!/usr/bin/env bash
# End-to-end browser tests of Gongzhi's server-rendered pages.
#
#   cargo build -p gongzhi && e2e/run.sh
#
# GONGZHI_BIN   the gongzhi binary (default: target/debug/gongzhi, i.e. ../target/debug/gongzhi from e2e/)
# CHROMIUM_PATH the browser (default: /usr/bin/chromium; Debian: apt-get install chromium)
# Screenshots and the server log land in e2e/artifacts/.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"

GONGZHI_BIN="${GONGZHI_BIN:-$E2E_DIR/../target/debug/gongzhi}"
case "$GONGZHI_BIN" in /*) ;; *) GONGZHI_BIN="$PWD/$GONGZHI_BIN" ;; esac
if [ ! -x "$GONGZHI_BIN" ]; then
  echo "e2e: no gongzhi binary at $GONGZHI_BIN (build it with 'cargo build -p gongzhi' or set GONGZHI_BIN)" >&2
  exit 2
fi
export GONGZHI_BIN

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "e2e: no chromium at $CHROMIUM_PATH (Debian: apt-get install chromium; or set CHROMIUM_PATH)" >&2
  exit 2
fi
export CHROMIUM_PATH

if [ ! -f "$E2E_DIR/node_modules/playwright-core/package.json" ]; then
  (cd "$E2E_DIR" && npm ci --no-audit --no-fund)
fi

cd "$ROOT"
# TAP output always ends with node's summary lines (# tests, # pass N, # fail N, ...).
exec node --test --test-reporter=tap e2e/*.test.mjs

#!/usr/bin/env bash
# Prepares a Python virtualenv with schemathesis (PyPI), which fuzzes the
# server through its own OpenAPI document. Idempotent; prints the path of
# the `schemathesis` command.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${GONGZHI_SCHEMATHESIS_VENV:-$PWD/target/schemathesis-venv}"
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5' >&2
fi
echo "$VENV/bin/schemathesis"

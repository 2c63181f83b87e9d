#!/usr/bin/env bash
# Prepares a Python virtualenv with an independent Open311 GeoReport v2 client
# (the `georeport` package from PyPI) for the Open311 conformance test.
# Idempotent; prints the venv's python path.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${GONGZHI_OPEN311_VENV:-$PWD/target/open311-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import georeport, requests' 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'georeport==0.3.1' >&2
fi
echo "$VENV/bin/python"

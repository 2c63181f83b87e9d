#!/usr/bin/env bash
# Prepares a Python virtualenv with an independent iCalendar (RFC 5545) parser
# (the `icalendar` package from PyPI) for the meetings' .ics test.
# Idempotent; prints the venv's python path.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${GONGZHI_ICAL_VENV:-$PWD/target/ical-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import icalendar' 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'icalendar==7.3.0' >&2
fi
echo "$VENV/bin/python"

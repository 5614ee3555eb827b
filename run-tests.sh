#!/usr/bin/env bash
# Installs what the tests need (idempotent) and runs the whole suite as root.
# Usage: sudo ./run-tests.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
./install.sh --no-start
exec "${PYDOCKER_VENV:-/opt/pydocker/venv}/bin/python" -m pytest -ra "$@"

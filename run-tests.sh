#!/usr/bin/env bash
# Installs what the tests need (idempotent) and runs the whole suite as root.
# Usage (as root): ./run-tests.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
./install.sh --no-start
# Tools only the tests drive: docker-compose 1.29 (Debian's; the classic builder's client).
if ! command -v docker-compose >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose \
    >/dev/null
fi
exec "${PYDOCKER_VENV:-/opt/pydocker/venv}/bin/python" -m pytest -ra "$@"

#!/usr/bin/env bash
# Installs what the tests need (idempotent) and runs the whole suite as root.
# Usage (as root): ./run-tests.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
./install.sh --no-start
# Tools only the tests drive: docker-compose 1.29 (Debian's; the classic builder's client),
# gcc and libc6-dev (the pod tests build a static pause program), and the CNI plugins
# (the pod networking test runs bridge, host-local, loopback, portmap and firewall).
contrib/apt-install-missing.sh docker-compose gcc libc6-dev containernetworking-plugins
exec "${PYDOCKER_VENV:-/opt/pydocker/venv}/bin/python" -m pytest -ra "$@"

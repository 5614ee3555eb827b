#!/usr/bin/env bash
# Installs what the tests need (idempotent) and runs the whole suite as root.
# Usage (as root): ./run-tests.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
./install.sh --no-start
# Tools only the tests drive: docker-compose 1.29 (Debian's; the classic builder's client),
# gcc and libc6-dev (the pod tests build a static pause program), and the CNI plugins
# (the pod networking test runs bridge, host-local, loopback, portmap and firewall).
TEST_PACKAGES=(docker-compose gcc libc6-dev containernetworking-plugins)
missing=()
for pkg in "${TEST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
fi
exec "${PYDOCKER_VENV:-/opt/pydocker/venv}/bin/python" -m pytest -ra "$@"

#!/usr/bin/env bash
# Installs everything pydocker needs on a Debian machine, then starts pydockerd in the
# foreground on /var/run/pydocker.sock.   Usage: sudo ./install.sh [--no-start] [pydockerd flags]
set -euo pipefail
cd "$(dirname "$0")"

VENV=${PYDOCKER_VENV:-/opt/pydocker/venv}
APT_PACKAGES=(iptables iproute2 busybox-static tini procps psmisc netcat-openbsd
              libseccomp2 docker-registry skopeo tmux python3-venv)

start=1
if [[ "${1:-}" == "--no-start" ]]; then start=0; shift; fi

if [[ $EUID -ne 0 ]]; then echo "install.sh: run as root" >&2; exit 1; fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The docker CLI is what users point at us; the test suite drives it too.
if ! command -v docker >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-cli >/dev/null \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

python=${PYTHON:-$(command -v python3.11 || command -v python3)}
[[ -x $VENV/bin/python ]] || "$python" -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v '^WARNING: Location' || true
# Bytecode now: the environment may set PYTHONDONTWRITEBYTECODE, and the CLI start-up
# time is mostly compiling otherwise.
"$VENV/bin/python" -m compileall -q cli engine api images network volumes >/dev/null || true
ln -sf "$VENV/bin/pydockerd" /usr/local/bin/pydockerd
ln -sf "$VENV/bin/pydocker" /usr/local/bin/pydocker

if ((start)); then
  exec "$VENV/bin/pydockerd" "$@"
fi

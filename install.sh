#!/usr/bin/env bash
# Installs everything pydocker needs on a Debian machine, then starts pydockerd in the
# foreground on /var/run/pydocker.sock.   Usage (as root): ./install.sh [--no-start] [pydockerd flags]
set -euo pipefail
cd "$(dirname "$0")"

VENV=${PYDOCKER_VENV:-/opt/pydocker/venv}
APT_PACKAGES=(iptables iproute2 busybox-static tini procps psmisc netcat-openbsd
              libseccomp2 docker-registry skopeo tmux python3-venv)

start=1
if [[ "${1:-}" == "--no-start" ]]; then start=0; shift; fi

if [[ $EUID -ne 0 ]]; then echo "install.sh: run as root" >&2; exit 1; fi

contrib/apt-install-missing.sh "${APT_PACKAGES[@]}"

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

# The systemd units (contrib/systemd) are installed on every machine, ready for one that
# boots with systemd; they are enabled (for the next boot: this script runs the daemon in
# the foreground now) only where systemd runs the machine (sd_booted's test).
install -d /etc/systemd/system
install -m 0644 contrib/systemd/pydocker.service contrib/systemd/pydocker.socket /etc/systemd/system/
getent group docker >/dev/null || groupadd --system docker   # pydocker.socket's SocketGroup
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  systemctl enable pydocker.socket pydocker.service >/dev/null 2>&1
  echo "install.sh: pydocker.socket and pydocker.service installed and enabled;" \
       "with this daemon stopped: systemctl start pydocker.socket" >&2
else
  echo "install.sh: pydocker.service and pydocker.socket installed in /etc/systemd/system," \
       "not enabled: systemd is not PID 1 here" >&2
fi

# The first `docker run busybox ...` must work with no registry reachable: once the daemon
# answers, a busybox image is made from the host's busybox-static unless one is there.
seed_busybox() {
  local host=unix:///var/run/pydocker.sock prev="" arg
  for arg in "$@"; do
    if [[ $prev == -H || $prev == --host ]]; then host=$arg; fi
    case $arg in -H=*|--host=*) host=${arg#*=} ;; esac
    prev=$arg
  done
  for _ in $(seq 100); do
    "$VENV/bin/pydocker" -H "$host" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$VENV/bin/pydocker" -H "$host" image inspect busybox:latest >/dev/null 2>&1 && return
  local root
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,home,usr/bin,var/www}
  chmod 1777 "$root/tmp"; chmod 700 "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox || -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    > "$root/etc/passwd"
  printf 'root:x:0:\nusers:x:100:\nnogroup:x:65534:\n' > "$root/etc/group"
  tar -C "$root" -c . | "$VENV/bin/pydocker" -H "$host" import -c 'CMD ["sh"]' - busybox:latest \
    >/dev/null && echo "install.sh: imported busybox:latest from the host's busybox-static" >&2
  rm -rf "$root"
}

if ((start)); then
  seed_busybox "$@" &
  exec "$VENV/bin/pydockerd" "$@"
fi

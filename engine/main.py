"""``pydockerd``: parse dockerd-style flags, take the locks, serve the API on unix sockets."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import grp
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web
from pydocker.api.server.app import make_app
from pydocker.engine.config import DEFAULT_SOCKET, DaemonConfig
from pydocker.engine.daemon import Daemon
from pydocker.engine.errors import EngineError

log = logging.getLogger("pydockerd")


def parse_args(argv: list[str] | None = None) -> DaemonConfig:
    p = argparse.ArgumentParser(prog="pydockerd", description="A Docker-compatible engine")
    p.add_argument("-H", "--host", action="append", dest="hosts",
                   help=f"daemon socket to listen on (default {DEFAULT_SOCKET})")
    p.add_argument("--data-root", default="/var/lib/pydocker")
    p.add_argument("--exec-root", default="/run/pydocker")
    p.add_argument("-p", "--pidfile", default=None)
    p.add_argument("-G", "--group", default="docker", help="group for the unix socket")
    p.add_argument("-D", "--debug", action="store_true")
    p.add_argument("-l", "--log-level", default="info",
                   choices=["debug", "info", "warn", "error", "fatal"])
    p.add_argument("-b", "--bridge", default="pydocker0",
                   help="name of the default bridge interface")
    p.add_argument("--bip", default=None, help="address/prefix of the default bridge")
    p.add_argument("--iptables", default="true", choices=["true", "false"])
    p.add_argument("--ip-forward", default="true", choices=["true", "false"])
    p.add_argument("--ip6tables", default="true", choices=["true", "false"],
                   help="ip6tables rules for networks with IPv6 (dockerd 27's default)")
    p.add_argument("--iptables-chain-prefix", default="PYDOCKER",
                   help="prefix of our iptables chains (tests run daemons side by side)")
    p.add_argument("--cgroup-parent", default="pydocker")
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--max-concurrent-downloads", type=int, default=3,
                   help="layer downloads at once, per daemon")
    p.add_argument("--max-concurrent-uploads", type=int, default=5,
                   help="layer uploads at once, per push")
    p.add_argument("--insecure-registry", action="append", dest="insecure_registries",
                   default=[], help="host[:port] or CIDR spoken to over http / unverified TLS")
    p.add_argument("--registry-mirror", action="append", dest="registry_mirrors", default=[],
                   help="a Docker Hub mirror (http[s]://host[:port]), tried before Docker Hub")
    p.add_argument("--default-ipc-mode", default="private", choices=["private", "shareable"],
                   help="IPC mode of containers created without one (dockerd's)")
    a = p.parse_args(argv)
    for mirror in a.registry_mirrors:
        if not mirror.startswith(("http://", "https://")):
            p.error(f'invalid mirror: unsupported scheme in "{mirror}" (http or https)')
    hosts = tuple(a.hosts or [DEFAULT_SOCKET])
    for host in hosts:
        if not host.startswith("unix://"):
            p.error(f"only unix:// hosts are supported: {host}")
    return DaemonConfig(
        hosts=hosts, data_root=Path(a.data_root), exec_root=Path(a.exec_root),
        pidfile=Path(a.pidfile) if a.pidfile else None, group=a.group, debug=a.debug,
        log_level="debug" if a.debug else a.log_level, bridge=a.bridge, bip=a.bip,
        iptables=a.iptables == "true", ip6tables=a.ip6tables == "true", ip_forward=a.ip_forward == "true",
        iptables_chain_prefix=a.iptables_chain_prefix, cgroup_parent=a.cgroup_parent,
        labels=tuple(a.label), max_concurrent_downloads=max(1, a.max_concurrent_downloads),
        max_concurrent_uploads=max(1, a.max_concurrent_uploads),
        insecure_registries=tuple(a.insecure_registries),
        registry_mirrors=tuple(a.registry_mirrors), default_ipc_mode=a.default_ipc_mode)


class StartupError(Exception):
    pass


def take_lock(data_root: Path) -> int:
    """One daemon per data root: an flock held for the daemon's life."""
    data_root.mkdir(parents=True, exist_ok=True, mode=0o711)
    fd = os.open(data_root / "pydockerd.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StartupError(f"another pydockerd is using the data root {data_root}") from None
    return fd


def bind_socket(path: Path, group: str) -> socket.socket:
    """Listen on ``path``; a live owner is an error, a stale socket file is replaced."""
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # stale: left by a daemon that died
        else:
            raise StartupError(f"another daemon is already listening on {path}")
        finally:
            probe.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    gid = 0
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        pass
    os.chown(path, 0, gid)
    os.chmod(path, 0o660)
    sock.listen(1024)
    return sock


async def serve(config: DaemonConfig) -> None:
    daemon = Daemon(config)
    sockets = [bind_socket(path, config.group) for path in config.socket_paths()]
    try:
        await daemon.start()
    except BaseException:
        # Leave nothing half-made: bridges, rules and sockets of a daemon that never ran.
        await daemon.close()
        for path in config.socket_paths():
            path.unlink(missing_ok=True)
        raise
    access_log = logging.getLogger("pydockerd.access") if config.debug else None
    runner = web.AppRunner(make_app(daemon), handle_signals=False, access_log=access_log,
                           access_log_format='%r %s %Tfs')
    await runner.setup()
    for sock in sockets:
        await web.SockSite(runner, sock, shutdown_timeout=1.0).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: log.info("SIGHUP: nothing to reload"))
    log.info("API listening on %s", ", ".join(config.hosts))
    daemon.announce_start()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
        await daemon.close()
        for path in config.socket_paths():
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    level = {"warn": "WARNING", "fatal": "CRITICAL"}.get(config.log_level,
                                                         config.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("pyroute2", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if os.geteuid() != 0:
        sys.exit("pydockerd: must run as root (namespaces, mounts, cgroups, iptables)")
    try:
        lock_fd = take_lock(config.data_root)
        if config.pidfile:
            config.pidfile.parent.mkdir(parents=True, exist_ok=True)
            config.pidfile.write_text(f"{os.getpid()}\n")
        asyncio.run(serve(config))
    except (StartupError, EngineError) as exc:  # an engine error escapes only a refused start
        sys.exit(f"pydockerd: {exc}")
    finally:
        if config.pidfile:
            config.pidfile.unlink(missing_ok=True)
    os.close(lock_fd)


if __name__ == "__main__":
    main()

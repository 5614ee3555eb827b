"""``pydockerd``: dockerd-style flags and daemon.json, the locks, the API on unix sockets
(or systemd's), and SIGHUP's reload."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import grp
import json
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from pydocker.api.server.app import make_app
from pydocker.engine import daemonconfig
from pydocker.engine.config import DEFAULT_SOCKET, DaemonConfig
from pydocker.engine.containers import logconfig
from pydocker.engine.daemon import Daemon
from pydocker.engine.errors import EngineError, InvalidParameter
from pydocker.engine.host import systemd

log = logging.getLogger("pydockerd")
LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pydockerd", description="A Docker-compatible engine")
    p.add_argument("--config-file", default=str(daemonconfig.DEFAULT_CONFIG_FILE),
                   help="daemon configuration file (dockerd's daemon.json keys)")
    p.add_argument("-H", "--host", action="append", dest="hosts",
                   help=f"daemon socket to listen on (default {DEFAULT_SOCKET}); "
                        "fd:// takes systemd's activated sockets")
    p.add_argument("--data-root", default="/var/lib/pydocker")
    p.add_argument("--exec-root", default="/run/pydocker")
    p.add_argument("-p", "--pidfile", default=None)
    p.add_argument("-G", "--group", default="docker", help="group for the unix socket")
    p.add_argument("-D", "--debug", action="store_true")
    p.add_argument("-l", "--log-level", default="info", choices=LOG_LEVELS)
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
    p.add_argument("--label", action="append", dest="labels", default=[])
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
    p.add_argument("--log-driver", dest="log_driver", default="json-file",
                   help="default driver for container logs (json-file, local, none)")
    p.add_argument("--log-opt", dest="log_opts", action="append", default=[],
                   metavar="KEY=VALUE", help="default log driver option (repeatable)")
    return p


def explicit_flags(argv: list[str] | None) -> dict[str, Any]:
    """What the command line itself set, defaults left out (dockerd's ``flags.Visit``):
    the same parser with every default suppressed. Walking the parser's actions (argparse
    has no public accessor) catches every flag, whoever adds it and with whatever default."""
    quiet = build_parser()
    for action in quiet._actions:  # noqa: SLF001
        action.default = argparse.SUPPRESS
    return vars(quiet.parse_args(argv))


@dataclass(frozen=True)
class Startup:
    """The configuration the daemon starts with, and what a SIGHUP needs to read the file
    again under the same rules."""

    config: DaemonConfig
    config_file: Path
    config_file_given: bool
    flags: dict[str, Any]
    log_level: str  # the level when debug is off (debug raises it to "debug")

    def reread(self) -> dict[str, Any]:
        """The reloadable settings the file sets now (raises ConfigFileError)."""
        values = daemonconfig.load(self.config_file, explicit=self.config_file_given,
                                   flags=self.flags)
        if "labels" in values:
            check_labels(values["labels"])
        changes = daemonconfig.reloadable(values)
        # dockerd resets the transfer limits the file leaves out: here to the flag's value,
        # or the default; the other settings keep their running values.
        for limit in ("max_concurrent_downloads", "max_concurrent_uploads"):
            changes.setdefault(limit, self.flags.get(limit, getattr(DaemonConfig(), limit)))
        return changes


def startup(argv: list[str] | None = None) -> Startup:
    parser = build_parser()
    a = parser.parse_args(argv)
    flags = explicit_flags(argv)
    config_file = Path(a.config_file)
    try:
        from_file = daemonconfig.load(config_file, explicit="config_file" in flags,
                                      flags=flags)
        check_labels(a.labels + from_file.get("labels", []))
    except daemonconfig.ConfigFileError as exc:
        parser.exit(1, f"pydockerd: {exc}\n")
    for dest, value in from_file.items():
        setattr(a, dest, value)  # log-driver/log-opts too, whether or not the flags exist
    if a.log_level not in LOG_LEVELS:
        parser.error(f"unable to parse logging level: {a.log_level}")
    if a.default_ipc_mode not in ("private", "shareable"):
        parser.error(f'invalid default IPC mode: "{a.default_ipc_mode}"')
    for mirror in a.registry_mirrors:
        if not mirror.startswith(("http://", "https://")):
            parser.error(f'invalid mirror: unsupported scheme in "{mirror}" (http or https)')
    log_opts = _log_opts(parser, a.log_driver, a.log_opts)
    hosts = tuple(a.hosts or [DEFAULT_SOCKET])
    for host in hosts:
        if not host.startswith(("unix://", "fd://")):
            parser.error(f"only unix:// and fd:// hosts are supported: {host}")
    config = DaemonConfig(
        hosts=hosts, data_root=Path(a.data_root), exec_root=Path(a.exec_root),
        pidfile=Path(a.pidfile) if a.pidfile else None, group=a.group, debug=a.debug,
        log_level="debug" if a.debug else a.log_level, bridge=a.bridge, bip=a.bip,
        iptables=a.iptables == "true", ip6tables=a.ip6tables == "true",
        ip_forward=a.ip_forward == "true",
        iptables_chain_prefix=a.iptables_chain_prefix, cgroup_parent=a.cgroup_parent,
        labels=tuple(a.labels), max_concurrent_downloads=max(1, a.max_concurrent_downloads),
        max_concurrent_uploads=max(1, a.max_concurrent_uploads),
        insecure_registries=tuple(a.insecure_registries),
        registry_mirrors=tuple(a.registry_mirrors), default_ipc_mode=a.default_ipc_mode,
        log_driver=a.log_driver, log_opts=tuple(log_opts.items()))
    return Startup(config, config_file, "config_file" in flags, flags, a.log_level)


def parse_args(argv: list[str] | None = None) -> DaemonConfig:
    return startup(argv).config


def check_labels(labels: list[str]) -> None:
    """dockerd's ValidateLabel: an engine label is key=value."""
    for label in labels:
        if "=" not in label:
            raise daemonconfig.ConfigFileError(f"bad attribute format: {label}")


def _log_opts(p: argparse.ArgumentParser, driver: str, pairs: list[str]) -> dict[str, str]:
    """``--log-opt k=v``s, checked against the driver as dockerd does at start."""
    opts = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq:
            p.error(f"invalid key value pair format in log-opt: {pair!r}")
        opts[key] = value
    try:
        logconfig.check(driver, opts)
    except InvalidParameter as exc:
        p.error(f"failed to set log opts: {exc}")
    return opts


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


def listening_sockets(config: DaemonConfig) -> list[socket.socket]:
    """One listener per ``-H``: a unix path we bind, or systemd's sockets for ``fd://``."""
    passed = systemd.listen_fds()
    sockets: list[socket.socket] = []
    try:
        for host in config.hosts:
            if host.startswith("fd://"):
                sockets += systemd.activated_sockets(host, passed)
            else:
                sockets.append(bind_socket(Path(host.removeprefix("unix://")), config.group))
    except (systemd.ActivationError, StartupError) as exc:
        for sock in sockets:
            sock.close()
        raise StartupError(str(exc)) from None
    return sockets


def reload(daemon: Daemon, boot: Startup) -> None:
    """SIGHUP: dockerd's reload. A file that cannot configure the daemon changes nothing."""
    log.info("Got signal to reload configuration, reloading from: %s", boot.config_file)
    systemd.notify("RELOADING=1")
    try:
        changes = boot.reread()
    except daemonconfig.ConfigFileError as exc:
        log.error("Error reconfiguring the daemon: %s", exc)
    else:
        applied = daemon.reload(changes)
        set_log_level("debug" if applied.debug else boot.log_level)
        log.info("Reloaded configuration: %s", json.dumps(
            {daemonconfig.config_key(k): getattr(applied, k) for k in daemonconfig.RELOADABLE}))
    systemd.notify("READY=1")


async def serve(boot: Startup) -> None:
    config = boot.config
    daemon = Daemon(config)
    sockets = listening_sockets(config)
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
    loop.add_signal_handler(signal.SIGHUP, reload, daemon, boot)
    log.info("API listening on %s", ", ".join(config.hosts))
    daemon.announce_start()
    systemd.notify("READY=1")
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        systemd.notify("STOPPING=1")
        await runner.cleanup()
        await daemon.close()
        for path in config.socket_paths():
            path.unlink(missing_ok=True)


def set_log_level(level: str) -> None:
    logging.getLogger().setLevel({"warn": "WARNING", "fatal": "CRITICAL"}.get(level,
                                                                            level.upper()))


def main(argv: list[str] | None = None) -> None:
    boot = startup(argv)
    config = boot.config
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    set_log_level(config.log_level)
    for noisy in ("pyroute2", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if os.geteuid() != 0:
        sys.exit("pydockerd: must run as root (namespaces, mounts, cgroups, iptables)")
    try:
        lock_fd = take_lock(config.data_root)
        if config.pidfile:
            config.pidfile.parent.mkdir(parents=True, exist_ok=True)
            config.pidfile.write_text(f"{os.getpid()}\n")
        asyncio.run(serve(boot))
    except (StartupError, EngineError) as exc:  # an engine error escapes only a refused start
        sys.exit(f"pydockerd: {exc}")
    finally:
        if config.pidfile:
            config.pidfile.unlink(missing_ok=True)
    os.close(lock_fd)


if __name__ == "__main__":
    main()

"""Pure rules that turn a create request and an image config into a container config.

Mirrors moby's ``merge(userConf, imageConf)`` and ``getEntrypointAndArgs`` so that
ENTRYPOINT/CMD/ENV/WORKDIR behave exactly as with Docker.
"""

from __future__ import annotations

import signal
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.runtime import spec as runtime_spec

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Every field of Config as docker inspect shows it, with Docker's zero values.
CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False,
    "AttachStdout": False, "AttachStderr": False, "ExposedPorts": None, "Tty": False,
    "OpenStdin": False, "StdinOnce": False, "Env": None, "Cmd": None, "Healthcheck": None,
    "ArgsEscaped": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "NetworkDisabled": None, "MacAddress": None, "OnBuild": None, "Labels": None,
    "StopSignal": None, "StopTimeout": None, "Shell": None,
}


def _env_key(item: str) -> str:
    return item.partition("=")[0]


def merge_image_config(user: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """moby's merge(): the image fills what the request leaves empty."""
    conf = {**CONFIG_DEFAULTS, **{k: v for k, v in user.items() if k in CONFIG_DEFAULTS}}
    if not conf["User"]:
        conf["User"] = image.get("User") or ""
    exposed = dict(image.get("ExposedPorts") or {})
    exposed.update(conf["ExposedPorts"] or {})
    conf["ExposedPorts"] = exposed or None
    user_env = list(conf["Env"] or [])
    keys = {_env_key(e) for e in user_env}
    conf["Env"] = [e for e in image.get("Env") or [] if _env_key(e) not in keys] + user_env
    labels = dict(image.get("Labels") or {})
    labels.update(conf["Labels"] or {})
    conf["Labels"] = labels
    if not conf["Entrypoint"]:
        if not conf["Cmd"]:
            conf["Cmd"] = image.get("Cmd")
        if conf["Entrypoint"] is None:
            conf["Entrypoint"] = image.get("Entrypoint")
    if conf["Entrypoint"] == [""]:  # `--entrypoint ''`: the image's is cleared (moby)
        conf["Entrypoint"] = None
    if image.get("Healthcheck") and not conf["Healthcheck"]:
        conf["Healthcheck"] = image["Healthcheck"]
    if not conf["WorkingDir"]:
        conf["WorkingDir"] = image.get("WorkingDir") or ""
    volumes = dict(image.get("Volumes") or {})
    volumes.update(conf["Volumes"] or {})
    conf["Volumes"] = volumes or None
    if not conf["StopSignal"]:
        conf["StopSignal"] = image.get("StopSignal") or None
    if image.get("OnBuild") and conf["OnBuild"] is None:
        conf["OnBuild"] = None  # ONBUILD never applies to containers
    return conf


def entrypoint_and_args(config: dict[str, Any]) -> tuple[str, list[str]]:
    """Path and Args as inspect reports them: ENTRYPOINT + CMD, or CMD alone."""
    entrypoint = list(config.get("Entrypoint") or [])
    cmd = list(config.get("Cmd") or [])
    argv = entrypoint + cmd if entrypoint else cmd
    if not argv or (len(argv) == 1 and argv[0] == ""):
        raise InvalidParameter("No command specified")
    return argv[0], argv[1:]


def process_env(config: dict[str, Any], hostname: str) -> list[str]:
    """The environment the container's process starts with (moby CreateDaemonEnvironment)."""
    out = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname}"]
    if config.get("Tty"):
        out.append("TERM=xterm")
    # moby's ReplaceOrAppendEnvValues: a variable already there keeps its place
    where = {_env_key(e): i for i, e in enumerate(out)}
    for item in config.get("Env") or []:
        key = _env_key(item)
        if key in where:
            out[where[key]] = item
        else:
            where[key] = len(out)
            out.append(item)
    return out


def parse_signal(value: str | int | None, default: int = signal.SIGKILL) -> int:
    """"SIGTERM", "TERM", "15" or 15 → 15; Docker's 400 for anything else."""
    if value is None or value == "":
        return default
    if isinstance(value, int) or str(value).isdigit():
        number = int(value)
        if 0 < number < 65:
            return number
        raise InvalidParameter(f"Invalid signal: {value}")
    name = str(value).upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        if name.startswith(("SIGRTMIN", "SIGRTMAX")):
            return _realtime(name)
        raise InvalidParameter(f"Invalid signal: {value}") from None


def _realtime(name: str) -> int:
    base, _, offset = name.partition("+") if "+" in name else name.partition("-")
    n = int(signal.SIGRTMIN if base == "SIGRTMIN" else signal.SIGRTMAX)
    if offset:
        n = n + int(offset) if "+" in name else n - int(offset)
    return n


RESTART_POLICIES = {"", "no", "always", "unless-stopped", "on-failure"}


MIN_MEMORY = 6 * 1024 * 1024  # dockerd's linuxMinMemory: limits and reservations


def validate_host_config(hc: dict[str, Any]) -> None:
    """The checks dockerd does before anything is created (daemon/container.go verify*)."""
    policy = hc.get("RestartPolicy") or {}
    name = policy.get("Name") or ""
    if name not in RESTART_POLICIES:
        raise InvalidParameter(f"invalid restart policy '{name}'")
    retries = policy.get("MaximumRetryCount") or 0
    if retries < 0:
        raise InvalidParameter("invalid restart policy: maximum retry count cannot be negative")
    if retries and name != "on-failure":
        raise InvalidParameter(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if hc.get("AutoRemove") and name not in ("", "no"):
        raise InvalidParameter("can't create 'AutoRemove' container with restart policy")
    for key in ("Memory", "MemorySwap", "CpuShares", "CpuQuota", "CpuPeriod", "NanoCpus",
                "PidsLimit", "ShmSize", "MemoryReservation", "BlkioWeight"):
        value = hc.get(key)
        if value is not None and value < 0 and not (key in ("MemorySwap", "PidsLimit", "CpuQuota") and value == -1):
            raise InvalidParameter(f"invalid {key}: value must be positive")
    oom_score_adj = hc.get("OomScoreAdj") or 0
    if not -1000 <= oom_score_adj <= 1000:
        raise InvalidParameter(f"Invalid value {oom_score_adj}, range for oom score adj is "
                               "[-1000, 1000]")
    if hc.get("Memory") and hc["Memory"] < MIN_MEMORY:
        raise InvalidParameter("Minimum memory limit allowed is 6MB")
    if hc.get("NanoCpus") and (hc.get("CpuQuota") or hc.get("CpuPeriod")):
        raise InvalidParameter(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if hc.get("CpusetCpus"):
        _check_cpuset(hc["CpusetCpus"], "/sys/devices/system/cpu/online", "CPUs")
    if hc.get("CpusetMems"):
        _check_cpuset(hc["CpusetMems"], "/sys/devices/system/node/online", "Memory nodes")
    if hc.get("NanoCpus"):
        import os
        if hc["NanoCpus"] > (os.cpu_count() or 1) * 1_000_000_000:
            raise InvalidParameter(
                f"Range of CPUs is from 0.01 to {float(os.cpu_count() or 1):.2f}, "
                f"as there are only {os.cpu_count()} CPUs available")


ALL_CAPABILITIES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
    "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
    "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
    "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
    "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
    "CHECKPOINT_RESTORE").split()


# Docker's default set has one home, the runtime's spec; the same list object, named here
# for the rules below and their callers.
DEFAULT_CAPABILITIES = runtime_spec.DEFAULT_CAPABILITIES


def normalize_capability(cap: str) -> str:
    name = cap.upper().removeprefix("CAP_")
    if name != "ALL" and name not in ALL_CAPABILITIES:
        raise InvalidParameter(f'unknown capability: "{cap}"')
    return name


def capabilities(hc: dict[str, Any]) -> list[str]:
    """The capability set after --cap-add/--cap-drop (moby TweakCapabilities)."""
    if hc.get("Privileged"):
        return list(ALL_CAPABILITIES)
    try:
        add = [normalize_capability(c) for c in hc.get("CapAdd") or []]
        drop = [normalize_capability(c) for c in hc.get("CapDrop") or []]
    except InvalidParameter as exc:
        raise InvalidParameter(f"invalid CapAdd: {exc}") from None
    base = [] if "ALL" in drop else list(DEFAULT_CAPABILITIES)
    if "ALL" in add:
        base = list(ALL_CAPABILITIES)
    caps = [c for c in base if c not in drop] + [c for c in add if c != "ALL"]
    return sorted(set(caps), key=caps.index)


def _parse_set(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, text.strip().split(",")):
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(part)
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _check_cpuset(requested: str, online_file: str, what: str) -> None:
    """dockerd's check: a cpuset naming CPUs (or nodes) the host lacks is a 400."""
    try:
        wanted = _parse_set(requested)
    except ValueError:
        raise InvalidParameter(f"Invalid value {requested} for cpuset "
                               f"{'cpus' if what == 'CPUs' else 'mems'}") from None
    try:
        with open(online_file) as f:
            online_text = f.read().strip()
    except OSError:
        return
    if not wanted <= _parse_set(online_text):
        raise InvalidParameter(f"Requested {what} are not available - requested {requested}, "
                               f"available: {online_text}")

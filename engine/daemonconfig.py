"""``daemon.json`` for pydockerd: dockerd's key names, dockerd's rules for mixing it with flags.

The file is read into a typed model (unknown keys refused, types checked), and every key
it sets is also an argparse destination of ``pydockerd``. As in dockerd's
``MergeDaemonConfigurations``, a key the command line also sets is an error rather than a
silent override, and a key the file leaves out keeps the flag's value or default.

A ``SIGHUP`` reads the file again (``reloadable``): only what dockerd's ``daemon/reload.go``
changes at run time, and of that only what pydockerd has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_CONFIG_FILE = Path("/etc/pydocker/daemon.json")

# Settings a SIGHUP changes (dockerd's reload.go), as argparse destinations.
RELOADABLE = ("debug", "labels", "max_concurrent_downloads", "max_concurrent_uploads",
              "insecure_registries", "registry_mirrors")


class ConfigFileError(Exception):
    """The file cannot configure the daemon; the message is dockerd's."""


class FileSettings(BaseModel):
    """The keys pydockerd understands, spelled as dockerd spells them in daemon.json.

    Field names are pydockerd's argparse destinations, so a file key and a flag meet on
    one name. ``log-driver``/``log-opts`` map to the logging flags' destinations.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    hosts: list[str] | None = Field(None, alias="hosts")
    data_root: str | None = Field(None, alias="data-root")
    exec_root: str | None = Field(None, alias="exec-root")
    pidfile: str | None = Field(None, alias="pidfile")
    group: str | None = Field(None, alias="group")
    debug: bool | None = Field(None, alias="debug")
    log_level: str | None = Field(None, alias="log-level")
    bridge: str | None = Field(None, alias="bridge")
    bip: str | None = Field(None, alias="bip")
    iptables: bool | None = Field(None, alias="iptables")
    ip_forward: bool | None = Field(None, alias="ip-forward")
    ip6tables: bool | None = Field(None, alias="ip6tables")
    labels: list[str] | None = Field(None, alias="labels")
    max_concurrent_downloads: int | None = Field(None, alias="max-concurrent-downloads", ge=0)
    max_concurrent_uploads: int | None = Field(None, alias="max-concurrent-uploads", ge=0)
    insecure_registries: list[str] | None = Field(None, alias="insecure-registries")
    registry_mirrors: list[str] | None = Field(None, alias="registry-mirrors")
    cgroup_parent: str | None = Field(None, alias="cgroup-parent")
    default_ipc_mode: str | None = Field(None, alias="default-ipc-mode")
    log_driver: str | None = Field(None, alias="log-driver")
    log_opts: dict[str, str] | None = Field(None, alias="log-opts")


_KEY_BY_DEST = {name: f.alias or name for name, f in FileSettings.model_fields.items()}
_DEST_BY_KEY = {key: dest for dest, key in _KEY_BY_DEST.items()}


def config_key(dest: str) -> str:
    return _KEY_BY_DEST.get(dest, dest.replace("_", "-"))


def read(path: Path, *, explicit: bool) -> dict[str, Any] | None:
    """The file's JSON object; None when the default file is absent (that is fine)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        if not explicit:
            return None
        raise ConfigFileError(_unable(path, f"open {path}: no such file or directory")) from None
    except OSError as exc:
        raise ConfigFileError(_unable(path, f"open {path}: {exc.strerror}")) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(_unable(path, str(exc))) from None
    if not isinstance(raw, dict):
        raise ConfigFileError(_unable(path, "the configuration file must hold a JSON object"))
    return raw


def load(path: Path, *, explicit: bool, flags: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the file sets, as argparse destinations -> values in argparse's form.

    ``flags`` holds what the command line set explicitly (destination -> value): a key
    set in both places is refused with dockerd's message, as are unknown keys.
    """
    raw = read(path, explicit=explicit)
    if raw is None:
        return {}
    unknown = sorted(k for k in raw if k not in _DEST_BY_KEY)
    if unknown:
        raise ConfigFileError(_unable(path, "the following directives don't match any "
                                            f"configuration option: {', '.join(unknown)}"))
    conflicts = [f"{key}: (from flag: {go_format(flags[dest])}, from file: {go_format(raw[key])})"
                 for key, dest in _DEST_BY_KEY.items() if key in raw and dest in flags]
    if conflicts:
        raise ConfigFileError(_unable(path, "the following directives are specified both as "
                                            f"a flag and in the configuration file: "
                                            f"{', '.join(conflicts)}"))
    try:
        settings = FileSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigFileError(_unable(path, _first_problem(exc))) from None
    return {dest: _as_flag_value(dest, value)
            for dest, value in settings.model_dump(exclude_unset=True).items()}


def reloadable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {dest: v for dest, v in values.items() if dest in RELOADABLE}


def _as_flag_value(dest: str, value: Any) -> Any:
    """The value as argparse would have produced it from the equivalent flags."""
    if dest in ("iptables", "ip6tables", "ip_forward"):
        return "true" if value else "false"
    if dest == "log_opts":
        return [f"{k}={v}" for k, v in value.items()]
    return value


def go_format(value: Any) -> str:
    """A value printed as Go's ``%v`` prints it, for messages worded like dockerd's."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _unable(path: Path, reason: str) -> str:
    return f"unable to configure the Docker daemon with file {path}: {reason}"


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}"

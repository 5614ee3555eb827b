"""HostConfig.LogConfig as dockerd settles it at create: the daemon's driver when none is
named, and the driver and its options checked before anything exists."""

from __future__ import annotations

from typing import Any

from pydocker.engine.errors import InvalidParameter

DEFAULT_DRIVER = "json-file"
NONE = "none"  # nothing kept: the shim writes to /dev/null, and logs cannot be read
NOT_READABLE = "configured logging driver does not support reading"
# The options dockerd's json-file driver accepts (daemon/logger/jsonfilelog ValidateLogOpt).
JSON_FILE_OPTS = frozenset({"max-file", "max-size", "compress", "labels", "labels-regex",
                            "env", "env-regex", "tag"})
# Drivers built into dockerd that this engine does not write: named, so the refusal says
# so, rather than dockerd's "plugin not found" for a name nobody knows.
OTHER_BUILTIN = frozenset({"local", "syslog", "journald", "gelf", "fluentd",
                           "awslogs", "splunk", "etwlogs", "gcplogs", "logentries"})


def settle(host_config: dict[str, Any]) -> None:
    """Fill in and check ``host_config["LogConfig"]`` in place (400 on a bad driver)."""
    log_config = dict(host_config.get("LogConfig") or {})
    driver = log_config.get("Type") or DEFAULT_DRIVER
    options = dict(log_config.get("Config") or {})
    if driver == NONE:  # dockerd's none driver takes any option and uses none
        host_config["LogConfig"] = {"Type": driver, "Config": options}
        return
    if driver in OTHER_BUILTIN:
        raise InvalidParameter(f'logging driver "{driver}" is not supported by this engine '
                               f"(it writes {DEFAULT_DRIVER} logs, or none)")
    if driver != DEFAULT_DRIVER:
        raise InvalidParameter(
            f'error looking up logging plugin {driver}: plugin "{driver}" not found')
    for key in options:
        if key not in JSON_FILE_OPTS:
            raise InvalidParameter(f"unknown log opt '{key}' for {driver} log driver")
    host_config["LogConfig"] = {"Type": driver, "Config": options}


def keeps_logs(host_config: dict[str, Any]) -> bool:
    return (host_config.get("LogConfig") or {}).get("Type") != NONE

"""HostConfig.LogConfig, checked when dockerd checks it.

At create (``settle``): the daemon's driver when none is named, the daemon's options
merged in when the driver is the daemon's, and the driver and option names checked
(dockerd's ValidateLogOpts). At start (``log_spec``): the option values, with the
messages of the driver's constructor (dockerd's jsonfilelog.New / local.New), turned into
what the shim needs to write and rotate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydocker.engine.errors import InvalidParameter, SystemFailure
from pydocker.engine.runtime.spec import LogSpec

JSON_FILE = "json-file"
LOCAL = "local"
NONE = "none"  # nothing kept: the shim discards the output, and logs cannot be read
DEFAULT_DRIVER = JSON_FILE
NOT_READABLE = "configured logging driver does not support reading"
# The options each driver accepts (dockerd 20.10's ValidateLogOpt of each).
DRIVER_OPTS = {
    JSON_FILE: frozenset({"max-file", "max-size", "compress", "labels", "labels-regex",
                          "env", "env-regex", "tag"}),
    LOCAL: frozenset({"max-file", "max-size", "compress"}),
}
# Drivers built into dockerd that this engine does not write: named, so the refusal says
# so, rather than dockerd's "plugin not found" for a name nobody knows.
OTHER_BUILTIN = frozenset({"syslog", "journald", "gelf", "fluentd", "awslogs", "splunk",
                           "etwlogs", "gcplogs", "logentries"})
LOCAL_MAX_SIZE = 20 * 1024 * 1024  # local's defaults (moby daemon/logger/local)
LOCAL_MAX_FILE = 5
T = TypeVar("T")


@dataclass(frozen=True)
class LogDefaults:
    """The daemon's ``--log-driver`` and ``--log-opt``s."""
    driver: str = DEFAULT_DRIVER
    options: Mapping[str, str] = field(default_factory=dict)


DAEMON_DEFAULTS = LogDefaults()  # a daemon started without --log-driver / --log-opt


def check(driver: str, options: Mapping[str, str]) -> None:
    """The driver exists and knows every option named (400, dockerd's wording)."""
    if driver == NONE:  # dockerd's none driver takes any option and uses none
        return
    if driver in OTHER_BUILTIN:
        raise InvalidParameter(f'logging driver "{driver}" is not supported by this engine '
                               f"(it writes {JSON_FILE} or {LOCAL} logs, or none)")
    known = DRIVER_OPTS.get(driver)
    if known is None:
        raise InvalidParameter(
            f'error looking up logging plugin {driver}: plugin "{driver}" not found')
    for key in options:
        if key not in known:
            raise InvalidParameter(f"unknown log opt '{key}' for {driver} log driver"
                                   if driver == JSON_FILE else
                                   f"unknown log opt '{key}' for log driver {driver}")


def settle(host_config: dict[str, Any], defaults: LogDefaults = DAEMON_DEFAULTS) -> None:
    """Fill in and check ``host_config["LogConfig"]`` in place (400 on a bad driver)."""
    log_config = dict(host_config.get("LogConfig") or {})
    driver = log_config.get("Type") or defaults.driver
    options = dict(log_config.get("Config") or {})
    if driver == defaults.driver:
        options = {**defaults.options, **options}
    check(driver, options)
    host_config["LogConfig"] = {"Type": driver, "Config": options}


def driver_of(host_config: dict[str, Any]) -> str:
    return (host_config.get("LogConfig") or {}).get("Type") or DEFAULT_DRIVER


def keeps_logs(host_config: dict[str, Any]) -> bool:
    return driver_of(host_config) != NONE


class LogOptionError(SystemFailure):
    """A log option's value is refused when the container starts: dockerd's 500, its
    "failed to initialize logging driver: ..." message."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"failed to initialize logging driver: {detail}")


def log_spec(host_config: dict[str, Any], config: dict[str, Any] | None = None) -> LogSpec:
    """What the shim needs to write this container's log (LogOptionError if a value is
    bad). ``config``: the container's Config, whose Labels and Env the json-file
    options ``labels``/``env`` pick for each line's ``attrs``."""
    driver = driver_of(host_config)
    options: dict[str, str] = (host_config.get("LogConfig") or {}).get("Config") or {}
    if driver == JSON_FILE:
        spec = _json_file(options)
        attrs = extra_attributes(options, config or {})
        if attrs:
            spec["attrs"] = attrs
        return spec
    if driver == LOCAL:
        return _local(options)
    return {"driver": driver}


def _json_file(options: dict[str, str]) -> LogSpec:
    max_size = _parsed(options, "max-size", from_human_size, -1)
    if "max-size" in options and max_size <= 0:
        raise LogOptionError("max-size must be a positive number")
    max_file = _parsed(options, "max-file", go_atoi, 1)
    if max_file < 1:
        raise LogOptionError("max-file cannot be less than 1")
    compress = _parsed(options, "compress", go_parse_bool, False)
    if compress and (max_file == 1 or max_size == -1):
        raise LogOptionError("compress cannot be true when max-file is less than 2 "
                             "or max-size is not set")
    return {"driver": JSON_FILE, "max_size": max_size, "max_file": max_file,
            "compress": compress}


def extra_attributes(options: Mapping[str, str], config: dict[str, Any]) -> dict[str, str]:
    """dockerd's logger.Info.ExtraAttributes: the labels named by ``labels`` or matched
    by ``labels-regex``, then the environment variables named by ``env`` or matched by
    ``env-regex`` (a variable wins over a label of the same name)."""
    labels: dict[str, str] = config.get("Labels") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    extra: dict[str, str] = {}
    for names_key, regex_key, values in (("labels", "labels-regex", labels),
                                         ("env", "env-regex", env)):
        for name in filter(None, options.get(names_key, "").split(",")):
            if name in values:
                extra[name] = values[name]
        if options.get(regex_key):
            pattern = _compiled(options[regex_key])
            extra.update((k, v) for k, v in values.items() if pattern.search(k))
    return extra


# Python's words for the commonest mistakes, in Go's regexp package's (syntax.ErrorCode).
_GO_REGEXP_ERRORS = {"missing ), unterminated subpattern": "missing closing )",
                     "unterminated character set": "missing closing ]",
                     "nothing to repeat": "missing argument to repetition operator",
                     "unbalanced parenthesis": "unexpected )"}


def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        reason = _GO_REGEXP_ERRORS.get(exc.msg, exc.msg)
        raise LogOptionError(f"error parsing regexp: {reason}: `{pattern}`") from None


def _local(options: dict[str, str]) -> LogSpec:
    max_size = _parsed(options, "max-size", from_human_size, LOCAL_MAX_SIZE,
                       f"invalid value for max-size: {options.get('max-size')}: ")
    max_file = _parsed(options, "max-file", go_atoi, LOCAL_MAX_FILE,
                       f"invalid value for max-file: {options.get('max-file')}: ")
    compress = _parsed(options, "compress", go_parse_bool, True,
                       "error reading compress log option: ")
    if max_file < 0:
        raise LogOptionError("max file count cannot be less than 0")
    if compress and max_file <= 1:
        raise LogOptionError("compression cannot be enabled when max file count is 1")
    return {"driver": LOCAL, "max_size": max_size, "max_file": max_file,
            "compress": compress}


def _parsed(options: dict[str, str], key: str, parse: Callable[[str], T], default: T,
            context: str = "") -> T:
    if key not in options:
        return default
    try:
        return parse(options[key])
    except ValueError as exc:
        raise LogOptionError(f"{context}{exc}") from None


# --- Go's parsers, with their error texts ------------------------------------------

_SIZE = re.compile(r"(?i)^(\d+(\.\d+)*) ?([kmgtp])?i?b?$")
_DECIMAL = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_INT = re.compile(r"[+-]?[0-9]+")
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def from_human_size(text: str) -> int:
    """go-units FromHumanSize, which dockerd 20.10's json-file and local use for
    max-size: decimal multiples ("10k" is 10000 bytes, "1m" 1000000), "i" and "b"
    accepted and ignored ("1MiB" is 1000000 too)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"invalid size: '{text}'")
    try:
        number = float(match.group(1))
    except ValueError:  # "1.2.3": the pattern lets it through, as go-units' does
        raise ValueError(f'strconv.ParseFloat: parsing "{match.group(1)}": invalid syntax'
                         ) from None
    return int(number * _DECIMAL.get((match.group(3) or "").lower(), 1))


def go_atoi(text: str) -> int:
    if not _INT.fullmatch(text):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value


def go_parse_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')

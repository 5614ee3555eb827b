"""LogConfig: the daemon's defaults at create, and the option values at start with the
messages dockerd 20.10 gives (each one read from the reference dockerd on this machine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydocker.engine.containers import logconfig
from pydocker.engine.containers.logconfig import LogDefaults, LogOptionError
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.main import parse_args

COMPRESS_REFUSED = ("compress cannot be true when max-file is less than 2 or max-size is "
                    "not set")


def spec(driver: str, **options: str) -> Any:
    return logconfig.log_spec({"LogConfig": {"Type": driver, "Config": options}})


@pytest.mark.parametrize(("options", "message"), [
    ({"max-file": "x"}, 'strconv.Atoi: parsing "x": invalid syntax'),
    ({"max-file": "99999999999999999999"},
     'strconv.Atoi: parsing "99999999999999999999": value out of range'),
    ({"max-file": "0"}, "max-file cannot be less than 1"),
    ({"max-size": "x"}, "invalid size: 'x'"),
    ({"max-size": "-1"}, "invalid size: '-1'"),
    ({"max-size": "1.2.3"}, 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
    ({"max-size": "0"}, "max-size must be a positive number"),
    ({"compress": "x"}, 'strconv.ParseBool: parsing "x": invalid syntax'),
    ({"compress": "true"}, COMPRESS_REFUSED),
    ({"compress": "true", "max-size": "1m"}, COMPRESS_REFUSED),
])
def test_bad_json_file_values_get_dockerds_messages(options: dict[str, str],
                                                    message: str) -> None:
    with pytest.raises(LogOptionError) as err:
        spec("json-file", **options)
    assert str(err.value) == f"failed to initialize logging driver: {message}"


@pytest.mark.parametrize(("options", "message"), [
    ({"max-file": "x"}, 'invalid value for max-file: x: strconv.Atoi: parsing "x": invalid syntax'),
    ({"max-file": "0"}, "compression cannot be enabled when max file count is 1"),
    ({"max-file": "-1"}, "max file count cannot be less than 0"),
    ({"max-size": "x"}, "invalid value for max-size: x: invalid size: 'x'"),
    ({"max-size": "1.2.3"},
     'invalid value for max-size: 1.2.3: strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
    ({"compress": "x"},
     'error reading compress log option: strconv.ParseBool: parsing "x": invalid syntax'),
])
def test_bad_local_values_get_dockerds_messages(options: dict[str, str], message: str) -> None:
    with pytest.raises(LogOptionError) as err:
        spec("local", **options)
    assert str(err.value) == f"failed to initialize logging driver: {message}"


def test_sizes_are_decimal_as_dockerds_go_units_from_human_size() -> None:
    # dockerd 20.10 rotated a "10k" file at 10071 bytes: 10k is 10000 bytes, not 10240.
    assert logconfig.from_human_size("10k") == 10_000
    assert logconfig.from_human_size("1m") == 1_000_000
    assert logconfig.from_human_size("1MiB") == 1_000_000
    assert logconfig.from_human_size("1.5g") == 1_500_000_000
    assert logconfig.from_human_size("42") == 42
    assert spec("json-file", **{"max-size": "1m", "max-file": "3", "compress": "T"}) == {
        "driver": "json-file", "max_size": 1_000_000, "max_file": 3, "compress": True}
    assert spec("json-file") == {"driver": "json-file", "max_size": -1, "max_file": 1,
                                 "compress": False}
    assert spec("local") == {"driver": "local", "max_size": 20 * 1024 * 1024, "max_file": 5,
                             "compress": True}
    assert spec("local", **{"max-file": "1", "compress": "false", "max-size": "0"}) == {
        "driver": "local", "max_size": 0, "max_file": 1, "compress": False}


def test_the_daemons_defaults_apply_to_its_own_driver_only() -> None:
    defaults = LogDefaults("local", {"max-size": "5m"})
    unnamed: dict[str, Any] = {}
    logconfig.settle(unnamed, defaults)
    assert unnamed["LogConfig"] == {"Type": "local", "Config": {"max-size": "5m"}}
    own = {"LogConfig": {"Type": "local", "Config": {"max-size": "1m", "max-file": "2"}}}
    logconfig.settle(own, defaults)
    assert own["LogConfig"]["Config"] == {"max-size": "1m", "max-file": "2"}
    other = {"LogConfig": {"Type": "json-file"}}
    logconfig.settle(other, defaults)
    assert other["LogConfig"] == {"Type": "json-file", "Config": {}}


@pytest.mark.parametrize(("driver", "options", "message"), [
    ("local", {"tag": "x"}, "unknown log opt 'tag' for log driver local"),
    ("json-file", {"foo": "1"}, "unknown log opt 'foo' for json-file log driver"),
    ("asdf", {}, 'error looking up logging plugin asdf: plugin "asdf" not found'),
])
def test_unknown_drivers_and_options_are_refused_at_create(
        driver: str, options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        logconfig.settle({"LogConfig": {"Type": driver, "Config": options}})


def test_daemon_flags_give_the_default_driver_and_options() -> None:
    config = parse_args(["--log-driver", "local", "--log-opt", "max-size=5m",
                         "--log-opt", "max-file=2"])
    assert config.log_driver == "local"
    assert dict(config.log_opts) == {"max-size": "5m", "max-file": "2"}
    plain = parse_args([])
    assert (plain.log_driver, plain.log_opts) == ("json-file", ())


@pytest.mark.parametrize(("argv", "message"), [
    (["--log-opt", "foo=1"],
     "failed to set log opts: unknown log opt 'foo' for json-file log driver"),
    (["--log-driver", "nope"], 'error looking up logging plugin nope: plugin "nope" not found'),
    (["--log-opt", "max-size"], "invalid key value pair format in log-opt"),
])
def test_bad_daemon_log_flags_stop_the_start(argv: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert message in capsys.readouterr().err


def test_daemon_json_gives_them_too_but_not_beside_the_flags(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "daemon.json"
    config_file.write_text(json.dumps({"log-driver": "local",
                                       "log-opts": {"max-size": "1m", "max-file": "2"}}))
    config = parse_args(["--config-file", str(config_file)])
    assert (config.log_driver, dict(config.log_opts)) == (
        "local", {"max-size": "1m", "max-file": "2"})
    with pytest.raises(SystemExit):
        parse_args(["--config-file", str(config_file), "--log-opt", "max-size=2m"])
    assert "log-opts" in capsys.readouterr().err  # dockerd's conflict, named
    config_file.write_text(json.dumps({"log-opts": {"tag": "x"}, "log-driver": "local"}))
    with pytest.raises(SystemExit):
        parse_args(["--config-file", str(config_file)])
    assert "unknown log opt 'tag' for log driver local" in capsys.readouterr().err


def test_extra_attributes_pick_labels_then_env_as_dockerd() -> None:
    config = {"Labels": {"a": "1", "b": "2", "FOO": "label", "other": "o"},
              "Env": ["FOO=foo", "BAR=bar", "EMPTY=", "NOEQUALS"]}
    options = {"labels": "a,missing", "labels-regex": "^oth", "env": "FOO,EMPTY,NOEQUALS",
               "env-regex": "^BA"}
    assert logconfig.extra_attributes(options, config) == {
        "a": "1", "other": "o", "FOO": "foo", "EMPTY": "", "BAR": "bar"}
    assert logconfig.extra_attributes({}, config) == {}
    spec = logconfig.log_spec({"LogConfig": {"Type": "json-file", "Config": options}}, config)
    assert spec["attrs"]["FOO"] == "foo"
    assert "attrs" not in logconfig.log_spec({"LogConfig": {"Type": "json-file"}}, config)


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(", "missing closing )"), ("[", "missing closing ]"),
    ("*", "missing argument to repetition operator"), (")", "unexpected )")])
def test_a_bad_regex_fails_with_gos_words(pattern: str, reason: str) -> None:
    with pytest.raises(LogOptionError) as err:
        logconfig.log_spec({"LogConfig": {"Type": "json-file",
                                          "Config": {"env-regex": pattern}}}, {})
    assert str(err.value) == (f"failed to initialize logging driver: error parsing regexp: "
                              f"{reason}: `{pattern}`")

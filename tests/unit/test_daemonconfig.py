"""daemon.json: dockerd's keys, merged under pydockerd's flags with dockerd's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydocker.engine import daemonconfig
from pydocker.engine.daemonconfig import ConfigFileError
from pydocker.engine.main import explicit_flags, parse_args, startup


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps(doc))
    return path


def test_file_values_reach_the_config(tmp_path: Path) -> None:
    path = write(tmp_path, {"labels": ["site=lab"], "debug": True, "iptables": False,
                            "max-concurrent-downloads": 7, "registry-mirrors":
                            ["https://mirror.example"], "insecure-registries": ["10.0.0.0/8"],
                            "cgroup-parent": "pyd-x", "bip": "10.99.0.1/24"})
    config = startup(["--config-file", str(path), "--bridge", "pydtx"]).config
    assert config.labels == ("site=lab",)
    assert config.debug and config.log_level == "debug"
    assert config.iptables is False
    assert config.max_concurrent_downloads == 7
    assert config.max_concurrent_uploads == 5  # not in the file: the flag's default
    assert config.registry_mirrors == ("https://mirror.example",)
    assert config.insecure_registries == ("10.0.0.0/8",)
    assert (config.cgroup_parent, config.bip, config.bridge) == ("pyd-x", "10.99.0.1/24",
                                                                 "pydtx")


def test_a_key_also_given_as_a_flag_is_refused_with_dockerds_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"data-root": "/srv/a", "labels": ["a=1"], "debug": True})
    with pytest.raises(SystemExit) as exit_:
        startup(["--config-file", str(path), "--data-root", "/srv/b", "--label", "b=2"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        f"pydockerd: unable to configure the Docker daemon with file {path}: the following "
        "directives are specified both as a flag and in the configuration file: "
        "data-root: (from flag: /srv/b, from file: /srv/a), "
        "labels: (from flag: [b=2], from file: [a=1])\n")


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"storage-driver": "overlay2", "debug": True})
    with pytest.raises(ConfigFileError, match="the following directives don't match any "
                                              "configuration option: storage-driver$"):
        daemonconfig.load(path, explicit=True, flags={})


def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"debug": "yes"})
    with pytest.raises(ConfigFileError, match=r"file .*daemon.json: debug: "):
        daemonconfig.load(path, explicit=True, flags={})


def test_a_missing_default_file_is_fine_a_missing_given_one_is_not(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert daemonconfig.load(missing, explicit=False, flags={}) == {}
    with pytest.raises(ConfigFileError, match=f"open {missing}: no such file or directory"):
        daemonconfig.load(missing, explicit=True, flags={})


def test_bad_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text('{"debug": true,')
    with pytest.raises(ConfigFileError, match="unable to configure the Docker daemon"):
        daemonconfig.load(path, explicit=True, flags={})


def test_log_keys_map_to_the_logging_flags_destinations(tmp_path: Path) -> None:
    path = write(tmp_path, {"log-driver": "local", "log-opts": {"max-size": "1m"}})
    assert daemonconfig.load(path, explicit=True, flags={}) == {
        "log_driver": "local", "log_opts": ["max-size=1m"]}


def test_only_what_dockerd_reloads_is_reloadable(tmp_path: Path) -> None:
    path = write(tmp_path, {"labels": ["a=1"], "data-root": "/srv", "debug": False,
                            "registry-mirrors": []})
    values = daemonconfig.load(path, explicit=True, flags={})
    assert daemonconfig.reloadable(values) == {"labels": ["a=1"], "debug": False,
                                               "registry_mirrors": []}


def test_explicit_flags_leave_defaults_out() -> None:
    given = explicit_flags(["-D", "--label", "a=1", "--iptables", "false"])
    assert given == {"debug": True, "labels": ["a=1"], "iptables": "false"}


def test_an_engine_label_needs_a_value(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"labels": ["novalue"]})
    with pytest.raises(SystemExit):
        startup(["--config-file", str(path)])
    assert "bad attribute format: novalue" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "printed"), [
    (True, "true"), (3.0, "3"), (["a", "b"], "[a b]"), ({"k": "v", "a": 1}, "map[a:1 k:v]"),
    ("x", "x")])
def test_values_print_as_go_prints_them(value: object, printed: str) -> None:
    assert daemonconfig.go_format(value) == printed


def test_the_systemd_units_command_line_parses(tmp_path: Path) -> None:
    """pydocker.service runs ``pydockerd -H fd://`` and pydocker.socket listens where the
    default -H would: the two must agree with the entry point."""
    units = Path(__file__).resolve().parents[2] / "contrib" / "systemd"
    service = (units / "pydocker.service").read_text()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    flags = exec_start.split()[1:]
    config = parse_args([*flags, "--config-file", str(write(tmp_path, {}))])
    assert config.hosts == ("fd://",)
    assert config.socket_paths() == []  # systemd's socket: never bound nor removed by us
    assert "ListenStream=/run/pydocker.sock" in (units / "pydocker.socket").read_text()


def test_a_reload_resets_the_limits_the_file_leaves_out_to_flag_or_default(
        tmp_path: Path) -> None:
    path = write(tmp_path, {"max-concurrent-downloads": 9, "max-concurrent-uploads": 9})
    boot = startup(["--config-file", str(path), "--log-level", "warn"])
    assert boot.config.max_concurrent_downloads == 9
    write(tmp_path, {"labels": ["a=2"]})
    assert boot.reread() == {"labels": ["a=2"], "max_concurrent_downloads": 3,
                             "max_concurrent_uploads": 5}
    assert boot.log_level == "warn"


def test_a_reload_keeps_refusing_keys_the_command_line_set(tmp_path: Path) -> None:
    path = write(tmp_path, {})
    boot = startup(["--config-file", str(path), "--label", "a=1"])
    write(tmp_path, {"labels": ["a=2"]})
    with pytest.raises(ConfigFileError, match=r"labels: \(from flag: \[a=1\], from file: "
                                              r"\[a=2\]\)"):
        boot.reread()


def test_hosts_and_paths_come_from_the_file_when_no_flag_gives_them(tmp_path: Path) -> None:
    path = write(tmp_path, {"hosts": ["unix:///run/pydt-a.sock", "fd://"],
                            "data-root": "/srv/pydt", "exec-root": "/run/pydt",
                            "pidfile": "/run/pydt.pid", "group": "pydt", "ip-forward": False})
    config = startup(["--config-file", str(path)]).config
    assert config.hosts == ("unix:///run/pydt-a.sock", "fd://")
    assert config.socket_paths() == [Path("/run/pydt-a.sock")]
    assert (config.data_root, config.exec_root, config.pidfile) == (
        Path("/srv/pydt"), Path("/run/pydt"), Path("/run/pydt.pid"))
    assert (config.group, config.ip_forward) == ("pydt", False)

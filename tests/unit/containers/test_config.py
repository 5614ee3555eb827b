"""ENTRYPOINT/CMD/ENV merging, signals, capabilities, names and users — Docker's rules."""

from __future__ import annotations

import signal

import pytest
from pydocker.engine.containers import config as cfg
from pydocker.engine.containers import names, users
from pydocker.engine.errors import InvalidParameter

IMAGE = {"Cmd": ["sh"], "Entrypoint": None, "Env": ["PATH=/bin", "A=image"],
         "WorkingDir": "/work", "Labels": {"from": "image"}, "User": "daemon"}


@pytest.mark.parametrize("user,expected", [
    ({}, ("sh", [])),
    ({"Cmd": ["echo", "hi"]}, ("echo", ["hi"])),
    ({"Entrypoint": ["/entry"]}, ("/entry", [])),           # image CMD is dropped
    ({"Entrypoint": ["/entry"], "Cmd": ["x"]}, ("/entry", ["x"])),
])
def test_entrypoint_and_cmd(user: dict, expected: tuple) -> None:
    merged = cfg.merge_image_config(user, IMAGE)
    assert cfg.entrypoint_and_args(merged) == expected


def test_image_entrypoint_takes_user_cmd() -> None:
    merged = cfg.merge_image_config({"Cmd": ["a"]}, {**IMAGE, "Entrypoint": ["/e", "-x"]})
    assert cfg.entrypoint_and_args(merged) == ("/e", ["-x", "a"])


def test_an_empty_entrypoint_clears_the_images() -> None:
    """`--entrypoint ''` sends [""]: the image's ENTRYPOINT goes, the user's CMD runs
    alone; with no CMD either there is nothing to run (moby's mergeAndVerifyConfig)."""
    image = {**IMAGE, "Entrypoint": ["/e"]}
    merged = cfg.merge_image_config({"Entrypoint": [""], "Cmd": ["echo", "hi"]}, image)
    assert merged["Entrypoint"] is None
    assert cfg.entrypoint_and_args(merged) == ("echo", ["hi"])
    with pytest.raises(InvalidParameter, match="No command specified"):
        cfg.entrypoint_and_args(cfg.merge_image_config({"Entrypoint": [""]}, image))


def test_no_command_is_400() -> None:
    with pytest.raises(InvalidParameter, match="No command specified"):
        cfg.entrypoint_and_args(cfg.merge_image_config({}, {}))


def test_env_user_overrides_image_by_key() -> None:
    merged = cfg.merge_image_config({"Env": ["A=user", "B=2"]}, IMAGE)
    assert merged["Env"] == ["PATH=/bin", "A=user", "B=2"]
    env = cfg.process_env(merged, "host1")
    assert "HOSTNAME=host1" in env and env.count("PATH=/bin") == 1


def test_default_path_and_term() -> None:
    env = cfg.process_env({"Env": [], "Tty": True}, "h")
    assert env[0] == f"PATH={cfg.DEFAULT_PATH}" and "TERM=xterm" in env


def test_workdir_user_and_labels_come_from_image_when_unset() -> None:
    merged = cfg.merge_image_config({"Labels": {"mine": "1"}}, IMAGE)
    assert merged["WorkingDir"] == "/work"
    assert merged["User"] == "daemon"
    assert merged["Labels"] == {"from": "image", "mine": "1"}


@pytest.mark.parametrize("value,number", [("SIGTERM", 15), ("TERM", 15), ("15", 15), (9, 9),
                                          ("usr1", int(signal.SIGUSR1)), (None, 9)])
def test_parse_signal(value: object, number: int) -> None:
    assert cfg.parse_signal(value) == number  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["SIGNOPE", "0", "99", "-1"])
def test_bad_signal(value: str) -> None:
    with pytest.raises(InvalidParameter):
        cfg.parse_signal(value)


def test_capabilities_default_add_drop_all() -> None:
    assert cfg.capabilities({}) == cfg.DEFAULT_CAPABILITIES
    caps = cfg.capabilities({"CapAdd": ["NET_ADMIN"], "CapDrop": ["CAP_CHOWN"]})
    assert "NET_ADMIN" in caps and "CHOWN" not in caps
    assert cfg.capabilities({"CapDrop": ["ALL"], "CapAdd": ["KILL"]}) == ["KILL"]
    assert len(cfg.capabilities({"Privileged": True})) == len(cfg.ALL_CAPABILITIES)
    with pytest.raises(InvalidParameter, match="unknown capability"):
        cfg.capabilities({"CapAdd": ["BOGUS"]})


@pytest.mark.parametrize("hc,message", [
    ({"RestartPolicy": {"Name": "sometimes"}}, "invalid restart policy"),
    ({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 2}}, "on-failure"),
    ({"AutoRemove": True, "RestartPolicy": {"Name": "always"}}, "AutoRemove"),
    ({"Memory": 1024}, "Minimum memory limit"),
    ({"CpuShares": -5}, "positive"),
    ({"CpusetCpus": "0-4095"}, "Requested CPUs are not available"),
    ({"CpusetCpus": "x"}, "Invalid value x"),
])
def test_host_config_validation(hc: dict, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        cfg.validate_host_config(hc)


@pytest.mark.parametrize("name,ok", [("web", True), ("/web", True), ("a.b-c_d", True),
                                     ("x", False), ("bad name", False), ("-x", False)])
def test_container_names(name: str, ok: bool) -> None:
    if ok:
        assert names.validate(name) == name.lstrip("/")
    else:
        with pytest.raises(InvalidParameter, match="Invalid container name"):
            names.validate(name)


def test_random_names_avoid_taken() -> None:
    taken = {names.random_name(set()) for _ in range(50)}
    assert names.random_name(taken) not in taken


PASSWD = "root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/var/www:/bin/false\n"
GROUP = "root:x:0:\nwww-data:x:33:\nusers:x:100:www-data\n"


@pytest.mark.parametrize("spec,expected", [
    ("", {"uid": 0, "gid": 0, "additional_gids": [0], "home": "/root"}),
    ("www-data", {"uid": 33, "gid": 33, "additional_gids": [33, 100], "home": "/var/www"}),
    ("1000", {"uid": 1000, "gid": 0, "additional_gids": [0], "home": "/"}),
    ("1000:users", {"uid": 1000, "gid": 100, "additional_gids": [100], "home": "/"}),
    ("www-data:0", {"uid": 33, "gid": 0, "additional_gids": [0], "home": "/var/www"}),
    (":users", {"uid": 0, "gid": 100, "additional_gids": [100], "home": "/root"}),
])
def test_user_resolution(spec: str, expected: dict) -> None:
    assert users.resolve(spec, PASSWD, GROUP) == expected


def test_unknown_user_is_400() -> None:
    with pytest.raises(InvalidParameter, match="unable to find user nobody"):
        users.resolve("nobody", PASSWD, GROUP)


def test_status_durations_read_as_dockers() -> None:
    """go-units HumanDuration: hours are rounded first, days count whole rounded hours."""
    from pydocker.engine.containers.views import human_duration
    hour = 3600 * 10**9
    assert human_duration(int(47.6 * hour)) == "2 days"
    assert human_duration(int(47.4 * hour)) == "47 hours"
    assert human_duration(int(0.6 * hour)) == "36 minutes"
    assert human_duration(int(1.4 * hour)) == "About an hour"
    assert human_duration(int(24 * 15 * hour)) == "2 weeks"

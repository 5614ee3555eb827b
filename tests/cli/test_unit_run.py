"""run/create flags -> the create body; exec body; exit statuses (no daemon)."""

from __future__ import annotations

from typing import Any

import pytest
from pydocker.cli.commands.run import COMMANDS, familiar, start_status
from pydocker.cli.commands.runconfig import (
    build_create_body,
    parse_duration_ns,
    parse_mount,
    parse_publish,
    parse_restart,
)
from pydocker.cli.errors import CliError
from pydocker.cli.flags import parse


def body(*argv: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return build_create_body(parse(COMMANDS["run"], list(argv)))


def test_minimal_run() -> None:
    config, query = body("busybox", "echo", "hi")
    assert config["Image"] == "busybox" and config["Cmd"] == ["echo", "hi"]
    assert (config["AttachStdout"], config["AttachStderr"], config["AttachStdin"]) == (
        True, True, False)
    assert config["HostConfig"]["NetworkMode"] == "default"
    assert config["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert query == {"name": None, "platform": None}


def test_full_flag_set(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=1\n\nPASSED\n")
    monkeypatch.setenv("PASSED", "yes")
    config, query = body(
        "-d", "-it", "--rm", "--name", "web", "-e", "A=1", "--env-file", str(env_file),
        "-p", "8080:80", "-p", "127.0.0.1::53/udp", "-v", "/data:/data:ro", "-v", "/anon",
        "--mount", "type=tmpfs,target=/t,tmpfs-size=64m", "--network", "net1",
        "--network-alias", "alias1", "-w", "/work", "-u", "1000:1000", "--entrypoint", "sh",
        "--memory", "512m", "--cpus", "1.5", "--init", "--hostname", "box", "-l", "k=v",
        "--cap-add", "NET_ADMIN", "--read-only", "--tmpfs", "/run:size=1m",
        "--ulimit", "nofile=1024:2048", "--health-cmd", "true", "--health-interval", "1m30s",
        "busybox", "sh", "-c", "x")
    hc = config["HostConfig"]
    assert config["Env"] == ["FROM_FILE=1", "PASSED=yes", "A=1"]
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert hc["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                  "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert hc["Binds"] == ["/data:/data:ro"] and config["Volumes"] == {"/anon": {}}
    assert hc["Mounts"] == [{"Type": "tmpfs", "Target": "/t",
                             "TmpfsOptions": {"SizeBytes": 64 << 20}}]
    assert hc["NetworkMode"] == "net1" and hc["AutoRemove"] is True
    assert config["NetworkingConfig"] == {"EndpointsConfig": {"net1": {"Aliases": ["alias1"]}}}
    assert (config["WorkingDir"], config["User"], config["Entrypoint"]) == (
        "/work", "1000:1000", ["sh"])
    assert hc["Memory"] == 512 << 20 and hc["NanoCpus"] == 1_500_000_000 and hc["Init"]
    assert config["Hostname"] == "box" and config["Labels"] == {"k": "v"}
    assert hc["CapAdd"] == ["NET_ADMIN"] and hc["ReadonlyRootfs"] is True
    assert hc["Tmpfs"] == {"/run": "size=1m"}
    assert hc["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert config["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert config["Healthcheck"]["Interval"] == 90 * 10**9
    assert config["Tty"] and config["OpenStdin"]
    assert not config["AttachStdout"]  # detached
    assert query["name"] == "web"
    assert config["Cmd"] == ["sh", "-c", "x"]


def test_static_addresses_go_to_the_endpoint() -> None:
    config, _ = body("--network", "n", "--ip", "10.1.2.3", "busybox")
    assert config["NetworkingConfig"] == {
        "EndpointsConfig": {"n": {"IPAMConfig": {"IPv4Address": "10.1.2.3"}}}}
    assert "NetworkingConfig" not in body("busybox")[0]


def test_empty_entrypoint_resets_it() -> None:
    assert body("--entrypoint", "", "busybox")[0]["Entrypoint"] == [""]


@pytest.mark.parametrize("argv,message", [
    (["--rm", "--restart", "always", "busybox"], "Conflicting options: --restart and --rm"),
    (["-d", "-a", "stdout", "busybox"], "Conflicting options: -a and -d"),
    (["--restart", "sometimes", "busybox"], "invalid restart policy: unknown policy"),
    (["--memory", "lots", "busybox"], 'invalid argument "lots" for "-m, --memory" flag'),
])
def test_conflicts_exit_125(argv: list[str], message: str) -> None:
    with pytest.raises(CliError) as e:
        body(*argv)
    assert message in str(e.value) and e.value.status == 125


def test_publish_ranges_and_ipv6() -> None:
    exposed, bindings = parse_publish(["9000-9001:9000-9001/udp", "[::1]:8080:80"])
    assert list(exposed) == ["9000/udp", "9001/udp", "80/tcp"]
    assert bindings["9001/udp"] == [{"HostIp": "", "HostPort": "9001"}]
    assert bindings["80/tcp"] == [{"HostIp": "::1", "HostPort": "8080"}]


def test_mount_restart_duration() -> None:
    assert parse_mount("type=bind,source=/a,target=/b,readonly") == {
        "Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True}
    assert parse_mount("src=vol,dst=/v") == {"Type": "volume", "Source": "vol", "Target": "/v"}
    assert parse_restart("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert parse_duration_ns("500ms") == 500_000_000


@pytest.mark.parametrize("message,status", [
    ('exec: "nosuch": executable file not found in $PATH', 127),
    ("exec /x: no such file or directory", 127),
    ("exec /etc/passwd: permission denied", 126),
    ("something else", 125),
])
def test_start_failure_status(message: str, status: int) -> None:
    assert start_status(message) == status


def test_familiar_names() -> None:
    assert familiar("busybox") == "busybox:latest"
    assert familiar("localhost:5000/x") == "localhost:5000/x:latest"
    assert familiar("x:1") == "x:1"
    assert familiar("x@sha256:abc") == "x@sha256:abc"


def test_exec_body() -> None:
    from pydocker.cli.commands.execute import COMMANDS as EXEC
    from pydocker.cli.commands.execute import build_exec_body
    opts = parse(EXEC["exec"], ["-i", "-e", "A=1", "-w", "/tmp", "-u", "nobody", "web",
                                "sh", "-c", "exit 3"])
    b = build_exec_body(opts)
    assert b["Cmd"] == ["sh", "-c", "exit 3"] and b["Env"] == ["A=1"]
    assert (b["AttachStdin"], b["AttachStdout"], b["Tty"]) == (True, True, False)
    assert (b["WorkingDir"], b["User"]) == ("/tmp", "nobody")

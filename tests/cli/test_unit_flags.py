"""The pflag-like parser: docker's syntax, messages and exit statuses (no daemon)."""

from __future__ import annotations

import pytest
from pydocker.cli.flags import Command, Flag, UsageError, check_args, help_text, parse
from pydocker.cli.main import main

RUN_LIKE = Command("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Run", lambda c, o: 0, (
    Flag("detach", "d"), Flag("interactive", "i"), Flag("tty", "t"), Flag("rm"),
    Flag("env", "e", "list"), Flag("name", "", "str"), Flag("hostname", "h", "str"),
    Flag("last", "n", "int", -1), Flag("sig-proxy", "", "bool", True),
), min_args=1, interspersed=False)
PS_LIKE = Command("ps", "[OPTIONS]", "List", lambda c, o: 0, (
    Flag("all", "a"), Flag("filter", "f", "list"), Flag("last", "n", "int", -1)), max_args=0)
RM_LIKE = Command("rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove", lambda c, o: 0,
                  (Flag("force", "f"),), min_args=1)


def test_bundled_shorts_and_values() -> None:
    o = parse(RUN_LIKE, ["-dit", "-eA=1", "-e", "B=2", "--name=web", "busybox", "sh"])
    assert (o.detach, o.interactive, o.tty) == (True, True, True)
    assert o.env == ["A=1", "B=2"]
    assert o.name == "web"
    assert o.args == ["busybox", "sh"]


def test_run_stops_at_the_image_so_the_command_keeps_its_flags() -> None:
    o = parse(RUN_LIKE, ["--rm", "busybox", "ls", "-la", "--rm"])
    assert o.rm is True
    assert o.args == ["busybox", "ls", "-la", "--rm"]


def test_interspersed_flags_after_positionals() -> None:
    o = parse(RM_LIKE, ["a", "-f", "b"])
    assert o.force is True and o.args == ["a", "b"]


def test_double_dash_ends_flags() -> None:
    assert parse(RM_LIKE, ["--", "-f"]).args == ["-f"]


def test_bool_with_explicit_value_and_defaults() -> None:
    o = parse(RUN_LIKE, ["--sig-proxy=false", "-h", "box", "img"])
    assert o.sig_proxy is False
    assert o.hostname == "box"  # -h is --hostname for run, as in docker
    assert o.last == -1
    assert "sig_proxy" in o.changed and "last" not in o.changed


@pytest.mark.parametrize("argv,message", [
    (["--foo"], "unknown flag: --foo"),
    (["-z"], "unknown shorthand flag: 'z' in -z"),
    (["-az"], "unknown shorthand flag: 'z' in -az"),
    (["-f"], "flag needs an argument: 'f' in -f"),
    (["--filter"], "flag needs an argument: --filter"),
    (["--last=abc"], ('invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: '
                     'parsing "abc": invalid syntax')),
])
def test_flag_errors_are_docker_messages_with_status_125(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse(PS_LIKE, argv)
    assert str(e.value) == message
    assert e.value.status == 125


@pytest.mark.parametrize("cmd,args,message", [
    (PS_LIKE, ["x"], "pydocker: 'pydocker ps' accepts no arguments"),
    (RUN_LIKE, [], "pydocker: 'pydocker run' requires at least 1 argument"),
    (Command("rename", "", "", print, min_args=2, max_args=2), ["a"],
     "pydocker: 'pydocker rename' requires 2 arguments"),
    (Command("logs", "", "", print, min_args=1, max_args=1), [],
     "pydocker: 'pydocker logs' requires exactly 1 argument"),
])
def test_argument_counts(cmd: Command, args: list[str], message: str) -> None:
    with pytest.raises(UsageError) as e:
        check_args(cmd, args)
    assert str(e.value) == message and e.value.status == 1


def test_help_lists_flags() -> None:
    text = help_text(RUN_LIKE)
    assert text.startswith("Usage:  pydocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n")
    assert "  -e, --env list" in text
    assert "      --name string" in text


def test_main_unknown_flag_prints_usage_and_exits_125(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    assert main(["run", "--foo"]) == 125
    err = capsys.readouterr().err
    assert err == ("unknown flag: --foo\n\nUsage:  pydocker run [OPTIONS] IMAGE [COMMAND] "
                   "[ARG...]\n\nRun 'pydocker run --help' for more information\n")


def test_main_unknown_command_exits_125(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 125
    assert "unknown command: pydocker frobnicate" in capsys.readouterr().err
    assert main(["image", "frobnicate"]) == 125


def test_main_unknown_global_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bogus", "ps"]) == 125
    assert capsys.readouterr().err.startswith("unknown flag: --bogus\n")


def test_main_help_and_group_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "Management Commands:" in capsys.readouterr().out
    assert main(["network"]) == 0
    assert "  connect     Connect a container to a network" in capsys.readouterr().out
    assert main(["ps", "--help"]) == 0
    assert capsys.readouterr().out.startswith("Usage:  pydocker ps [OPTIONS]")
    assert main(["container", "ls", "--help"]) == 0
    assert capsys.readouterr().out.startswith("Usage:  pydocker container ls [OPTIONS]")


def test_every_command_in_the_table_resolves() -> None:
    import importlib

    from pydocker.cli.main import GROUPS, TOP
    entries = list(TOP.values()) + [v for _, subs in GROUPS.values() for v in subs.values()]
    for module, key, _ in entries:
        mod = importlib.import_module(f"pydocker.cli.commands.{module}")
        assert key in mod.COMMANDS, (module, key)


def test_daemon_down_message(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    assert main(["-H", "unix:///nonexistent/pydocker.sock", "ps"]) == 1
    assert capsys.readouterr().err == ("Cannot connect to the Docker daemon at "
                                       "unix:///nonexistent/pydocker.sock. Is the docker "
                                       "daemon running?\n")

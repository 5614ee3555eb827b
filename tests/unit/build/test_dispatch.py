"""Metadata instructions: the config they leave and the history text dockerd 20.10 writes
(the texts checked against the reference daemon's `docker history --no-trunc`)."""

from typing import Any

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.images.build.dispatch import apply_metadata, go_duration, shell_of
from pydocker.images.build.parser import parse


def _apply(line: str, config: dict[str, Any] | None = None, env: dict[str, str] | None = None,
           cmd_set: bool = False) -> tuple[str, dict[str, Any]]:
    config = {} if config is None else config
    node = parse("FROM x\n" + line + "\n").nodes[1]
    return apply_metadata(node, config, env or {}, "\\", cmd_set), config


@pytest.mark.parametrize("line,comment", [
    ('ENV A=1 B="x y"', "ENV A=1 B=x y"),
    ("ENV legacy some value", "ENV legacy=some value"),
    ("LABEL l=$x", "LABEL l=2"),
    ('CMD ["sh"]', 'CMD ["sh"]'),
    ("CMD echo hi", 'CMD ["/bin/sh" "-c" "echo hi"]'),
    ('ENTRYPOINT ["/bin/echo"]', 'ENTRYPOINT ["/bin/echo"]'),
    ("EXPOSE 80 53/udp", "EXPOSE 53/udp 80"),
    ("VOLUME /data /cache", "VOLUME [/data /cache]"),
    ("USER nobody", "USER nobody"),
    ("WORKDIR /app", "WORKDIR /app"),
    ("STOPSIGNAL SIGINT", "STOPSIGNAL SIGINT"),
    ('SHELL ["/bin/sh", "-ec"]', "SHELL [/bin/sh -ec]"),
    ("ONBUILD RUN echo hi", "ONBUILD RUN echo hi"),
    ("HEALTHCHECK --interval=5s --retries=3 CMD true",
     "HEALTHCHECK &{[\"CMD-SHELL\" \"true\"] \"5s\" \"0s\" \"0s\" '\\x03'}"),
])
def test_history_text(line: str, comment: str) -> None:
    assert _apply(line, env={"x": "2"})[0] == comment


def test_config_changes() -> None:
    config: dict[str, Any] = {"Env": ["PATH=/bin", "A=0"], "Cmd": ["sh"]}
    _apply("ENV A=1 B=$A", config, env={"A": "0"})
    assert config["Env"] == ["PATH=/bin", "A=1", "B=0"]
    _apply("ENTRYPOINT /bin/echo", config)
    assert config["Entrypoint"] == ["/bin/sh", "-c", "/bin/echo"] and config["Cmd"] is None
    _apply('CMD ["x"]', config)
    _apply('ENTRYPOINT ["e"]', config, cmd_set=True)
    assert config["Cmd"] == ["x"]
    _apply("WORKDIR /a", config)
    _apply("WORKDIR b/../c", config)
    assert config["WorkingDir"] == "/a/c"
    _apply('SHELL ["/bin/bash", "-c"]', config)
    _apply("CMD run it", config)
    assert config["Cmd"] == ["/bin/bash", "-c", "run it"] and shell_of(config)[0] == "/bin/bash"
    _apply("EXPOSE 80 8080/UDP", config)
    assert config["ExposedPorts"] == {"80/tcp": {}, "8080/udp": {}}
    _apply("HEALTHCHECK --interval=1m30s --timeout=500ms CMD [\"true\"]", config)
    assert config["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 90_000_000_000,
                                     "Timeout": 500_000_000}
    _apply("HEALTHCHECK NONE", config)
    assert config["Healthcheck"] == {"Test": ["NONE"]}


@pytest.mark.parametrize("line,message", [
    ("EXPOSE abc", "Invalid containerPort: abc"),
    ("HEALTHCHECK --interval=5x CMD true", 'time: invalid duration "5x"'),
    ("HEALTHCHECK --interval=1us CMD true", 'Interval "interval" cannot be less than 1ms'),
    ("HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative (-1)"),
    ('VOLUME [""]', "VOLUME specified can not be an empty string"),
])
def test_bad_values(line: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message.replace("(", r"\(").replace(")", r"\)")):
        _apply(line)


@pytest.mark.parametrize("ns,text", [(0, "0s"), (5_000_000_000, "5s"), (500_000_000, "500ms"),
                                     (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s")])
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


@pytest.mark.parametrize("value", ["b", "two words", 'q"uote', "$HOME", "back\\slash", "", "é"])
def test_label_option_round_trip(value: str) -> None:
    """The ``labels`` query becomes a LABEL step whose text reads back as the value."""
    from pydocker.images.build.builder import _word
    comment, config = _apply(f"LABEL {_word('k k')}={_word(value)}", env={"HOME": "/root"})
    assert config["Labels"] == {"k k": value}
    assert _word("a") == "a" and comment.startswith("LABEL k k=")

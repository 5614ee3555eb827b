"""The Dockerfile reader and instruction checks, cases from BuildKit's parser tests and the
messages dockerd 20.10's classic builder answers (checked against the reference daemon)."""

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.images.build.instructions import parse_flags, plan
from pydocker.images.build.parser import (
    EMPTY_CONTINUATION_END,
    extract_flags,
    parse,
    split_words,
)

HEALTH = """FROM debian
ADD check.sh main.sh /app/
CMD /app/main.sh
HEALTHCHECK
HEALTHCHECK --interval=5s --timeout=3s --retries=3 \\
  CMD /app/check.sh --quiet
HEALTHCHECK CMD
HEALTHCHECK   CMD   a b
HEALTHCHECK --timeout=3s CMD ["foo"]
HEALTHCHECK CONNECT TCP 7000
"""


def test_health_file() -> None:
    nodes = parse(HEALTH).nodes
    assert [(n.cmd, n.kind, n.args, n.flags) for n in nodes] == [
        ("from", "", ["debian"], []),
        ("add", "", ["check.sh", "main.sh", "/app/"], []),
        ("cmd", "", ["/app/main.sh"], []),
        ("healthcheck", "", [], []),
        ("healthcheck", "CMD", ["/app/check.sh --quiet"],
         ["--interval=5s", "--timeout=3s", "--retries=3"]),
        ("healthcheck", "CMD", [], []),
        ("healthcheck", "CMD", ["a b"], []),
        ("healthcheck", "CMD", ["foo"], ["--timeout=3s"]),
        ("healthcheck", "CONNECT", ["TCP 7000"], []),
    ]
    assert nodes[4].start_line == 5 and nodes[4].end_line == 6
    assert nodes[7].json


def test_continuations_comments_and_warnings() -> None:
    df = parse("FROM busybox\nRUN echo a \\\n\n  b \\\n# comment\n  c\n")
    run = df.nodes[1]
    assert run.original == "RUN echo a   b   c"
    assert run.args == ["echo a   b   c"]
    assert df.warnings == ["[WARNING]: Empty continuation line found in:\n    RUN echo a   b   c",
                           EMPTY_CONTINUATION_END]


def test_escape_directive() -> None:
    df = parse("# escape=`\nFROM x\nRUN a `\n  b\nCOPY c:\\x d\n")
    assert df.escape == "`"
    assert df.nodes[1].args == ["a   b"]
    assert df.nodes[2].args == ["c:\\x", "d"]


def test_directive_only_at_top() -> None:
    df = parse("FROM x\n# escape=`\nRUN a `\n")
    assert df.escape == "\\"
    assert df.nodes[1].args == ["a `"]
    assert parse("# syntax=docker/dockerfile:1\nFROM x\n").syntax == "docker/dockerfile:1"


@pytest.mark.parametrize("text,message", [
    ("# escape=x\nFROM a\n", ("failed to parse Dockerfile: invalid escape token 'x' does not "
     "match ` or \\")),
    ("# escape=\\\n# escape=`\nFROM a\n",
     "failed to parse Dockerfile: only one escape parser directive can be used"),
    ("# comment\n", "failed to parse Dockerfile: file with no instructions"),
    ("FROM a\nCMD [1]\n", ("failed to parse Dockerfile: when using JSON array syntax, arrays "
     "must be comprised of strings only")),
    ("FROM a\nENV a\n", "failed to parse Dockerfile: ENV must have two arguments"),
    ("FROM a\nLABEL a=1 b\n", 'Syntax error - can\'t find = in "b"'),
    ("FROM a\n" + "RUN " + "x" * 70000 + "\n",
     "dockerfile line greater than max allowed size of 65535"),
])
def test_reader_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        plan(parse(text).nodes)
    assert message in str(err.value)


@pytest.mark.parametrize("text,message", [
    ("RUN true\nFROM busybox\n", "no build stage in current context"),
    ("FROM a\nCOPY --bogus=1 a b\n", "dockerfile parse error line 2: Unknown flag: bogus"),
    ("FROM busybox AS 1x\n", ('dockerfile parse error line 1: invalid name for build stage: '
     '"1x", name can\'t start with a number or contain symbols')),
    ("FROM busybox a\n", ("dockerfile parse error line 1: FROM requires either one or three "
     "arguments")),
    ("FROM a\nCOPY a\n", ("dockerfile parse error line 2: COPY requires at least two arguments, "
     "but only one was provided. Destination could not be determined")),
    ("FROM a\nSHELL sh -c\n", ("dockerfile parse error line 2: SHELL requires the arguments to "
     "be in JSON form")),
    ("FROM a\nHEALTHCHECK FOO x\n", ('dockerfile parse error line 2: Unknown type "FOO" in '
     "HEALTHCHECK (try CMD)")),
    ("FROM a\nONBUILD FROM x\n", ("dockerfile parse error line 2: FROM isn't allowed as an "
     "ONBUILD trigger")),
    ("FROM a\nONBUILD ONBUILD RUN x\n", "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("FROM a\nWORKDIR\n", "dockerfile parse error line 2: WORKDIR requires exactly one argument"),
    ("FROM a\nEXPOSE\n", "dockerfile parse error line 2: EXPOSE requires at least one argument"),
    ("FROM a\nRUN --network=none true\n", "dockerfile parse error line 2: Unknown flag: network"),
    ("FROM a\n\nFOO bar\n", "dockerfile parse error line 3: unknown instruction: FOO"),
    ("FROM a\nRUN <<EOF\necho hi\nEOF\n", ("dockerfile parse error line 3: unknown instruction: "
     "ECHO")),
])
def test_instruction_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        plan(parse(text).nodes)
    assert str(err.value) == message


def test_stages_and_meta_args() -> None:
    p = plan(parse("ARG a=1 b=2\nARG c\nFROM busybox AS Base\nRUN x\nFROM base\n"
                   "COPY --from=base /a /b\n").nodes)
    assert [n.pairs for n in p.meta_args] == [[("a", "1"), ("b", "2")], [("c", None)]]
    assert [(s.base, s.name, len(s.commands)) for s in p.stages] == [
        ("busybox", "base", 1), ("base", "", 1)]
    assert p.step_count() == 6
    assert p.target_index("BASE") == 0
    assert parse_flags(p.stages[1].commands[0]) == {"from": "base"}
    with pytest.raises(InvalidParameter, match="failed to reach build target nope"):
        p.target_index("nope")


def test_env_and_label_forms() -> None:
    nodes = parse('FROM a\nENV A=1 B="x y" C=a\\ b\nENV legacy some value\n'
                  'LABEL "k k"=v\n').nodes
    assert nodes[1].pairs == [("A", "1"), ("B", '"x y"'), ("C", "a\\ b")]
    assert nodes[2].pairs == [("legacy", "some value")]
    assert nodes[3].pairs == [('"k k"', "v")]


def test_json_and_shell_forms() -> None:
    nodes = parse('FROM a\nCMD ["a", "b c"]\nCMD [a]\nENTRYPOINT ["x"] y\n'
                  'COPY ["a b", "c"]\nCOPY a  b\tc\n').nodes
    assert (nodes[1].args, nodes[1].json) == (["a", "b c"], True)
    assert (nodes[2].args, nodes[2].json) == (["[a]"], False)
    assert (nodes[3].args, nodes[3].json) == (['["x"] y'], False)
    assert (nodes[4].args, nodes[4].json) == (["a b", "c"], True)
    assert nodes[5].args == ["a", "b", "c"]


def test_flags_and_words() -> None:
    assert extract_flags('--chown="a b" --from=x  src dst', "\\") == (
        "src dst", ["--chown=a b", "--from=x"])
    assert extract_flags("-- --x y", "\\") == ("--x y", [])
    assert split_words("a 'b c' d\\ e \"\"", "\\") == ["a", "'b c'", "d\\ e", '""']


def test_onbuild_child_and_case() -> None:
    node = parse("FROM a\nonbuild run echo hi\n").nodes[1]
    assert node.cmd == "onbuild" and node.child is not None
    assert (node.child.cmd, node.child.args, node.child.original) == (
        "run", ["echo hi"], "run echo hi")


def test_bom_and_crlf() -> None:
    nodes = parse("\ufeffFROM a\r\nRUN b \\\r\n c\r\n").nodes
    assert nodes[0].args == ["a"] and nodes[1].args == ["b  c"]

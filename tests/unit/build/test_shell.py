"""Word expansion, cases from BuildKit's shell/lex tests (envVarTest, wordsTest, matches)."""

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.images.build.shell import env_map, expand_word, expand_words

ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


@pytest.mark.parametrize("source,expected", [
    ("hello", "hello"),
    ("he'll'o", "hello"),
    ("he'llo", "error"),
    ("he\\'llo", "he'llo"),
    ('he\\\\\'llo', "error"),
    ("abc\\\\def", "abc\\def"),
    ('"abc\\\\def"', "abc\\def"),
    ('"abc\\def"', "abc\\def"),
    ("'abc\\\\def'", "abc\\\\def"),
    ("hell$", "hell$"),
    ("hell$PWD", "hell/home"),
    ("hell${PWD}", "hell/home"),
    ("hell\\$PWD", "hell$PWD"),
    ("'hell$PWD'", "hell$PWD"),
    ('"hell$PWD"', "hell/home"),
    ("hell${PWD", "error"),
    ("${}", "error"),
    ("${PWD:-x}", "/home"),
    ("${NOPE:-x}", "x"),
    ("${NULL:-x}", "x"),
    ("${NULL-x}", ""),
    ("${NOPE-x}", "x"),
    ("${PWD:+x}", "x"),
    ("${NULL:+x}", ""),
    ("${NULL+x}", "x"),
    ("${NOPE:+x}", ""),
    ("${PWD:+${SHELL}}", "bash"),
    ("${NOPE:-${SHELL:-z}}", "bash"),
    ("${NOPE:-'a b'}", "a b"),
    ("${PWD=x}", "error"),
    ("${KOREAN}", "한국어"),
    ("안녕${KOREAN}", "안녕한국어"),
    ("${1}", ""),
    ("$1x", "x"),
    ("\\", ""),
    ('"a\\"b"', 'a"b'),
    ('"a\\$b"', "a$b"),
    ("a\\ b", "a b"),
])
def test_process_word(source: str, expected: str) -> None:
    if expected == "error":
        with pytest.raises(InvalidParameter):
            expand_word(source, ENV)
    else:
        assert expand_word(source, ENV) == expected


def test_required_variables() -> None:
    assert expand_word("${VAR:?message here$ARG}", {"VAR": "plain", "ARG": "x"}) == "plain"
    with pytest.raises(InvalidParameter, match="message herex"):
        expand_word("${VAR:?message here$ARG}", {"VAR": "", "ARG": "x"})
    assert expand_word("${VAR?message here$ARG}", {"VAR": "", "ARG": "x"}) == ""
    with pytest.raises(InvalidParameter, match="message herex"):
        expand_word("${VAR?message here$ARG}", {"ARG": "x"})


WORDS_ENV = {"hi": "hi", "space": "abc  def", "leading": "  ab c", "trailing": "ab c   "}


@pytest.mark.parametrize("source,expected", [
    ("hello", ["hello"]),
    ("hello${hi}bye", ["hellohibye"]),
    ("hello${space}bye", ["helloabc", "defbye"]),
    ('hello"${space}"bye', ["helloabc  defbye"]),
    ('hello "${space}"bye', ["hello", "abc  defbye"]),
    ("hello${leading}def", ["hello", "ab", "cdef"]),
    ('hello"${leading}" def', ["hello  ab c", "def"]),
    ('hello"${leading}"', ["hello  ab c"]),
    ("hello${leading}", ["hello", "ab", "c"]),
    ("hello${trailing}", ["helloab", "c"]),
    ("hello${trailing}d", ["helloab", "c", "d"]),
    ('hello"${trailing}"d', ["helloab c   d"]),
    ('hel"lo${trailing}"', ["helloab c   "]),
    ('hello" there  "', ["hello there  "]),
    ("hello there", ["hello", "there"]),
    ("hello\\ there", ["hello there"]),
    ('hello\\" there', ['hello"', "there"]),
    ('hello"\\\\there"', ["hello\\there"]),
    ('hello"\\there"', ["hello\\there"]),
    ("hello'\\\\there'", ["hello\\\\there"]),
    ("hello'$there'", ["hello$there"]),
    ('""', [""]),
])
def test_process_words(source: str, expected: list[str]) -> None:
    assert expand_words(source, WORDS_ENV) == expected


def test_unterminated_quote_in_words() -> None:
    with pytest.raises(InvalidParameter):
        expand_words('hello" there', WORDS_ENV)


def test_backtick_escape() -> None:
    assert expand_word("a`$PWD", ENV, "`") == "a$PWD"
    assert expand_word("c:\\dir", ENV, "`") == "c:\\dir"


def test_env_map_last_wins() -> None:
    assert env_map(["foo=bar", "car=hat", "car=bike", "x"]) == {
        "foo": "bar", "car": "bike", "x": ""}

"""`.dockerignore` reading and matching, as moby's fileutils.PatternMatcher does."""

import pytest
from pydocker.images.build.dockerignore import Matcher, read_patterns


def test_read_patterns() -> None:
    text = "# comment\n  *.pyc  \n\n!keep.pyc\n/abs/../dir/\n! spaced\n./x\n"
    assert read_patterns(text) == ["*.pyc", "!keep.pyc", "dir", "!spaced", "x"]


@pytest.mark.parametrize("patterns,path,excluded", [
    (["*.pyc"], "a.pyc", True),
    (["*.pyc"], "dir/a.pyc", False),
    (["**/*.pyc"], "dir/sub/a.pyc", True),
    (["**/*.pyc"], "a.pyc", True),
    (["dir"], "dir/sub/file", True),
    (["dir/*"], "dir/sub/file", True),
    (["dir/*/file"], "dir/sub/file", True),
    (["*", "!keep"], "keep", False),
    (["*", "!keep"], "other", True),
    (["docs/**"], "docs/a/b", True),
    (["docs/**"], "docsx", False),
    (["a?c"], "abc", True),
    (["a?c"], "a/c", False),
    (["[^a]bc"], "xbc", True),
    (["[^a]bc"], "abc", False),
    (["README.md"], "readme.md", False),
    (["a.b"], "axb", False),
    (["**"], "anything/at/all", True),
    (["*/tmp"], "x/tmp/y", True),
    (["dir", "!dir/keep"], "dir/keep", False),
    (["dir", "!dir/keep"], "dir/other", True),
])
def test_matches(patterns: list[str], path: str, excluded: bool) -> None:
    assert Matcher(read_patterns("\n".join(patterns))).excluded(path) is excluded

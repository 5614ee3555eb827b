"""`.dockerignore` reading and matching, as moby's fileutils.PatternMatcher does."""

import pytest
from pydocker.images.build.dockerignore import Matcher, read_patterns


def test_read_patterns() -> None:
    text = "# comment\n  *.pyc  \n\n!keep.pyc\n/abs/../dir/\n! spaced\n./x\n"
    assert read_patterns(text) == ["*.pyc", "!keep.pyc", "dir", "!spaced", "x"]


# patterns (space-separated) | path | verdict, as moby's fileutils tests are tabled
CASES = """
*.pyc              | a.pyc            | excluded
*.pyc              | dir/a.pyc        | kept
**/*.pyc           | dir/sub/a.pyc    | excluded
**/*.pyc           | a.pyc            | excluded
dir                | dir/sub/file     | excluded
dir/*              | dir/sub/file     | excluded
dir/*/file         | dir/sub/file     | excluded
* !keep            | keep             | kept
* !keep            | other            | excluded
docs/**            | docs/a/b         | excluded
docs/**            | docsx            | kept
a?c                | abc              | excluded
a?c                | a/c              | kept
[^a]bc             | xbc              | excluded
[^a]bc             | abc              | kept
README.md          | readme.md        | kept
a.b                | axb              | kept
**                 | anything/at/all  | excluded
*/tmp              | x/tmp/y          | excluded
dir !dir/keep      | dir/keep         | kept
dir !dir/keep      | dir/other        | excluded
"""


@pytest.mark.parametrize("line", CASES.strip().splitlines())
def test_matches(line: str) -> None:
    patterns, path, verdict = (field.strip() for field in line.split("|"))
    matcher = Matcher(read_patterns("\n".join(patterns.split())))
    assert matcher.excluded(path) is (verdict == "excluded")

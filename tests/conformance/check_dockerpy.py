"""Compare a docker-py conformance run with the list of tests expected to fail.

Usage: python -m tests.conformance.check_dockerpy JUNIT_XML [EXPECTED_LIST]

JUNIT_XML is the junit.xml that ../shared/conformance/dockerpy/run.sh writes (with
DOCKERPY_OUT=dir). A test that fails but is not on the list is a regression; a listed
test that now passes must come off the list. Either is an error (exit 1), so the list can
only shrink. Tests the run skipped or deselected are neither.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

EXPECTED = Path(__file__).with_name("dockerpy-expected-failures.txt")


@dataclass(frozen=True)
class Verdict:
    regressions: list[str]      # failed, not on the list
    now_passing: list[str]      # on the list, passed
    failed: int
    passed: int


def expected_failures(text: str) -> dict[str, str]:
    """Test id → reason, from the list's ``id  # reason`` lines."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        test_id, _, reason = line.partition("#")
        if test_id.strip():
            out[test_id.strip()] = reason.strip()
    return out


def test_id(classname: str, name: str) -> str:
    """junit's ``tests.integration.api_build_test.BuildTest`` + name → pytest's node id."""
    *module, cls = classname.split(".")
    return f"{'/'.join(module)}.py::{cls}::{name}"


def results(junit_xml: str) -> dict[str, bool]:
    """Test id → passed, for every test that ran (skips left out)."""
    out: dict[str, bool] = {}
    for case in ET.fromstring(junit_xml).iter("testcase"):
        if case.find("skipped") is not None:
            continue
        failed = case.find("failure") is not None or case.find("error") is not None
        out[test_id(case.get("classname", ""), case.get("name", ""))] = not failed
    return out


def compare(junit_xml: str, expected_text: str) -> Verdict:
    ran = results(junit_xml)
    expected = expected_failures(expected_text)
    return Verdict(
        regressions=sorted(t for t, ok in ran.items() if not ok and t not in expected),
        now_passing=sorted(t for t, ok in ran.items() if ok and t in expected),
        failed=sum(not ok for ok in ran.values()), passed=sum(ran.values()))


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    expected = Path(argv[1]) if len(argv) == 2 else EXPECTED
    verdict = compare(Path(argv[0]).read_text(), expected.read_text())
    for t in verdict.regressions:
        print(f"REGRESSION (fails, not on the list): {t}")
    for t in verdict.now_passing:
        print(f"NOW PASSING (take it off the list): {t}")
    print(f"dockerpy ratchet: {verdict.passed} passed, {verdict.failed} failed, "
          f"{len(verdict.regressions)} regressions, {len(verdict.now_passing)} now passing")
    return 1 if verdict.regressions or verdict.now_passing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

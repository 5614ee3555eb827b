"""The conformance ratchet: the list of expected docker-py failures can only shrink."""

from __future__ import annotations

from tests.conformance.check_dockerpy import EXPECTED, compare, expected_failures, main

JUNIT = """<testsuites><testsuite>
<testcase classname="tests.integration.api_build_test.BuildTest" name="test_build_labels">
  <failure message="404"/></testcase>
<testcase classname="tests.integration.api_exec_test.ExecTest" name="test_exec_simple"/>
<testcase classname="tests.integration.api_exec_test.ExecTest" name="test_skipped">
  <skipped/></testcase>
</testsuite></testsuites>"""


def test_a_listed_failure_is_expected_and_skips_are_ignored() -> None:
    listed = "tests/integration/api_build_test.py::BuildTest::test_build_labels  # no build\n"
    verdict = compare(JUNIT, listed)
    assert (verdict.regressions, verdict.now_passing) == ([], [])
    assert (verdict.passed, verdict.failed) == (1, 1)


def test_an_unlisted_failure_is_a_regression() -> None:
    verdict = compare(JUNIT, "")
    assert verdict.regressions == ["tests/integration/api_build_test.py::BuildTest::test_build_labels"]


def test_a_listed_test_that_passes_must_come_off_the_list() -> None:
    listed = ("tests/integration/api_build_test.py::BuildTest::test_build_labels  # x\n"
              "tests/integration/api_exec_test.py::ExecTest::test_exec_simple  # fixed since\n")
    assert compare(JUNIT, listed).now_passing == [
        "tests/integration/api_exec_test.py::ExecTest::test_exec_simple"]


def test_the_project_list_is_well_formed_with_a_reason_per_line(tmp_path) -> None:
    entries = expected_failures(EXPECTED.read_text())
    assert entries and all(reason for reason in entries.values())
    assert all(t.startswith("tests/integration/") and t.count("::") == 2 for t in entries)
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT.replace('tests.integration.api_build_test.BuildTest" name="test_build_labels', '{}" name="{}'.format(*next(iter(entries)).replace(".py::", ".").replace("/", ".").rsplit("::", 1))))
    assert main([str(junit)]) == 0  # its one failure (a listed test) is on the project's list
    junit.write_text(JUNIT.replace("test_build_labels", "test_no_such"))
    assert main([str(junit)]) == 1

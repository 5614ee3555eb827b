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


def test_the_project_list_is_well_formed_with_a_reason_per_line() -> None:
    entries = expected_failures(EXPECTED.read_text())  # empty once everything passes
    assert all(reason for reason in entries.values())
    assert all(t.startswith("tests/integration/") and t.count("::") == 2 for t in entries)


def test_the_checker_reads_a_junit_file_and_a_list(tmp_path) -> None:
    junit, listed = tmp_path / "junit.xml", tmp_path / "expected.txt"
    junit.write_text(JUNIT)
    listed.write_text("tests/integration/api_build_test.py::BuildTest::test_build_labels  # x\n")
    assert main([str(junit), str(listed)]) == 0
    listed.write_text("")
    assert main([str(junit), str(listed)]) == 1

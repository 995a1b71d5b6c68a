"""Every policy rule's allow, pending and deny paths and their interactions, written in the same
policy-test format users get (``reconciler test``): tests/planning/policy_cases/*.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.engine.policytest import run_file
from tests.conftest import EXAMPLES, write_files

CASES = Path(__file__).parent / "policy_cases"


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_policy_case_file(path):
    results = run_file(path)
    assert results, f"{path} has no cases"
    failures = [(r.name, r.error, r.mismatches) for r in results if not r.passed]
    assert failures == []


def test_runner_reports_a_wrong_expectation(tmp_path):
    write_files(tmp_path, {"wrong.yaml": f"""
        workspace: {CASES / 'base'}
        at: "2026-11-20T12:00:00Z"
        cases:
          - name: deliberately wrong
            expect:
              api/staging/stg: deploy v1
              api/nowhere/x: unchanged
        """})
    (result,) = run_file(tmp_path / "wrong.yaml")
    assert not result.passed
    assert result.mismatches == [("api/staging/stg", "deploy v1", "deploy v2"),
                                 ("api/nowhere/x", "unchanged", "not a target")]


def test_cli_runs_the_quickstart_policy_suite(cli):
    result = cli("test", "-C", EXAMPLES / "quickstart")
    assert result.code == 0, result.out
    assert "3 passed, 0 failed" in result.out


def test_cli_exits_1_and_shows_a_diff_on_failure(cli, tmp_path):
    write_files(tmp_path, {"t.yaml": f"""
        workspace: {CASES / 'base'}
        at: "2026-11-20T12:00:00Z"
        cases:
          - name: wrong
            expect: {{api/staging/stg: blocked anyApproval}}
        """})
    result = cli("test", tmp_path / "t.yaml")
    assert result.code == 1
    assert "FAIL" in result.out and "- expected: blocked anyApproval" in result.out
    assert "+ actual:   deploy v2" in result.out


def test_cli_at_sets_the_time_of_cases_that_give_none(cli, tmp_path):
    write_files(tmp_path, {"t.yaml": f"""
        workspace: {CASES / 'base'}
        cases:
          - name: staging deploys
            expect: {{api/staging/stg: deploy v2}}
          - name: its own time wins
            at: "2026-11-01T00:00:00Z"
            expect: {{api/staging/stg: deploy v1}}
        """})
    result = cli("test", tmp_path / "t.yaml")
    assert result.code == 1 and "gives no 'at:' time (nor does its file); add one or pass --at" in result.out
    result = cli("test", tmp_path / "t.yaml", "--at", "2026-11-20T12:00:00Z")
    assert result.code == 0, result.out
    assert cli("test", tmp_path / "t.yaml", "--at", "yesterday").code == 2

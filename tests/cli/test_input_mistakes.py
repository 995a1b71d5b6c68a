"""CLI mistakes get one clear line, exit 2 and change nothing: a mistyped ``--target`` (with the
closest real target suggested), an unknown ``--status``, and a JobAgent no deployment uses yet
is still validated."""

from __future__ import annotations

import hashlib


def _digest(root) -> str:
    path = root / ".reconciler" / "state.db"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def test_a_mistyped_target_is_an_error_that_names_the_closest_one(cli, quickstart):
    assert cli("apply", "-C", quickstart).code == 0
    before = _digest(quickstart)
    for command in ("plan", "apply"):
        result = cli(command, "-C", quickstart, "--target", "api/production/cluster-9")
        assert result.code == 2 and "Traceback" not in result.err
        assert "'api/production/cluster-9' is not a release target; did you mean 'api/production/cluster-" in result.err
    assert cli("apply", "-C", quickstart, "--target", "garbage").code == 2
    assert _digest(quickstart) == before  # nothing written, not even versions seen


def test_an_unknown_history_status_is_a_usage_error(cli, quickstart):
    result = cli("history", "-C", quickstart, "--status", "bogus")
    assert result.code == 2 and "unknown status 'bogus'; use one of: pending" in result.err
    assert "internal error" not in result.err


def test_an_unused_job_agent_is_validated_too(cli, quickstart):
    (quickstart / "spare.yaml").write_text("type: JobAgent\nname: spare\nconfig: {type: command, command: notalist, "
                                           "timeout: 5 min}\n---\ntype: JobAgent\nname: partial\n"
                                           "config: {type: command}\n")
    result = cli("validate", "-C", quickstart)
    assert result.code == 1
    assert "spare.yaml:3:34: error: Invalid value: command" in result.err
    assert "spare.yaml:3:53: error: Invalid duration" in result.err
    assert "2 errors found" in result.err  # 'partial' may leave command to the deployments that will use it

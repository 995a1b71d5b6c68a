"""Version stickers: the command agent writes them, ``reconciler drift`` reads them back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.engine import drift
from reconciler.executors.base import ExecContext, Job
from reconciler.executors.builtin.command import CommandAgent, CommandConfig
from reconciler.models.records import TargetState, TaskRecord
from tests.rendering import workspace

STICKER = "deployed/host-1/reconciler.sticker.json"


@pytest.fixture
def applied(cli, make_repo, monkeypatch):
    monkeypatch.setenv("WEB_DB_PASSWORD", "s3cret")
    root = make_repo(workspace.files())
    result = cli("apply", "-C", root, "--actor", "ci")
    assert result.code == 0, result.out + result.err
    return root


def drift_json(cli, root: Path, *extra: str) -> tuple[int, list[dict]]:
    result = cli("drift", "-C", root, "--format", "json", *extra)
    return result.code, json.loads(result.out)


def test_apply_writes_stickers_and_drift_finds_them_in_sync(cli, applied):
    data = json.loads((applied / STICKER).read_text())
    assert sorted(data) == ["lockDigest", "releaseId", "revision", "target", "taskId", "version"]
    assert data["target"] == "web/production/host-1" and data["version"] == "v1.0.0"
    code, rows = drift_json(cli, applied)
    assert code == 0 and [r["status"] for r in rows] == ["in sync", "in sync"]
    text = cli("drift", "-C", applied)
    assert text.code == 0 and "web/production/host-2  in sync      runs v1.0.0" in text.out


def test_a_changed_sticker_is_drift(cli, applied):
    path = applied / STICKER
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "releaseId": "0123456789abcdef", "version": "v0.9.0"}))
    code, rows = drift_json(cli, applied)
    assert code == 1 and rows[0]["status"] == "drifted"
    assert rows[0]["message"].startswith("runs v0.9.0 (release 0123456789abcdef), state records v1.0.0")
    assert rows[1]["status"] == "in sync"


def test_a_missing_or_broken_sticker_is_reported(cli, applied):
    (applied / STICKER).unlink()
    (applied / "deployed/host-2/reconciler.sticker.json").write_text("not json")
    code, rows = drift_json(cli, applied)
    assert code == 1 and [r["status"] for r in rows] == ["missing", "error"]
    only = drift_json(cli, applied, "--target", "web/production/host-2")[1]
    assert [r["target"] for r in only] == ["web/production/host-2"]


def test_nothing_recorded_is_no_drift(cli, make_repo):
    result = cli("drift", "-C", make_repo(workspace.files()))
    assert result.code == 0 and "No deployed targets recorded." in result.out


class FakeStore:
    def __init__(self, config: dict, job_extra: dict | None = None):
        at = datetime(2026, 1, 1, tzinfo=UTC)
        self.state = TargetState("d/e/r", "v1", "rel1", "c", {}, {}, "task1", at)
        self.task = TaskRecord("task1", "d/e/r", "d", "e", "r", "install", "done", "v1", None, "rel1", "a", "user",
                               "", {}, "rev", at, job={"config": config, **(job_extra or {})})

    def target_states(self):
        return {"d/e/r": self.state}

    def get_task(self, task_id):
        return self.task


def test_agents_that_write_no_sticker_are_unsupported(tmp_path):
    rows = drift.check_drift(FakeStore({"type": "command", "command": ["true"]}), tmp_path)
    assert [(r.status, r.message) for r in rows] == [
        ("unsupported", "the command agent (as configured) writes no sticker")]
    assert not drift.drifted(rows)


def test_a_lock_digest_other_than_the_shipped_one_is_drift(tmp_path):
    store = FakeStore({"type": "command", "command": ["true"], "stickerPath": "s.json"},
                      {"artifacts": {"lockDigest": "sha256:aa"}})
    (tmp_path / "s.json").write_text(json.dumps({"releaseId": "rel1", "target": "d/e/r", "version": "v1",
                                                 "lockDigest": "sha256:bb"}))
    row = drift.check_drift(store, tmp_path)[0]
    assert row.status == "drifted" and "compose lock digest sha256:bb differs from the shipped sha256:aa" in row.message


def test_the_command_agent_removes_its_sticker_on_uninstall(tmp_path):
    agent = CommandAgent(CommandConfig(command=["true"], stickerPath="s/sticker.json"))
    ctx = ExecContext(tmp_path, tmp_path / "scratch", 10)
    job = Job("t1", 1, "install", "d/e/r", "d", "e", "r", "v1", "rel1", {}, {}, {"revision": "abc"})
    assert agent.dispatch(job, ctx).status == "done"
    assert json.loads(agent.read_sticker(job, ctx))["revision"] == "abc"
    uninstall = Job("t2", 1, "uninstall", "d/e/r", "d", "e", "r", "v1", "rel1", {}, {}, {})
    assert agent.dispatch(uninstall, ctx).status == "done"
    assert agent.read_sticker(uninstall, ctx) is None


@pytest.mark.parametrize("path", ["/abs/sticker.json", "../up.json", "a/../../b"])
def test_the_sticker_path_stays_inside_the_workdir(path):
    with pytest.raises(ValueError, match="stickerPath must be a relative path"):
        CommandConfig(command=["true"], stickerPath=path)


def test_recorded_drift_is_planned_as_a_reinstall_and_apply_repairs_it(cli, applied):
    path = applied / STICKER
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "releaseId": "0123456789abcdef", "version": "v0.9.0"}))
    assert cli("plan", "-C", applied, "--detailed-exitcode").code == 0  # plans never read hosts
    assert drift_json(cli, applied, "--no-record")[0] == 1
    assert cli("plan", "-C", applied, "--detailed-exitcode").code == 0  # --no-record writes nothing
    assert drift_json(cli, applied)[0] == 1
    plan = json.loads(cli("plan", "-C", applied, "--format", "json").out)
    (change,) = plan["changes"]
    assert (change["target"], change["operation"]) == ("web/production/host-1", "reinstall")
    assert change["reason"].startswith("drifted: runs v0.9.0 (release 0123456789abcdef), state records v1.0.0")
    assert "drifted: runs v0.9.0" in cli("plan", "-C", applied).out
    assert cli("apply", "-C", applied, "--actor", "ci").code == 0
    assert json.loads(path.read_text())["releaseId"] == data["releaseId"]  # the sticker is right again
    assert cli("plan", "-C", applied, "--detailed-exitcode").code == 0
    code, rows = drift_json(cli, applied)
    assert code == 0 and [r["status"] for r in rows] == ["in sync", "in sync"]


def test_a_target_back_in_sync_has_its_mark_cleared(cli, applied):
    path = applied / STICKER
    good = path.read_text()
    path.write_text(json.dumps({**json.loads(good), "releaseId": "0123456789abcdef"}))
    assert drift_json(cli, applied)[0] == 1
    path.write_text(good)  # someone put it right by hand
    assert drift_json(cli, applied)[0] == 0
    assert cli("plan", "-C", applied, "--detailed-exitcode").code == 0

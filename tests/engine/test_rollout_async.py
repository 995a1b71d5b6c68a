"""Rolling rollouts through an asynchronous agent (the http agent polling a status URL on
127.0.0.1): a batch counts only once its tasks have finished, a batch that fails after polling
stops the rollout and is rolled back, and a batch still in flight at the task timeout leaves the
rest pending for the next apply."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import write_files
from tests.fakes.webhook import FakeWebhook


@pytest.fixture
def hook(monkeypatch) -> Iterator[FakeWebhook]:
    monkeypatch.setenv("HOOK_SECRET", "hmac-key-123")
    service = FakeWebhook("hmac-key-123")
    service.mode = "async"
    service.start()
    try:
        yield service
    finally:
        service.stop()


def workspace(root, hook: FakeWebhook, *, versions=("v1",), timeout: int = 30):
    res = "\n---\n".join(f"type: Resource\nidentifier: r{i}\nname: r{i}\nkind: Host\nversion: v1\n" for i in range(1, 5))
    vers = "\n---\n".join(f"type: Version\ndeployment: app\ntag: {t}\ncreatedAt: \"2026-11-0{i + 1}T00:00:00Z\"\n"
                          for i, t in enumerate(versions))
    write_files(root, {
        "reconciler.yaml": f"workspace: rollout-async\ntaskTimeout: {timeout}\n",
        "system.yaml": "type: System\nname: s\n---\ntype: Environment\nname: prod\nsystem: s\nresourceSelector: \"true\"\n",
        "resources.yaml": res + "\n",
        "agent.yaml": (f"type: JobAgent\nname: hook\nconfig: {{type: http, url: '{hook.url}/deploy', "
                       "secretEnv: HOOK_SECRET, pollInterval: 50ms}\n"),
        "app.yaml": "type: Deployment\nname: app\nsystem: s\nagent: {ref: hook}\n",
        "versions.yaml": vers + "\n",
        "policies.yaml": "type: Policy\nname: rolling\nrules: [{strategy: {type: rolling, batchSize: 2}}]\n",
    })
    return root


def tasks(cli, root) -> dict[str, list[tuple[str, str]]]:
    page = json.loads(cli("history", "-C", root, "--format", "json", "--per-page", "100").out)
    by_resource: dict[str, list[tuple[str, str]]] = {}
    for task in reversed(page["tasks"]):
        by_resource.setdefault(task["resource"], []).append((task["operation"], task["status"]))
    return by_resource


def test_the_next_batch_waits_until_the_asynchronous_batch_has_finished(cli, tmp_path, hook):
    root = workspace(tmp_path, hook)
    hook.script = {"r1": ["in_progress", "in_progress", "in_progress", "done"]}
    assert cli("apply", "-C", root, "--max-parallel", "4").code == 0
    posts = [r for r in hook.requests if r.method == "POST"]
    first = {p.json["resource"] for p in posts[:2]}
    assert first == {"r1", "r2"} and {p.json["resource"] for p in posts[2:]} == {"r3", "r4"}
    r1_done = max(i for i, r in enumerate(hook.requests) if r.method == "GET"
                  and r.path.endswith(posts[[p.json["resource"] for p in posts].index("r1")].json["taskId"]))
    assert all(hook.requests.index(p) > r1_done for p in posts[2:])  # batch 2 only after r1 said done
    assert {r: ts[-1] for r, ts in tasks(cli, root).items()} == {f"r{i}": ("install", "done") for i in range(1, 5)}


def test_a_batch_that_fails_after_polling_stops_the_rollout_and_is_rolled_back(cli, tmp_path, hook):
    root = workspace(tmp_path, hook)
    assert cli("apply", "-C", root).code == 0
    workspace(tmp_path, hook, versions=("v1", "v2"))
    hook.script = {"r2@v2": ["in_progress", "failed"]}
    assert cli("apply", "-C", root, "--max-parallel", "4").code == 1
    history = tasks(cli, root)
    assert history["r1"] == [("install", "done"), ("upgrade", "done"), ("rollback", "done")]
    assert history["r2"] == [("install", "done"), ("upgrade", "failed"), ("rollback", "done")]
    assert history["r3"] == history["r4"] == [("install", "done"), ("upgrade", "canceled")]
    assert not any(r.json["resource"] in ("r3", "r4") and r.json["version"] == "v2"
                   for r in hook.requests if r.method == "POST")


def test_a_batch_still_in_flight_at_the_timeout_leaves_the_rest_for_the_next_apply(cli, tmp_path, hook):
    root = workspace(tmp_path, hook, timeout=1)
    hook.script = {"r1": ["in_progress"] * 1000}
    assert cli("apply", "-C", root, "--max-parallel", "4").code == 0
    history = tasks(cli, root)
    assert history["r1"] == [("install", "in_progress")] and history["r2"] == [("install", "done")]
    assert history["r3"] == history["r4"] == [("install", "pending")]
    assert {r.json["resource"] for r in hook.requests if r.method == "POST"} == {"r1", "r2"}
    plan = cli("plan", "-C", root)
    assert plan.code == 0 and "r3" in plan.out

    assert cli("apply", "-C", root).code == 0  # r1 still in flight: batch 2 keeps waiting
    assert tasks(cli, root)["r3"] == [("install", "pending")]
    hook.progress = {task: ["done"] for task in hook.progress}
    assert cli("apply", "-C", root).code == 0  # r1 done: the rollout goes on
    assert {r: ts[-1] for r, ts in tasks(cli, root).items()} == {f"r{i}": ("install", "done") for i in range(1, 5)}
    assert [p.json["resource"] for p in hook.requests if p.method == "POST"].count("r3") == 1


def test_a_failure_reported_from_outside_applies_the_rollback_rule(cli, tmp_path, hook):
    root = workspace(tmp_path, hook)
    (root / "policies.yaml").write_text("type: Policy\nname: undo\nrules: [{rollback: {onJobStatuses: [failed]}}]\n")
    hook.mode = "done"  # installs finish at once
    assert cli("apply", "-C", root).code == 0
    workspace(tmp_path, hook, versions=("v1", "v2"))
    (root / "policies.yaml").write_text("type: Policy\nname: undo\nrules: [{rollback: {onJobStatuses: [failed]}}]\n")
    (root / "agent.yaml").write_text((root / "agent.yaml").read_text().replace("pollInterval: 50ms", "callback: true"))
    waiting = cli("apply", "-C", root)  # four upgrades wait for `task update`
    assert waiting.code == 0 and "4 tasks still running (asynchronous agents: the next apply checks them)." in \
        waiting.out and "succeeded" not in waiting.out
    page = json.loads(cli("history", "-C", root, "--format", "json", "--target", "app/prod/r2").out)
    upgrade = page["tasks"][0]
    assert (upgrade["operation"], upgrade["status"]) == ("upgrade", "in_progress")
    assert cli("task", "update", upgrade["id"], "--status", "failed", "--message", "pods crashed", "-C", root).code == 0
    failed = json.loads(cli("history", "-C", root, "--task", upgrade["id"], "--format", "json").out)
    assert failed["status"] == "failed" and "rolled back by task" in failed["message"]
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert not [c for c in plan["changes"] if c["resource"] == "r2" and c.get("to_version") == "v2"]  # held
    (root / "agent.yaml").write_text((root / "agent.yaml").read_text().replace("callback: true", "pollInterval: 50ms"))
    cli("apply", "-C", root)  # runs the queued rollback
    assert tasks(cli, root)["r2"][-1] == ("rollback", "done")
    rollback_post = [r.json for r in hook.requests if r.method == "POST" and r.json["resource"] == "r2"][-1]
    assert (rollback_post["operation"], rollback_post["version"]) == ("rollback", "v1")

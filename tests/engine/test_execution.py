"""Execution semantics: parallelism, concurrency rules, release sequencing, redeploy, cancel,
failures, secrets and bounded logs — through the CLI with a real command agent."""

from __future__ import annotations

import json
import threading
import time

from tests.engine.conftest import events


def history(cli, root, *args):
    return json.loads(cli("history", "-C", root, "--format", "json", "--per-page", "100", *args).out)["tasks"]


def max_overlap(evs) -> int:
    points = sorted((e["t"], 1 if e["event"] == "start" else -1) for e in evs)
    best = cur = 0
    for _, delta in points:
        cur += delta
        best = max(best, cur)
    return best


def test_targets_run_in_parallel_up_to_max_parallel(cli, ws):
    root = ws(resources=3, config="{sleep: 0.6}")
    assert cli("apply", "-C", root, "--max-parallel", "3").code == 0
    assert max_overlap(events(root)) == 3
    root2 = ws(resources=3, config="{sleep: 0.3}")
    (root2 / "events.log").unlink()
    (root2 / "app.yaml").write_text((root2 / "app.yaml").read_text().replace("sleep: 0.3", "sleep: 0.31"))
    assert cli("apply", "-C", root2, "--max-parallel", "1").code == 0
    assert max_overlap(events(root2)) == 1


def test_concurrency_rule_limits_running_tasks_in_its_scope(cli, ws):
    policy = "type: Policy\nname: one-at-a-time\nrules: [{concurrency: {max: 1}}]\n"
    root = ws(resources=3, config="{sleep: 0.3}", policies=policy)
    assert cli("apply", "-C", root, "--max-parallel", "3").code == 0
    assert len(events(root)) == 6 and max_overlap(events(root)) == 1


def test_failure_records_stderr_tail_and_is_not_redispatched_without_retry_rule(cli, ws):
    root = ws(resources=1, config="{fail: disk full}")
    result = cli("apply", "-C", root)
    assert result.code == 1
    (task,) = history(cli, root)
    assert task["status"] == "failed" and task["message"] == "exit code 3: boom: disk full"
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert plan["changes"] == [] and plan["blocked"][0]["rule"] == "retry"
    assert "redeploy app/prod/r1" in plan["blocked"][0]["message"]
    assert cli("apply", "-C", root).code == 0 and len(history(cli, root)) == 1


def test_retry_rule_reruns_the_same_task_with_the_next_attempt(cli, ws):
    policy = "type: Policy\nname: r\nrules: [{retry: {maxRetries: 1}}]\n"
    root = ws(resources=1, config="{fail: flaky}", policies=policy)
    assert cli("apply", "-C", root).code == 1
    assert cli("apply", "-C", root).code == 1
    (task,) = history(cli, root)
    assert task["attempt"] == 2 and task["retries"] == 1 and task["status"] == "failed"
    assert [a["status"] for a in task["attempts"]] == ["failed", "failed"]
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert "retries exhausted (1/1)" in plan["blocked"][0]["message"]


def test_redeploy_queues_a_task_for_the_current_release(cli, ws):
    root = ws(resources=1)
    assert cli("apply", "-C", root, "--actor", "ci").code == 0
    queued = cli("redeploy", "app/prod/r1", "-C", root, "--actor", "alice")
    assert queued.code == 0 and "runs on the next 'reconciler apply'" in queued.out
    assert cli("apply", "-C", root).code == 0
    newest = history(cli, root)[0]
    assert newest["operation"] == "reinstall" and newest["status"] == "done" and newest["actor"] == "alice"
    assert newest["reason"] == "redeploy of the current release requested by alice"
    assert [e["op"] for e in events(root) if e["event"] == "start"] == ["install", "reinstall"]
    bad = cli("redeploy", "app/prod/r9", "-C", root)
    assert bad.code == 1 and "nothing deployed" in bad.err


def test_cancel_a_pending_task(cli, ws):
    root = ws(resources=1)
    assert cli("apply", "-C", root).code == 0
    task_id = cli("redeploy", "app/prod/r1", "-C", root).out.split()[2].rstrip(":")
    result = cli("cancel", task_id, "-C", root, "--actor", "bob")
    assert result.code == 0 and "canceled task" in result.out
    assert history(cli, root)[0]["status"] == "canceled"
    assert "canceled by bob" in history(cli, root)[0]["message"]
    assert cli("apply", "-C", root).code == 0
    assert len([e for e in events(root) if e["event"] == "start"]) == 1
    again = cli("cancel", task_id, "-C", root)
    assert again.code == 2 and "already finished" in again.err


def test_cancel_a_running_task_stops_it_between_phases(cli, ws):
    root = ws(resources=1, config="{sleep: 30}")
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("apply", cli("apply", "-C", root)))
    thread.start()
    deadline = time.monotonic() + 20
    while not events(root):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    task_id = history(cli, root)[0]["id"]
    assert "cancel requested" in cli("cancel", task_id, "-C", root).out
    thread.join(timeout=20)
    assert not thread.is_alive()
    task = history(cli, root)[0]
    assert task["status"] == "canceled" and "stopped" in task["message"]


def test_release_sequencing_cancel_drops_a_queued_older_release(cli, ws):
    root = ws(resources=1, versions="v1")
    assert cli("apply", "-C", root).code == 0
    queued = cli("redeploy", "app/prod/r1", "-C", root).out.split()[2].rstrip(":")
    (root / "versions.yaml").write_text((root / "versions.yaml").read_text()
                                        + "---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: \"2026-11-05T00:00:00Z\"\n")
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert plan["changes"][0]["cancels"] == [queued]
    assert cli("apply", "-C", root).code == 0
    tasks = {t["id"]: t for t in history(cli, root)}
    assert tasks[queued]["status"] == "canceled" and "releaseSequencing" in tasks[queued]["message"]
    assert [e["version"] for e in events(root) if e["event"] == "start"] == ["v1", "v2"]


def test_release_sequencing_wait_runs_the_queued_task_first(cli, ws):
    policy = "type: Policy\nname: seq\nrules: [{releaseSequencing: {mode: wait}}]\n"
    root = ws(resources=1, versions="v1", policies=policy)
    assert cli("apply", "-C", root).code == 0
    cli("redeploy", "app/prod/r1", "-C", root)
    (root / "versions.yaml").write_text((root / "versions.yaml").read_text()
                                        + "---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: \"2026-11-05T00:00:00Z\"\n")
    assert cli("apply", "-C", root).code == 0
    assert [(e["op"], e["version"]) for e in events(root) if e["event"] == "start"] == [
        ("install", "v1"), ("reinstall", "v1"), ("upgrade", "v2")]


def test_secrets_are_revealed_only_to_the_agent(cli, ws, monkeypatch):
    variables = "variables:\n  TOKEN: {secret: {env: APP_TOKEN}}\n"
    root = ws(resources=1, config='{say: "{{ variables.TOKEN }}"}', variables=variables)
    monkeypatch.setenv("APP_TOKEN", "s3cr3t-value")
    plan = cli("plan", "-C", root, "--format", "json")
    assert plan.code == 0 and "s3cr3t-value" not in plan.out
    assert cli("apply", "-C", root).code == 0
    task = json.loads(cli("history", "-C", root, "--task", history(cli, root)[0]["id"], "--format", "json").out)
    assert "s3cr3t-value" not in json.dumps(task)
    assert "secret is <redacted>" in task["log"]
    db = (root / ".reconciler" / "state.db").read_bytes()
    assert b"s3cr3t-value" not in db
    monkeypatch.setenv("APP_TOKEN", "rotated")
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert [(c["operation"], c["reason"]) for c in plan["changes"]] == [
        ("reinstall", "secret behind variable TOKEN changed")]
    monkeypatch.delenv("APP_TOKEN")
    assert cli("apply", "-C", root).code == 1
    assert "APP_TOKEN is not set" in history(cli, root)[0]["message"]


def test_logs_keep_the_tail_and_say_how_much_was_cut(cli, ws):
    root = ws(resources=1, config="{spam: 100000}")
    (root / "reconciler.yaml").write_text("workspace: engine-test\nlogLimit: 2048\n")
    assert cli("apply", "-C", root).code == 0
    task_id = history(cli, root)[0]["id"]
    task = json.loads(cli("history", "-C", root, "--task", task_id, "--format", "json").out)
    assert task["logTruncated"] > 90000 and task["log"].startswith("[... ")
    assert task["log"].endswith("x" * 100)

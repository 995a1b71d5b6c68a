"""GitHub ``workflow_run`` webhooks report github-actions jobs: verified by X-Hub-Signature-256,
matched by the task id in the run's name, mapped as the github-actions agent maps conclusions."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from reconciler.engine.history import open_history

SECRET = "s3cret-webhook"


def signed(body: dict, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-GitHub-Event": "workflow_run", "X-Hub-Signature-256": sig, "Content-Type": "application/json"}


def run(task_id: str, conclusion: str | None, status: str = "completed") -> dict:
    return {"action": "completed", "workflow_run": {
        "id": 4242, "name": f"deploy {task_id}", "display_title": "Deploy api", "status": status,
        "conclusion": conclusion, "html_url": "https://github.example/o/r/actions/runs/4242"}}


@pytest.fixture
def api(pull_quickstart, serve_thread, cli, monkeypatch):
    monkeypatch.setenv("RECONCILER_GITHUB_WEBHOOK_SECRET", SECRET)
    assert cli("apply", "-C", pull_quickstart).code == 0
    return serve_thread(pull_quickstart)


def staging_task(root):
    store = open_history(str(root), None)
    try:
        return store.list_tasks(environment="staging")[0][0]
    finally:
        store.close()


@pytest.mark.parametrize("conclusion,status", [("success", "done"), ("cancelled", "canceled"),
                                               ("neutral", "skipped"), ("timed_out", "failed")])
def test_a_completed_run_reports_its_job(api, conclusion, status):
    task = staging_task(api.root)
    raw, headers = signed(run(task.id, conclusion))
    with api.client(None) as http:
        answer = http.post("/api/v1/webhooks/github", content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"result": "reported", "detail": f"job {task.id} is {status}",
                                                           "jobId": task.id}
    after = staging_task(api.root)
    assert after.status == status and after.external_id == "4242" and "4242" in after.message


def test_a_running_or_action_required_run_keeps_the_job_in_progress(api):
    task = staging_task(api.root)
    for body in (run(task.id, None, status="in_progress"), run(task.id, "action_required")):
        raw, headers = signed(body)
        with api.client(None) as http:
            assert http.post("/api/v1/webhooks/github", content=raw, headers=headers).json()["result"] == "reported"
        assert staging_task(api.root).status == "in_progress"


def test_unsigned_or_unrelated_events_change_nothing(api, monkeypatch):
    task = staging_task(api.root)
    raw, headers = signed(run(task.id, "success"), secret="wrong")
    with api.client(None) as http:
        forged = http.post("/api/v1/webhooks/github", content=raw, headers=headers)
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
        raw, headers = signed(run("ffffffffffffffff", "success"))
        assert http.post("/api/v1/webhooks/github", content=raw, headers=headers).json()["result"] == "ignored"
        raw, headers = signed({"zen": "Keep it logically awesome."})
        headers["X-GitHub-Event"] = "ping"
        assert http.post("/api/v1/webhooks/github", content=raw, headers=headers).json()["result"] == "ignored"
        monkeypatch.delenv("RECONCILER_GITHUB_WEBHOOK_SECRET")
        raw, headers = signed(run(task.id, "success"))
        assert http.post("/api/v1/webhooks/github", content=raw, headers=headers).status_code == 404
    assert staging_task(api.root) == task

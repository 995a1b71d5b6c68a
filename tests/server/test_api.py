"""The seed's endpoints over a real server on 127.0.0.1: keys and scopes, releases and jobs in the
seed's shapes, approve / cancel / redeploy, and requests that must change nothing."""

from __future__ import annotations

import json

import pytest

from reconciler.engine.history import open_history

ENDPOINTS = [  # (method, path, scope it needs)
    ("GET", "/api/v1/status", "read"),
    ("GET", "/api/v1/deployments/api/releases", "read"),
    ("GET", "/api/v1/deployments/api/jobs", "read"),
    ("GET", "/api/v1/job-agents/local/queue/next", "agent"),
    ("PATCH", "/api/v1/jobs/0123456789abcdef", "agent"),
    ("POST", "/api/v1/jobs/0123456789abcdef/heartbeat", "agent"),
    ("POST", "/api/v1/releases/r1/approve", "approve"),
    ("PATCH", "/api/v1/releases/r1", "admin"),
    ("POST", "/api/v1/releases/r1/redeploy", "admin"),
]
ALLOWED = {"read": {"read", "agent", "approve", "admin"}, "agent": {"agent", "admin"},
           "approve": {"approve", "admin"}, "admin": {"admin"}}


@pytest.fixture
def api(pull_quickstart, serve_thread, cli):
    assert cli("apply", "-C", pull_quickstart).code == 0  # staging queued for pull agents, production blocked
    return serve_thread(pull_quickstart)


def tasks(root):
    store = open_history(str(root), None)
    try:
        return {t.id: t for t in store.list_tasks(per_page=100)[0]}
    finally:
        store.close()


def test_only_healthz_and_the_empty_page_answer_without_a_key(api):
    with api.client(None) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        page = http.get("/")
        assert page.status_code == 200 and "v1.2.3" not in page.text and "API key" in page.text
        for path in ("/api/v1/status", "/ui/overview", "/api/v1/deployments/api/jobs"):
            answer = http.get(path)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
            assert answer.json()["error"]["code"] == "unauthenticated"
        bad = http.get("/api/v1/status", headers={"Authorization": "Bearer rk_not-a-key"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_key"


@pytest.mark.parametrize("method,path,needed", ENDPOINTS)
def test_a_key_without_the_scope_gets_403(api, method, path, needed):
    for scope in ("read", "agent", "approve", "admin"):
        with api.client(scope) as http:
            answer = http.request(method, path, json={"status": "cancelled"} if "releases/r1" in path else None)
        if scope in ALLOWED[needed]:
            assert answer.status_code != 403, (scope, answer.text)
        else:
            assert answer.status_code == 403, (scope, answer.text)
            assert answer.json()["error"] == {"code": "forbidden", "message": answer.json()["error"]["message"]}
            message = answer.json()["error"]["message"]
            assert message.endswith(f"needs '{needed}'" + ("" if needed == "admin" else " (or admin)")), message


def test_a_revoked_key_is_refused(api, cli):
    assert cli("api-key", "revoke", "read-key", "-C", api.root).code == 0
    with api.client("read") as http:
        assert http.get("/api/v1/status").status_code == 401
    listed = cli("api-key", "list", "-C", api.root).out
    assert "read-key" in listed and "revoked" in listed and api.keys["read"] not in listed


def test_releases_and_jobs_have_the_seeds_shape(api):
    with api.client("read") as http:
        releases = http.get("/api/v1/deployments/api/releases").json()
        jobs = http.get("/api/v1/deployments/api/jobs").json()
        assert http.get("/api/v1/deployments/nope/releases").status_code == 404
        page2 = http.get("/api/v1/deployments/api/releases", params={"perPage": 1, "page": 2}).json()
    by_env = {}
    for r in releases["releases"]:
        by_env.setdefault(r["environmentId"], []).append(r)
    assert releases["total"] == 3 and page2["total"] == 3 and len(page2["releases"]) == 1
    staging = by_env["staging"][0]
    assert staging["status"] == "active" and staging["versionId"] == "v1.2.3" and staging["jobId"]
    assert {r["status"] for r in by_env["production"]} == {"pending"}
    assert by_env["production"][0]["blockedBy"]["rule"] == "anyApproval" and by_env["production"][0]["jobId"] is None
    job = jobs["jobs"][0]
    assert set(job) >= {"id", "releaseId", "jobAgentId", "status", "externalId", "message", "createdAt", "startedAt",
                        "completedAt"}
    assert job["status"] == "triggered" and job["jobAgentId"] == "local" and job["releaseId"] == staging["id"]
    assert job["message"] == "queued for pull agents"
    with api.client("read") as http:
        assert http.get(f"/api/v1/releases/{staging['id']}").json()["jobId"] == job["id"]
        assert http.get(f"/api/v1/jobs/{job['id']}").json()["target"] == "api/staging/staging-cluster"
        assert http.get(f"/api/v1/jobs/{job['id'][:8]}").status_code == 404  # ids are exact in the API


def test_approve_records_the_keys_owner_and_the_next_plan_deploys(api, cli):
    with api.client("read") as http:
        pending = [r for r in http.get("/api/v1/deployments/api/releases").json()["releases"] if r["status"] == "pending"]
    with api.client("approve") as http:
        answer = http.post(f"/api/v1/releases/{pending[0]['id']}/approve", json={"reason": "looks good"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["approval"] | {"at": None} == {
        "deployment": "api", "version": "v1.2.3", "environment": "production", "actor": "approve-key",
        "status": "approved", "reason": "looks good", "at": None}
    assert answer.json()["release"]["status"] == "approved"
    plan = json.loads(cli("plan", "-C", api.root, "--format", "json").out)
    assert sorted(c["target"] for c in plan["changes"]) == ["api/production/cluster-1", "api/production/cluster-2"]


def test_cancel_a_release_and_redeploy_the_current_one(api, cli):
    job = next(iter(tasks(api.root).values()))
    with api.client("admin") as http:
        cancelled = http.patch(f"/api/v1/releases/{job.release_id}", json={"status": "cancelled"})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["jobs"][0]["cancelRequested"] is True
        again = http.patch(f"/api/v1/releases/{job.release_id}", json={"status": "cancelled"})
        assert again.status_code == 200  # still in flight until the next apply closes it
        assert http.post(f"/api/v1/releases/{job.release_id}/redeploy").status_code == 409  # nothing deployed
    assert cli("apply", "-C", api.root).code == 1  # the next apply closes it; a canceled task is not a success
    assert tasks(api.root)[job.id].status == "canceled"
    with api.client("admin") as http:
        assert http.patch(f"/api/v1/releases/{job.release_id}", json={"status": "cancelled"}).status_code == 409


def test_an_agent_report_finishes_the_task_and_records_the_target(api):
    with api.client("agent", **{"X-Agent-Instance": "host-a"}) as http:
        claimed = http.get("/api/v1/job-agents/local/queue/next").json()["jobs"]
        assert [j["target"] for j in claimed] == ["api/staging/staging-cluster"]
        job_id = claimed[0]["id"]
        assert claimed[0]["claimedBy"] == "agent-key/host-a"
        assert claimed[0]["release"]["variables"] == {"LOG_LEVEL": "info", "REPLICA_COUNT": 1}
        assert claimed[0]["jobAgentConfig"]["execute"]["command"] == ["./deploy.sh"]
        assert http.get("/api/v1/job-agents/local/queue/next").json() == {"jobs": []}
        ack = http.patch(f"/api/v1/jobs/{job_id}", json={"status": "in_progress", "message": "Starting deployment"})
        assert ack.json()["status"] == "in_progress" and ack.json()["message"] == "Starting deployment"
        done = http.patch(f"/api/v1/jobs/{job_id}", json={"status": "completed", "message": "Deployment successful",
                                                          "externalId": "run-7", "log": "all good\n"})
        assert done.json() | {} == done.json() and done.json()["status"] == "completed"
        assert done.json()["claimedBy"] is None and done.json()["externalId"] == "run-7"
        late = http.patch(f"/api/v1/jobs/{job_id}", json={"message": "too late"})
        assert late.status_code == 409 and late.json()["error"]["code"] == "job_finished"
    with api.client("read") as http:
        rows = {r["target"]: r for r in http.get("/api/v1/status").json()["rows"]}
    assert rows["api/staging/staging-cluster"]["state"] == "in sync"
    assert tasks(api.root)[job_id].log == "all good\n"
    with api.client("admin") as http:
        redeployed = http.post(f"/api/v1/releases/{claimed[0]['release']['id']}/redeploy")
    assert redeployed.status_code == 200 and redeployed.json()["job"]["operation"] == "reinstall"


def test_requests_that_are_too_large_or_malformed_change_nothing(api):
    job_id = next(iter(tasks(api.root)))
    before = tasks(api.root)
    with api.client("admin") as http:
        too_big = http.patch(f"/api/v1/jobs/{job_id}", content=b'{"message": "' + b"x" * (2 << 20) + b'"}',
                             headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "body_too_large"
        chunked = http.patch(f"/api/v1/jobs/{job_id}", content=iter([b"x" * (600 << 10)] * 2),
                             headers={"Content-Type": "application/json"})
        assert chunked.status_code == 413
        cases = [(b'{"status": "completed"', 400), (b'{"status": "completed", "colour": "red"}', 422),
                 (b'{"status": 7}', 422), (b'{"status": "exploded"}', 422), (b'[]', 422), (b"{}", 422),
                 (b'{"message": null, "status": null}', 422)]
        for raw, code in cases:
            answer = http.patch(f"/api/v1/jobs/{job_id}", content=raw, headers={"Content-Type": "application/json"})
            assert answer.status_code == code, (raw, answer.text)
            assert answer.json()["error"]["message"]
        assert http.post("/api/v1/releases/x/approve", content=b"{", headers={"Content-Type": "application/json"}
                         ).status_code == 400
    assert tasks(api.root) == before
    store = open_history(str(api.root), None)
    assert store.approvals() == []
    store.close()

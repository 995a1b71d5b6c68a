"""Claims are atomic and are leases: concurrent agents (threads, and agents talking to two server
processes on one database) never get the same job; a silent agent's job goes back to the queue,
and fails with the reason after too many expiries. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from reconciler.engine.history import open_history_writable
from reconciler.models.records import TaskRecord

JOBS = 24


def seed(root, state, count=JOBS, status="triggered") -> list[str]:
    """``count`` tasks queued for the pull agent ``local``, each on its own target."""
    store = open_history_writable(str(root), state).store
    ids = [f"{i:016x}" for i in range(1, count + 1)]
    now = datetime.now(UTC)
    store.create_tasks([TaskRecord(
        id=tid, target=f"api/staging/r{i}", deployment="api", environment="staging", resource=f"r{i}",
        operation="install", status=status, version="v1", from_version=None, release_id=f"rel{i}", actor="ci",
        actor_kind="bot", reason="test", diff={}, revision="abc", created_at=now, run_id="run", agent="local",
        job={"config": {"type": "pull", "execute": {"type": "command", "command": ["true"]}}, "variables": {}})
        for i, tid in enumerate(ids)])
    store.close()
    return ids


def drain(api_url_key_pairs, workers: int) -> Counter:
    """Threads claiming one job at a time (round-robin over the given servers/keys) until all are empty."""
    import httpx

    got: Counter = Counter()
    lock = threading.Lock()

    def worker(n: int) -> None:
        url, key = api_url_key_pairs[n % len(api_url_key_pairs)]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}", "X-Agent-Instance": f"w{n}"},
                          timeout=60) as http:
            while True:
                jobs = http.get("/api/v1/job-agents/local/queue/next", params={"limit": 2}).json()["jobs"]
                if not jobs:
                    return
                with lock:
                    got.update(j["id"] for j in jobs)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return got


def test_agents_in_threads_never_get_the_same_job(pull_quickstart, sql_state, serve_thread):
    api = serve_thread(pull_quickstart, sql_state)
    ids = seed(pull_quickstart, sql_state)
    second = api.keys["admin"]  # two agents: the agent key and an admin key
    got = drain([(api.url, api.keys["agent"]), (api.url, second)], workers=8)
    assert sorted(got) == ids and set(got.values()) == {1}


def test_agents_on_two_server_processes_never_get_the_same_job(pull_quickstart, sql_state, serve_process):
    from tests.server.conftest import all_keys

    ids = seed(pull_quickstart, sql_state)
    keys = all_keys(pull_quickstart, sql_state)
    urls = [serve_process(pull_quickstart, "--state", sql_state) for _ in range(2)]
    got = drain([(urls[0], keys["agent"]), (urls[1], keys["admin"])], workers=6)
    assert sorted(got) == ids and set(got.values()) == {1}


def test_a_silent_agents_job_goes_back_to_the_queue_then_fails(pull_quickstart, serve_thread):
    api = serve_thread(pull_quickstart, lease=0.4, max_expiries=2)
    [job_id] = seed(pull_quickstart, None, count=1)
    with api.client("agent", **{"X-Agent-Instance": "a"}) as first:
        assert [j["id"] for j in first.get("/api/v1/job-agents/local/queue/next").json()["jobs"]] == [job_id]
    time.sleep(0.6)
    with api.client("agent", **{"X-Agent-Instance": "b"}) as second:
        again = second.get("/api/v1/job-agents/local/queue/next").json()["jobs"]
        assert [j["id"] for j in again] == [job_id] and again[0]["claimedBy"] == "agent-key/b"
        seen = second.get(f"/api/v1/jobs/{job_id}").json()
        assert "agent-key/a stopped heartbeating" in seen["message"] and "lease expiry 1 of 2" in seen["message"]
        deadline = time.monotonic() + 10  # the server's sweeper fails it once b's lease runs out too
        while second.get(f"/api/v1/jobs/{job_id}").json()["status"] != "failed":
            assert time.monotonic() < deadline, "the expired job did not fail"
            time.sleep(0.1)
        failed = second.get(f"/api/v1/jobs/{job_id}").json()
    assert "agent-key/b stopped heartbeating" in failed["message"] and "2 of 2 leases expired" in failed["message"]


def test_heartbeats_keep_the_claim_and_only_the_claimant_reports(pull_quickstart, serve_thread, cli):
    api = serve_thread(pull_quickstart, lease=0.5)
    [job_id] = seed(pull_quickstart, None, count=1)
    a = api.client("agent", **{"X-Agent-Instance": "a"})
    b = api.client("agent", **{"X-Agent-Instance": "b"})
    assert a.get("/api/v1/job-agents/local/queue/next").json()["jobs"]
    for _ in range(6):  # 1.2 s: more than two leases, renewed every 0.2 s
        beat = a.post(f"/api/v1/jobs/{job_id}/heartbeat")
        assert beat.status_code == 200 and beat.json()["cancelRequested"] is False
        time.sleep(0.2)
    assert b.get("/api/v1/job-agents/local/queue/next").json() == {"jobs": []}
    stolen = b.patch(f"/api/v1/jobs/{job_id}", json={"status": "completed"})
    assert stolen.status_code == 409 and "claimed by agent-key/a" in stolen.json()["error"]["message"]
    assert b.post(f"/api/v1/jobs/{job_id}/heartbeat").status_code == 409
    assert cli("cancel", job_id, "-C", pull_quickstart).code == 0
    assert a.post(f"/api/v1/jobs/{job_id}/heartbeat").json()["cancelRequested"] is True
    with api.client("admin") as admin:  # an admin key may report on any job
        assert admin.patch(f"/api/v1/jobs/{job_id}", json={"status": "cancelled"}).json()["status"] == "cancelled"
    assert a.post(f"/api/v1/jobs/{job_id}/heartbeat").json()["error"]["code"] == "job_finished"
    a.close(), b.close()


def test_only_pull_agents_have_a_queue(quickstart, serve_thread):
    api = serve_thread(quickstart)  # its JobAgent "local" is a command agent
    with api.client("agent") as http:
        assert http.get("/api/v1/job-agents/nope/queue/next").status_code == 404
        answer = http.get("/api/v1/job-agents/local/queue/next")
    assert answer.status_code == 409 and "only type 'pull'" in answer.json()["error"]["message"]


def test_a_job_the_server_cannot_build_fails_with_the_reason(pull_quickstart, serve_thread):
    api = serve_thread(pull_quickstart)
    [job_id] = seed(pull_quickstart, None, count=1)
    store = open_history_writable(str(pull_quickstart), None).store
    store.update_task(job_id, job={"template": {"type": "pull", "token": "{{ variables.TOKEN }}"},
                                   "variables": {"TOKEN": "<redacted>"}, "secrets": {"TOKEN": "NOT_SET_ANYWHERE"},
                                   "context": {}, "config": {}})
    store.close()
    with api.client("agent") as http:
        assert http.get("/api/v1/job-agents/local/queue/next").json() == {"jobs": []}
        failed = http.get(f"/api/v1/jobs/{job_id}").json()
    assert failed["status"] == "failed" and failed["claimedBy"] is None
    assert "could not build the job" in failed["message"] and "NOT_SET_ANYWHERE" in failed["message"]

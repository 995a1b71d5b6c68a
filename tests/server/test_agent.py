"""The reference pull agent and the ``pull`` agent type: what dispatch and poll record, how the local
config is derived, and a running job that stops when its release is cancelled."""

from __future__ import annotations

import dataclasses

import shutil
import threading
import time
from pathlib import Path

from reconciler.engine.history import open_history
from reconciler.executors import registry
from reconciler.executors.base import ExecContext, Job
from reconciler.executors.builtin.pull import local_config
from reconciler.server.agent import Options, run

SLOW = """\
# yaml-language-server: $schema=../../schemas/document.schema.json
type: JobAgent
name: local
config:
  type: pull
  execute: {type: command, command: [sh, -c, "echo started; sleep 30"]}
"""


def job(external_id=None) -> Job:
    return Job("t1", 1, "install", "api/staging/s", "api", "staging", "s", "v1", "r1", {"type": "pull"}, {}, {},
               external_id=external_id)


def test_pull_dispatch_only_queues_and_poll_never_calls_out(tmp_path):
    agent = registry.create({"type": "pull", "execute": {"type": "command", "command": ["./deploy.sh"]}})
    ctx = ExecContext(tmp_path, tmp_path, 10)
    assert (agent.dispatch(job(), ctx).status, agent.dispatch(job(), ctx).message) == ("triggered",
                                                                                       "queued for pull agents")
    assert agent.poll(job(), ctx).status == "triggered"
    acknowledged = dataclasses.replace(job("local@host:1"), status="in_progress", message="applying manifests")
    polled = agent.poll(acknowledged, ctx)
    assert (polled.status, polled.message) == ("in_progress", "applying manifests"), "a poll repeats the report"
    assert list(tmp_path.iterdir()) == []


def test_the_local_config_is_execute_over_the_job_values():
    merged = {"type": "pull", "image": "api:v1", "execute": {"type": "compose", "project": "shop"}}
    assert local_config(merged) == {"image": "api:v1", "type": "compose", "project": "shop"}
    assert local_config({"type": "pull", "execute": {"command": ["x"]}})["type"] == "command"


def test_a_cancelled_release_stops_the_running_job(pull_quickstart, serve_thread, cli, tmp_path):
    (pull_quickstart / "agents.yaml").write_text(SLOW)
    api = serve_thread(pull_quickstart, lease=0.6)
    assert cli("apply", "-C", pull_quickstart).code == 0
    host = tmp_path / "host"
    host.mkdir()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(
        code=run(Options(api.url, "local", api.keys["agent"], host, once=True), lambda line: None)))
    started = time.monotonic()
    worker.start()
    with api.client("admin") as http:
        job_id = _wait_for_running(http)
        release = http.get(f"/api/v1/jobs/{job_id}").json()["releaseId"]
        assert http.patch(f"/api/v1/releases/{release}", json={"status": "cancelled"}).status_code == 200
    worker.join(timeout=20)
    assert outcome == {"code": 1} and time.monotonic() - started < 15  # stopped long before sleep 30 ended
    store = open_history(str(pull_quickstart), None)
    task = store.get_task(job_id)
    store.close()
    assert task.status == "canceled" and "started" in task.log
    assert not any((host / ".reconciler" / "work").iterdir())


def _wait_for_running(http) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        jobs = http.get("/api/v1/deployments/api/jobs").json()["jobs"]
        running = [j for j in jobs if j["status"] == "in_progress"]
        if running:
            return running[0]["id"]
        time.sleep(0.05)
    raise AssertionError("the agent never acknowledged the job")


def test_an_unreachable_server_fails_once_mode(tmp_path):
    lines: list[str] = []
    assert run(Options("http://127.0.0.1:9", "local", "rk_x", Path(tmp_path), once=True), lines.append) == 1
    assert "cannot reach the queue" in lines[0]
    assert shutil.which("sh")

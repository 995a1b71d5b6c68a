"""The reference pull agent (``reconciler agent run``): Ctrlplane's job-agent loop for a host that
can reach only the API.

Loop: ``GET queue/next`` claims a job → ``PATCH`` it ``in_progress`` (acknowledge, with this
process as external id) → run it with a local agent while a thread heartbeats the lease → ``PATCH``
the outcome (status, message, log). The local agent is built through the registry from the job's
config with ``type: pull`` swapped for its ``execute`` block (``executors.builtin.pull.local_config``),
so ``execute: {type: command, command: [./deploy.sh]}`` runs a command and ``{type: compose}``
the compose agent. Relative paths resolve against ``--workdir``. A heartbeat that reports a cancel
request, or a lost claim, stops the local agent between phases (the command agent kills its
process); a lost claim is not reported, since another agent owns the job now.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reconciler.errors import InvalidAgentError, ReconcilerError
from reconciler.executors import registry
from reconciler.executors.base import AgentResult, ExecContext, Job
from reconciler.executors.builtin.pull import local_config
from reconciler.models import statuses

REPORTED = {statuses.DONE: "completed", statuses.FAILED: "failed", statuses.CANCELED: "cancelled",
            statuses.SKIPPED: "skipped", statuses.INVALID_JOB_AGENT: "invalid_job_agent"}
LOG_LIMIT = 256 * 1024


class ClaimLost(Exception):
    """The server no longer lets this process report on the job (finished, or claimed by another)."""


@dataclass
class Options:
    url: str
    agent: str
    key: str
    workdir: Path = field(default_factory=Path.cwd)
    once: bool = False
    poll: float = 2.0
    timeout: float = 3600.0
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


class Client:
    """The few API calls an agent makes; raises ClaimLost on 409 and httpx errors otherwise."""

    def __init__(self, options: Options):
        self.http = httpx.Client(base_url=options.url.rstrip("/") + "/api/v1", timeout=30.0, headers={
            "Authorization": f"Bearer {options.key}", "X-Agent-Instance": options.instance})

    def close(self) -> None:
        self.http.close()

    def next_jobs(self, agent: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/job-agents/{agent}/queue/next", params={"limit": 1})["jobs"]  # type: ignore

    def patch(self, job_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/jobs/{job_id}", json={k: v for k, v in fields.items() if v is not None})

    def heartbeat(self, job_id: str) -> dict[str, Any]:
        return self._call("POST", f"/jobs/{job_id}/heartbeat")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, **kwargs)
        if response.status_code == 409:
            raise ClaimLost(_message(response))
        if response.status_code >= 400:
            raise ReconcilerError(f"{method} {path} answered {response.status_code}: {_message(response)}")
        return response.json()  # type: ignore[no-any-return]


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def run(options: Options, say: Callable[[str], None] = print) -> int:
    """Poll and run jobs; with ``once``, stop when the queue is empty. Exit 0 when every job it ran
    succeeded, else 1."""
    client, failures = Client(options), 0
    try:
        while True:
            try:
                queued = client.next_jobs(options.agent)
            except (httpx.HTTPError, ReconcilerError, ClaimLost) as exc:
                say(f"cannot reach the queue: {exc}")
                if options.once:
                    return 1
                time.sleep(options.poll)
                continue
            if not queued:
                if options.once:
                    return 1 if failures else 0
                time.sleep(options.poll)
                continue
            for job in queued:
                outcome = execute(client, job, options, say)
                failures += outcome not in (statuses.DONE, "lost")
    finally:
        client.close()


def execute(client: Client, queued: dict[str, Any], options: Options, say: Callable[[str], None]) -> str:
    """Acknowledge, run and report one job; returns our status, or "lost" when the claim was lost."""
    job_id = queued["id"]
    say(f"claimed job {job_id}: {queued['operation']} {queued['target']} {queued['release']['version'].get('tag')}")
    try:
        client.patch(job_id, status="in_progress", message=f"started by {options.instance}",
                     externalId=f"{options.agent}@{options.instance}")
        beat = Heartbeat(client, job_id, queued["claimedUntil"])
        with beat:
            result = run_locally(queued, options, beat.stop_requested)
        if beat.lost:
            say(f"job {job_id}: the claim was lost ({beat.lost}); not reporting")
            return "lost"
        client.patch(job_id, status=REPORTED.get(result.status, "failed"), message=result.message[:20000],
                     externalId=result.external_id, log=_tail(result.log))
    except ClaimLost as exc:
        say(f"job {job_id}: {exc}")
        return "lost"
    say(f"job {job_id}: {result.status} {result.message[:200]}")
    return result.status


def run_locally(queued: dict[str, Any], options: Options, stop: Callable[[], bool]) -> AgentResult:
    """Run the job with the local agent its ``execute`` block names, following an asynchronous one
    to the end. Failures become a result, never an exception."""
    config = local_config(queued["jobAgentConfig"])
    job = to_job(queued, config)
    scratch = options.workdir / ".reconciler" / "work" / job.task_id
    try:
        agent = registry.create(config)
        for rel, content in job.artifacts.items():
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            (scratch / rel).write_text(content)
        scratch.mkdir(parents=True, exist_ok=True)
        ctx = ExecContext(options.workdir, scratch, options.timeout, stop)
        result = agent.dispatch(job, ctx)
        while result.status in (statuses.TRIGGERED, statuses.IN_PROGRESS) and not stop():
            time.sleep(agent.poll_interval())
            job = to_job(queued, config, result.external_id or job.external_id)
            result = agent.poll(job, ctx)
        if stop() and result.status not in statuses.TERMINAL:
            agent.cancel(job, ctx)
            return AgentResult(statuses.CANCELED, "stopped: the job was canceled")
        return result
    except InvalidAgentError as exc:
        return AgentResult(statuses.INVALID_JOB_AGENT, str(exc))
    except Exception as exc:  # noqa: BLE001 - an agent error fails the job, never the loop
        return AgentResult(statuses.FAILED, f"{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def to_job(queued: dict[str, Any], config: dict[str, Any], external_id: str | None = None) -> Job:
    release = queued["release"]
    dep, env, res = queued["target"].split("/", 2)
    version = release["version"].get("tag", "")
    return Job(queued["id"], queued["attempt"], queued["operation"], queued["target"], dep, env, res, version,
               release["id"], config, release["variables"], release, queued.get("artifacts") or {},
               queued.get("previousVersion"), external_id)


class Heartbeat:
    """Renew the lease while a job runs (three times per lease); note cancel requests and a lost claim."""

    def __init__(self, client: Client, job_id: str, claimed_until: str):
        until = datetime.fromisoformat(claimed_until)
        self.interval = max((until - datetime.now(UTC)).total_seconds() / 3, 0.2)
        self.client, self.job_id = client, job_id
        self.cancel, self.lost = False, ""
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def stop_requested(self) -> bool:
        return self.cancel or bool(self.lost)

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            try:
                self.cancel = bool(self.client.heartbeat(self.job_id).get("cancelRequested"))
            except ClaimLost as exc:
                self.lost = str(exc)
                return
            except (httpx.HTTPError, ReconcilerError):
                continue  # the next beat retries; the lease outlives a few missed beats


def _tail(log: str) -> str | None:
    if not log:
        return None
    data = log.encode("utf-8", "replace")
    return data[-LOG_LIMIT:].decode("utf-8", "ignore")

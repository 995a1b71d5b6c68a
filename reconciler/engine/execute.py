"""Execute one task through its job agent, verify it, record the outcome, roll back on failure.

Phases: check for a cancel request → start an attempt → build the job (secrets revealed) → dispatch
(or poll an asynchronous task) → verify → record → roll back if the rollback rule says so. Between
phases a cancel request stops the task; cancelling never undoes work. A done task records the
target's new current state in the same transaction as its outcome.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reconciler.engine import jobs, rollback
from reconciler.engine.hooks import Hooks
from reconciler.engine.verify import Verifier
from reconciler.errors import InvalidAgentError, ReconcilerError, TerminalError, TransientError
from reconciler.executors import registry
from reconciler.executors.base import AgentResult, ExecContext
from reconciler.models import statuses
from reconciler.models.keys import TargetKey
from reconciler.models.records import TargetState, TaskRecord

ASYNC_STATUSES = (statuses.TRIGGERED, statuses.IN_PROGRESS)


def finish(store, task: TaskRecord, status: str, message: str, now: datetime, log: str | None = None,
           cut: int = 0) -> None:
    """Close ``task``; when done, record (or clear) its target's current state in the same write."""
    new_state, clear = None, None
    if status == statuses.DONE:
        if task.operation == "uninstall":
            clear = task.target
        else:
            spec = task.job
            new_state = TargetState(task.target, task.version, task.release_id, spec.get("config_digest", ""),
                                    spec.get("inputs", {}), spec.get("placement", {}), task.id, now, now,
                                    spec.get("fingerprint", ""))
            if task.operation == "recreate" and spec.get("from_resource"):
                key = TargetKey.parse(task.target)
                clear = str(TargetKey(key.deployment, key.environment, spec["from_resource"]))
    store.finish_task(task.id, status=status, message=message, at=now, log=log, log_truncated=cut,
                      new_state=new_state, clear_state=clear)
VERIFY_TRIGGERS = {"jobSuccess": statuses.DONE, "jobCreated": statuses.DONE, "jobStarted": statuses.DONE,
                   "jobFailure": statuses.FAILED}


@dataclass
class Runner:
    """What every task execution in one run shares."""

    store: object
    workdir: Path
    run_id: str
    clock: Callable[[], datetime]
    hooks: Hooks
    timeout: float
    log_limit: int
    sleep: Callable[[float], None] = time.sleep
    stop: threading.Event = field(default_factory=threading.Event)  # set on SIGTERM: hand work back
    rolled_back: set[str] = field(default_factory=set)  # tasks the rollback rule already rolled back

    def run(self, task: TaskRecord, *, resume: bool = False, retry: bool = False, mode: str = "dispatch") -> str:
        """Execute ``task``. ``mode``: dispatch (default), poll (asynchronous, in flight) or verify
        (a dead run left it verifying)."""
        store = self.store
        if mode == "dispatch":
            if self.stop.is_set():
                return statuses.PENDING  # not started; the next run picks it up
            now, current = self.clock(), task  # work items are read fresh; start_attempt checks for cancels
            attempt = store.start_attempt(task.id, self.run_id, now,  # type: ignore[attr-defined]
                                          interrupted_previous=resume and current.status == statuses.STARTED,
                                          unless_canceled=True)
            if attempt is None:
                return self._finish(store.get_task(task.id), statuses.CANCELED,  # type: ignore[attr-defined]
                                    "canceled before it started", "")
            if retry:
                store.update_task(task.id, retries=current.retries + 1)  # type: ignore[attr-defined]
            # what start_attempt wrote, without reading the row back (one query less per task)
            task = dataclasses.replace(current, status=statuses.STARTED, attempt=attempt, run_id=self.run_id,
                                       started_at=current.started_at or now, finished_at=None,
                                       retries=current.retries + (1 if retry else 0))
            self.hooks.task_started(task, attempt)
        else:
            task = current = store.get_task(task.id)  # type: ignore[attr-defined]
            if current.status == statuses.CANCELED:
                return self._finish(current, statuses.CANCELED, "canceled before it started", "")
        if mode == "verify":
            return self._complete(task, AgentResult(statuses.DONE, task.message), [])
        if mode == "poll" and current.cancel_requested:
            self._agent_call(task, lambda agent, job, ctx: agent.cancel(job, ctx))
            return self._finish(task, statuses.CANCELED, "canceled while in flight; the agent was asked to stop", "")
        result, secrets = self._call_agent(task, poll=(mode == "poll"))
        if result.outputs:
            self.store.update_task(task.id, job={**task.job, "outputs": result.outputs})  # type: ignore
            task = self.store.get_task(task.id)  # type: ignore[attr-defined]
        return self._complete(task, result, secrets)

    def poll_interval(self, task: TaskRecord) -> float:
        """Seconds to leave between two polls of an asynchronous task (its agent's setting), read
        off the job's stored config: no secret is revealed and no artifact rendered to learn it."""
        for config in (lambda: task.job.get("config") or {}, lambda: jobs.build_job(task)[0].config):
            try:  # (the full job only if the stored config, secrets redacted, does not validate)
                return registry.create(config()).poll_interval()
            except Exception:  # noqa: BLE001 - a broken agent fails on the poll itself
                continue
        return 1.0

    def _agent_call(self, task: TaskRecord, call) -> AgentResult | None:
        """Run ``call(agent, job, ctx)`` for a second-phase agent action; failures become a result."""
        try:
            job, _ = jobs.build_job(task)
            agent = registry.create(job.config)
            scratch = self.workdir / ".reconciler" / "work" / task.id
            scratch.mkdir(parents=True, exist_ok=True)
            return call(agent, job, ExecContext(self.workdir, scratch, self.timeout, self._cancel_check(task.id)))
        except Exception as exc:  # noqa: BLE001 - reported on the task
            return AgentResult(statuses.FAILED, f"{type(exc).__name__}: {exc}")

    def _call_agent(self, task: TaskRecord, poll: bool) -> tuple[AgentResult, list[str]]:
        secrets: list[str] = []
        try:
            job, secrets = jobs.build_job(task)
            agent = registry.create(job.config)
            scratch = self.workdir / ".reconciler" / "work" / task.id
            scratch.mkdir(parents=True, exist_ok=True)
            for rel, content in job.artifacts.items():
                path = scratch / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
            ctx = ExecContext(self.workdir, scratch, self.timeout, self._cancel_check(task.id))
            return (agent.poll(job, ctx) if poll else agent.dispatch(job, ctx)), secrets
        except InvalidAgentError as exc:
            return AgentResult(statuses.INVALID_JOB_AGENT, str(exc)), secrets
        except TerminalError as exc:
            return AgentResult(statuses.FAILED, str(exc)), secrets
        except TransientError as exc:
            return AgentResult(statuses.FAILED, f"{exc} (transient)"), secrets
        except ReconcilerError as exc:
            return AgentResult(statuses.FAILED, str(exc)), secrets
        except Exception as exc:  # noqa: BLE001 - an agent bug fails the task, never the run
            return AgentResult(statuses.FAILED, f"agent error: {type(exc).__name__}: {exc}"), secrets

    def _cancel_check(self, task_id: str) -> Callable[[], bool]:
        last = [0.0, False]

        def check() -> bool:
            if self.stop.is_set():
                return True
            now = time.monotonic()
            if now - last[0] >= 1.0:
                last[0] = now
                try:
                    last[1] = self.store.get_task(task_id).cancel_requested  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001
                    pass
            return bool(last[1])

        return check

    def _complete(self, task: TaskRecord, result: AgentResult, secrets: list[str]) -> str:
        if self.stop.is_set() and result.status == statuses.CANCELED and not self._cancel_requested(task.id):
            self.store.hand_back(task.id, self.clock(), "handed back: the reconciler was asked to stop")  # type: ignore
            self.hooks.task_finished(task, statuses.PENDING, "handed back to the next run")
            return statuses.PENDING
        message = jobs.scrub(result.message, secrets)
        log, cut = jobs.bound_log(jobs.scrub(result.log, secrets), self.log_limit)
        if result.status in ASYNC_STATUSES:
            latest = self.store.get_task(task.id)  # type: ignore[attr-defined]
            if latest.status in statuses.TERMINAL:
                return latest.status  # reported finished (e.g. through the API) while we polled
            self.store.update_task(task.id, status=result.status, message=message, log=log or latest.log,  # type: ignore
                                   log_truncated=cut, external_id=result.external_id or task.external_id)
            self.hooks.task_finished(task, result.status, message)
            return result.status
        status = result.status if result.status in statuses.TERMINAL else statuses.FAILED
        if result.external_id:
            self.store.update_task(task.id, external_id=result.external_id)  # type: ignore[attr-defined]
        status, message, failed_verification = self._verify(task, status, message, log, cut)
        outputs = task.job.get("outputs") or {}
        if outputs and status in (statuses.DONE, statuses.FAILED):
            second = self._agent_call(task, lambda a, j, c: a.finalize(j, c, outputs, status == statuses.DONE))
            if second is not None:
                message = f"{message}; {second.message}"
                if second.status != statuses.DONE and status == statuses.DONE:
                    status = statuses.FAILED
        final = self._finish(task, status, message, log, cut)
        if final in statuses.FAILURES:
            self._maybe_roll_back(task, final, message, failed_verification)
        return final

    def _cancel_requested(self, task_id: str) -> bool:
        return bool(self.store.get_task(task_id).cancel_requested)  # type: ignore[attr-defined]

    def _verify(self, task: TaskRecord, status: str, message: str, log: str, cut: int) -> tuple[str, str, bool]:
        spec = task.job.get("verification")
        if not spec or VERIFY_TRIGGERS.get(spec.get("triggerOn", "jobSuccess")) != status:
            return status, message, False
        if status == statuses.DONE:
            self.store.update_task(task.id, status=statuses.VERIFYING, message=message, log=log,  # type: ignore
                                   log_truncated=cut)
            self.hooks.task_finished(task, statuses.VERIFYING, "verifying")
        verifier = Verifier(self.store, str(self.workdir), self.clock, self._cancel_check(task.id), self.sleep)
        outcome, detail = verifier.run(self.store.get_task(task.id), spec)  # type: ignore[attr-defined]
        if status != statuses.DONE:
            return status, f"{message}; {detail}", False
        if outcome == "passed":
            return statuses.DONE, f"{message}; {detail}" if message else detail, False
        if outcome == "canceled":
            return statuses.CANCELED, detail, False
        return statuses.FAILED, detail, True

    def _maybe_roll_back(self, task: TaskRecord, status: str, message: str, failed_verification: bool) -> None:
        rb = rollback.after_failure(self.store, task, status, message, failed_verification, self.clock(),
                                    self.run_id, uuid.uuid4().hex[:16])
        if rb is not None:
            self.rolled_back.add(task.id)
            self.run(rb)

    def _finish(self, task: TaskRecord, status: str, message: str, log: str, cut: int = 0) -> str:
        finish(self.store, task, status, message, self.clock(), log or None, cut)
        if status in statuses.TERMINAL:
            _drop_scratch(self.workdir / ".reconciler" / "work" / task.id)
        self.hooks.task_finished(task, status, message)
        return status


def _drop_scratch(folder: Path) -> None:
    """Remove a finished task's scratch folder: usually empty by then (one ``rmdir``), else with
    whatever its agent left there."""
    try:
        os.rmdir(folder)
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)

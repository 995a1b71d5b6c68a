"""Execute one task through its job agent and record the outcome.

Phases: check for a cancel request → start an attempt → build the job (secrets revealed) → dispatch
→ record. Between phases a cancel request stops the task; cancelling never undoes work. A done
task records the target's new current state in the same transaction as the task's outcome.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.engine import jobs
from reconciler.engine.hooks import Hooks
from reconciler.errors import InvalidAgentError, ReconcilerError, TerminalError, TransientError
from reconciler.executors import registry
from reconciler.executors.base import AgentResult, ExecContext
from reconciler.models import statuses
from reconciler.models.keys import TargetKey
from reconciler.models.records import TargetState, TaskRecord

ASYNC_STATUSES = (statuses.TRIGGERED, statuses.IN_PROGRESS)


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

    def run(self, task: TaskRecord, *, resume: bool = False, retry: bool = False) -> str:
        """Execute ``task`` (already recorded as pending, or interrupted when ``resume``)."""
        store = self.store
        current = store.get_task(task.id)  # type: ignore[attr-defined]
        if current.cancel_requested or current.status == statuses.CANCELED:
            return self._finish(current, statuses.CANCELED, "canceled before it started", "")
        attempt = store.start_attempt(task.id, self.run_id, self.clock(),  # type: ignore[attr-defined]
                                      interrupted_previous=resume and current.status == statuses.STARTED)
        if retry:
            store.update_task(task.id, retries=current.retries + 1)  # type: ignore[attr-defined]
        task = store.get_task(task.id)  # type: ignore[attr-defined]
        self.hooks.task_started(task, attempt)
        secrets: list[str] = []
        try:
            job, secrets = jobs.build_job(task)
            agent = registry.create(job.config)
            scratch = self.workdir / ".reconciler" / "work" / task.id
            scratch.mkdir(parents=True, exist_ok=True)
            ctx = ExecContext(self.workdir, scratch, self.timeout, self._cancel_check(task.id))
            result = agent.dispatch(job, ctx)
        except InvalidAgentError as exc:
            result = AgentResult(statuses.INVALID_JOB_AGENT, str(exc))
        except TerminalError as exc:
            result = AgentResult(statuses.FAILED, str(exc))
        except TransientError as exc:
            result = AgentResult(statuses.FAILED, f"{exc} (transient)")
        except ReconcilerError as exc:
            result = AgentResult(statuses.FAILED, str(exc))
        except Exception as exc:  # noqa: BLE001 - an agent bug fails the task, never the run
            result = AgentResult(statuses.FAILED, f"agent error: {type(exc).__name__}: {exc}")
        return self._record(task, result, secrets)

    def _cancel_check(self, task_id: str) -> Callable[[], bool]:
        last = [0.0, False]

        def check() -> bool:
            now = time.monotonic()
            if now - last[0] >= 1.0:
                last[0] = now
                try:
                    last[1] = self.store.get_task(task_id).cancel_requested  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001
                    pass
            return bool(last[1])

        return check

    def _record(self, task: TaskRecord, result: AgentResult, secrets: list[str]) -> str:
        message = jobs.scrub(result.message, secrets)
        log, cut = jobs.bound_log(jobs.scrub(result.log, secrets), self.log_limit)
        if result.status in ASYNC_STATUSES:
            self.store.update_task(task.id, status=result.status, message=message, log=log,  # type: ignore
                                   log_truncated=cut, external_id=result.external_id or task.external_id)
            self.hooks.task_finished(task, result.status, message)
            return result.status
        status = result.status if result.status in statuses.TERMINAL else statuses.FAILED
        return self._finish(task, status, message, log, cut, result.external_id)

    def _finish(self, task: TaskRecord, status: str, message: str, log: str, cut: int = 0,
                external_id: str | None = None) -> str:
        now = self.clock()
        new_state, clear = None, None
        if status == statuses.DONE:
            if task.operation == "uninstall":
                clear = task.target
            else:
                spec = task.job
                new_state = TargetState(task.target, task.version, task.release_id, spec.get("config_digest", ""),
                                        spec.get("inputs", {}), spec.get("placement", {}), task.id, now, now)
                if task.operation == "recreate" and spec.get("from_resource"):
                    key = TargetKey.parse(task.target)
                    clear = str(TargetKey(key.deployment, key.environment, spec["from_resource"]))
        extra = {"external_id": external_id} if external_id else None
        self.store.finish_task(task.id, status=status, message=message, at=now, log=log,  # type: ignore
                               log_truncated=cut, new_state=new_state, clear_state=clear, extra=extra)
        if status in statuses.TERMINAL:
            shutil.rmtree(self.workdir / ".reconciler" / "work" / task.id, ignore_errors=True)
        self.hooks.task_finished(task, status, message)
        return status

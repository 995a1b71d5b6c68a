"""Requests people make between reconciles: approve or reject a version, cancel a task, redeploy
a target's current release. Each is one atomic write to recorded state."""

from __future__ import annotations

import difflib
from datetime import datetime

from reconciler.engine import rollback
from reconciler.engine.apply import new_task_id
from reconciler.engine.identity import Actor
from reconciler.engine.session import Session
from reconciler.errors import NotFoundError, UsageError
from reconciler.models import statuses
from reconciler.models.records import ApprovalRecord, TaskRecord


def _known(kind: str, name: str, known: list[str]) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (f"; known: {', '.join(sorted(known)[:10])}" if known else "")
        raise UsageError(f"unknown {kind} {name!r}{hint}")


def record_vote(session: Session, deployment: str, version: str, environment: str, actor: Actor, status: str,
                reason: str, now: datetime) -> ApprovalRecord:
    """Record an approval or rejection of ``version`` in ``environment`` (one vote per actor)."""
    catalog = session.catalog
    _known("deployment", deployment, list(catalog.deployments))
    dep = catalog.deployments[deployment]
    _known("environment", environment, [e.name for e in catalog.environments_of(dep.system)])
    _known("version", version, [v.tag for v in catalog.versions.get(deployment, [])])
    record = ApprovalRecord(deployment, version, environment, actor.name, status, reason, now)
    session.store.record_approval(record)  # type: ignore[attr-defined]
    return record


def cancel(session: Session, task_id: str, actor: Actor, now: datetime) -> tuple[TaskRecord, str]:
    """Cancel a pending task at once; mark a running one cancel-requested. Never undoes work."""
    store = session.store
    task = store.get_task(task_id)  # type: ignore[attr-defined]
    if task.status in statuses.TERMINAL:
        raise UsageError(f"task {task.id} already finished ({task.status}); cancelling never undoes work")
    if task.status == statuses.PENDING:
        store.finish_task(task.id, status=statuses.CANCELED, at=now,  # type: ignore[attr-defined]
                          message=f"canceled by {actor.name} before it started")
        return store.get_task(task.id), "canceled"  # type: ignore[attr-defined]
    store.update_task(task.id, cancel_requested=True,  # type: ignore[attr-defined]
                      message=f"cancel requested by {actor.name}; the engine stops it between phases")
    return store.get_task(task.id), "cancel-requested"  # type: ignore[attr-defined]


def redeploy(session: Session, target: str, actor: Actor, now: datetime) -> TaskRecord:
    """Queue a new task for the target's current release; the next apply runs it."""
    store = session.store
    state = store.target_states().get(target)  # type: ignore[attr-defined]
    if state is None:
        known = sorted(store.target_states())  # type: ignore[attr-defined]
        close = difflib.get_close_matches(target, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise NotFoundError(f"target {target!r} has nothing deployed to redeploy{hint}")
    active = [t for t in store.active_tasks() if t.target == target]  # type: ignore[attr-defined]
    if active:
        raise UsageError(f"target {target} already has task {active[-1].id} ({active[-1].status}); wait or cancel it")
    last = store.get_task(state.last_task_id)  # type: ignore[attr-defined]
    task = TaskRecord(
        id=new_task_id(), target=target, deployment=last.deployment, environment=last.environment,
        resource=last.resource, operation="reinstall", status=statuses.PENDING, version=state.version,
        from_version=state.version, release_id=state.release_id, actor=actor.name, actor_kind=actor.kind,
        reason=f"redeploy of the current release requested by {actor.name}", diff={},
        revision=session.catalog.revision, created_at=now, run_id="", agent=last.agent, job=last.job,
        artifacts={}, verification={},
    )
    store.create_tasks([task])  # type: ignore[attr-defined]
    return task


def report(session: Session, task_id: str, status: str | None, message: str | None, external_id: str | None,
           now: datetime) -> TaskRecord:
    """A status report from an agent outside reconciler (``task update``, the seed's PATCH /jobs/{id}).

    A terminal status closes the task (and records the target's state when done), unless the task
    has verification, which then runs on the next apply before the task counts as done. A failure
    applies the rollback rule: the version is held and a rollback task is queued for the next apply.
    """
    from reconciler.engine.execute import finish

    store = session.store
    task = store.get_task(task_id)  # type: ignore[attr-defined]
    if task.status in statuses.TERMINAL:
        raise UsageError(f"task {task.id} already finished ({task.status}); a finished task cannot change")
    values: dict = {}
    if message is not None:
        values["message"] = message
    if external_id is not None:
        values["external_id"] = external_id
    status = statuses.normalize_status(status) if status else None
    if status in statuses.TERMINAL:
        if status == statuses.DONE and task.job.get("verification"):
            store.update_task(task.id, status=statuses.VERIFYING, **values)  # type: ignore[attr-defined]
        else:
            if values:
                store.update_task(task.id, **values)  # type: ignore[attr-defined]
            finish(store, store.get_task(task.id), status, message or task.message, now)  # type: ignore
            if status in statuses.FAILURES:  # the rollback rule applies to external reports too
                rollback.after_failure(store, store.get_task(task.id), status, message or task.message,  # type: ignore
                                       False, now, "", new_task_id())
    else:
        if status is not None:
            values["status"] = status
        if values:
            store.update_task(task.id, **values)  # type: ignore[attr-defined]
    return store.get_task(task.id)  # type: ignore[attr-defined]

"""Rollbacks and holds.

Automatic (the ``rollback`` rule, which Ctrlplane defined but never wired): when a task fails or its
verification fails, a ``rollback`` task restores the target's last successful release (same
version, same config digest) and the failed version is *held* off that target, so the next
reconcile does not deploy it again. ``reconciler rollback KEY [--to V]`` does the same on demand;
``reconciler release-hold KEY`` lifts the hold. With no earlier successful release nothing is
rolled back and the failed task says so.
"""

from __future__ import annotations

from datetime import datetime

from reconciler.engine.identity import Actor
from reconciler.errors import NotFoundError, UsageError
from reconciler.models import statuses
from reconciler.models.records import HoldRecord, TaskRecord


def _rollback_task(store, failed: TaskRecord, source: TaskRecord, reason: str, actor: str, actor_kind: str,
                   now: datetime, run_id: str, task_id: str) -> TaskRecord:
    job = {k: v for k, v in source.job.items() if k not in ("rollback", "verification", "strategy", "batch")}
    return TaskRecord(
        id=task_id, target=failed.target, deployment=failed.deployment, environment=failed.environment,
        resource=failed.resource, operation="rollback", status=statuses.PENDING, version=source.version,
        from_version=failed.version, release_id=source.release_id, actor=actor, actor_kind=actor_kind,
        reason=reason, diff={"version": [failed.version, source.version]}, revision=failed.revision,
        created_at=now, run_id=run_id, agent=source.agent, job=job, artifacts={}, verification={},
        rollback_of=failed.id,
    )


def last_success(store, target: str, exclude_version: str | None = None) -> TaskRecord | None:
    """The newest done, non-uninstall task of ``target`` (optionally of another version)."""
    page = 1
    while True:
        tasks, total = store.list_tasks(target=target, status=statuses.DONE, page=page, per_page=50)
        for task in tasks:
            if task.operation != "uninstall" and task.version != exclude_version:
                return task
        if page * 50 >= total:
            return None
        page += 1


def schedule_automatic(store, failed: TaskRecord, why: str, now: datetime, run_id: str,
                       task_id: str) -> TaskRecord | None:
    """Record a hold on the failed version and a rollback task to the current release (or None)."""
    store.add_hold(HoldRecord(failed.target, failed.version, why, failed.id, now))
    state = store.target_states().get(failed.target)
    if state is None:
        return None
    source = store.get_task(state.last_task_id)
    reason = f"automatic rollback: {failed.version} {why}; restoring {state.version}"
    task = _rollback_task(store, failed, source, reason, "reconciler", "bot", now, run_id, task_id)
    store.create_tasks([task])
    return task


def undo_batch(store, done: TaskRecord, why: str, now: datetime, run_id: str, task_id: str) -> TaskRecord | None:
    """Roll a target that succeeded back to the release it ran before ``done`` (its batch failed)."""
    store.add_hold(HoldRecord(done.target, done.version, why, done.id, now))
    source = last_success(store, done.target, exclude_version=done.version)
    if source is None:
        return None
    reason = f"batch rollback: {why}; restoring {source.version}"
    task = _rollback_task(store, done, source, reason, "reconciler", "bot", now, run_id, task_id)
    store.create_tasks([task])
    return task


def manual(store, target: str, to_version: str | None, actor: Actor, now: datetime, task_id: str) -> TaskRecord:
    """Queue a rollback of ``target`` to its previous successful release (or ``to_version``)."""
    state = store.target_states().get(target)
    if state is None:
        raise NotFoundError(f"target {target!r} has nothing deployed to roll back")
    if any(t.target == target for t in store.active_tasks()):
        raise UsageError(f"target {target} has a task in progress; wait or cancel it first")
    source = _find_source(store, target, state.version, to_version)
    current = store.get_task(state.last_task_id)
    store.add_hold(HoldRecord(target, state.version, f"rolled back by {actor.name}", current.id, now))
    reason = f"rollback requested by {actor.name}: {state.version} → {source.version}"
    task = _rollback_task(store, current, source, reason, actor.name, actor.kind, now, "", task_id)
    store.create_tasks([task])
    return task


def _find_source(store, target: str, current: str, to_version: str | None) -> TaskRecord:
    page = 1
    while True:
        tasks, total = store.list_tasks(target=target, status=statuses.DONE, page=page, per_page=50)
        for task in tasks:
            if task.operation == "uninstall" or task.version == current:
                continue
            if to_version is None or task.version == to_version:
                return task
        if page * 50 >= total:
            break
        page += 1
    wanted = f"version {to_version}" if to_version else "an earlier successful release"
    raise NotFoundError(f"{target} has no {wanted} to roll back to (rollbacks restore releases that once succeeded)")


def release_holds(store, target: str) -> int:
    return store.remove_holds(target)

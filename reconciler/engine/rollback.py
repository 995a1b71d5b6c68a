"""Rollbacks and holds.

Automatic (the ``rollback`` rule, which Ctrlplane defined but never wired): when a task fails or its
verification fails, a ``rollback`` task restores the target's last successful release (same
version, same config digest) and the failed version is *held* off that target, so the next
reconcile does not deploy it again. ``reconciler rollback KEY [--to V]`` does the same on demand;
``reconciler release-hold KEY`` lifts the hold. With no earlier successful release nothing is
rolled back and the failed task says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from reconciler.engine.identity import Actor
from reconciler.errors import NotFoundError, UsageError
from reconciler.models import statuses
from reconciler.models.records import HoldRecord, TaskRecord


def _rollback_task(store, failed: TaskRecord, source: TaskRecord, reason: str, actor: str, actor_kind: str,
                   now: datetime, run_id: str, task_id: str) -> TaskRecord:
    job = {k: v for k, v in source.job.items() if k not in ("rollback", "verification", "strategy", "batch")}
    job["rolls_back"] = failed.release_id  # planning does not send this release again (planning/dispatch.py)
    return TaskRecord(
        id=task_id, target=failed.target, deployment=failed.deployment, environment=failed.environment,
        resource=failed.resource, operation="rollback", status=statuses.PENDING, version=source.version,
        from_version=failed.version, release_id=source.release_id, actor=actor, actor_kind=actor_kind,
        reason=reason, diff={"version": [failed.version, source.version]}, revision=failed.revision,
        created_at=now, run_id=run_id, agent=source.agent, job=job, artifacts={}, verification={},
        rollback_of=failed.id,
    )


def _successes(store, target: str) -> Iterator[TaskRecord]:
    """The done, non-uninstall tasks of ``target``, newest first, a page at a time."""
    page = 1
    while True:
        tasks, total = store.list_tasks(target=target, status=statuses.DONE, page=page, per_page=50)
        yield from (task for task in tasks if task.operation != "uninstall")
        if page * 50 >= total:
            return
        page += 1


def success_before(store, done: TaskRecord) -> TaskRecord | None:
    """The newest successful task of ``done``'s target created before ``done``: the release the
    target ran before it (whatever its version)."""
    return next((t for t in _successes(store, done.target) if t.id != done.id and t.created_at <= done.created_at),
                None)


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


def wanted(task: TaskRecord, status: str, failed_verification: bool) -> bool:
    """Whether the task's ``rollback`` rule asks for a rollback after it ended ``status``."""
    spec = task.job.get("rollback")
    if not spec or task.operation == "rollback":
        return False
    return bool(spec.get("onVerificationFailure") if failed_verification else status in spec.get("onJobStatuses", []))


def after_failure(store, task: TaskRecord, status: str, message: str, failed_verification: bool, now: datetime,
                  run_id: str, task_id: str) -> TaskRecord | None:
    """Apply the rollback rule to a task that ended ``status``: hold its version and record a rollback
    task (queued for the next apply when ``run_id`` is empty). Returns the rollback task, if any."""
    if not wanted(task, status, failed_verification):
        return None
    why = "failed verification" if failed_verification else f"ended {status} ({message[:120]})"
    rb = schedule_automatic(store, task, why, now, run_id, task_id)
    if rb is None:
        store.update_task(task.id, message=f"{message}; no earlier successful release to roll back to, nothing "
                                           "rolled back (the version is held off this target)")
    else:
        store.update_task(task.id, message=f"{message}; rolled back by task {rb.id}")
    return rb


def undo_batch(store, done: TaskRecord, why: str, now: datetime, run_id: str, task_id: str) -> TaskRecord | None:
    """Roll a target back to the release it ran before ``done`` (its batch failed), and hold
    ``done``'s version off it unless only the config changed (the version itself then still runs)."""
    source = success_before(store, done)
    if source is None or source.version != done.version:
        store.add_hold(HoldRecord(done.target, done.version, why, done.id, now))
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
    for version in sorted(_ran_since(store, source) | {state.version}):  # none of them comes straight back
        store.add_hold(HoldRecord(target, version, f"rolled back by {actor.name} to {source.version}", current.id, now))
    reason = f"rollback requested by {actor.name}: {state.version} → {source.version}"
    task = _rollback_task(store, current, source, reason, actor.name, actor.kind, now, "", task_id)
    store.create_tasks([task])
    return task


def _ran_since(store, source: TaskRecord) -> set[str]:
    """Versions that succeeded on the target after ``source`` (other than its own)."""
    found: set[str] = set()
    for task in _successes(store, source.target):
        if task.id == source.id:
            break
        found.add(task.version)
    return found - {source.version}


def _find_source(store, target: str, current: str, to_version: str | None) -> TaskRecord:
    for task in _successes(store, target):
        if task.version != current and (to_version is None or task.version == to_version):
            return task
    wanted = f"version {to_version}" if to_version else "an earlier successful release"
    raise NotFoundError(f"{target} has no {wanted} to roll back to (rollbacks restore releases that once succeeded)")


def release_holds(store, target: str) -> int:
    return store.remove_holds(target)

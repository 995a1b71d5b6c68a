"""Drift: compare the version sticker on each deployed target with recorded state.

For every target the state records as deployed, rebuild the agent of its last successful task from
that task's stored job config (secrets stay redacted; reading needs none) and, when the agent can
read stickers (``writes_sticker`` and ``read_sticker(job, ctx)``), read it back. A target drifts when
its sticker is missing, names another target or release, or carries another compose-lock digest
than the task shipped (``job["artifacts"]["lockDigest"]``).

``record`` marks drifted and missing stickers on the target's recorded state (``drift``), which
plans show as a ``reinstall`` with reason ``drifted: ...`` and ``apply`` re-applies; targets found
in sync have their mark cleared, and a successful task records a fresh state without one. Errors
(a host that cannot be read) and unsupported agents change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.executors import registry
from reconciler.executors.base import ExecContext, Job
from reconciler.models.records import TargetState, TaskRecord
from reconciler.rendering import sticker

IN_SYNC, DRIFTED, MISSING, UNSUPPORTED, ERROR = "in sync", "drifted", "missing", "unsupported", "error"
FAILING = (DRIFTED, MISSING, ERROR)


@dataclass
class DriftRow:
    target: str
    status: str
    message: str
    expected: dict[str, Any] = field(default_factory=dict)
    found: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "status": self.status, "message": self.message,
                "expected": self.expected, "found": self.found}


def check_drift(store: Any, workdir: Path, *, only: Iterable[str] | None = None,
                timeout: float = 30.0) -> list[DriftRow]:
    """One row per recorded target (sorted), optionally only ``only``."""
    wanted = set(only) if only is not None else None
    rows = []
    for name, state in sorted(store.target_states().items()):
        if wanted is None or name in wanted:
            rows.append(_check(store, state, workdir, timeout))
    return rows


def record(store: Any, rows: Iterable[DriftRow]) -> None:
    """Mark drifted targets on their recorded state; clear the marks of targets in sync."""
    marks = {r.target: r.message for r in rows if r.status in (DRIFTED, MISSING)}
    marks.update({r.target: "" for r in rows if r.status == IN_SYNC})
    if marks:
        store.mark_drift(marks)


def drifted(rows: Iterable[DriftRow]) -> bool:
    return any(r.status in FAILING for r in rows)


def _check(store: Any, state: TargetState, workdir: Path, timeout: float) -> DriftRow:
    expected = {"releaseId": state.release_id, "version": state.version, "taskId": state.last_task_id}
    try:
        task = store.get_task(state.last_task_id)
        expected["lockDigest"] = (task.job.get("artifacts") or {}).get("lockDigest")
        agent = registry.create(task.job.get("config") or {})
        if not getattr(agent, "writes_sticker", False) or not hasattr(agent, "read_sticker"):
            return DriftRow(state.target, UNSUPPORTED, f"the {agent.type} agent (as configured) writes no sticker",
                            expected)
        ctx = ExecContext(workdir, workdir / ".reconciler" / "work" / "drift", timeout)
        text = agent.read_sticker(_job(task), ctx)
    except (ReconcilerError, OSError) as exc:
        return DriftRow(state.target, ERROR, f"cannot read the sticker: {exc}", expected)
    if text is None:
        return DriftRow(state.target, MISSING, f"no version sticker; state records {state.version} "
                        f"(release {state.release_id})", expected)
    try:
        found = sticker.parse_sticker(text)
    except ValueError as exc:
        return DriftRow(state.target, ERROR, str(exc), expected)
    return _compare(state, expected, found)


def _compare(state: TargetState, expected: dict[str, Any], found: dict[str, Any]) -> DriftRow:
    if found["target"] != state.target:
        why = f"the sticker belongs to {found['target']}"
    elif found["releaseId"] != state.release_id:
        why = (f"runs {found['version']} (release {found['releaseId']}), state records {state.version} "
               f"(release {state.release_id})")
    elif expected.get("lockDigest") and found.get("lockDigest") != expected["lockDigest"]:
        why = f"compose lock digest {found.get('lockDigest')} differs from the shipped {expected['lockDigest']}"
    else:
        return DriftRow(state.target, IN_SYNC, f"runs {state.version} (release {state.release_id})", expected, found)
    return DriftRow(state.target, DRIFTED, why, expected, found)


def _job(task: TaskRecord) -> Job:
    """The job of ``task`` as stored (secrets redacted), enough for an agent to locate its sticker."""
    spec = task.job
    return Job(task.id, task.attempt, "read", task.target, task.deployment, task.environment, task.resource,
               task.version, task.release_id, spec.get("config") or {}, spec.get("variables") or {},
               {"id": task.release_id, "revision": task.revision}, {}, task.from_version, task.external_id)

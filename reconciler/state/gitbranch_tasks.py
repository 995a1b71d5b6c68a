"""Task records of the ``git+branch:`` store: create, read, page, attempts, finish atomically.

A mixin for ``GitBranchStore`` mirroring ``sqltasks.TaskQueries``: same methods, same semantics.
Each task is one file ``tasks/<first two chars>/<id>.json`` holding the task and its attempts, so
starting or finishing an attempt rewrites exactly one file (plus the target's file, in the same
commit, when ``finish_task`` records target state). ``seq.json`` keeps the monotonic task
sequence that orders history; replays recompute it on the newest tip, so it never repeats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

from reconciler.errors import NotFoundError, StateError
from reconciler.models import statuses
from reconciler.models.records import Attempt, Outcome, TargetState, TaskRecord, Trace
from reconciler.state import gitbranch_codec as codec
from reconciler.state.gitbranch_objects import Snapshot, Transaction

T = TypeVar("T")
_TASK_FIELDS = frozenset(f.name for f in fields(TaskRecord))


def task_path(task_id: str) -> tuple[str, ...]:
    return ("tasks", codec.shard(task_id), f"{codec.escape(task_id)}.json")


def trace_path(task_id: str) -> tuple[str, ...]:
    return ("traces", codec.shard(task_id), f"{codec.escape(task_id)}.json")


def target_path(target: str) -> tuple[str, ...]:
    return ("targets", f"{codec.escape(target)}.json")


def _task(doc: dict[str, Any]) -> TaskRecord:
    return codec.from_json(TaskRecord, doc["task"])


def _encode(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - _TASK_FIELDS)
    if unknown:
        raise StateError(f"tasks have no field {unknown[0]!r}")
    return {k: codec.encode_time(v) if isinstance(v, datetime) else v for k, v in values.items()}


class GitTaskQueries:
    workspace: str
    _read: Callable[[], AbstractContextManager[Snapshot]]
    _write: Callable[[str, Callable[[Transaction], T]], T]

    def _all_tasks(self, snap: Snapshot) -> list[TaskRecord]:
        """Every task of the workspace, oldest (lowest seq) first."""
        return sorted((_task(codec.loads(raw)) for _, raw in snap.files("tasks")), key=lambda t: t.seq)

    def create_tasks(self, new: list[TaskRecord]) -> None:
        if not new:
            return

        def mutate(tx: Transaction) -> None:
            counter = (tx.read("seq.json") or {}).get("tasks", 0)
            for task in new:
                path = task_path(task.id)
                if tx.raw(*path) is not None:
                    raise StateError(f"task {task.id!r} already exists in workspace {self.workspace!r}")
                counter += 1
                tx.put(path, {"task": {**codec.to_json(task), "seq": counter}, "attempts": []})
            tx.put(("seq.json",), {"tasks": counter})

        self._write(f"Create {len(new)} task(s): {', '.join(t.id for t in new[:5])}", mutate)

    def get_task(self, task_id: str) -> TaskRecord:
        """The task whose id is ``task_id`` or starts with it (unique prefix of at least 4 chars)."""
        with self._read() as snap:
            doc = snap.read(*task_path(task_id))
            if doc is None and len(task_id) >= 4:
                found = [name for name in snap.names("tasks", codec.shard(task_id))
                         if codec.unescape(name.removesuffix(".json")).startswith(task_id)]
                if len(found) > 1:
                    raise NotFoundError(f"task id prefix {task_id!r} is ambiguous; give more characters")
                doc = snap.read("tasks", codec.shard(task_id), found[0]) if found else None
        if doc is None:
            raise NotFoundError(f"no task with id {task_id!r} in workspace {self.workspace!r}")
        return _task(doc)

    def active_tasks(self) -> list[TaskRecord]:
        with self._read() as snap:
            return [t for t in self._all_tasks(snap) if t.status in statuses.ACTIVE]

    def latest_tasks(self) -> dict[str, TaskRecord]:
        """The newest task of every target."""
        with self._read() as snap:
            return {t.target: t for t in self._all_tasks(snap)}

    def list_tasks(self, *, deployment: str | None = None, environment: str | None = None,
                   target: str | None = None, status: str | None = None, page: int = 1,
                   per_page: int = 10) -> tuple[list[TaskRecord], int]:
        """Tasks newest first, one page, and the total count matching the filters."""
        wanted = {k: v for k, v in (("deployment", deployment), ("environment", environment),
                                    ("target", target), ("status", status)) if v is not None}
        with self._read() as snap:
            rows = [t for t in reversed(self._all_tasks(snap))
                    if all(getattr(t, k) == v for k, v in wanted.items())]
        start = (max(page, 1) - 1) * per_page
        return rows[start:start + per_page], len(rows)

    def start_attempt(self, task_id: str, run_id: str, at: datetime, *,
                      interrupted_previous: bool = False, unless_canceled: bool = False) -> int | None:
        """Mark the task started under a new attempt number and return that number.

        With ``interrupted_previous`` the previous attempt (cut off by a dead reconciler) is closed
        as interrupted; interruptions do not count as retries.
        """
        def mutate(tx: Transaction) -> int | None:
            doc = self._task_doc(tx, task_id)
            task, when = doc["task"], codec.encode_time(at)
            if unless_canceled and (task.get("cancel_requested") or task["status"] == statuses.CANCELED):
                return None
            if interrupted_previous and task["attempt"]:
                for row in _open_attempts(doc, task["attempt"]):
                    row.update(status="interrupted", interrupted=True, finished_at=when,
                               message="the reconciler running this attempt stopped")
            number = task["attempt"] + 1
            doc["attempts"].append({"task_id": task_id, "attempt": number, "status": statuses.STARTED,
                                    "started_at": when, "finished_at": None, "message": "",
                                    "interrupted": False, "run_id": run_id})
            task.update(status=statuses.STARTED, attempt=number, run_id=run_id,
                        started_at=task["started_at"] or when, finished_at=None)
            tx.put(task_path(task_id), doc)
            return number

        return self._write(f"Start task {task_id} ({run_id})", mutate)

    def update_task(self, task_id: str, **values: Any) -> None:
        encoded = _encode(values)

        def mutate(tx: Transaction) -> None:
            doc = tx.read(*task_path(task_id))
            if doc is None:
                return
            doc["task"].update(encoded)
            if "status" in values:
                for row in _open_attempts(doc):
                    row["status"] = values["status"]
            tx.put(task_path(task_id), doc)

        self._write(f"Update task {task_id}: {', '.join(sorted(values))}", mutate)

    def finish_task(self, task_id: str, *, status: str, message: str, at: datetime, log: str | None = None,
                    log_truncated: int = 0, new_state: TargetState | None = None,
                    clear_state: str | None = None, extra: dict[str, Any] | None = None) -> None:
        """Close a task and, in the same commit, record or clear its target's current state."""
        values: dict[str, Any] = {"status": status, "message": message, "finished_at": at, **(extra or {})}
        if log is not None:
            values.update(log=log, log_truncated=log_truncated)
        encoded, when = _encode(values), codec.encode_time(at)

        def mutate(tx: Transaction) -> None:
            doc = tx.read(*task_path(task_id))
            if doc is not None:
                doc["task"].update(encoded)
                for row in _open_attempts(doc):
                    row.update(status=status, finished_at=when, message=message[:2000])
                tx.put(task_path(task_id), doc)
            if new_state is not None:
                tx.put(target_path(new_state.target), codec.to_json(new_state))
            if clear_state is not None:
                tx.delete(target_path(clear_state))

        self._write(f"Finish task {task_id} ({status})", mutate)

    def attempts(self, task_id: str) -> list[Attempt]:
        with self._read() as snap:
            doc = snap.read(*task_path(task_id))
        rows = doc["attempts"] if doc else []
        return sorted((codec.from_json(Attempt, r) for r in rows), key=lambda a: a.attempt)

    def outcomes(self) -> list[Outcome]:
        """Per (target, version, status) of finished tasks: count, first and last finish time."""
        groups: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
        with self._read() as snap:
            for t in self._all_tasks(snap):
                if t.finished_at is not None and t.operation != "uninstall":
                    groups[(t.target, t.version, t.status)].append(t.finished_at)
        return [Outcome(*key, len(times), min(times), max(times)) for key, times in sorted(groups.items())]

    def add_trace(self, task_id: str, step: str, status: str, message: str, at: datetime) -> int:
        def mutate(tx: Transaction) -> int:
            rows = tx.read(*trace_path(task_id)) or []
            seq = (rows[-1]["seq"] if rows else 0) + 1
            rows.append({"task_id": task_id, "seq": seq, "step": step, "status": status, "message": message,
                         "at": codec.encode_time(at)})
            tx.put(trace_path(task_id), rows)
            return seq

        return self._write(f"Trace task {task_id}: {step} {status}", mutate)

    def traces(self, task_id: str) -> list[Trace]:
        with self._read() as snap:
            rows = snap.read(*trace_path(task_id)) or []
        return [codec.from_json(Trace, r) for r in rows]

    def _task_doc(self, tx: Transaction, task_id: str) -> dict[str, Any]:
        doc = tx.read(*task_path(task_id))
        if doc is None:
            raise NotFoundError(f"no task with id {task_id!r}")
        return doc


def _open_attempts(doc: dict[str, Any], number: int | None = None) -> Iterator[dict[str, Any]]:
    for row in doc["attempts"]:
        if row.get("finished_at") is None and (number is None or row["attempt"] == number):
            yield row

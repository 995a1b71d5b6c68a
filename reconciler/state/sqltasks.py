"""Task queries of the SQL store: create, read, page, start attempts, finish atomically.

A mixin for ``SqlStore``; expects ``self._read()``/``self._write()`` transaction helpers,
``self._hot`` (``hotwrites.HotWrites``: every task's start and finish) and ``self.workspace``.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from reconciler.errors import NotFoundError
from reconciler.models import statuses
from reconciler.models.records import Attempt, Outcome, TargetState, TaskRecord
from reconciler.state import hotwrites
from reconciler.state.hotwrites import HotWrites
from reconciler.state.schema import attempts, target_state, tasks

_TASK_FIELDS = [f.name for f in fields(TaskRecord)]
ANALYZE_AFTER = 100  # tasks created at once after which PostgreSQL's statistics are checked
_alias = tasks.alias("t")


def task_from_row(row: Any) -> TaskRecord:
    data = row._mapping
    return TaskRecord(**{name: data[name] for name in _TASK_FIELDS})


def task_values(task: TaskRecord, workspace: str) -> dict[str, Any]:
    values = {name: getattr(task, name) for name in _TASK_FIELDS if name != "seq"}
    values["workspace"] = workspace
    return values


def state_values(state: TargetState, workspace: str) -> dict[str, Any]:
    key = state.target.split("/", 2)
    return {
        "workspace": workspace, "target": state.target, "deployment": key[0], "environment": key[1],
        "resource": key[2], "version": state.version, "release_id": state.release_id,
        "config_digest": state.config_digest, "inputs": state.inputs, "placement": state.placement,
        "last_task_id": state.last_task_id, "updated_at": state.updated_at, "deployed_at": state.deployed_at,
        "fingerprint": state.fingerprint, "drift": state.drift,
    }


class TaskQueries:
    workspace: str
    _hot: HotWrites
    _wrote: bool

    def _ws(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return table.c.workspace == self.workspace

    def create_tasks(self, new: list[TaskRecord]) -> None:
        if not new:
            return
        with self._write() as conn:
            conn.execute(sa.insert(tasks), [task_values(t, self.workspace) for t in new])
        if len(new) >= ANALYZE_AFTER and conn.dialect.name == "postgresql":
            self._refresh_statistics(len(new))

    def _refresh_statistics(self, inserted: int) -> None:
        """``ANALYZE tasks`` when PostgreSQL knows of fewer rows than were just inserted (a new
        database: autovacuum analyzes a minute later at the earliest). Without statistics the
        planner found a task by id through ``ix_tasks_operation``, reading every task of the
        workspace: each task's start and finish read all the others (1,000 tasks: 1,850 rows
        each, most of the database CPU of an apply)."""
        with self._write() as conn:
            known = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'tasks'::regclass").scalar()
            if known is None or known < inserted:
                conn.exec_driver_sql("ANALYZE tasks")

    def get_task(self, task_id: str) -> TaskRecord:
        """The task whose id is ``task_id`` or starts with it (unique prefix of at least 4 chars)."""
        with self._read() as conn:
            row = conn.execute(sa.select(tasks).where(self._ws(tasks), tasks.c.id == task_id)).first()
            if row is None and len(task_id) >= 4:
                rows = conn.execute(
                    sa.select(tasks).where(self._ws(tasks), tasks.c.id.startswith(task_id, autoescape=True)).limit(2)
                ).all()
                if len(rows) > 1:
                    raise NotFoundError(f"task id prefix {task_id!r} is ambiguous; give more characters")
                row = rows[0] if rows else None
        if row is None:
            raise NotFoundError(f"no task with id {task_id!r} in workspace {self.workspace!r}")
        return task_from_row(row)

    def active_tasks(self) -> list[TaskRecord]:
        query = sa.select(tasks).where(self._ws(tasks), tasks.c.status.in_(sorted(statuses.ACTIVE)))
        with self._read() as conn:
            return [task_from_row(r) for r in conn.execute(query.order_by(tasks.c.seq))]

    def latest_tasks(self) -> dict[str, TaskRecord]:
        """The newest task of every target."""
        newest = (
            sa.select(sa.func.max(tasks.c.seq).label("seq")).where(self._ws(tasks)).group_by(tasks.c.target).subquery()
        )
        query = sa.select(tasks).join(newest, tasks.c.seq == newest.c.seq)
        with self._read() as conn:
            return {r.target: task_from_row(r) for r in conn.execute(query)}

    def latest_unsuccessful(self, deployment: str | None = None) -> dict[str, TaskRecord]:
        """Targets (of one ``deployment`` if given) whose newest task ended without success (failed,
        canceled, skipped, invalid agent) or is a rollback (its release must not go out again).

        Planning asks this instead of every target's newest task: failures are few, targets many.
        """
        newer = sa.select(sa.literal(1)).where(
            tasks.c.workspace == tasks.c.workspace, tasks.c.target == _alias.c.target, tasks.c.seq > _alias.c.seq)
        out: dict[str, TaskRecord] = {}
        # two queries, each on its own index (an OR of the two would scan every task)
        for condition in (_alias.c.status.in_(sorted(statuses.TERMINAL - {statuses.DONE})),
                          _alias.c.operation == "rollback"):
            query = sa.select(_alias).where(_alias.c.workspace == self.workspace, condition,
                                            ~sa.exists(newer.where(tasks.c.workspace == self.workspace)))
            if deployment is not None:
                query = query.where(_alias.c.deployment == deployment)
            with self._read() as conn:
                out.update({r.target: task_from_row(r) for r in conn.execute(query)})
        return out

    def latest_task(self, target: str) -> TaskRecord | None:
        """The newest task of one target (index lookup)."""
        query = (sa.select(tasks).where(self._ws(tasks), tasks.c.target == target)
                 .order_by(tasks.c.seq.desc()).limit(1))
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else task_from_row(row)

    def outcomes_for(self, deployment: str, version: str) -> list[Outcome]:
        """``outcomes()`` restricted to one deployment × version, all environments (one index range).

        Times come back as text and are parsed here: per-row type processing would dominate on
        large fleets.
        """
        first = sa.cast(sa.func.min(tasks.c.finished_at), sa.String)
        last = sa.cast(sa.func.max(tasks.c.finished_at), sa.String)
        query = (
            sa.select(tasks.c.target, tasks.c.status, sa.func.count(), first, last)
            .where(self._ws(tasks), tasks.c.deployment == deployment, tasks.c.version == version,
                   tasks.c.finished_at.is_not(None), tasks.c.operation != "uninstall")
            .group_by(tasks.c.status, tasks.c.target)
            .with_hint(tasks, "INDEXED BY ix_tasks_outcomes", "sqlite")  # SQLite without statistics guesses wrong
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Outcome(r[0], version, r[1], r[2], _parse(r[3]), _parse(r[4])) for r in rows]

    def list_tasks(self, *, deployment: str | None = None, environment: str | None = None,
                   target: str | None = None, status: str | None = None, page: int = 1,
                   per_page: int = 10) -> tuple[list[TaskRecord], int]:
        """Tasks newest first, one page, and the total count matching the filters."""
        conds = [self._ws(tasks)]
        for column, value in (("deployment", deployment), ("environment", environment),
                              ("target", target), ("status", status)):
            if value is not None:
                conds.append(tasks.c[column] == value)
        with self._read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(tasks).where(*conds)).scalar_one()
            rows = conn.execute(
                sa.select(tasks).where(*conds).order_by(tasks.c.seq.desc())
                .limit(per_page).offset((max(page, 1) - 1) * per_page)
            )
            return [task_from_row(r) for r in rows], int(total)

    def start_attempt(self, task_id: str, run_id: str, at: datetime, *, interrupted_previous: bool = False,
                      unless_canceled: bool = False) -> int | None:
        """Mark the task started under a new attempt number and return that number.

        With ``interrupted_previous`` the previous attempt (cut off by a dead reconciler) is closed
        as interrupted; interruptions do not count as retries. With ``unless_canceled`` nothing
        starts (None) when the task was canceled or a cancel was requested.
        """
        params = {"ws": self.workspace, "tid": task_id, "run_id": run_id, "at": at}
        if not interrupted_previous:  # every task's start: compiled once, one transaction
            self._wrote = True
            number = self._hot.start(params, unless_canceled)
            if number is not None:
                return number
            if unless_canceled and self._task_exists(task_id):
                return None
            raise NotFoundError(f"no task with id {task_id!r}")
        with self._write() as conn:
            row = conn.execute(hotwrites.START[unless_canceled], params).first()
            if row is None:
                if unless_canceled and self._task_exists(task_id, conn):
                    return None
                raise NotFoundError(f"no task with id {task_id!r}")
            number = row.attempt
            if interrupted_previous and number > 1:
                conn.execute(sa.update(attempts).where(
                    self._ws(attempts), attempts.c.task_id == task_id, attempts.c.attempt == number - 1,
                    attempts.c.finished_at.is_(None),
                ).values(status="interrupted", interrupted=True, finished_at=at,
                         message="the reconciler running this attempt stopped"))
            conn.execute(hotwrites.OPEN_ATTEMPT, {"workspace": self.workspace, "task_id": task_id, "attempt": number,
                                         "status": statuses.STARTED, "started_at": at, "message": "",
                                         "interrupted": False, "run_id": run_id})
            return number

    def _task_exists(self, task_id: str, conn: sa.Connection | None = None) -> bool:
        if conn is None:
            with self._read() as read:
                return self._task_exists(task_id, read)
        return conn.execute(sa.select(tasks.c.id).where(self._ws(tasks), tasks.c.id == task_id)).first() is not None

    def hand_back(self, task_id: str, at: datetime, message: str) -> None:
        """Return a started task to pending (its attempt closed as interrupted) for the next run."""
        with self._write() as conn:
            conn.execute(sa.update(attempts).where(
                self._ws(attempts), attempts.c.task_id == task_id, attempts.c.finished_at.is_(None),
            ).values(status="interrupted", interrupted=True, finished_at=at, message=message))
            conn.execute(sa.update(tasks).where(self._ws(tasks), tasks.c.id == task_id).values(
                status=statuses.PENDING, message=message))

    def update_task(self, task_id: str, **values: Any) -> None:
        with self._write() as conn:
            conn.execute(sa.update(tasks).where(self._ws(tasks), tasks.c.id == task_id).values(**values))
            if "status" in values:
                conn.execute(sa.update(attempts).where(
                    self._ws(attempts), attempts.c.task_id == task_id, attempts.c.finished_at.is_(None),
                ).values(status=values["status"]))

    def finish_task(self, task_id: str, *, status: str, message: str, at: datetime, log: str | None = None,
                    log_truncated: int = 0, new_state: TargetState | None = None, clear_state: str | None = None,
                    extra: dict[str, Any] | None = None) -> None:
        """Close a task and, in the same transaction, record or clear its target's current state."""
        values: dict[str, Any] = {"status": status, "message": message, "finished_at": at, **(extra or {})}
        if log is not None:
            values.update(log=log, log_truncated=log_truncated)
        if not extra and clear_state is None:  # every task's finish: compiled once, one transaction
            self._wrote = True
            self._hot.finish({"ws": self.workspace, "tid": task_id, **values, "amessage": message[:2000]},
                             None if new_state is None else state_values(new_state, self.workspace))
            return
        with self._write() as conn:
            conn.execute(sa.update(tasks).where(self._ws(tasks), tasks.c.id == task_id).values(**values))
            conn.execute(hotwrites.CLOSE_ATTEMPT, {"ws": self.workspace, "tid": task_id, "status": status,
                                                   "finished_at": at, "amessage": message[:2000]})
            if new_state is not None:
                self._upsert_state(conn, new_state)
            if clear_state is not None:
                conn.execute(sa.delete(target_state).where(self._ws(target_state), target_state.c.target == clear_state))

    def _upsert_state(self, conn: sa.Connection, state: TargetState) -> None:
        """One statement: insert the target's state, or replace it (both fire the epoch triggers)."""
        conn.execute(hotwrites.UPSERT_STATE[conn.dialect.name], state_values(state, self.workspace))

    def attempts(self, task_id: str) -> list[Attempt]:
        query = sa.select(attempts).where(self._ws(attempts), attempts.c.task_id == task_id).order_by(attempts.c.attempt)
        with self._read() as conn:
            return [Attempt(r.task_id, r.attempt, r.status, r.started_at, r.finished_at, r.message, r.interrupted,
                            r.run_id) for r in conn.execute(query)]

    def outcomes(self) -> list[Outcome]:
        """Per (target, version, status) of finished tasks: count, first and last finish time."""
        query = (
            sa.select(tasks.c.target, tasks.c.version, tasks.c.status, sa.func.count().label("n"),
                      sa.func.min(tasks.c.finished_at).label("first"), sa.func.max(tasks.c.finished_at).label("last"))
            .where(self._ws(tasks), tasks.c.finished_at.is_not(None), tasks.c.operation != "uninstall")
            .group_by(tasks.c.target, tasks.c.version, tasks.c.status)
        )
        with self._read() as conn:
            return [Outcome(r.target, r.version, r.status, r.n, _aware(r.first), _aware(r.last))
                    for r in conn.execute(query)]


def _parse(text: str) -> datetime:
    """A stored timestamp read as text (SQLite: 'YYYY-MM-DD HH:MM:SS[.ffffff]', PostgreSQL: ISO with
    offset) as an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(value: Any) -> Any:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value

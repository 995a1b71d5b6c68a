"""The writes every task makes (its start and its finish), as statements SQLAlchemy compiles once
per dialect and runs on a pooled DBAPI connection.

A ``true`` task is mostly bookkeeping, and SQLAlchemy Core's per-execution work (cache key,
execution context, events, result objects) cost about 0.2 ms of GIL-bound CPU a statement, more
than the driver itself. Here each statement is compiled once (``Prepared``); its bind values go
through the same type processors SQLAlchemy would apply (``TypeEngine.bind_processor``), so rows
are stored exactly as the Core queries store them and read them back.

Transactions are unchanged: on SQLite a task's statements run in one ``BEGIN IMMEDIATE``
transaction; on PostgreSQL each write is one statement (data-modifying CTEs) run in autocommit,
which makes the statement its own transaction (as atomic and durable, without the round trips of
``BEGIN`` and ``COMMIT``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from reconciler.models import statuses
from reconciler.state.schema import attempts, target_state, tasks


class Prepared:
    """One statement compiled for one dialect: its SQL, and how to turn values into driver parameters."""

    def __init__(self, statement: Any, dialect: sa.Dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = compiled.positiontup if dialect.positional else None
        self.defaults = dict(compiled.params)  # literals of the statement; None for the bind parameters
        names = compiled.bind_names  # each bind parameter and its name in the SQL
        self.required = frozenset(name for bind, name in names.items() if bind.required)
        self.processors = [(name, process) for bind, name in names.items()
                           if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None]

    def parameters(self, values: dict[str, Any]) -> dict[str, Any] | list[Any]:
        if not self.required <= values.keys():
            raise KeyError(f"missing bind parameters: {sorted(self.required - values.keys())}")
        params = {**self.defaults, **values}
        for name, process in self.processors:
            params[name] = process(params[name])
        return params if self.order is None else [params[name] for name in self.order]


class HotWrites:
    """A task's start and finish on ``engine`` (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine, writers: AbstractContextManager[Any] = nullcontext()):
        self.engine = engine
        self.writers = writers  # held around a SQLite write transaction (``SqlStore._writers``)
        self.postgres = engine.dialect.name == "postgresql"
        self._prepared: dict[int, Prepared] = {}

    def _run(self, cursor: Any, statement: Any, values: dict[str, Any]) -> Any:
        prepared = self._prepared.get(id(statement))
        if prepared is None:
            prepared = self._prepared[id(statement)] = Prepared(statement, self.engine.dialect)
        cursor.execute(prepared.sql, prepared.parameters(values))
        return cursor

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in one transaction: ``BEGIN IMMEDIATE`` on SQLite; autocommit on PostgreSQL,
        where callers run a single statement."""
        raw = self.engine.raw_connection()
        try:
            if self.postgres:
                raw.driver_connection.autocommit = True
                try:
                    yield raw.cursor()
                finally:
                    try:
                        raw.driver_connection.autocommit = False
                    except Exception:
                        raw.invalidate()  # never back to the pool in autocommit (a lost connection)
                        raise
                return
            with self.writers:
                cursor = raw.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                    cursor.execute("COMMIT")
                except BaseException:
                    raw.rollback()
                    raise
        finally:
            raw.close()  # back to the pool

    def start(self, values: dict[str, Any], guarded: bool) -> int | None:
        """Start the task (``ws``, ``tid``, ``run_id``, ``at``) under its next attempt, and open
        that attempt. None when no row matched (no such task, or ``guarded`` and canceled)."""
        with self._transaction() as cursor:
            if self.postgres:
                row = self._run(cursor, PG_START[guarded], values).fetchone()
                return None if row is None else row[0]
            row = self._run(cursor, START[guarded], values).fetchone()
            if row is None:
                return None
            self._run(cursor, OPEN_ATTEMPT, {"workspace": values["ws"], "task_id": values["tid"], "attempt": row[0],
                                             "status": statuses.STARTED, "started_at": values["at"], "message": "",
                                             "interrupted": False, "run_id": values["run_id"]})
            return row[0]

    def finish(self, values: dict[str, Any], state: dict[str, Any] | None) -> None:
        """Close the task and its open attempt (``ws``, ``tid``, ``status``, ``message``,
        ``finished_at``, ``amessage``, and ``log``/``log_truncated`` when the log is replaced), and
        record the target's state (``state``: its row) in the same transaction."""
        logged = "log" in values
        with self._transaction() as cursor:
            if self.postgres:
                prefixed = {f"s_{k}": v for k, v in (state or {}).items()}
                self._run(cursor, PG_FINISH[logged, state is not None], {**values, **prefixed})
                return
            self._run(cursor, FINISH[logged], values)
            self._run(cursor, CLOSE_ATTEMPT, values)
            if state is not None:
                self._run(cursor, UPSERT_STATE["sqlite"], state)


# The statements, built once with bind parameters.
def _finish(with_log: bool) -> Any:
    """The task's closing update; without ``with_log`` its log is left as it is (an agent that
    printed nothing)."""
    values = {c: sa.bindparam(c) for c in ("status", "message", "finished_at")}
    if with_log:
        values.update(log=sa.bindparam("log"), log_truncated=sa.bindparam("log_truncated"))
    return sa.update(tasks).where(tasks.c.workspace == sa.bindparam("ws"), tasks.c.id == sa.bindparam("tid")) \
        .values(**values)


FINISH = {True: _finish(True), False: _finish(False)}
CLOSE_ATTEMPT = sa.update(attempts).where(
    attempts.c.workspace == sa.bindparam("ws"), attempts.c.task_id == sa.bindparam("tid"),
    attempts.c.finished_at.is_(None),
).values(status=sa.bindparam("status"), finished_at=sa.bindparam("finished_at"), message=sa.bindparam("amessage"))


def _upsert(dialect, prefix: str = "") -> Any:
    names = [c.name for c in target_state.columns]
    insert = dialect.insert(target_state).values({n: sa.bindparam(prefix + n) for n in names})
    return insert.on_conflict_do_update(index_elements=[target_state.c.workspace, target_state.c.target],
                                        set_={n: insert.excluded[n] for n in names if n not in ("workspace", "target")})


UPSERT_STATE = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def _start(guarded: bool) -> Any:
    where = [tasks.c.workspace == sa.bindparam("ws"), tasks.c.id == sa.bindparam("tid")]
    if guarded:  # nothing starts once the task was canceled or a cancel was requested
        where += [tasks.c.cancel_requested.is_(False), tasks.c.status != statuses.CANCELED]
    at = sa.bindparam("at", type_=tasks.c.started_at.type)
    return sa.update(tasks).where(*where).values(
        status=statuses.STARTED, attempt=tasks.c.attempt + 1, run_id=sa.bindparam("run_id"),
        started_at=sa.func.coalesce(tasks.c.started_at, at), finished_at=None,
    ).returning(tasks.c.attempt)


START = {False: _start(False), True: _start(True)}
OPEN_ATTEMPT = sa.insert(attempts).values({c: sa.bindparam(c) for c in (
    "workspace", "task_id", "attempt", "status", "started_at", "message", "interrupted", "run_id")})


# PostgreSQL runs data-modifying CTEs, so a task's start and its finish are one statement each.
def _pg_start(guarded: bool) -> Any:
    started = START[guarded].cte("started")
    at = sa.bindparam("at", type_=attempts.c.started_at.type)
    rows = sa.select(sa.bindparam("ws", type_=attempts.c.workspace.type), sa.bindparam("tid", type_=attempts.c.task_id.type),
                     started.c.attempt, sa.literal(statuses.STARTED), at, sa.literal(""), sa.false(),
                     sa.bindparam("run_id", type_=attempts.c.run_id.type))
    columns = ["workspace", "task_id", "attempt", "status", "started_at", "message", "interrupted", "run_id"]
    return postgresql.insert(attempts).from_select(columns, rows).returning(attempts.c.attempt).add_cte(started)


def _pg_finish(with_log: bool, with_state: bool) -> Any:
    task = FINISH[with_log].returning(tasks.c.id).cte("finished")
    attempt = CLOSE_ATTEMPT.returning(attempts.c.task_id).cte("closed")
    # state parameters are prefixed: a parameter named like a column of tasks would join its SET
    main = _upsert(postgresql, "s_") if with_state else sa.select(sa.literal(1))
    return main.add_cte(task).add_cte(attempt)


PG_START = {False: _pg_start(False), True: _pg_start(True)}
PG_FINISH = {(log, state): _pg_finish(log, state) for log in (False, True) for state in (False, True)}

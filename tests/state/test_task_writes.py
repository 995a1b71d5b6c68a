"""A task's writes on the SQL stores: what a finish without a log keeps, and on PostgreSQL that a
task's start and finish are one round trip each (one autocommitted statement, no BEGIN/COMMIT)."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event

from reconciler.models import statuses
from reconciler.state.store import open_store
from tests.state.test_conformance import T0, state, task


@pytest.fixture
def store(state_url, tmp_path):
    s = open_store(state_url, f"ws-{uuid.uuid4().hex[:8]}", tmp_path)
    yield s
    s.close()


def test_a_finish_without_a_log_keeps_the_log_closes_the_attempt_and_records_state(store):
    store.create_tasks([task("t1")])
    store.start_attempt("t1", "r", T0)
    store.update_task("t1", log="from the agent")
    store.finish_task("t1", status=statuses.DONE, message="ok", at=T0 + timedelta(minutes=1), new_state=state())
    done = store.get_task("t1")
    assert (done.status, done.message, done.log, done.finished_at) == (statuses.DONE, "ok", "from the agent",
                                                                        T0 + timedelta(minutes=1))
    assert [(a.status, a.finished_at) for a in store.attempts("t1")] == [(statuses.DONE, T0 + timedelta(minutes=1))]
    assert store.target_states()["api/prod/c1"].last_task_id == "t1"
    store.create_tasks([task("t2", target="api/prod/c2")])
    store.start_attempt("t2", "r", T0)
    store.finish_task("t2", status=statuses.FAILED, message="exit code 1", at=T0)
    assert store.get_task("t2").status == statuses.FAILED and "api/prod/c2" not in store.target_states()
    assert [a.status for a in store.attempts("t2")] == [statuses.FAILED]


@pytest.mark.parametrize("log", [None, "some output"])
def test_postgres_task_start_and_finish_are_one_round_trip_each(pg_db, tmp_path, log):
    """Traced with libpq's own protocol trace: two statements, no BEGIN or COMMIT."""
    from psycopg.pq import Trace

    store = open_store(pg_db, "ws", tmp_path)
    trace = tempfile.TemporaryFile()
    try:
        store.create_tasks([task("t1")])

        @event.listens_for(store.engine, "checkout")
        def _trace(dbapi_conn, record, proxy):  # noqa: ANN001
            dbapi_conn.pgconn.trace(trace.fileno())
            dbapi_conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)

        @event.listens_for(store.engine, "checkin")
        def _untrace(dbapi_conn, record):  # noqa: ANN001
            dbapi_conn.pgconn.untrace()

        assert store.start_attempt("t1", "r", T0, unless_canceled=True) == 1
        store.finish_task("t1", status=statuses.DONE, message="ok", at=T0, log=log, new_state=state())
        event.remove(store.engine, "checkout", _trace)
        trace.seek(0)
        lines = [line.split("\t") for line in trace.read().decode().splitlines()]
        messages = [fields[2].split()[0] for fields in lines if len(fields) > 2 and fields[2].strip()]
        assert messages.count("ReadyForQuery") == 2 and "Query" not in messages  # no BEGIN, no COMMIT
        assert store.get_task("t1").status == statuses.DONE and store.attempts("t1")[0].status == statuses.DONE
        assert store.target_states()["api/prod/c1"].version == "v1"
    finally:
        store.close()
        trace.close()


def test_sqlite_writers_of_one_process_take_turns_without_the_busy_handler(tmp_path):
    """With SQLite's busy timeout at 0, a second writer that reached the database while the first
    held the write lock would fail at once ("database is locked"): this process's writers queue
    in front of it instead (hot task writes and ordinary writes alike)."""
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}", "ws", tmp_path)
    try:
        store.create_tasks([task("t1"), task("t2", target="api/prod/c2")])
        store.engine.dispose()

        @event.listens_for(store.engine, "connect")
        def _no_busy_wait(dbapi_conn, record):  # noqa: ANN001
            dbapi_conn.execute("PRAGMA busy_timeout = 0")

        holding, errors = threading.Event(), []

        def first_writer():
            with store._write() as conn:
                conn.exec_driver_sql("UPDATE tasks SET message = 'first' WHERE id = 't1'")
                holding.set()
                time.sleep(0.3)

        def second_writer():
            holding.wait(10)
            try:
                store.start_attempt("t2", "r", T0)
                store.update_task("t2", message="second")
                store.finish_task("t2", status=statuses.DONE, message="ok", at=T0, new_state=state("api/prod/c2", task_id="t2"))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.get_task("t1").message == "first" and store.get_task("t2").status == statuses.DONE
    finally:
        store.close()


def test_postgres_finds_tasks_by_id_through_their_unique_index_after_a_large_first_plan(pg_db, tmp_path):
    """A new database has no statistics; after the first apply recorded its tasks the planner must
    still look a task up by (workspace, id), not read every task of the workspace."""
    store = open_store(pg_db, "ws", tmp_path)
    try:
        store.create_tasks([task(f"t{i:04d}", target=f"api/prod/c{i}") for i in range(1000)])
        with store.engine.connect() as conn:
            plan = "\n".join(conn.exec_driver_sql(
                "EXPLAIN UPDATE tasks SET message = 'x' WHERE workspace = 'ws' AND id = 't0500'").scalars())
        assert "uq_tasks_workspace_id" in plan, plan
    finally:
        store.close()


def test_postgres_task_writes_recover_from_a_lost_connection(pg_db, tmp_path):
    """A connection the server dropped fails the write that used it and is not used again; the pool
    hands out only connections that are not in autocommit to ordinary transactions."""
    import psycopg

    store = open_store(pg_db, "ws", tmp_path)
    try:
        store.create_tasks([task("t1"), task("t2", target="api/prod/c2")])
        assert store.start_attempt("t1", "r", T0) == 1
        with psycopg.connect(pg_db, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        with pytest.raises(psycopg.OperationalError):
            store.finish_task("t1", status=statuses.DONE, message="ok", at=T0, new_state=state())
        assert store.start_attempt("t2", "r", T0) == 1
        store.finish_task("t2", status=statuses.DONE, message="ok", at=T0, new_state=state("api/prod/c2", task_id="t2"))
        with store._write() as conn:
            assert conn.connection.dbapi_connection.autocommit is False
        assert store.get_task("t2").status == statuses.DONE and store.get_task("t1").status == statuses.STARTED
    finally:
        store.close()

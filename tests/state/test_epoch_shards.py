"""PostgreSQL plan epochs in shards (migration 0008): a commit bumps its connection's shard, so
writers of one deployment on two connections never wait for each other's bump, and the
deployment's epoch still changes with each commit, when that commit becomes visible."""

from __future__ import annotations

import psycopg

from reconciler.state import engine as engines
from reconciler.state.store import open_store
from tests.state.test_conformance import task

SHARDS = 64


def _connections_in_two_shards(url: str) -> tuple[psycopg.Connection, psycopg.Connection, list]:
    opened = [psycopg.connect(url)]
    while True:  # backend ids are arbitrary: open connections until two fall in different shards
        conn = psycopg.connect(url)
        opened.append(conn)
        if conn.info.backend_pid % SHARDS != opened[0].info.backend_pid % SHARDS:
            return opened[0], conn, opened


def test_two_connections_writing_one_deployment_do_not_wait_for_each_others_epoch(pg_db, tmp_path):
    store = open_store(pg_db, "ws", tmp_path)
    first, second, opened = _connections_in_two_shards(pg_db)
    try:
        store.create_tasks([task("t1"), task("t2", target="api/prod/c2")])
        before = store.plan_epochs()["api"]
        first.execute("UPDATE tasks SET message = 'first' WHERE id = 't1'")
        first.execute("SET CONSTRAINTS ALL IMMEDIATE")  # its epoch bump now, its row lock held until it ends
        second.execute("SET lock_timeout = '5s'")  # with one row per deployment this would time out
        second.execute("UPDATE tasks SET message = 'second' WHERE id = 't2'")
        second.commit()
        after_second = store.plan_epochs()["api"]
        first.commit()
        after_first = store.plan_epochs()["api"]
        assert len({before, after_second, after_first}) == 3
        with psycopg.connect(pg_db) as conn:
            assert conn.execute("SELECT count(*) FROM plan_epoch_pending").fetchone()[0] == 0
            shards = conn.execute("SELECT shard FROM plan_epoch_shards WHERE deployment = 'api'").fetchall()
        assert {s for (s,) in shards} >= {first.info.backend_pid % SHARDS, second.info.backend_pid % SHARDS}
    finally:
        for conn in opened:
            conn.close()
        store.close()


def test_epochs_recorded_before_the_shards_carry_over(pg_db, tmp_path):
    """A database migrated from 0007 keeps its deployments' tokens (shard -1), so nothing cached
    against them is lost, and the next commit changes them."""
    from alembic import command
    from alembic.config import Config

    engine = engines.create(engines.normalize_url(pg_db, tmp_path))
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", "reconciler.state:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
    engine.dispose()
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("INSERT INTO versions_seen VALUES ('ws', 'old', 'v1', now())")  # bumps 'old' as 0007 does
        token = conn.execute("SELECT token FROM plan_epochs WHERE deployment = 'old'").fetchone()[0]
    store = open_store(pg_db, "ws", tmp_path)  # migrates to 0008
    try:
        assert store.plan_epochs() == {"old": token}
        store.create_tasks([task("t1", target="old/prod/c1")])
        assert store.plan_epochs()["old"].startswith(token + ",")
    finally:
        store.close()

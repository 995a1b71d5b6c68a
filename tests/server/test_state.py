"""The API's state: migration 0003 creates exactly what ``schema.py`` declares, an older database
upgrades in place keeping its tasks, and keys are stored hashed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from reconciler.server import keys
from reconciler.state import migrate
from reconciler.state.schema import api_keys, metadata, tasks
from reconciler.state.store import open_store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_the_migration_matches_the_declared_tables(sql_state, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = open_store(sql_state, "ws", tmp_path)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        store.close()
    mine = [d for d in diff if any(name in repr(d) for name in ("api_keys", "claim", "ix_tasks_release",
                                                                  "ix_tasks_queue"))]
    assert mine == []


def test_a_database_at_the_previous_schema_upgrades_keeping_its_tasks(tmp_path):
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", "reconciler.state:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, migrate._ORDER[-2])
        conn.execute(sa.text("INSERT INTO tasks (workspace, id, target, deployment, environment, resource, operation, "
                             "status, version, release_id, actor, actor_kind, reason, diff, revision, created_at, "
                             "message, log, log_truncated, attempt, retries, cancel_requested, run_id, agent, job, "
                             "artifacts, verification) VALUES ('ws', 't1', 'a/b/c', 'a', 'b', 'c', 'install', "
                             "'triggered', 'v1', 'r1', 'ci', 'bot', '', '{}', 'x', '2026-11-20 09:00:00', '', '', 0, "
                             "0, 0, 0, '', 'local', '{}', '{}', '{}')"))
    engine.dispose()
    store = open_store(f"sqlite:///{tmp_path / 'old.db'}", "ws", Path(tmp_path))
    try:
        assert store.get_task("t1").status == "triggered"
        assert store.claim("t1").expiries == 0
        assert store.claim_tasks("local", "agent-1", NOW, NOW, 5) == ["t1"]
    finally:
        store.close()
    assert "claimed_by" in tasks.c and "key_hash" in api_keys.c


def test_keys_are_stored_hashed_and_revocable(sql_state, tmp_path):
    store = open_store(sql_state, "ws", tmp_path)
    try:
        key = keys.new_key()
        store.create_api_key("alice", keys.digest(key), keys.display_prefix(key), "approve", NOW)
        assert store.api_key_by_hash(keys.digest(key)).name == "alice"
        with store.engine.connect() as conn:
            stored = [tuple(r) for r in conn.execute(sa.select(api_keys))]
        assert key not in repr(stored) and keys.digest(key) in repr(stored)
        assert store.revoke_api_key("alice", NOW) and not store.revoke_api_key("alice", NOW)
        assert store.api_key_by_hash(keys.digest(key)) is None
        again = keys.new_key()  # a revoked name may be reused
        store.create_api_key("alice", keys.digest(again), keys.display_prefix(again), "read", NOW)
        assert [(k.name, k.scope, k.revoked_at) for k in store.api_keys()] == [("alice", "read", None)]
    finally:
        store.close()

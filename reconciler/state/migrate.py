"""Apply state migrations automatically and safely.

Checks the schema version cheaply first and imports Alembic only when something is pending. Two
processes migrating at once are serialised: PostgreSQL takes an advisory lock inside the
migration transaction (DDL is transactional there); SQLite takes its write lock with
``BEGIN IMMEDIATE``. A database newer than this release is refused rather than touched.
"""

from __future__ import annotations

import sqlalchemy as sa

from reconciler.errors import MigrationError

VERSION_TABLE = "reconciler_schema_version"
HEAD = "0008"
_ORDER = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"]
_PG_LOCK_KEY = 727_272_001


def current_version(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def ensure_schema(engine: sa.Engine) -> None:
    """Bring the database at ``engine`` to HEAD; a no-op (one query) when it is already there."""
    with engine.connect() as conn:
        if current_version(conn) == HEAD:
            return
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            version = current_version(conn)
            if version == HEAD:
                return
            if version is not None and version not in _ORDER:
                raise MigrationError(
                    f"the state database is at schema {version!r}, newer than this reconciler ({HEAD}); upgrade reconciler"
                )
            _run_alembic(conn)


def _run_alembic(conn: sa.Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "reconciler.state:migrations")
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, HEAD)
    except Exception as exc:  # noqa: BLE001 - surfaced as a MigrationError with the cause
        raise MigrationError(f"migrating the state database failed: {exc}") from exc

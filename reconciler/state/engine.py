"""SQLAlchemy engines for state URLs, with the per-backend settings that make them safe.

SQLite: WAL journal, a busy timeout, and transactions we begin ourselves (``BEGIN IMMEDIATE`` for
writes, so two writers queue instead of failing half-way). PostgreSQL: psycopg 3, connections
checked before use once they sat idle for a while.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from reconciler.errors import StateError, UsageError


def normalize_url(url: str, base: Path) -> str:
    """Accept ``sqlite:///rel/path`` (relative to ``base``), ``sqlite:////abs``, ``postgresql://``."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        rel = url[len("sqlite:///"):]
        path = Path(rel) if Path(rel).is_absolute() else (base / rel)
        return f"sqlite:///{path.resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        rest = url.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"
    if url.startswith(("postgresql+psycopg://", "sqlite:")):
        return url
    raise UsageError(f"unsupported state URL {url!r}; use sqlite:///path, postgresql://user@host/db or git+branch:NAME")


def create(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        return _sqlite(url)
    try:
        engine = sa.create_engine(url, pool_size=8, max_overflow=16)
    except Exception as exc:  # noqa: BLE001
        raise StateError(f"cannot use state backend {_safe(url)}: {exc}") from exc
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Pessimistic disconnect handling, but only for connections idle a while: a server restart
    is still survived, without a round trip before every statement of a busy apply (pool_pre_ping
    cost about a tenth of PostgreSQL task throughput)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy):  # noqa: ANN001
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - the pool then replaces the connection
            raise sa.exc.DisconnectionError() from exc


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _sqlite(url: str) -> sa.Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine

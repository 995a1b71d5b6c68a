"""Migrating an empty database yields exactly the tables the queries are written against
(``reconciler/state/schema.py``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from reconciler.state import engine as engines
from reconciler.state import migrate
from reconciler.state.schema import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return engines.normalize_url(request.getfixturevalue("pg_db"), tmp_path)


def test_migrated_schema_matches_the_query_metadata(url):
    engine = engines.create(url)
    migrate.ensure_schema(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False,
                                                         "version_table": migrate.VERSION_TABLE})
        diff = [d for d in compare_metadata(context, metadata)
                if not (d[0] == "remove_table" and d[1].name == migrate.VERSION_TABLE)]
        assert migrate.current_version(conn) == migrate.HEAD
    engine.dispose()
    assert diff == []


def test_a_newer_schema_is_refused(tmp_path):
    engine = engines.create(f"sqlite:///{tmp_path / 'n.db'}")
    migrate.ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '9999'"))
    from reconciler.errors import MigrationError

    with pytest.raises(MigrationError, match="newer than this reconciler"):
        migrate.ensure_schema(engine)
    engine.dispose()

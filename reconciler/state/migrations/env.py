"""Alembic environment: always runs on the connection handed over by ``reconciler.state.migrate``."""

from alembic import context

from reconciler.state.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    version_table="reconciler_schema_version",
)
context.run_migrations()

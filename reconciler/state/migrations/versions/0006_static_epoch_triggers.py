"""PostgreSQL plan-epoch triggers with static SQL, one function per table and operation.

0004's shared trigger function built its SQL with ``EXECUTE format(...)`` on every statement, and
took ``DISTINCT`` over a random token, so a statement that touched two rows of one deployment (two
holds of a target released together) proposed the same epoch row twice and failed with
"ON CONFLICT DO UPDATE command cannot affect row a second time". These functions first collapse
the rows to distinct deployments, then bump each once (old and new rows of an UPDATE in one
statement), and plpgsql caches their plans. SQLite's row-level triggers are unchanged.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = {
    "tasks": "r.deployment",
    "target_state": "r.deployment",
    "approvals": "r.deployment",
    "versions_seen": "r.deployment",
    "holds": "split_part(r.target, '/', 1)",
}
_REFS = {"insert": ("NEW TABLE AS new_rows", ("new_rows",)),
         "update": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", ("new_rows", "old_rows")),
         "delete": ("OLD TABLE AS old_rows", ("old_rows",))}


def distinct_deployments(dep: str, rows: tuple[str, ...]) -> str:
    """SQL of the distinct (workspace, deployment) pairs of a statement's transition tables."""
    return " UNION ".join(f"SELECT DISTINCT r.workspace, {dep} AS deployment FROM {name} AS r" for name in rows)


def _function(table: str, op_name: str, dep: str, rows: tuple[str, ...]) -> str:
    source = distinct_deployments(dep, rows)
    return f"""
CREATE OR REPLACE FUNCTION reconciler_epochs_{table}_{op_name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO plan_epochs (workspace, deployment, token)
  SELECT d.workspace, d.deployment, md5(random()::text || clock_timestamp()::text)
  FROM ({source}) AS d
  ORDER BY 1, 2
  ON CONFLICT (workspace, deployment) DO UPDATE SET token = EXCLUDED.token;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, dep in _TABLES.items():
        for op_name, (refs, rows) in _REFS.items():
            op.execute(f"DROP TRIGGER IF EXISTS plan_epoch_{table}_{op_name} ON {table}")
            op.execute(_function(table, op_name, dep, rows))
            op.execute(f"CREATE TRIGGER plan_epoch_{table}_{op_name} AFTER {op_name.upper()} ON {table} "
                       f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION "
                       f"reconciler_epochs_{table}_{op_name}()")
    op.execute("DROP FUNCTION IF EXISTS reconciler_bump_epochs()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from importlib import import_module

    old = import_module("reconciler.state.migrations.versions.0004_plan_epochs")
    for table in _TABLES:
        for op_name in _REFS:
            op.execute(f"DROP TRIGGER IF EXISTS plan_epoch_{table}_{op_name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS reconciler_epochs_{table}_{op_name}()")
    for table, dep in {**old._TABLES, "holds": old._HOLDS_PG}.items():
        old._pg_triggers(table, dep)

"""Incremental plans and scale-out: a per-deployment state epoch, and an index to read one
deployment's target states.

``plan_epochs`` holds one random token per (workspace, deployment), replaced by database triggers
on every write to the rows planning reads for that deployment (tasks, target_state, approvals,
holds, versions_seen), whoever writes them (reconcile runs, the API server, agents). An unchanged
token therefore means unchanged recorded state for that deployment: the plan cache keys on it.
Tokens are random, so a recreated database can never repeat an old one.

SQLite gets row triggers. PostgreSQL gets statement triggers with transition tables, which bump
each deployment once per statement, in a fixed order (no deadlocks between concurrent writers).
A later migration that rebuilds one of these tables (SQLite batch mode copies the table) must
recreate its triggers.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# table -> SQL expression of the deployment a row belongs to, given the row alias
_TABLES = {
    "tasks": "{r}.deployment",
    "target_state": "{r}.deployment",
    "approvals": "{r}.deployment",
    "versions_seen": "{r}.deployment",
}
_HOLDS_SQLITE = "substr({r}.target, 1, instr({r}.target, '/') - 1)"
_HOLDS_PG = "split_part({r}.target, '/', 1)"


def upgrade() -> None:
    op.create_table(
        "plan_epochs",
        sa.Column("workspace", sa.String(128), primary_key=True),
        sa.Column("deployment", sa.String(128), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
    )
    op.create_index("ix_target_state_deployment", "target_state", ["workspace", "deployment"])
    tables = {**_TABLES, "holds": _HOLDS_PG if _pg() else _HOLDS_SQLITE}
    for table, dep in tables.items():
        if _pg():
            _pg_triggers(table, dep)
        else:
            _sqlite_triggers(table, dep)


def downgrade() -> None:
    for table in (*_TABLES, "holds"):
        for op_name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS plan_epoch_{table}_{op_name}" + (f" ON {table}" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION IF EXISTS reconciler_bump_epochs()")
    op.drop_index("ix_target_state_deployment", "target_state")
    op.drop_table("plan_epochs")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_triggers(table: str, dep: str) -> None:
    bump = ("INSERT INTO plan_epochs (workspace, deployment, token) VALUES ({r}.workspace, " + dep +
            ", lower(hex(randomblob(12)))) ON CONFLICT (workspace, deployment) DO UPDATE SET token = excluded.token;")
    for op_name, rows in (("insert", ("NEW",)), ("update", ("OLD", "NEW")), ("delete", ("OLD",))):
        body = " ".join(bump.format(r=r) for r in rows)
        op.execute(f"CREATE TRIGGER plan_epoch_{table}_{op_name} AFTER {op_name.upper()} ON {table} "
                   f"FOR EACH ROW BEGIN {body} END")


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION reconciler_bump_epochs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format(
    'INSERT INTO plan_epochs (workspace, deployment, token) '
    'SELECT DISTINCT r.workspace, %1$s, md5(random()::text || clock_timestamp()::text) FROM %2$s AS r '
    'ORDER BY 1, 2 ON CONFLICT (workspace, deployment) DO UPDATE SET token = EXCLUDED.token',
    TG_ARGV[0], TG_ARGV[1]);
  IF TG_OP = 'UPDATE' THEN
    EXECUTE format(
      'INSERT INTO plan_epochs (workspace, deployment, token) '
      'SELECT DISTINCT r.workspace, %1$s, md5(random()::text || clock_timestamp()::text) FROM old_rows AS r '
      'ORDER BY 1, 2 ON CONFLICT (workspace, deployment) DO UPDATE SET token = EXCLUDED.token',
      TG_ARGV[0]);
  END IF;
  RETURN NULL;
END $$
"""


def _pg_triggers(table: str, dep: str) -> None:
    op.execute(_PG_FUNCTION)
    expr = dep.format(r="r").replace("'", "''")
    for op_name, refs, rows in (("insert", "NEW TABLE AS new_rows", "new_rows"),
                                ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "new_rows"),
                                ("delete", "OLD TABLE AS old_rows", "old_rows")):
        op.execute(f"CREATE TRIGGER plan_epoch_{table}_{op_name} AFTER {op_name.upper()} ON {table} "
                   f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION "
                   f"reconciler_bump_epochs('{expr}', '{rows}')")

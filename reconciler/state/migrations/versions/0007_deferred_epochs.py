"""PostgreSQL plan epochs bumped at commit, not at each statement.

0006's statement triggers upserted a deployment's ``plan_epochs`` row inside every write, so the
row stayed locked from the first statement of a transaction to its end, across every round trip
to the client. Concurrent writers of one deployment (an apply's parallel tasks) queued on that
row: 1,000 ``true`` tasks on 16 workers spent most of their time in ``Lock:transactionid``
waits (70 tasks/s). Now the statement triggers only note the deployment in
``plan_epoch_pending`` (a row per transaction and deployment, which no other transaction
touches), and a deferred constraint trigger on that table bumps the epoch and drops the note at
commit. The epoch row is locked only while the transaction commits; a reader still sees the new
token exactly when it sees the data. SQLite (one writer at a time) keeps its row triggers.

Revision ID: 0007
Revises: 0006
"""

from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = import_module("reconciler.state.migrations.versions.0006_static_epoch_triggers")


def _function(table: str, op_name: str, dep: str, rows: tuple[str, ...]) -> str:
    source = _OLD.distinct_deployments(dep, rows)
    return f"""
CREATE OR REPLACE FUNCTION reconciler_epochs_{table}_{op_name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO plan_epoch_pending (xid, workspace, deployment)
  SELECT txid_current(), d.workspace, d.deployment FROM ({source}) AS d
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$
"""


_BUMP = """
CREATE OR REPLACE FUNCTION reconciler_epochs_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO plan_epochs (workspace, deployment, token)
  VALUES (NEW.workspace, NEW.deployment, md5(random()::text || clock_timestamp()::text))
  ON CONFLICT (workspace, deployment) DO UPDATE SET token = EXCLUDED.token;
  DELETE FROM plan_epoch_pending WHERE xid = NEW.xid AND workspace = NEW.workspace AND deployment = NEW.deployment;
  RETURN NULL;
END $$
"""


def _each_trigger_function(make) -> None:
    for table, dep in _OLD._TABLES.items():
        for op_name, (_refs, rows) in _OLD._REFS.items():
            op.execute(make(table, op_name, dep, rows))


def upgrade() -> None:
    op.create_table("plan_epoch_pending",  # on SQLite too, so both match schema.py (unused there)
                    sa.Column("xid", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("workspace", sa.String(128), primary_key=True),
                    sa.Column("deployment", sa.String(128), primary_key=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_BUMP)
    op.execute("DROP TRIGGER IF EXISTS plan_epoch_commit ON plan_epoch_pending")
    op.execute("CREATE CONSTRAINT TRIGGER plan_epoch_commit AFTER INSERT ON plan_epoch_pending "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION reconciler_epochs_commit()")
    _each_trigger_function(_function)  # the triggers of 0006 call these


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _each_trigger_function(_OLD._function)
    op.drop_table("plan_epoch_pending")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS reconciler_epochs_commit()")

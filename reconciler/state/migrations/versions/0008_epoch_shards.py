"""PostgreSQL plan epochs in shards: a committing transaction bumps its connection's shard of the
deployment's epoch, not one row every writer shares.

With 0007 every commit that touched a deployment updated that deployment's single ``plan_epochs``
row and held its lock until the commit record was flushed, so an apply's parallel tasks (two
commits each: start and finish) queued behind each other's WAL flushes: sampled during 1,000
``true`` tasks, most backends waited in ``Lock:transactionid``. Now the deferred trigger upserts
the row ``(workspace, deployment, pg_backend_pid() % 64)`` of ``plan_epoch_shards``; two
connections contend only when their backend ids share a shard. A deployment's epoch is read as
all its shards together (``SqlStore.plan_epochs``), so it still changes with every commit that
changes what planning reads, exactly when that commit becomes visible. Existing tokens move to
shard -1. SQLite (one writer at a time) keeps ``plan_epochs`` and its row triggers.

Revision ID: 0008
Revises: 0007
"""

from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SHARDS = 64

_BUMP = f"""
CREATE OR REPLACE FUNCTION reconciler_epochs_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO plan_epoch_shards (workspace, deployment, shard, token)
  VALUES (NEW.workspace, NEW.deployment, pg_backend_pid() % {SHARDS}, md5(random()::text || clock_timestamp()::text))
  ON CONFLICT (workspace, deployment, shard) DO UPDATE SET token = EXCLUDED.token;
  DELETE FROM plan_epoch_pending WHERE xid = NEW.xid AND workspace = NEW.workspace AND deployment = NEW.deployment;
  RETURN NULL;
END $$
"""

_PREVIOUS = import_module("reconciler.state.migrations.versions.0007_deferred_epochs")  # its _BUMP, to go back to


def upgrade() -> None:
    op.create_table("plan_epoch_shards",  # on SQLite too, so both match schema.py (unused there)
                    sa.Column("workspace", sa.String(128), primary_key=True),
                    sa.Column("deployment", sa.String(128), primary_key=True),
                    sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("token", sa.String(64), nullable=False))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("INSERT INTO plan_epoch_shards (workspace, deployment, shard, token) "
               "SELECT workspace, deployment, -1, token FROM plan_epochs")
    op.execute(_BUMP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PREVIOUS._BUMP)
        op.execute("INSERT INTO plan_epochs (workspace, deployment, token) "
                   "SELECT workspace, deployment, md5(string_agg(token, ',' ORDER BY shard)) FROM plan_epoch_shards "
                   "GROUP BY workspace, deployment "
                   "ON CONFLICT (workspace, deployment) DO UPDATE SET token = EXCLUDED.token")
    op.drop_table("plan_epoch_shards")

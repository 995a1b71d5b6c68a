"""Incremental planning: a per-target input fingerprint, and an index for task outcomes per
deployment × environment × version (environment progression reads them).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("target_state") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_tasks_outcomes", "tasks", ["workspace", "deployment", "version", "status"])


def downgrade() -> None:
    op.drop_index("ix_tasks_outcomes", "tasks")
    with op.batch_alter_table("target_state") as batch:
        batch.drop_column("fingerprint")

"""Drift marks: ``reconciler drift`` records on a target's state what its version sticker
disagreed about, so that later plans show the target as drifted and ``apply`` re-applies it (the
next successful task records a new state, which clears the mark).

A plain ``ADD COLUMN`` (no batch rebuild), so the plan-epoch triggers of 0004 stay in place. Also
an index on task operations: planning looks up targets whose newest task is a rollback.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("target_state", sa.Column("drift", sa.Text, nullable=False, server_default=""))
    op.create_index("ix_tasks_operation", "tasks", ["workspace", "operation"])  # planning finds rollbacks


def downgrade() -> None:
    op.drop_index("ix_tasks_operation", "tasks")
    op.drop_column("target_state", "drift")

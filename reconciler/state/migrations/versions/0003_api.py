"""The HTTP API (``reconciler serve``): pull-agent claims on tasks (a lease: who holds the task and
until when, and how many leases ran out), indexes for the job queue and for a release's tasks, and
hashed API keys.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from reconciler.state.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(255)))
        batch.add_column(sa.Column("claimed_until", UTCDateTime))
        batch.add_column(sa.Column("claim_expiries", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_tasks_release", "tasks", ["workspace", "release_id", "seq"])
    op.create_index("ix_tasks_queue", "tasks", ["workspace", "agent", "status"])
    op.create_table(
        "api_keys",
        sa.Column("workspace", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_hash"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_tasks_queue", "tasks")
    op.drop_index("ix_tasks_release", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("claim_expiries")
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")

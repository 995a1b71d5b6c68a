"""Initial state schema: releases, tasks, attempts, target state, versions seen, approvals, holds,
traces, locks and meta.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from reconciler.state.schema import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

WS = ("workspace", sa.String(128))


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column(*WS, primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("variables", JSONType, nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column(*WS, nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("from_version", sa.String(128)),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("diff", JSONType, nullable=False),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("external_id", sa.String(512)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("log", sa.Text, nullable=False),
        sa.Column("log_truncated", sa.BigInteger, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("retries", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("job", JSONType, nullable=False),
        sa.Column("artifacts", JSONType, nullable=False),
        sa.Column("verification", JSONType, nullable=False),
        sa.Column("rollback_of", sa.String(32)),
        sa.UniqueConstraint("workspace", "id", name="uq_tasks_workspace_id"),
    )
    op.create_index("ix_tasks_target", "tasks", ["workspace", "target", "seq"])
    op.create_index("ix_tasks_deployment", "tasks", ["workspace", "deployment", "seq"])
    op.create_index("ix_tasks_status", "tasks", ["workspace", "status"])
    op.create_table(
        "task_attempts",
        sa.Column(*WS, primary_key=True),
        sa.Column("task_id", sa.String(32), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("interrupted", sa.Boolean, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "target_state",
        sa.Column(*WS, primary_key=True),
        sa.Column("target", sa.String(512), primary_key=True),
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("release_id", sa.String(64), nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False),
        sa.Column("inputs", JSONType, nullable=False),
        sa.Column("placement", JSONType, nullable=False),
        sa.Column("last_task_id", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deployed_at", UTCDateTime),
    )
    op.create_table(
        "versions_seen",
        sa.Column(*WS, primary_key=True),
        sa.Column("deployment", sa.String(128), primary_key=True),
        sa.Column("tag", sa.String(128), primary_key=True),
        sa.Column("first_seen", UTCDateTime, nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column(*WS, primary_key=True),
        sa.Column("deployment", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(128), primary_key=True),
        sa.Column("environment", sa.String(128), primary_key=True),
        sa.Column("actor", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "holds",
        sa.Column(*WS, primary_key=True),
        sa.Column("target", sa.String(512), primary_key=True),
        sa.Column("version", sa.String(128), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("task_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "task_traces",
        sa.Column(*WS, primary_key=True),
        sa.Column("task_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("step", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "locks",
        sa.Column(*WS, primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("acquired_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column(*WS, primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "locks", "task_traces", "holds", "approvals", "versions_seen", "target_state",
                  "task_attempts", "tasks", "releases"):
        op.drop_table(table)

"""Table definitions (SQLAlchemy Core) used by the queries. Migrations create them; a test checks
that migrating an empty database yields exactly this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData()

releases = sa.Table(
    "releases", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("version", sa.String(128), nullable=False),
    sa.Column("variables", JSONType, nullable=False),
    sa.Column("config", JSONType, nullable=False),
    sa.Column("config_digest", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

tasks = sa.Table(
    "tasks", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String(128), nullable=False),
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
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("log", sa.Text, nullable=False, default=""),
    sa.Column("log_truncated", sa.BigInteger, nullable=False, default=0),
    sa.Column("attempt", sa.Integer, nullable=False, default=0),
    sa.Column("retries", sa.Integer, nullable=False, default=0),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("run_id", sa.String(64), nullable=False, default=""),
    sa.Column("agent", sa.String(128), nullable=False, default=""),
    sa.Column("job", JSONType, nullable=False),
    sa.Column("artifacts", JSONType, nullable=False),
    sa.Column("verification", JSONType, nullable=False),
    sa.Column("rollback_of", sa.String(32)),
    sa.UniqueConstraint("workspace", "id", name="uq_tasks_workspace_id"),
    sa.Index("ix_tasks_target", "workspace", "target", "seq"),
    sa.Index("ix_tasks_deployment", "workspace", "deployment", "seq"),
    sa.Index("ix_tasks_status", "workspace", "status"),
    sa.Index("ix_tasks_operation", "workspace", "operation"),  # migration 0005
    sa.Index("ix_tasks_outcomes", "workspace", "deployment", "version", "status"),
)

attempts = sa.Table(
    "task_attempts", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("task_id", sa.String(32), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("interrupted", sa.Boolean, nullable=False, default=False),
    sa.Column("run_id", sa.String(64), nullable=False, default=""),
)

target_state = sa.Table(
    "target_state", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
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
    sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
    sa.Column("drift", sa.Text, nullable=False, server_default=""),  # migration 0005
)

versions_seen = sa.Table(
    "versions_seen", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("deployment", sa.String(128), primary_key=True),
    sa.Column("tag", sa.String(128), primary_key=True),
    sa.Column("first_seen", UTCDateTime, nullable=False),
)

approvals = sa.Table(
    "approvals", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("deployment", sa.String(128), primary_key=True),
    sa.Column("version", sa.String(128), primary_key=True),
    sa.Column("environment", sa.String(128), primary_key=True),
    sa.Column("actor", sa.String(255), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

holds = sa.Table(
    "holds", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("target", sa.String(512), primary_key=True),
    sa.Column("version", sa.String(128), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("task_id", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

traces = sa.Table(
    "task_traces", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("task_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("step", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("at", UTCDateTime, nullable=False),
)

locks = sa.Table(
    "locks", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("acquired_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

meta = sa.Table(
    "meta", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# -- reconciler serve (migration 0003): pull-agent claims on tasks, and API keys ------------------
# A claim is a lease a pull agent holds on a task (``claimed_by`` until ``claimed_until``), renewed
# by its heartbeats; ``claim_expiries`` counts leases that ran out without one.
tasks.append_column(sa.Column("claimed_by", sa.String(255)))
tasks.append_column(sa.Column("claimed_until", UTCDateTime))
tasks.append_column(sa.Column("claim_expiries", sa.Integer, nullable=False, default=0, server_default="0"))
sa.Index("ix_tasks_release", tasks.c.workspace, tasks.c.release_id, tasks.c.seq)
sa.Index("ix_tasks_queue", tasks.c.workspace, tasks.c.agent, tasks.c.status)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.UniqueConstraint("key_hash", name="uq_api_keys_hash"),
)

# -- incremental plans (migration 0004) ----------------------------------------------------------
# One random token per deployment, replaced by triggers on every write to the rows planning reads
# for it (tasks, target_state, approvals, holds, versions_seen): the plan cache keys on it.
plan_epochs = sa.Table(
    "plan_epochs", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("deployment", sa.String(128), primary_key=True),
    sa.Column("token", sa.String(64), nullable=False),
)
sa.Index("ix_target_state_deployment", target_state.c.workspace, target_state.c.deployment)

# -- epochs bumped at commit (migration 0007, PostgreSQL): a transaction's writes note their
# deployments here; a deferred trigger bumps each one's epoch at commit and drops the note
plan_epoch_pending = sa.Table(
    "plan_epoch_pending", metadata,
    sa.Column("xid", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("deployment", sa.String(128), primary_key=True),
)

# -- epochs in shards (migration 0008, PostgreSQL): a committing transaction bumps the shard of its
# connection (backend id modulo 64); a deployment's epoch is all its shards read together
plan_epoch_shards = sa.Table(
    "plan_epoch_shards", metadata,
    sa.Column("workspace", sa.String(128), primary_key=True),
    sa.Column("deployment", sa.String(128), primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("token", sa.String(64), nullable=False),
)

"""Seed recorded state for benchmarks without running agents: every install of a plan is recorded
as a done task with its target state (fingerprint included), and history can be padded with
synthetic task rows. Uses the store's own tables through SQLAlchemy Core bulk inserts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from reconciler.state.schema import target_state, tasks

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


def _task_row(workspace: str, change, when: datetime, seq_hint: int) -> dict:
    key = change.key
    return {
        "workspace": workspace, "id": uuid.uuid4().hex[:16], "target": str(key), "deployment": key.deployment,
        "environment": key.environment, "resource": key.resource, "operation": change.operation, "status": "done",
        "version": change.to_version, "from_version": change.from_version,
        "release_id": change.release.id if change.release else "", "actor": "bench", "actor_kind": "bot",
        "reason": change.reason, "diff": {}, "revision": "bench", "created_at": when, "started_at": when,
        "finished_at": when, "external_id": None, "message": "seeded", "log": "", "log_truncated": 0,
        "attempt": 1, "retries": 0, "cancel_requested": False, "run_id": "seed", "agent": "noop", "job": {},
        "artifacts": {}, "verification": {}, "rollback_of": None,
    }


def record_plan(store, plan, when: datetime = NOW - timedelta(hours=2)) -> int:
    """Record every install/upgrade of ``plan`` as done, as if an apply had run at ``when``."""
    task_rows, state_rows = [], []
    for i, change in enumerate(plan.changes):
        if change.release is None or change.operation == "uninstall":
            continue
        row = _task_row(store.workspace, change, when, i)
        task_rows.append(row)
        key = change.key
        state_rows.append({
            "workspace": store.workspace, "target": str(key), "deployment": key.deployment,
            "environment": key.environment, "resource": key.resource, "version": change.to_version,
            "release_id": change.release.id, "config_digest": change.release.config_digest,
            "inputs": change.release.inputs, "placement": change.release.placement, "last_task_id": row["id"],
            "updated_at": when, "deployed_at": when, "fingerprint": change.fingerprint,
        })
    with store.engine.begin() as conn:
        for start in range(0, len(task_rows), 5000):
            conn.execute(sa.insert(tasks), task_rows[start:start + 5000])
        done = {r["target"] for r in state_rows}
        conn.execute(sa.delete(target_state).where(target_state.c.workspace == store.workspace,
                                                   target_state.c.target.in_(sorted(done))))
        for start in range(0, len(state_rows), 5000):
            conn.execute(sa.insert(target_state), state_rows[start:start + 5000])
    return len(task_rows)


def pad_history(store, rows: int, deployments: int = 50, chunk: int = 20000) -> None:
    """Insert ``rows`` synthetic finished tasks spread over ``deployments`` deployments."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with store.engine.begin() as conn:
        for start in range(0, rows, chunk):
            batch = []
            for i in range(start, min(rows, start + chunk)):
                dep = f"svc-{i % deployments:02d}"
                when = base + timedelta(seconds=i)
                batch.append({
                    "workspace": store.workspace, "id": f"h{i:015d}", "target": f"{dep}/env-{i % 20:02d}/node-{i:06d}",
                    "deployment": dep, "environment": f"env-{i % 20:02d}", "resource": f"node-{i % 15000:06d}",
                    "operation": "upgrade", "status": "done", "version": "v0.9.0", "from_version": "v0.8.0",
                    "release_id": "history", "actor": "bench", "actor_kind": "bot", "reason": "synthetic history",
                    "diff": {}, "revision": "bench", "created_at": when, "started_at": when, "finished_at": when,
                    "external_id": None, "message": "", "log": "", "log_truncated": 0, "attempt": 1, "retries": 0,
                    "cancel_requested": False, "run_id": "history", "agent": "noop", "job": {}, "artifacts": {},
                    "verification": {}, "rollback_of": None,
                })
            conn.execute(sa.insert(tasks), batch)

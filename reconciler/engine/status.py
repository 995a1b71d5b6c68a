"""What is deployed where: per release target, the current version, the desired version and a
state (in sync, pending, blocked, in progress, failed, held, orphaned, not deployed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reconciler.engine.planner import make_plan
from reconciler.engine.session import Session, gather_facts
from reconciler.models import statuses
from reconciler.planning.targets import compute_targets


def status_rows(session: Session, now: datetime) -> list[dict[str, Any]]:
    result = make_plan(session, now)
    plan = result.plan
    facts = gather_facts(session, now)
    rows: dict[str, dict[str, Any]] = {}
    for key in compute_targets(session.catalog):
        state = facts.states.get(str(key))
        current = state.version if state else None
        rows[str(key)] = {"target": str(key), "deployment": key.deployment, "environment": key.environment,
                          "resource": key.resource, "currentVersion": current, "desiredVersion": current,
                          "state": "in sync" if current else "not deployed", "message": ""}
    for change in plan.changes:
        row = rows.setdefault(str(change.key), _row(change.key, None))
        row.update(desiredVersion=change.to_version, state=f"pending {change.operation}", message=change.reason)
    for item in plan.blocked:
        row = rows[str(item.key)]
        row.update(desiredVersion=item.version or row["desiredVersion"], state="blocked",
                   message=f"{item.message} [{item.policy}/{item.rule}]",
                   nextEvaluation=item.next_evaluation.isoformat().replace("+00:00", "Z") if item.next_evaluation
                   else None)
    for item in plan.in_flight:
        row = rows.setdefault(item.target, _row(item.target.split("/", 2), None))
        row.update(desiredVersion=item.version, state=f"in progress ({item.status})", message=f"task {item.task_id}")
    for orphan in plan.orphaned:
        rows[orphan.target] = {**_row(orphan.target.split("/", 2), orphan.version), "state": "orphaned",
                               "message": orphan.reason}
    for hold in facts.holds:
        if hold.target in rows:
            rows[hold.target]["held"] = hold.version
            if rows[hold.target]["state"] == "in sync":
                rows[hold.target]["message"] = f"{hold.version} held off: {hold.reason}"
    for name, task in session.store.latest_tasks().items():  # type: ignore[attr-defined]
        row = rows.get(name)
        if row and task.status in statuses.FAILURES and row["state"] in ("blocked", "in sync", "not deployed"):
            row["lastTask"] = {"id": task.id, "status": task.status, "version": task.version}
            if row["state"] == "blocked" and task.version == row["desiredVersion"]:
                row["state"] = "failed"
    return [rows[k] for k in sorted(rows)]


def _row(key, current) -> dict[str, Any]:
    dep, env, res = key
    return {"target": f"{dep}/{env}/{res}", "deployment": dep, "environment": env, "resource": res,
            "currentVersion": current, "desiredVersion": current, "state": "not deployed", "message": ""}

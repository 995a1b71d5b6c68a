"""View models of the dashboard: plain dicts the templates draw, built from a snapshot and the store.

The matrix condenses each deployment × environment cell to one state: ``failed`` (the newest task
of the desired version failed), ``drifted`` (a version sticker disagrees with state, when drift is
checked), ``rolling out n/m`` (work in flight or about to run; n targets of m already run the desired
version), ``blocked`` (with the rule's reason and, when known, when it can move by itself), ``in
sync``, ``not deployed`` or ``orphaned``. No decision is made here: states come from
``engine.status.status_rows``.
"""

from __future__ import annotations

from typing import Any

from reconciler.engine.drift import FAILING
from reconciler.models.catalog import Catalog
from reconciler.models.records import TaskRecord
from reconciler.planning.plan import iso
from reconciler.server import shapes
from reconciler.server.snapshot import Snapshot

PER_PAGE = 10
TABS = ("releases", "jobs", "history")


def environments(catalog: Catalog, rows: list[dict[str, Any]]) -> list[str]:
    """Environment names in declaration order (staging before production, as written)."""
    names = list(dict.fromkeys(env.name for env in catalog.environments.values()))
    return names + sorted({r["environment"] for r in rows} - set(names))


def matrix(snap: Snapshot, catalog: Catalog) -> dict[str, Any]:
    envs = environments(catalog, snap.rows)
    deployments = sorted(set(catalog.deployments) | {r["deployment"] for r in snap.rows})
    out = []
    for dep in deployments:
        cells = []
        for env in envs:
            rows = [r for r in snap.rows if r["deployment"] == dep and r["environment"] == env]
            cells.append(cell(dep, env, rows, snap.drift) if rows else None)
        out.append({"name": dep, "cells": cells})
    return {"environments": envs, "deployments": out}


def cell(dep: str, env: str, rows: list[dict[str, Any]], drift: dict[str, Any]) -> dict[str, Any]:
    states = [r["state"] for r in rows]
    desired = sorted({r["desiredVersion"] for r in rows if r["desiredVersion"]})
    current = sorted({r["currentVersion"] for r in rows if r["currentVersion"]})
    target_version = desired[-1] if desired else None
    done = sum(1 for r in rows if r["currentVersion"] and r["currentVersion"] == r["desiredVersion"])
    drifted = [drift[r["target"]] for r in rows if r["target"] in drift and drift[r["target"]].status in FAILING]
    blocked = [r for r in rows if r["state"] == "blocked"]
    base = {"deployment": dep, "environment": env, "current": ", ".join(current) or "—",
            "desired": target_version, "targets": len(rows), "detail": "", "eta": None}
    if "failed" in states:
        failed = next(r for r in rows if r["state"] == "failed")
        return {**base, "state": "failed", "label": "failed", "detail": _failure(failed)}
    if drifted:
        return {**base, "state": "drifted", "label": "drifted", "detail": drifted[0].message}
    if any(s.startswith(("pending", "in progress")) for s in states):
        return {**base, "state": "rolling", "label": f"rolling out {done}/{len(rows)}",
                "detail": next(r["message"] for r in rows if r["state"] != "in sync")}
    if blocked:
        etas = sorted(r["nextEvaluation"] for r in blocked if r.get("nextEvaluation"))
        return {**base, "state": "blocked", "label": "blocked" + (f" {done}/{len(rows)}" if done else ""),
                "detail": blocked[0]["message"], "eta": etas[0] if etas else None}
    if all(s == "in sync" for s in states):
        return {**base, "state": "in-sync", "label": "in sync", "desired": None}
    if "orphaned" in states:
        return {**base, "state": "orphaned", "label": "orphaned", "detail": rows[0]["message"]}
    return {**base, "state": "not-deployed", "label": "not deployed"}


def _failure(row: dict[str, Any]) -> str:
    last = row.get("lastTask") or {}
    return f"task {last.get('id', '?')} {last.get('status', 'failed')}: {row['message']}"


def approvals(snap: Snapshot) -> list[dict[str, Any]]:
    return [{"deployment": a.deployment, "version": a.version, "environment": a.environment, "message": a.message,
             "policy": a.policy, "targets": a.targets, "releaseId": a.release_ids[0]} for a in snap.approvals]


def pager(page: int, total: int, per_page: int = PER_PAGE) -> dict[str, int]:
    pages = max((total + per_page - 1) // per_page, 1)
    return {"page": page, "pages": pages, "total": total, "prev": page - 1 if page > 1 else 0,
            "next": page + 1 if page < pages else 0}


def releases_tab(store: Any, snap: Snapshot, deployment: str, page: int) -> dict[str, Any]:
    found, total = store.list_releases(deployment, page, PER_PAGE)
    return {"items": [shapes.release_json(r, t, snap) for r, t in found], "pager": pager(page, total)}


def jobs_tab(store: Any, deployment: str, page: int) -> dict[str, Any]:
    found, total = store.list_tasks(deployment=deployment, page=page, per_page=PER_PAGE)
    return {"items": [shapes.job_json(t, store.claim(t.id)) for t in found], "pager": pager(page, total)}


def history_tab(store: Any, deployment: str, page: int) -> dict[str, Any]:
    found, total = store.list_tasks(deployment=deployment, page=page, per_page=PER_PAGE)
    return {"items": [history_entry(t) for t in found], "pager": pager(page, total)}


def history_entry(task: TaskRecord) -> dict[str, Any]:
    """Platz's History row: operation, actor, status, config diff and (for failures) the log."""
    diff = [{"key": k, "before": _show(v[0]), "after": _show(v[1])} for k, v in sorted(task.diff.items())
            if isinstance(v, (list, tuple)) and len(v) == 2]
    version = task.version if not task.from_version or task.from_version == task.version \
        else f"{task.from_version} → {task.version}"
    failed = task.status in ("failed", "invalid_job_agent", "canceled")
    return {"id": task.id, "created": iso(task.created_at), "operation": task.operation, "target": task.target,
            "version": version, "status": task.status, "actor": task.actor, "bot": task.actor_kind == "bot",
            "reason": task.reason, "message": task.message, "diff": diff, "failed": failed,
            "log": task.log if (failed or task.log) else "", "logTruncated": task.log_truncated}


def _show(value: Any) -> str:
    return "—" if value is None else str(value)

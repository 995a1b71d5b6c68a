"""Task history as a table for terminals, or the JSON document ``history --format json`` prints."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from reconciler.cli.views.progress import COLOURS
from reconciler.models.records import Attempt, TaskRecord, Trace
from reconciler.planning.plan import iso


def task_json(task: TaskRecord, attempts: list[Attempt] | None = None, traces: list[Trace] | None = None,
              with_log: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": task.id, "target": task.target, "deployment": task.deployment, "environment": task.environment,
        "resource": task.resource, "operation": task.operation, "status": task.status, "version": task.version,
        "fromVersion": task.from_version, "releaseId": task.release_id, "actor": task.actor,
        "actorKind": task.actor_kind, "reason": task.reason, "message": task.message, "diff": task.diff,
        "createdAt": iso(task.created_at), "startedAt": iso(task.started_at), "finishedAt": iso(task.finished_at),
        "revision": task.revision, "externalId": task.external_id, "attempt": task.attempt,
        "retries": task.retries, "logTruncated": task.log_truncated, "artifacts": task.artifacts,
        "verification": task.verification, "links": links(task),
    }
    if attempts is not None:
        out["attempts"] = [{"attempt": a.attempt, "status": a.status, "startedAt": iso(a.started_at),
                            "finishedAt": iso(a.finished_at), "message": a.message, "interrupted": a.interrupted}
                           for a in attempts]
    if traces is not None:
        out["traces"] = [{"step": t.step, "status": t.status, "message": t.message, "at": iso(t.at)} for t in traces]
    if with_log:
        out["log"] = task.log
    return out


def links(task: TaskRecord) -> dict[str, str]:
    """Web pages of the task's job that its agent reported (a GitHub Actions or Terraform Cloud run)."""
    outputs = task.job.get("outputs") or {}
    return {key.removesuffix("_url").removesuffix("Url") or key: value for key, value in sorted(outputs.items())
            if key.lower().endswith("url") and isinstance(value, str) and value.startswith(("https://", "http://"))}


def render(tasks: list[TaskRecord], page: int, pages: int, total: int, console: Console,
           traces: dict[str, list[Trace]] | None = None) -> None:
    if not tasks:
        console.print("No tasks recorded." if total == 0 else f"Page {page} is empty ({pages} pages).")
        return
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for name in ("ID", "CREATED", "OPERATION", "TARGET", "VERSION", "STATUS", "ACTOR"):
        table.add_column(name, no_wrap=True)
    table.add_column("REASON", overflow="fold", ratio=1)
    for task in tasks:
        version = task.version if not task.from_version or task.from_version == task.version \
            else f"{task.from_version} → {task.version}"
        colour = COLOURS.get(task.status, "white")
        reason = task.reason
        if task.message and task.status != "done":
            reason += f" — {task.message}"
        if task.diff:
            reason += " — " + ", ".join(f"{k}: {v[0]!r} → {v[1]!r}" for k, v in list(task.diff.items())[:4])
        for tr in (traces or {}).get(task.id, []):
            reason += f"\n  · {tr.step}: {tr.status}{' — ' + tr.message if tr.message else ''}"
        actor = task.actor + (" (bot)" if task.actor_kind == "bot" else "")
        table.add_row(task.id, task.created_at.strftime("%Y-%m-%d %H:%M:%S"), task.operation, task.target, version,
                      f"[{colour}]{task.status}[/]", actor, reason)
    console.print(table)
    console.print(f"[dim]page {page} of {pages} ({total} tasks, newest first)[/]")

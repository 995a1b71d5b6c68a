"""``reconciler history``: tasks newest first, filtered and paged. Read-only."""

from __future__ import annotations

import math

import click

from reconciler.cli import options
from reconciler.cli.views import jsonview


@click.command()
@options.directory
@options.state
@click.option("--deployment", default=None)
@click.option("--environment", default=None)
@click.option("--target", default=None, metavar="KEY")
@click.option("--status", default=None)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--task", "task_id", default=None, metavar="ID", help="Show one task in full, with its log.")
@options.output_format("text", "json")
def history(directory, state_url, deployment, environment, target, status, page, per_page, task_id, fmt) -> int:
    """Tasks newest first: operation, status, actor, reason, config diff."""

    from reconciler.cli.views import history as view
    from reconciler.engine.history import open_history
    from reconciler.models.statuses import normalize_status

    store = open_history(directory, state_url)
    try:
        if task_id:
            task = store.get_task(task_id)
            doc = view.task_json(task, store.attempts(task.id), store.traces(task.id), with_log=True)
            click.echo(jsonview.dumps(doc) if fmt == "json" else _task_text(doc))
            return 0
        try:
            wanted = normalize_status(status) if status else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--status'") from None
        tasks, total = store.list_tasks(deployment=deployment, environment=environment, target=target,
                                        status=wanted, page=page, per_page=per_page)
        pages = max(1, math.ceil(total / per_page))
        if fmt == "json":
            docs = [view.task_json(t, store.attempts(t.id), store.traces(t.id)) for t in tasks]
            click.echo(jsonview.dumps({"tasks": docs, "page": page, "pages": pages, "total": total}))
        else:
            traces = {t.id: store.traces(t.id) for t in tasks}
            view.render(tasks, page, pages, total, wide_console(), traces)
    finally:
        store.close()
    return 0


def wide_console():
    """A console that does not squeeze tables to 80 columns when output is piped."""
    import sys

    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def _task_text(doc: dict) -> str:
    lines = [f"task {doc['id']}: {doc['operation']} {doc['target']} {doc['version']} — {doc['status']}"]
    for key in ("actor", "reason", "message", "revision", "externalId", "createdAt", "startedAt", "finishedAt"):
        if doc.get(key):
            lines.append(f"  {key}: {doc[key]}")
    for k, (a, b) in doc.get("diff", {}).items():
        lines.append(f"  diff {k}: {a!r} → {b!r}")
    for a in doc.get("attempts", []):
        lines.append(f"  attempt {a['attempt']}: {a['status']} {a['message']}".rstrip())
    for t in doc.get("traces", []):
        lines.append(f"  trace {t['step']}: {t['status']} {t['message']}".rstrip())
    for path, digest in sorted((doc.get("artifacts") or {}).items()):
        lines.append(f"  artifact {path}: sha256 {digest}")
    if doc.get("log"):
        cut = f" ({doc['logTruncated']} bytes cut)" if doc.get("logTruncated") else ""
        lines.append(f"  log{cut}:")
        lines.extend("    " + line for line in doc["log"].splitlines())
    return "\n".join(lines)

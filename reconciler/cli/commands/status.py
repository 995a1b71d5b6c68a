"""``reconciler status``: what is deployed where, as a deployment × environment matrix."""

from __future__ import annotations

from collections import defaultdict

import click

from reconciler.cli import clock, options
from reconciler.cli.views import jsonview


@click.command()
@options.directory
@options.state
@options.at
@options.output_format("text", "json")
def status(directory, state_url, at, fmt) -> int:
    """What is deployed where, what should be, and what holds it back."""
    from reconciler.engine.session import open_session
    from reconciler.engine.status import status_rows

    session = open_session(directory, None, state_url, readonly=True)
    try:
        rows = status_rows(session, clock.clock_for(clock.parse_at(at))())
    finally:
        session.close()
    if fmt == "json":
        click.echo(jsonview.dumps(rows))
    else:
        _matrix(rows)
    return 0


def cell(rows: list[dict]) -> str:
    current = sorted({r["currentVersion"] or "-" for r in rows})
    states: dict[str, int] = defaultdict(int)
    for r in rows:
        states[r["state"].split(" (")[0]] += 1
    desired = sorted({r["desiredVersion"] for r in rows if r["desiredVersion"] and r["state"] != "in sync"})
    text = ",".join(current)
    if desired and desired != current:
        text += " → " + ",".join(desired)
    detail = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    return f"{text} [{detail}]"


def _matrix(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    envs = sorted({r["environment"] for r in rows})
    deps = sorted({r["deployment"] for r in rows})
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("DEPLOYMENT")
    for env in envs:
        table.add_column(env.upper(), overflow="fold")
    for dep in deps:
        cells = []
        for env in envs:
            matched = [r for r in rows if r["deployment"] == dep and r["environment"] == env]
            cells.append(cell(matched) if matched else "")
        table.add_row(dep, *cells)
    console = Console(highlight=False)
    if not rows:
        console.print("No release targets.")
        return
    console.print(table)
    for r in rows:
        if r["state"] not in ("in sync",) and r.get("message"):
            console.print(f"  [dim]{r['target']}: {r['state']} — {r['message']}[/]")

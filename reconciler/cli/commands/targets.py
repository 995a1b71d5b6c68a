"""``reconciler targets``: every release target (deployment × environment × resource)."""

from __future__ import annotations

import click

from reconciler.cli import options
from reconciler.cli.views import jsonview


@click.command()
@options.directory
@options.ref
@options.output_format("text", "json")
def targets(directory: str, ref: str | None, fmt: str) -> int:
    """List every release target, sorted by key."""
    from reconciler.engine.workspace import open_workspace
    from reconciler.planning.targets import compute_targets

    ws = open_workspace(directory, ref)
    catalog = ws.catalog
    keys = compute_targets(catalog)
    rows = [
        {"key": str(k), "deployment": k.deployment, "environment": k.environment, "resource": k.resource,
         "system": catalog.deployments[k.deployment].system}
        for k in keys
    ]
    if fmt == "json":
        click.echo(jsonview.dumps(rows))
        return 0
    for row in rows:
        click.echo(row["key"])
    click.echo(f"{len(rows)} release target{'s' if len(rows) != 1 else ''}", err=True)
    return 0

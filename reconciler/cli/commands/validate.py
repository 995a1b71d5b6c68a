"""``reconciler validate``: check desired state and report every error with file:line:column."""

from __future__ import annotations

import os

import click

from reconciler.cli import options
from reconciler.cli.views import diagnostics as view
from reconciler.cli.views.plan_text import short_revision


@click.command()
@options.directory
@options.ref
@options.output_format("text", "json", "github")
def validate(directory: str, ref: str | None, fmt: str) -> int:
    """Check desired state. Exit 0 when valid, 1 when not."""
    from reconciler.engine.workspace import open_workspace

    ws = open_workspace(directory, ref, strict=False)
    diags = list(ws.diagnostics)
    if not any(d.severity == "error" for d in diags):  # then every job config template must render
        diags.extend(_template_errors(ws))
    errors = [d for d in diags if d.severity == "error"]
    if fmt == "json":
        click.echo(view.to_json(diags))
    elif fmt == "github":
        prefix = _repo_prefix(ws)
        if diags:
            click.echo(view.github(diags, prefix))
    else:
        if diags:
            view.print_text(diags)
        if not errors:
            cat = ws.loaded.catalog
            assert cat is not None
            click.echo(f"valid: {len(cat.deployments)} deployments, {len(cat.environments)} environments, "
                       f"{len(cat.resources)} resources, {sum(map(len, cat.versions.values()))} versions, "
                       f"{len(cat.policies)} policies ({short_revision(cat.revision)})")
    return 1 if errors else 0


def _template_errors(ws) -> list:
    from datetime import UTC, datetime

    from reconciler.engine.planner import template_diagnostics
    from reconciler.planning.templatecheck import check_templates
    from reconciler.rendering.sandbox import render_value

    return template_diagnostics(ws, check_templates(ws.catalog, datetime.now(UTC), render_value))


def _repo_prefix(ws) -> str:
    """Paths in annotations are relative to the repository root, so GitHub can place them."""
    source = ws.loaded.source
    if source.git_root is None:
        return ""
    rel = os.path.relpath(source.root, source.git_root)
    return "" if rel == "." else rel.replace(os.sep, "/") + "/"

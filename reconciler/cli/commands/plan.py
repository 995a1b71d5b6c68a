"""``reconciler plan``: what a reconcile would do, and why. Never runs an agent, never writes state."""

from __future__ import annotations

import sys

import click

from reconciler.cli import clock, options
from reconciler.cli.views import jsonview


@click.command()
@options.directory
@options.ref
@options.state
@options.at
@options.output_format("text", "markdown", "json")
@click.option("--out", "out", default=None, metavar="FILE", help="Also write the plan to FILE (in --format).")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 2 changes, 3 only blocked, 1 error.")
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Only plan these release targets.")
@click.option("--prune", is_flag=True, default=None, help="Plan uninstalls of targets that no longer exist.")
@click.option("--base", "base", default=None, metavar="REV", help="Show only what changes between the plan of REV "
              "and this revision (a pull request's effect).")
def plan(directory, ref, state_url, at, fmt, out, detailed_exitcode, targets, prune, base) -> int:
    """Show what a reconcile would do, and why (dry run)."""
    from reconciler.engine.planner import make_plan
    from reconciler.engine.session import open_session

    when = clock.parse_at(at)
    if base is not None:
        return _pr_plan(directory, ref, state_url, when, fmt, out, base, prune, detailed_exitcode)
    session = open_session(directory, ref, state_url, readonly=True)
    try:
        result = make_plan(session, clock.clock_for(when)(), only=targets or None, prune=prune)
    finally:
        session.close()
    if fmt == "json":  # tens of MB for a large plan: written piece by piece, never joined into one string
        doc = result.plan.to_json(encoded=True)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                jsonview.write(doc, handle)
        jsonview.write(doc, sys.stdout)  # (ASCII: click.echo would scan it for ANSI codes)
        sys.stdout.write("\n")
        sys.stdout.flush()
        return result.plan.exit_code() if detailed_exitcode else 0
    text = render(result.plan, fmt)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text if fmt != "text" else _plain(result.plan))
    if fmt == "text":
        from rich.console import Console

        from reconciler.cli.views import plan_text

        plan_text.render(result.plan, Console(highlight=False, soft_wrap=True))
    else:
        click.echo(text)
    return result.plan.exit_code() if detailed_exitcode else 0


def _pr_plan(directory, ref, state_url, when, fmt, out, base, prune, detailed_exitcode) -> int:
    from reconciler.cli.views import prdiff as view
    from reconciler.engine.prdiff import plan_diff
    from reconciler.engine.session import open_session

    session = open_session(directory, ref, state_url, readonly=True)
    try:
        diff = plan_diff(session, base, clock.clock_for(when)(), prune=prune)
    finally:
        session.close()
    if fmt == "json":
        text = jsonview.dumps(diff.to_json())
    elif fmt == "markdown":
        text = view.markdown(diff)
    else:
        text = view.text(diff)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    click.echo(text)
    return (2 if diff.entries else 0) if detailed_exitcode else 0


def render(plan, fmt: str) -> str:
    """The markdown view (JSON is written by ``jsonview.write``; text by ``plan_text``)."""
    if fmt == "markdown":
        from reconciler.cli.views import plan_markdown

        return plan_markdown.render(plan)
    return ""


def _plain(plan) -> str:
    import io

    from rich.console import Console

    from reconciler.cli.views import plan_text

    buffer = io.StringIO()
    plan_text.render(plan, Console(file=buffer, no_color=True, width=200, soft_wrap=True))
    return buffer.getvalue()


__all__ = ["plan", "sys"]

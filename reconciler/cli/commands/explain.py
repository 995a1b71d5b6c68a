"""``reconciler explain KEY``: every candidate version of a target and each rule's verdict."""

from __future__ import annotations

import click

from reconciler.cli import clock, options
from reconciler.cli.views import jsonview


@click.command()
@click.argument("target")
@options.directory
@options.ref
@options.state
@options.at
@options.output_format("text", "json")
def explain(target, directory, ref, state_url, at, fmt) -> int:
    """Explain the decision for one release target (deployment/environment/resource)."""
    from reconciler.engine.explain import explain as do_explain
    from reconciler.engine.session import open_session

    session = open_session(directory, ref, state_url, readonly=True)
    try:
        result = do_explain(session, target, clock.clock_for(clock.parse_at(at))())
    finally:
        session.close()
    if fmt == "json":
        click.echo(jsonview.dumps(result.to_json()))
        return 0
    click.echo(f"{result.target}: runs {result.current or 'nothing'}; {result.outcome}")
    for cand in result.candidates:
        click.echo(f"  {cand['version']} [{cand['status']}, created {cand['createdAt']}]: {cand['verdict']}")
        for rule in cand.get("rules", []):
            mark = {"allow": "✓", "pending": "…", "deny": "✗"}[rule["verdict"]]
            nxt = f" (next {rule['nextEvaluation']})" if rule["nextEvaluation"] else ""
            click.echo(f"      {mark} {rule['policy']}/{rule['rule']}: {rule['message']}{nxt}")
    return 0

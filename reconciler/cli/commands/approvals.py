"""``reconciler approve`` and ``reconciler reject``: one vote per actor per version × environment."""

from __future__ import annotations

import click

from reconciler.cli import clock, options


def _vote_options(f):
    f = click.option("--reason", default="", help="Why (recorded in history).")(f)
    f = click.option("--environment", "environment", required=True, metavar="ENV")(f)
    f = click.option("--version", "version", required=True, metavar="TAG")(f)
    f = click.option("--deployment", "deployment", required=True, metavar="NAME")(f)
    f = options.actor(f)
    f = options.state(f)
    f = options.directory(f)
    return click.option("--at", "at", default=None, hidden=True)(f)


def _vote(status: str, directory, state_url, actor, deployment, version, environment, reason, at) -> int:
    from reconciler.engine.identity import resolve_actor
    from reconciler.engine.operations import record_vote
    from reconciler.engine.session import open_session

    session = open_session(directory, None, state_url)
    try:
        who = resolve_actor(actor)
        record_vote(session, deployment, version, environment, who, status, reason,
                    clock.clock_for(clock.parse_at(at))())
    finally:
        session.close()
    verb = "approved" if status == "approved" else "rejected"
    click.echo(f"{who.name} {verb} {deployment} {version} in {environment}")
    return 0


@click.command()
@_vote_options
def approve(directory, state_url, actor, deployment, version, environment, reason, at) -> int:
    """Approve a version of a deployment in an environment."""
    return _vote("approved", directory, state_url, actor, deployment, version, environment, reason, at)


@click.command()
@_vote_options
def reject(directory, state_url, actor, deployment, version, environment, reason, at) -> int:
    """Reject a version in an environment; it will not deploy there."""
    return _vote("rejected", directory, state_url, actor, deployment, version, environment, reason, at)

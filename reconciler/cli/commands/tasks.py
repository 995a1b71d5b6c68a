"""Task commands: ``cancel``, ``redeploy``, and ``task update``/``task trace`` for agents outside."""

from __future__ import annotations

import click

from reconciler.cli import clock, options


@click.command()
@click.argument("task_id")
@options.directory
@options.state
@options.actor
def cancel(task_id, directory, state_url, actor) -> int:
    """Cancel a pending task at once, or ask a running one to stop between phases."""
    from reconciler.engine.identity import resolve_actor
    from reconciler.engine.operations import cancel as do_cancel
    from reconciler.engine.session import open_session

    session = open_session(directory, None, state_url)
    try:
        task, outcome = do_cancel(session, task_id, resolve_actor(actor), clock.clock_for(None)())
    finally:
        session.close()
    if outcome == "canceled":
        click.echo(f"canceled task {task.id} ({task.operation} {task.target})")
    else:
        click.echo(f"task {task.id} is {task.status}; cancel requested, it stops between phases "
                   "(work already done is not undone)")
    return 0


@click.command()
@click.argument("target")
@options.directory
@options.state
@options.actor
def redeploy(target, directory, state_url, actor) -> int:
    """Queue a new task for TARGET's current release; the next apply runs it."""
    from reconciler.engine.identity import resolve_actor
    from reconciler.engine.operations import redeploy as do_redeploy
    from reconciler.engine.session import open_session

    session = open_session(directory, None, state_url)
    try:
        task = do_redeploy(session, target, resolve_actor(actor), clock.clock_for(None)())
    finally:
        session.close()
    click.echo(f"queued task {task.id}: reinstall {target} {task.version}; it runs on the next 'reconciler apply'")
    return 0


@click.group()
def task() -> None:
    """Report on a task from outside (GitHub Actions steps, scripts, pull agents)."""

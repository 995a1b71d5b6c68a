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


@task.command("update")
@click.argument("task_id")
@click.option("--status", default=None, help="pending, in_progress, done, failed, canceled, skipped (or Ctrlplane's names).")
@click.option("--message", default=None)
@click.option("--external-id", default=None)
@options.directory
@options.state
def task_update(task_id, status, message, external_id, directory, state_url) -> int:
    """Report a task's status, message or external id (e.g. from a GitHub Actions step)."""
    from reconciler.engine.history import open_history_writable
    from reconciler.engine.operations import report

    session = open_history_writable(directory, state_url)
    try:
        task = report(session, task_id, status, message, external_id, clock.clock_for(None)())
    finally:
        session.close()
    click.echo(f"task {task.id}: {task.status}")
    return 0


TRACE_STATUSES = ("started", "in_progress", "completed", "failed", "skipped")


@task.command("trace")
@click.argument("task_id")
@click.argument("step")
@click.argument("status", type=click.Choice(TRACE_STATUSES))
@click.option("--message", default="")
@options.directory
@options.state
def task_trace(task_id, step, status, message, directory, state_url) -> int:
    """Record a fine-grained step of a task (the seed's trace API); shown in history."""
    from reconciler.engine.history import open_history_writable

    session = open_history_writable(directory, state_url)
    try:
        task = session.store.get_task(task_id)
        seq = session.store.add_trace(task.id, step, status, message, clock.clock_for(None)())
    finally:
        session.close()
    click.echo(f"task {task.id}: trace {seq} {step} {status}")
    return 0

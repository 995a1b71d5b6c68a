"""``reconciler apply``: plan, execute through job agents, record every task as history."""

from __future__ import annotations

import click

from reconciler.cli import clock, options


@click.command()
@options.directory
@options.ref
@options.state
@options.actor
@click.option("--max-parallel", type=click.IntRange(1, 256), default=None, help="Tasks run at once (default from "
              "reconciler.yaml, 4).")
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Only these release targets.")
@click.option("--prune", is_flag=True, default=None, help="Uninstall targets that no longer exist.")
@click.option("--lock-timeout", type=float, default=None, metavar="S", help="Seconds to wait for the workspace lock.")
@click.option("--at", "at", default=None, metavar="ISO8601", hidden=True, help="Pretend it is this time (tests).")
def apply(directory, ref, state_url, actor, max_parallel, targets, prune, lock_timeout, at) -> int:
    """Plan, then execute the plan through job agents and record every task."""
    from rich.console import Console

    from reconciler.cli.views.progress import ProgressView
    from reconciler.engine.apply import Applier
    from reconciler.engine.identity import resolve_actor
    from reconciler.engine.session import open_session

    console = Console(highlight=False, soft_wrap=True)
    session = open_session(directory, ref, state_url)
    try:
        if targets:  # a mistyped --target fails before anything is locked or written
            from reconciler.engine.planner import check_targets
            from reconciler.planning.targets import TargetSource

            check_targets(session, TargetSource(session.catalog), targets)
        applier = Applier(session, resolve_actor(actor), clock.clock_for(clock.parse_at(at)), ProgressView(console),
                          max_parallel, lock_timeout)
        result = applier.run(only=targets or None, prune=prune)
    finally:
        session.close()
    failed = result.failed
    if failed:
        console.print(f"[red]{len(failed)} task{'s' if len(failed) != 1 else ''} did not succeed:[/] "
                      f"{', '.join(failed)} (see 'reconciler history')")
        return 1
    if result.tasks:
        console.print(summary(result.tasks))
    return 0


def summary(tasks: dict[str, str]) -> str:
    """``3 tasks succeeded; 2 still running (asynchronous agents: the next apply checks them)``."""
    from reconciler.models import statuses

    def n(count: int, what: str) -> str:
        return f"{count} {what}{'s' if count != 1 else ''}"

    done = sum(1 for s in tasks.values() if s == statuses.DONE)
    running = sum(1 for s in tasks.values() if s in statuses.RUNNING)
    waiting = sum(1 for s in tasks.values() if s == statuses.PENDING)
    parts = [f"[green]{n(done, 'task')} succeeded[/]"] if done else []
    if running:
        parts.append(f"[blue]{n(running, 'task')} still running[/] (asynchronous agents: the next apply checks them)")
    if waiting:
        parts.append(f"{n(waiting, 'task')} waiting for the next apply")
    return "; ".join(parts) + "."

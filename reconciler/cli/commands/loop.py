"""``reconciler run`` (scheduled or continuous reconcile) and ``reconciler watch``."""

from __future__ import annotations

import signal

import click

from reconciler.cli import clock, options


@click.command()
@options.directory
@options.state
@options.actor
@click.option("--interval", default="5m", show_default=True, help="Longest sleep between passes.")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or CI schedules).")
@click.option("--pull", is_flag=True, help="git pull --ff-only before each pass.")
@click.option("--max-parallel", type=click.IntRange(1, 256), default=None)
@click.option("--lock-timeout", type=float, default=None, metavar="S", help="Seconds to wait for the workspace lock.")
def run(directory, state_url, actor, interval, once, pull, max_parallel, lock_timeout) -> int:
    """Reconcile in a loop; SIGTERM stops cleanly, handing a running task back."""
    from rich.console import Console

    from reconciler.cli.views.progress import ProgressView
    from reconciler.engine.identity import resolve_actor
    from reconciler.engine.loop import Loop
    from reconciler.models.common import parse_duration

    loop = Loop(directory, state_url, resolve_actor(actor), clock.clock_for(None),
                ProgressView(Console(highlight=False, soft_wrap=True)), parse_duration(interval), pull, max_parallel,
                lock_timeout=lock_timeout)

    def stop(signum, _frame):
        loop.hooks.stage(f"Received {signal.Signals(signum).name}: finishing up (running tasks are handed back)")
        loop.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return loop.run(once=once)


@click.command()
@options.directory
@options.state
@click.option("--apply", "do_apply", is_flag=True, help="Apply after each successful plan (off by default).")
@click.option("--debounce", default=500, show_default=True, help="Milliseconds to wait for more changes.")
def watch(directory, state_url, do_apply, debounce) -> int:
    """Re-validate and re-plan on every change; show how the plan changed."""
    from rich.console import Console

    from reconciler.cli.views.progress import ProgressView
    from reconciler.engine.watch import watch_loop

    hooks = ProgressView(Console(highlight=False, soft_wrap=True)) if do_apply else None
    return watch_loop(directory, state_url, do_apply, debounce, click.echo, hooks=hooks)

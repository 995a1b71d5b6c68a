"""``reconciler rollback KEY [--to V]`` and ``reconciler release-hold KEY``."""

from __future__ import annotations

import click

from reconciler.cli import clock, options


@click.command()
@click.argument("target")
@click.option("--to", "to_version", default=None, metavar="VERSION", help="Roll back to this version "
              "(default: the previous successful release).")
@options.directory
@options.state
@options.actor
def rollback(target, to_version, directory, state_url, actor) -> int:
    """Queue a rollback of TARGET to an earlier successful release and hold the current version off it."""
    from reconciler.engine import rollback as rb
    from reconciler.engine.apply import new_task_id
    from reconciler.engine.history import open_history_writable
    from reconciler.engine.identity import resolve_actor

    session = open_history_writable(directory, state_url)
    try:
        task = rb.manual(session.store, target, to_version, resolve_actor(actor), clock.clock_for(None)(),
                         new_task_id())
        held = sorted({h.version for h in session.store.holds() if h.target == target} - {task.version})
    finally:
        session.close()
    click.echo(f"queued rollback task {task.id}: {target} {task.from_version} → {task.version}; it runs on the next "
               f"'reconciler apply'. {', '.join(held)} {'is' if len(held) == 1 else 'are'} held off {target} until "
               f"'reconciler release-hold {target}'; to keep every newer version off, pin {task.version} "
               f"('reconciler pin').")
    return 0


@click.command("release-hold")
@click.argument("target")
@options.directory
@options.state
def release_hold(target, directory, state_url) -> int:
    """Lift the holds that keep failed versions off TARGET."""
    from reconciler.engine import rollback as rb
    from reconciler.engine.history import open_history_writable

    session = open_history_writable(directory, state_url)
    try:
        if target not in session.store.target_states(details=False) and not any(
                h.target == target for h in session.store.holds()):
            raise click.BadParameter(f"{target!r} is not a recorded release target (see 'reconciler status')",
                                     param_hint="TARGET")
        count = rb.release_holds(session.store, target)
    finally:
        session.close()
    click.echo(f"released {count} hold{'s' if count != 1 else ''} on {target}" if count else f"no holds on {target}")
    return 0

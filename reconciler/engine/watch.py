"""``watch``: re-validate and re-plan on every change, printing the plan's difference to the last one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reconciler.engine.hooks import Hooks
from reconciler.engine.planner import make_plan
from reconciler.engine.prdiff import Outcome, outcomes
from reconciler.engine.session import open_session
from reconciler.errors import ConfigError, ReconcilerError


def describe_changes(old: dict[str, Outcome], new: dict[str, Outcome]) -> list[str]:
    lines = []
    for target in sorted(set(old) | set(new)):
        a, b = old.get(target, Outcome("unchanged")), new.get(target, Outcome("unchanged"))
        if a != b:
            lines.append(f"  {target}: {a.label()} → {b.label()}")
    return lines


def plan_once(directory: str, state_url: str | None) -> dict[str, Outcome]:
    session = open_session(directory, None, state_url, readonly=True)
    try:
        plan = make_plan(session, datetime.now(UTC)).plan
        return outcomes(plan, plan.targets)
    finally:
        session.close()


def watch_loop(directory: str, state_url: str | None, apply: bool, debounce: int, echo: Callable[[str], None],
               changes=None, hooks: Hooks | None = None) -> int:
    """Plan now, then again after every batch of file changes. ``changes`` replaces watchfiles in
    tests; ``hooks`` show the tasks of ``--apply`` as they run."""
    import watchfiles

    previous: dict[str, Outcome] = {}
    root = Path(directory).resolve()

    def step() -> None:
        nonlocal previous
        try:
            current = plan_once(directory, state_url)
        except ConfigError as exc:
            echo("invalid desired state (nothing planned):")
            for diag in exc.diagnostics:
                echo(f"  {diag.format()}")
            return
        except ReconcilerError as exc:
            echo(f"error: {exc}")
            return
        diff = describe_changes(previous, current)
        echo(f"plan: {len(current)} targets with work; {len(diff)} changed since the last plan")
        for line in diff:
            echo(line)
        previous = current
        if apply and current:
            from reconciler.engine.apply import Applier
            from reconciler.engine.identity import resolve_actor

            session = open_session(directory, None, state_url)
            try:
                result = Applier(session, resolve_actor(None), lambda: datetime.now(UTC), hooks or Hooks()).run()
            except ReconcilerError as exc:
                echo(f"apply failed: {exc}")
                return
            finally:
                session.close()
            counts = Counter(result.tasks.values())
            echo(f"applied: {len(result.tasks)} tasks" + (f" ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})"
                                                          if counts else ""))

    step()
    source = changes if changes is not None else watchfiles.watch(
        root, debounce=debounce, watch_filter=lambda _c, path: ".reconciler" not in Path(path).parts)
    for _batch in source:
        step()
    return 0

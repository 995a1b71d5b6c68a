"""``watch``: re-validate and re-plan on every change, printing the plan's difference to the last one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.engine import plancache
from reconciler.engine.hooks import Hooks
from reconciler.engine.planner import make_plan
from reconciler.engine.prdiff import Outcome, outcomes
from reconciler.engine.session import open_session
from reconciler.errors import ConfigError, ReconcilerError


Snapshot = dict[str, tuple[Any, dict[str, Outcome]]]  # deployment -> (its outcome, each target's)


def describe_changes(old: dict[str, Outcome], new: dict[str, Outcome]) -> list[str]:
    lines = []
    for target in sorted(set(old) | set(new)):
        a, b = old.get(target, Outcome("unchanged")), new.get(target, Outcome("unchanged"))
        if a != b:
            lines.append(f"  {target}: {a.label()} → {b.label()}")
    return lines


def plan_once(directory: str, state_url: str | None, previous: Snapshot | None = None) -> Snapshot:
    """Each deployment's outcome and its targets' outcomes. A deployment whose outcome is the very
    one of ``previous`` (reused from the plan cache: its inputs did not change) keeps its targets'
    outcomes without reading its entries again, so a re-plan after one edit reads only what was
    planned again (a few thousand targets, not every target of a large fleet)."""
    session = open_session(directory, None, state_url, readonly=True)
    try:
        result = make_plan(session, datetime.now(UTC))
    finally:
        session.close()
    previous = previous or {}
    out: Snapshot = {}
    for name, outcome in result.every.items():
        before = previous.get(name)
        out[name] = before if before is not None and before[0] is outcome else (outcome, outcomes(outcome))
    return out


def snapshot_changes(old: Snapshot, new: Snapshot) -> list[str]:
    """``describe_changes`` of the deployments whose outcome is not the same object as before."""
    lines = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None or b is None or a[0] is not b[0]:
            lines.extend(describe_changes(a[1] if a else {}, b[1] if b else {}))
    return lines


def watch_loop(directory: str, state_url: str | None, apply: bool, debounce: int, echo: Callable[[str], None],
               changes=None, hooks: Hooks | None = None) -> int:
    """Plan now, then again after every batch of file changes. ``changes`` replaces watchfiles in
    tests; ``hooks`` show the tasks of ``--apply`` as they run."""
    import watchfiles

    previous: Snapshot = {}
    root = Path(directory).resolve()

    def show() -> int | None:
        """Plan and print how the plan changed; the number of targets with work (None: no plan)."""
        nonlocal previous
        try:
            current = plan_once(directory, state_url, previous)
        except ConfigError as exc:
            echo("invalid desired state (nothing planned):")
            for diag in exc.diagnostics:
                echo(f"  {diag.format()}")
            return None
        except ReconcilerError as exc:
            echo(f"error: {exc}")
            return None
        diff = snapshot_changes(previous, current)
        work = sum(len(targets) for _outcome, targets in current.values())
        echo(f"plan: {work} targets with work; {len(diff)} changed since the last plan")
        for line in diff:
            echo(line)
        previous = current
        return work

    def step() -> None:
        with plancache.writes_held():  # the plan is printed before the plan cache is written
            work = show()
        if apply and work:
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

"""A reconcile pass on PostgreSQL, shared with other processes deployment by deployment.

The pass plans once to find the deployments with work, then claims one of them at a time
(``engine.leases``), settles, plans, records and executes its work exactly as a workspace-wide
pass would (``Applier._locked`` with a scope), gives the lease back and claims the next, until no
free deployment with work is left. Deployments other processes hold are waited for, up to the lock timeout; then a pass that did
work leaves them to their holders, and one that could do nothing fails naming the holder (exit 3),
as the workspace lock does.
Claiming one at a time balances the work: a process that finishes early simply claims more. The
plan cache makes the repeated plans cheap: only the claimed deployment is planned anew. The result
merges every round.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconciler.engine.leases import DeploymentLeases
from reconciler.errors import LockError
from reconciler.planning.plan import Plan

if TYPE_CHECKING:
    from reconciler.engine.apply import Applier, ApplyResult


def run_sharded(applier: Applier, owner: str, only: Iterable[str] | None, prune: bool | None,
                timeout: float) -> ApplyResult:
    from reconciler.engine.apply import ApplyResult

    store, catalog = applier.session.store, applier.session.catalog
    wanted = set(only) if only else None
    # recorded first, so that the plan of each claimed deployment finds the outcome this first plan
    # cached still valid (recording them later would change the epochs it was keyed by)
    store.record_seen([(v.deployment, v.tag) for vs in catalog.versions.values() for v in vs], applier.clock())
    candidates, seen = with_work(applier, wanted, prune)
    applier.hooks.stage(f"Leasing the deployments of {catalog.config.workspace} one at a time")
    rounds: list[ApplyResult] = []
    done: set[str] = set()
    deadline = time.monotonic() + timeout
    with DeploymentLeases(store, owner) as held:
        while not applier.stop.is_set():
            if held.lost.is_set():
                applier.hooks.note("a deployment lease could not be renewed in time; stopping this pass")
                applier.stop.set()
                break
            remaining = [d for d in candidates if d not in done]
            claimed = held.claim(remaining, limit=1)
            if not claimed:
                if not remaining or not _wait(applier, held, remaining, deadline, timeout, bool(rounds)):
                    break
                continue
            done.update(claimed)
            try:
                rounds.append(applier._locked(wanted, prune, set(claimed)))
            finally:
                held.release(claimed)
    plan = merge([r.plan for r in rounds]) if rounds else seen  # nothing done here: what the pass saw
    return ApplyResult(plan, {task: status for r in rounds for task, status in r.tasks.items()})


def _wait(applier: Applier, held: DeploymentLeases, remaining: list[str], deadline: float, timeout: float,
          worked: bool) -> bool:
    """Every deployment left is leased by other processes: wait for them (True: try again) until the
    lock timeout. Then a pass that did some work leaves the rest to them; one that did none fails
    naming the holder, as a workspace lock would."""
    if time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        return True
    holders = held.holders(remaining)
    if not holders:
        return True  # released meanwhile
    names = ", ".join(d for d, _ in holders[:5]) + (f" and {len(holders) - 5} more" if len(holders) > 5 else "")
    if worked:
        applier.hooks.note(f"left {names} to {holders[0][1].describe()}, which leases them")
        return False
    raise LockError(f"deployments {names} of workspace {applier.session.store.workspace!r} are leased by "
                    f"{holders[0][1].describe()}; waited {timeout:g}s (raise --lock-timeout to wait longer)",
                    holders[0][1].owner)


def with_work(applier: Applier, wanted: set[str] | None, prune: bool | None) -> tuple[list[str], Plan]:
    """Deployments that have something to do: planned changes, or tasks not finished (queued
    requests, work a dead run left, asynchronous tasks to poll). Only these are claimed; each is
    planned again once claimed, since another process may have done the work meanwhile."""
    from reconciler.engine.planner import make_plan

    plan = make_plan(applier.session, applier.clock(), only=wanted, prune=prune).plan
    names = {c.key.deployment for c in plan.changes}
    names |= {t.deployment for t in applier.session.store.active_tasks()}
    if wanted is not None:
        names = {d for d in names if any(k.split("/", 1)[0] == d for k in wanted)}
    return sorted(names), plan


def merge(plans: list[Plan]) -> Plan:
    """One plan of several rounds, each restricted to other deployments."""
    first = plans[0]
    out = Plan(first.workspace, first.revision, first.at, notes=list(first.notes))
    for plan in plans:
        out.changes.extend(plan.changes)
        out.blocked.extend(plan.blocked)
        out.orphaned.extend(plan.orphaned)
        out.in_flight.extend(plan.in_flight)
        out.unchanged += plan.unchanged
        out.targets += plan.targets
    out.changes.sort(key=lambda c: str(c.key))
    out.blocked.sort(key=lambda b: str(b.key))
    return out

"""A reconcile pass on PostgreSQL, shared with other processes deployment by deployment.

The pass plans once to find the deployments with work, then claims one of them at a time
(``engine.leases``), settles, plans, records and executes its work exactly as a workspace-wide
pass would (``Applier._locked`` with a scope), gives the lease back and claims the next, until no
free deployment with work is left. Deployments other processes hold are theirs for this pass.
Claiming one at a time balances the work: a process that finishes early simply claims more. The
plan cache makes the repeated plans cheap: only the claimed deployment is planned anew. The result
merges every round.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconciler.engine.leases import DeploymentLeases
from reconciler.planning.plan import Plan

if TYPE_CHECKING:
    from reconciler.engine.apply import Applier, ApplyResult


def run_sharded(applier: Applier, owner: str, only: Iterable[str] | None, prune: bool | None) -> ApplyResult:
    from reconciler.engine.apply import ApplyResult

    store, catalog = applier.session.store, applier.session.catalog
    wanted = set(only) if only else None
    candidates, seen = with_work(applier, wanted, prune)
    applier.hooks.stage(f"Leasing the deployments of {catalog.config.workspace} one at a time")
    rounds: list[ApplyResult] = []
    done: set[str] = set()
    with DeploymentLeases(store, owner) as held:
        while not applier.stop.is_set():
            if held.lost.is_set():
                applier.hooks.note("a deployment lease could not be renewed in time; stopping this pass")
                applier.stop.set()
                break
            claimed = held.claim([d for d in candidates if d not in done], limit=1)
            if not claimed:
                break
            done.update(claimed)
            try:
                rounds.append(applier._locked(wanted, prune, set(claimed)))
            finally:
                held.release(claimed)
    plan = merge([r.plan for r in rounds]) if rounds else seen  # nothing done here: what the pass saw
    return ApplyResult(plan, {task: status for r in rounds for task, status in r.tasks.items()})


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

"""Recorded targets that are no longer release targets: a deployment, environment or resource
was removed, or a resource stopped matching the selectors. Each is followed while a task still
runs on it, becomes a ``recreate`` when the deployment installs on a new resource of the same
environment in the same plan (a move), an ``uninstall`` when pruning, and otherwise an orphan the
plan reports. Pure: values in, values out.
"""

from __future__ import annotations

from collections import defaultdict

from reconciler.models.catalog import Catalog
from reconciler.models.keys import TargetKey
from reconciler.planning.facts import states_of
from reconciler.planning.outcome import DeploymentOutcome
from reconciler.planning.plan import Change, InFlight, Orphan
from reconciler.planning.policies.index import PlanIndex


def plan_removed(index: PlanIndex, deployment: str, existing: set[str], wanted: set[str] | None,
                 outcome: DeploymentOutcome) -> None:
    """Recorded targets of ``deployment`` that are not release targets any more (not in
    ``existing``): still in flight, recreated on a new resource of the same environment (paired
    with an install there), uninstalled when pruning, else reported as orphaned."""
    facts, catalog = index.facts, index.catalog
    installs: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for change in outcome.changes:
        if change.operation == "install":
            installs[(change.key.deployment, change.key.environment)].append(change)
    for name, state in sorted(states_of(facts, deployment, index.memo).items()):
        if name in existing or (wanted is not None and name not in wanted):
            continue
        key = TargetKey.parse(name)
        if facts.active.get(name):
            task = facts.active[name][-1]
            outcome.removed_in_flight.append(InFlight(name, task.id, task.operation, task.status, task.version))
            continue
        why = _removal_reason(catalog, key)
        paired = installs.get((key.deployment, key.environment))
        if paired:
            new = paired.pop(0)
            outcome.changes.remove(new)
            outcome.changes.append(Change(new.key, "recreate", state.version, new.to_version,
                                          f"moved from {key.resource} to {new.key.resource} ({why})", new.diff,
                                          new.release, from_resource=key.resource))
        elif facts.prune:
            outcome.changes.append(Change(key, "uninstall", state.version, None, why))
        else:
            outcome.orphaned.append(Orphan(name, state.version, f"{why}; uninstall with --prune or prune: true"))


def _removal_reason(catalog: Catalog, key: TargetKey) -> str:
    dep = catalog.deployments.get(key.deployment)
    if dep is None:
        return f"deployment {key.deployment} was removed"
    if (dep.system, key.environment) not in catalog.environments:
        return f"environment {key.environment} was removed"
    if key.resource not in catalog.resources:
        return f"resource {key.resource} was removed"
    return f"{key.resource} no longer matches the selectors of {key.deployment} × {key.environment}"


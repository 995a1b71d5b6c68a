"""Facts: everything planning reads besides the desired state, gathered by the engine beforehand.

A plain value object. ``now`` is the injected clock; planning never reads the wall clock.
``states`` may be a lazy mapping that also offers ``of_deployment(name)`` and ``deployments()``,
so a plan that reuses most deployments from a cache reads only the states it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.models.records import (
    ApprovalRecord,
    HoldRecord,
    Outcome,
    ReleaseRecord,
    TargetState,
    TaskRecord,
)


@dataclass
class Facts:
    now: datetime
    states: Mapping[str, TargetState] = field(default_factory=dict)
    # The newest task of each target whose newest task did not succeed (retry decisions read it).
    latest: Mapping[str, TaskRecord] = field(default_factory=dict)
    active: Mapping[str, list[TaskRecord]] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    approvals: list[ApprovalRecord] = field(default_factory=list)
    holds: list[HoldRecord] = field(default_factory=list)
    first_seen: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    releases: Mapping[str, ReleaseRecord] = field(default_factory=dict)
    secret_digests: Mapping[str, str] = field(default_factory=dict)
    placement_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    template_digests: Mapping[str, str] = field(default_factory=dict)  # artifact template path -> sha256
    prune: bool = False
    # Lazy lookups for large fleets (read-only): when set they replace the eager fields above.
    state_detail: Callable[[str], TargetState | None] | None = None
    outcome_source: Callable[[str, str], list[Outcome]] | None = None  # (deployment, version)

    def state(self, target: str) -> TargetState | None:
        """The full state of ``target`` (``states`` may hold slim records without inputs)."""
        if self.state_detail is not None:
            return self.state_detail(target)
        return self.states.get(target)



def states_of(facts: Facts, deployment: str, memo: dict | None = None) -> Mapping[str, TargetState]:
    """The recorded states of one deployment's targets. A lazy ``states`` mapping (the engine's, for
    large fleets) serves them per deployment; a plain one is grouped once per ``memo``."""
    of_deployment = getattr(facts.states, "of_deployment", None)
    if callable(of_deployment):
        return of_deployment(deployment)
    memo = {} if memo is None else memo
    grouped = memo.get(("states-by-deployment",))
    if grouped is None:
        grouped = memo[("states-by-deployment",)] = {}
        for name, state in facts.states.items():
            grouped.setdefault(name.split("/", 1)[0], {})[name] = state
    return grouped.get(deployment, {})

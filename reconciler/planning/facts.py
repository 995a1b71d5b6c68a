"""Facts: everything planning reads besides the desired state, gathered by the engine beforehand.

A plain value object. ``now`` is the injected clock; planning never reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.models.records import ApprovalRecord, HoldRecord, Outcome, ReleaseRecord, TargetState, TaskRecord


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

"""What a pull request changes: plan the base and the head revision against the same recorded
state and the same clock, and compare each target's planned outcome.

Targets whose outcome is the same in both are counted, not listed, so a PR comment shows only
what this PR does: new installs or upgrades, newly blocked or unblocked targets, removals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.engine.planner import make_plan
from reconciler.engine.session import Session
from reconciler.engine.workspace import open_workspace
from reconciler.planning.plan import Plan, iso


@dataclass(frozen=True)
class Outcome:
    kind: str  # change | blocked | unchanged | orphaned | in-progress | absent
    operation: str = ""
    version: str = ""
    detail: str = ""
    next_evaluation: datetime | None = None

    def label(self) -> str:
        if self.kind == "change":
            return f"{self.operation} {self.version}".strip()
        if self.kind == "blocked":
            return f"blocked {self.version}"
        return self.kind


@dataclass
class PlanDiff:
    base: str
    head: str
    at: datetime
    entries: list[tuple[str, Outcome, Outcome]] = field(default_factory=list)
    unaffected: int = 0
    head_plan: Plan | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base, "head": self.head, "at": iso(self.at), "unaffected": self.unaffected,
            "changes": [{"target": t, "base": _outcome_json(b), "head": _outcome_json(h)} for t, b, h in self.entries],
        }


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {"kind": o.kind, "operation": o.operation or None, "version": o.version or None,
            "detail": o.detail, "nextEvaluation": iso(o.next_evaluation)}


def outcomes(plan: Plan | Any) -> dict[str, Outcome]:
    """Each target's outcome in a plan, or in one deployment's outcome (``DeploymentOutcome``)."""
    out: dict[str, Outcome] = {}
    for c in plan.changes:
        out[str(c.key)] = Outcome("change", c.operation, c.to_version or c.from_version or "", c.reason)
    for b in plan.blocked:
        out[str(b.key)] = Outcome("blocked", "", b.version, f"{b.policy}/{b.rule}: {b.message}", b.next_evaluation)
    for o in plan.orphaned:
        out[o.target] = Outcome("orphaned", "", o.version, o.reason)
    for f in [*plan.in_flight, *getattr(plan, "removed_in_flight", ())]:
        out[f.target] = Outcome("in-progress", f.operation, f.version, f"task {f.task_id}")
    return out


def plan_diff(session: Session, base_ref: str, now: datetime, *, prune: bool | None = None) -> PlanDiff:
    """Compare the plans of ``base_ref`` and the session's own revision (the head)."""
    head = make_plan(session, now, prune=prune).plan
    base_session = Session(open_workspace(str(session.root), base_ref), session.store, session.url, session.root,
                           session.readonly)
    base = make_plan(base_session, now, prune=prune).plan
    head_out, base_out = outcomes(head), outcomes(base)
    head_all = _all_targets(session) | set(head_out)
    base_all = _all_targets(base_session) | set(base_out)
    diff = PlanDiff(base.revision, head.revision, now, head_plan=head)
    for target in sorted(head_all | base_all):
        b = base_out.get(target, Outcome("unchanged" if target in base_all else "absent"))
        h = head_out.get(target, Outcome("unchanged" if target in head_all else "absent"))
        if (b.kind, b.operation, b.version, b.detail if b.kind == "blocked" else "") == \
                (h.kind, h.operation, h.version, h.detail if h.kind == "blocked" else ""):
            diff.unaffected += 1
        else:
            diff.entries.append((target, b, h))
    return diff


def _all_targets(session: Session) -> set[str]:
    from reconciler.planning.targets import compute_targets

    return {str(k) for k in compute_targets(session.catalog)}

"""``explain``: for one release target, every candidate version and each rule's verdict on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.engine.session import Session, gather_facts
from reconciler.errors import NotFoundError
from reconciler.models.keys import TargetKey
from reconciler.planning import decide
from reconciler.planning.build import build_plan
from reconciler.planning.plan import iso
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.targets import compute_targets
from reconciler.rendering.sandbox import render_value


@dataclass
class Explanation:
    target: str
    current: str | None
    desired: str | None
    outcome: str
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "currentVersion": self.current, "desiredVersion": self.desired,
                "outcome": self.outcome, "candidates": self.candidates}


def explain(session: Session, target: str, now: datetime) -> Explanation:
    key = TargetKey.parse(target)
    catalog = session.catalog
    keys = compute_targets(catalog)
    if key not in keys:
        raise NotFoundError(f"{target} is not a release target; list them with 'reconciler targets'")
    facts = gather_facts(session, now)
    index = PlanIndex.build(catalog, facts, keys)
    traced = decide.decide(index, key, explain=True)
    state = facts.states.get(target)
    plan = build_plan(catalog, facts, render_value, only=[target]).plan
    out = Explanation(target, state.version if state else None, None, _outcome(plan, target))
    for change in plan.changes:
        out.desired = change.to_version
    traced_versions = {tag: verdicts for tag, verdicts in traced.trace}
    skipped = dict(traced.skipped)
    for version in decide.ordered_versions(index, key.deployment):
        entry: dict[str, Any] = {"version": version.tag, "status": version.status,
                                 "createdAt": iso(index.created_at(version.deployment, version.tag))}
        if traced.pin is not None and version.tag != traced.pin.version:
            entry["verdict"] = f"not a candidate: pinned to {traced.pin.version} by {traced.pin.name}"
        elif version.tag in skipped:
            entry["verdict"] = f"not a candidate: {skipped[version.tag]}"
        elif version.tag in traced_versions:
            verdicts = traced_versions[version.tag]
            entry["rules"] = [{"policy": v.policy, "rule": v.rule, "verdict": v.status, "message": v.message,
                               "nextEvaluation": iso(v.next_evaluation)} for v in verdicts]
            entry["verdict"] = "allowed" if all(v.allowed for v in verdicts) else "blocked"
        else:
            entry["verdict"] = "not evaluated: older than the version the target runs (no automatic downgrade)"
        out.candidates.append(entry)
    return out


def _outcome(plan, target: str) -> str:
    for change in plan.changes:
        return f"{change.operation} {change.to_version or ''}: {change.reason}".strip()
    for item in plan.blocked:
        when = f" (next evaluation {iso(item.next_evaluation)})" if item.next_evaluation else ""
        return f"blocked by {item.policy}/{item.rule}: {item.message}{when}"
    for item in plan.in_flight:
        return f"in progress: task {item.task_id} ({item.status})"
    return "unchanged"

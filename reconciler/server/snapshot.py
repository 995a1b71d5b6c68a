"""One consistent view for the API and the dashboard: status rows, the plan, pending releases and
pending approvals, computed together at one instant.

A release a policy holds back has no task yet, so the planner does not record it. Like Ctrlplane,
which creates releases when a version appears and then evaluates policies, the snapshot records
each held-back release (content-addressed, so ``apply`` later finds the same row) and remembers
why it waits: that is what ``GET /releases/{id}`` shows as ``pending`` and what the approve
endpoint and button act on. Nothing else is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.engine.planner import make_plan
from reconciler.engine.session import Session, gather_facts
from reconciler.engine.status import status_rows
from reconciler.errors import ConfigError, TemplateError
from reconciler.models.records import ReleaseRecord
from reconciler.planning.plan import Blocked, Plan
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.releases import build_release
from reconciler.planning.targets import compute_targets
from reconciler.rendering.sandbox import render_value

APPROVAL_RULES = ("anyApproval",)


@dataclass
class PendingApproval:
    """Targets of one version × environment waiting for approvals."""

    deployment: str
    version: str
    environment: str
    message: str
    policy: str
    targets: list[str] = field(default_factory=list)
    release_ids: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    at: datetime
    revision: str
    rows: list[dict[str, Any]]
    plan: Plan | None
    pending: dict[str, Blocked] = field(default_factory=dict)  # release id -> why it waits
    approved: set[str] = field(default_factory=set)  # release ids the next apply dispatches
    approvals: list[PendingApproval] = field(default_factory=list)
    drift: dict[str, Any] = field(default_factory=dict)  # target -> DriftRow
    error: str | None = None


def build(session: Session, now: datetime, *, drift: bool = False) -> Snapshot:
    revision = session.catalog.revision
    try:
        rows = status_rows(session, now)
        plan = make_plan(session, now).plan
    except ConfigError as exc:
        return Snapshot(now, revision, [], None, error="; ".join(d.format() for d in exc.diagnostics))
    pending = record_pending(session, plan, now)
    approved = {c.release.id for c in plan.changes if c.release is not None}
    snap = Snapshot(now, revision, rows, plan, pending, approved, approvals(pending))
    if drift:
        from reconciler.engine.drift import check_drift

        snap.drift = {row.target: row for row in check_drift(session.store, session.root)}
    return snap


def record_pending(session: Session, plan: Plan, now: datetime) -> dict[str, Blocked]:
    """Record the release of every held-back target (idempotent) and return why each waits."""
    catalog = session.catalog
    blocked = [b for b in plan.blocked if b.version]
    if not blocked:
        return {}
    facts = gather_facts(session, now)
    index = PlanIndex.build(catalog, facts, compute_targets(catalog))
    out: dict[str, Blocked] = {}
    for item in blocked:
        version = catalog.version(item.key.deployment, item.version)
        if version is None:
            continue
        created = index.created_at(version.deployment, version.tag).isoformat().replace("+00:00", "Z")
        try:
            release = build_release(catalog, item.key, version, render_value, facts.secret_digests,
                                    facts.placement_fields.get(item.key.deployment, ()), created,
                                    facts.template_digests)
        except TemplateError:
            continue
        session.store.put_release(ReleaseRecord(  # type: ignore[attr-defined]
            release.id, str(release.target), release.version, release.variables, release.config,
            release.config_digest, now))
        out[release.id] = item
    return out


def approvals(pending: dict[str, Blocked]) -> list[PendingApproval]:
    """Pending releases waiting for approvals, grouped by deployment × version × environment."""
    groups: dict[tuple[str, str, str], PendingApproval] = {}
    for release_id, item in sorted(pending.items(), key=lambda kv: str(kv[1].key)):
        if item.rule not in APPROVAL_RULES or item.status != "pending":
            continue
        key = (item.key.deployment, item.version, item.key.environment)
        group = groups.setdefault(key, PendingApproval(*key, item.message, item.policy))
        group.targets.append(str(item.key))
        group.release_ids.append(release_id)
    return [groups[k] for k in sorted(groups)]

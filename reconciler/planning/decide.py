"""Choose the desired version of each release target.

Candidates are the deployment's versions, newest first (``createdAt``, else when state first saw
the version, then declaration order). Only ``ready`` versions deploy; ``paused`` stays where it
already runs. A version held off the target after a rollback is skipped. A Pin restricts the
candidates to its version (and is the only way to move to an older one). Otherwise a target never
downgrades: the walk stops at the version it runs. The first candidate every rule allows wins.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.models.entities import Version
from reconciler.models.gitops import Pin
from reconciler.models.keys import TargetKey
from reconciler.planning import selectors
from reconciler.planning.policies import evaluate
from reconciler.planning.policies.base import RuleContext, Verdict
from reconciler.planning.policies.index import PlanIndex

_LOOKUP = object()
_NONE: frozenset[str] = frozenset()


@dataclass
class Decision:
    key: TargetKey
    version: Version | None = None
    blocked: Verdict | None = None  # why the newest candidate above ``version`` cannot deploy
    blocked_version: str | None = None
    pin: Pin | None = None
    trace: list[tuple[str, list[Verdict]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (version, why not a candidate)
    passed: list[Verdict] = field(default_factory=list)  # verdicts that let ``version`` through


def ordered_versions(index: PlanIndex, deployment: str) -> list[Version]:
    memo_key = ("versions", deployment)
    found = index.memo.get(memo_key)
    if found is None:
        versions = index.catalog.versions.get(deployment, [])
        order = index.catalog.version_order
        found = sorted(versions, key=lambda v: (index.created_at(deployment, v.tag), order.get((deployment, v.tag), 0)),
                       reverse=True)
        index.memo[memo_key] = found
    return found


def target_views(index: PlanIndex, key: TargetKey) -> dict[str, Any]:
    memo = index.memo
    resource = memo.get(("rv", key.resource))
    if resource is None:
        resource = memo[("rv", key.resource)] = selectors.resource_view(index.catalog.resources[key.resource])
    pair = memo.get(("dev", key.deployment, key.environment))
    if pair is None:
        dep = index.catalog.deployments[key.deployment]
        pair = memo[("dev", key.deployment, key.environment)] = (
            selectors.deployment_view(dep),
            selectors.environment_view(index.catalog.environments[(dep.system, key.environment)]))
    return {"resource": resource, "deployment": pair[0], "environment": pair[1]}


def version_view(index: PlanIndex, version: Version) -> dict[str, Any]:
    """The selector view of a version (without a derived creation time), shared by a plan."""
    memo_key = ("vv", version.deployment, version.tag)
    found = index.memo.get(memo_key)
    if found is None:
        found = index.memo[memo_key] = selectors.version_view(version)
    return found


def active_pin(index: PlanIndex, key: TargetKey, views: dict[str, Any]) -> Pin | None:
    for pin in index.catalog.pins:
        if pin.deployment != key.deployment or (pin.until is not None and pin.until <= index.facts.now):
            continue
        index.expires(key.deployment, pin.until)
        if pin.targets and str(key) not in pin.targets:
            continue
        scope = selectors.TARGET_SCOPE
        if any(selectors.compile_selector(s.environments, "environment", scope).matches(views)
               and selectors.compile_selector(s.deployments, "deployment", scope).matches(views)
               and selectors.compile_selector(s.resources, "resource", scope).matches(views) for s in pin.selectors):
            return pin
    return None


def decide(index: PlanIndex, key: TargetKey, *, explain: bool = False, state: Any = _LOOKUP,
           name: str | None = None) -> Decision:
    """The desired version of ``key`` and, if a newer one is held back, the verdict holding it.
    ``state`` is the target's recorded state and ``name`` its key as text, if the caller has them.

    When every verdict consulted depended only on the environment, the version and what the target
    runs (not on the target itself), the decision is shared by every target of the deployment ×
    environment running the same version, and computed once for them.
    """
    facts = index.facts
    name = name or str(key)
    if state is _LOOKUP:
        state = facts.states.get(name)
    current = state.version if state else None
    views = target_views(index, key) if index.catalog.pins else None
    pin = active_pin(index, key, views) if views is not None else None  # type: ignore[arg-type]
    held = {h.version for h in facts.holds if h.target == name} if facts.holds else _NONE
    shared = None if (explain or pin is not None or held or facts.active.get(name)) else \
        ("decision", key.deployment, key.environment, current)
    if shared is not None:
        found = index.memo.get(shared)
        if found is not None:  # a copy for this target (sharing the verdict lists, which nobody changes)
            decision = object.__new__(Decision)
            decision.__dict__.update(found.__dict__)
            decision.key = key
            return decision
    decision, specific = _walk(index, key, views or target_views(index, key), current, pin, held, explain)
    if shared is not None and not specific:
        index.memo[shared] = decision
    return decision


def _walk(index: PlanIndex, key: TargetKey, views, current, pin, held, explain) -> tuple[Decision, bool]:
    catalog, facts = index.catalog, index.facts
    decision = Decision(key, pin=pin)
    specific = False
    dep = catalog.deployments[key.deployment]
    env = catalog.environments[(dep.system, key.environment)]
    res = catalog.resources[key.resource]
    for version in ordered_versions(index, key.deployment):
        if pin is not None and version.tag != pin.version:
            continue
        if pin is None and version.tag == current and not explain:
            decision.version = version  # never downgrade past what runs now
            return decision, specific
        why_not = _not_candidate(version, current, held)
        if not why_not and index.created_at(version.deployment, version.tag) > facts.now:
            why_not = "created after the evaluation time"
            index.expires(key.deployment, index.created_at(version.deployment, version.tag))
        if why_not:
            decision.skipped.append((version.tag, why_not))
            continue
        vviews = {**views, "version": version_view(index, version)}
        ctx = RuleContext(catalog, facts, index, key, dep, env, res, version, vviews, current=current)
        verdicts = evaluate.evaluate(ctx, short_circuit=not explain)
        specific = specific or ctx.target_specific
        for verdict in verdicts:
            if verdict.next_evaluation is not None or verdict.until is not None:
                index.expires(key.deployment, verdict.changes_at)
        if explain:
            decision.trace.append((version.tag, verdicts))
        if explain:
            first_bad = next((v for v in verdicts if not v.allowed), None)
        else:  # short-circuited: only the last verdict can be one that does not allow
            first_bad = verdicts[-1] if verdicts and not verdicts[-1].allowed else None
        if first_bad is None:
            if decision.version is None:
                decision.version = version
                decision.passed = verdicts
            if not explain:
                return decision, specific
        elif decision.version is None and _more_telling(first_bad, decision.blocked):
            # Report the newest candidate that can still move (pending) over one denied for good.
            if decision.blocked is not None:
                note = f" ({decision.blocked_version} is denied: {decision.blocked.message})"
                first_bad = replace(first_bad, message=first_bad.message + note)
            decision.blocked, decision.blocked_version = first_bad, version.tag
        if explain and version.tag == current and pin is None:
            break
    if decision.version is None and current is not None and pin is None:
        decision.version = catalog.version(key.deployment, current)
    return decision, specific


def _more_telling(new: Verdict, old: Verdict | None) -> bool:
    if old is None:
        return True
    return old.status == "deny" and old.next_evaluation is None and new.status == "pending"


def _not_candidate(version: Version, current: str | None, held: set[str] | frozenset[str]) -> str:
    if version.tag in held:
        return "held off this target after a failed rollout (reconciler release-hold to lift)"
    if version.status == "ready":
        return ""
    if version.status == "paused" and version.tag == current:
        return ""
    return f"status {version.status}"


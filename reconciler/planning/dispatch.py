"""Dispatch-time rules of a planned change: freezes, concurrency slots, the retry budget of a
failed release, and release sequencing against pending tasks. Rule lookups for a target go
through the policies matching it (memoized per environment × deployment when no selector reads
the resource).

This is a purely computational module with no side effects: the clock is ``facts.now``.
"""

from __future__ import annotations

from reconciler.models import statuses
from reconciler.models.keys import TargetKey
from reconciler.planning import decide, selectors
from reconciler.planning.plan import Blocked
from reconciler.planning.policies import evaluate, retry
from reconciler.planning.policies.base import RuleContext
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.releases import Release


def context(index: PlanIndex, key: TargetKey, version) -> RuleContext:
    views = {**decide.target_views(index, key), "version": decide.version_view(index, version)}
    dep = index.catalog.deployments[key.deployment]
    return RuleContext(index.catalog, index.facts, index, key, dep,
                       index.catalog.environments[(dep.system, key.environment)],
                       index.catalog.resources[key.resource], version, views)


def newest_selected(index: PlanIndex, key: TargetKey):
    """The newest ready version a ``versionSelector`` lets onto ``key``, whatever the gates (approval,
    progression, windows, rollout…) and recorded state say: what runs once every gate opens."""
    for version in decide.ordered_versions(index, key.deployment):
        if version.status == "ready" and not any(
                v.rule == "versionSelector" and not v.allowed
                for v in evaluate.evaluate(context(index, key, version), short_circuit=False)):
            return version
    return None


def job_rules(index: PlanIndex, key: TargetKey, version, kind: str) -> list[tuple[str, object]]:
    """(policy, rule) of every ``kind`` rule for this target, shared per environment × deployment
    when every policy's match ignores the resource."""
    if index.memo.get("policies-resource-free") is None:
        index.memo["policies-resource-free"] = all(p.resource_free for p in index.policies)
    if not index.memo["policies-resource-free"]:
        return evaluate.job_rules(context(index, key, version), kind)
    memo_key = ("job-rules", key.deployment, key.environment, kind)
    found = index.memo.get(memo_key)
    if found is None:
        found = index.memo[memo_key] = evaluate.job_rules(context(index, key, version), kind)
    return found


def hold(index: PlanIndex, key: TargetKey, decision, release: Release, state) -> Blocked | str | None:
    """A Blocked entry when dispatch is held, the task id to retry, or None to dispatch anew."""
    facts = index.facts
    frozen = (freeze(index, key, release.version) if index.catalog.freezes else None) or concurrency_hold(index, key, decision, state)
    if frozen is not None:
        return frozen
    last = facts.latest.get(str(key))
    if last is not None and last.operation == "rollback":
        return _rolled_back(index, key, last, release, state)
    if last is None or last.release_id != release.id or last.status not in statuses.TERMINAL \
            or last.status == statuses.DONE or last.operation == "uninstall":
        return None
    rules = job_rules(index, key, decision.version, "retry")
    policy, rule = rules[0] if rules else ("(default)", None)
    verdict = retry.eligible(rule, last, facts.now)  # type: ignore[arg-type]
    index.expires(key.deployment, verdict.changes_at)
    if last.finished_at is None:
        index.now_dependent.add(key.deployment)  # the backoff counts from the clock itself
    if verdict.allowed:
        return last.id
    return Blocked(key, release.version, policy, "retry", verdict.message, verdict.next_evaluation,
                   state.version if state else None, verdict.status)


def _rolled_back(index: PlanIndex, key: TargetKey, last, release: Release, state) -> Blocked | None:
    """The release a rollback took off the target does not go out again by itself: while its
    version is held, or when only its config differed from the restored one (nothing to hold)."""
    if last.job.get("rolls_back") != release.id or last.status in statuses.ACTIVE:
        return None
    held = any(h.target == str(key) and h.version == release.version for h in index.facts.holds)
    if release.version != last.version and not held:
        return None  # the hold was lifted (release-hold): a person lets it go again
    return Blocked(key, release.version, "(rollback)", "rollback",
                   f"this release was rolled back by task {last.id} ({last.reason}); it goes out again only "
                   "as a new release: fix the version or config in Git", None, state.version if state else None, "deny")


def sequencing(index: PlanIndex, key: TargetKey, decision, pending) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pending (never started) tasks of another release: cancel them (default) or run them first."""
    if not pending:
        return (), ()
    rules = job_rules(index, key, decision.version, "releaseSequencing")
    mode = rules[0][1].mode if rules else "cancel"  # type: ignore[attr-defined]
    ids = tuple(t.id for t in pending)
    return (ids, ()) if mode == "cancel" else ((), ids)


def concurrency(index: PlanIndex, key: TargetKey, decision) -> tuple[tuple[str, int], ...]:
    """Free slots of every concurrency rule for this target (its max minus tasks already running)."""
    memo_key = ("concurrency", key.deployment, key.environment)
    found = index.memo.get(memo_key)
    if found is None:
        rules = job_rules(index, key, decision.version, "concurrency")
        found = tuple((policy, rule.max - _running_in_scope(index, policy)) for policy, rule in rules)  # type: ignore
        if index.memo.get("policies-resource-free"):
            index.memo[memo_key] = found  # the same for every target of the deployment × environment
    return found


def _running_in_scope(index: PlanIndex, policy: str) -> int:
    memo_key = ("running-in-scope", policy)
    if memo_key not in index.memo:
        compiled = next(p for p in index.policies if p.policy.name == policy)
        count = 0
        for target, tasks in index.facts.active.items():
            if not any(t.status != statuses.PENDING for t in tasks):
                continue
            key = TargetKey.parse(target)
            if key.deployment in index.catalog.deployments and key.resource in index.catalog.resources \
                    and compiled.matches(decide.target_views(index, key)):
                count += 1
        index.memo[memo_key] = count
    return index.memo[memo_key]


def concurrency_hold(index: PlanIndex, key: TargetKey, decision, state) -> Blocked | None:
    for policy, free in concurrency(index, key, decision):
        if free <= 0:
            return Blocked(key, decision.version.tag, policy, "concurrency",
                           f"all slots of {policy} are taken by running tasks; it starts when one finishes",
                           None, state.version if state else None)
    return None


def freeze_notes(catalog, now) -> list[str]:
    """One line per Freeze in force, for every plan (even one with nothing to block)."""
    return [f"Freeze {frozen.name} is in force{_until(frozen)}: {frozen.reason}" for frozen in catalog.freezes
            if frozen.until is None or frozen.until > now]


def _until(frozen) -> str:
    return f" until {frozen.until:%Y-%m-%d %H:%MZ}" if frozen.until else " until the Freeze is removed"


def freeze(index: PlanIndex, key: TargetKey, version: str = "") -> Blocked | None:
    now = index.facts.now
    views = None
    for frozen in index.catalog.freezes:
        if frozen.until is not None and frozen.until <= now:
            continue
        index.expires(key.deployment, frozen.until)
        views = views or decide.target_views(index, key)
        scope = selectors.TARGET_SCOPE
        if any(selectors.compile_selector(s.environments, "environment", scope).matches(views)
               and selectors.compile_selector(s.deployments, "deployment", scope).matches(views)
               and selectors.compile_selector(s.resources, "resource", scope).matches(views) for s in frozen.selectors):
            state = index.facts.states.get(str(key))
            return Blocked(key, version, frozen.name, "freeze", f"frozen{_until(frozen)}: {frozen.reason}", frozen.until,
                           state.version if state else None)
    return None

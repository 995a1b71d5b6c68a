"""Build a Plan from the desired state (Catalog) and recorded state (Facts).

For every release target: skip it if a task is in flight; decide the desired version under the
policies; build its release; classify the change against what runs; then check dispatch rules
(retry budget of a failed release, freezes). Targets that no longer exist become uninstalls (with
prune) or orphans, and an orphan paired with a new target of the same deployment × environment
becomes a recreate (the deployment moved).

This is a purely computational function with no side effects: the clock is ``facts.now``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.errors import TemplateError
from reconciler.models import statuses
from reconciler.models.catalog import Catalog
from reconciler.models.keys import TargetKey
from reconciler.planning import changes, decide, jobrules, selectors
from reconciler.planning.facts import Facts
from reconciler.planning.fingerprint import fingerprint
from reconciler.planning.plan import Blocked, Change, InFlight, Orphan, Plan
from reconciler.planning.policies import evaluate, retry
from reconciler.planning.policies.base import RuleContext
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.releases import Release, Render, build_release
from reconciler.planning.targets import compute_targets


@dataclass
class PlanError:
    target: str
    deployment: str
    message: str
    template: str = ""
    line: int | None = None


@dataclass
class PlanResult:
    plan: Plan
    errors: list[PlanError] = field(default_factory=list)
    releases: dict[str, Release] = field(default_factory=dict)


def build_plan(catalog: Catalog, facts: Facts, render: Render, *, only: Iterable[str] | None = None) -> PlanResult:
    keys = compute_targets(catalog)
    index = PlanIndex.build(catalog, facts, keys)
    plan = Plan(catalog.config.workspace, catalog.revision, facts.now, targets=len(keys))
    result = PlanResult(plan)
    wanted = set(only) if only else None
    for key in keys:
        if wanted is None or str(key) in wanted:
            _plan_target(index, key, render, result)
    _plan_removed(index, {str(k) for k in keys}, wanted, result)
    plan.changes = jobrules.assign_batches(sorted(plan.changes, key=lambda c: str(c.key)))
    plan.blocked.sort(key=lambda b: str(b.key))
    return result


def _plan_target(index: PlanIndex, key: TargetKey, render: Render, result: PlanResult) -> None:
    facts, plan = index.facts, result.plan
    name = str(key)
    active = facts.active.get(name) or []
    running = [t for t in active if t.status != statuses.PENDING]
    if running:
        task = running[-1]
        plan.in_flight.append(InFlight(name, task.id, task.operation, task.status, task.version))
        return
    decision = decide.decide(index, key)
    state = facts.states.get(name)
    if decision.version is None:
        _blocked_or_unchanged(plan, decision, state)
        return
    fp = fingerprint(index, key, decision.version)
    if not active and state is not None and state.version == decision.version.tag and state.fingerprint == fp:
        _blocked_or_unchanged(plan, decision, state)  # same inputs as recorded: same release, nothing to do
        return
    try:
        release = _release(index, key, decision.version, render)
    except TemplateError as exc:
        result.errors.append(PlanError(name, key.deployment, str(exc), exc.template, exc.line))
        return
    if state is not None and state.release_id != release.id:
        state = facts.state(name) or state  # the full record, with the inputs that explain the change
    verdict = changes.classify(state, release, lambda: facts.releases.get(state.release_id) if state else None)
    same = [t for t in active if t.release_id == release.id]
    if verdict is None or same:
        if active:  # a queued task already delivers this (or the current) release
            _queued(plan, (same or active)[-1])
        else:
            _blocked_or_unchanged(plan, decision, state)
        return
    operation, reason, diff = verdict
    if decision.blocked is not None:
        reason += f" ({decision.blocked_version} is held back: {decision.blocked.message})"
    if decision.pin is not None:
        reason += f" (pinned by {decision.pin.name}: {decision.pin.reason})"
    notable = [v.message for v in decision.passed if v.rule == "anyApproval" and "approved" in v.message
               or v.message.startswith("skipped")]
    if notable:
        reason += "; " + "; ".join(notable)
    hold = _dispatch_hold(index, key, decision, release, state)
    if isinstance(hold, Blocked):
        plan.blocked.append(hold)
        return
    result.releases[name] = release
    cancels, after = _sequencing(index, key, decision, active)
    if cancels:
        reason += f" (cancels pending {', '.join(cancels)}: releaseSequencing cancel)"
    if after:
        reason += f" (after pending {', '.join(after)}: releaseSequencing wait)"
    context = {**release.context, "variables": release.variables, "config": release.config}
    settings = jobrules.after_dispatch(_context(index, key, decision.version), render, context)
    plan.changes.append(Change(key, operation, state.version if state else None, release.version, reason, diff,
                               release, retry_of=hold, cancels=cancels, after=after,
                               concurrency=_concurrency(index, key, decision), policy=settings, fingerprint=fp))


def _queued(plan: Plan, task) -> None:
    """A recorded pending task: a queued request (redeploy, rollback) is shown as the change it makes."""
    if task.run_id:
        plan.in_flight.append(InFlight(task.target, task.id, task.operation, task.status, task.version))
        return
    plan.changes.append(Change(TargetKey.parse(task.target), task.operation, task.from_version, task.version,
                               f"{task.reason} (queued as task {task.id})", task.diff, queued=task.id))


def _blocked_or_unchanged(plan: Plan, decision: decide.Decision, state) -> None:
    if decision.blocked is not None:
        v = decision.blocked
        plan.blocked.append(Blocked(decision.key, decision.blocked_version or "", v.policy, v.rule, v.message,
                                    v.next_evaluation, state.version if state else None, v.status))
    else:
        plan.unchanged += 1


def _release(index: PlanIndex, key: TargetKey, version, render: Render) -> Release:
    created = index.created_at(version.deployment, version.tag).isoformat().replace("+00:00", "Z")
    return build_release(index.catalog, key, version, render, index.facts.secret_digests,
                         index.facts.placement_fields.get(key.deployment, ()), created, index.facts.template_digests,
                         index.memo, decide.target_views(index, key))


def _dispatch_hold(index: PlanIndex, key: TargetKey, decision, release: Release, state) -> Blocked | str | None:
    """A Blocked entry when dispatch is held, the task id to retry, or None to dispatch anew."""
    facts = index.facts
    freeze = _freeze(index, key) or _concurrency_hold(index, key, decision, state)
    if freeze is not None:
        return freeze
    last = facts.latest.get(str(key))
    if last is None or last.release_id != release.id or last.status not in statuses.TERMINAL \
            or last.status == statuses.DONE or last.operation == "uninstall":
        return None
    rules = evaluate.job_rules(_context(index, key, decision.version), "retry")
    policy, rule = rules[0] if rules else ("(default)", None)
    verdict = retry.eligible(rule, last, facts.now)
    if verdict.allowed:
        return last.id
    return Blocked(key, release.version, policy, "retry", verdict.message, verdict.next_evaluation,
                   state.version if state else None, verdict.status)


def _context(index: PlanIndex, key: TargetKey, version) -> RuleContext:
    views = {**decide.target_views(index, key), "version": selectors.version_view(version)}
    dep = index.catalog.deployments[key.deployment]
    return RuleContext(index.catalog, index.facts, index, key, dep,
                       index.catalog.environments[(dep.system, key.environment)],
                       index.catalog.resources[key.resource], version, views)


def _sequencing(index: PlanIndex, key: TargetKey, decision, pending) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Pending (never started) tasks of another release: cancel them (default) or run them first."""
    if not pending:
        return (), ()
    rules = evaluate.job_rules(_context(index, key, decision.version), "releaseSequencing")
    mode = rules[0][1].mode if rules else "cancel"
    ids = tuple(t.id for t in pending)
    return (ids, ()) if mode == "cancel" else ((), ids)


def _concurrency(index: PlanIndex, key: TargetKey, decision) -> tuple[tuple[str, int], ...]:
    """Free slots of every concurrency rule for this target (its max minus tasks already running)."""
    rules = evaluate.job_rules(_context(index, key, decision.version), "concurrency")
    out = []
    for policy, rule in rules:
        out.append((policy, rule.max - _running_in_scope(index, policy)))
    return tuple(out)


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


def _concurrency_hold(index: PlanIndex, key: TargetKey, decision, state) -> Blocked | None:
    for policy, free in _concurrency(index, key, decision):
        if free <= 0:
            return Blocked(key, decision.version.tag, policy, "concurrency",
                           f"all slots of {policy} are taken by running tasks; it starts when one finishes",
                           None, state.version if state else None)
    return None


def _freeze(index: PlanIndex, key: TargetKey) -> Blocked | None:
    now = index.facts.now
    views = None
    for freeze in index.catalog.freezes:
        if freeze.until is not None and freeze.until <= now:
            continue
        views = views or decide.target_views(index, key)
        scope = selectors.TARGET_SCOPE
        if any(selectors.compile_selector(s.environments, "environment", scope).matches(views)
               and selectors.compile_selector(s.deployments, "deployment", scope).matches(views)
               and selectors.compile_selector(s.resources, "resource", scope).matches(views) for s in freeze.selectors):
            until = f" until {freeze.until:%Y-%m-%d %H:%MZ}" if freeze.until else " until the Freeze is removed"
            state = index.facts.states.get(str(key))
            return Blocked(key, "", freeze.name, "freeze", f"frozen{until}: {freeze.reason}", freeze.until,
                           state.version if state else None)
    return None


def _plan_removed(index: PlanIndex, existing: set[str], wanted: set[str] | None, result: PlanResult) -> None:
    facts, plan, catalog = index.facts, result.plan, index.catalog
    installs: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for change in plan.changes:
        if change.operation == "install":
            installs[(change.key.deployment, change.key.environment)].append(change)
    for name, state in sorted(facts.states.items()):
        if name in existing or (wanted is not None and name not in wanted):
            continue
        key = TargetKey.parse(name)
        if facts.active.get(name):
            task = facts.active[name][-1]
            plan.in_flight.append(InFlight(name, task.id, task.operation, task.status, task.version))
            continue
        why = _removal_reason(catalog, key)
        paired = installs.get((key.deployment, key.environment))
        if paired:
            new = paired.pop(0)
            plan.changes.remove(new)
            plan.changes.append(Change(new.key, "recreate", state.version, new.to_version,
                                       f"moved from {key.resource} to {new.key.resource} ({why})", new.diff,
                                       new.release, from_resource=key.resource))
        elif facts.prune:
            plan.changes.append(Change(key, "uninstall", state.version, None, why))
        else:
            plan.orphaned.append(Orphan(name, state.version, f"{why}; uninstall with --prune or prune: true"))


def _removal_reason(catalog: Catalog, key: TargetKey) -> str:
    dep = catalog.deployments.get(key.deployment)
    if dep is None:
        return f"deployment {key.deployment} was removed"
    if (dep.system, key.environment) not in catalog.environments:
        return f"environment {key.environment} was removed"
    if key.resource not in catalog.resources:
        return f"resource {key.resource} was removed"
    return f"{key.resource} no longer matches the selectors of {key.deployment} × {key.environment}"

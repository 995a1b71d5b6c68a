"""Build a Plan from the desired state (Catalog) and recorded state (Facts).

For every release target: skip it if a task is in flight; decide the desired version under the
policies; build its release; classify the change against what runs; then check dispatch rules
(retry budget of a failed release, freezes). Recorded targets that no longer exist are left to
``planning.removed`` (uninstalls, orphans, recreates of a moved deployment).

The plan is made deployment by deployment (``DeploymentOutcome``); an outcome passed in ``reuse``
(from a plan cache, whose inputs are unchanged) is taken as it is instead of being recomputed, and
``prior`` gives a re-planned deployment the release identities of its previous outcome, so that a
target whose release inputs are unchanged is not built again (``PriorReleases``).

This is a purely computational function with no side effects: the clock is ``facts.now``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.errors import TemplateError
from reconciler.models import statuses
from reconciler.models.catalog import Catalog
from reconciler.models.keys import TargetKey
from reconciler.planning import changes, decide, dispatch, jobrules
from reconciler.planning.facts import Facts
from reconciler.planning.fingerprint import fingerprint
from reconciler.planning.outcome import DeploymentOutcome, PriorReleases
from reconciler.planning.plan import Blocked, Change, InFlight, Plan, new_change
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.releases import Release, Render, build_release
from reconciler.planning.removed import plan_removed
from reconciler.planning.targets import TargetSource


@dataclass
class PlanError:
    target: str
    deployment: str
    message: str
    template: str = ""
    line: int | None = None
    setting: str = ""  # the job-config key whose template failed, when known


@dataclass
class PlanResult:
    plan: Plan
    errors: list[PlanError] = field(default_factory=list)
    outcomes: dict[str, DeploymentOutcome] = field(default_factory=dict)  # computed here, not reused
    every: dict[str, DeploymentOutcome] = field(default_factory=dict)  # each deployment's, computed or reused
    index: PlanIndex | None = None
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # deployment -> (unchanged, targets)

    @property
    def releases(self) -> dict[str, Release]:
        """The release of every planned change (not of queued requests), by target key."""
        return {str(c.key): c.release for c in self.plan.changes if c.release is not None and not c.queued}


Prior = Callable[[str], Mapping[str, tuple[str, str, str, str]] | None]  # deployment -> prior_identities


def plan_order(catalog: Catalog, facts: Facts) -> list[str]:
    """Deployments of the catalog and of recorded state, in the order their target keys sort."""
    names = set(catalog.deployments) | set(_state_deployments(facts))
    return sorted(names, key=lambda name: name + "/")


def build_plan(catalog: Catalog, facts: Facts, render: Render, *, only: Iterable[str] | None = None,
               reuse: Mapping[str, DeploymentOutcome] | None = None,
               targets: TargetSource | None = None, prior: Prior | None = None) -> PlanResult:
    source = targets or TargetSource(catalog)
    index = PlanIndex.build(catalog, facts, source)
    index.prior = prior
    plan = Plan(catalog.config.workspace, catalog.revision, facts.now, notes=dispatch.freeze_notes(catalog, facts.now))
    result = PlanResult(plan, index=index)
    wanted = set(only) if only else None
    removed_in_flight: list[InFlight] = []
    for name in plan_order(catalog, facts):
        outcome = (reuse or {}).get(name)
        if outcome is not None:
            bind(outcome, index, render)
        else:
            outcome = plan_deployment(index, name, render, wanted)
            result.outcomes[name] = outcome
        plan.add(outcome)
        result.every[name] = outcome
        removed_in_flight.extend(outcome.removed_in_flight)
        result.counts[name] = (outcome.unchanged, outcome.targets)
        result.errors.extend(outcome.errors)
    plan.in_flight.extend(removed_in_flight)
    return result


def plan_deployments(catalog: Catalog, facts: Facts, render: Render, names: Iterable[str],
                     targets: TargetSource | None = None, prior: Prior | None = None) -> dict[str, DeploymentOutcome]:
    """The outcomes of some deployments only (a worker's share of a plan; ``build_plan`` merges)."""
    index = PlanIndex.build(catalog, facts, targets or TargetSource(catalog))
    index.prior = prior
    return {name: plan_deployment(index, name, render, None) for name in names}


def bind(outcome: DeploymentOutcome, index: PlanIndex, render: Render) -> None:
    """Let a reused outcome's deferred releases rebuild themselves from this plan's inputs."""
    if outcome.releases is not None:
        outcome.releases.build = _rebuilder(index, render)


def _rebuilder(index: PlanIndex, render: Render) -> Callable[[TargetKey, str], Release]:
    def rebuild(key: TargetKey, tag: str) -> Release:
        version = index.catalog.version(key.deployment, tag)
        assert version is not None, f"version {tag} of {key.deployment} vanished from a cached plan"
        return release_for(index, key, version, render)

    return rebuild


def _prior(index: PlanIndex, name: str, render: Render) -> PriorReleases | None:
    identities = index.prior(name) if index.prior is not None else None
    return PriorReleases(identities, _rebuilder(index, render)) if identities else None


def plan_deployment(index: PlanIndex, name: str, render: Render, wanted: set[str] | None) -> DeploymentOutcome:
    """The outcome of one deployment: its targets, then its recorded targets that no longer exist."""
    outcome = DeploymentOutcome(name, computed_at=index.facts.now)
    keys = index.source.of(name) if name in index.catalog.deployments else []
    outcome.targets = len(keys)
    known = _prior(index, name, render) if wanted is None else None
    for key in keys:
        if wanted is None or str(key) in wanted:
            _plan_target(index, key, render, outcome, known)
    plan_removed(index, name, {str(k) for k in keys}, wanted, outcome)
    outcome.changes = jobrules.assign_batches(sorted(outcome.changes, key=lambda c: str(c.key)))
    outcome.blocked.sort(key=lambda b: str(b.key))
    for item in outcome.blocked:
        index.expires(name, item.next_evaluation)
    outcome.until = index.horizons.get(name)
    outcome.exact = name in index.now_dependent
    return outcome


def _plan_target(index: PlanIndex, key: TargetKey, render: Render, outcome: DeploymentOutcome,
                 known: PriorReleases | None = None) -> None:
    facts = index.facts
    name = str(key)
    active = facts.active.get(name) or []
    running = [t for t in active if t.status != statuses.PENDING] if active else active
    if running:
        task = running[-1]
        outcome.in_flight.append(InFlight(name, task.id, task.operation, task.status, task.version))
        return
    state = facts.states.get(name)
    decision = decide.decide(index, key, state=state, name=name)
    if decision.version is None:
        _blocked_or_unchanged(index, outcome, decision, state)
        return
    fp = fingerprint(index, key, decision.version)
    if not active and state is not None and state.version == decision.version.tag and state.fingerprint == fp \
            and not state.drift:
        _blocked_or_unchanged(index, outcome, decision, state)  # same inputs as recorded: same release, nothing to do
        return
    release = known.get(key, name, decision.version.tag, fp) if known is not None else None
    if release is None:
        try:
            release = release_for(index, key, decision.version, render)
        except TemplateError as exc:
            for err in getattr(exc, "errors", [exc]):
                outcome.errors.append(PlanError(name, key.deployment, str(err), err.template, err.line,
                                                getattr(err, "setting", "")))
            return
    verdict = changes.classify(state, release, lambda: facts.releases.get(state.release_id) if state else None,
                               lambda: facts.state(name))  # the full record, with the inputs that explain it
    if state is not None and state.drift:  # the host disagrees with the record: deliver the release again
        verdict = ("reinstall", f"drifted: {state.drift}; re-applying {release.version}", {}) if verdict is None \
            else (verdict[0], f"{verdict[1]} (drifted: {state.drift})", verdict[2])
    same = [t for t in active if t.release_id == release.id] if active else active
    if verdict is None or same:
        if active:  # a queued task already delivers this (or the current) release
            _queued(outcome, (same or active)[-1])
        else:
            _blocked_or_unchanged(index, outcome, decision, state)
        return
    _change(index, key, decision, release, state, active, verdict, fp, render, outcome)


def _change(index, key, decision, release, state, active, verdict, fp, render, outcome) -> None:
    operation, reason, diff = verdict
    if decision.blocked is not None:
        reason += f" ({decision.blocked_version} is held back: {decision.blocked.message})"
    if decision.pin is not None:
        if state is not None and _older(index, key.deployment, release.version, state.version):
            reason = f"downgrade to {release.version}"
        reason += f" (pinned by {decision.pin.name}: {decision.pin.reason})"
    held = _held(index, decision, state) if decision.blocked is None and index.facts.holds else None
    if held is not None:
        reason += f" ({held.message})"
    notable = [v.message for v in decision.passed if v.rule == "anyApproval" and "approved" in v.message
               or v.message.startswith("skipped") or v.rule == "deploymentWindow" and "exempt" in v.message]
    if notable:
        reason += "; " + "; ".join(notable)
    hold = dispatch.hold(index, key, decision, release, state)
    if isinstance(hold, Blocked):
        outcome.blocked.append(hold)
        return
    cancels, after = dispatch.sequencing(index, key, decision, active)
    if cancels:
        reason += f" (cancels pending {', '.join(cancels)}: releaseSequencing cancel)"
    if after:
        reason += f" (after pending {', '.join(after)}: releaseSequencing wait)"
    settings = _settings(index, key, decision.version, release, render)
    outcome.changes.append(new_change(key, operation, state.version if state else None, release.version, reason,
                                      diff, release, retry_of=hold, cancels=cancels, after=after,
                                      concurrency=dispatch.concurrency(index, key, decision), policy=settings,
                                      fingerprint=fp))


def _older(index: PlanIndex, deployment: str, tag: str, than: str) -> bool:
    """Whether version ``tag`` comes before ``than`` in the deployment's version order."""
    order = [v.tag for v in decide.ordered_versions(index, deployment)]  # newest first
    return tag in order and than in order and order.index(tag) > order.index(than)


def _settings(index: PlanIndex, key: TargetKey, version, release: Release, render: Render) -> dict:
    """Verification, rollback and strategy settings of a change: one value per deployment ×
    environment unless verification metrics render per target (or rules differ per resource)."""
    def rules(kind: str) -> list:
        return dispatch.job_rules(index, key, version, kind)

    memo_key = ("settings", key.deployment, key.environment, version.tag)
    found = index.memo.get(memo_key)
    if found is not None:
        return found
    def context() -> dict:  # (a reused release is rebuilt only if verification needs its context)
        return {**release.context, "variables": release.variables, "config": release.config}

    settings = jobrules.after_dispatch(dispatch.context(index, key, version), render, context, rules)
    if not rules("verification") and index.memo.get("policies-resource-free"):
        index.memo[memo_key] = settings  # shared: nobody mutates a change's settings
    return settings


def _queued(outcome: DeploymentOutcome, task) -> None:
    """A recorded pending task: a queued request (redeploy, rollback) is shown as the change it makes."""
    if task.run_id:
        outcome.in_flight.append(InFlight(task.target, task.id, task.operation, task.status, task.version))
        return
    outcome.changes.append(Change(TargetKey.parse(task.target), task.operation, task.from_version, task.version,
                                  f"{task.reason} (queued as task {task.id})", task.diff, queued=task.id))


def _blocked_or_unchanged(index: PlanIndex, outcome: DeploymentOutcome, decision: decide.Decision, state) -> None:
    if decision.blocked is not None:
        v = decision.blocked
        outcome.blocked.append(Blocked(decision.key, decision.blocked_version or "", v.policy, v.rule, v.message,
                                       v.next_evaluation, state.version if state else None, v.status))
        return
    held = _held(index, decision, state)
    if held is not None:
        outcome.blocked.append(held)
    else:
        outcome.unchanged += 1


def _held(index: PlanIndex, decision: decide.Decision, state) -> Blocked | None:
    """A newer version kept off the target by a rollback hold, shown so a reviewer sees why it waits."""
    tag = next((t for t, why in decision.skipped if why.startswith("held off")), None)
    if tag is None:
        return None
    name = str(decision.key)
    hold = next((h for h in index.facts.holds if h.target == name and h.version == tag), None)
    why = hold.reason if hold is not None else "a failed rollout"
    return Blocked(decision.key, tag, "(rollback hold)", "hold",
                   f"{tag} is held off this target after {why}; run 'reconciler release-hold {name}' to lift",
                   None, state.version if state else None, "deny")


def release_for(index: PlanIndex, key: TargetKey, version, render: Render) -> Release:
    """The release of ``version`` on ``key`` under this plan's inputs. Raises TemplateError."""
    created = index.memo.get(("created-text", version.deployment, version.tag))
    if created is None:
        created = index.created_at(version.deployment, version.tag).isoformat().replace("+00:00", "Z")
        index.memo[("created-text", version.deployment, version.tag)] = created
    else:
        index.created_at(version.deployment, version.tag)  # notes a clock-dependent creation time again
    return build_release(index.catalog, key, version, render, index.facts.secret_digests,
                         index.facts.placement_fields.get(key.deployment, ()), created, index.facts.template_digests,
                         index.memo, decide.target_views(index, key))


def _state_deployments(facts: Facts) -> Iterable[str]:
    names = getattr(facts.states, "deployments", None)
    if callable(names):
        return names()
    return {name.split("/", 1)[0] for name in facts.states}

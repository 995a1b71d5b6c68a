"""PlanIndex: read-only lookups built once per plan (targets by deployment × environment and by
resource, approvals, task outcomes, version creation times, compiled policies) plus the shared
memo of rule verdicts keyed by rule scope, and per deployment the earliest time its outcome may
change by the clock alone (what a plan cache's validity rests on).

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.models.catalog import Catalog
from reconciler.models.keys import TargetKey
from reconciler.models.policy import Policy, Rule
from reconciler.models.records import ApprovalRecord
from reconciler.planning import selectors
from reconciler.planning.facts import Facts
from reconciler.planning.targets import TargetSource


@dataclass
class CompiledPolicy:
    policy: Policy
    rules: list[tuple[int, str, Rule]]
    selectors: list[tuple[Any, Any, Any]]
    resource_free: bool = False  # no selector reads ``resource``: the match depends on env × deployment

    def matches(self, views: dict[str, Any]) -> bool:
        return any(e.matches(views) and d.matches(views) and r.matches(views) for e, d, r in self.selectors)


def compile_policy(policy: Policy) -> CompiledPolicy:
    scope = selectors.TARGET_SCOPE
    compiled = [
        (selectors.compile_selector(s.environments, "environment", scope),
         selectors.compile_selector(s.deployments, "deployment", scope),
         selectors.compile_selector(s.resources, "resource", scope))
        for s in policy.selectors
    ]
    rules = [(i, kind, rule) for i, (kind, rule) in enumerate(policy.parsed_rules())]
    free = all("resource" not in program.variables for entry in compiled for program in entry)
    return CompiledPolicy(policy, rules, compiled, free)


@dataclass
class PlanIndex:
    catalog: Catalog
    facts: Facts
    source: TargetSource
    approvals: dict[tuple[str, str, str], list[ApprovalRecord]] = field(default_factory=dict)
    # (deployment, environment, version) -> status -> resource -> (first_at, last_at)
    outcomes: dict[tuple[str, str, str], dict[str, dict[str, tuple[datetime, datetime]]]] = field(default_factory=dict)
    policies: list[CompiledPolicy] = field(default_factory=list)
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # deployment -> the earliest time the clock alone may change its outcome (plan-cache validity)
    horizons: dict[str, datetime] = field(default_factory=dict)
    now_dependent: set[str] = field(default_factory=set)  # outcomes that depend on the clock's exact value
    prior: Any = None  # deployment -> release identities of its previous outcome (``build.Prior``)
    _by_dep_env: dict[str, dict[str, list[TargetKey]]] = field(default_factory=dict)
    _by_resource: dict[str, list[TargetKey]] | None = None

    @classmethod
    def build(cls, catalog: Catalog, facts: Facts, targets: list[TargetKey] | TargetSource) -> PlanIndex:
        if not isinstance(targets, TargetSource):
            grouped: dict[str, list[TargetKey]] = defaultdict(list)
            for key in targets:
                grouped[key.deployment].append(key)
            targets = TargetSource(catalog, grouped)
        index = cls(catalog, facts, targets)
        index.approvals = _approvals(facts.approvals)
        index.outcomes = _outcomes(facts) if facts.outcome_source is None else {}
        enabled = [p for p in catalog.policies if p.enabled]
        enabled.sort(key=lambda p: (-p.priority, p.name))
        index.policies = [compile_policy(p) for p in enabled]
        return index

    def targets_in(self, deployment: str, environment: str) -> list[TargetKey]:
        """Targets of one deployment × environment, sorted."""
        by_env = self._by_dep_env.get(deployment)
        if by_env is None:
            by_env = self._by_dep_env[deployment] = defaultdict(list)
            for key in self.source.of(deployment):
                by_env[key.environment].append(key)
        return by_env.get(environment, [])

    def targets_on(self, resource: str) -> list[TargetKey]:
        """Targets of every deployment on one resource (cross-deployment rules read these)."""
        if self._by_resource is None:
            by_resource: dict[str, list[TargetKey]] = defaultdict(list)
            for key in self.source.all():
                by_resource[key.resource].append(key)
            self._by_resource = by_resource
        return self._by_resource.get(resource, [])

    def expires(self, deployment: str, when: datetime | None) -> None:
        """Note that ``deployment``'s outcome may change by itself at ``when``."""
        if when is not None:
            current = self.horizons.get(deployment)
            if current is None or when < current:
                self.horizons[deployment] = when

    def created_at(self, deployment: str, tag: str) -> datetime:
        found = self.memo.get(("created", deployment, tag))
        if found is None:
            found = self.memo[("created", deployment, tag)] = self._created_at(deployment, tag)
        if found[1]:
            self.now_dependent.add(deployment)
        return found[0]

    def _created_at(self, deployment: str, tag: str) -> tuple[datetime, bool]:
        """(creation time, whether that is the clock's value: a version nobody has seen yet)."""
        version = self.catalog.version(deployment, tag)
        if version is not None and version.createdAt is not None:
            return version.createdAt, False
        seen = self.facts.first_seen.get((deployment, tag))
        if seen is None:
            return self.facts.now, True
        return seen, False

    def applicable(self, views: dict[str, Any]) -> list[CompiledPolicy]:
        """Policies matching a target. Policies whose selectors ignore ``resource`` are matched once
        per environment × deployment, the rest per target."""
        key = (views["environment"]["id"], views["deployment"]["name"])
        general = self.memo.get(("applicable-general",) + key)
        if general is None:
            general = [p for p in self.policies if p.resource_free and p.matches(views)]
            self.memo[("applicable-general",) + key] = general
        specific = [p for p in self.policies if not p.resource_free and p.matches(views)]
        if not specific:
            return general
        chosen = {id(p) for p in general + specific}
        return [p for p in self.policies if id(p) in chosen]

    def outcomes_for(self, deployment: str, environment: str, version: str):
        """status -> resource -> (first, last) of finished tasks of this deployment × environment × version."""
        key = (deployment, environment, version)
        loaded = ("outcomes-loaded", deployment, version)
        if self.facts.outcome_source is not None and loaded not in self.memo:
            self.memo[loaded] = True
            for o in self.facts.outcome_source(deployment, version):
                _, env, res = o.target.split("/", 2)
                self.outcomes.setdefault((deployment, env, version), {}).setdefault(o.status, {})[res] = (
                    o.first_at, o.last_at)
        return self.outcomes.get(key, {})


def _approvals(records: list[ApprovalRecord]) -> dict[tuple[str, str, str], list[ApprovalRecord]]:
    """Latest vote per actor for each (deployment, version, environment)."""
    latest: dict[tuple[str, str, str, str], ApprovalRecord] = {}
    for rec in sorted(records, key=lambda r: r.at):
        latest[(rec.deployment, rec.version, rec.environment, rec.actor)] = rec
    out: dict[tuple[str, str, str], list[ApprovalRecord]] = defaultdict(list)
    for (dep, ver, env, _), rec in sorted(latest.items()):
        out[(dep, ver, env)].append(rec)
    return dict(out)


def _outcomes(facts: Facts):
    out: dict[tuple[str, str, str], dict[str, dict[str, tuple[datetime, datetime]]]] = {}
    for o in facts.outcomes:
        dep, env, res = o.target.split("/", 2)
        by_status = out.setdefault((dep, env, o.version), {})
        by_status.setdefault(o.status, {})[res] = (o.first_at, o.last_at)
    return out

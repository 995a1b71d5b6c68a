"""PlanIndex: read-only lookups built once per plan (targets by deployment × environment and by
resource, approvals, task outcomes, version creation times, compiled policies) plus the shared
memo of rule verdicts keyed by rule scope.

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
    targets: list[TargetKey]
    by_dep_env: dict[tuple[str, str], list[TargetKey]] = field(default_factory=dict)
    by_resource: dict[str, list[TargetKey]] = field(default_factory=dict)
    approvals: dict[tuple[str, str, str], list[ApprovalRecord]] = field(default_factory=dict)
    # (deployment, environment, version) -> status -> resource -> (first_at, last_at)
    outcomes: dict[tuple[str, str, str], dict[str, dict[str, tuple[datetime, datetime]]]] = field(default_factory=dict)
    policies: list[CompiledPolicy] = field(default_factory=list)
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    @classmethod
    def build(cls, catalog: Catalog, facts: Facts, targets: list[TargetKey]) -> PlanIndex:
        index = cls(catalog, facts, targets)
        by_dep_env: dict[tuple[str, str], list[TargetKey]] = defaultdict(list)
        by_resource: dict[str, list[TargetKey]] = defaultdict(list)
        for key in targets:
            by_dep_env[(key.deployment, key.environment)].append(key)
            by_resource[key.resource].append(key)
        index.by_dep_env, index.by_resource = dict(by_dep_env), dict(by_resource)
        index.approvals = _approvals(facts.approvals)
        index.outcomes = _outcomes(facts) if facts.outcome_source is None else {}
        enabled = [p for p in catalog.policies if p.enabled]
        enabled.sort(key=lambda p: (-p.priority, p.name))
        index.policies = [compile_policy(p) for p in enabled]
        return index

    def created_at(self, deployment: str, tag: str) -> datetime:
        version = self.catalog.version(deployment, tag)
        if version is not None and version.createdAt is not None:
            return version.createdAt
        return self.facts.first_seen.get((deployment, tag), self.facts.now)

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

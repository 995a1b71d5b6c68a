"""Build the release a target would run: resolved variables, merged and rendered job config,
placement, the inputs it resolves from, and its content-hash id.

Variable resolution follows Ctrlplane: a resource variable with the key wins, then the first
matching deployment value, then the first matching VariableSet (priority desc, name asc), then the
default. Only keys the deployment declares reach the release. Job config is deep-merged with
version ``jobAgentConfig`` > deployment ``agent.config`` > agent ``config``, then string values
are rendered by the injected ``render`` function (a jinja2 sandbox). Secrets appear only as
``<redacted>``; their HMAC digests (from Facts) make a changed secret visible without its value.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.models.catalog import Catalog
from reconciler.models.entities import Deployment, Environment, Resource, Version
from reconciler.models.keys import TargetKey
from reconciler.models.variables import secret_ref
from reconciler.planning import selectors
from reconciler.planning.merge import deep_merge, get_path

REDACTED = "<redacted>"
Render = Callable[[str, Mapping[str, Any]], str]


def digest(value: Any) -> str:
    """A stable short digest of JSON-shaped data."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Release:
    id: str
    target: TargetKey
    version: str
    variables: dict[str, Any]
    config: dict[str, Any]
    config_digest: str
    inputs: dict[str, Any]
    placement: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)  # variable key -> env var name
    template: dict[str, Any] = field(default_factory=dict)  # merged, unrendered job config
    context: dict[str, Any] = field(default_factory=dict)  # template context without variables

    def job_spec(self) -> dict[str, Any]:
        """What an executor needs to rebuild the job with real secret values, without Git."""
        return {"template": self.template, "context": self.context, "variables": self.variables,
                "secrets": self.secrets, "config": self.config}


def materialize(spec: dict[str, Any], render: Render, reveal: Callable[[str], str]) -> tuple[dict, dict]:
    """(variables, config) of a stored job spec with secrets revealed; only executors call this."""
    variables = dict(spec.get("variables", {}))
    secrets = spec.get("secrets", {})
    if not secrets:
        return variables, spec.get("config", {})
    for key, env_name in secrets.items():
        variables[key] = reveal(env_name)
    context = {**spec.get("context", {}), "variables": variables}
    return variables, render_tree(spec.get("template", {}), render, context)


@dataclass(frozen=True)
class Resolved:
    value: Any
    source: str  # "resource:<id>" | "deployment" | "variableSet:<name>"
    secret: str | None = None


def resolve_variables(catalog: Catalog, dep: Deployment, env: Environment, res: Resource,
                      views: Mapping[str, Any]) -> dict[str, Resolved]:
    """Resolved value and source of each variable the deployment declares."""
    out: dict[str, Resolved] = {}
    sets = None
    for key, decl in dep.variables.items():
        found = _resolve_one(key, decl, dep, env, res, views)
        if found is None:
            if sets is None:
                sets = _matching_sets(catalog, views)
            for vset in sets:
                if key in vset.variables:
                    found = (vset.variables[key], f"variableSet:{vset.name}")
                    break
        if found is None and decl.has_default:
            found = (decl.default, "deployment")
        if found is not None:
            value, source = found
            ref = secret_ref(value)
            secret = ref.env if ref else None
            out[key] = Resolved(value, source, secret)
    return out


def _resolve_one(key, decl, dep, env, res, views):
    if key in res.variables:
        return res.variables[key], f"resource:{res.identifier}"
    for rule in decl.values:
        if rule.environment is not None and rule.environment != env.name:
            continue
        if rule.resourceSelector is not None:
            program = selectors.compile_selector(rule.resourceSelector, "resource", selectors.RESOURCE)
            if not program.matches(views):
                continue
        return rule.value, "deployment"
    return None


def _matching_sets(catalog: Catalog, views: Mapping[str, Any]) -> list[Any]:
    if not catalog.variable_sets:
        return []
    ordered = sorted(catalog.variable_sets, key=lambda s: (-s.priority, s.name))
    return [s for s in ordered
            if selectors.compile_selector(s.selector, "resource", selectors.TARGET_SCOPE).matches(views)]


def build_release(catalog: Catalog, key: TargetKey, version: Version, render: Render,
                  secret_digests: Mapping[str, str], placement_fields: tuple[str, ...] = (),
                  created_at: str = "", template_digests: Mapping[str, str] | None = None,
                  memo: dict[Any, Any] | None = None, views: Mapping[str, Any] | None = None) -> Release:
    """The release of ``version`` on target ``key``. Raises TemplateError from ``render``.

    ``memo`` (shared across one plan) keeps entity digests and merged configs that many targets
    share; ``views`` are the target's selector views if the caller already has them.
    """
    memo = {} if memo is None else memo
    dep = catalog.deployments[key.deployment]
    env = catalog.environments[(dep.system, key.environment)]
    res = catalog.resources[key.resource]
    if views is None:
        views = {"resource": selectors.resource_view(res), "deployment": selectors.deployment_view(dep),
                 "environment": selectors.environment_view(env)}
    resolved = resolve_variables(catalog, dep, env, res, views)
    shown = {k: (REDACTED if r.secret is not None else r.value) for k, r in resolved.items()}
    agent = catalog.agents.get(dep.agent.ref) if dep.agent else None
    merged = _memo(memo, ("merged", dep.name, version.tag), lambda: deep_merge(
        agent.config if agent else {}, dep.agent.config if dep.agent else {}, version.jobAgentConfig))
    vview = _memo(memo, ("version-view", dep.name, version.tag, created_at),
                  lambda: selectors.version_view(version, created_at))
    context = {**views, "version": vview, "variables": shown, "system": dep.system, "target": str(key)}
    config = render_tree(merged, render, context)
    secrets = {k: r.secret for k, r in resolved.items() if r.secret}
    inputs = _inputs(dep, agent, version, env, res, resolved, secret_digests, memo)
    if dep.artifacts:
        inputs["templates"] = {a.template: (template_digests or {}).get(a.template or "", "")
                               for a in dep.artifacts if a.template}
    placement = {"resource": key.resource, **{f: get_path(config, f) for f in (*placement_fields, *dep.placement)}}
    config_digest = digest(config)
    # The id covers what the job receives; resource and environment digests are kept in ``inputs``
    # only to explain a change, since they matter only through the rendered config and variables.
    identity = {"target": str(key), "version": version.tag, "variables": shown, "config": config_digest,
                "deployment": inputs["deployment"], "version_inputs": inputs["version"],
                "secrets": {k: v.get("secret") for k, v in inputs["variables"].items() if "secret" in v}}
    if dep.artifacts:  # artifacts render from the whole context, so everything it holds counts
        identity.update(templates=inputs["templates"], resource=inputs["resource"], environment=inputs["environment"])
    rid = digest(identity)
    base_context = {k: v for k, v in context.items() if k != "variables"}
    return Release(rid, key, version.tag, shown, config, config_digest, inputs, placement, secrets, merged,
                   base_context)


def _memo(memo: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    found = memo.get(key)
    if found is None:
        found = memo[key] = make()
    return found


def _inputs(dep, agent, version, env, res, resolved, secret_digests, memo) -> dict[str, Any]:
    """Digests of everything the release resolves from, to explain why it changed."""
    variables = {}
    for k, r in resolved.items():
        entry = {"source": r.source, "digest": _memo(memo, ("value", repr(r.value)), lambda r=r: digest(r.value))}
        if r.secret:
            entry["secret"] = secret_digests.get(r.secret, "unresolved")
        variables[k] = entry
    return {
        "deployment": _memo(memo, ("dep-digest", dep.name), lambda: digest({
            "agent": deep_merge(agent.config if agent else {}, dep.agent.config if dep.agent else {}),
            "artifacts": [a.model_dump(mode="json") for a in dep.artifacts],
            "strategy": dep.strategy, "placement": dep.placement, "timeout": dep.timeout,
        })),
        "version": _memo(memo, ("ver-digest", dep.name, version.tag), lambda: digest(
            version.model_dump(mode="json", include={"config", "jobAgentConfig", "images"}))),
        "resource": _memo(memo, ("res-digest", res.identifier), lambda: digest(
            res.model_dump(mode="json", include={"name", "kind", "version", "metadata", "config"}))),
        "environment": _memo(memo, ("env-digest", env.system, env.name), lambda: digest(
            env.model_dump(mode="json", include={"metadata"}))),
        "variables": variables,
    }


def render_tree(value: Any, render: Render, context: Mapping[str, Any]) -> Any:
    """Render every string inside ``value`` that contains template markup."""
    if isinstance(value, str):
        return render(value, context) if ("{{" in value or "{%" in value) else value
    if isinstance(value, dict):
        return {k: render_tree(v, render, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, render, context) for v in value]
    return value

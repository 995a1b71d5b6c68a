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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from reconciler.errors import TemplateError, TemplateErrors
from reconciler.models.catalog import Catalog
from reconciler.models.entities import Deployment, Environment, Resource, Version
from reconciler.models.keys import TargetKey
from reconciler.models.variables import secret_ref
from reconciler.planning import selectors
from reconciler.planning.memo import model_digest
from reconciler.planning.merge import deep_merge, get_path

REDACTED = "<redacted>"
Render = Callable[[str, Mapping[str, Any]], str]


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)  # json.dumps' own, made once


def digest(value: Any) -> str:
    """A stable short digest of JSON-shaped data."""
    return hashlib.sha256(_ENCODER.encode(value).encode()).hexdigest()[:16]


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


class Resolved(NamedTuple):
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
    merged = memo.get(("merged", dep.name, version.tag))
    if merged is None:
        merged = memo[("merged", dep.name, version.tag)] = deep_merge(
            agent.config if agent else {}, dep.agent.config if dep.agent else {}, version.jobAgentConfig)
    vview = memo.get(("version-view", dep.name, version.tag, created_at))
    if vview is None:
        vview = memo[("version-view", dep.name, version.tag, created_at)] = selectors.version_view(version,
                                                                                                   created_at)
    context = {**views, "version": vview, "variables": shown, "system": dep.system, "target": str(key)}
    if type(merged) is dict:
        config, content = _render_config(merged, render, context, memo)
    else:
        config, content = _render_shared(merged, render, context, memo), None
    secrets = {k: r.secret for k, r in resolved.items() if r.secret}
    inputs = _inputs(dep, agent, version, env, res, resolved, secret_digests, memo)
    if dep.artifacts:
        inputs["templates"] = {a.template: (template_digests or {}).get(a.template or "", "")
                               for a in dep.artifacts if a.template}
    placement = {"resource": key.resource, **{f: get_path(config, f) for f in (*placement_fields, *dep.placement)}}
    config_digest = _config_digest(config, content, memo)
    # The id covers what the job receives; resource and environment digests are kept in ``inputs``
    # only to explain a change, since they matter only through the rendered config and variables.
    identity = {"target": str(key), "version": version.tag, "variables": shown, "config": config_digest,
                "deployment": inputs["deployment"], "version_inputs": inputs["version"],
                "secrets": {k: v.get("secret") for k, v in inputs["variables"].items() if "secret" in v}}
    if dep.artifacts:  # artifacts render from the whole context, so everything it holds counts
        identity.update(templates=inputs["templates"], resource=inputs["resource"], environment=inputs["environment"])
    rid = digest(identity)
    del context["variables"]  # the template context without variables, which the release keeps apart
    release = object.__new__(Release)  # Release(...) without per-field frozen __setattr__ calls
    release.__dict__.update(id=rid, target=key, version=version.tag, variables=shown, config=config,
                            config_digest=config_digest, inputs=inputs, placement=placement, secrets=secrets,
                            template=merged, context=context)
    return release


def _memo(memo: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    found = memo.get(key)
    if found is None:
        found = memo[key] = make()
    return found


def _inputs(dep, agent, version, env, res, resolved, secret_digests, memo) -> dict[str, Any]:
    """Digests of everything the release resolves from, to explain why it changed."""
    variables = {}
    for k, r in resolved.items():
        value_key = ("value", type(r.value), r.value) if type(r.value) in (str, int) else ("value", repr(r.value))
        value_digest = memo.get(value_key)
        if value_digest is None:
            value_digest = memo[value_key] = digest(r.value)
        entry = {"source": r.source, "digest": value_digest}
        if r.secret:
            entry["secret"] = secret_digests.get(r.secret, "unresolved")
        variables[k] = entry
    return {"deployment": _entity_digests(dep, agent, version, env, res, memo)[0],
            "version": memo[("ver-digest", dep.name, version.tag)], "resource": memo[("res-digest", res.identifier)],
            "environment": memo[("env-digest", env.system, env.name)], "variables": variables}


def _entity_digests(dep, agent, version, env, res, memo) -> tuple[str]:
    """Fill the memo with the digests of the deployment, version, resource and environment."""
    found = memo.get(("dep-digest", dep.name))
    if found is None:
        found = memo[("dep-digest", dep.name)] = digest({
            "agent": deep_merge(agent.config if agent else {}, dep.agent.config if dep.agent else {}),
            "artifacts": [a.model_dump(mode="json") for a in dep.artifacts],
            "strategy": dep.strategy, "placement": dep.placement, "timeout": dep.timeout,
        })
    if ("ver-digest", dep.name, version.tag) not in memo:
        memo[("ver-digest", dep.name, version.tag)] = model_digest(version, "release", lambda v: digest(
            v.model_dump(mode="json", include={"config", "jobAgentConfig", "images"})))
    if ("res-digest", res.identifier) not in memo:
        memo[("res-digest", res.identifier)] = model_digest(res, "release", lambda r: digest(
            r.model_dump(mode="json", include={"name", "kind", "version", "metadata", "config"})))
    if ("env-digest", env.system, env.name) not in memo:
        memo[("env-digest", env.system, env.name)] = model_digest(
            env, "release", lambda e: digest(e.model_dump(mode="json", include={"metadata"})))
    return (found,)


_SHARED_TEMPLATE = re.compile(  # text with only {{ version.x }}, {{ deployment.x }}, {{ environment.x }}
    r"(?:[^{}]|\{\{\s*(?:version|deployment|environment)(?:\.[A-Za-z_][A-Za-z0-9_]*)+\s*\}\})*")


_PLAIN, _LIST, _TREE = 0, 1, 2


def _render_config(merged: dict[str, Any], render: Render, context: Mapping[str, Any],
                   memo: dict[Any, Any]) -> tuple[dict[str, Any], tuple | None]:
    """``_render_shared`` of a whole job config, with its shape worked out once per config: which
    top-level values are plain (copied), lists of plain strings (copied), or need rendering.
    Returns the config and, when every rendered value is a scalar, a key of its content (the
    config's shape and those values, typed), so that its digest is computed once per content."""
    shape = memo.get(("config-shape", id(merged)))
    if shape is None:
        shape = memo[("config-shape", id(merged))] = ([(k, _kind(v), v) for k, v in merged.items()], merged)
    out, errors, rendered = {}, [], [id(merged)]
    for k, kind, v in shape[0]:
        if kind == _PLAIN:
            out[k] = v
        elif kind == _LIST:
            out[k] = list(v)
        else:
            try:
                value = out[k] = _render_shared(v, render, context, memo)
            except TemplateError as exc:  # go on: every failing setting is reported
                exc.setting = k  # type: ignore[attr-defined]
                errors.append(exc)
                continue
            if rendered is not None and type(value) in _SCALARS:
                rendered += (type(value), value)
            else:
                rendered = None
    if errors:
        raise errors[0] if len(errors) == 1 else TemplateErrors(errors)
    return out, tuple(rendered) if rendered is not None else None


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _config_digest(config: dict[str, Any], content: tuple | None, memo: dict[Any, Any]) -> str:
    """``digest(config)``, remembered by ``content`` (``_render_config``'s key) when there is one."""
    if content is None:
        return digest(config)
    key = ("config-digest", content)
    found = memo.get(key)
    if found is None:
        found = memo[key] = digest(config)
    return found


def _kind(value: Any) -> int:
    if isinstance(value, str):
        return _TREE if ("{{" in value or "{%" in value) else _PLAIN
    if isinstance(value, (dict, list)):
        plain = isinstance(value, list) and all(isinstance(v, str) and "{{" not in v and "{%" not in v for v in value)
        return _LIST if plain else _TREE
    return _PLAIN


def _render_shared(value: Any, render: Render, context: Mapping[str, Any], memo: dict[Any, Any]) -> Any:
    """``render_tree`` for a job config, remembering the rendering of strings that read only the
    version, deployment and environment (the same for every target sharing those views)."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        if not _SHARED_TEMPLATE.fullmatch(value):
            return render(value, context)
        key = ("rendered", value, id(context["version"]), id(context["deployment"]), id(context["environment"]))
        found = memo.get(key)
        if found is None:
            out = render(value, context)
            if type(out) not in (str, int, float, bool):
                return out  # a lone expression may yield a mutable value: never share one
            found = memo[key] = (out, context["version"], context["deployment"], context["environment"])
        return found[0]
    if isinstance(value, dict):
        return {k: _render_shared(v, render, context, memo) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_shared(v, render, context, memo) for v in value]
    return value


def render_tree(value: Any, render: Render, context: Mapping[str, Any]) -> Any:
    """Render every string inside ``value`` that contains template markup. Raises TemplateError, or
    TemplateErrors naming every failing string when more than one fails."""
    errors: list[TemplateError] = []
    out = _render_tree(value, render, context, errors)
    if errors:
        raise errors[0] if len(errors) == 1 else TemplateErrors(errors)
    return out


def _render_tree(value: Any, render: Render, context: Mapping[str, Any], errors: list[TemplateError]) -> Any:
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        try:
            return render(value, context)
        except TemplateError as exc:
            errors.append(exc)
            return value
    if isinstance(value, dict):
        return {k: _render_tree(v, render, context, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_tree(v, render, context, errors) for v in value]
    return value

"""Release targets: every (deployment, environment, resource) whose deployment and environment name
the same system and whose resource matches both selectors.

This is a purely computational module with no side effects. Each resource's selector view is
built once and each selector is evaluated once per resource, so the cost is
resources × (environments + deployments) compiled-selector calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.models.catalog import Catalog
from reconciler.models.keys import TargetKey
from reconciler.planning import selectors


def _matching(selector: Any, views: Sequence[tuple[str, dict[str, Any]]]) -> list[str]:
    program = selectors.compile_selector(selector, "resource", selectors.RESOURCE)
    if program.constant is True:
        return [ident for ident, _ in views]
    if program.constant is False:
        return []
    matches = program.matches
    return [ident for ident, view in views if matches({"resource": view})]


def compute_targets(catalog: Catalog) -> list[TargetKey]:
    """All release targets of ``catalog``, sorted by their canonical key string."""
    views = [(ident, selectors.resource_view(res)) for ident, res in catalog.resources.items()]
    out: list[TargetKey] = []
    env_cache: dict[tuple[str, str], list[str]] = {}
    for dep in catalog.deployments.values():
        envs = catalog.environments_of(dep.system)
        if not envs:
            continue
        dep_matches = set(_matching(dep.resourceSelector, views))
        if not dep_matches:
            continue
        for env in envs:
            ident = (env.system, env.name)
            if ident not in env_cache:
                env_cache[ident] = _matching(env.resourceSelector, views)
            out.extend(TargetKey(dep.name, env.name, r) for r in env_cache[ident] if r in dep_matches)
    out.sort(key=str)
    return out

"""Release targets: every (deployment, environment, resource) whose deployment and environment name
the same system and whose resource matches both selectors.

This is a purely computational module with no side effects. Each resource's selector view is
built once and each selector is evaluated once per resource, so the cost is
resources × (environments + deployments) compiled-selector calls. ``TargetSource`` computes the
targets of one deployment at a time, on first use, or takes them from a plan cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

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


class KnownTargets(Protocol):
    def get(self, deployment: str) -> list[TargetKey] | None: ...


class TargetSource:
    """The release targets of each deployment, sorted by key string, computed when first asked for.

    ``known`` supplies targets computed earlier (a plan cache) for deployments whose selectors,
    environments and resources did not change; ``computed`` names the deployments computed here.
    """

    def __init__(self, catalog: Catalog, known: Mapping[str, list[TargetKey]] | KnownTargets | None = None):
        self.catalog = catalog
        self._known = known
        self._by_dep: dict[str, list[TargetKey]] = {}
        self._views: list[tuple[str, dict[str, Any]]] | None = None
        self._envs: dict[tuple[str, str], list[str]] = {}
        self.computed: set[str] = set()

    def of(self, deployment: str) -> list[TargetKey]:
        found = self.known(deployment)
        if found is None:
            found = self._by_dep[deployment] = self._compute(deployment)
            self.computed.add(deployment)
        return found

    def known(self, deployment: str) -> list[TargetKey] | None:
        """The targets of ``deployment`` if already at hand (computed, or known from a cache)."""
        found = self._by_dep.get(deployment)
        if found is None and self._known is not None:
            found = self._known.get(deployment)
            if found is not None:
                self._by_dep[deployment] = found
        return found

    def adopt(self, deployment: str, keys: list[TargetKey], stored: bool = False) -> None:
        """Targets computed elsewhere (a planning worker) for ``deployment``; ``stored`` when that
        worker already cached them, so they do not count as computed here."""
        if deployment not in self._by_dep:
            self._by_dep[deployment] = keys
            if not stored:
                self.computed.add(deployment)

    def all(self) -> list[TargetKey]:
        """Every target of the catalog, sorted by key string."""
        out = [k for name in self.catalog.deployments for k in self.of(name)]
        out.sort(key=str)
        return out

    def _resource_views(self) -> list[tuple[str, dict[str, Any]]]:
        if self._views is None:
            self._views = [(ident, selectors.resource_view(res)) for ident, res in self.catalog.resources.items()]
        return self._views

    def _compute(self, deployment: str) -> list[TargetKey]:
        catalog = self.catalog
        dep = catalog.deployments.get(deployment)
        if dep is None:
            return []
        envs = catalog.environments_of(dep.system)
        if not envs:
            return []
        views = self._resource_views()
        dep_matches = set(_matching(dep.resourceSelector, views))
        if not dep_matches:
            return []
        out: list[TargetKey] = []
        for env in envs:
            ident = (env.system, env.name)
            if ident not in self._envs:
                self._envs[ident] = _matching(env.resourceSelector, views)
            out.extend(TargetKey(dep.name, env.name, r) for r in self._envs[ident] if r in dep_matches)
        out.sort(key=str)
        return out


def compute_targets(catalog: Catalog) -> list[TargetKey]:
    """All release targets of ``catalog``, sorted by their canonical key string."""
    return TargetSource(catalog).all()

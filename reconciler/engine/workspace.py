"""Open a workspace: load and validate desired state, including job-agent configs, which need the
executor registry and so are checked here rather than in ``loading``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.errors import ConfigError
from reconciler.executors import registry
from reconciler.loading import model_errors
from reconciler.loading.load import LoadResult, load_workspace
from reconciler.models.catalog import Catalog
from reconciler.planning.merge import deep_merge


@dataclass
class Workspace:
    loaded: LoadResult

    @property
    def catalog(self) -> Catalog:
        assert self.loaded.catalog is not None
        return self.loaded.catalog

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.loaded.diagnostics


def open_workspace(directory: str, ref: str | None = None, *, strict: bool = True) -> Workspace:
    """Load ``directory`` at ``ref``. With ``strict``, any error raises ConfigError with all diagnostics."""
    loaded = load_workspace(directory, ref)
    if loaded.catalog is not None:
        loaded.diagnostics.extend(agent_diagnostics(loaded))
        loaded.diagnostics.sort(key=lambda d: d.sort_key())
    ws = Workspace(loaded)
    if strict and not loaded.ok:
        raise ConfigError([d for d in loaded.diagnostics if d.severity == "error"])
    return ws


def agent_diagnostics(loaded: LoadResult) -> list[Diagnostic]:
    """Validate each JobAgent config, and each deployment's config merged over its agent's."""
    catalog = loaded.catalog
    assert catalog is not None
    out: list[Diagnostic] = []
    items = {(d.model.type, getattr(d.model, "name", "")): d for d in loaded.documents}  # type: ignore[attr-defined]
    known = ", ".join(sorted(registry.registry()))
    bad_agents = set()
    for name, agent in catalog.agents.items():
        item = items[("JobAgent", name)]
        if agent.agent_type not in registry.registry():
            bad_agents.add(name)
            out.append(Diagnostic("Unknown agent type", f"{agent.agent_type!r} is not a job agent type; use one of: "
                                  f"{known}.", loaded.positions.locate(item.path, item.index, ("config", "type"))))
    for name, dep in catalog.deployments.items():
        if dep.agent is None or dep.agent.ref not in catalog.agents or dep.agent.ref in bad_agents:
            continue
        merged = deep_merge(catalog.agents[dep.agent.ref].config, dep.agent.config)
        dep_item = items[("Deployment", name)]
        agent_item = items[("JobAgent", dep.agent.ref)]
        out.extend(_validate_merged(loaded, merged, dep_item, agent_item, dep.agent.config))
    return out


def _near_misses(loaded: LoadResult, merged: dict[str, Any], dep_item, agent_item, dep_config) -> list[Diagnostic]:
    cls = registry.registry()[merged["type"]].Config
    known = [name for name in cls.model_fields if name != "type"]
    out = []
    for key in merged:
        if key in known or key == "type":
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
        if close:
            item, path = (dep_item, ("agent", "config", key)) if key in dep_config else (agent_item, ("config", key))
            out.append(Diagnostic("Unknown agent setting", f"{key!r} is not a {merged['type']} agent setting and is "
                                  f"passed to the job as data. Did you mean {close[0]!r}?",
                                  loaded.positions.locate(item.path, item.index, path, key=True), Severity.WARNING))
    return out


def _validate_merged(loaded: LoadResult, merged: dict[str, Any], dep_item, agent_item, dep_config) -> list[Diagnostic]:
    try:
        registry.validate_config(merged)
        return _near_misses(loaded, merged, dep_item, agent_item, dep_config)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _templated(merged, e["loc"])]
        if not errors:
            return []
        cls = registry.registry()[merged["type"]].Config

        def locate(path, key=False):
            top = path[0] if path else None
            if top is not None and top in dep_config:
                return loaded.positions.locate(dep_item.path, dep_item.index, ("agent", "config", *path), key=key)
            return loaded.positions.locate(agent_item.path, agent_item.index, ("config", *path), key=key)

        kind = f"{merged['type']} agent config"
        return model_errors.diagnostics_from(errors, merged, kind, cls, locate)


def _templated(data: Any, loc: tuple[Any, ...]) -> bool:
    node = data
    for step in loc:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, str) and "{{" in node:
            return True
    return False

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
    """Validate each JobAgent config, each deployment's config merged over its agent's, each
    version's ``jobAgentConfig`` merged over both, and blue-green strategies against the agent."""
    catalog = loaded.catalog
    assert catalog is not None
    out: list[Diagnostic] = []
    items = {(d.model.type, getattr(d.model, "name", "")): d for d in loaded.documents}  # type: ignore[attr-defined]
    agents = registry.registry()
    bad_agents = set()
    for name, agent in catalog.agents.items():
        item = items[("JobAgent", name)]
        if agent.agent_type not in agents:
            bad_agents.add(name)
            where = loaded.positions.locate(item.path, item.index, ("config", "type"))
            broken = agents.problem(agent.agent_type)
            out.append(Diagnostic("Broken agent plugin", f"agent type {agent.agent_type!r} is installed, but {broken}."
                                  " Fix or reinstall the plugin, or use another type.", where) if broken else
                       Diagnostic("Unknown agent type", f"{agent.agent_type!r} is not a job agent type; use one of: "
                                  f"{', '.join(agents.usable())}.", where))
    layers: dict[str, list[Layer]] = {}
    for name, dep in catalog.deployments.items():
        if dep.agent is None or dep.agent.ref not in catalog.agents or dep.agent.ref in bad_agents:
            continue
        layers[name] = [(items[("Deployment", name)], ("agent", "config"), dep.agent.config),
                        (items[("JobAgent", dep.agent.ref)], ("config",), catalog.agents[dep.agent.ref].config)]
        out.extend(_validate_merged(loaded, layers[name]))
        out.extend(_strategy_check(loaded, items[("Deployment", name)], dep, layers[name]))
    used = {dep.agent.ref for dep in catalog.deployments.values() if dep.agent is not None}
    for name, agent in catalog.agents.items():  # unused agents: their own settings must still be right
        if name not in used and name not in bad_agents:
            out.extend(_validate_merged(loaded, [(items[("JobAgent", name)], ("config",), agent.config)],
                                        allow_missing=True))
    for doc in loaded.documents:
        model = doc.model  # type: ignore[attr-defined]
        if model.type == "Version" and model.jobAgentConfig and model.deployment in layers:
            out.extend(_validate_merged(loaded, [(doc, ("jobAgentConfig",), model.jobAgentConfig),
                                                 *layers[model.deployment]]))
    return out


Layer = tuple[Any, tuple[str, ...], dict[str, Any]]  # document item, path of its config, the config


def _merge(layers: list[Layer]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for _, _, config in reversed(layers):
        merged = deep_merge(merged, config)
    return merged


def _owner(layers: list[Layer], key: Any) -> Layer:
    """The layer a merged top-level key comes from (the highest that sets it)."""
    return next((layer for layer in layers if key in layer[2]), layers[-1])


def _strategy_check(loaded: LoadResult, dep_item, dep, layers: list[Layer]) -> list[Diagnostic]:
    from reconciler.engine.jobs import blue_green_problem

    if (dep.strategy or {}).get("type") != "blue-green":
        return []
    problem = blue_green_problem(str(_owner(layers, "type")[2].get("type")))
    return [Diagnostic("Unsupported strategy", problem, loaded.positions.locate(
        dep_item.path, dep_item.index, ("strategy", "type")))] if problem else []


def _near_misses(loaded: LoadResult, merged: dict[str, Any], layers: list[Layer]) -> list[Diagnostic]:
    cls = registry.registry()[merged["type"]].Config
    known = [name for name in cls.model_fields if name != "type"]
    out = []
    for key in merged:
        if key in known or key == "type":
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
        if close:
            item, prefix, _ = _owner(layers, key)
            out.append(Diagnostic("Unknown agent setting", f"{key!r} is not a {merged['type']} agent setting and is "
                                  f"passed to the job as data. Did you mean {close[0]!r}?",
                                  loaded.positions.locate(item.path, item.index, (*prefix, key), key=True),
                                  Severity.WARNING))
    return out


def _validate_merged(loaded: LoadResult, layers: list[Layer], allow_missing: bool = False) -> list[Diagnostic]:
    """Diagnostics of the merged config; ``allow_missing``: fields a deployment would supply may be absent."""
    merged = _merge(layers)
    try:
        registry.validate_config(merged)
        return _near_misses(loaded, merged, layers)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not _templated(merged, e["loc"])
                  and not (allow_missing and e["type"] == "missing")]
        if not errors:
            return []
        cls = registry.registry()[merged["type"]].Config

        def locate(path, key=False):
            item, prefix, _ = _owner(layers, path[0]) if path else layers[-1]
            return loaded.positions.locate(item.path, item.index, (*prefix, *path), key=key)

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

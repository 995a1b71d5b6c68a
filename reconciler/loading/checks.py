"""Cross-document checks: references between documents, and every expression the documents hold
(CEL selectors, RRULEs, timezones). Each problem becomes a diagnostic at the offending value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.diagnostics import Diagnostic, SourcePos
from reconciler.loading.positions import PositionIndex, scalar_offset
from reconciler.models.catalog import Catalog
from reconciler.models.keys import TargetKey
from reconciler.planning import cel, selectors
from reconciler.planning.selectors import RESOURCE, TARGET_SCOPE, VERSION_SCOPE

if TYPE_CHECKING:
    from reconciler.loading.load import Loaded


class _Checker:
    def __init__(self, catalog: Catalog, positions: PositionIndex):
        self.catalog = catalog
        self.positions = positions
        self.diags: list[Diagnostic] = []
        self.item: Loaded | None = None

    def at(self, keys: Sequence[str | int], key: bool = False) -> SourcePos:
        assert self.item is not None
        return self.positions.locate(self.item.path, self.item.index, keys, key=key)

    def error(self, summary: str, detail: str, keys: Sequence[str | int]) -> None:
        self.diags.append(Diagnostic(summary, detail, self.at(keys)))

    def ref(self, kind: str, name: str, known: Iterable[str], keys: Sequence[str | int], extra: str = "") -> bool:
        names = sorted(set(known))
        if name in names:
            return True
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else (f" Known: {', '.join(names[:10])}." if names else "")
        self.error(f"Unknown {kind}", f"No {kind} named {name!r} is defined{extra}.{hint}", keys)
        return False

    def expression(self, value: Any, keys: Sequence[str | int], entity: str, allowed: tuple[str, ...]) -> None:
        if value is None:
            return
        try:
            selectors.compile_selector(value, entity, allowed)
        except cel.CelSyntaxError as exc:
            pos = self.at(keys)
            offset = -1 if isinstance(value, dict) else scalar_offset(pos.path, self._read, pos)
            if offset >= 0 and "\n" not in str(value):
                pos = SourcePos(pos.path, pos.line, pos.column + offset + exc.column - 1)
            self.diags.append(Diagnostic("Invalid CEL", f"{exc} (column {exc.column} of {str(value)!r}).", pos))
        except (TypeError, ValueError) as exc:
            self.error("Invalid selector", f"{exc}.", keys)

    def _read(self, path: str) -> bytes | None:
        return self.positions._reader(path)  # noqa: SLF001 - same package


def check_catalog(catalog: Catalog, loaded: list[Loaded], positions: PositionIndex) -> list[Diagnostic]:
    """Every cross-document problem in ``loaded``, in document order."""
    checker = _Checker(catalog, positions)
    for item in loaded:
        checker.item = item
        handler = _HANDLERS.get(item.model.type)  # type: ignore[attr-defined]
        if handler is not None:
            handler(checker, item.model)
    return checker.diags


def _environment(c: _Checker, env) -> None:
    c.ref("system", env.system, c.catalog.systems, ("system",))
    c.expression(env.resourceSelector, ("resourceSelector",), "resource", RESOURCE)


def _deployment(c: _Checker, dep) -> None:
    c.ref("system", dep.system, c.catalog.systems, ("system",))
    if dep.agent is not None:
        c.ref("job agent", dep.agent.ref, c.catalog.agents, ("agent", "ref"))
    c.expression(dep.resourceSelector, ("resourceSelector",), "resource", RESOURCE)
    envs = [e.name for e in c.catalog.environments_of(dep.system)]
    for key, var in dep.variables.items():
        for i, rule in enumerate(var.values):
            path = ("variables", key, "values", i)
            if rule.environment is not None:
                c.ref("environment", rule.environment, envs, (*path, "environment"), f" in system {dep.system!r}")
            c.expression(rule.resourceSelector, (*path, "resourceSelector"), "resource", RESOURCE)


def _version(c: _Checker, version) -> None:
    if c.ref("deployment", version.deployment, c.catalog.deployments, ("deployment",),
             f" (version {version.tag!r} belongs to it)"):
        for upstream, expr in version.dependencies.items():
            c.ref("deployment", upstream, c.catalog.deployments, ("dependencies", upstream))
            c.expression(expr, ("dependencies", upstream), "version", ("version", "deployment"))


def _variable_set(c: _Checker, vset) -> None:
    c.expression(vset.selector, ("selector",), "resource", TARGET_SCOPE)


def _scope_selectors(c: _Checker, entries) -> None:
    for i, entry in enumerate(entries):
        c.expression(entry.environments, ("selectors", i, "environments"), "environment", TARGET_SCOPE)
        c.expression(entry.deployments, ("selectors", i, "deployments"), "deployment", TARGET_SCOPE)
        c.expression(entry.resources, ("selectors", i, "resources"), "resource", TARGET_SCOPE)


def _policy(c: _Checker, policy) -> None:
    _scope_selectors(c, policy.selectors)
    for i, (kind, rule) in enumerate(policy.parsed_rules()):
        path = ("rules", i, kind)
        if kind == "environmentProgression":
            c.expression(rule.dependsOnEnvironmentSelector, (*path, "dependsOnEnvironmentSelector"),
                         "environment", ("environment",))
        elif kind == "versionSelector":
            c.expression(rule.selector, (*path, "selector"), "version", VERSION_SCOPE)
        elif kind == "deploymentDependency":
            c.expression(rule.dependsOn, (*path, "dependsOn"), "deployment", ("deployment", "version"))
        elif kind == "verification":
            for j, metric in enumerate(rule.metrics):
                mpath = (*path, "metrics", j)
                c.expression(metric.successCondition, (*mpath, "successCondition"), "result", ("result",))
                c.expression(metric.failureCondition, (*mpath, "failureCondition"), "result", ("result",))


def _approval(c: _Checker, approval) -> None:
    dep = c.catalog.deployments.get(approval.deployment)
    if c.ref("deployment", approval.deployment, c.catalog.deployments, ("deployment",)) and dep is not None:
        envs = [e.name for e in c.catalog.environments_of(dep.system)]
        c.ref("environment", approval.environment, envs, ("environment",), f" in system {dep.system!r}")


def _freeze(c: _Checker, freeze) -> None:
    _scope_selectors(c, freeze.selectors)


def _pin(c: _Checker, pin) -> None:
    _scope_selectors(c, pin.selectors)
    if c.ref("deployment", pin.deployment, c.catalog.deployments, ("deployment",)):
        tags = [v.tag for v in c.catalog.versions.get(pin.deployment, [])]
        c.ref("version", pin.version, tags, ("version",), f" for deployment {pin.deployment!r}")
    for i, key in enumerate(pin.targets):
        try:
            TargetKey.parse(key)
        except ValueError as exc:
            c.error("Invalid target key", f"{exc}.", ("targets", i))


def _skip(c: _Checker, skip) -> None:
    from reconciler.models.policy import RULE_TYPES

    dep = c.catalog.deployments.get(skip.deployment)
    if c.ref("deployment", skip.deployment, c.catalog.deployments, ("deployment",)) and dep is not None:
        tags = [v.tag for v in c.catalog.versions.get(skip.deployment, [])]
        c.ref("version", skip.version, tags, ("version",), f" for deployment {skip.deployment!r}")
        if skip.environment is not None:
            envs = [e.name for e in c.catalog.environments_of(dep.system)]
            c.ref("environment", skip.environment, envs, ("environment",), f" in system {dep.system!r}")
    rule = skip.rule.split("/")[-1]
    if rule not in RULE_TYPES:
        c.ref("rule type", rule, RULE_TYPES, ("rule",))
    if "/" in skip.rule:
        c.ref("policy", skip.rule.split("/")[0], [p.name for p in c.catalog.policies], ("rule",))


_HANDLERS = {
    "Environment": _environment,
    "Deployment": _deployment,
    "Version": _version,
    "VariableSet": _variable_set,
    "Policy": _policy,
    "Approval": _approval,
    "Freeze": _freeze,
    "Pin": _pin,
    "PolicySkip": _skip,
}

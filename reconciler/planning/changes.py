"""Classify what a target needs, comparing its desired release with what it runs (Platz's
operations): install, upgrade (with a dotted config diff), reinstall (only something it resolves
from changed: a resource variable, a variable set, a secret, the resource), or recreate (its
placement moved).

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.models.records import ReleaseRecord, TargetState
from reconciler.planning.merge import dotted_diff
from reconciler.planning.releases import Release


def release_document(version: str, config: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    return {"version": version, "config": config, "variables": variables}


def classify(state: TargetState | None, release: Release, old: Callable[[], ReleaseRecord | None],
             full: Callable[[], TargetState | None] | None = None) -> tuple[str, str, dict] | None:
    """(operation, reason, diff) for moving from ``state`` to ``release``; None when unchanged.
    ``old`` fetches the release the target runs (only called when something changed); ``full``
    the whole state record when ``state`` is a slim one (only read when the placement or the
    inputs must be compared: not for a new version on a target without placement fields)."""
    if state is None:
        return "install", f"new target: install {release.version}", {}
    if state.release_id == release.id:
        return None
    if full is not None and (state.version == release.version or len(release.placement) > 1):
        state = full() or state
    diff = _diff(state, release, old())
    moved = {k: [state.placement.get(k), v] for k, v in release.placement.items()
             if k != "resource" and state.placement.get(k) != v and k in state.placement}
    if moved:
        what = ", ".join(f"{k} {a} → {b}" for k, (a, b) in sorted(moved.items()))
        return "recreate", f"placement changed: {what}", diff
    if state.version != release.version:
        return "upgrade", f"{release.version} is the newest deployable version", diff
    deployment_side = _deployment_side(state.inputs, release.inputs)
    if deployment_side:
        return "upgrade", deployment_side, diff
    return "reinstall", _resolution_reason(state, release), diff


def _diff(state: TargetState, release: Release, old: ReleaseRecord | None) -> dict[str, Any]:
    if old is None:
        return {"version": [state.version, release.version]} if state.version != release.version else {}
    before = release_document(old.version, old.config, old.variables)
    after = release_document(release.version, release.config, release.variables)
    return dotted_diff(before, after)


def _deployment_side(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Why the deployment itself changed, or '' if it did not."""
    reasons = []
    if old.get("deployment") != new.get("deployment"):
        reasons.append("deployment job config changed")
    if old.get("version") != new.get("version"):
        reasons.append("version config changed")
    old_t, new_t = old.get("templates", {}), new.get("templates", {})
    for name in sorted(set(old_t) | set(new_t)):
        if old_t.get(name) != new_t.get(name):
            reasons.append(f"artifact template {name} changed")
    old_vars, new_vars = old.get("variables", {}), new.get("variables", {})
    for key in sorted(set(old_vars) | set(new_vars)):
        a, b = old_vars.get(key), new_vars.get(key)
        if a == b:
            continue
        sources = {x["source"] for x in (a, b) if x}
        if "deployment" in sources and not any(x and "secret" in x for x in (a, b)):
            reasons.append(f"variable {key} changed in the deployment")
    return "; ".join(reasons)


def _resolution_reason(state: TargetState, release: Release) -> str:
    old, new = state.inputs, release.inputs
    reasons = []
    old_vars, new_vars = old.get("variables", {}), new.get("variables", {})
    for key in sorted(set(old_vars) | set(new_vars)):
        a, b = old_vars.get(key), new_vars.get(key)
        if a == b:
            continue
        reasons.append(_variable_reason(key, a, b))
    if old.get("resource") != new.get("resource"):
        reasons.append(f"resource {release.target.resource} changed")
    if old.get("environment") != new.get("environment"):
        reasons.append(f"environment {release.target.environment} changed")
    return "; ".join(reasons) or "release inputs changed"


def _variable_reason(key: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if old and new and "secret" in new and old.get("secret") != new.get("secret") and old["source"] == new["source"]:
        return f"secret behind variable {key} changed"
    entry = new or old or {}
    source = entry.get("source", "")
    kind, _, name = source.partition(":")
    where = {"resource": f"on resource {name}", "variableSet": f"in variable set {name}"}.get(kind, "")
    if old and new and old.get("source") != new.get("source"):
        return f"variable {key} now comes from {_describe(new['source'])} (was {_describe(old['source'])})"
    if new is None:
        return f"variable {key} no longer set {where}".rstrip()
    return f"variable {key} changed {where}".rstrip()


def _describe(source: str) -> str:
    kind, _, name = source.partition(":")
    return {"resource": f"resource {name}", "variableSet": f"variable set {name}"}.get(kind, "the deployment")

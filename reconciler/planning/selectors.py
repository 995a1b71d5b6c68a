"""Selectors: CEL strings or the structured shorthand, compiled once into fast callables, and the
plain-dict views of entities that selectors and templates see.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from reconciler.models.entities import Deployment, Environment, Resource, Version
from reconciler.planning import cel

RESOURCE = ("resource",)
TARGET_SCOPE = ("resource", "deployment", "environment")
VERSION_SCOPE = ("version", "environment", "resource", "deployment")


def selector_text(selector: str | dict[str, Any], entity: str) -> str:
    """The CEL text of a selector; the shorthand ``{kind: K}`` becomes ``resource.kind == "K"``."""
    if isinstance(selector, dict):
        return cel.shorthand_to_cel(selector, entity)
    return selector


@lru_cache(maxsize=4096)
def _compile(text: str, allowed: tuple[str, ...]) -> cel.Program:
    return cel.compile(text, allowed=allowed)


def compile_selector(selector: str | dict[str, Any], entity: str, allowed: tuple[str, ...] | None = None) -> cel.Program:
    """Compile ``selector`` whose shorthand refers to ``entity``; raises cel.CelSyntaxError."""
    text = selector_text(selector, entity)
    return _compile(text, tuple(sorted(allowed or (entity,))))


def resource_view(resource: Resource) -> dict[str, Any]:
    return {
        "identifier": resource.identifier,
        "name": resource.name,
        "kind": resource.kind,
        "version": resource.version,
        "metadata": resource.metadata,
        "config": resource.config,
        "id": resource.identifier,
    }


def environment_view(env: Environment) -> dict[str, Any]:
    return {"name": env.name, "system": env.system, "metadata": env.metadata, "description": env.description,
            "id": f"{env.system}/{env.name}"}


def deployment_view(dep: Deployment) -> dict[str, Any]:
    return {"name": dep.name, "system": dep.system, "metadata": dep.metadata, "description": dep.description,
            "slug": dep.name, "id": dep.name}


def version_view(version: Version, created_at: str = "") -> dict[str, Any]:
    return {
        "tag": version.tag,
        "name": version.name or version.tag,
        "status": version.status,
        "metadata": version.metadata,
        "config": version.config,
        "deployment": version.deployment,
        "createdAt": created_at or (version.createdAt.isoformat() if version.createdAt else ""),
        "id": f"{version.deployment}@{version.tag}",
        "message": version.message,
    }

"""The documents that CLI edits write: Version, Pin, Freeze and Approval, as plain data.

Each builder checks its inputs against the loaded catalog (unknown deployment, duplicate tag,
unpinned image) and raises ``UsageError`` with one clear line, then validates the document with
its model, so nothing that would fail to load is ever written. Key order follows the examples.
Pure functions: no files, no Git.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.errors import UsageError
from reconciler.models.catalog import Catalog
from reconciler.models.entities import Version
from reconciler.models.gitops import Approval, Freeze, Pin
from reconciler.models.keys import TargetKey

IMAGE = re.compile(r"^[^\s@=]+@sha256:[0-9a-f]{64}$")


def timestamp(at: datetime) -> str:
    """UTC, seconds precision, ``Z``: ``2026-11-20T09:00:00Z``."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pairs(values: tuple[str, ...] | list[str], option: str, *, typed: bool) -> dict[str, Any]:
    """``K=V`` arguments as a dict; with ``typed`` a value is read as YAML (``3`` is a number)."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} expects KEY=VALUE, got {item!r}")
        out[key] = _scalar(value) if typed else value
    return out


def _scalar(text: str) -> Any:
    if text == "":
        return ""
    try:
        value = YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        return text
    return text if value is None or isinstance(value, datetime) else value


def images(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    found = pairs(values, "--image", typed=False)
    for name, ref in found.items():
        if not IMAGE.match(ref):
            raise UsageError(f"--image {name}={ref}: pin the image by digest as REPO@sha256:<64 hex digits>")
    return found


def version(catalog: Catalog, deployment: str, tag: str, *, status: str, created_at: datetime,
            image_refs: dict[str, str], metadata: dict[str, str], config: dict[str, Any],
            job_config: dict[str, Any]) -> dict[str, Any]:
    require_deployment(catalog, deployment)
    if catalog.version(deployment, tag) is not None:
        path, _ = catalog.origins[("Version", deployment, tag)]
        raise UsageError(f"version {tag!r} of deployment {deployment!r} already exists in {path}")
    doc: dict[str, Any] = {"type": "Version", "deployment": deployment, "tag": tag, "status": status,
                           "createdAt": timestamp(created_at)}
    for key, value in (("images", image_refs), ("config", config), ("jobAgentConfig", job_config),
                       ("metadata", metadata)):
        if value:
            doc[key] = value
    return checked(Version, doc)


def pin(catalog: Catalog, name: str, *, deployment: str, version_tag: str, reason: str,
        environment: str | None, targets: list[str], until: datetime | None,
        created_by: str) -> dict[str, Any]:
    if ("Pin", name) in catalog.origins:
        raise UsageError(f"a Pin named {name!r} already exists in {catalog.origins[('Pin', name)][0]}")
    require_deployment(catalog, deployment)
    if catalog.version(deployment, version_tag) is None:
        known = ", ".join(v.tag for v in catalog.versions.get(deployment, [])) or "none"
        raise UsageError(f"deployment {deployment!r} has no version {version_tag!r} (known: {known})")
    for key in targets:
        _require_target(key, deployment)
    doc: dict[str, Any] = {"type": "Pin", "name": name, "deployment": deployment, "version": version_tag,
                           "reason": reason}
    if environment is not None:
        require_environment(catalog, environment, deployment)
        doc["selectors"] = [{"environments": _equals("environment", environment)}]
    if targets:
        doc["targets"] = list(targets)
    return checked(Pin, _finish(doc, until, created_by))


def freeze(catalog: Catalog, name: str, *, reason: str, environment: str | None, deployment: str | None,
           until: datetime | None, created_by: str) -> dict[str, Any]:
    if ("Freeze", name) in catalog.origins:
        raise UsageError(f"a Freeze named {name!r} already exists in {catalog.origins[('Freeze', name)][0]}")
    selector: dict[str, str] = {}
    if environment is not None:
        require_environment(catalog, environment, deployment)
        selector["environments"] = _equals("environment", environment)
    if deployment is not None:
        require_deployment(catalog, deployment)
        selector["deployments"] = _equals("deployment", deployment)
    doc: dict[str, Any] = {"type": "Freeze", "name": name, "reason": reason}
    if selector:
        doc["selectors"] = [selector]
    return checked(Freeze, _finish(doc, until, created_by))


def approval(catalog: Catalog, deployment: str, version_tag: str, environment: str, approved_by: str,
             reason: str, status: str, at: datetime) -> dict[str, Any]:
    require_deployment(catalog, deployment)
    require_environment(catalog, environment, deployment)
    doc: dict[str, Any] = {"type": "Approval", "deployment": deployment, "version": version_tag,
                           "environment": environment, "approvedBy": approved_by, "status": status}
    if reason:
        doc["reason"] = reason
    doc["at"] = timestamp(at)
    return checked(Approval, doc)


def require_deployment(catalog: Catalog, name: str) -> None:
    if name not in catalog.deployments:
        known = ", ".join(sorted(catalog.deployments)) or "none"
        raise UsageError(f"unknown deployment {name!r} (known: {known})")


def require_environment(catalog: Catalog, name: str, deployment: str | None) -> None:
    systems = [catalog.deployments[deployment].system] if deployment in catalog.deployments else None
    known = sorted({env for (system, env) in catalog.environments if systems is None or system in systems})
    if name not in known:
        where = f" for deployment {deployment!r}" if systems else ""
        raise UsageError(f"unknown environment {name!r}{where} (known: {', '.join(known) or 'none'})")


def checked(model: type[BaseModel], doc: dict[str, Any]) -> dict[str, Any]:
    try:
        model.model_validate(doc)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise UsageError(f"invalid {doc['type']}: {where}: {error['msg']}") from exc
    return doc


def _require_target(key: str, deployment: str) -> None:
    try:
        parsed = TargetKey.parse(key)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if parsed.deployment != deployment:
        raise UsageError(f"--target {key} belongs to deployment {parsed.deployment!r}, not {deployment!r}")


def _equals(entity: str, name: str) -> str:
    return f'{entity}.name == "{name}"'


def _finish(doc: dict[str, Any], until: datetime | None, created_by: str) -> dict[str, Any]:
    if until is not None:
        doc["until"] = timestamp(until)
    if created_by:
        doc["createdBy"] = created_by
    return doc

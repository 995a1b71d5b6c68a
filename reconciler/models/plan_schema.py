"""The JSON shape of ``reconciler plan --format json``, as pydantic models used to publish
``schemas/plan.schema.json``. The plan itself is built from plain dataclasses (planning.plan);
tests validate its JSON against this schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Summary(_Strict):
    install: int
    upgrade: int
    reinstall: int
    recreate: int
    uninstall: int
    rollback: int
    blocked: int
    unchanged: int
    orphaned: int
    inProgress: int


class ChangeDoc(_Strict):
    target: str = Field(description="deployment/environment/resource")
    deployment: str
    environment: str
    resource: str
    operation: str = Field(pattern="^(install|upgrade|reinstall|recreate|uninstall|rollback)$")
    fromVersion: str | None
    toVersion: str | None
    reason: str
    diff: dict[str, list[Any]] = Field(description='Dotted path -> [old, new], e.g. {"config.replicas": [3, 5]}.')
    releaseId: str | None
    retryOf: str | None = None
    queuedTask: str | None = None
    after: list[str] = Field(default_factory=list)
    strategy: str | None = None
    verification: list[str] = Field(default_factory=list)
    fromResource: str | None = None
    cancels: list[str] = Field(default_factory=list)
    batch: int | None = None
    artifacts: dict[str, Any] = Field(default_factory=dict)


class BlockedDoc(_Strict):
    target: str
    deployment: str
    environment: str
    resource: str
    version: str
    currentVersion: str | None
    policy: str
    rule: str
    message: str
    nextEvaluation: str | None = Field(description="When the answer can change by itself; null: only a person.")


class OrphanDoc(_Strict):
    target: str
    version: str
    reason: str


class InFlightDoc(_Strict):
    target: str
    taskId: str
    operation: str
    status: str
    version: str


class PlanDocument(_Strict):
    """What ``reconciler plan --format json`` prints."""

    workspace: str
    revision: str
    at: str
    summary: Summary
    changes: list[ChangeDoc]
    blocked: list[BlockedDoc]
    orphaned: list[OrphanDoc]
    inProgress: list[InFlightDoc]
    nextEvaluation: str | None
    notes: list[str]

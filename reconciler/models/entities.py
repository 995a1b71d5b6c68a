"""Document models for the inventory: System, Resource, Environment, JobAgent, Deployment, Version,
VariableSet. Field names follow Ctrlplane's ``ctrlc apply`` documents so those files load unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from reconciler.models.common import (
    IDENTIFIER_PATTERN,
    Document,
    Duration,
    Metadata,
    Name,
    Selector,
    SystemName,
    Timestamp,
)
from reconciler.models.variables import DeploymentVariable, VariableValue


class System(Document):
    """A logical grouping of deployments and environments."""

    type: Literal["System"] = "System"
    name: SystemName
    description: str = ""
    metadata: Metadata = Field(default_factory=dict)


class Resource(Document):
    """Something a deployment can run on: a cluster, a host, a compose host, a TF workspace."""

    type: Literal["Resource"] = "Resource"
    identifier: str = Field(pattern=IDENTIFIER_PATTERN, max_length=255)
    name: str
    kind: str
    version: str
    metadata: Metadata = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, VariableValue] = Field(default_factory=dict)
    provider: str | None = None


class Environment(Document):
    """A stage of a system (staging, production) that selects the resources it covers."""

    type: Literal["Environment"] = "Environment"
    name: Name
    system: SystemName
    description: str = ""
    resourceSelector: Selector = "false"
    metadata: Metadata = Field(default_factory=dict)


class JobAgent(Document):
    """Executes tasks. ``config.type`` names the agent type (command, ssh, compose, ...)."""

    type: Literal["JobAgent"] = "JobAgent"
    name: Name
    description: str = ""
    config: dict[str, Any]
    metadata: Metadata = Field(default_factory=dict)

    @field_validator("config")
    @classmethod
    def _needs_type(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("type"), str) or not value.get("type"):
            raise ValueError("config needs 'type:' naming the agent type, e.g. type: command")
        return value

    @property
    def agent_type(self) -> str:
        return str(self.config["type"])


class AgentRef(Document):
    """How a deployment reaches its job agent, with config merged over the agent's own."""

    ref: Name
    config: dict[str, Any] = Field(default_factory=dict)


class ArtifactSpec(Document):
    """A file rendered from a template for every target of a deployment."""

    type: Literal["compose-file", "compose-lock", "env-file", "systemd-unit", "nginx-config", "manifest", "file"]
    template: str | None = None
    path: str
    services: dict[str, str] = Field(default_factory=dict, description="compose-lock: service -> image name")
    values: dict[str, Any] = Field(default_factory=dict, description="env-file: KEY -> value template")


class Deployment(Document):
    """A service or application: what to deploy, on which resources, through which agent."""

    type: Literal["Deployment"] = "Deployment"
    name: Name
    system: SystemName
    description: str = ""
    resourceSelector: Selector = "true"
    agent: AgentRef | None = None
    metadata: Metadata = Field(default_factory=dict)
    variables: dict[str, DeploymentVariable] = Field(default_factory=dict)
    artifacts: list[ArtifactSpec] = Field(default_factory=list)
    placement: list[str] = Field(
        default_factory=list,
        description="Dotted paths in the merged job config whose change means the target moved (recreate).",
    )
    strategy: dict[str, Any] | None = None
    timeout: Duration | None = None


VersionStatus = Literal["building", "ready", "failed", "rejected", "paused"]


class Version(Document):
    """A build of a deployment that CI registered; ``images`` pin container images by digest."""

    type: Literal["Version"] = "Version"
    deployment: Name
    tag: str = Field(min_length=1, max_length=128)
    name: str = ""
    status: VersionStatus = "ready"
    createdAt: Timestamp | None = None
    message: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    jobAgentConfig: dict[str, Any] = Field(default_factory=dict)
    metadata: Metadata = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)
    dependencies: dict[str, str] = Field(
        default_factory=dict,
        description="Upstream deployment name -> CEL over its current `version` on the same resource.",
    )

    @field_validator("images")
    @classmethod
    def _digest_pinned(cls, value: dict[str, str]) -> dict[str, str]:
        for name, ref in value.items():
            if "@sha256:" not in ref or len(ref.rsplit("@sha256:", 1)[1]) != 64:
                raise ValueError(
                    f"image {name!r} must be pinned as repo@sha256:<64 hex digits>, got {ref!r}"
                )
        return value


class VariableSet(Document):
    """Shared variables for the targets its selector matches (CEL over resource, deployment, environment)."""

    type: Literal["VariableSet"] = "VariableSet"
    name: Name
    description: str = ""
    selector: Selector = "true"
    priority: int = 0
    variables: dict[str, VariableValue] = Field(default_factory=dict)

"""The validated desired state of one workspace at one revision, indexed for lookup.

A Catalog is built by ``reconciler.loading`` and only read afterwards. ``origins`` maps a document
identity such as ``("Deployment", "api")`` to where it was defined, for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reconciler.models.entities import Deployment, Environment, JobAgent, Resource, System, VariableSet, Version
from reconciler.models.gitops import Approval, Freeze, Pin, PolicySkip
from reconciler.models.policy import Policy
from reconciler.models.workspace import WorkspaceConfig


@dataclass
class Catalog:
    config: WorkspaceConfig
    revision: str = "worktree"
    dirty: bool = False
    root: str = "."
    systems: dict[str, System] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    environments: dict[tuple[str, str], Environment] = field(default_factory=dict)
    agents: dict[str, JobAgent] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)
    versions: dict[str, list[Version]] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    variable_sets: list[VariableSet] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    freezes: list[Freeze] = field(default_factory=list)
    pins: list[Pin] = field(default_factory=list)
    skips: list[PolicySkip] = field(default_factory=list)
    # Document identity -> (file, document index); positions are resolved only for messages.
    origins: dict[tuple[str, ...], tuple[str, int]] = field(default_factory=dict)
    # Declaration order of each version (file path, document index), the last tiebreak of "newest".
    version_order: dict[tuple[str, str], int] = field(default_factory=dict)

    def environments_of(self, system: str) -> list[Environment]:
        return [env for (sys_name, _), env in self.environments.items() if sys_name == system]

    def deployments_of(self, system: str) -> list[Deployment]:
        return [dep for dep in self.deployments.values() if dep.system == system]

    def version(self, deployment: str, tag: str) -> Version | None:
        for version in self.versions.get(deployment, ()):
            if version.tag == tag:
                return version
        return None

    def environment(self, deployment: str, name: str) -> Environment | None:
        dep = self.deployments.get(deployment)
        return self.environments.get((dep.system, name)) if dep else None


def version_created(version: Version, first_seen: dict[tuple[str, str], datetime], now: datetime) -> datetime:
    """When a version was created: its ``createdAt``, else when state first saw it, else ``now``."""
    if version.createdAt is not None:
        return version.createdAt
    return first_seen.get((version.deployment, version.tag), now)

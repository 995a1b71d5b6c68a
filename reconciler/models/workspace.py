"""The workspace configuration file ``reconciler.yaml`` at the root of a desired-state directory."""

from __future__ import annotations

from pydantic import Field

from reconciler.models.common import Document, Duration, Name


class WorkspaceConfig(Document):
    """Workspace name, where recorded state lives, and defaults for runs."""

    workspace: Name
    description: str = ""
    state: str | None = Field(
        default=None,
        description="State URL: sqlite:///path (relative to this directory), postgresql://..., git+branch:NAME.",
    )
    prune: bool = Field(default=False, description="Uninstall targets that no longer exist.")
    maxParallel: int = Field(default=4, ge=1, le=256)
    lockTimeout: Duration = 60
    taskTimeout: Duration = 600
    logLimit: int = Field(default=16384, ge=1024, description="Bytes of task log kept (the tail).")
    templatesDir: str = "templates"
    renderDir: str = "rendered"
    exclude: list[str] = Field(
        default_factory=list, description="Extra folders or glob patterns (relative) not read as desired state."
    )

"""The job-agent contract: what an agent receives (a Job), what it returns (an AgentResult), and the
base class every agent type derives from.

Synchronous agents finish inside ``dispatch``. Asynchronous agents return ``triggered`` or
``in_progress`` with an ``external_id``; the engine then calls ``poll`` on later runs until the
status is terminal. Exceptions: ``TerminalError`` fails the task for good; ``TransientError`` and
any other exception fail this attempt, subject to the retry rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

DEFAULT_POLL_SECONDS = 10.0


class AgentConfig(BaseModel):
    """Base of agent config models. ``type`` is the agent type.

    The merged job config (agent ⊕ deployment ⊕ version) carries both the agent's own settings and
    free-form values the job passes on (an image, a replica count), so other fields are allowed;
    ``validate`` warns when one looks like a misspelt setting.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str


@dataclass(frozen=True)
class Job:
    """Everything an agent needs for one task, frozen at dispatch time."""

    task_id: str
    attempt: int
    operation: str
    target: str
    deployment: str
    environment: str
    resource: str
    version: str
    release_id: str
    config: dict[str, Any]
    variables: dict[str, Any]
    release: dict[str, Any]
    artifacts: dict[str, str] = field(default_factory=dict)
    previous_version: str | None = None
    external_id: str | None = None
    status: str = ""  # the task's recorded status and message when the job was built (for polls)
    message: str = ""

    def payload(self) -> dict[str, Any]:
        """The JSON document sent to agents (stdin of a command, body of an HTTP POST)."""
        return {
            "taskId": self.task_id,
            "attempt": self.attempt,
            "operation": self.operation,
            "target": self.target,
            "deployment": self.deployment,
            "environment": self.environment,
            "resource": self.resource,
            "version": self.version,
            "previousVersion": self.previous_version,
            "releaseId": self.release_id,
            "config": self.config,
            "variables": self.variables,
            "release": self.release,
            "artifacts": sorted(self.artifacts),
        }


@dataclass
class AgentResult:
    """What an agent reports. ``status`` is one of the task statuses (done, failed, triggered, ...)."""

    status: str
    message: str = ""
    log: str = ""
    external_id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExecContext:
    """Where an agent runs: the desired-state directory (the working directory) and a scratch dir."""

    workdir: Path
    scratch: Path
    timeout: float
    cancel_requested: Any = None  # callable returning True when the task should stop


class Agent:
    """Base class of job agents. Subclasses set ``type``, ``Config`` and implement ``dispatch``."""

    type: ClassVar[str] = ""
    Config: ClassVar[type[AgentConfig]] = AgentConfig
    asynchronous: ClassVar[bool] = False
    supports_read: ClassVar[bool] = False
    # Config fields that say *where* a target runs (a namespace, a host); a change plans a recreate.
    placement_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: AgentConfig):
        self.config = config

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        raise NotImplementedError

    def poll(self, job: Job, ctx: ExecContext) -> AgentResult:
        """Asynchronous agents: the current status of a dispatched job."""
        raise NotImplementedError(f"{self.type} agents are synchronous")

    def poll_interval(self) -> float:
        """Asynchronous agents: seconds the engine should leave between two polls of a task."""
        return float(getattr(self.config, "pollInterval", DEFAULT_POLL_SECONDS))

    def cancel(self, job: Job, ctx: ExecContext) -> None:
        """Best effort: ask the external system to stop. Cancelling never undoes work."""

    def finalize(self, job: Job, ctx: ExecContext, outputs: dict[str, Any], succeeded: bool) -> AgentResult | None:
        """After verification: switch to what ``dispatch`` prepared (blue-green) or abandon it.

        ``outputs`` are what ``dispatch`` returned. Agents without a second phase return None.
        """
        return None

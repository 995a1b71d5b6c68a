"""The ``pull`` agent: jobs wait in a queue until an agent polls ``reconciler serve`` for them.

For hosts that cannot be reached from CI (firewalled), work is pulled instead of pushed, as in
Ctrlplane's job-agent loop. ``dispatch`` only marks the task ``triggered`` ("queued for pull
agents"); a pull agent claims it through ``GET /api/v1/job-agents/{name}/queue/next`` (the
JobAgent's name), acknowledges it, runs it, and reports through ``PATCH /api/v1/jobs/{id}``, which
finishes the task in recorded state. ``poll`` never calls anything: the outcome arrives through
the API, so a later ``apply`` only keeps the task in flight. Asynchronous.

``execute`` is the config of the agent the pull agent runs locally (``reconciler agent run``):
``{type: pull, execute: {type: command, command: [./deploy.sh]}}``. The other keys of the merged
job config are passed on to it as well.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.models import statuses

QUEUED_MESSAGE = "queued for pull agents"


class PullConfig(AgentConfig):
    type: str = "pull"
    execute: dict[str, Any] | None = Field(
        None, description="Config of the agent a pull agent runs locally, e.g. {type: command, command: [...]}; "
                          "type defaults to command.")

    @field_validator("execute")
    @classmethod
    def _local_type(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") == "pull":
            raise ValueError("execute must name a local agent type (command, compose, ...), not pull")
        return value


class PullAgent(Agent):
    type = "pull"
    Config = PullConfig
    asynchronous = True
    placement_fields: ClassVar[tuple[str, ...]] = ()

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        return AgentResult(statuses.TRIGGERED, QUEUED_MESSAGE)

    def poll(self, job: Job, ctx: ExecContext) -> AgentResult:
        # The API records the agent's reports directly, so a poll only repeats what is recorded.
        status = job.status if job.status in (statuses.TRIGGERED, statuses.IN_PROGRESS) else statuses.TRIGGERED
        return AgentResult(status, job.message or QUEUED_MESSAGE, external_id=job.external_id)


def local_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config of the agent a pull agent runs locally: ``execute`` over the job's other values."""
    execute = dict(config.get("execute") or {})
    passed = {k: v for k, v in config.items() if k not in ("type", "execute")}
    return {**passed, **execute, "type": execute.get("type", "command")}

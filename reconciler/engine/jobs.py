"""Turn a task into the Job an agent receives: reveal secrets from the environment, re-render the
job config from the task's stored spec, and scrub secret values from anything recorded."""

from __future__ import annotations

import os
from typing import Any

from reconciler.errors import InvalidAgentError, TerminalError
from reconciler.executors import registry
from reconciler.executors.base import Job
from reconciler.models.records import TaskRecord
from reconciler.planning.releases import REDACTED, materialize
from reconciler.rendering.sandbox import render_value


def reveal(env_name: str) -> str:
    value = os.environ.get(env_name)
    if value is None:
        raise TerminalError(f"secret environment variable {env_name} is not set for this run")
    return value


def build_job(task: TaskRecord, artifacts: dict[str, str] | None = None) -> tuple[Job, list[str]]:
    """The job for ``task`` and the secret values it contains (to scrub from logs)."""
    spec = task.job
    variables, config = materialize(spec, render_value, reveal)
    if (spec.get("strategy") or {}).get("type") == "blue-green":
        config = blue_green(config)
    secrets = [str(variables[k]) for k in spec.get("secrets", {}) if variables.get(k)]
    context = spec.get("context", {})
    if spec.get("artifacts"):
        from reconciler.engine.artifacts import render_for_execution

        artifacts = {**render_for_execution(spec, variables, config), **(artifacts or {})}
    release = {
        "id": task.release_id,
        "revision": task.revision,
        "version": context.get("version", {"tag": task.version}),
        "environment": context.get("environment", {"name": task.environment}),
        "resource": context.get("resource", {"identifier": task.resource}),
        "deployment": context.get("deployment", {"name": task.deployment}),
        "variables": variables,
    }
    job = Job(task.id, task.attempt, task.operation, task.target, task.deployment, task.environment, task.resource,
              task.version, task.release_id, config, variables, release, artifacts or {}, task.from_version,
              task.external_id, task.status, task.message)
    return job, secrets


def supports_blue_green(agent_type: str) -> bool:
    cls = registry.registry().get(agent_type)
    return cls is not None and "blueGreen" in cls.Config.model_fields


def blue_green_problem(agent_type: str) -> str | None:
    """Why ``strategy: blue-green`` cannot run on ``agent_type`` (None when it can)."""
    if supports_blue_green(agent_type):
        return None
    able = ", ".join(sorted(t for t in registry.registry() if supports_blue_green(t)))
    return (f"strategy blue-green needs an agent that runs two colours ({able}); the {agent_type} agent cannot. "
            "Use one of those or another strategy.")


def blue_green(config: dict[str, Any]) -> dict[str, Any]:
    """The agent config for a ``strategy: blue-green`` release: the agent's own two-colour mode."""
    problem = blue_green_problem(str(config.get("type")))
    if problem:
        raise InvalidAgentError(problem)
    return {**config, "blueGreen": True}


def scrub(text: str, secrets: list[str]) -> str:
    for value in sorted(set(secrets), key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, REDACTED)
    return text


def bound_log(text: str, limit: int) -> tuple[str, int]:
    """Keep the tail of ``text`` within ``limit`` bytes; return it and how many bytes were cut."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, 0
    cut = len(data) - limit
    tail = data[cut:].decode("utf-8", "ignore")
    return f"[... {cut} bytes cut; the last {limit} bytes follow ...]\n{tail}", cut


def redacted_payload(job: Job, secrets: list[str]) -> dict[str, Any]:
    return {"config": job.config, "variables": {k: (REDACTED if str(v) in secrets else v)
                                                for k, v in job.variables.items()}}

"""The agent registry: built-in agent types plus third-party ones from the ``reconciler.agents``
entry-point group. Validates agent configs before anything runs.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from reconciler.errors import InvalidAgentError
from reconciler.executors.base import Agent


def _builtins() -> dict[str, type[Agent]]:
    from reconciler.executors.builtin import BUILTIN_AGENTS

    return {cls.type: cls for cls in BUILTIN_AGENTS}


_REGISTRY: dict[str, type[Agent]] | None = None


def registry() -> dict[str, type[Agent]]:
    """Agent type -> class. Entry points load once; a broken plugin does not hide the built-ins."""
    global _REGISTRY
    if _REGISTRY is None:
        found = _builtins()
        for ep in entry_points(group="reconciler.agents"):
            try:
                cls = ep.load()
            except Exception:  # noqa: BLE001 - a broken plugin must not break every command
                continue
            if isinstance(cls, type) and issubclass(cls, Agent) and cls.type:
                found.setdefault(cls.type, cls)
        _REGISTRY = found
    return _REGISTRY


def validate_config(config: dict[str, Any]) -> Any:
    """The typed config for ``config`` (which has ``type``); raises KeyError or ValidationError."""
    agent_type = config.get("type")
    cls = registry().get(str(agent_type))
    if cls is None:
        raise KeyError(agent_type)
    return cls.Config.model_validate(config)


def create(config: dict[str, Any]) -> Agent:
    """An agent instance for a merged job config; invalid config is a TerminalError."""
    agent_type = str(config.get("type"))
    cls = registry().get(agent_type)
    if cls is None:
        known = ", ".join(sorted(registry()))
        raise InvalidAgentError(f"job agent type {agent_type!r} is not registered (known: {known})")
    try:
        return cls(cls.Config.model_validate(config))
    except ValidationError as exc:
        raise InvalidAgentError(f"invalid {agent_type} agent config: {exc.errors()[0]['msg']}") from exc

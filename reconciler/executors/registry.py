"""The agent registry: built-in agent types plus third-party ones from the ``reconciler.agents``
entry-point group. Validates agent configs before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from reconciler.errors import InvalidAgentError
from reconciler.executors.base import Agent


class Registry(Mapping[str, type[Agent]]):
    """Agent type -> class, importing each class on first use.

    Built-ins come from ``executors.builtin.BUILTIN_PATHS``; third-party agents from the
    ``reconciler.agents`` entry-point group, whose entry names are the agent types. A plugin that
    fails to import is left out rather than breaking every command.
    """

    def __init__(self) -> None:
        from reconciler.executors.builtin import BUILTIN_PATHS

        self._paths: dict[str, Any] = dict(BUILTIN_PATHS)
        for ep in entry_points(group="reconciler.agents"):
            self._paths.setdefault(ep.name, ep)
        self._loaded: dict[str, type[Agent] | None] = {}
        self._problems: dict[str, str] = {}

    def _load(self, name: str) -> type[Agent] | None:
        if name not in self._loaded:
            target = self._paths.get(name)
            cls = None
            if isinstance(target, str):
                from reconciler.executors.builtin import load

                cls = load(target)
            elif target is not None:
                try:
                    cls = target.load()
                except Exception as exc:  # noqa: BLE001 - a broken plugin must not break every command
                    cls = f"fails to import: {type(exc).__name__}: {exc}"
            ok = isinstance(cls, type) and issubclass(cls, Agent) and cls.type == name
            if not ok and target is not None and not isinstance(target, str):
                why = cls if isinstance(cls, str) else f"is not an Agent subclass whose type is {name!r}"
                self._problems[name] = f"its plugin (entry point {target.value!r} of the reconciler.agents group) {why}"
            self._loaded[name] = cls if ok else None
        return self._loaded[name]

    def problem(self, name: str) -> str | None:
        """Why agent type ``name`` is installed but unusable (a broken plugin), else None."""
        self._load(name)
        return self._problems.get(name)

    def usable(self) -> list[str]:
        """Every agent type that is not a broken plugin (built-ins are not imported to tell)."""
        return [name for name in self if isinstance(self._paths[name], str) or self._load(name) is not None]

    def __getitem__(self, name: str) -> type[Agent]:
        cls = self._load(name)
        if cls is None:
            raise KeyError(name)
        return cls

    def __iter__(self):
        return iter(sorted(self._paths))

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._paths and self._load(name) is not None


_REGISTRY: Registry | None = None


def registry() -> Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry()
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
        broken = registry().problem(agent_type)
        if broken:
            raise InvalidAgentError(f"job agent type {agent_type!r} cannot be used: {broken}")
        known = ", ".join(registry().usable())
        raise InvalidAgentError(f"job agent type {agent_type!r} is not registered (known: {known})")
    try:
        return cls(cls.Config.model_validate(config))
    except ValidationError as exc:
        raise InvalidAgentError(f"invalid {agent_type} agent config: {exc.errors()[0]['msg']}") from exc

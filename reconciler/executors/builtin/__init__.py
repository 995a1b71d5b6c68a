"""Built-in job agents, listed explicitly (no registration by import side effect)."""

from reconciler.executors.builtin.command import CommandAgent

BUILTIN_AGENTS = [CommandAgent]

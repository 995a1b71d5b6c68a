"""Options shared by many commands, as decorators."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click


def directory(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-C", "directory", default=".", metavar="DIR", show_default=True,
                        help="Desired-state directory (holds reconciler.yaml).")(f)


def ref(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--ref", default=None, metavar="REV",
                        help="Read desired state from this Git revision instead of the working tree.")(f)


def state(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--state", "state_url", default=None, metavar="URL",
                        help="State backend URL (sqlite:///path, postgresql://...). "
                             "Default: $RECONCILER_STATE, reconciler.yaml, then .reconciler/state.db.")(f)


def output_format(*choices: str, default: str = "text") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                            show_default=True, help="Output format.")(f)

    return decorate


def at(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--at", "at", default=None, metavar="ISO8601",
                        help="Evaluate as if it were this time (default: now).")(f)


def actor(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--actor", default=None, metavar="NAME",
                        help="Who acts: default $RECONCILER_ACTOR, $GITHUB_ACTOR, then the OS user.")(f)


def env_actor() -> str | None:
    return os.environ.get("RECONCILER_ACTOR") or os.environ.get("GITHUB_ACTOR")

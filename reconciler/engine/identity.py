"""Who is acting: ``--actor``, ``$RECONCILER_ACTOR``, ``$GITHUB_ACTOR``, or the OS user, and whether
that actor is a person or a bot (names ending in ``[bot]``/``-bot``, or an unattended CI run)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str  # user | bot

    def __str__(self) -> str:
        return self.name


def resolve_actor(explicit: str | None = None) -> Actor:
    name = explicit or os.environ.get("RECONCILER_ACTOR") or os.environ.get("GITHUB_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = f"uid-{os.getuid()}"
    kind = os.environ.get("RECONCILER_ACTOR_KIND", "")
    if kind not in ("user", "bot"):
        lowered = name.lower()
        bot = lowered.endswith(("[bot]", "-bot", "_bot")) or lowered in ("ci", "cron", "scheduler")
        if not explicit and not os.environ.get("RECONCILER_ACTOR") and os.environ.get("GITHUB_EVENT_NAME") == "schedule":
            bot = True
        kind = "bot" if bot else "user"
    return Actor(name, kind)

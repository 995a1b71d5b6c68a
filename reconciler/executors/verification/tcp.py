"""``tcp`` provider: open a connection to ``host:port``; result ``{ok, duration, error}``."""

from __future__ import annotations

import socket
import time
from typing import Any

from reconciler.models.common import parse_duration


def measure(provider: dict[str, Any], workdir: str) -> dict[str, Any]:
    started = time.monotonic()
    timeout = parse_duration(provider.get("timeout", "5s"))
    try:
        with socket.create_connection((provider["host"], int(provider["port"])), timeout=timeout):
            pass
    except OSError as exc:
        return {"ok": False, "error": str(exc), "duration": int((time.monotonic() - started) * 1000)}
    return {"ok": True, "duration": int((time.monotonic() - started) * 1000)}

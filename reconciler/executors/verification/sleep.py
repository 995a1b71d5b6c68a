"""``sleep`` provider: wait ``duration`` and succeed (``{ok: true}``); a soak without a probe."""

from __future__ import annotations

import time
from typing import Any

from reconciler.models.common import parse_duration


def measure(provider: dict[str, Any], workdir: str) -> dict[str, Any]:
    time.sleep(min(parse_duration(provider.get("duration", "1s")), 3600))
    return {"ok": True}

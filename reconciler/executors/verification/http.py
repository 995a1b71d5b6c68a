"""``http`` provider: request a URL; result ``{ok, statusCode, body, json, headers, duration}``."""

from __future__ import annotations

import json
import time
from typing import Any

from reconciler.models.common import parse_duration


def measure(provider: dict[str, Any], workdir: str) -> dict[str, Any]:
    import httpx  # here, not at import: every apply imports the providers, few verify over HTTP (60 ms)

    started = time.monotonic()
    timeout = parse_duration(provider.get("timeout", "10s"))
    try:
        response = httpx.request(provider.get("method", "GET"), provider["url"], headers=provider.get("headers"),
                                 content=provider.get("body"), timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        return {"ok": False, "statusCode": 0, "error": f"{type(exc).__name__}: {exc}",
                "duration": int((time.monotonic() - started) * 1000)}
    body = response.text
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return {"ok": response.is_success, "statusCode": response.status_code, "body": body[:65536], "json": parsed,
            "headers": dict(response.headers), "duration": int((time.monotonic() - started) * 1000)}

"""``prometheus`` provider: an instant (``/api/v1/query``) or range (``/api/v1/query_range``)
query against the Prometheus HTTP API. Result ``{ok, statusCode, value, results: [{metric, value}],
json, duration}``; ``value`` is the first series' (last) sample as a number."""

from __future__ import annotations

import time
from typing import Any

from reconciler.models.common import parse_duration


def _params(provider: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    query = provider["query"]
    ranged = provider.get("rangeQuery")
    if not ranged:
        return "/api/v1/query", {"query": query}
    step = parse_duration(ranged.get("step", "60s"))
    end = time.time() - parse_duration(ranged.get("end", "0s"))
    start = end - parse_duration(ranged.get("start", step * 10))
    return "/api/v1/query_range", {"query": query, "start": start, "end": end, "step": step}


def _sample(item: dict[str, Any]) -> float | None:
    pair = item.get("value") or (item.get("values") or [None])[-1]
    try:
        return float(pair[1]) if pair else None
    except (TypeError, ValueError, IndexError):
        return None


def measure(provider: dict[str, Any], workdir: str) -> dict[str, Any]:
    path, params = _params(provider)
    headers = {h["key"]: h["value"] for h in provider.get("headers", [])}
    token = (provider.get("authentication") or {}).get("bearerToken")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    import httpx  # here, not at import: every apply imports the providers (60 ms)

    started = time.monotonic()
    try:
        response = httpx.get(provider["address"].rstrip("/") + path, params=params, headers=headers,
                             timeout=parse_duration(provider.get("timeout", "10s")),
                             verify=not provider.get("insecure", False))
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"ok": False, "statusCode": 0, "error": f"{type(exc).__name__}: {exc}"}
    data = body.get("data", {}) if isinstance(body, dict) else {}
    results = [{"metric": r.get("metric", {}), "value": _sample(r)} for r in data.get("result", [])
               if isinstance(r, dict)]
    if data.get("resultType") == "scalar":
        results = [{"metric": {}, "value": _sample({"value": data.get("result")})}]
    return {"ok": response.is_success and body.get("status") == "success", "statusCode": response.status_code,
            "value": results[0]["value"] if results else None, "results": results, "json": body,
            "error": body.get("error"), "errorType": body.get("errorType"),
            "duration": int((time.monotonic() - started) * 1000)}

"""Verification providers: take one measurement and return the ``result`` map that a metric's CEL
conditions see. Providers never decide pass or fail; ``planning.verification`` does.

Provider errors (connection refused, timeout) are measurements too: ``{"ok": false, "error": ...}``,
so a dead endpoint fails verification instead of hanging it.
"""

from __future__ import annotations

from typing import Any

from reconciler.executors.verification import command, http, prometheus, sleep, tcp

PROVIDERS = {"http": http.measure, "tcp": tcp.measure, "command": command.measure,
             "prometheus": prometheus.measure, "sleep": sleep.measure}


def measure(provider: dict[str, Any], workdir: str) -> dict[str, Any]:
    kind = provider.get("type")
    fn = PROVIDERS.get(str(kind))
    if fn is None:
        return {"ok": False, "error": f"unknown verification provider {kind!r}"}
    try:
        return fn(provider, workdir)
    except Exception as exc:  # noqa: BLE001 - a provider failure is a failed measurement
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}

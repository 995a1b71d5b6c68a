"""``command`` provider: run an argv (no shell); result ``{ok, exitCode, stdout, stderr, json}``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from reconciler.models.common import parse_duration


def measure(provider: dict[str, Any], workdir: str) -> dict[str, Any]:
    argv = provider["command"]
    if isinstance(argv, str):
        return {"ok": False, "error": "command must be a list of arguments"}
    if "/" in argv[0] and not Path(argv[0]).is_absolute():
        argv = [str(Path(workdir, argv[0]).resolve()), *argv[1:]]
    try:
        proc = subprocess.run(argv, cwd=workdir, capture_output=True, text=True,
                              timeout=parse_duration(provider.get("timeout", "30s")))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ok": False, "exitCode": -1, "error": str(exc)}
    try:
        parsed = json.loads(proc.stdout) if proc.stdout.strip() else None
    except ValueError:
        parsed = None
    return {"ok": proc.returncode == 0, "exitCode": proc.returncode, "stdout": proc.stdout[-65536:],
            "stderr": proc.stderr[-65536:], "json": parsed}

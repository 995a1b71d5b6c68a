"""Parse ``--at`` and provide the clock the engine uses (fixed, or the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.errors import UsageError
from reconciler.models.common import parse_time


def parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time; use e.g. 2026-11-23T09:00:00Z") from exc


def clock_for(at: datetime | None):
    if at is not None:
        return lambda: at
    return lambda: datetime.now(UTC)

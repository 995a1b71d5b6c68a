"""Shared field types for documents: durations, names, metadata maps, selectors and the base class.

Every document model forbids unknown fields, so a typo is reported instead of silently ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds from ``600``, ``"600"``, ``"30s"``, ``"5m"``, ``"1h30m"`` or ``"2d"``.

    Raises ValueError with a message that says what is accepted.
    """
    if isinstance(value, bool):
        raise ValueError("a duration must be seconds (600) or a string such as '30s', '5m', '8h'")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return float(text)
        pos, total = 0, 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != pos:
                break
            total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            pos = match.end()
        if text and pos == len(text):
            return total
    raise ValueError(
        f"invalid duration {value!r}; use seconds (600) or a string such as '30s', '5m', '8h', '1h30m'"
    )


def format_duration(seconds: float) -> str:
    """Short human form: ``90`` → ``1m30s``."""
    seconds = int(round(seconds))
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?|(\d+(\.\d+)?(ms|s|m|h|d|w))+)\s*$"},
            ],
            "description": "Seconds (600) or a duration string ('30s', '5m', '8h', '1h30m').",
        }
    ),
]


def _parse_timestamp(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"invalid timestamp {value!r}; use ISO 8601 such as 2026-01-15T12:00:00Z") from exc
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def parse_time(text: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text (``Z`` or an offset; naive means UTC)."""
    value = _parse_timestamp(text)
    if not isinstance(value, datetime):
        raise ValueError(f"invalid timestamp {text!r}")
    return value.astimezone(UTC)


Timestamp = Annotated[
    datetime,
    BeforeValidator(_parse_timestamp),
    PlainSerializer(lambda v: v.isoformat().replace("+00:00", "Z"), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "ISO 8601 timestamp."}),
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
IDENTIFIER_PATTERN = r"^[^\s/][^\s]*$"

Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        max_length=128,
        description="Letters, digits, '.', '_' and '-'; starts with a letter or digit.",
    ),
]

SYSTEM_NAME_PATTERN = r"^[^\s/](?:[^/]*[^\s/])?$"
SystemName = Annotated[
    str,
    Field(
        pattern=SYSTEM_NAME_PATTERN,
        max_length=128,
        description="Any name without '/' (spaces allowed, as in ctrlc's 'Tutorial Quickstart'); systems are not "
                    "part of target keys.",
    ),
]

Metadata = dict[str, str]

# A selector is a CEL string, or the structured shorthand {kind: X, metadata: {k: v}}.
Selector = Annotated[
    str | dict[str, Any],
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "A CEL expression; \"true\" matches all, \"\" or \"false\" none."},
                {"type": "object", "description": "Structured shorthand, e.g. {kind: K, metadata: {region: r}}."},
            ]
        }
    ),
]


class Document(BaseModel):
    """Base of every YAML document model: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def utc_now() -> datetime:
    """The wall clock; only the CLI and engine call this, planning receives ``now`` as a value."""
    return datetime.now(UTC)

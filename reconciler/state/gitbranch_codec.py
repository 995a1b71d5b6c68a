"""How records of the ``git+branch:`` state backend become files: path escaping and JSON.

Every record is one small JSON document (sorted keys, one key per line) so a ``git log -p`` of
the state branch reads like an audit trail. Datetimes are stored as UTC ISO 8601 strings and come
back timezone-aware; naive datetimes are taken to be UTC, as the SQL store does. Nothing here
touches Git.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote

R = TypeVar("R")

_DATETIME_FIELDS: dict[type, frozenset[str]] = {}


def escape(name: str) -> str:
    """One path component for ``name``: ``/`` and every unsafe byte percent-encoded, reversibly.

    ``api/prod/c1`` becomes ``api%2Fprod%2Fc1``. Dots alone (``.``/``..``) are encoded too.
    """
    text = quote(name, safe="")
    if text in ("", ".", ".."):
        text = text.replace(".", "%2E") or "%00"
    return text


def unescape(component: str) -> str:
    return "" if component == "%00" else unquote(component)


def shard(record_id: str) -> str:
    """The fan-out folder of an id (its first two characters), so no folder grows without bound."""
    return escape(record_id[:2])


def dumps(data: Any) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False, default=_default) + "\n").encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return encode_time(value)
    raise TypeError(f"cannot store {type(value).__name__} in the state branch")


def encode_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def decode_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_json(record: Any) -> dict[str, Any]:
    """A record dataclass as a JSON-ready dict (datetimes become strings, containers are copied)."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime):
            out[f.name] = encode_time(value)
        elif isinstance(value, (dict, list, tuple)):
            out[f.name] = json.loads(json.dumps(value, default=_default))
        else:
            out[f.name] = value
    return out


def from_json(cls: type[R], data: dict[str, Any], **override: Any) -> R:
    """Rebuild a record of ``cls``; unknown keys are ignored, missing ones take their defaults."""
    times = _time_fields(cls)
    values = {f.name: data[f.name] for f in fields(cls) if f.name in data}  # type: ignore[arg-type]
    for name in times & values.keys():
        values[name] = decode_time(values[name])
    values.update(override)
    return cls(**values)


def _time_fields(cls: type) -> frozenset[str]:
    found = _DATETIME_FIELDS.get(cls)
    if found is None:
        found = frozenset(f.name for f in fields(cls) if "datetime" in str(f.type))
        _DATETIME_FIELDS[cls] = found
    return found

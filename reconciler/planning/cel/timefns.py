"""Timestamps and durations: ``timestamp()`` / ``duration()`` parsing (RFC 3339 and Go duration
syntax, as the CEL spec requires), their string forms, and the ``getFullYear()``-style accessors
with an optional time-zone argument. Values are aware UTC datetimes and timedeltas.

There is deliberately no ``now``: time reaches expressions only through the activation. Pure.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.planning.cel.values import DURATION, TIMESTAMP, CelEvalError, as_utc, no_overload, type_name

UTC = dt.UTC
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))\Z")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9,
            "m": 60 * 10**9, "h": 3600 * 10**9}
_OFFSET = re.compile(r"([+-]?)(\d{2}):(\d{2})\Z")


def timestamp(value: Any) -> dt.datetime:
    """``timestamp("2024-01-01T00:00:00Z")`` or ``timestamp(<unix seconds>)``."""
    kind = type_name(value)
    if kind == TIMESTAMP:
        return value
    if kind == "int":
        try:
            return dt.datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise CelEvalError(f"timestamp {value} out of range") from None
    if kind != "string":
        raise no_overload("timestamp", value)
    match = _RFC3339.match(value)
    if match is None:
        raise CelEvalError(f"invalid timestamp {value!r}: expected RFC 3339 like 2024-01-31T12:00:00Z")
    y, mo, d, h, mi, s, frac, zulu, sign, oh, om = match.groups()
    try:
        zone = UTC if zulu else dt.timezone((1 if sign == "+" else -1) * dt.timedelta(hours=int(oh), minutes=int(om)))
        micros = int((frac or "0").ljust(6, "0")[:6])
        parsed = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micros, zone)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise CelEvalError(f"invalid timestamp {value!r}: {exc}") from None


def duration(value: Any) -> dt.timedelta:
    """``duration("1h30m")``: Go duration syntax (units h, m, s, ms, us, ns; sign; fractions)."""
    kind = type_name(value)
    if kind == DURATION:
        return value
    if kind != "string":
        raise no_overload("duration", value)
    nanos = _duration_nanos(value)
    if nanos is None:
        raise CelEvalError(f"invalid duration {value!r}: expected e.g. 1h30m, 90s or 250ms")
    try:
        return dt.timedelta(microseconds=int(nanos / 1000))
    except OverflowError:
        raise CelEvalError(f"duration {value!r} out of range") from None


def _duration_nanos(text: str) -> Decimal | None:
    sign = -1 if text[:1] == "-" else 1
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return Decimal(0)
    total, pos = Decimal(0), 0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None:
            return None
        try:
            total += Decimal(match.group(1)) * _UNIT_NS[match.group(2)]
        except InvalidOperation:
            return None
        pos = match.end()
    return sign * total if pos else None


def format_timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with the fraction trimmed: ``2024-01-01T00:00:00Z``, ``…:00.5Z``."""
    value = as_utc(value).astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def format_duration(value: dt.timedelta) -> str:
    """Seconds with a trimmed fraction, as cel-go prints durations: ``3600s``, ``1.5s``."""
    micros = (value.days * 86400 + value.seconds) * 10**6 + value.microseconds
    seconds, fraction = divmod(abs(micros), 10**6)
    text = ("-" if micros < 0 else "") + str(seconds)
    if fraction:
        text += f".{fraction:06d}".rstrip("0")
    return text + "s"


def _zone(name: Any) -> dt.tzinfo:
    if type_name(name) != "string":
        raise no_overload("time zone", name)
    if name in ("UTC", "Z", "utc"):
        return UTC
    match = _OFFSET.match(name)
    if match:
        delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return dt.timezone(-delta if match.group(1) == "-" else delta)
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - unknown or malformed zone names
        raise CelEvalError(f"unknown time zone {name!r}") from None


_TIMESTAMP_PARTS = {
    "getFullYear": lambda t: t.year,
    "getMonth": lambda t: t.month - 1,
    "getDate": lambda t: t.day,
    "getDayOfMonth": lambda t: t.day - 1,
    "getDayOfWeek": lambda t: (t.weekday() + 1) % 7,
    "getDayOfYear": lambda t: t.timetuple().tm_yday - 1,
    "getHours": lambda t: t.hour,
    "getMinutes": lambda t: t.minute,
    "getSeconds": lambda t: t.second,
    "getMilliseconds": lambda t: t.microsecond // 1000,
}
_DURATION_PARTS = {"getHours": 3600 * 10**6, "getMinutes": 60 * 10**6, "getSeconds": 10**6,
                   "getMilliseconds": 1000}
ACCESSORS = frozenset(_TIMESTAMP_PARTS)


def time_part(name: str, value: Any, *zone: Any) -> int:
    """``ts.getHours()``, ``ts.getDayOfWeek("Europe/Paris")``, ``d.getMinutes()`` (whole minutes)."""
    kind = type_name(value)
    if kind == TIMESTAMP and len(zone) <= 1:
        local = as_utc(value).astimezone(_zone(zone[0]) if zone else UTC)
        return _TIMESTAMP_PARTS[name](local)
    if kind == DURATION and not zone and name in _DURATION_PARTS:
        micros = (value.days * 86400 + value.seconds) * 10**6 + value.microseconds
        whole = abs(micros) // _DURATION_PARTS[name]
        return -whole if micros < 0 else whole
    raise no_overload(name, value, *zone)
